//! Charts for other sites: `GET /embed/charts/{id}`, a chart as a minimal page to put in an
//! `<iframe>`, the snippets the dashboard offers under every chart ("Embed"), and the headers
//! that let other origins use what the census publishes ([`public_headers`]).
//!
//! An embedded chart is read inside an article, away from the dashboard, so it carries what the
//! dashboard says around a chart: its title, the day its data runs to, the servers its latest
//! points rest on, the source (and "simulated data" for a demo census) and a link to its CSV. The
//! page has no script and asks nothing of any other site (its style is inline, the chart inline
//! SVG), which its `Content-Security-Policy` enforces; only its `frame-ancestors` is open, so any
//! site may frame it. Its URL keeps every parameter of the chart (range, granularity, software,
//! view, width), validated as the chart's files validate them, so an embed shows the figure it
//! showed when it was published.

use super::api::history;
use super::charts::{compute, image_size, FILE_PARAMS};
use super::{request_query, url_escape, Params};
use crate::charts::ChartDef;
use crate::data;
use crate::error::{Error, Result};
use crate::render::{
    data_as_of, escape_xml, lines_of, render_png_with, render_svg, render_svg_with,
    servers_reporting_text, Caption, Size, WIDTH,
};
use crate::series::Series;
use crate::server_chart;
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use fedicensus_storage::ServerHistory;
use minijinja::context;
use minijinja::value::Value;
use std::collections::HashMap;

/// The width of an embed meant for a text column.
pub const COLUMN_WIDTH: u32 = 360;
/// The sizes the dashboard offers: a column and a full-width figure.
pub const EMBED_SIZES: [(&str, u32); 2] = [("column", COLUMN_WIDTH), ("full width", WIDTH)];
/// The height an embed page needs besides its chart: the title, the date and source lines and
/// the margins (at the narrowest width, where they wrap most).
pub const EMBED_CHROME_HEIGHT: u32 = 130;

/// What newsroom caches and browsers are told about embeds, badges and chart files: shared
/// caches may keep them ten minutes and then serve the old copy for an hour while they ask
/// again (`If-None-Match`: a 304 when the data has not changed), and a day while the dashboard
/// cannot answer. The data changes a few times a day, and an article's chart a few minutes late
/// is better than an article without one.
pub const PUBLIC_CACHE_CONTROL: &str =
    "public, max-age=600, stale-while-revalidate=3600, stale-if-error=86400";

/// The embed page's policy: nothing is loaded from anywhere (inline style and SVG only), no
/// script runs, and any site may frame it.
pub const EMBED_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors *";

/// Routes framed by other sites.
pub const EMBED_ROUTES: &[&str] = &["/embed/charts/{id}", "/embed/servers/{host}/{figure}"];
/// Routes other sites use as images (and scripts as data): served to any origin.
pub const IMAGE_ROUTES: &[&str] = &[
    "/api/v1/charts/{id}/{format}",
    "/api/v1/servers/{host}/charts/{figure}/{format}",
    "/badges/servers/{host}/{file}",
    "/badges/software/{name}/{file}",
];

/// The middleware: on embed pages, the framing policy; on images, `Access-Control-Allow-Origin:
/// *` (an `<img crossorigin>` or a canvas on another site can use them); on both, when
/// successful (a fresh answer or a 304), [`PUBLIC_CACHE_CONTROL`]. It wraps the response cache,
/// so answers from the cache get them too.
pub async fn public_headers(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut response = next.run(request).await;
    let Some(route) = route else {
        return response;
    };
    let embed = EMBED_ROUTES.contains(&route.as_str());
    let image = IMAGE_ROUTES.contains(&route.as_str());
    if !embed && !image {
        return response;
    }
    let status = response.status();
    let h = response.headers_mut();
    if embed {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(EMBED_CSP),
        );
    }
    if image {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        // Lets pages that isolate themselves (`Cross-Origin-Embedder-Policy`) load them too.
        h.insert(
            header::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    if status == StatusCode::OK || status == StatusCode::NOT_MODIFIED {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(PUBLIC_CACHE_CONTROL),
        );
    }
    response
}

/// The embed snippets of a chart (its id, resolved query and title) for each of
/// [`EMBED_SIZES`]: the iframe's HTML and the image URLs, absolute when `base` (the
/// dashboard's public address, without a trailing slash) is known, else paths.
pub fn embed_snippets(base: &str, id: &str, query: &str, title: &str) -> Vec<Value> {
    snippets(
        base,
        &format!("/embed/charts/{id}"),
        &format!("/api/v1/charts/{id}"),
        query,
        title,
    )
}

/// The embed snippets of the chart whose embed page is at `page` and whose images are at
/// `{image}/svg` and `{image}/png`, each with `query` (may be empty) and the size's width.
pub fn snippets(base: &str, page: &str, image: &str, query: &str, title: &str) -> Vec<Value> {
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("{query}&")
    };
    EMBED_SIZES
        .iter()
        .map(|(name, width)| {
            let size = Size::for_width(*width);
            let page = format!("{base}{page}?{query}width={width}");
            let height = size.height + EMBED_CHROME_HEIGHT;
            let iframe = format!(
                "<iframe src=\"{}\" width=\"{width}\" height=\"{height}\" style=\"border:0; \
                 max-width:100%\" loading=\"lazy\" title=\"{} (fedicensus)\"></iframe>",
                escape_xml(&page),
                escape_xml(title)
            );
            context! {
                name => *name,
                width => *width,
                page_url => page,
                iframe => iframe,
                svg_url => format!("{base}{image}/svg?{query}width={width}"),
                png_url => format!("{base}{image}/png?{query}width={width}"),
            }
        })
        .collect()
}

