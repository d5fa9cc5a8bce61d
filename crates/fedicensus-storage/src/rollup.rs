//! The daily rollup behind the most-read series: `users_total`, `users_active_month`,
//! `local_posts` (raw and cleaned) and `servers_up`, per day, for every software and per family.
//!
//! Computing a year of daily points from the observations means scanning every visit of the
//! year (7 million rows for 10,000 servers); the dashboard asks for it on every page view. So the
//! points are kept in `series_days` (migration `0004`), computed with the very same definitions
//! (the carry-forward and up windows of [`crate::methodology`], the same per-server order of
//! summation, so the values are equal to the bit) and read back in a few hundred rows.
//!
//! The table is derived data, refreshed lazily: triggers on `observations` and `quality_flags`
//! mark the earliest day any write touched (whatever wrote it: the crawler, [`crate::bulk`], an
//! import, a copy), and [`refresh`] recomputes every day from that one on before a series is
//! read. A point for day D depends only on visits in the 30 days ending with D, so earlier days
//! never change: survivorship-freedom is kept by construction. The migration's comments explain
//! why the marker cannot be lost on either backend.

use crate::db::{count_of, Backend, Conn, Sql, Storage};
use crate::error::{Error, Result};
use crate::methodology::{CARRY_FORWARD, UP_WINDOW};
use crate::series::{carried_value, latest_before, midnight, SeriesMetric, TimelineEntry};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::{BTreeMap, HashMap};

/// The `software` key of the rows for every software.
pub(crate) const ALL_SOFTWARE: &str = "*";

/// The figure columns kept in the rollup, as (metric, observations column).
const FIGURES: [(SeriesMetric, &str); 3] = [
    (SeriesMetric::UsersTotal, "users_total"),
    (SeriesMetric::UsersActiveMonth, "users_active_month"),
    (SeriesMetric::LocalPosts, "local_posts"),
];

/// Whether a metric's points come from the rollup.
pub(crate) fn covers(metric: SeriesMetric) -> bool {
    metric == SeriesMetric::ServersUp || FIGURES.iter().any(|(m, _)| *m == metric)
}

/// A stored point.
#[derive(sqlx::FromRow)]
pub(crate) struct DayRow {
    pub(crate) day: NaiveDate,
    pub(crate) value: f64,
    pub(crate) servers_reporting: i64,
    pub(crate) flagged: i64,
    pub(crate) flagged_kinds: String,
}

