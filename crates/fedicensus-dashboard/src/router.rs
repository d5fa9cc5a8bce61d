//! Every route of the dashboard, in one place: pages, chart files, the JSON/CSV API under
//! `/api/v1`, embeds and badges for other sites, admin actions and operations endpoints. Handlers live in [`crate::routes`], one
//! module per page or API family.

use crate::routes::{admin, api, badges, charts, embed, exports, ops, pages};
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::time::Instant;

/// Every path the router serves (method, path), as documented in the OpenAPI document or as a
/// page. Tests check the two agree.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/series/{metric}"),
    ("get", "/api/v1/languages/{metric}"),
    ("get", "/api/v1/countries/{metric}"),
    ("get", "/api/v1/networks/{metric}"),
    ("get", "/api/v1/coverage"),
    ("get", "/api/v1/references"),
    ("get", "/api/v1/blocks/most-blocked"),
    ("get", "/api/v1/blocks/weekly"),
    ("get", "/api/v1/servers"),
    ("get", "/api/v1/servers/{host}"),
    ("get", "/api/v1/servers/{host}/history.csv"),
    ("get", "/api/v1/servers/{host}/blocks"),
    ("get", "/api/v1/annotations"),
    ("get", "/api/v1/runs"),
    ("get", "/api/v1/charts"),
    ("get", "/api/v1/charts/{id}/{format}"),
    ("get", "/api/v1/exports/{file}"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/servers/{host}/charts/{figure}/{format}"),
    ("get", "/embed/charts/{id}"),
    ("get", "/embed/servers/{host}/{figure}"),
    ("get", "/badges/servers/{host}/{file}"),
    ("get", "/badges/software/{name}/{file}"),
    ("post", "/api/v1/admin/seeds"),
    ("post", "/api/v1/admin/opt-out"),
    ("post", "/api/v1/admin/annotations"),
    ("post", "/api/v1/admin/crawl"),
    ("get", "/healthz"),
    ("get", "/metrics"),
];

/// The dashboard's router over `state`.
pub fn router(state: AppState) -> Router {
    state.start_health_checks();
    Router::new()
        .route("/", get(pages::overview))
        .route("/growth", get(pages::growth))
        .route("/software", get(pages::software))
        .route("/concentration", get(pages::concentration))
        .route("/languages", get(pages::languages))
        .route("/comparison", get(pages::comparison))
        .route("/where", get(pages::where_page))
        .route("/blocks", get(pages::blocks))
        .route("/charts/{id}", get(pages::chart))
        .route("/servers", get(pages::servers))
        .route("/servers/{host}", get(pages::server))
        .route("/crawl", get(pages::crawl))
        .route("/methodology", get(pages::methodology))
        .route("/api/v1/series/{metric}", get(api::series))
        .route("/api/v1/languages/{metric}", get(api::languages))
        .route("/api/v1/countries/{metric}", get(api::countries))
        .route("/api/v1/networks/{metric}", get(api::networks))
        .route("/api/v1/coverage", get(api::coverage))
        .route("/api/v1/references", get(api::references))
        .route("/api/v1/blocks/most-blocked", get(api::most_blocked))
        .route("/api/v1/blocks/weekly", get(api::blocks_weekly))
        .route("/api/v1/servers", get(api::servers))
        .route("/api/v1/servers/{host}", get(api::server))
        .route("/api/v1/servers/{host}/history.csv", get(api::server_csv))
        .route("/api/v1/servers/{host}/blocks", get(api::server_blocks))
        .route("/api/v1/annotations", get(api::annotations))
        .route("/api/v1/runs", get(api::runs))
        .route("/api/v1/charts", get(charts::list))
        .route("/api/v1/charts/{id}/{format}", get(charts::file))
        .route("/api/v1/exports/{file}", get(exports::export))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route(
            "/api/v1/servers/{host}/charts/{figure}/{format}",
            get(embed::server_image),
        )
        .route("/embed/charts/{id}", get(embed::chart))
        .route("/embed/servers/{host}/{figure}", get(embed::server_chart))
        .route("/badges/servers/{host}/{file}", get(badges::server))
        .route("/badges/software/{name}/{file}", get(badges::software))
        .route(
            "/api/v1/admin/seeds",
            post(admin::add_seeds).layer(DefaultBodyLimit::max(admin::SEEDS_BODY_LIMIT)),
        )
        .route(
            "/api/v1/admin/opt-out",
            post(admin::opt_out).layer(DefaultBodyLimit::max(admin::SMALL_BODY_LIMIT)),
        )
        .route(
            "/api/v1/admin/annotations",
            post(admin::add_annotation).layer(DefaultBodyLimit::max(admin::SMALL_BODY_LIMIT)),
        )
        .route(
            "/api/v1/admin/crawl",
            post(admin::start_crawl).layer(DefaultBodyLimit::max(admin::SMALL_BODY_LIMIT)),
        )
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .fallback(ops::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::cache::cache_responses,
        ))
        // Outside the cache, so that answers from it (and 304s) get these headers too.
        .layer(middleware::from_fn(embed::public_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .with_state(state)
}

/// Counts every request by route pattern (not raw path, so hostile paths cannot grow the table)
/// and status, with its latency.
async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".into());
    let started = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .record(&route, response.status().as_u16(), started.elapsed());
    response
}
