//! A chart's image and data: `/api/v1/charts/{id}/{svg|png|csv|json}`. The formats are computed
//! from the same series, so the CSV and JSON are exactly the plotted points, each with whether
//! its period is complete (`complete`: the chart draws an incomplete one apart).

use super::{chart_request, request_query, Params};
use crate::charts::ChartDef;
use crate::csv_out::{Cell, CsvDoc};
use crate::data::{self, ChartRequest};
use crate::error::{Error, Result};
use crate::render::{
    render_png_with, render_svg_with, Caption, Size, MAX_WIDTH, MIN_WIDTH, PHONE_WIDTH, WIDTH,
};
use crate::series::Series;
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fedicensus_storage::Annotation;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A chart with everything needed to show it.
#[derive(Debug)]
pub struct Computed<'a> {
    pub chart: &'a ChartDef,
    pub request: ChartRequest,
    pub series: Vec<Series>,
    pub annotations: Vec<Annotation>,
}

/// Computes a chart's series and annotations for `params`.
pub async fn compute<'a>(
    state: &AppState,
    chart: &'a ChartDef,
    params: &Params,
    range: (chrono::NaiveDate, chrono::NaiveDate),
) -> Result<Computed<'a>> {
    let request = chart_request(chart, params, range)?;
    let series = data::chart_series(&state.storage, chart, &request).await?;
    let annotations = if chart.annotations {
        state.storage.annotations(request.from, request.to).await?
    } else {
        Vec::new()
    };
    Ok(Computed {
        chart,
        request,
        series,
        annotations,
    })
}

/// The chart's points as JSON.
pub fn to_json(c: &Computed<'_>) -> Value {
    json!({
        "chart": c.chart.id,
        "title": c.chart.title,
        "from": c.request.from,
        "to": c.request.to,
        "granularity": c.request.granularity,
        "software": c.request.software,
        "view": c.request.view,
        "methodology_version": fedicensus_storage::METHODOLOGY_VERSION,
        "series": c.series.iter().map(|s| json!({
            "name": s.name,
            "metric": s.metric.as_str(),
            "points": s.points,
        })).collect::<Vec<_>>(),
        "annotations": c.annotations.iter().map(annotation_json).collect::<Vec<_>>(),
    })
}

/// The chart's points as CSV, one row per series and date; `complete` is `false` for a period
/// still in progress at the last crawled day.
pub fn to_csv(c: &Computed<'_>) -> Result<String> {
    let mut doc = CsvDoc::new(&[
        "series",
        "metric",
        "date",
        "value",
        "servers_reporting",
        "complete",
    ])?;
    for s in &c.series {
        for p in &s.points {
            doc.row(&[
                Cell::text(&s.name),
                Cell::text(s.metric.as_str()),
                Cell::number(p.date),
                Cell::opt_number(p.value),
                Cell::number(p.servers_reporting),
                Cell::number(p.complete),
            ])?;
        }
    }
    doc.finish()
}

pub fn annotation_json(a: &Annotation) -> Value {
    json!({
        "date": a.date,
        "title": a.title,
        "description": a.description,
        "kind": a.kind.as_str(),
        "source_url": a.source_url,
    })
}

/// `GET /api/v1/charts`: every chart definition, with links.
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "charts": state.config.charts.all().iter().map(|c| json!({
            "id": c.id,
            "title": c.title,
            "description": c.description,
            "page": c.page,
            "kind": c.kind,
            "metrics": c.metrics.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            "granularity": c.granularity,
            "software": c.software,
            "links": {
                "svg": format!("/api/v1/charts/{}/svg", c.id),
                "png": format!("/api/v1/charts/{}/png", c.id),
                "svg_phone": format!("/api/v1/charts/{}/svg?width={PHONE_WIDTH}", c.id),
                "csv": format!("/api/v1/charts/{}/csv", c.id),
                "json": format!("/api/v1/charts/{}/json", c.id),
                "embed": format!("/embed/charts/{}", c.id),
            },
        })).collect::<Vec<_>>(),
    }))
}