/// The stored points of one series between two days (inclusive), by day; a day without a row
/// has no server behind it.
pub(crate) async fn read(
    conn: &mut Conn<'_>,
    metric: SeriesMetric,
    software: Option<&str>,
    cleaned: bool,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<NaiveDate, DayRow>> {
    // servers_up is the same whether cleaned or not (flags concern figures).
    let cleaned = cleaned && metric != SeriesMetric::ServersUp;
    let rows = conn
        .fetch_all::<DayRow>(
            Sql::new(
                "SELECT day, value, servers_reporting, flagged, flagged_kinds FROM series_days \
                 WHERE metric = $1 AND software = $2 AND cleaned = $3 AND day >= $4 AND day <= $5",
            )
            .bind(metric.as_str())
            .bind(software.unwrap_or(ALL_SOFTWARE))
            .bind(cleaned)
            .bind(from)
            .bind(to),
            "reading the series rollup",
        )
        .await?;
    Ok(rows.into_iter().map(|r| (r.day, r)).collect())
}

/// The flag kinds of a stored point, with their counts.
pub(crate) fn kinds(row: &DayRow) -> Result<BTreeMap<String, u64>> {
    serde_json::from_str(&row.flagged_kinds).map_err(|e| Error::Corrupt {
        column: "series_days.flagged_kinds",
        value: format!("{} ({e})", row.flagged_kinds),
    })
}

#[derive(sqlx::FromRow)]
struct DirtyRow {
    day: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct LastRow {
    last: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ScanRow {
    id: i64,
    server_id: i64,
    observed_at: DateTime<Utc>,
    /// 1 for a successful visit, 0 for a robots.txt refusal (an answer without figures).
    ok: i64,
    software_family: Option<String>,
    users_total: Option<i64>,
    users_active_month: Option<i64>,
    local_posts: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct FlagRow {
    observation_id: i64,
    metric: String,
    kind: String,
}

/// The earliest day whose points are out of date, without taking any lock.
async fn dirty_from(conn: &mut Conn<'_>) -> Result<Option<NaiveDate>> {
    let sql = match conn.backend() {
        Backend::Sqlite => "SELECT dirty_from AS day FROM series_state WHERE id = 1",
        Backend::Postgres => "SELECT MIN(day) AS day FROM series_dirty",
    };
    Ok(conn
        .fetch_optional::<DirtyRow>(Sql::new(sql), "reading the rollup's dirty marker")
        .await?
        .and_then(|r| r.day))
}

/// Brings `series_days` up to date: recomputes every day from the earliest one a write touched
/// since the last refresh. Does nothing (one indexed read) when nothing was written.
pub(crate) async fn refresh(storage: &Storage) -> Result<()> {
    {
        let mut conn = storage.acquire().await?;
        if dirty_from(&mut conn.conn()).await?.is_none() {
            return Ok(());
        }
    }
    let mut tx = storage.begin().await?;
    let mut conn = tx.conn();
    // Take the markers this refresh answers for. PostgreSQL: one refresh at a time (the lock
    // ends with the transaction); SQLite: the transaction holds the write lock already.
    let from = match conn.backend() {
        Backend::Sqlite => {
            let from = dirty_from(&mut conn).await?;
            conn.execute(
                Sql::new("UPDATE series_state SET dirty_from = NULL WHERE id = 1"),
                "clearing the rollup's dirty marker",
            )
            .await?;
            from
        }
        Backend::Postgres => {
            conn.execute(
                Sql::new("SELECT pg_advisory_xact_lock(7402154101) AS locked"),
                "locking the rollup",
            )
            .await?;
            conn.fetch_all::<DirtyRow>(
                Sql::new("DELETE FROM series_dirty RETURNING day"),
                "taking the rollup's dirty markers",
            )
            .await?
            .into_iter()
            .filter_map(|r| r.day)
            .min()
        }
    };
    if let Some(from) = from {
        rebuild_from(&mut conn, from).await?;
    }
    tx.commit().await
}

/// Accumulated points of one series variant.
struct Points {
    value: Vec<f64>,
    reporting: Vec<u64>,
    flagged: Vec<u64>,
    kinds: Vec<BTreeMap<String, u64>>,
}

impl Points {
    fn new(n: usize) -> Points {
        Points {
            value: vec![0.0; n],
            reporting: vec![0; n],
            flagged: vec![0; n],
            kinds: vec![BTreeMap::new(); n],
        }
    }
}

/// The points of one software key: up, and each figure raw and cleaned.
struct Family {
    up: Points,
    /// Index `2 * figure + cleaned`.
    figures: Vec<Points>,
}

impl Family {
    fn new(n: usize) -> Family {
        Family {
            up: Points::new(n),
            figures: (0..2 * FIGURES.len()).map(|_| Points::new(n)).collect(),
        }
    }

    /// Every variant: (metric, cleaned, points).
    fn variants(&self) -> impl Iterator<Item = (SeriesMetric, bool, &Points)> {
        std::iter::once((SeriesMetric::ServersUp, false, &self.up)).chain(
            self.figures
                .iter()
                .enumerate()
                .map(|(k, p)| (FIGURES[k / 2].0, k % 2 == 1, p)),
        )
    }
}

/// The points of a software key, created on first use.
fn family_points<'p>(
    points: &'p mut HashMap<String, Family>,
    key: &str,
    n: usize,
) -> &'p mut Family {
    if !points.contains_key(key) {
        points.insert(key.to_owned(), Family::new(n));
    }
    points.get_mut(key).expect("inserted just above")
}

/// Recomputes the points of every day from `from` to the last day any visit still counts on.
async fn rebuild_from(conn: &mut Conn<'_>, from: NaiveDate) -> Result<()> {
    conn.execute(
        Sql::new("DELETE FROM series_days WHERE day >= $1").bind(from),
        "clearing out-of-date rollup days",
    )
    .await?;
    let last = conn
        .fetch_one::<LastRow>(
            Sql::new("SELECT MAX(observed_at) AS last FROM observations"),
            "finding the latest visit",
        )
        .await?
        .last;
    let Some(last) = last else {
        return Ok(());
    };
    // A visit counts for CARRY_FORWARD (the longest window) after it.
    let to = (last + CARRY_FORWARD).date_naive();
    if to < from {
        return Ok(());
    }
    let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    let ends: Vec<DateTime<Utc>> = days
        .iter()
        .map(|d| midnight(*d) + Duration::days(1))
        .collect();
    let n = days.len();
    let scan_from = ends[0] - CARRY_FORWARD;
    let scan_to = ends[n - 1];

    // Flags on figures in the range: per observation, per figure column, the kinds.
    let mut flags: HashMap<(i64, usize), Vec<String>> = HashMap::new();
    for row in conn
        .fetch_all::<FlagRow>(
            Sql::new(
                "SELECT q.observation_id, q.metric, q.kind FROM quality_flags q \
                 JOIN observations o ON o.id = q.observation_id \
                 WHERE q.metric IN ('users_total', 'users_active_month', 'local_posts', '*') \
                 AND o.observed_at >= $1 AND o.observed_at < $2",
            )
            .bind(scan_from)
            .bind(scan_to),
            "reading quality flags for the rollup",
        )
        .await?
    {
        for (c, (_, column)) in FIGURES.iter().enumerate() {
            if row.metric == *column || row.metric == "*" {
                flags
                    .entry((row.observation_id, c))
                    .or_default()
                    .push(row.kind.clone());
            }
        }
    }

    let mut points: HashMap<String, Family> = HashMap::new();
    let mut server: Option<i64> = None;
    let mut rows: Vec<ScanRow> = Vec::new();
    let flush = |rows: &mut Vec<ScanRow>, points: &mut HashMap<String, Family>| {
        accumulate_server(rows, &flags, &ends, points);
        rows.clear();
    };
    conn.for_each::<ScanRow, Error>(
        Sql::new(
            "SELECT id, server_id, observed_at, \
             CAST(CASE WHEN outcome = 'ok' THEN 1 ELSE 0 END AS BIGINT) AS ok, software_family, \
             users_total, users_active_month, local_posts FROM observations \
             WHERE outcome IN ('ok', 'robots_disallowed') AND observed_at >= $1 \
             AND observed_at < $2 ORDER BY server_id, observed_at",
        )
        .bind(scan_from)
        .bind(scan_to),
        "scanning visits for the rollup",
        |row| {
            if server != Some(row.server_id) {
                flush(&mut rows, &mut points);
                server = Some(row.server_id);
            }
            rows.push(row);
            Ok(())
        },
    )
    .await??;
    flush(&mut rows, &mut points);

    // Store the days some server stands behind (the others read as "not reported").
    let mut keys: Vec<&String> = points.keys().collect();
    keys.sort();
    let mut pending: Vec<(SeriesMetric, &str, bool, usize, &Points)> = Vec::new();
    for key in keys {
        for (metric, cleaned, p) in points[key].variants() {
            for i in 0..n {
                if p.reporting[i] > 0 || p.flagged[i] > 0 {
                    pending.push((metric, key.as_str(), cleaned, i, p));
                }
            }
        }
    }
    for chunk in pending.chunks(500) {
        let mut text = String::from(
            "INSERT INTO series_days (metric, software, cleaned, day, value, servers_reporting, \
             flagged, flagged_kinds) VALUES ",
        );
        for k in 0..chunk.len() {
            if k > 0 {
                text.push_str(", ");
            }
            let b = 8 * k;
            text.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            ));
        }
        let mut sql = Sql::new(text);
        for (metric, software, cleaned, i, p) in chunk {
            let kinds = serde_json::to_string(&p.kinds[*i])
                .map_err(|e| Error::InvalidQuery(format!("flag kinds not serialisable: {e}")))?;
            sql = sql
                .bind(metric.as_str())
                .bind(*software)
                .bind(*cleaned)
                .bind(days[*i])
                .bind(p.value[*i])
                .bind(i64::try_from(p.reporting[*i]).unwrap_or(i64::MAX))
                .bind(i64::try_from(p.flagged[*i]).unwrap_or(i64::MAX))
                .bind(kinds);
        }
        conn.execute(sql, "storing the series rollup").await?;
    }
    Ok(())
}

