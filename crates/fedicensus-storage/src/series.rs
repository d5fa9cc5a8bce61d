//! Time series by day, week or month, each point with the number of servers it rests on.
//!
//! Series are computed from the observations of their time, never from today's list of servers:
//! a date's totals use each server's visits on or before that date (within the windows of
//! [`crate::methodology`]), so a server that died later still counts on the dates it was alive,
//! and recording anything later never changes an earlier date's totals (survivorship-free). The
//! work is one ordered scan per series: the database returns the relevant observations ordered by
//! server and time, and the points are accumulated here, in the same code on both backends.
//! A series ends with the last crawled day: later buckets have no value, and the bucket holding
//! that day is taken as of its end.
//! `docs/METHODOLOGY.md` states the definitions this module implements.

use crate::db::{count_of, Conn, Sql, Storage};
use crate::error::{Error, Result};
use crate::methodology::{
    ANSWERED, CARRY_FORWARD, CONCLUSIVE, DEATH_AFTER, METHODOLOGY_VERSION, TOP_N, TOP_SHARE,
    UP_WINDOW,
};
use crate::rollup;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use fedicensus_core::Software;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The most points one series may have (about 27 years of days).
pub const MAX_POINTS: usize = 10_000;

/// The width of a series' buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    Day,
    /// ISO weeks, starting on Monday (as Mastodon's activity weeks do).
    Week,
    /// Calendar months.
    Month,
}

impl Granularity {
    /// The stable name (`day`, `week`, `month`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    /// Parses a stable name; the error says what is accepted.
    pub fn parse(name: &str) -> Result<Granularity> {
        match name {
            "day" => Ok(Granularity::Day),
            "week" => Ok(Granularity::Week),
            "month" => Ok(Granularity::Month),
            other => Err(Error::InvalidQuery(format!(
                "unknown granularity {other:?} (accepted: day, week, month)"
            ))),
        }
    }
}

/// What a series counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeriesMetric {
    /// Servers confirmed on or before the date: a visit reached them (dead ones included: the
    /// census' reach). A name merely mentioned in a peer list is not known.
    ServersKnown,
    /// Names first seen on or before the date, confirmed or merely mentioned in a peer list.
    ServersMentioned,
    /// Servers that answered at least once in the [`UP_WINDOW`] ending with the date.
    ServersUp,
    /// Servers whose first successful visit falls in the bucket.
    ServersNew,
    /// Servers that died, dated at their last successful visit, in the bucket.
    ServersDied,
    /// Registered users.
    UsersTotal,
    /// Monthly active users (each software's own window).
    UsersActiveMonth,
    /// Posts by local users.
    LocalPosts,
    /// Registrations, from weekly activity.
    WeeklyRegistrations,
    /// Logins, from weekly activity.
    WeeklyLogins,
    /// Posts written, from weekly activity.
    WeeklyStatuses,
    /// Share of users on the largest 1 % of servers ([`TOP_SHARE`]), 0 to 1.
    ConcentrationTopPercent,
    /// Share of users on the largest 10 servers ([`TOP_N`]), 0 to 1.
    ConcentrationTopTen,
}

impl SeriesMetric {
    /// Every metric, in a stable order.
    pub const ALL: [SeriesMetric; 13] = [
        SeriesMetric::ServersKnown,
        SeriesMetric::ServersMentioned,
        SeriesMetric::ServersUp,
        SeriesMetric::ServersNew,
        SeriesMetric::ServersDied,
        SeriesMetric::UsersTotal,
        SeriesMetric::UsersActiveMonth,
        SeriesMetric::LocalPosts,
        SeriesMetric::WeeklyRegistrations,
        SeriesMetric::WeeklyLogins,
        SeriesMetric::WeeklyStatuses,
        SeriesMetric::ConcentrationTopPercent,
        SeriesMetric::ConcentrationTopTen,
    ];

