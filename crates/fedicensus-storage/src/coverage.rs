//! How much the census cannot see: an estimate of the servers it has not found, with its
//! interval, from the overlap of independent discovery sources (capture-recapture).
//!
//! The sources are the peer lists. Every server whose peer list fedicensus read (a *reporter*) is
//! put in one of the estimator's groups (eight: [`COVERAGE_ESTIMATOR`]) by a stable hash of its
//! domain (the first eight bytes of its SHA-256, modulo the number of groups), so the split is
//! the same on every machine and every run. A group *captures* a server when a peer list of one of its reporters named it. Only
//! confirmed servers count as captured (`servers.first_confirmed_at`): a name merely mentioned is
//! not a server (an invented list of a million names would otherwise be a million captures).
//!
//! Because reporters are assigned to groups at random (by the hash), the groups are exchangeable
//! samples of the same population of peer lists: a server's chance to be named by a group varies
//! from server to server (a large, well-connected server is in every group's lists, a tiny one in
//! none) but not from group to group. That is capture-recapture's model Mh (heterogeneity between
//! individuals, none between occasions), for which [`Estimator::Chao2`] (Chao 1987's
//! lower-bound estimator, bias-corrected, on incidence in `groups` samples) is made.
//! [`Estimator::Chapman`] (Lincoln–Petersen with Chapman's correction, on two halves: even and odd
//! groups) assumes every server is equally likely to be named, which heterogeneity breaks (it then
//! underestimates); it is kept for comparison (`docs/METHODOLOGY.md`, "Coverage", has both
//! calibrated on the simulator).
//!
//! What is estimated: the number of servers that a peer list could name and a visit could confirm
//! (`N_listed`), of which `S` are named in the lists read so far; the census' estimated total is
//! `servers_known - S + N_listed` (servers known only as seeds are added as they are). Servers
//! that federate with nobody, or only with servers whose lists fedicensus cannot read, have no
//! chance of capture and are not in the estimate.
//!
//! Like every series it is survivorship-free: a date's estimate uses the peer edges first seen
//! and the servers confirmed before the end of that date, so later crawls never change it, and a
//! series ends with the last crawled day.

use crate::db::{Conn, Sql, Storage};
use crate::error::Result;
use crate::methodology::{COVERAGE_ESTIMATOR, COVERAGE_MIN_REPORTERS, METHODOLOGY_VERSION};
use crate::series::{
    buckets, covered, known_at, last_crawled_day, Granularity, SeriesMetric, SeriesQuery,
};
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The most groups reporters may be split into (a capture history is a bit mask of them).
pub const MAX_GROUPS: u32 = 8;

/// The standard normal quantile of a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// A capture-recapture estimator of the servers the peer lists could name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    /// Lincoln–Petersen with Chapman's bias correction on two captures: reporters of even groups
    /// and of odd groups (out of `groups`), with Seber's variance.
    Chapman { groups: u32 },
    /// Chao's (1987) bias-corrected lower-bound estimator for heterogeneous capture
    /// probabilities, on the incidence of each server in `groups` samples (Chao2), with its
    /// variance.
    Chao2 { groups: u32 },
}

impl Estimator {
    /// The number of reporter groups.
    pub fn groups(&self) -> u32 {
        match self {
            Estimator::Chapman { groups } | Estimator::Chao2 { groups } => *groups,
        }
    }

    /// The stable name in outputs (`chao2`, `chapman`).
    pub fn name(&self) -> &'static str {
        match self {
            Estimator::Chapman { .. } => "chapman",
            Estimator::Chao2 { .. } => "chao2",
        }
    }

    /// The estimate of the population of listed servers from the number of servers with each
    /// capture history (`histories[mask]`, a bit per group; `histories[0]` is ignored).
    pub fn estimate(&self, histories: &[u64]) -> Option<Estimate> {
        match *self {
            Estimator::Chapman { .. } => {
                let (mut n1, mut n2, mut m) = (0, 0, 0);
                for (mask, count) in histories.iter().enumerate().skip(1) {
                    let even = mask & 0x55 != 0;
                    let odd = mask & 0xAA != 0;
                    n1 += if even { *count } else { 0 };
                    n2 += if odd { *count } else { 0 };
                    m += if even && odd { *count } else { 0 };
                }
                chapman(n1, n2, m)
            }
            Estimator::Chao2 { groups } => chao2_grouped(groups, histories),
        }
    }
}

