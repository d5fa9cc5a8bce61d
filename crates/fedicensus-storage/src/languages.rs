//! Servers, users and monthly actives by declared language, over time.
//!
//! A server counts, on a date, under the primary language it declared at its latest answer on or
//! before that date (`observation_languages` row at position 0 of that visit; migration 0032),
//! and under "none declared" when that visit declared none (or was a robots.txt refusal, which
//! lets us read nothing). With a software filter, a server counts as the series of that software
//! counts it: up on answers of that family, a figure when the visit it comes from is of that
//! family. Everything else is the series' own definition (`crate::series`):
//! servers up in the [`UP_WINDOW`], figures carried forward [`CARRY_FORWARD`] and never past a
//! refusal, flagged values left out of a cleaned series. So the languages of a point add up to
//! the `servers_up`, `users_total` or `users_active_month` series' point (the conformance suite
//! checks it on both backends), and the shares have a denominator. Like every series it is read
//! from the visits of its time (survivorship-free: a server that died later still counts on the
//! dates it was alive, under the language it declared then) and ends with the last crawled day.

use crate::db::{count_of, Conn, Sql, Storage};
use crate::error::{Error, Result};
use crate::methodology::{ANSWERED, CARRY_FORWARD, METHODOLOGY_VERSION, UP_WINDOW};
use crate::series::{
    buckets, carried_value, covered, family_matches, flags_in, last_crawled_day, latest_before,
    Bucket, SeriesMetric, SeriesPoint, SeriesQuery, TimelineEntry,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// The name under which servers that declared no language are counted, in every output.
pub const NONE_DECLARED: &str = "none declared";

/// The metrics a language series may count.
pub const LANGUAGE_METRICS: [SeriesMetric; 3] = [
    SeriesMetric::ServersUp,
    SeriesMetric::UsersTotal,
    SeriesMetric::UsersActiveMonth,
];

/// One language's points.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguageLine {
    /// A lowercase BCP 47 primary language tag, or `None`: servers that declared none.
    pub language: Option<String>,
    /// One point per bucket, as in [`crate::Series`]: `servers_reporting` is the number of
    /// servers counted under this language (for figures, those whose figure is summed).
    pub points: Vec<SeriesPoint>,
}

impl LanguageLine {
    /// The language's name in outputs: its tag, or [`NONE_DECLARED`].
    pub fn name(&self) -> &str {
        self.language.as_deref().unwrap_or(NONE_DECLARED)
    }
}

/// A metric split by declared language.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguageSeries {
    /// The query (with `software`, only servers of that family, as the metric's own series).
    pub query: SeriesQuery,
    /// Every language seen in the range, the largest at the last covered point first, "none
    /// declared" last.
    pub languages: Vec<LanguageLine>,
    /// The sum over languages: the denominator of each language's share (equal to the
    /// metric's own series).
    pub total: Vec<SeriesPoint>,
    pub methodology_version: &'static str,
}

#[derive(sqlx::FromRow)]
struct AnsweredRow {
    id: i64,
    server_id: i64,
    observed_at: DateTime<Utc>,
    /// `None` for a robots.txt refusal, or a success that did not report the figure.
    value: Option<i64>,
    refusal: bool,
    /// The group the visit counts under (its primary language, its country, its network).
    split_key: Option<String>,
    software_family: Option<String>,
}

/// What a series is split by: the table joined to each answered visit and the column read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Split {
    /// `LEFT JOIN ...` on `o.id`, at most one row per visit.
    pub(crate) join: &'static str,
    /// The key, as text (`NULL`: the visit's "none" group).
    pub(crate) key: &'static str,
    /// What is scanned, for error messages.
    pub(crate) what: &'static str,
    /// Whether a robots.txt refusal counts under the "none" group (nothing was read: no
    /// language), rather than under its key (its address was still looked up).
    pub(crate) refusal_is_none: bool,
}

/// Split by the primary declared language.
pub(crate) const BY_LANGUAGE: Split = Split {
    join: "LEFT JOIN observation_languages l ON l.observation_id = o.id AND l.position = 0",
    key: "l.language",
    what: "scanning declared languages",
    refusal_is_none: true,
};

/// Per language, per bucket: value, servers, flagged.
type Sums = HashMap<Option<String>, Vec<(f64, u64, u64)>>;

/// The sums of `language` in bucket `i` of `n`.
fn slot<'a>(
    sums: &'a mut Sums,
    language: &Option<String>,
    i: usize,
    n: usize,
) -> &'a mut (f64, u64, u64) {
    &mut sums
        .entry(language.clone())
        .or_insert_with(|| vec![(0.0, 0, 0); n])[i]
}