    /// The stable name used in URLs and exports.
    pub fn as_str(&self) -> &'static str {
        match self {
            SeriesMetric::ServersKnown => "servers_known",
            SeriesMetric::ServersMentioned => "servers_mentioned",
            SeriesMetric::ServersUp => "servers_up",
            SeriesMetric::ServersNew => "servers_new",
            SeriesMetric::ServersDied => "servers_died",
            SeriesMetric::UsersTotal => "users_total",
            SeriesMetric::UsersActiveMonth => "users_active_month",
            SeriesMetric::LocalPosts => "local_posts",
            SeriesMetric::WeeklyRegistrations => "weekly_registrations",
            SeriesMetric::WeeklyLogins => "weekly_logins",
            SeriesMetric::WeeklyStatuses => "weekly_statuses",
            SeriesMetric::ConcentrationTopPercent => "concentration_top_1_percent",
            SeriesMetric::ConcentrationTopTen => "concentration_top_10",
        }
    }

    /// Parses a stable name; the error lists the accepted ones.
    pub fn parse(name: &str) -> Result<SeriesMetric> {
        SeriesMetric::ALL
            .into_iter()
            .find(|m| m.as_str() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = SeriesMetric::ALL.iter().map(|m| m.as_str()).collect();
                Error::InvalidQuery(format!(
                    "unknown metric {name:?} (accepted: {})",
                    names.join(", ")
                ))
            })
    }

    /// The observations column of a figure metric.
    fn figure_column(&self) -> Option<&'static str> {
        match self {
            SeriesMetric::UsersTotal
            | SeriesMetric::ConcentrationTopPercent
            | SeriesMetric::ConcentrationTopTen => Some("users_total"),
            SeriesMetric::UsersActiveMonth => Some("users_active_month"),
            SeriesMetric::LocalPosts => Some("local_posts"),
            _ => None,
        }
    }
}

/// A series to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesQuery {
    pub metric: SeriesMetric,
    pub granularity: Granularity,
    /// The first date wanted; the first bucket is the one containing it.
    pub from: NaiveDate,
    /// The last date wanted (inclusive); the last bucket is the one containing it.
    pub to: NaiveDate,
    /// Only servers of this software family (as reported in the observation used).
    pub software: Option<Software>,
    /// Leave out values with quality flags (and count them in [`SeriesPoint::flagged`]).
    pub cleaned: bool,
}

impl SeriesQuery {
    /// A raw (uncleaned) series of every software.
    pub fn new(
        metric: SeriesMetric,
        granularity: Granularity,
        from: NaiveDate,
        to: NaiveDate,
    ) -> SeriesQuery {
        SeriesQuery {
            metric,
            granularity,
            from,
            to,
            software: None,
            cleaned: false,
        }
    }
}

/// One point of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPoint {
    /// The first day of the bucket.
    pub date: NaiveDate,
    /// The instant the point is taken at: the end of the bucket's last day (exclusive), or of
    /// the last crawled day when the crawl stopped inside the bucket.
    pub as_of: DateTime<Utc>,
    /// The value; `None` when no server reported it (not reported is not zero), and for every
    /// bucket that starts after the last crawled day (not crawled is not zero either).
    pub value: Option<f64>,
    /// The servers the value rests on (its denominator): for figures, the servers whose value is
    /// summed; for server counts, the servers known at the end of the bucket; for activity, the
    /// servers that reported a week in the bucket.
    pub servers_reporting: u64,
    /// Servers whose latest value carried a quality flag: left out of a cleaned series, included
    /// in a raw one.
    pub flagged: u64,
}

/// A computed series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub query: SeriesQuery,
    pub points: Vec<SeriesPoint>,
    /// Over all points, how many flagged values each kind of flag accounted for (a value with two
    /// flags counts under both).
    pub flagged_by_kind: BTreeMap<String, u64>,
    /// The methodology the series was computed under.
    pub methodology_version: &'static str,
}

/// A bucket: its first day and the day after its last.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    pub(crate) start: NaiveDate,
    pub(crate) end: NaiveDate,
}

impl Bucket {
    pub(crate) fn start_instant(&self) -> DateTime<Utc> {
        midnight(self.start)
    }
    pub(crate) fn end_instant(&self) -> DateTime<Utc> {
        midnight(self.end)
    }
}

pub(crate) fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

fn bucket_start(granularity: Granularity, date: NaiveDate) -> NaiveDate {
    match granularity {
        Granularity::Day => date,
        Granularity::Week => {
            date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
        }
        Granularity::Month => date.with_day(1).unwrap_or(date),
    }
}