/// Chao2 on the incidence of each server in `groups` samples, from capture histories, with an
/// interval that also carries which peer lists the census happened to read: the variance is the
/// larger of Chao's model variance and the delete-a-group jackknife's (Kott 2001: the estimate
/// recomputed with each group left out, `(k-1)/k · Σ (θ_g - θ̄)²`), which the model leaves out.
fn chao2_grouped(groups: u32, histories: &[u64]) -> Option<Estimate> {
    let frequencies_without = |left_out: Option<u32>| {
        let mut frequencies = vec![0u64; groups as usize + 1];
        let keep = left_out.map_or(usize::MAX, |g| !(1usize << g));
        for (mask, count) in histories.iter().enumerate().skip(1) {
            frequencies[(mask & keep).count_ones() as usize] += count;
        }
        frequencies[0] = 0;
        frequencies
    };
    let model = chao2(groups, &frequencies_without(None))?;
    let f0 = model.estimate - model.seen as f64;
    if f0 <= 0.0 || groups < 3 {
        return Some(model);
    }
    let leave_one_out: Vec<f64> = (0..groups)
        .filter_map(|g| {
            let mut frequencies = frequencies_without(Some(g));
            frequencies.truncate(groups as usize);
            chao2(groups - 1, &frequencies).map(|e| e.estimate)
        })
        .collect();
    let k = leave_one_out.len() as f64;
    if k < 2.0 {
        return Some(model);
    }
    let mean = leave_one_out.iter().sum::<f64>() / k;
    let jackknife = (k - 1.0) / k
        * leave_one_out
            .iter()
            .map(|t| (t - mean).powi(2))
            .sum::<f64>();
    let variance = model.variance.max(jackknife);
    let (low, high) = whole_servers(log_normal_interval(model.seen, f0, variance));
    Some(Estimate {
        variance,
        low,
        high,
        ..model
    })
}

/// A population size with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Individuals seen (captured at least once).
    pub seen: u64,
    /// The estimated population, `seen` included.
    pub estimate: f64,
    /// The estimator's variance.
    pub variance: f64,
    pub low: f64,
    pub high: f64,
}

/// The interval of a population estimate whose unseen part `f0` is log-normal (Chao 1987): it
/// never falls below what was seen, and widens upwards as skewed estimates do.
fn log_normal_interval(seen: u64, f0: f64, variance: f64) -> (f64, f64) {
    let s = seen as f64;
    if f0 <= 0.0 || variance <= 0.0 {
        return (s + f0.max(0.0), s + f0.max(0.0));
    }
    let c = (Z95 * (1.0 + variance / (f0 * f0)).ln().sqrt()).exp();
    (s + f0 / c, s + f0 * c)
}

/// An interval on a number of servers, widened outwards to whole servers: a census cannot miss
/// part of a server, so `[137.4, 151.2]` holds the same populations as `[137, 152]`.
fn whole_servers((low, high): (f64, f64)) -> (f64, f64) {
    ((low + 1e-9).floor(), (high - 1e-9).ceil())
}

/// The interval when no server was seen by only one sample (`f0` = 0), where the log-normal
/// interval has no width (Chao's variance is not defined there): EstimateS's, from the mean
/// incidence `M / S` of the servers seen, with `P = exp(-M / S)`, from
/// `max(S, S / (1 - P) - 1.96 · sqrt(S · P / (1 - P)))` to `S / (1 - P) + 1.96 · sqrt(S · P / (1 - P))`.
fn no_singletons_interval(seen: u64, incidences: u64) -> (f64, f64) {
    let s = seen as f64;
    let p = (-(incidences as f64) / s).exp();
    let centre = s / (1.0 - p);
    let half = Z95 * (s * p / (1.0 - p)).sqrt();
    (s.max(centre - half), centre + half)
}

