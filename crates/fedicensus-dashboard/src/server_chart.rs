//! One server's history charts: registered users, monthly active users and local posts as its
//! successful visits reported them (the latest visit of each UTC day; the figures its page's
//! visits table lists), a chart each. Its page draws them; `/embed/servers/{host}/{figure}` and
//! `/api/v1/servers/{host}/charts/{figure}/{svg|png}` give them to other sites, as every chart
//! of the dashboard is given ([`crate::routes::embed`]).

use crate::charts::{ChartDef, ChartKind, ChartPage, RangeEnd};
use crate::error::{Error, Result};
use crate::routes::{embed, url_escape};
use crate::series::{metric_label, Granularity, Point, Series};
use fedicensus_core::Host;
use fedicensus_storage::{SeriesMetric, ServerHistory, StoredObservation};
use minijinja::value::Value;
use std::collections::BTreeMap;

/// How a visit reports one figure.
pub type Figure = fn(&StoredObservation) -> Option<u64>;

/// The figures a server's page charts, in its order.
pub const FIGURES: [(SeriesMetric, Figure); 3] = [
    (SeriesMetric::UsersTotal, |o| o.users_total),
    (SeriesMetric::UsersActiveMonth, |o| o.users_active_month),
    (SeriesMetric::LocalPosts, |o| o.local_posts),
];

/// The figure named in a URL (`users_total`, `users_active_month`, `local_posts`).
pub fn figure(name: &str) -> Result<SeriesMetric> {
    FIGURES
        .iter()
        .map(|(metric, _)| *metric)
        .find(|metric| metric.as_str() == name)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no server chart {name:?} (accepted: {})",
                FIGURES
                    .iter()
                    .map(|(m, _)| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// The chart of `metric` for the server of `h`, and its one series; `None` when no successful
/// visit reported that figure.
pub fn chart(h: &ServerHistory, metric: SeriesMetric) -> Option<(ChartDef, Vec<Series>)> {
    let (_, figure) = FIGURES.iter().find(|(m, _)| *m == metric)?;
    // Oldest first, so the last visit of a day wins.
    let mut by_day: BTreeMap<chrono::NaiveDate, u64> = BTreeMap::new();
    for o in h.observations.iter().filter(|o| o.outcome == "ok") {
        if let Some(v) = figure(o) {
            by_day.insert(o.observed_at.date_naive(), v);
        }
    }
    if by_day.is_empty() {
        return None;
    }
    let points = by_day
        .into_iter()
        .map(|(date, v)| Point {
            date,
            value: Some(v as f64),
            servers_reporting: 1,
            complete: true,
            as_of_day: date,
        })
        .collect();
    let label = metric_label(metric);
    let chart = ChartDef {
        id: format!("server-{}", metric.as_str()),
        title: format!("{label} of {}", h.host.as_str()),
        description: String::new(),
        metrics: vec![metric],
        kind: ChartKind::Line,
        from: RangeEnd::Start,
        to: RangeEnd::Latest,
        granularity: Granularity::Day,
        software: None,
        breakdown: None,
        annotations: false,
        page: ChartPage::Overview,
        order: 0,
    };
    let series = vec![Series {
        name: label.to_owned(),
        metric,
        granularity: Granularity::Day,
        points,
    }];
    Some((chart, series))
}

/// The embed snippets of a server's chart, as [`embed::embed_snippets`] gives a chart's.
pub fn embed_snippets(base: &str, host: &Host, metric: SeriesMetric, title: &str) -> Vec<Value> {
    let host = url_escape(host.as_str());
    embed::snippets(
        base,
        &format!("/embed/servers/{host}/{}", metric.as_str()),
        &format!("/api/v1/servers/{host}/charts/{}", metric.as_str()),
        "",
        title,
    )
}
