//! Data access: what the pages and the API ask of storage, in the dashboard's terms.
//!
//! All numbers come from `fedicensus-storage`'s public query API (series, snapshots, histories,
//! runs, annotations); no SQL lives here. This module resolves a chart's defaults against the
//! dates the data covers, turns storage's series into the named [`Series`] the renderer draws,
//! and does the listing work (search, sort, pagination) over a snapshot. Keeping it apart from
//! the handlers keeps the handlers about HTTP, and the renderer about drawing.

use crate::charts::{Breakdown, ChartDef};
use crate::error::{Error, Result};
use crate::series::{completeness, metric_label, Granularity, Point, Series, SeriesMetric, View};
use chrono::{NaiveDate, Utc};
use fedicensus_core::Software;
use fedicensus_storage::{ServerSnapshot, Storage};
use std::collections::BTreeMap;

/// How many software families a breakdown shows before grouping the rest as "other".
pub const BREAKDOWN_FAMILIES: usize = 6;

/// A chart's range, granularity, software and view, after defaults and URL parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRequest {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub granularity: Granularity,
    pub software: Option<String>,
    pub view: View,
}

/// The first and last dates the census has data for: from its crawl runs, or the last year
/// when nothing was crawled yet.
pub async fn data_range(storage: &Storage) -> Result<(NaiveDate, NaiveDate)> {
    Ok(match crawl_range(storage).await? {
        Some(range) => range,
        None => {
            let today = Utc::now().date_naive();
            (today - chrono::Duration::days(365), today)
        }
    })
}

/// The title of the annotation `fedicensus demo` writes into its database: the mark of a census
/// crawled from the simulated fediverse.
pub const SIMULATED_MARKER: &str = "fedicensus demo: simulated data";

/// Whether the census was crawled from the simulated fediverse (it carries the demo's mark).
pub async fn is_simulated(storage: &Storage) -> Result<bool> {
    let notes = storage
        .annotations(
            NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(NaiveDate::MIN),
            NaiveDate::from_ymd_opt(2999, 12, 31).unwrap_or(NaiveDate::MAX),
        )
        .await?;
    Ok(notes.iter().any(|n| n.title == SIMULATED_MARKER))
}

/// The days of the first and the last crawl run (`fedicensus export`'s default range), if any.
pub async fn crawl_range(storage: &Storage) -> Result<Option<(NaiveDate, NaiveDate)>> {
    let runs = storage.runs().await?;
    let first = runs.iter().map(|r| r.started_at).min();
    let last = runs
        .iter()
        .map(|r| r.finished_at.unwrap_or(r.started_at))
        .max();
    Ok(first
        .zip(last)
        .map(|(f, l)| (f.date_naive(), l.date_naive())))
}

/// The software filter as storage understands it.
pub fn software_filter(name: Option<&str>) -> Option<Software> {
    name.map(Software::from_nodeinfo_name)
}

/// One metric as a named series.
pub async fn series(
    storage: &Storage,
    metric: SeriesMetric,
    request: &ChartRequest,
    name: String,
) -> Result<Series> {
    let query = fedicensus_storage::SeriesQuery {
        metric,
        granularity: request.granularity.to_storage(),
        from: request.from,
        to: request.to,
        software: software_filter(request.software.as_deref()),
        cleaned: request.view == View::Cleaned,
    };
    let computed = storage.series(&query).await?;
    Ok(Series {
        name,
        metric,
        granularity: request.granularity,
        points: computed
            .points
            .into_iter()
            .map(|p| {
                let (complete, as_of_day) = completeness(request.granularity, p.date, p.as_of);
                Point {
                    date: p.date,
                    value: p.value,
                    servers_reporting: p.servers_reporting,
                    complete,
                    as_of_day,
                }
            })
            .collect(),
    })
}