/// Chapman's estimator from two captures of `n1` and `n2` individuals with `m` in both, Seber's
/// (1970) variance and a log-normal 95 % interval in whole servers. `None` when nothing was
/// captured.
pub fn chapman(n1: u64, n2: u64, m: u64) -> Option<Estimate> {
    let seen = (n1 + n2).checked_sub(m)?;
    if seen == 0 || m > n1.min(n2) {
        return None;
    }
    let (a, b, m) = (n1 as f64, n2 as f64, m as f64);
    let estimate = (a + 1.0) * (b + 1.0) / (m + 1.0) - 1.0;
    let variance = (a + 1.0) * (b + 1.0) * (a - m) * (b - m) / ((m + 1.0).powi(2) * (m + 2.0));
    let (low, high) = whole_servers(log_normal_interval(seen, estimate - seen as f64, variance));
    Some(Estimate {
        seen,
        estimate,
        variance,
        low,
        high,
    })
}

/// Chao's bias-corrected estimator from incidence in `k` samples: `frequencies[j]` individuals
/// were captured in exactly `j` samples (`frequencies[0]` is ignored). Unseen:
/// `f0 = (k-1)/k · f1(f1-1) / (2(f2+1))`, with Chao's variance for the bias-corrected form and
/// a log-normal 95 % interval ([`no_singletons_interval`] when `f0` is 0), in whole servers.
/// `None` when nothing was captured or `k < 2`.
pub fn chao2(k: u32, frequencies: &[u64]) -> Option<Estimate> {
    let seen: u64 = frequencies.iter().skip(1).sum();
    if seen == 0 || k < 2 {
        return None;
    }
    let f1 = frequencies.get(1).copied().unwrap_or(0) as f64;
    let f2 = frequencies.get(2).copied().unwrap_or(0) as f64;
    let a = (f64::from(k) - 1.0) / f64::from(k);
    let f0 = a * f1 * (f1 - 1.0).max(0.0) / (2.0 * (f2 + 1.0));
    let variance = a * f1 * (f1 - 1.0).max(0.0) / (2.0 * (f2 + 1.0))
        + a * a * f1 * (2.0 * f1 - 1.0).powi(2) / (4.0 * (f2 + 1.0).powi(2))
        + a * a * f1 * f1 * (f1 - 1.0).powi(2) * f2 / (4.0 * (f2 + 1.0).powi(4));
    let (low, high) = whole_servers(if f0 > 0.0 {
        log_normal_interval(seen, f0, variance)
    } else {
        let incidences = frequencies
            .iter()
            .enumerate()
            .map(|(j, f)| j as u64 * f)
            .sum();
        no_singletons_interval(seen, incidences)
    });
    Some(Estimate {
        seen,
        estimate: seen as f64 + f0,
        variance,
        low,
        high,
    })
}

/// The group of a reporter: the first eight bytes of the SHA-256 of its domain, big-endian,
/// modulo `groups`.
pub fn reporter_group(domain: &str, groups: u32) -> u32 {
    let digest = Sha256::digest(domain.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(groups.max(1))) as u32
}

/// What a coverage series covers: the dates and their buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageQuery {
    pub granularity: Granularity,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One date's coverage.