/// Adds one server's answered visits (in time order: successes and robots.txt refusals) to every
/// variant's points: for every software and for the family of the visit used, each figure raw
/// and cleaned (never carried past a refusal), and whether it was up (for a family: whether a
/// visit reporting that family was in the window; a refusal names none), exactly as
/// [`crate::series`] counts them from the observations.
fn accumulate_server(
    rows: &[ScanRow],
    flags: &HashMap<(i64, usize), Vec<String>>,
    ends: &[DateTime<Utc>],
    points: &mut HashMap<String, Family>,
) {
    if rows.is_empty() {
        return;
    }
    let n = ends.len();
    let mut families: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.software_family.as_deref())
        .collect();
    families.sort_unstable();
    families.dedup();

    // Up, for every software and per family (the visits reporting that family).
    let mut keys: Vec<(&str, Option<&str>)> = vec![(ALL_SOFTWARE, None)];
    keys.extend(families.iter().map(|f| (*f, Some(*f))));
    for (key, family) in keys {
        let times: Vec<DateTime<Utc>> = rows
            .iter()
            .filter(|r| family.is_none() || r.software_family.as_deref() == family)
            .map(|r| r.observed_at)
            .collect();
        let p = &mut family_points(points, key, n).up;
        let mut upto = 0;
        for (i, end) in ends.iter().enumerate() {
            while upto < times.len() && times[upto] < *end {
                upto += 1;
            }
            if upto > 0 && times[upto - 1] >= *end - UP_WINDOW {
                p.value[i] += 1.0;
                p.reporting[i] += 1;
            }
        }
    }

    // Figures: the latest value in the CARRY_FORWARD window (skipping flagged ones when
    // cleaned) and after the latest refusal, counted for every software and for the family of
    // the visit it comes from; a point's flagged count is of servers whose latest value is
    // flagged.
    let refusals: Vec<DateTime<Utc>> = rows
        .iter()
        .filter(|r| r.ok == 0)
        .map(|r| r.observed_at)
        .collect();
    for c in 0..FIGURES.len() {
        let mine: Vec<&ScanRow> = rows
            .iter()
            .filter(|r| r.ok != 0 && figure(r, c).is_some())
            .collect();
        if mine.is_empty() {
            continue;
        }
        let timeline: Vec<TimelineEntry<'_>> = mine
            .iter()
            .map(|r| {
                (
                    r.observed_at,
                    figure(r, c).unwrap_or(0),
                    flags.get(&(r.id, c)),
                )
            })
            .collect();
        for cleaned in [false, true] {
            let mut upto = 0;
            for (i, end) in ends.iter().enumerate() {
                while upto < timeline.len() && timeline[upto].0 < *end {
                    upto += 1;
                }
                if upto == 0 {
                    continue;
                }
                let opted_out = latest_before(&refusals, *end);
                let (used, latest_flagged) =
                    carried_value(&timeline, upto, *end, cleaned, opted_out);
                if let Some(j) = latest_flagged {
                    if let Some(kinds) = timeline[j].2 {
                        for key in keys_of(mine[j]) {
                            let p = &mut family_points(points, key, n).figures
                                [2 * c + cleaned as usize];
                            p.flagged[i] += 1;
                            for kind in kinds {
                                *p.kinds[i].entry(kind.clone()).or_default() += 1;
                            }
                        }
                    }
                }
                if let Some(j) = used {
                    let v = count_of(timeline[j].1) as f64;
                    for key in keys_of(mine[j]) {
                        let p =
                            &mut family_points(points, key, n).figures[2 * c + cleaned as usize];
                        p.value[i] += v;
                        p.reporting[i] += 1;
                    }
                }
            }
        }
    }
}

/// A figure column of a scanned visit (0: users_total, 1: users_active_month, 2: local_posts).
fn figure(row: &ScanRow, column: usize) -> Option<i64> {
    match column {
        0 => row.users_total,
        1 => row.users_active_month,
        _ => row.local_posts,
    }
}

/// The software keys a visit counts under: every software, and its own family if it has one.
fn keys_of(row: &ScanRow) -> impl Iterator<Item = &str> {
    std::iter::once(ALL_SOFTWARE).chain(row.software_family.as_deref())
}
