//! Operations endpoints: `/healthz` for load balancers and `/metrics` in Prometheus' text format
//! (requests and latencies by route, database size, the last crawl, crawl counters).

use crate::error::{Error, Result};
use crate::health::Health;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

/// `GET /healthz`: 200 when the latest database check (made once a second by its own task,
/// [`crate::health`]) got an answer, 503 otherwise; it never waits for a pooled connection.
pub async fn healthz(State(state): State<AppState>) -> Response {
    state.start_health_checks();
    match state.health.status().await {
        Health::Ok { checked_ago } => Json(json!({
            "status": "ok",
            "checked_ms_ago": u64::try_from(checked_ago.as_millis()).unwrap_or(u64::MAX),
        }))
        .into_response(),
        unhealthy => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "error": unhealthy.error() })),
        )
            .into_response(),
    }
}

fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Result<Response> {
    let mut out = String::new();
    // Writing to a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(
        out,
        "# HELP fedicensus_http_requests_total HTTP requests served, by route pattern and status."
    );
    let _ = writeln!(out, "# TYPE fedicensus_http_requests_total counter");
    let requests = state.metrics.snapshot();
    for (route, status, count, _) in &requests {
        let _ = writeln!(
            out,
            "fedicensus_http_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
            label(route)
        );
    }
    let _ = writeln!(
        out,
        "# HELP fedicensus_http_request_duration_seconds Time to answer, by route pattern."
    );
    let _ = writeln!(
        out,
        "# TYPE fedicensus_http_request_duration_seconds summary"
    );
    let mut by_route: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    for (route, _, count, secs) in &requests {
        let e = by_route.entry(route.as_str()).or_default();
        e.0 += count;
        e.1 += secs;
    }
    for (route, (count, secs)) in by_route {
        let _ = writeln!(
            out,
            "fedicensus_http_request_duration_seconds_sum{{route=\"{}\"}} {secs:.6}",
            label(route)
        );
        let _ = writeln!(
            out,
            "fedicensus_http_request_duration_seconds_count{{route=\"{}\"}} {count}",
            label(route)
        );
    }
    if let Some(size) = state.config.db_size.as_ref().and_then(|f| f()) {
        let _ = writeln!(
            out,
            "# HELP fedicensus_database_size_bytes Size of the database file."
        );
        let _ = writeln!(out, "# TYPE fedicensus_database_size_bytes gauge");
        let _ = writeln!(out, "fedicensus_database_size_bytes {size}");
    }
    let _ = writeln!(
        out,
        "# HELP fedicensus_http_cache_total Cacheable requests by how they were answered (hit, miss, not_modified)."
    );
    let _ = writeln!(out, "# TYPE fedicensus_http_cache_total counter");
    let counters = &state.cache.counters;
    for (kind, n) in [
        ("hit", &counters.hits),
        ("miss", &counters.misses),
        ("not_modified", &counters.not_modified),
    ] {
        let _ = writeln!(
            out,
            "fedicensus_http_cache_total{{result=\"{kind}\"}} {}",
            n.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
    let runs = state.storage.runs().await.map_err(Error::from)?;
    let _ = writeln!(
        out,
        "# HELP fedicensus_crawl_runs_total Crawl runs recorded."
    );
    let _ = writeln!(out, "# TYPE fedicensus_crawl_runs_total counter");
    let _ = writeln!(out, "fedicensus_crawl_runs_total {}", runs.len());
    if let Some(last) = runs.iter().filter_map(|r| r.finished_at).max() {
        let _ = writeln!(out, "# HELP fedicensus_last_crawl_finished_timestamp_seconds When the latest crawl run finished (Unix time).");
        let _ = writeln!(
            out,
            "# TYPE fedicensus_last_crawl_finished_timestamp_seconds gauge"
        );
        let _ = writeln!(
            out,
            "fedicensus_last_crawl_finished_timestamp_seconds {}",
            last.timestamp()
        );
    }
    let mut outcomes: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &runs {
        for (o, n) in &r.outcomes {
            *outcomes.entry(o.as_str()).or_default() += n;
        }
    }
    let _ = writeln!(
        out,
        "# HELP fedicensus_crawl_visits_total Visits in finished crawl runs, by outcome."
    );
    let _ = writeln!(out, "# TYPE fedicensus_crawl_visits_total counter");
    for (o, n) in outcomes {
        let _ = writeln!(
            out,
            "fedicensus_crawl_visits_total{{outcome=\"{}\"}} {n}",
            label(o)
        );
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

/// Any other path.
pub async fn not_found(uri: Uri) -> Error {
    Error::NotFound(format!("no page at {}", uri.path()))
}