#[derive(Debug, Clone, PartialEq)]
pub struct CoveragePoint {
    /// The first day of the bucket.
    pub date: NaiveDate,
    /// The instant it is taken at (as [`crate::SeriesPoint::as_of`]).
    pub as_of: DateTime<Utc>,
    /// Whether the bucket starts on or before the last crawled day; the counts of a bucket not
    /// crawled are 0 and its estimate `None` (not crawled is not zero).
    pub crawled: bool,
    /// `servers_known` at that instant.
    pub servers_known: u64,
    /// Confirmed servers named by at least one peer list read by then (`S`).
    pub servers_listed: u64,
    /// Servers whose peer list named at least one confirmed server by then (the sources).
    pub reporters: u64,
    /// `frequencies[j]`: listed servers named by exactly `j` groups (`frequencies[0]` is 0).
    pub frequencies: Vec<u64>,
    /// The estimated total (`servers_known - S + N_listed`) and its 95 % interval; `None`
    /// when no list names a confirmed server yet, when fewer reporters than the minimum
    /// ([`COVERAGE_MIN_REPORTERS`]) named one, or the date is after the last crawled day.
    pub estimate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// A coverage series.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageSeries {
    pub query: CoverageQuery,
    pub estimator: Estimator,
    pub points: Vec<CoveragePoint>,
    pub methodology_version: &'static str,
}

#[derive(sqlx::FromRow)]
struct ReporterRow {
    id: i64,
    domain: String,
}

#[derive(sqlx::FromRow)]
struct CaptureRow {
    from_id: i64,
    to_id: i64,
    /// When the edge was first seen or its target confirmed, whichever is later.
    captured_at: DateTime<Utc>,
}

/// Per listed server, the earliest capture by each group.
type Captures = HashMap<i64, [Option<DateTime<Utc>>; MAX_GROUPS as usize]>;

async fn captures(conn: &mut Conn<'_>, groups: u32, before: DateTime<Utc>) -> Result<Captures> {
    let reporters: HashMap<i64, u32> = conn
        .fetch_all::<ReporterRow>(
            Sql::new(
                "SELECT id, domain FROM servers \
                 WHERE id IN (SELECT DISTINCT from_id FROM peer_edges)",
            ),
            "reading the servers whose peer lists were read",
        )
        .await?
        .into_iter()
        .map(|r| (r.id, reporter_group(&r.domain, groups)))
        .collect();
    let sql = Sql::new(
        "SELECT e.from_id, e.to_id, CASE WHEN e.first_seen > t.first_confirmed_at \
         THEN e.first_seen ELSE t.first_confirmed_at END AS captured_at \
         FROM peer_edges e JOIN servers t ON t.id = e.to_id \
         WHERE t.first_confirmed_at IS NOT NULL AND t.first_confirmed_at < $1 \
         AND e.first_seen < $1",
    )
    .bind(before);
    let mut out: Captures = HashMap::new();
    conn.for_each::<CaptureRow, std::convert::Infallible>(sql, "scanning peer edges", |row| {
        if row.from_id == row.to_id {
            return Ok(());
        }
        let Some(group) = reporters.get(&row.from_id) else {
            return Ok(());
        };
        let slot = &mut out.entry(row.to_id).or_default()[*group as usize];
        if slot.is_none_or(|t| row.captured_at < t) {
            *slot = Some(row.captured_at);
        }
        Ok(())
    })
    .await?
    .unwrap_or_else(|never| match never {});
    Ok(out)
}

/// How many reporters had a capture before each of `ends`.
async fn reporters_at(conn: &mut Conn<'_>, ends: &[DateTime<Utc>]) -> Result<Vec<u64>> {
    #[derive(sqlx::FromRow)]
    struct FirstRow {
        first: DateTime<Utc>,
    }
    let mut firsts: Vec<DateTime<Utc>> = conn
        .fetch_all::<FirstRow>(
            Sql::new(
                "SELECT MIN(CASE WHEN e.first_seen > t.first_confirmed_at THEN e.first_seen \
                 ELSE t.first_confirmed_at END) AS first \
                 FROM peer_edges e JOIN servers t ON t.id = e.to_id \
                 WHERE t.first_confirmed_at IS NOT NULL AND e.from_id <> e.to_id \
                 GROUP BY e.from_id",
            ),
            "finding when each peer list first named a confirmed server",
        )
        .await?
        .into_iter()
        .map(|r| r.first)
        .collect();
    firsts.sort_unstable();
    Ok(ends
        .iter()
        .map(|end| firsts.partition_point(|t| t < end) as u64)
        .collect())
}