/// The parameters of a chart's file: every chart's ([`super::CHART_PARAMS`]), and the image's
/// `width`.
pub const FILE_PARAMS: &[&str] = &["from", "to", "granularity", "software", "view", "width"];

/// The drawing size an image request asks for with `width` (pixels, [`MIN_WIDTH`] to
/// [`MAX_WIDTH`]; [`WIDTH`] when absent). Only images have a width: on CSV or JSON it would
/// silently do nothing, so it is refused there.
pub fn image_size(params: &Params, format: &str) -> Result<Size> {
    let Some(text) = params.get("width") else {
        return Ok(Size::DESKTOP);
    };
    let accepted =
        format!("a whole number of pixels from {MIN_WIDTH} to {MAX_WIDTH} (default {WIDTH})");
    if !matches!(format, "svg" | "png") {
        return Err(Error::bad(
            "width",
            format!("a {format} file has no width"),
            "width with the svg and png formats only",
        ));
    }
    match text.parse::<u32>() {
        Ok(w) if (MIN_WIDTH..=MAX_WIDTH).contains(&w) => Ok(Size::for_width(w)),
        _ => Err(Error::bad(
            "width",
            format!("{text:?} is not a whole number from {MIN_WIDTH} to {MAX_WIDTH}"),
            accepted,
        )),
    }
}

/// `GET /api/v1/charts/{id}/{format}` with `format` one of svg, png, csv, json; images take a
/// `width` (the cache keys responses by the whole query, so each width is cached apart).
pub async fn file(
    State(state): State<AppState>,
    Path((id, format)): Path<(String, String)>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response> {
    let params = Params::new(query, FILE_PARAMS)?;
    let chart = state
        .config
        .charts
        .get(&id)
        .ok_or_else(|| Error::NotFound(format!("no chart {id:?} (see /api/v1/charts)")))?;
    if !["svg", "png", "csv", "json"].contains(&format.as_str()) {
        return Err(Error::bad(
            "format",
            format!("unknown format {format:?}"),
            "svg, png, csv, json",
        ));
    }
    let size = image_size(&params, &format)?;
    let range = data::data_range(&state.storage).await?;
    let c = compute(&state, chart, &params, range).await?;
    let name = format!(
        "{}_{}",
        chart.id,
        request_query(&c.request).replace(['&', '='], "_")
    );
    // An image file is seen alone: it carries its title, source, date and whether it is
    // simulated (the page around an inline chart says those).
    let caption = if matches!(format.as_str(), "svg" | "png") {
        Some(Caption {
            source: format!(
                "fedicensus, methodology {}",
                fedicensus_storage::METHODOLOGY_VERSION
            ),
            simulated: data::is_simulated(&state.storage).await?,
            data_url: Some(format!(
                "{}/api/v1/charts/{}/csv?{}",
                state.config.public_url.as_deref().unwrap_or(""),
                chart.id,
                request_query(&c.request)
            )),
        })
    } else {
        None
    };
    Ok(match format.as_str() {
        "svg" => (
            [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
            render_svg_with(chart, &c.series, &c.annotations, size, caption.as_ref()),
        )
            .into_response(),
        "png" => {
            let (chart, series, annotations) = (c.chart.clone(), c.series, c.annotations);
            // Rasterising takes a few milliseconds of CPU: keep it off the async workers.
            let png = tokio::task::spawn_blocking(move || {
                render_png_with(&chart, &series, &annotations, size, caption.as_ref())
            })
            .await
            .map_err(|e| Error::Internal(format!("drawing a PNG: {e}")))?
            .map_err(|e| Error::Internal(format!("drawing a PNG: {e}")))?;
            ([(header::CONTENT_TYPE, "image/png")], png).into_response()
        }
        "csv" => csv_response(to_csv(&c)?, &name),
        _ => Json(to_json(&c)).into_response(),
    })
}

/// A CSV body offered as a download named `name.csv`.
pub fn csv_response(body: String, name: &str) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}