fn next_start(granularity: Granularity, start: NaiveDate) -> Option<NaiveDate> {
    match granularity {
        Granularity::Day => start.succ_opt(),
        Granularity::Week => start.checked_add_signed(Duration::days(7)),
        Granularity::Month => start.checked_add_months(Months::new(1)),
    }
}

pub(crate) fn buckets(query: &SeriesQuery) -> Result<Vec<Bucket>> {
    if query.from > query.to {
        return Err(Error::InvalidQuery(format!(
            "the range starts ({}) after it ends ({})",
            query.from, query.to
        )));
    }
    let mut out = Vec::new();
    let mut start = bucket_start(query.granularity, query.from);
    while start <= query.to {
        let Some(end) = next_start(query.granularity, start) else {
            break;
        };
        out.push(Bucket { start, end });
        if out.len() > MAX_POINTS {
            return Err(Error::InvalidQuery(format!(
                "more than {MAX_POINTS} points; choose a shorter range or a wider granularity"
            )));
        }
        start = end;
    }
    Ok(out)
}

/// Accumulates one server's contribution per bucket.
#[derive(Debug)]
struct Accumulator {
    value: Vec<f64>,
    reporting: Vec<u64>,
    flagged: Vec<u64>,
    flagged_by_kind: BTreeMap<String, u64>,
    /// Per bucket, every server's value (only for concentration).
    values: Option<Vec<Vec<u64>>>,
}

impl Accumulator {
    fn new(n: usize, keep_values: bool) -> Accumulator {
        Accumulator {
            value: vec![0.0; n],
            reporting: vec![0; n],
            flagged: vec![0; n],
            flagged_by_kind: BTreeMap::new(),
            values: keep_values.then(|| vec![Vec::new(); n]),
        }
    }
}