pub(crate) async fn coverage_series(
    conn: &mut Conn<'_>,
    query: &CoverageQuery,
    estimator: Estimator,
    min_reporters: u64,
) -> Result<CoverageSeries> {
    let groups = estimator.groups();
    if !(2..=MAX_GROUPS).contains(&groups) {
        return Err(crate::Error::InvalidQuery(format!(
            "{groups} reporter groups (accepted: 2 to {MAX_GROUPS})"
        )));
    }
    let series_query = SeriesQuery::new(
        SeriesMetric::ServersKnown,
        query.granularity,
        query.from,
        query.to,
    );
    let requested = buckets(&series_query)?;
    let covered = covered(&requested, last_crawled_day(conn).await?);
    let known = known_at(conn, &series_query, &covered, false).await?;
    let ends: Vec<DateTime<Utc>> = covered.iter().map(|b| b.end_instant()).collect();
    let reporters = reporters_at(conn, &ends).await?;
    let captures = match ends.last() {
        Some(last) => captures(conn, groups, *last).await?,
        None => HashMap::new(),
    };
    let points = requested
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let Some(bucket) = covered.get(i) else {
                return CoveragePoint {
                    date: b.start,
                    as_of: b.end_instant(),
                    crawled: false,
                    servers_known: 0,
                    servers_listed: 0,
                    reporters: 0,
                    frequencies: vec![0; groups as usize + 1],
                    estimate: None,
                    low: None,
                    high: None,
                };
            };
            let end = ends[i];
            let mut histories = vec![0u64; 1 << groups];
            for times in captures.values() {
                let mask = times[..groups as usize]
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.is_some_and(|t| t < end))
                    .fold(0usize, |mask, (g, _)| mask | 1 << g);
                histories[mask] += 1;
            }
            let mut frequencies = vec![0u64; groups as usize + 1];
            for (mask, count) in histories.iter().enumerate().skip(1) {
                frequencies[mask.count_ones() as usize] += count;
            }
            let listed: u64 = frequencies.iter().sum();
            let estimate = if reporters[i] >= min_reporters {
                estimator.estimate(&histories)
            } else {
                None
            };
            // Servers known but named by no list read (seeds) are added as they are.
            let base = known[i].saturating_sub(listed) as f64;
            CoveragePoint {
                date: bucket.start,
                as_of: end,
                crawled: true,
                servers_known: known[i],
                servers_listed: listed,
                reporters: reporters[i],
                frequencies,
                estimate: estimate.map(|e| base + e.estimate),
                low: estimate.map(|e| base + e.low),
                high: estimate.map(|e| base + e.high),
            }
        })
        .collect();
    Ok(CoverageSeries {
        query: query.clone(),
        estimator,
        points,
        methodology_version: METHODOLOGY_VERSION,
    })
}

impl Storage {
    /// The coverage series: servers known and the estimated total with its 95 % interval, per
    /// bucket, with the methodology's estimator ([`COVERAGE_ESTIMATOR`]) on dates with at least
    /// [`COVERAGE_MIN_REPORTERS`] reporters (see the module's documentation and
    /// `docs/METHODOLOGY.md`, "Coverage").
    pub async fn coverage(&self, query: &CoverageQuery) -> Result<CoverageSeries> {
        let mut conn = self.acquire().await?;
        coverage_series(
            &mut conn.conn(),
            query,
            COVERAGE_ESTIMATOR,
            COVERAGE_MIN_REPORTERS,
        )
        .await
    }