async fn scan(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
    buckets: &[Bucket],
    split: Split,
) -> Result<(Sums, BTreeMap<String, u64>)> {
    let mut sums: Sums = HashMap::new();
    let mut flagged_by_kind = BTreeMap::new();
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok((sums, flagged_by_kind));
    };
    let scan_from = first.end_instant() - CARRY_FORWARD;
    let scan_to = last.end_instant();
    let column = match query.metric {
        SeriesMetric::UsersTotal => Some("users_total"),
        SeriesMetric::UsersActiveMonth => Some("users_active_month"),
        _ => None,
    };
    let flags = match column {
        Some(column) => flags_in(conn, column, scan_from, scan_to).await?,
        None => HashMap::new(),
    };
    // `column` is one of two fixed names, never user input; servers up read no figure.
    let value = column.map_or("CAST(NULL AS BIGINT)".to_owned(), |c| {
        format!("CASE WHEN o.outcome = 'ok' THEN o.{c} END")
    });
    let (join, key) = (split.join, split.key);
    let sql = Sql::new(format!(
        "SELECT o.id, o.server_id, o.observed_at, {value} AS value, \
         o.outcome = 'robots_disallowed' AS refusal, {key} AS split_key, o.software_family \
         FROM observations o {join} \
         WHERE o.{ANSWERED} AND o.observed_at >= $1 AND o.observed_at < $2 \
         ORDER BY o.server_id, o.observed_at"
    ))
    .bind(scan_from)
    .bind(scan_to);

    let n = buckets.len();
    let cleaned = query.cleaned;
    let metric = query.metric;
    let software = query.software.as_ref();
    let mut server: Option<i64> = None;
    let mut rows: Vec<AnsweredRow> = Vec::new();
    let flush = |all: &mut Vec<AnsweredRow>,
                 sums: &mut Sums,
                 flagged_by_kind: &mut BTreeMap<String, u64>| {
        let answers: Vec<DateTime<Utc>> = all.iter().map(|r| r.observed_at).collect();
        let refusals: Vec<DateTime<Utc>> = all
            .iter()
            .filter(|r| r.refusal)
            .map(|r| r.observed_at)
            .collect();
        let reported: Vec<&AnsweredRow> = all.iter().filter(|r| r.value.is_some()).collect();
        let timeline: Vec<TimelineEntry<'_>> = reported
            .iter()
            .map(|r| (r.observed_at, r.value.unwrap_or(0), flags.get(&r.id)))
            .collect();
        let mut upto_answer = 0;
        let mut upto = 0;
        for (i, bucket) in buckets.iter().enumerate() {
            let end = bucket.end_instant();
            while upto_answer < all.len() && all[upto_answer].observed_at < end {
                upto_answer += 1;
            }
            while upto < timeline.len() && timeline[upto].0 < end {
                upto += 1;
            }
            let Some(latest) = upto_answer.checked_sub(1).map(|j| &all[j]) else {
                continue;
            };
            // Its group at its latest answer (a refusal declares no language; a refused
            // visit's address still has its country and network).
            let language = if latest.refusal && split.refusal_is_none {
                None
            } else {
                latest.split_key.clone()
            };
            if metric == SeriesMetric::ServersUp {
                if latest_before(&answers, end).is_some_and(|t| t >= end - UP_WINDOW) {
                    let e = slot(sums, &language, i, n);
                    e.0 += 1.0;
                    e.1 += 1;
                }
                continue;
            }
            if upto == 0 {
                continue;
            }
            let opted_out = latest_before(&refusals, end);
            let (used, latest_flagged) = carried_value(&timeline, upto, end, cleaned, opted_out);
            // As the figure series: the family filter applies to the visit the value is from.
            let of_family =
                |j: usize| family_matches(software, reported[j].software_family.as_deref());
            if let Some(kinds) = latest_flagged
                .filter(|&j| of_family(j))
                .and_then(|j| timeline[j].2)
            {
                slot(sums, &language, i, n).2 += 1;
                for kind in kinds {
                    *flagged_by_kind.entry(kind.clone()).or_default() += 1;
                }
            }
            if let Some(j) = used.filter(|&j| of_family(j)) {
                let e = slot(sums, &language, i, n);
                e.0 += count_of(timeline[j].1) as f64;
                e.1 += 1;
            }
        }
        all.clear();
    };
    let scanned = conn
        .for_each::<AnsweredRow, Error>(sql, split.what, |row| {
            // As servers up: a server is up for a software on answers of that family (a
            // refusal names none). Figures keep every row: the filter applies to the visit used.
            if metric == SeriesMetric::ServersUp
                && !family_matches(software, row.software_family.as_deref())
            {
                return Ok(());
            }
            if server != Some(row.server_id) {
                flush(&mut rows, &mut sums, &mut flagged_by_kind);
                server = Some(row.server_id);
            }
            rows.push(row);
            Ok(())
        })
        .await?;
    scanned?;
    flush(&mut rows, &mut sums, &mut flagged_by_kind);
    Ok((sums, flagged_by_kind))
}