/// Every series a chart plots, as requested.
pub async fn chart_series(
    storage: &Storage,
    chart: &ChartDef,
    request: &ChartRequest,
) -> Result<Vec<Series>> {
    match chart.breakdown {
        None => {
            let mut out = Vec::with_capacity(chart.metrics.len());
            for metric in &chart.metrics {
                out.push(
                    series(storage, *metric, request, metric_label(*metric).to_owned()).await?,
                );
            }
            Ok(out)
        }
        Some(Breakdown::Software) => software_breakdown(storage, chart.metrics[0], request).await,
        Some(Breakdown::Version) => version_breakdown(storage, chart.metrics[0], request).await,
        Some(Breakdown::Language) => language_breakdown(storage, chart.metrics[0], request).await,
        Some(Breakdown::Country) => geo_breakdown(storage, chart.metrics[0], request, false).await,
        Some(Breakdown::Network) => geo_breakdown(storage, chart.metrics[0], request, true).await,
        Some(Breakdown::Coverage) => coverage_breakdown(storage, request).await,
        Some(Breakdown::Reference) => reference_breakdown(storage, chart.metrics[0], request).await,
    }
}

/// The metrics a reference chart compares with other censuses.
pub const REFERENCE_METRICS: [SeriesMetric; 3] = [
    SeriesMetric::ServersUp,
    SeriesMetric::UsersTotal,
    SeriesMetric::UsersActiveMonth,
];

/// The name of fedicensus's own series on a reference chart.
pub const OWN_SERIES: &str = "fedicensus";

/// The figure of another census's line that stands beside `metric`.
fn reference_figure(metric: SeriesMetric, v: &fedicensus_storage::ReferenceValue) -> Option<u64> {
    match metric {
        SeriesMetric::ServersUp => v.servers,
        SeriesMetric::UsersTotal => v.users,
        SeriesMetric::UsersActiveMonth => v.active_month,
        _ => None,
    }
}

/// fedicensus's series, then one per other census that published the same figure for the
/// chart's scope (its software, or every software): a period's point is the source's last figure
/// dated in that period (figures are stocks), with that source's own server count for the date
/// as its `servers_reporting` where it published one. Periods it published nothing for have no
/// value.
async fn reference_breakdown(
    storage: &Storage,
    metric: SeriesMetric,
    request: &ChartRequest,
) -> Result<Vec<Series>> {
    let own = series(storage, metric, request, OWN_SERIES.to_owned()).await?;
    let scope = request
        .software
        .as_deref()
        .map(|s| Software::from_nodeinfo_name(s).as_str().to_owned())
        .unwrap_or_else(|| fedicensus_core::reference::SCOPE_ALL.to_owned());
    let lines = storage.reference_lines(request.from, request.to).await?;
    let granularity = request.granularity;
    let mut out = vec![own];
    for line in lines.iter().filter(|l| l.scope == scope) {
        let points: Vec<Point> = out[0]
            .points
            .iter()
            .map(|p| {
                let end = granularity.next(p.date);
                let last = line.values.iter().rev().find(|v| {
                    v.date >= p.date && v.date < end && reference_figure(metric, v).is_some()
                });
                Point {
                    date: p.date,
                    value: last
                        .and_then(|v| reference_figure(metric, v))
                        .map(|v| v as f64),
                    servers_reporting: last.and_then(|v| v.servers).unwrap_or(0),
                    complete: true,
                    as_of_day: last.map_or(p.as_of_day, |v| v.date),
                }
            })
            .collect();
        if points.iter().any(|p| p.value.is_some()) {
            out.push(Series {
                name: line.source.title().to_owned(),
                metric,
                granularity,
                points,
            });
        }
    }
    Ok(out)
}

/// How many languages a language breakdown shows before grouping the rest.
pub const BREAKDOWN_LANGUAGES: usize = 6;

/// Storage's points in the dashboard's terms (completeness from the point's `as_of`).
fn points_of(granularity: Granularity, points: &[fedicensus_storage::SeriesPoint]) -> Vec<Point> {
    points
        .iter()
        .map(|p| {
            let (complete, as_of_day) = completeness(granularity, p.date, p.as_of);
            Point {
                date: p.date,
                value: p.value,
                servers_reporting: p.servers_reporting,
                complete,
                as_of_day,
            }
        })
        .collect()
}

