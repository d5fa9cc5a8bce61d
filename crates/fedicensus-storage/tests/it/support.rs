//! Observations to record: small builders in the crawler's vocabulary.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use fedicensus_core::{
    Host, Measurement, Metric, Observation, Outcome, Software, SoftwareReport, Source, WeekActivity,
};
use fedicensus_storage::{Granularity, Series, SeriesMetric, SeriesQuery, Storage};

/// Noon UTC on a day of a month of 2022.
pub fn day(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, month, day, 12, 0, 0)
        .single()
        .expect("a valid date")
}

pub fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2022, month, day).expect("a valid date")
}

pub fn host(name: &str) -> Host {
    Host::from_normalised(name)
}

/// A successful visit of a server running `family`, reporting `users` (NodeInfo) and `active`
/// (NodeInfo) when given.
pub fn ok(
    name: &str,
    at: DateTime<Utc>,
    family: Software,
    users: u64,
    active: Option<u64>,
) -> Observation {
    let mut o = Observation::failed(host(name), at, Outcome::Ok, 120);
    o.nodeinfo_version = Some("2.0".into());
    o.software = Some(SoftwareReport {
        raw_name: family.as_str().to_owned(),
        family,
        raw_version: "4.0.2".into(),
        version: Some("4.0.2".into()),
    });
    o.open_registrations = Some(true);
    o.measurements.push(Measurement {
        metric: Metric::UsersTotal,
        source: Source::NodeInfo,
        value: users,
    });
    if let Some(active) = active {
        o.measurements.push(Measurement {
            metric: Metric::UsersActiveMonth,
            source: Source::NodeInfo,
            value: active,
        });
    }
    o.measurements.push(Measurement {
        metric: Metric::LocalPosts,
        source: Source::NodeInfo,
        value: users * 10,
    });
    o
}

/// A visit that failed.
pub fn failed(name: &str, at: DateTime<Utc>) -> Observation {
    Observation::failed(host(name), at, Outcome::Timeout, 10_000)
}

/// A week of activity.
pub fn week(start: DateTime<Utc>, registrations: u64, logins: u64) -> WeekActivity {
    WeekActivity {
        week_start: start,
        statuses: 100,
        logins,
        registrations,
    }
}

/// Every day from `from` to `to` inclusive.
pub fn days(from: DateTime<Utc>, to: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> {
    let n = (to - from).num_days();
    (0..=n).map(move |i| from + Duration::days(i))
}

/// A daily series of `metric` between two November/December 2022 dates.
pub async fn series(
    s: &Storage,
    metric: SeriesMetric,
    from: (u32, u32),
    to: (u32, u32),
) -> anyhow::Result<Series> {
    Ok(s.series(&SeriesQuery::new(
        metric,
        Granularity::Day,
        date(from.0, from.1),
        date(to.0, to.1),
    ))
    .await?)
}

/// A series' values, point by point.
pub fn values(series: &Series) -> Vec<Option<f64>> {
    series.points.iter().map(|p| p.value).collect()
}