#[derive(sqlx::FromRow)]
struct FigureRow {
    id: i64,
    server_id: i64,
    observed_at: DateTime<Utc>,
    software_family: Option<String>,
    /// `None` for a robots.txt refusal (the scan's other rows report the figure).
    value: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct FlagRow {
    observation_id: i64,
    kind: String,
}

#[derive(sqlx::FromRow)]
struct TimeRow {
    server_id: i64,
    observed_at: DateTime<Utc>,
    software_family: Option<String>,
}

#[derive(sqlx::FromRow)]
struct FirstSeenRow {
    first_seen: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct DeathRow {
    last_ok: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    software_family: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    server_id: i64,
    week_start: DateTime<Utc>,
    statuses: i64,
    logins: i64,
    registrations: i64,
    software: Option<String>,
}

pub(crate) fn family_matches(filter: Option<&Software>, family: Option<&str>) -> bool {
    filter.is_none_or(|f| family == Some(f.as_str()))
}

/// One reported value in a server's timeline: when, what, and the kinds of its flags if any.
pub(crate) type TimelineEntry<'a> = (DateTime<Utc>, i64, Option<&'a Vec<String>>);

/// The figure a server contributes at cut-off `end`, from its rows (sorted by time, all before
/// the last cut-off): the latest within the carry-forward window, skipping flagged ones when
/// cleaning. Returns the index of the row whose value is used, and the index of the latest row
/// in the window when that row is flagged (the caller reads the value, flags and family there:
/// a filtered series counts a server under the family of the visit used, not of any visit).
///
/// `opted_out` is the server's latest robots.txt refusal before `end`, if any: no figure
/// reported before it is carried past it (the server asked not to be read; what it said before
/// is not its figure now).
pub(crate) fn carried_value(
    rows: &[TimelineEntry<'_>],
    upto: usize,
    end: DateTime<Utc>,
    cleaned: bool,
    opted_out: Option<DateTime<Utc>>,
) -> (Option<usize>, Option<usize>) {
    let window_start = end - CARRY_FORWARD;
    let mut latest_flagged = None;
    for (i, (at, _, flags)) in rows[..upto].iter().enumerate().rev() {
        if *at < window_start || opted_out.is_some_and(|refused| *at <= refused) {
            break;
        }
        if i + 1 == upto && flags.is_some() {
            latest_flagged = Some(i);
        }
        if cleaned && flags.is_some() {
            continue;
        }
        return (Some(i), latest_flagged);
    }
    (None, latest_flagged)
}

/// The latest of `times` (sorted) before `end`, if any.
pub(crate) fn latest_before(times: &[DateTime<Utc>], end: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let before = times.partition_point(|t| *t < end);
    before.checked_sub(1).map(|i| times[i])
}

/// The quality flags of the visits made in `from..to`, for the figure `column` or for every
/// figure ('*'): each flagged visit's kinds of flag.
pub(crate) async fn flags_in(
    conn: &mut Conn<'_>,
    column: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<HashMap<i64, Vec<String>>> {
    let mut flags: HashMap<i64, Vec<String>> = HashMap::new();
    for row in conn
        .fetch_all::<FlagRow>(
            Sql::new(
                "SELECT q.observation_id, q.kind FROM quality_flags q \
                 JOIN observations o ON o.id = q.observation_id \
                 WHERE (q.metric = $1 OR q.metric = '*') AND o.observed_at >= $2 \
                 AND o.observed_at < $3",
            )
            .bind(column.to_owned())
            .bind(from)
            .bind(to),
            "reading quality flags",
        )
        .await?
    {
        flags.entry(row.observation_id).or_default().push(row.kind);
    }
    Ok(flags)
}

async fn figure_series(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
    buckets: &[Bucket],
    column: &'static str,
    keep_values: bool,
) -> Result<Accumulator> {
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok(Accumulator::new(0, keep_values));
    };
    let scan_from = first.end_instant() - CARRY_FORWARD;
    let scan_to = last.end_instant();

    let flags = flags_in(conn, column, scan_from, scan_to).await?;

    // `column` is one of three fixed names (SeriesMetric::figure_column), never user input.
    // Robots.txt refusals come with the figures: none is carried past one.
    let sql = Sql::new(format!(
        "SELECT id, server_id, observed_at, software_family, \
         CASE WHEN outcome = 'ok' THEN {column} END AS value \
         FROM observations WHERE ((outcome = 'ok' AND {column} IS NOT NULL) \
         OR outcome = 'robots_disallowed') \
         AND observed_at >= $1 AND observed_at < $2 ORDER BY server_id, observed_at"
    ))
    .bind(scan_from)
    .bind(scan_to);

    let mut acc = Accumulator::new(buckets.len(), keep_values);
    let mut server: Option<i64> = None;
    let mut rows: Vec<FigureRow> = Vec::new();
    let software = query.software.as_ref();
    let flush = |all: &mut Vec<FigureRow>, acc: &mut Accumulator| {
        let refusals: Vec<DateTime<Utc>> = all
            .iter()
            .filter(|r| r.value.is_none())
            .map(|r| r.observed_at)
            .collect();
        let rows: Vec<&FigureRow> = all.iter().filter(|r| r.value.is_some()).collect();
        let timeline: Vec<TimelineEntry<'_>> = rows
            .iter()
            .map(|r| (r.observed_at, r.value.unwrap_or(0), flags.get(&r.id)))
            .collect();
        let mut upto = 0;
        for (i, bucket) in buckets.iter().enumerate() {
            let end = bucket.end_instant();
            while upto < timeline.len() && timeline[upto].0 < end {
                upto += 1;
            }
            if upto == 0 {
                continue;
            }
            let opted_out = latest_before(&refusals, end);
            let (used, latest_flagged) =
                carried_value(&timeline, upto, end, query.cleaned, opted_out);
            let of_family = |j: usize| family_matches(software, rows[j].software_family.as_deref());
            if let Some(kinds) = latest_flagged
                .filter(|&j| of_family(j))
                .and_then(|j| timeline[j].2)
            {
                acc.flagged[i] += 1;
                for kind in kinds {
                    *acc.flagged_by_kind.entry(kind.clone()).or_default() += 1;
                }
            }
            if let Some(j) = used.filter(|&j| of_family(j)) {
                let v = count_of(timeline[j].1);
                acc.value[i] += v as f64;
                acc.reporting[i] += 1;
                if let Some(values) = acc.values.as_mut() {
                    values[i].push(v);
                }
            }
        }
        drop(rows);
        all.clear();
    };
    let scanned = conn
        .for_each::<FigureRow, Error>(sql, "scanning figures", |row| {
            // Every family's rows are kept: the family filter applies to the visit used.
            if server != Some(row.server_id) {
                flush(&mut rows, &mut acc);
                server = Some(row.server_id);
            }
            rows.push(row);
            Ok(())
        })
        .await?;
    scanned?;
    flush(&mut rows, &mut acc);
    Ok(acc)
}

/// Servers known at each bucket's end (by the family of their latest successful visit): those
/// confirmed by then, or with `mentioned` every name first seen by then.
pub(crate) async fn known_at(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
    buckets: &[Bucket],
    mentioned: bool,
) -> Result<Vec<u64>> {
    let column = if mentioned {
        "first_seen"
    } else {
        "first_confirmed_at"
    };
    let filter = match &query.software {
        Some(_) => "software = $1",
        None => "TRUE",
    };
    // `column` is one of two fixed names, never user input.
    let mut sql = Sql::new(format!(
        "SELECT {column} AS first_seen FROM servers \
         WHERE {column} IS NOT NULL AND {filter} ORDER BY {column}"
    ));
    if let Some(s) = &query.software {
        sql = sql.bind(s.as_str());
    }
    let seen = conn
        .fetch_all::<FirstSeenRow>(sql, "reading when servers were found")
        .await?;
    Ok(buckets
        .iter()
        .map(|b| {
            let end = b.end_instant();
            seen.partition_point(|r| r.first_seen < end) as u64
        })
        .collect())
}

async fn up_series(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
    buckets: &[Bucket],
) -> Result<Vec<u64>> {
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok(Vec::new());
    };
    // Up: answered (a success, or a robots.txt refusal) in the window. A refusal names no
    // software, so it counts for every software only.
    let sql = Sql::new(format!(
        "SELECT server_id, observed_at, software_family FROM observations \
         WHERE {ANSWERED} AND observed_at >= $1 AND observed_at < $2 \
         ORDER BY server_id, observed_at"
    ))
    .bind(first.end_instant() - UP_WINDOW)
    .bind(last.end_instant());
    let mut up = vec![0u64; buckets.len()];
    let mut server: Option<i64> = None;
    let mut times: Vec<DateTime<Utc>> = Vec::new();
    let flush = |times: &mut Vec<DateTime<Utc>>, up: &mut Vec<u64>| {
        for (i, bucket) in buckets.iter().enumerate() {
            let end = bucket.end_instant();
            let before = times.partition_point(|t| *t < end);
            if before > 0 && times[before - 1] >= end - UP_WINDOW {
                up[i] += 1;
            }
        }
        times.clear();
    };
    let software = query.software.as_ref();
    conn.for_each::<TimeRow, Error>(sql, "scanning answered visits", |row| {
        if !family_matches(software, row.software_family.as_deref()) {
            return Ok(());
        }
        if server != Some(row.server_id) {
            flush(&mut times, &mut up);
            server = Some(row.server_id);
        }
        times.push(row.observed_at);
        Ok(())
    })
    .await??;
    flush(&mut times, &mut up);
    Ok(up)
}

fn count_in_buckets(instants: impl Iterator<Item = DateTime<Utc>>, buckets: &[Bucket]) -> Vec<u64> {
    let mut counts = vec![0u64; buckets.len()];
    for at in instants {
        let i = buckets.partition_point(|b| b.end_instant() <= at);
        if i < buckets.len() && buckets[i].start_instant() <= at {
            counts[i] += 1;
        }
    }
    counts
}

async fn new_series(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
    buckets: &[Bucket],
) -> Result<Vec<u64>> {
    let rows = conn
        .fetch_all::<TimeRow>(
            Sql::new(format!(
                "SELECT f.server_id, f.first_ok AS observed_at, o.software_family \
                 FROM (SELECT server_id, MIN(observed_at) AS first_ok FROM observations \
                       WHERE {ANSWERED} GROUP BY server_id) f \
                 JOIN observations o ON o.server_id = f.server_id AND o.observed_at = f.first_ok",
            )),
            "finding first answers",
        )
        .await?;
    let software = query.software.as_ref();
    Ok(count_in_buckets(
        rows.into_iter()
            .filter(|r| family_matches(software, r.software_family.as_deref()))
            .map(|r| r.observed_at),
        buckets,
    ))
}

/// Deaths, dated at the last answer (a success or a robots.txt refusal): a server died if its
/// latest conclusive visit failed at least [`DEATH_AFTER`] after its last answer (so it was
/// tried and found dead). An `inconclusive` visit is not a try.
fn deaths_sql() -> String {
    format!(
        "SELECT f.last_ok, f.last_seen, o.software_family \
         FROM (SELECT server_id, MAX(CASE WHEN {ANSWERED} THEN observed_at END) AS last_ok, \
                      MAX(CASE WHEN {CONCLUSIVE} THEN observed_at END) AS last_seen \
               FROM observations GROUP BY server_id) f \
         JOIN observations o ON o.server_id = f.server_id AND o.observed_at = f.last_ok"
    )
}

async fn died_series(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
    buckets: &[Bucket],
) -> Result<Vec<u64>> {
    let rows = conn
        .fetch_all::<DeathRow>(Sql::new(deaths_sql()), "finding deaths")
        .await?;
    let software = query.software.as_ref();
    Ok(count_in_buckets(
        rows.into_iter()
            .filter(|r| r.last_seen - r.last_ok >= DEATH_AFTER)
            .filter(|r| family_matches(software, r.software_family.as_deref()))
            .map(|r| r.last_ok),
        buckets,
    ))
}

async fn activity_series(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
    buckets: &[Bucket],
) -> Result<(Vec<f64>, Vec<u64>)> {
    if query.granularity == Granularity::Day {
        return Err(Error::InvalidQuery(format!(
            "{} is reported weekly (accepted granularities: week, month)",
            query.metric.as_str()
        )));
    }
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let rows = conn
        .fetch_all::<ActivityRow>(
            Sql::new(
                "SELECT a.server_id, a.week_start, a.statuses, a.logins, a.registrations, \
                 s.software FROM activity a JOIN servers s ON s.id = a.server_id \
                 WHERE a.week_start >= $1 AND a.week_start < $2",
            )
            .bind(first.start_instant() - Duration::days(1))
            .bind(last.end_instant()),
            "reading weekly activity",
        )
        .await?;
    let mut sums = vec![0.0; buckets.len()];
    let mut servers: Vec<HashSet<i64>> = vec![HashSet::new(); buckets.len()];
    let software = query.software.as_ref();
    for row in rows {
        if !family_matches(software, row.software.as_deref()) {
            continue;
        }
        // A week belongs to the bucket holding its Monday (servers may report 00:00 local time).
        let start = bucket_start(query.granularity, row.week_start.date_naive());
        let Some(i) = buckets.iter().position(|b| b.start == start) else {
            continue;
        };
        let value = match query.metric {
            SeriesMetric::WeeklyRegistrations => row.registrations,
            SeriesMetric::WeeklyLogins => row.logins,
            _ => row.statuses,
        };
        sums[i] += count_of(value) as f64;
        servers[i].insert(row.server_id);
    }
    Ok((sums, servers.iter().map(|s| s.len() as u64).collect()))
}

pub(crate) fn share_of_largest(values: &mut [u64], n: usize) -> Option<f64> {
    let total: u64 = values.iter().sum();
    if total == 0 {
        return None;
    }
    values.sort_unstable_by(|a, b| b.cmp(a));
    let top: u64 = values.iter().take(n).sum();
    Some(top as f64 / total as f64)
}

/// Reads the points of a series the rollup keeps (see [`crate::rollup`]): each bucket's point is
/// the one of its last day (figures and up-counts are stocks, taken as of the bucket's end).
async fn rolled_up(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
    buckets: &[Bucket],
    flagged: &mut [u64],
    flagged_by_kind: &mut BTreeMap<String, u64>,
) -> Result<(Vec<Option<f64>>, Vec<u64>)> {
    let last_day = |b: &Bucket| b.end.pred_opt().unwrap_or(b.start);
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let software = query.software.as_ref().map(Software::as_str);
    let rows = rollup::read(
        conn,
        query.metric,
        software,
        query.cleaned,
        last_day(first),
        last_day(last),
    )
    .await?;
    if query.metric == SeriesMetric::ServersUp {
        let known = known_at(conn, query, buckets, false).await?;
        let values = buckets
            .iter()
            .map(|b| Some(rows.get(&last_day(b)).map_or(0.0, |r| r.value)))
            .collect();
        return Ok((values, known));
    }
    let mut values = Vec::with_capacity(buckets.len());
    let mut reporting = Vec::with_capacity(buckets.len());
    for (i, b) in buckets.iter().enumerate() {
        match rows.get(&last_day(b)) {
            Some(row) => {
                values.push(Some(row.value));
                reporting.push(count_of(row.servers_reporting));
                flagged[i] = count_of(row.flagged);
                for (kind, count) in rollup::kinds(row)? {
                    *flagged_by_kind.entry(kind).or_default() += count;
                }
            }
            None => {
                values.push(None);
                reporting.push(0);
            }
        }
    }
    Ok((values, reporting))
}

#[derive(sqlx::FromRow)]
struct LastVisitRow {
    last: Option<DateTime<Utc>>,
}

/// The day of the latest visit of any outcome (a crawl that found every server down still
/// covered its day), or `None` before the first crawl. One read of the `observed_at` index.
pub(crate) async fn last_crawled_day(conn: &mut Conn<'_>) -> Result<Option<NaiveDate>> {
    Ok(conn
        .fetch_one::<LastVisitRow>(
            Sql::new("SELECT MAX(observed_at) AS last FROM observations"),
            "finding the last crawled day",
        )
        .await?
        .last
        .map(|at| at.date_naive()))
}

/// The part of each bucket the crawl has covered: buckets that start after `last_day` are left
/// out, and the bucket holding it ends with it, so its stocks are taken as of the end of the last
/// crawled day rather than of a day nobody looked at (see "Where a series ends" in
/// `docs/METHODOLOGY.md`).
pub(crate) fn covered(buckets: &[Bucket], last_day: Option<NaiveDate>) -> Vec<Bucket> {
    let Some(end) = last_day.and_then(|d| d.succ_opt()) else {
        return Vec::new();
    };
    buckets
        .iter()
        .take_while(|b| b.start < end)
        .map(|b| Bucket {
            start: b.start,
            end: b.end.min(end),
        })
        .collect()
}

pub(crate) async fn series(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
    use_rollup: bool,
) -> Result<Series> {
    let requested = buckets(query)?;
    // Dates after the last crawl have no data: without this, servers_up read 0 there and the
    // carried-forward figures shrank day by day as the last visits left their windows.
    let buckets = covered(&requested, last_crawled_day(conn).await?);
    let n = buckets.len();
    let mut flagged = vec![0; n];
    let mut flagged_by_kind = BTreeMap::new();
    let (values, reporting): (Vec<Option<f64>>, Vec<u64>) = match query.metric {
        metric if use_rollup && rollup::covers(metric) => {
            rolled_up(conn, query, &buckets, &mut flagged, &mut flagged_by_kind).await?
        }
        SeriesMetric::ServersKnown | SeriesMetric::ServersMentioned => {
            let mentioned = query.metric == SeriesMetric::ServersMentioned;
            let known = known_at(conn, query, &buckets, mentioned).await?;
            (known.iter().map(|k| Some(*k as f64)).collect(), known)
        }
        SeriesMetric::ServersUp | SeriesMetric::ServersNew | SeriesMetric::ServersDied => {
            let counts = match query.metric {
                SeriesMetric::ServersUp => up_series(conn, query, &buckets).await?,
                SeriesMetric::ServersNew => new_series(conn, query, &buckets).await?,
                _ => died_series(conn, query, &buckets).await?,
            };
            let known = known_at(conn, query, &buckets, false).await?;
            (counts.iter().map(|c| Some(*c as f64)).collect(), known)
        }
        SeriesMetric::WeeklyRegistrations
        | SeriesMetric::WeeklyLogins
        | SeriesMetric::WeeklyStatuses => {
            let (sums, servers) = activity_series(conn, query, &buckets).await?;
            (sums.into_iter().map(Some).collect(), servers)
        }
        metric => {
            let column = metric.figure_column().ok_or_else(|| {
                Error::InvalidQuery(format!("{} is not a figure", metric.as_str()))
            })?;
            let concentration = matches!(
                metric,
                SeriesMetric::ConcentrationTopPercent | SeriesMetric::ConcentrationTopTen
            );
            let mut acc = figure_series(conn, query, &buckets, column, concentration).await?;
            flagged = acc.flagged;
            flagged_by_kind = acc.flagged_by_kind;
            let values = match acc.values.as_mut() {
                Some(per_bucket) => per_bucket
                    .iter_mut()
                    .map(|values| {
                        let take = match metric {
                            SeriesMetric::ConcentrationTopTen => TOP_N,
                            _ => ((values.len() as f64 * TOP_SHARE).ceil() as usize).max(1),
                        };
                        share_of_largest(values, take)
                    })
                    .collect(),
                None => acc.value.iter().map(|v| Some(*v)).collect(),
            };
            (values, acc.reporting)
        }
    };
    let points = requested
        .iter()
        .enumerate()
        .map(|(i, b)| match buckets.get(i) {
            Some(covered) => SeriesPoint {
                date: covered.start,
                as_of: covered.end_instant(),
                // A point no server stands behind is "not reported", never zero.
                value: if reporting[i] == 0 { None } else { values[i] },
                servers_reporting: reporting[i],
                flagged: flagged[i],
            },
            // No crawl has looked at these dates yet: no data, not zero.
            None => SeriesPoint {
                date: b.start,
                as_of: b.end_instant(),
                value: None,
                servers_reporting: 0,
                flagged: 0,
            },
        })
        .collect();
    Ok(Series {
        query: query.clone(),
        points,
        flagged_by_kind,
        methodology_version: METHODOLOGY_VERSION,
    })
}

impl Storage {
    /// Computes a series (see [`SeriesQuery`] and `docs/METHODOLOGY.md`).
    ///
    /// `users_total`, `users_active_month`, `local_posts` and `servers_up` are read from the
    /// daily rollup, brought up to date first if anything was written since it was last read.
    pub async fn series(&self, query: &SeriesQuery) -> Result<Series> {
        rollup::refresh(self).await?;
        let mut conn = self.acquire().await?;
        series(&mut conn.conn(), query, true).await
    }