/// The coverage series as storage computes it: servers known and the estimated total with its
/// 95 % interval.
pub async fn coverage(
    storage: &Storage,
    request: &ChartRequest,
) -> Result<fedicensus_storage::CoverageSeries> {
    let query = fedicensus_storage::CoverageQuery {
        granularity: request.granularity.to_storage(),
        from: request.from,
        to: request.to,
    };
    Ok(storage.coverage(&query).await?)
}

/// The names of the coverage chart's series: its lines, then the two edges of its band.
pub const COVERAGE_SERIES: [&str; 4] = [
    "servers known",
    "estimated total",
    "estimate, 95 % low",
    "estimate, 95 % high",
];

/// Servers known, the estimated total, and the low and high ends of its 95 % interval, as four
/// series (a band chart draws the last two as the band around the second). Each point rests on
/// the servers known at its date.
async fn coverage_breakdown(storage: &Storage, request: &ChartRequest) -> Result<Vec<Series>> {
    let computed = coverage(storage, request).await?;
    let granularity = request.granularity;
    let line = |name: &str, value: &dyn Fn(&fedicensus_storage::CoveragePoint) -> Option<f64>| {
        Series {
            name: name.to_owned(),
            metric: SeriesMetric::ServersKnown,
            granularity,
            points: computed
                .points
                .iter()
                .map(|p| {
                    let (complete, as_of_day) = completeness(granularity, p.date, p.as_of);
                    // Not crawled, or no server known yet: no value, never zero.
                    let known = p.crawled && p.servers_known > 0;
                    Point {
                        date: p.date,
                        value: if known { value(p) } else { None },
                        servers_reporting: p.servers_known,
                        complete,
                        as_of_day,
                    }
                })
                .collect(),
        }
    };
    Ok(vec![
        line(COVERAGE_SERIES[0], &|p| Some(p.servers_known as f64)),
        line(COVERAGE_SERIES[1], &|p| p.estimate),
        line(COVERAGE_SERIES[2], &|p| p.low),
        line(COVERAGE_SERIES[3], &|p| p.high),
    ])
}

/// A metric split by declared language, as storage computes it (every language; every software,
/// or the one the request names).
pub async fn languages(
    storage: &Storage,
    metric: SeriesMetric,
    request: &ChartRequest,
) -> Result<fedicensus_storage::LanguageSeries> {
    let query = fedicensus_storage::SeriesQuery {
        metric,
        granularity: request.granularity.to_storage(),
        from: request.from,
        to: request.to,
        software: software_filter(request.software.as_deref()),
        cleaned: request.view == View::Cleaned,
    };
    Ok(storage.language_series(&query).await?)
}

/// One series per large declared language (by the metric at the end of the range), then the
/// rest as "other languages" and the servers that declared none as "none declared": the stack
/// adds up to the metric over every server.
async fn language_breakdown(
    storage: &Storage,
    metric: SeriesMetric,
    request: &ChartRequest,
) -> Result<Vec<Series>> {
    let split = languages(storage, metric, request).await?;
    let named: Vec<(String, &[fedicensus_storage::SeriesPoint])> = split
        .languages
        .iter()
        .filter(|l| l.language.is_some())
        .map(|l| (l.name().to_owned(), l.points.as_slice()))
        .collect();
    let none = split
        .languages
        .iter()
        .find(|l| l.language.is_none())
        .map(|l| (l.name().to_owned(), l.points.as_slice()));
    Ok(split_lines(
        metric,
        request.granularity,
        &named,
        "other languages",
        none,
        &split.total,
    ))
}

