//! The fedicensus dashboard: server-rendered pages, charts and the JSON/CSV API, reading the
//! census through `fedicensus-storage` (never the crawler: checked in CI).
//!
//! Every chart shows the exact points it plots under it and links to them as CSV and JSON, and
//! every number says how many servers it rests on: the dashboard exists to show the fediverse's
//! growth honestly, denominators and method changes included.
//!
//! Modules:
//! - [`badge`]: label | value badges as SVG, sized by their text.
//! - [`cache`]: rendered responses keyed by the data's version; `ETag`s and 304s.
//! - [`charts`]: chart definitions as data (`dashboards/*.toml`), loaded and validated at start.
//! - [`series`]: the numbers a chart plots, with their denominators.
//! - [`render`]: [`render_svg`], a pure function from a chart and its series to SVG.
//! - [`server_chart`]: one server's history charts, for its page and for other sites.
//! - [`world`]: the world map of counts by country, from Natural Earth's outlines.
//! - [`data`]: what pages and the API ask of storage.
//! - [`router`]: [`router()`], every route in one place; handlers in [`routes`].
//! - [`pages`]: templates (escaping by default) and view models.
//! - [`csv_out`]: CSV with spreadsheet-formula neutralisation.
//! - [`reference`]: what other censuses mean by a server, a user and an active user (cited),
//!   for the Comparison page and `/api/v1/references`.
//! - [`state`]: [`AppState`] and [`DashboardConfig`].
//! - [`live`]: [`LiveCensus`], the progress of a census built while it is served (the demo's
//!   banner).
//! - [`server`]: [`serve_with`], HTTP/1 connections under [`ServeLimits`] (header-read and
//!   idle timeouts, a cap on connections).
//! - [`error`]: the one error type and how it answers over HTTP.

pub mod badge;
pub mod cache;
pub mod charts;
pub mod csv_out;
pub mod data;
pub mod error;
pub mod health;
pub mod live;
pub mod pages;
pub mod reference;
pub mod render;
pub mod router;
pub mod routes;
pub mod series;
pub mod server;
pub mod server_chart;
pub mod state;
pub mod world;

pub use charts::{ChartDef, ChartKind, ChartPage, ChartSet};
pub use error::{Error, Result};
pub use live::{CensusProgress, LiveCensus, TruthCheck};
pub use render::render_svg;
pub use router::router;
pub use series::{Granularity, Point, Series, SeriesMetric, View};
pub use server::{serve_with, ServeLimits};
pub use state::{AppState, DashboardConfig, Etiquette};

/// Pages computed into the response cache by [`warm_up`]: the ones a visitor opens first.
pub const WARM_PATHS: &[&str] = &[
    "/",
    "/growth",
    "/software",
    "/concentration",
    "/languages",
    "/where",
    "/methodology",
];

/// Computes [`WARM_PATHS`] into the response cache, one after the other as one visitor would,
/// so that the first visitors after a start get them from memory: a cold overview takes 1 to 4 s
/// to compute on a large census, and under a crawl's writes its first requests waited over 2 s
/// (`scripts/load-under-crawl`). Later data versions are then served from the last response
/// while the new one is computed (see [`cache`]). Errors are logged, never fatal.
pub async fn warm_up(state: AppState) {
    let app = router(state);
    for path in WARM_PATHS {
        let began = std::time::Instant::now();
        let request = match axum::http::Request::get(*path).body(axum::body::Body::empty()) {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(path, error = %e, "could not build a warm-up request");
                continue;
            }
        };
        match tower::ServiceExt::oneshot(app.clone(), request).await {
            Ok(response) if response.status().is_success() => {
                tracing::debug!(path, ms = began.elapsed().as_millis(), "page warmed up");
            }
            Ok(response) => {
                tracing::warn!(path, status = %response.status(), "warming up a page failed");
            }
            Err(e) => tracing::warn!(path, error = %e, "warming up a page failed"),
        }
    }
}

/// Serves the dashboard on `listener` under the default [`ServeLimits`] until `shutdown`
/// completes (graceful: requests in flight finish).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router(state), ServeLimits::default(), shutdown).await
}