    /// The coverage series with another estimator and an estimate on every date with a
    /// capture, however few reporters (for calibration, which applies the minimum itself).
    pub async fn coverage_with(
        &self,
        query: &CoverageQuery,
        estimator: Estimator,
    ) -> Result<CoverageSeries> {
        let mut conn = self.acquire().await?;
        coverage_series(&mut conn.conn(), query, estimator, 1).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn chapman_matches_a_hand_computed_example() {
        // n1 = 60, n2 = 50, m = 20: N = 61 · 51 / 21 - 1 = 147.142857...; seen 90;
        // var = 61 · 51 · 40 · 30 / (21² · 22) = 3,733,200 / 9,702 = 384.78664...
        let e = chapman(60, 50, 20).expect("captures");
        assert_eq!(e.seen, 90);
        assert!(close(e.estimate, 3111.0 / 21.0 - 1.0), "{e:?}");
        assert!(close(e.variance, 3_733_200.0 / 9_702.0), "{e:?}");
        // f0 = 57.142857, C = exp(1.96 · sqrt(ln(1 + 384.7866 / 3265.306))) = 1.923540...
        // = 119.7071 to 199.9166, widened to whole servers.
        let f0 = e.estimate - 90.0;
        let c = (Z95 * (1.0 + e.variance / (f0 * f0)).ln().sqrt()).exp();
        assert!(
            (90.0 + f0 / c - 119.7071).abs() < 0.001 && (90.0 + f0 * c - 199.9166).abs() < 0.001
        );
        assert_eq!((e.low, e.high), (119.0, 200.0), "{e:?}");
    }

    #[test]
    fn chapman_with_every_individual_in_both_captures_sees_everyone() {
        let e = chapman(10, 10, 10).expect("captures");
        assert!(close(e.estimate, 10.0) && close(e.low, 10.0) && close(e.high, 10.0));
        assert_eq!(chapman(0, 0, 0), None);
        assert_eq!(chapman(3, 4, 5), None, "more recaptures than captures");
    }

    #[test]
    fn chao2_matches_a_hand_computed_example() {
        // k = 4 samples; f1 = 10, f2 = 5, f3 = 3, f4 = 2: seen 20;
        // f0 = 3/4 · 10 · 9 / (2 · 6) = 5.625;
        // var = 5.625 + (9/16) · 10 · 361 / (4 · 36) + (9/16) · 100 · 81 · 5 / (4 · 1296)
        //     = 5.625 + 14.1015625 + 4.39453125 = 24.12109375.
        let e = chao2(4, &[0, 10, 5, 3, 2]).expect("captures");
        assert_eq!(e.seen, 20);
        assert!(close(e.estimate, 25.625), "{e:?}");
        assert!(close(e.variance, 24.121_093_75), "{e:?}");
        // C = exp(1.96 · sqrt(ln(1 + 24.12109375 / 31.640625))) = 4.372697...: 21.2864 to
        // 44.5964, in whole servers 21 to 45.
        assert_eq!((e.low, e.high), (21.0, 45.0), "{e:?}");
    }

    #[test]
    fn chao2_over_groups_widens_its_interval_with_the_delete_a_group_jackknife() {
        // Three groups; six servers named by group 0 only, two by groups 0 and 1, four by all:
        // f1 = 6, f2 = 2, f3 = 4, seen 12, f0 = 2/3 · 6 · 5 / (2 · 3) = 10/3; the model's
        // variance is 10/3 + (4/9) · 6 · 121 / 36 + (4/9) · 36 · 25 · 2 / 324 = 14.7654...
        let mut h = vec![0u64; 8];
        h[0b001] = 6;
        h[0b011] = 2;
        h[0b111] = 4;
        let model = chao2(3, &[0, 6, 2, 4]).expect("captures");
        assert!(close(
            model.variance,
            10.0 / 3.0 + 4.0 / 9.0 * 6.0 * 121.0 / 36.0 + 4.0 / 9.0 * 1800.0 / 324.0
        ));
        // Without group 0: f1 = 2, f2 = 4 → 6 + 1/2 · 2 / 10 = 6.1; without group 1: f1 = 8,
        // f2 = 4 → 12 + 2.8 = 14.8; without group 2: f1 = 6, f2 = 6 → 12 + 15/14.
        let thetas = [6.1, 14.8, 12.0 + 15.0 / 14.0];
        let mean = thetas.iter().sum::<f64>() / 3.0;
        let jackknife = 2.0 / 3.0 * thetas.iter().map(|t| (t - mean).powi(2)).sum::<f64>();
        assert!(jackknife > model.variance, "{jackknife} against {model:?}");
        let e = Estimator::Chao2 { groups: 3 }
            .estimate(&h)
            .expect("captures");
        assert_eq!(e.seen, 12);
        assert!(close(e.estimate, 12.0 + 10.0 / 3.0), "{e:?}");
        assert!(close(e.variance, jackknife), "{e:?}");
        assert_eq!(
            (e.low, e.high),
            whole_servers(log_normal_interval(12, 10.0 / 3.0, jackknife))
        );
        assert!(
            e.low <= model.low && e.high > model.high,
            "{e:?} against {model:?}"
        );
    }

    #[test]
    fn chao2_without_singletons_estimates_no_one_missing_but_keeps_an_interval() {
        // f0 = 0; 16 seen with 2 · 3 + 3 · 3 + 4 · 10 = 55 incidences: P = exp(-55/16) =
        // 0.032147, S / (1 - P) = 16.5314, 1.96 · sqrt(16 P / (1 - P)) = 1.4288: from 16 to
        // 17.96, in whole servers 16 to 18.
        let e = chao2(4, &[0, 0, 3, 3, 10]).expect("captures");
        assert!(close(e.estimate, 16.0), "{e:?}");
        assert_eq!((e.low, e.high), (16.0, 18.0), "{e:?}");
        // One singleton: the bias-corrected f0 is 0 as well.
        let e = chao2(4, &[0, 1, 3, 3, 10]).expect("captures");
        assert!(
            close(e.estimate, 17.0) && e.low == 17.0 && e.high > 17.0,
            "{e:?}"
        );
        assert_eq!(chao2(4, &[0, 0, 0, 0, 0]), None);
        assert_eq!(chao2(1, &[0, 5]), None);
    }

    #[test]
    fn the_estimators_read_capture_histories() {
        // Two groups: histories 01 (only group 0), 10 (only group 1), 11 (both).
        let histories = [0, 40, 30, 20];
        assert_eq!(
            Estimator::Chapman { groups: 2 }.estimate(&histories),
            chapman(60, 50, 20)
        );
        // Four groups: masks by number of groups: 1 → f1, 3 → f2, 15 → f4.
        let mut h = vec![0u64; 16];
        h[0b0001] = 6;
        h[0b0100] = 4;
        h[0b0011] = 5;
        h[0b0111] = 3;
        h[0b1111] = 2;
        // Chao2's estimate from the frequencies; its interval at least as wide as the model's
        // (the delete-a-group jackknife's variance may be larger).
        let grouped = Estimator::Chao2 { groups: 4 }
            .estimate(&h)
            .expect("captures");
        let model = chao2(4, &[0, 10, 5, 3, 2]).expect("captures");
        assert_eq!(
            (grouped.seen, grouped.estimate),
            (model.seen, model.estimate)
        );
        assert!(
            grouped.variance >= model.variance
                && grouped.low <= model.low
                && grouped.high >= model.high
        );
        // Chapman on four groups: even groups {0, 2} against odd {1, 3}.
        // 0001: even only; 0100: even only; 0011: both; 0111: both; 1111: both.
        assert_eq!(
            Estimator::Chapman { groups: 4 }.estimate(&h),
            chapman(20, 10, 10)
        );
    }

    #[test]
    fn a_reporter_group_is_a_stable_hash_of_its_domain() {
        // SHA-256("mastodon.social") starts with these bytes on every machine.
        let digest = Sha256::digest(b"mastodon.social");
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        assert_eq!(
            reporter_group("mastodon.social", 4),
            (u64::from_be_bytes(first) % 4) as u32
        );
        let groups: std::collections::BTreeSet<u32> = (0..64)
            .map(|i| reporter_group(&format!("s{i}.example"), 4))
            .collect();
        assert_eq!(groups.len(), 4, "64 names fall in every group");
    }
}