/// A split's chart lines: the first [`BREAKDOWN_LANGUAGES`] of `named` (largest first) as they
/// are, the rest summed into one line called `other`, then `unnamed` (the servers of no key:
/// "none declared", "unknown") under its own name; one empty "all" line when nothing was crawled
/// in the range, so the chart says so.
fn split_lines(
    metric: SeriesMetric,
    granularity: Granularity,
    named: &[(String, &[fedicensus_storage::SeriesPoint])],
    other: &str,
    unnamed: Option<(String, &[fedicensus_storage::SeriesPoint])>,
    total: &[fedicensus_storage::SeriesPoint],
) -> Vec<Series> {
    let mut out: Vec<Series> = named
        .iter()
        .take(BREAKDOWN_LANGUAGES)
        .map(|(name, points)| Series {
            name: name.clone(),
            metric,
            granularity,
            points: points_of(granularity, points),
        })
        .collect();
    let rest = &named[named.len().min(BREAKDOWN_LANGUAGES)..];
    if !rest.is_empty() {
        let mut points = points_of(granularity, total);
        for (i, p) in points.iter_mut().enumerate() {
            let lines = rest.iter().filter_map(|(_, points)| points.get(i));
            let (value, servers) = lines.fold((0.0, 0), |(v, s), q| {
                (v + q.value.unwrap_or(0.0), s + q.servers_reporting)
            });
            p.value = p.value.map(|_| value);
            p.servers_reporting = servers;
        }
        out.push(Series {
            name: other.to_owned(),
            metric,
            granularity,
            points,
        });
    }
    if let Some((name, points)) = unnamed {
        out.push(Series {
            name,
            metric,
            granularity,
            points: points_of(granularity, points),
        });
    }
    if out.is_empty() {
        out.push(Series {
            name: "all".into(),
            metric,
            granularity,
            points: points_of(granularity, total),
        });
    }
    out
}

/// A metric split by the country (`network` false) or the network (true) of each server's
/// address, as storage computes it (every software, or the one the request names).
pub async fn geo(
    storage: &Storage,
    metric: SeriesMetric,
    request: &ChartRequest,
    network: bool,
) -> Result<fedicensus_storage::GeoSeries> {
    let query = fedicensus_storage::SeriesQuery {
        metric,
        granularity: request.granularity.to_storage(),
        from: request.from,
        to: request.to,
        software: software_filter(request.software.as_deref()),
        cleaned: request.view == View::Cleaned,
    };
    Ok(if network {
        storage.network_series(&query).await?
    } else {
        storage.country_series(&query).await?
    })
}

/// A network's name in charts and tables: `AS24940 Hetzner Online GmbH`.
pub fn network_label(line: &fedicensus_storage::GeoLine) -> String {
    match (&line.key, &line.name) {
        (Some(asn), Some(name)) => format!("AS{asn} {name}"),
        (Some(asn), None) => format!("AS{asn}"),
        (None, _) => fedicensus_storage::UNKNOWN.to_owned(),
    }
}

/// One series per large country (or network), then the rest as "other countries" ("other
/// networks") and the servers of no known country as "unknown": the stack adds up to the
/// metric over every server.
async fn geo_breakdown(
    storage: &Storage,
    metric: SeriesMetric,
    request: &ChartRequest,
    network: bool,
) -> Result<Vec<Series>> {
    let split = geo(storage, metric, request, network).await?;
    let name = |l: &fedicensus_storage::GeoLine| {
        if network {
            network_label(l)
        } else {
            l.code().to_owned()
        }
    };
    let named: Vec<(String, &[fedicensus_storage::SeriesPoint])> = split
        .lines
        .iter()
        .filter(|l| l.key.is_some())
        .map(|l| (name(l), l.points.as_slice()))
        .collect();
    let unknown = split
        .lines
        .iter()
        .find(|l| l.key.is_none())
        .map(|l| (fedicensus_storage::UNKNOWN.to_owned(), l.points.as_slice()));
    let other = if network {
        "other networks"
    } else {
        "other countries"
    };
    Ok(split_lines(
        metric,
        request.granularity,
        &named,
        other,
        unknown,
        &split.total,
    ))
}

/// How many versions a version breakdown shows before grouping the rest.
pub const BREAKDOWN_VERSIONS: usize = 6;

/// A version as the breakdown groups it: `major.minor` of the normalised version (`4.0.2` is
/// `4.0`), a date version as it is, `None` when the server's version string has no version.
fn version_group(version: Option<&str>) -> Option<String> {
    let v = version?;
    let mut parts = v.split('.');
    Some(match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        _ => v.to_owned(),
    })
}

