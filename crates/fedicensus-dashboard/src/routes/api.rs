//! The JSON/CSV API under `/api/v1`: series, servers, one server's history, annotations, runs,
//! and the OpenAPI document that describes them (`src/openapi.json`).

use super::charts::{annotation_json, csv_response};
use super::Params;
use crate::csv_out::{Cell, CsvDoc};
use crate::data::{self, ChartRequest, ServerFilter, ServerSort, SizeFilter};
use crate::error::{Error, Result};
use crate::series::{metric_label, parse_metric, Granularity};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use fedicensus_core::Host;
use fedicensus_storage::{Export, ExportFormat, ServerHistory, ServerSnapshot, ServerStatus};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The default range of the annotations listing: every date that can matter.
pub(crate) const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(1990, 1, 1).expect("a valid date");
pub(crate) const LATEST: NaiveDate = NaiveDate::from_ymd_opt(2999, 12, 31).expect("a valid date");

type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The OpenAPI document, hand-written next to this file.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// The range, granularity and view a series request asks for (dates default to the data's
/// range, the granularity to `granularity`), `from` on or before `to`.
async fn series_request(
    state: &AppState,
    params: &Params,
    granularity: Granularity,
    software: Option<String>,
) -> Result<ChartRequest> {
    let range = data::data_range(&state.storage).await?;
    let request = ChartRequest {
        from: params.date("from")?.unwrap_or(range.0),
        to: params.date("to")?.unwrap_or(range.1),
        granularity: params.granularity()?.unwrap_or(granularity),
        software,
        view: params.view()?,
    };
    if request.from > request.to {
        return Err(Error::bad(
            "from",
            format!("{} is after to={}", request.from, request.to),
            "from on or before to",
        ));
    }
    Ok(request)
}

/// `GET /api/v1/series/{metric}`.
pub async fn series(
    State(state): State<AppState>,
    Path(metric): Path<String>,
    query: QueryMap,
) -> Result<Response> {
    let params = Params::new(
        query,
        &["from", "to", "granularity", "software", "view", "format"],
    )?;
    let metric = parse_metric("metric", &metric)?;
    let format = params.format(&["json", "csv"])?;
    let software = params.software()?;
    let request = series_request(&state, &params, Granularity::Day, software).await?;
    let s = data::series(
        &state.storage,
        metric,
        &request,
        metric_label(metric).into(),
    )
    .await?;
    if format == "csv" {
        let mut doc = CsvDoc::new(&["date", "value", "servers_reporting", "complete"])?;
        for p in &s.points {
            doc.row(&[
                Cell::number(p.date),
                Cell::opt_number(p.value),
                Cell::number(p.servers_reporting),
                Cell::number(p.complete),
            ])?;
        }
        return Ok(csv_response(doc.finish()?, metric.as_str()));
    }
    Ok(Json(json!({
        "metric": metric.as_str(),
        "granularity": request.granularity,
        "from": request.from,
        "to": request.to,
        "software": request.software,
        "view": request.view,
        "methodology_version": fedicensus_storage::METHODOLOGY_VERSION,
        "points": s.points,
    }))
    .into_response())
}

/// What a split series route (`/api/v1/languages|countries|networks/{metric}`) is asked: the
/// metric (one of those split, else 400 saying it is not split `by` that), the format (`json` or
/// `csv`) and the series request (monthly by default, `software` as the metric's own series
/// counts it).
async fn split_request(
    state: &AppState,
    metric: &str,
    query: QueryMap,
    by: &str,
) -> Result<(fedicensus_storage::SeriesMetric, &'static str, ChartRequest)> {
    let params = Params::new(
        query,
        &["from", "to", "granularity", "software", "view", "format"],
    )?;
    let metric = parse_metric("metric", metric)?;
    if !fedicensus_storage::LANGUAGE_METRICS.contains(&metric) {
        let names: Vec<&str> = fedicensus_storage::LANGUAGE_METRICS
            .iter()
            .map(|m| m.as_str())
            .collect();
        return Err(Error::bad(
            "metric",
            format!("{} is not split by {by}", metric.as_str()),
            names.join(", "),
        ));
    }
    let format = params.format(&["json", "csv"])?;
    let software = params.software()?;
    let request = series_request(state, &params, Granularity::Month, software).await?;
    Ok((metric, format, request))
}