/// One group's points, and the sum over groups, of a split series.
pub(crate) struct SplitSeries {
    pub(crate) groups: Vec<(Option<String>, Vec<SeriesPoint>)>,
    pub(crate) total: Vec<SeriesPoint>,
    /// How many of the requested buckets a crawl covered (the rest have no value).
    pub(crate) covered: usize,
}

/// `query.metric` split by `split`: every group seen in the range, the largest at the last
/// covered point first, the "none" group last; and their sum.
pub(crate) async fn split_series(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
    split: Split,
    by: &str,
) -> Result<SplitSeries> {
    if !LANGUAGE_METRICS.contains(&query.metric) {
        let names: Vec<&str> = LANGUAGE_METRICS.iter().map(|m| m.as_str()).collect();
        return Err(Error::InvalidQuery(format!(
            "{} is not split by {by} (accepted: {})",
            query.metric.as_str(),
            names.join(", ")
        )));
    }
    let requested = buckets(query)?;
    let covered = covered(&requested, last_crawled_day(conn).await?);
    let (sums, _) = scan(conn, query, &covered, split).await?;
    let point = |i: usize, b: &Bucket, sum: Option<(f64, u64, u64)>| match covered.get(i) {
        Some(c) => {
            let (value, servers, flagged) = sum.unwrap_or((0.0, 0, 0));
            SeriesPoint {
                date: c.start,
                as_of: c.end_instant(),
                // A group no server stands behind on a crawled date has the value 0 (the
                // census looked, and found none): a share needs it.
                value: Some(value),
                servers_reporting: servers,
                flagged,
            }
        }
        // Not crawled yet: no data, not zero.
        None => SeriesPoint {
            date: b.start,
            as_of: b.end_instant(),
            value: None,
            servers_reporting: 0,
            flagged: 0,
        },
    };
    let mut groups: Vec<(Option<String>, Vec<SeriesPoint>)> = sums
        .iter()
        .map(|(key, per_bucket)| {
            (
                key.clone(),
                requested
                    .iter()
                    .enumerate()
                    .map(|(i, b)| point(i, b, per_bucket.get(i).copied()))
                    .collect(),
            )
        })
        .collect();
    let total: Vec<SeriesPoint> = requested
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let sum = sums
                .values()
                .filter_map(|p| p.get(i))
                .fold((0.0_f64, 0_u64, 0_u64), |(v, s, f), &(v2, s2, f2)| {
                    (v + v2, s + s2, f + f2)
                });
            let mut p = point(i, b, Some(sum));
            // No server behind the total: not reported (as the metric's own series says).
            if p.servers_reporting == 0 {
                p.value = None;
            }
            p
        })
        .collect();
    let last = covered.len().checked_sub(1);
    let size = |points: &[SeriesPoint]| last.and_then(|i| points[i].value).unwrap_or(0.0);
    groups.sort_by(|a, b| {
        a.0.is_none()
            .cmp(&b.0.is_none())
            .then(size(&b.1).total_cmp(&size(&a.1)))
            .then(a.0.cmp(&b.0))
    });
    Ok(SplitSeries {
        groups,
        total,
        covered: covered.len(),
    })
}

pub(crate) async fn language_series(
    conn: &mut Conn<'_>,
    query: &SeriesQuery,
) -> Result<LanguageSeries> {
    let split = split_series(conn, query, BY_LANGUAGE, "language").await?;
    Ok(LanguageSeries {
        query: query.clone(),
        languages: split
            .groups
            .into_iter()
            .map(|(language, points)| LanguageLine { language, points })
            .collect(),
        total: split.total,
        methodology_version: METHODOLOGY_VERSION,
    })
}

impl Storage {
    /// `query.metric` (servers up, users, monthly actives) split by the primary language each
    /// server declared as of each date (see the module's documentation and
    /// `docs/METHODOLOGY.md`), over every software or the one `query.software` names.
    pub async fn language_series(&self, query: &SeriesQuery) -> Result<LanguageSeries> {
        let mut conn = self.acquire().await?;
        language_series(&mut conn.conn(), query).await
    }
}