/// One series per version of the request's software among its servers up, taken from the
/// servers' state as of each point (a snapshot per point, so a month chart of a year reads 12):
/// the most common versions at the end of the range, then "other versions" and "version
/// unknown" (servers whose version string has no version). The stack adds up to the software's
/// `servers_up` series, whose denominators every slice carries.
async fn version_breakdown(
    storage: &Storage,
    metric: SeriesMetric,
    request: &ChartRequest,
) -> Result<Vec<Series>> {
    let Some(family) = request.software.clone() else {
        return Err(Error::bad(
            "software",
            "a versions chart counts the versions of one software",
            "a software family such as mastodon",
        ));
    };
    let total = series(storage, metric, request, family.clone()).await?;
    // Servers up per version group (None: no version), one map per point.
    type Counts = BTreeMap<Option<String>, u64>;
    let mut counts: Vec<Counts> = Vec::with_capacity(total.points.len());
    for point in &total.points {
        let mut at = BTreeMap::new();
        if point.value.is_some() {
            for s in storage.snapshot(point.as_of_day).await? {
                if s.up && s.software.as_deref() == Some(family.as_str()) {
                    *at.entry(version_group(s.software_version.as_deref()))
                        .or_default() += 1;
                }
            }
        }
        counts.push(at);
    }
    let mut latest: Vec<(String, u64)> = counts
        .iter()
        .rev()
        .find(|c| !c.is_empty())
        .map(|c| {
            c.iter()
                .filter_map(|(v, n)| v.clone().map(|v| (v, *n)))
                .collect()
        })
        .unwrap_or_default();
    latest.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    latest.truncate(BREAKDOWN_VERSIONS);
    let shown: Vec<String> = latest.into_iter().map(|(v, _)| v).collect();
    let slice = |name: String, count: &dyn Fn(&Counts) -> u64| Series {
        name,
        metric,
        granularity: total.granularity,
        points: total
            .points
            .iter()
            .zip(&counts)
            .map(|(p, c)| Point {
                value: p.value.map(|_| count(c) as f64),
                ..*p
            })
            .collect(),
    };
    let mut out: Vec<Series> = shown
        .iter()
        .map(|v| {
            slice(format!("{family} {v}"), &|c| {
                c.get(&Some(v.clone())).copied().unwrap_or(0)
            })
        })
        .collect();
    let other = slice("other versions".into(), &|c| {
        c.iter()
            .filter(|(v, _)| v.as_ref().is_some_and(|v| !shown.contains(v)))
            .map(|(_, n)| n)
            .sum()
    });
    let unknown = slice("version unknown".into(), &|c| {
        c.get(&None).copied().unwrap_or(0)
    });
    for extra in [other, unknown] {
        if extra.points.iter().any(|p| p.value.unwrap_or(0.0) > 0.0) {
            out.push(extra);
        }
    }
    if out.is_empty() {
        out.push(total);
    }
    Ok(out)
}

/// One series per large software family (by servers at the end of the range), and the rest as
/// "other" (the total minus the families shown), so the stack adds up to the total.
async fn software_breakdown(
    storage: &Storage,
    metric: SeriesMetric,
    request: &ChartRequest,
) -> Result<Vec<Series>> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for s in storage.snapshot(request.to).await? {
        if let Some(family) = s.software {
            *counts.entry(family).or_default() += 1;
        }
    }
    let mut families: Vec<(String, u64)> = counts.into_iter().collect();
    families.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    families.truncate(BREAKDOWN_FAMILIES);
    let all = ChartRequest {
        software: None,
        ..request.clone()
    };
    let total = series(storage, metric, &all, "all".into()).await?;
    let mut out = Vec::new();
    for (family, _) in &families {
        let one = ChartRequest {
            software: Some(family.clone()),
            ..request.clone()
        };
        out.push(series(storage, metric, &one, family.clone()).await?);
    }
    let mut other = total.clone();
    other.name = "other".into();
    for (i, point) in other.points.iter_mut().enumerate() {
        let shown: f64 = out
            .iter()
            .filter_map(|s| s.points.get(i).and_then(|p| p.value))
            .sum();
        let shown_reporting: u64 = out
            .iter()
            .filter_map(|s| s.points.get(i).map(|p| p.servers_reporting))
            .sum();
        point.value = point.value.map(|v| (v - shown).max(0.0));
        point.servers_reporting = point.servers_reporting.saturating_sub(shown_reporting);
    }
    if other.points.iter().any(|p| p.value.unwrap_or(0.0) > 0.0) || out.is_empty() {
        out.push(other);
    }
    Ok(out)
}