/// `GET /embed/charts/{id}`: the chart, its title, the day its data runs to, the servers its
/// latest points rest on, the source and a link to its CSV, as a page of its own; `width` (300
/// to 1600, default 720) is the drawing's width.
pub async fn chart(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Html<String>> {
    let params = Params::new(query, FILE_PARAMS)?;
    let chart = state
        .config
        .charts
        .get(&id)
        .ok_or_else(|| Error::NotFound(format!("no chart {id:?} (see /api/v1/charts)")))?;
    let size = image_size(&params, "svg")?;
    let range = data::data_range(&state.storage).await?;
    let c = compute(&state, chart, &params, range).await?;
    let query = request_query(&c.request);
    let svg = render_svg(chart, &c.series, &c.annotations, size);
    let page = context! {
        title => chart.title.clone(),
        svg => Value::from_safe_string(svg),
        as_of => data_as_of(&c.series).map(|d| d.to_string()),
        reporting => servers_reporting_text(lines_of(chart, &c.series)),
        source => format!("fedicensus, methodology {}", fedicensus_storage::METHODOLOGY_VERSION),
        simulated => data::is_simulated(&state.storage).await?,
        csv_url => format!("/api/v1/charts/{}/csv?{query}", chart.id),
        page_url => format!("/charts/{}?{query}", chart.id),
    };
    Ok(Html(
        state.templates.get_template("embed.html")?.render(page)?,
    ))
}

/// `GET /embed/servers/{host}/{figure}`: one server's chart of a figure its visits reported
/// (`users_total`, `users_active_month`, `local_posts`; [`crate::server_chart`]) as a page of its
/// own, with what an embedded chart carries; `width` as for a chart.
pub async fn server_chart(
    State(state): State<AppState>,
    Path((host, figure)): Path<(String, String)>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Html<String>> {
    let params = Params::new(query, &["width"])?;
    let size = image_size(&params, "svg")?;
    let (h, chart, series) = server_figure(&state, &host, &figure).await?;
    let escaped = url_escape(h.host.as_str());
    let page = context! {
        title => chart.title.clone(),
        svg => Value::from_safe_string(render_svg(&chart, &series, &[], size)),
        as_of => data_as_of(&series).map(|d| d.to_string()),
        reporting => Some("as the server reported it"),
        source => format!("fedicensus, methodology {}", fedicensus_storage::METHODOLOGY_VERSION),
        simulated => data::is_simulated(&state.storage).await?,
        csv_url => format!("/api/v1/servers/{escaped}/history.csv"),
        page_url => format!("/servers/{escaped}#{}", chart.id),
    };
    Ok(Html(
        state.templates.get_template("embed.html")?.render(page)?,
    ))
}

/// `GET /api/v1/servers/{host}/charts/{figure}/{format}`: one server's chart as an image (`svg`
/// or `png`, `width` as for a chart), carrying its title, source and CSV address.
pub async fn server_image(
    State(state): State<AppState>,
    Path((host, figure, format)): Path<(String, String, String)>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response> {
    let params = Params::new(query, &["width"])?;
    if !matches!(format.as_str(), "svg" | "png") {
        return Err(Error::bad("format", format!("{format:?}"), "svg, png"));
    }
    let size = image_size(&params, &format)?;
    let (h, chart, series) = server_figure(&state, &host, &figure).await?;
    let caption = Caption {
        source: format!(
            "fedicensus, methodology {}",
            fedicensus_storage::METHODOLOGY_VERSION
        ),
        simulated: data::is_simulated(&state.storage).await?,
        data_url: Some(format!(
            "{}/api/v1/servers/{}/history.csv",
            state.config.public_url.as_deref().unwrap_or(""),
            url_escape(h.host.as_str())
        )),
    };
    Ok(if format == "svg" {
        (
            [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
            render_svg_with(&chart, &series, &[], size, Some(&caption)),
        )
            .into_response()
    } else {
        // Rasterising takes a few milliseconds of CPU: keep it off the async workers.
        let png = tokio::task::spawn_blocking(move || {
            render_png_with(&chart, &series, &[], size, Some(&caption))
        })
        .await
        .map_err(|e| Error::Internal(format!("drawing a PNG: {e}")))?
        .map_err(|e| Error::Internal(format!("drawing a PNG: {e}")))?;
        ([(header::CONTENT_TYPE, "image/png")], png).into_response()
    })
}

/// A listed server's history and its chart of `figure`; not found when the server is not
/// listed or never reported that figure.
async fn server_figure(
    state: &AppState,
    host: &str,
    figure: &str,
) -> Result<(ServerHistory, ChartDef, Vec<Series>)> {
    let metric = server_chart::figure(figure)?;
    let h = history(state, host).await?;
    let (chart, series) = server_chart::chart(&h, metric).ok_or_else(|| {
        Error::NotFound(format!(
            "{} reported no {figure} in a successful visit",
            h.host.as_str()
        ))
    })?;
    Ok((h, chart, series))
}