    /// The same series computed straight from the observations, bypassing the rollup: the
    /// reference the rollup is checked against (slow: it scans every visit in the range).
    pub async fn series_from_observations(&self, query: &SeriesQuery) -> Result<Series> {
        let mut conn = self.acquire().await?;
        series(&mut conn.conn(), query, false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("a valid date")
    }

    #[test]
    fn weeks_start_on_monday_and_cover_the_range() {
        let q = SeriesQuery::new(
            SeriesMetric::UsersTotal,
            Granularity::Week,
            d(2022, 10, 27),
            d(2022, 11, 7),
        );
        let b = buckets(&q).expect("a valid range");
        let starts: Vec<NaiveDate> = b.iter().map(|b| b.start).collect();
        assert_eq!(starts, [d(2022, 10, 24), d(2022, 10, 31), d(2022, 11, 7)]);
    }

    #[test]
    fn months_are_calendar_months() {
        let q = SeriesQuery::new(
            SeriesMetric::UsersTotal,
            Granularity::Month,
            d(2022, 11, 15),
            d(2023, 1, 2),
        );
        let b = buckets(&q).expect("a valid range");
        assert_eq!(b.len(), 3);
        assert_eq!(b[2].end, d(2023, 2, 1));
    }

    #[test]
    fn a_backwards_range_is_refused_with_an_explanation() {
        let q = SeriesQuery::new(
            SeriesMetric::UsersTotal,
            Granularity::Day,
            d(2022, 11, 15),
            d(2022, 11, 1),
        );
        assert!(matches!(buckets(&q), Err(Error::InvalidQuery(_))));
    }

    #[test]
    fn buckets_after_the_last_crawled_day_are_not_covered_and_the_one_holding_it_ends_with_it() {
        let q = SeriesQuery::new(
            SeriesMetric::ServersUp,
            Granularity::Week,
            d(2022, 11, 21),
            d(2022, 12, 18),
        );
        let all = buckets(&q).expect("a valid range");
        assert_eq!(all.len(), 4);
        let covered = covered(&all, Some(d(2022, 12, 1)));
        let spans: Vec<(NaiveDate, NaiveDate)> = covered.iter().map(|b| (b.start, b.end)).collect();
        assert_eq!(
            spans,
            [
                (d(2022, 11, 21), d(2022, 11, 28)),
                (d(2022, 11, 28), d(2022, 12, 2)),
            ]
        );
        assert!(super::covered(&all, None).is_empty(), "nothing crawled yet");
    }

    #[test]
    fn concentration_is_the_share_of_the_largest() {
        let mut v = vec![1, 1, 8];
        assert_eq!(share_of_largest(&mut v, 1), Some(0.8));
        assert_eq!(share_of_largest(&mut [], 1), None);
    }
}