/// A headline number with its denominator.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Headline {
    pub metric: &'static str,
    pub label: &'static str,
    pub value: Option<f64>,
    pub servers_reporting: u64,
}

/// The overview's numbers as of `date`.
pub async fn headlines(storage: &Storage, date: NaiveDate) -> Result<Vec<Headline>> {
    let request = ChartRequest {
        from: date,
        to: date,
        granularity: Granularity::Day,
        software: None,
        view: View::Cleaned,
    };
    let mut out = Vec::new();
    // Mastodon first: most of the fediverse, and the servers whose jump in November 2022 the
    // census exists to show; then every software.
    let mastodon = ChartRequest {
        software: Some("mastodon".to_owned()),
        ..request.clone()
    };
    let s = series(storage, SeriesMetric::ServersUp, &mastodon, String::new()).await?;
    let point = s.points.last();
    out.push(Headline {
        metric: SeriesMetric::ServersUp.as_str(),
        label: "Mastodon servers up",
        value: point.and_then(|p| p.value),
        servers_reporting: point.map(|p| p.servers_reporting).unwrap_or(0),
    });
    for metric in [
        SeriesMetric::ServersKnown,
        SeriesMetric::ServersUp,
        SeriesMetric::UsersTotal,
        SeriesMetric::UsersActiveMonth,
    ] {
        let s = series(storage, metric, &request, String::new()).await?;
        let point = s.points.last();
        out.push(Headline {
            metric: metric.as_str(),
            label: metric_label(metric),
            value: point.and_then(|p| p.value),
            servers_reporting: point.map(|p| p.servers_reporting).unwrap_or(0),
        });
    }
    Ok(out)
}

/// How the servers listing is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSort {
    Domain,
    Users,
    Active,
    FirstSeen,
    LastSeen,
}

impl ServerSort {
    pub const ACCEPTED: &'static str = "domain, users, active, first_seen, last_seen";

    pub fn parse(name: &str) -> Result<ServerSort> {
        Ok(match name {
            "domain" => ServerSort::Domain,
            "users" => ServerSort::Users,
            "active" => ServerSort::Active,
            "first_seen" => ServerSort::FirstSeen,
            "last_seen" => ServerSort::LastSeen,
            other => {
                return Err(Error::bad(
                    "sort",
                    format!("unknown sort {other:?}"),
                    ServerSort::ACCEPTED,
                ))
            }
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            ServerSort::Domain => "domain",
            ServerSort::Users => "users",
            ServerSort::Active => "active",
            ServerSort::FirstSeen => "first_seen",
            ServerSort::LastSeen => "last_seen",
        }
    }
}

/// What the servers listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFilter {
    /// Part of the domain, case-insensitive.
    pub search: Option<String>,
    pub software: Option<String>,
    /// A status name (`alive`, `dead`, ...) or `up`.
    pub status: Option<String>,
    /// Registered users as of the date: a band, or "not reported".
    pub size: Option<SizeFilter>,
    pub sort: ServerSort,
    pub descending: bool,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
}

/// A size filter on registered users (`users_total` as of the date), in the URL as `size=`:
/// `unknown` (no figure reported), `N` (exactly N), `N-M` (N to M, both included) or `N+`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeFilter {
    /// Servers that report no user count.
    Unknown,
    /// Servers reporting from `min` to `max` users, both included (`max` None: no upper bound).
    Users { min: u64, max: Option<u64> },
}

impl SizeFilter {
    pub const ACCEPTED: &'static str =
        "unknown, a number of users N, a range N-M (both included), or N+ or N- (N or more)";

