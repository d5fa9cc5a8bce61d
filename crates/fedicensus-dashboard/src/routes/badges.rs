//! Badges for operators' about pages: `GET /badges/servers/{host}/{metric}.svg` (a server's
//! registered users or monthly actives) and `GET /badges/software/{name}/{metric}.svg` (a
//! software's servers up, users or monthly actives), drawn by [`crate::badge`].
//!
//! A badge shows what the dashboard shows: a server's badge the latest figure its successful
//! visits reported (the figures its page charts), a software's the value of the series the
//! dashboard charts (cleaned, daily) on the last crawled day. A server that asked not to be
//! listed, or one never seen, has no badge (404): a badge names its server. A software with no
//! server known is not found either, so a misspelt name does not show a confident zero.

use super::api::history;
use super::{software_name, Params};
use crate::badge::{badge_svg, NO_DATA_COLOR, VALUE_COLOR};
use crate::data::{self, ChartRequest};
use crate::error::{Error, Result};
use crate::render::thousands;
use crate::series::{Granularity, SeriesMetric, View};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fedicensus_storage::StoredObservation;
use std::collections::HashMap;

type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

/// A badge: the file's stem, and the words after a figure of one and of several.
type Kind = (&'static str, &'static str, &'static str);

/// A server's badges.
pub const SERVER_BADGES: &[Kind] = &[
    ("users_total", "user", "users"),
    ("users_active_month", "monthly active", "monthly actives"),
];
/// A software's badges.
pub const SOFTWARE_BADGES: &[Kind] = &[
    ("servers_up", "server up", "servers up"),
    ("users_total", "user", "users"),
    ("users_active_month", "monthly active", "monthly actives"),
];

/// The words after `value`: singular for exactly one.
fn words(kind: &Kind, value: f64) -> &'static str {
    if value == 1.0 {
        kind.1
    } else {
        kind.2
    }
}

/// The badge `file` names among `accepted` (`{metric}.svg`), or 404 saying which exist.
fn badge_kind(file: &str, accepted: &'static [Kind]) -> Result<&'static Kind> {
    file.strip_suffix(".svg")
        .and_then(|stem| accepted.iter().find(|k| k.0 == stem))
        .ok_or_else(|| {
            let names: Vec<String> = accepted.iter().map(|k| format!("{}.svg", k.0)).collect();
            Error::NotFound(format!("no badge {file:?} (badges: {})", names.join(", ")))
        })
}

fn svg_response(svg: String) -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response()
}

fn draw(label: &str, kind: &Kind, value: Option<f64>, title: &str) -> Result<Response> {
    let (text, color) = match value {
        Some(v) => (format!("{} {}", thousands(v), words(kind, v)), VALUE_COLOR),
        None => ("no data".to_owned(), NO_DATA_COLOR),
    };
    let svg = badge_svg(label, &text, color, title)
        .map_err(|e| Error::Internal(format!("drawing a badge: {e}")))?;
    Ok(svg_response(svg))
}

/// `GET /badges/servers/{host}/{metric}.svg` with `metric` `users_total` or
/// `users_active_month`.
pub async fn server(
    State(state): State<AppState>,
    Path((host, file)): Path<(String, String)>,
    query: QueryMap,
) -> Result<Response> {
    Params::new(query, &[])?;
    let kind = badge_kind(&file, SERVER_BADGES)?;
    let figure: fn(&StoredObservation) -> Option<u64> = if kind.0 == "users_total" {
        |o| o.users_total
    } else {
        |o| o.users_active_month
    };
    let h = history(&state, &host).await?;
    let latest = h
        .observations
        .iter()
        .filter(|o| o.outcome == "ok")
        .filter_map(|o| figure(o).map(|v| (o.observed_at, v)))
        .max_by_key(|(at, _)| *at);
    let name = h.host.as_str();
    let title = match latest {
        Some((at, v)) => format!(
            "{name}: {} {} (fedicensus, reported {})",
            thousands(v as f64),
            words(kind, v as f64),
            at.format("%Y-%m-%d")
        ),
        None => format!("{name}: no {} reported (fedicensus)", kind.2),
    };
    draw(name, kind, latest.map(|(_, v)| v as f64), &title)
}

/// `GET /badges/software/{name}/{metric}.svg` with `metric` `servers_up`, `users_total` or
/// `users_active_month`.
pub async fn software(
    State(state): State<AppState>,
    Path((name, file)): Path<(String, String)>,
    query: QueryMap,
) -> Result<Response> {
    Params::new(query, &[])?;
    let kind = badge_kind(&file, SOFTWARE_BADGES)?;
    let name = software_name("name", &name)?;
    let metric = match kind.0 {
        "servers_up" => SeriesMetric::ServersUp,
        "users_total" => SeriesMetric::UsersTotal,
        _ => SeriesMetric::UsersActiveMonth,
    };
    let day = data::data_range(&state.storage).await?.1;
    let request = ChartRequest {
        from: day,
        to: day,
        granularity: Granularity::Day,
        software: Some(name.clone()),
        view: View::Cleaned,
    };
    let known = data::series(
        &state.storage,
        SeriesMetric::ServersKnown,
        &request,
        String::new(),
    )
    .await?;
    if !known
        .points
        .last()
        .and_then(|p| p.value)
        .is_some_and(|v| v > 0.0)
    {
        return Err(Error::NotFound(format!(
            "no server of software {name:?} known"
        )));
    }
    let s = data::series(&state.storage, metric, &request, String::new()).await?;
    let point = s.points.last();
    let value = point.and_then(|p| p.value);
    let reporting = point.map(|p| p.servers_reporting).unwrap_or(0);
    let title = match value {
        Some(v) => format!(
            "{name}: {} {} (fedicensus, as of {day}, {} reporting)",
            thousands(v),
            words(kind, v),
            if reporting == 1 {
                "1 server".to_owned()
            } else {
                format!("{} servers", thousands(reporting as f64))
            },
        ),
        None => format!("{name}: no {} reported (fedicensus, as of {day})", kind.2),
    };
    draw(&name, kind, value, &title)
}