/// `GET /api/v1/languages/{metric}`: servers up, registered or monthly active users by the
/// primary language servers declare, every language with its points and the total they add up
/// to (the denominator of each share). CSV: one row per date and language.
pub async fn languages(
    State(state): State<AppState>,
    Path(metric): Path<String>,
    query: QueryMap,
) -> Result<Response> {
    let (metric, format, request) = split_request(&state, &metric, query, "language").await?;
    let split = data::languages(&state.storage, metric, &request).await?;
    let share = |value: Option<f64>, total: Option<f64>| match (value, total) {
        (Some(v), Some(t)) if t > 0.0 => Some(v / t),
        _ => None,
    };
    if format == "csv" {
        let mut doc = CsvDoc::new(&[
            "date",
            "language",
            "value",
            "servers_reporting",
            "total",
            "share",
        ])?;
        for (i, total) in split.total.iter().enumerate() {
            for line in &split.languages {
                let p = &line.points[i];
                doc.row(&[
                    Cell::number(p.date),
                    Cell::text(line.name()),
                    Cell::opt_number(p.value),
                    Cell::number(p.servers_reporting),
                    Cell::opt_number(total.value),
                    Cell::opt_number(share(p.value, total.value)),
                ])?;
            }
        }
        return Ok(csv_response(
            doc.finish()?,
            &format!("languages-{}", metric.as_str()),
        ));
    }
    let languages: Vec<Value> = split
        .languages
        .iter()
        .map(|line| {
            json!({
                "language": line.name(),
                "points": line.points.iter().zip(&split.total).map(|(p, t)| json!({
                    "date": p.date,
                    "value": p.value,
                    "servers_reporting": p.servers_reporting,
                    "share": share(p.value, t.value),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let total: Vec<Value> = split
        .total
        .iter()
        .map(
            |p| json!({"date": p.date, "value": p.value, "servers_reporting": p.servers_reporting}),
        )
        .collect();
    Ok(Json(json!({
        "metric": metric.as_str(),
        "granularity": request.granularity,
        "from": request.from,
        "to": request.to,
        "software": request.software,
        "view": request.view,
        "none_declared": fedicensus_storage::NONE_DECLARED,
        "methodology_version": fedicensus_storage::METHODOLOGY_VERSION,
        "total": total,
        "languages": languages,
    }))
    .into_response())
}

/// `GET /api/v1/countries/{metric}`: servers up, registered or monthly active users by the
/// country of each server's address, every country (ISO 3166-1 alpha-2, or "unknown") with its
/// points and share, the total they add up to, and per date the share of "unknown". CSV: one row
/// per date and country.
pub async fn countries(
    State(state): State<AppState>,
    Path(metric): Path<String>,
    query: QueryMap,
) -> Result<Response> {
    geo(state, metric, query, false).await
}

/// `GET /api/v1/networks/{metric}`: the same by network (autonomous system), with each
/// network's organisation and per date the share of the three largest networks.
pub async fn networks(
    State(state): State<AppState>,
    Path(metric): Path<String>,
    query: QueryMap,
) -> Result<Response> {
    geo(state, metric, query, true).await
}

async fn geo(state: AppState, metric: String, query: QueryMap, network: bool) -> Result<Response> {
    let by = if network { "network" } else { "country" };
    let (metric, format, request) = split_request(&state, &metric, query, by).await?;
    let split = data::geo(&state.storage, metric, &request, network).await?;
    let located = state.storage.has_locations().await?;
    let unknown_share = split.unknown_share();
    let share = |value: Option<f64>, total: Option<f64>| match (value, total) {
        (Some(v), Some(t)) if t > 0.0 => Some(v / t),
        _ => None,
    };
    let file = if network { "networks" } else { "countries" };
    if format == "csv" {
        let mut columns = vec!["date", by];
        if network {
            columns.push("organization");
        }
        columns.extend(["value", "servers_reporting", "total", "share"]);
        if network {
            columns.push("top_3_share");
        }
        let mut doc = CsvDoc::new(&columns)?;
        for (i, total) in split.total.iter().enumerate() {
            for line in &split.lines {
                let p = &line.points[i];
                let mut cells = vec![Cell::number(p.date), Cell::text(line.code())];
                if network {
                    cells.push(Cell::text(line.name.as_deref().unwrap_or("")));
                }
                cells.extend([
                    Cell::opt_number(p.value),
                    Cell::number(p.servers_reporting),
                    Cell::opt_number(total.value),
                    Cell::opt_number(share(p.value, total.value)),
                ]);
                if network {
                    cells.push(Cell::opt_number(split.top_share[i]));
                }
                doc.row(&cells)?;
            }
        }
        return Ok(csv_response(
            doc.finish()?,
            &format!("{file}-{}", metric.as_str()),
        ));
    }
    let lines: Vec<Value> = split
        .lines
        .iter()
        .map(|line| {
            let points: Vec<Value> = line
                .points
                .iter()
                .zip(&split.total)
                .map(|(p, t)| {
                    json!({
                        "date": p.date,
                        "value": p.value,
                        "servers_reporting": p.servers_reporting,
                        "share": share(p.value, t.value),
                    })
                })
                .collect();
            if network {
                json!({"asn": line.code(), "organization": line.name, "points": points})
            } else {
                json!({"country": line.code(), "points": points})
            }
        })
        .collect();
    let total: Vec<Value> = split
        .total
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut point = json!({
                "date": p.date,
                "value": p.value,
                "servers_reporting": p.servers_reporting,
                "unknown_share": unknown_share[i],
            });
            if network {
                point["top_3_share"] = json!(split.top_share[i]);
            }
            point
        })
        .collect();
    Ok(Json(json!({
        "metric": metric.as_str(),
        "granularity": request.granularity,
        "from": request.from,
        "to": request.to,
        "software": request.software,
        "view": request.view,
        "located": located,
        "unknown": fedicensus_storage::UNKNOWN,
        "methodology_version": fedicensus_storage::METHODOLOGY_VERSION,
        "total": total,
        file: lines,
    }))
    .into_response())
}

/// `GET /api/v1/coverage`: servers known and the estimated total of servers, with its 95 %
/// interval, from the overlap of peer lists (capture-recapture; "Coverage" in
/// docs/METHODOLOGY.md). CSV: one row per date.
pub async fn coverage(State(state): State<AppState>, query: QueryMap) -> Result<Response> {
    let params = Params::new(query, &["from", "to", "granularity", "format"])?;
    let format = params.format(&["json", "csv"])?;
    let request = series_request(&state, &params, Granularity::Week, None).await?;
    let series = data::coverage(&state.storage, &request).await?;
    let complete = |p: &fedicensus_storage::CoveragePoint| {
        crate::series::completeness(request.granularity, p.date, p.as_of).0
    };
    if format == "csv" {
        let mut doc = CsvDoc::new(&[
            "date",
            "servers_known",
            "servers_listed",
            "reporters",
            "estimate",
            "low",
            "high",
            "complete",
        ])?;
        for p in &series.points {
            let crawled = p.crawled;
            doc.row(&[
                Cell::number(p.date),
                Cell::opt_number(crawled.then_some(p.servers_known)),
                Cell::opt_number(crawled.then_some(p.servers_listed)),
                Cell::opt_number(crawled.then_some(p.reporters)),
                Cell::opt_number(p.estimate),
                Cell::opt_number(p.low),
                Cell::opt_number(p.high),
                Cell::number(complete(p)),
            ])?;
        }
        return Ok(csv_response(doc.finish()?, "coverage"));
    }
    let points: Vec<Value> = series
        .points
        .iter()
        .map(|p| {
            json!({
                "date": p.date,
                "servers_known": p.crawled.then_some(p.servers_known),
                "servers_listed": p.crawled.then_some(p.servers_listed),
                "reporters": p.crawled.then_some(p.reporters),
                "captured_by_groups": p.frequencies.iter().skip(1).collect::<Vec<_>>(),
                "estimate": p.estimate,
                "low": p.low,
                "high": p.high,
                "complete": complete(p),
            })
        })
        .collect();
    Ok(Json(json!({
        "granularity": request.granularity,
        "from": request.from,
        "to": request.to,
        "estimator": series.estimator.name(),
        "groups": series.estimator.groups(),
        "interval": 0.95,
        "methodology_version": fedicensus_storage::METHODOLOGY_VERSION,
        "points": points,
    }))
    .into_response())
}

/// `GET /api/v1/references`: other censuses' imported figures (each date's figures from the
/// latest import that gave them), the imports, and each census's definitions.
pub async fn references(State(state): State<AppState>, query: QueryMap) -> Result<Response> {
    let params = Params::new(query, &["from", "to"])?;
    let from = params.date("from")?.unwrap_or(EARLIEST);
    let to = params.date("to")?.unwrap_or(LATEST);
    if from > to {
        return Err(Error::bad(
            "from",
            format!("{from} is after to={to}"),
            "from on or before to",
        ));
    }
    let imports = state.storage.reference_imports().await?;
    let lines = state.storage.reference_lines(from, to).await?;
    Ok(Json(json!({
        "from": from,
        "to": to,
        "imports": imports.iter().map(crate::reference::import_json).collect::<Vec<_>>(),
        "lines": lines.iter().map(crate::reference::line_json).collect::<Vec<_>>(),
        "definitions": crate::reference::DEFINITIONS,
    }))
    .into_response())
}

/// The servers filter from query parameters (shared with the Servers page).
pub fn server_filter(params: &Params) -> Result<ServerFilter> {
    let status = match params.get("status") {
        None => None,
        Some("up") => Some("up".to_owned()),
        Some(s) if ServerStatus::from_name(s).is_some() => Some(s.to_owned()),
        Some(s) => {
            let names: Vec<&str> = ServerStatus::ALL.iter().map(|s| s.as_str()).collect();
            return Err(Error::bad(
                "status",
                format!("unknown status {s:?}"),
                format!("up, {}", names.join(", ")),
            ));
        }
    };
    let sort = params
        .get("sort")
        .map(ServerSort::parse)
        .transpose()?
        .unwrap_or(ServerSort::Users);
    let descending = match params.get("order") {
        None => sort != ServerSort::Domain,
        Some("desc") => true,
        Some("asc") => false,
        Some(o) => {
            return Err(Error::bad(
                "order",
                format!("unknown order {o:?}"),
                "asc, desc",
            ))
        }
    };
    let search = params.get("q").map(str::to_owned);
    if search.as_ref().is_some_and(|q| q.len() > 253) {
        return Err(Error::bad(
            "q",
            "longer than a domain name can be",
            "up to 253 characters",
        ));
    }
    Ok(ServerFilter {
        search,
        software: params.software()?,
        status,
        size: params.get("size").map(SizeFilter::parse).transpose()?,
        sort,
        descending,
        page: params.number("page", 1, 1_000_000)?,
        per_page: params.number("per_page", 50, data::MAX_PER_PAGE)?,
    })
}

/// Parameters the servers listing accepts.
pub const SERVER_PARAMS: &[&str] = &[
    "q", "software", "status", "size", "sort", "order", "page", "per_page", "date", "format",
];

/// A server as listed.
pub fn server_json(s: &ServerSnapshot) -> Value {
    json!({
        "domain": s.host.as_str(),
        "software": s.software,
        "software_version": s.software_version,
        "status": s.status.as_str(),
        "up": s.up,
        "users_total": s.users_total,
        "users_active_month": s.users_active_month,
        "local_posts": s.local_posts,
        "open_registrations": s.open_registrations,
        "first_seen": s.first_seen,
        "last_success_at": s.last_success_at,
    })
}

/// `GET /api/v1/servers`.
pub async fn servers(State(state): State<AppState>, query: QueryMap) -> Result<Response> {
    let params = Params::new(query, SERVER_PARAMS)?;
    let filter = server_filter(&params)?;
    let format = params.format(&["json", "csv"])?;
    let date = match params.date("date")? {
        Some(d) => d,
        None => data::data_range(&state.storage).await?.1,
    };
    let page = data::servers(&state.storage, date, &filter).await?;
    if format == "csv" {
        let mut doc = CsvDoc::new(&[
            "domain",
            "software",
            "software_version",
            "status",
            "up",
            "users_total",
            "users_active_month",
            "first_seen",
            "last_success_at",
        ])?;
        for s in &page.servers {
            doc.row(&[
                Cell::text(s.host.as_str()),
                Cell::opt_text(s.software.as_deref()),
                Cell::opt_text(s.software_version.as_deref()),
                Cell::text(s.status.as_str()),
                Cell::number(s.up),
                Cell::opt_number(s.users_total),
                Cell::opt_number(s.users_active_month),
                Cell::number(s.first_seen.to_rfc3339()),
                Cell::opt_number(s.last_success_at.map(|t| t.to_rfc3339())),
            ])?;
        }
        return Ok(csv_response(doc.finish()?, &format!("servers_{date}")));
    }
    Ok(Json(json!({
        "as_of": page.as_of,
        "total": page.total,
        "unlisted": page.unlisted,
        "page": filter.page,
        "per_page": filter.per_page.clamp(1, data::MAX_PER_PAGE),
        "servers": page.servers.iter().map(server_json).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// One listable server's history; servers that asked not to be listed are not found.
pub async fn history(state: &AppState, host: &str) -> Result<ServerHistory> {
    let host = Host::from_normalised(host.trim().to_lowercase());
    let not_found = || Error::NotFound(format!("no listed server {:?}", host.as_str()));
    let history = match state.storage.server_history(&host).await {
        Err(fedicensus_storage::Error::UnknownServer { .. }) => return Err(not_found()),
        other => other?,
    };
    if !history.listable {
        return Err(not_found());
    }
    Ok(history)
}

/// `GET /api/v1/servers/{host}`: every visit, with its figures, sources and quality flags.
pub async fn server(
    State(state): State<AppState>,
    Path(host): Path<String>,
) -> Result<Json<Value>> {
    let h = history(&state, &host).await?;
    Ok(Json(json!({
        "domain": h.host.as_str(),
        "status": h.status.as_str(),
        "first_seen": h.first_seen,
        "revealed_by": h.revealed_by,
        "moved_to": h.moved_to,
        "observations": h.observations.iter().map(|o| json!({
            "observed_at": o.observed_at,
            "outcome": o.outcome,
            "duration_ms": o.duration_ms,
            "software": o.software_family,
            "software_raw_name": o.software_raw_name,
            "software_version": o.software_version,
            "users_total": o.users_total,
            "users_active_month": o.users_active_month,
            "local_posts": o.local_posts,
            "crawl_run": o.crawl_run,
            "measurements": o.measurements.iter().map(|(m, s, v)| json!({"metric": m, "source": s, "value": v})).collect::<Vec<_>>(),
            "languages": o.languages.iter().map(|(l, s)| json!({"language": l, "source": s})).collect::<Vec<_>>(),
            "location": o.location,
            "quality_flags": o.quality_flags.iter().map(|(k, m, r)| json!({"kind": k, "metric": m, "reason": r})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "activity": h.activity.iter().map(|w| json!({
            "week_start": w.week_start,
            "statuses": w.statuses,
            "logins": w.logins,
            "registrations": w.registrations,
        })).collect::<Vec<_>>(),
        "aliases": h.aliases.iter().map(|a| json!({
            "alias": a.alias,
            "reason": a.reason,
            "first_seen": a.first_seen,
        })).collect::<Vec<_>>(),
        "siblings": h.siblings.iter().map(|s| json!({
            "domain": s.domain,
            "relation": if s.is_main { "main_domain" } else { "other_domain" },
            "first_seen": s.first_seen,
            "last_seen": s.last_seen,
        })).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/servers/{host}/history.csv`: one row per visit, every number with its source,
/// the quality flags: the same file as `fedicensus export --what server` (one definition, in
/// storage).
pub async fn server_csv(
    State(state): State<AppState>,
    Path(host): Path<String>,
) -> Result<Response> {
    let h = history(&state, &host).await?;
    let what = Export::ServerHistory(h.host);
    let mut body = Vec::new();
    state.storage.export_csv(&what, &mut body).await?;
    let body = String::from_utf8(body)
        .map_err(|e| Error::Internal(format!("a CSV export that is not UTF-8: {e}")))?;
    let name = what.file_name_as(ExportFormat::Csv);
    Ok(csv_response(body, name.trim_end_matches(".csv")))
}

/// `GET /api/v1/annotations?from=&to=`.
pub async fn annotations(State(state): State<AppState>, query: QueryMap) -> Result<Json<Value>> {
    let params = Params::new(query, &["from", "to"])?;
    let from = params.date("from")?.unwrap_or(EARLIEST);
    let to = params.date("to")?.unwrap_or(LATEST);
    let list = state.storage.annotations(from, to).await?;
    Ok(Json(json!({
        "annotations": list.iter().map(annotation_json).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/runs`: crawl runs, newest first, with their outcomes.
pub async fn runs(State(state): State<AppState>) -> Result<Json<Value>> {
    let mut runs = state.storage.runs().await?;
    runs.reverse();
    Ok(Json(json!({
        "runs": runs.iter().map(|r| json!({
            "id": r.id.0,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "crawler_version": r.crawler_version,
            "seeds": r.seeds.len(),
            "outcomes": r.outcomes,
            "inconclusive": r.outcomes.get("inconclusive").copied().unwrap_or(0),
            "health": r.health.map(|h| json!({
                "lag_p99_ms": h.lag_p99_ms,
                "lag_max_ms": h.lag_max_ms,
                "stalled_ms": h.stalled_ms,
                "cpu_permille": h.cpu_permille,
                "visit_limit_min": h.visit_limit_min,
                "visit_limit_max": h.visit_limit_max,
            })),
        })).collect::<Vec<_>>(),
    })))
}

/// How `/api/v1/blocks/most-blocked` and the Blocks page rank (`by`).
pub(crate) fn block_ranking(params: &Params) -> Result<fedicensus_storage::BlockRanking> {
    match params.get("by") {
        None | Some("servers") => Ok(fedicensus_storage::BlockRanking::Servers),
        Some("users") => Ok(fedicensus_storage::BlockRanking::Users),
        Some(other) => Err(Error::bad(
            "by",
            format!("{other:?} is not a ranking"),
            "servers | users",
        )),
    }
}

/// The most domains `/api/v1/blocks/most-blocked` lists.
pub const MAX_MOST_BLOCKED: usize = 1000;

/// `GET /api/v1/blocks/most-blocked`: the domains the most servers block now (their latest
/// block-list read lists them), by servers or by the blockers' users ("Block lists" in
/// docs/METHODOLOGY.md). CSV: one row per domain.
pub async fn most_blocked(State(state): State<AppState>, query: QueryMap) -> Result<Response> {
    let params = Params::new(query, &["by", "limit", "format"])?;
    let format = params.format(&["json", "csv"])?;
    let ranking = block_ranking(&params)?;
    let limit = params.number("limit", 100, MAX_MOST_BLOCKED)?;
    let list = state.storage.most_blocked(ranking, limit).await?;
    if format == "csv" {
        let mut doc = CsvDoc::new(&[
            "rank",
            "domain",
            "blockers",
            "suspending",
            "blockers_users",
            "known",
            "lists_read",
        ])?;
        for (i, d) in list.domains.iter().enumerate() {
            doc.row(&[
                Cell::number(i + 1),
                Cell::text(&d.domain),
                Cell::number(d.blockers),
                Cell::number(d.suspending),
                Cell::number(d.blockers_users),
                Cell::number(d.known),
                Cell::number(list.lists_read),
            ])?;
        }
        return Ok(csv_response(doc.finish()?, "most-blocked"));
    }
    Ok(Json(json!({
        "by": match ranking {
            fedicensus_storage::BlockRanking::Servers => "servers",
            fedicensus_storage::BlockRanking::Users => "users",
        },
        "lists_read": list.lists_read,
        "unmatched": list.unmatched,
        "methodology_version": fedicensus_storage::METHODOLOGY_VERSION,
        "domains": list.domains.iter().enumerate().map(|(i, d)| json!({
            "rank": i + 1,
            "domain": d.domain,
            "blockers": d.blockers,
            "suspending": d.suspending,
            "blockers_users": d.blockers_users,
            "known": d.known,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// `GET /api/v1/blocks/weekly`: blocks added and removed per week (Monday, UTC), and those
/// found at a blocker's first read. CSV: one row per week.
pub async fn blocks_weekly(State(state): State<AppState>, query: QueryMap) -> Result<Response> {
    let params = Params::new(query, &["format"])?;
    let format = params.format(&["json", "csv"])?;
    let weeks = state.storage.blocks_per_week().await?;
    if format == "csv" {
        let mut doc = CsvDoc::new(&["week_start", "added", "removed", "at_first_read"])?;
        for w in &weeks {
            doc.row(&[
                Cell::number(w.week_start),
                Cell::number(w.added),
                Cell::number(w.removed),
                Cell::number(w.at_first_read),
            ])?;
        }
        return Ok(csv_response(doc.finish()?, "blocks-weekly"));
    }
    Ok(Json(json!({
        "methodology_version": fedicensus_storage::METHODOLOGY_VERSION,
        "weeks": weeks.iter().map(|w| json!({
            "week_start": w.week_start,
            "added": w.added,
            "removed": w.removed,
            "at_first_read": w.at_first_read,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// Who blocks a listable server and whom it blocks, every interval (current ones flagged).
pub(crate) async fn server_block_edges(
    state: &AppState,
    host: &str,
) -> Result<(
    Vec<fedicensus_storage::BlockEdge>,
    Vec<fedicensus_storage::BlockEdge>,
)> {
    use fedicensus_storage::BlockFilter;
    let blocked_by = state
        .storage
        .block_edges(&BlockFilter::Blocked(host.to_owned()))
        .await?;
    let blocks = state
        .storage
        .block_edges(&BlockFilter::Blocker(host.to_owned()))
        .await?;
    Ok((blocked_by, blocks))
}

pub(crate) fn block_edge_json(e: &fedicensus_storage::BlockEdge) -> Value {
    json!({
        "blocker": e.blocker,
        "published": e.published,
        "digest": e.digest,
        "blocked": e.blocked,
        "severity": e.severity,
        "comment": e.comment,
        "source": e.source,
        "first_seen": e.first_seen,
        "last_seen": e.last_seen,
        "current": e.current,
    })
}

/// `GET /api/v1/servers/{host}/blocks`: who blocks the server and whom it blocks, as published
/// in block lists, each block with its first and last sighting. CSV: one row per block, `relation`
/// saying which.
pub async fn server_blocks(
    State(state): State<AppState>,
    Path(host): Path<String>,
    query: QueryMap,
) -> Result<Response> {
    let params = Params::new(query, &["format"])?;
    let format = params.format(&["json", "csv"])?;
    let h = history(&state, &host).await?;
    let (blocked_by, blocks) = server_block_edges(&state, h.host.as_str()).await?;
    if format == "csv" {
        let mut doc = CsvDoc::new(&[
            "relation",
            "blocker",
            "published",
            "digest",
            "blocked",
            "severity",
            "comment",
            "source",
            "first_seen",
            "last_seen",
            "current",
        ])?;
        for (relation, edges) in [("blocked_by", &blocked_by), ("blocks", &blocks)] {
            for e in edges {
                doc.row(&[
                    Cell::text(relation),
                    Cell::text(&e.blocker),
                    Cell::text(&e.published),
                    Cell::opt_text(e.digest.as_deref()),
                    Cell::opt_text(e.blocked.as_deref()),
                    Cell::text(&e.severity),
                    Cell::opt_text(e.comment.as_deref()),
                    Cell::text(&e.source),
                    Cell::number(e.first_seen.to_rfc3339()),
                    Cell::number(e.last_seen.to_rfc3339()),
                    Cell::number(e.current),
                ])?;
            }
        }
        return Ok(csv_response(
            doc.finish()?,
            &format!("server-{}-blocks", h.host.as_str()),
        ));
    }
    Ok(Json(json!({
        "domain": h.host.as_str(),
        "blocked_by": blocked_by.iter().map(block_edge_json).collect::<Vec<_>>(),
        "blocks": blocks.iter().map(block_edge_json).collect::<Vec<_>>(),
    }))
    .into_response())
}