    /// The bands the Servers page offers (any other range works in the URL).
    pub const BANDS: &'static [&'static str] = &[
        "1",
        "2-10",
        "11-100",
        "101-1000",
        "1001-10000",
        "10001+",
        "unknown",
    ];

    pub fn parse(value: &str) -> Result<SizeFilter> {
        let bad = || {
            Error::bad(
                "size",
                format!("{value:?} is not a size"),
                SizeFilter::ACCEPTED,
            )
        };
        let number = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
        // A `+` typed into a URL arrives as a space (form encoding), so `200+` may read "200 ".
        let value = value.trim_start();
        let open_ended = value.ends_with([' ', '+', '-']);
        let value = value.trim_end_matches([' ', '+', '-']);
        if value == "unknown" && !open_ended {
            return Ok(SizeFilter::Unknown);
        }
        let (min, max) = if open_ended {
            (number(value)?, None)
        } else if let Some((min, max)) = value.split_once('-') {
            (number(min)?, Some(number(max)?))
        } else {
            let n = number(value)?;
            (n, Some(n))
        };
        if max.is_some_and(|max| max < min) {
            return Err(Error::bad(
                "size",
                format!("{value:?} is a range backwards"),
                SizeFilter::ACCEPTED,
            ));
        }
        Ok(SizeFilter::Users { min, max })
    }

    /// The filter as it is written in a URL.
    pub fn as_param(&self) -> String {
        match self {
            SizeFilter::Unknown => "unknown".into(),
            SizeFilter::Users { min, max: None } => format!("{min}+"),
            SizeFilter::Users {
                min,
                max: Some(max),
            } if min == max => min.to_string(),
            SizeFilter::Users {
                min,
                max: Some(max),
            } => format!("{min}-{max}"),
        }
    }

    pub fn matches(&self, users_total: Option<u64>) -> bool {
        match (self, users_total) {
            (SizeFilter::Unknown, users) => users.is_none(),
            (SizeFilter::Users { .. }, None) => false,
            (SizeFilter::Users { min, max }, Some(n)) => n >= *min && max.is_none_or(|m| n <= m),
        }
    }
}

/// The largest page of servers one request may ask for.
pub const MAX_PER_PAGE: usize = 500;

/// One page of servers.
#[derive(Debug, Clone)]
pub struct ServerPage {
    pub as_of: NaiveDate,
    /// Listable servers matching the filter (on every page).
    pub total: usize,
    /// Servers counted but not listed (private, noindex, opted out) that matched the filter.
    pub unlisted: usize,
    pub servers: Vec<ServerSnapshot>,
}

/// A page of the servers known as of `date`, never naming those that asked not to be listed.
pub async fn servers(
    storage: &Storage,
    date: NaiveDate,
    filter: &ServerFilter,
) -> Result<ServerPage> {
    let search = filter.search.as_deref().map(str::to_lowercase);
    let software = filter.software.as_deref().map(str::to_lowercase);
    let mut matching: Vec<ServerSnapshot> = storage
        .snapshot(date)
        .await?
        .into_iter()
        .filter(|s| {
            search
                .as_deref()
                .is_none_or(|q| s.host.as_str().contains(q))
                && software
                    .as_deref()
                    .is_none_or(|w| s.software.as_deref() == Some(w))
                && filter.status.as_deref().is_none_or(|st| {
                    if st == "up" {
                        s.up
                    } else {
                        s.status.as_str() == st
                    }
                })
                && filter.size.is_none_or(|size| size.matches(s.users_total))
        })
        .collect();
    let before = matching.len();
    matching.retain(|s| s.listable);
    let unlisted = before - matching.len();
    matching.sort_by(|a, b| {
        let order = match filter.sort {
            ServerSort::Domain => a.host.as_str().cmp(b.host.as_str()),
            ServerSort::Users => a.users_total.cmp(&b.users_total),
            ServerSort::Active => a.users_active_month.cmp(&b.users_active_month),
            ServerSort::FirstSeen => a.first_seen.cmp(&b.first_seen),
            ServerSort::LastSeen => a.last_success_at.cmp(&b.last_success_at),
        };
        let order = if filter.descending {
            order.reverse()
        } else {
            order
        };
        order.then_with(|| a.host.as_str().cmp(b.host.as_str()))
    });
    let total = matching.len();
    let per_page = filter.per_page.clamp(1, MAX_PER_PAGE);
    let servers = matching
        .into_iter()
        .skip((filter.page.max(1) - 1) * per_page)
        .take(per_page)
        .collect();
    Ok(ServerPage {
        as_of: date,
        total,
        unlisted,
        servers,
    })
}
