//! The HTML side: templates (minijinja, escaping every value by default because most text on
//! these pages came from crawled servers) and the view models handlers pass to them.
//!
//! Templates live in `templates/` and are embedded at build time, so the binary serves pages
//! wherever it runs. Only two things are ever marked safe: SVG produced by [`crate::render`]
//! (which escapes its own text) and `docs/METHODOLOGY.md`, our own document.

use crate::error::Result;
use crate::render::{color_hex, format_value};
use crate::routes::charts::Computed;
use crate::routes::request_query;
use minijinja::value::Value;
use minijinja::{context, Environment};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("overview.html", include_str!("../templates/overview.html")),
    ("charts.html", include_str!("../templates/charts.html")),
    (
        "comparison.html",
        include_str!("../templates/comparison.html"),
    ),
    ("where.html", include_str!("../templates/where.html")),
    ("servers.html", include_str!("../templates/servers.html")),
    ("server.html", include_str!("../templates/server.html")),
    ("crawl.html", include_str!("../templates/crawl.html")),
    ("blocks.html", include_str!("../templates/blocks.html")),
    ("embed.html", include_str!("../templates/embed.html")),
    (
        "methodology.html",
        include_str!("../templates/methodology.html"),
    ),
];

/// The methodology, as written by the storage crate's authors.
const METHODOLOGY_MD: &str = include_str!("../../../docs/METHODOLOGY.md");

/// Every template, compiled; autoescape is on for `.html` (minijinja's default).
pub fn templates() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    env.add_filter("num", |v: Option<f64>| match v {
        Some(v) => crate::render::thousands(v),
        None => "–".to_owned(),
    });
    Ok(env)
}

/// `docs/METHODOLOGY.md` as HTML.
pub fn methodology_html() -> String {
    let parser =
        pulldown_cmark::Parser::new_ext(METHODOLOGY_MD, pulldown_cmark::Options::ENABLE_TABLES);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

/// A chart as the templates show it: its SVG drawn for wide screens and for phones, its
/// controls, links to its data, its embed snippets (absolute under `public_url`, the
/// dashboard's public address, when it is known) and the table of exactly the plotted points.
pub fn chart_view(
    c: &Computed<'_>,
    [svg, svg_phone]: [String; 2],
    public_url: Option<&str>,
) -> Value {
    let query = request_query(&c.request);
    let metric = c.chart.metrics[0];
    let headers: Vec<Value> = c
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| context! { name => s.name.clone(), color => color_hex(i) })
        .collect();
    // The legend beside the drawing says what the drawing shows: a band chart's two edges are
    // one band, in the colour of its line.
    let legend: Vec<Value> = crate::render::legend_entries(c.chart, &c.series)
        .into_iter()
        .map(|(name, color)| context! { name => name, color => color })
        .collect();
    let n = c.series.first().map(|s| s.points.len()).unwrap_or(0);
    let rows: Vec<Value> = (0..n)
        .map(|i| {
            let date = c.series[0].points[i].date.to_string();
            let cells: Vec<Value> = c
                .series
                .iter()
                .map(|s| {
                    let p = s.points.get(i);
                    context! {
                        value => p.and_then(|p| p.value).map(|v| format_value(metric, v)).unwrap_or_else(|| "–".into()),
                        reporting => p.map(|p| crate::render::thousands(p.servers_reporting as f64)).unwrap_or_default(),
                    }
                })
                .collect();
            // A period still in progress says so in its own (last) column, so the value and
            // servers columns stay numbers.
            let partial = c.series.iter().filter_map(|s| s.points.get(i)).find(|p| !p.complete);
            let note = partial
                .map(|p| format!("incomplete: data as of {}", p.as_of_day))
                .unwrap_or_default();
            context! { date => date, cells => cells, note => note }
        })
        .collect();
    let incomplete = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(move |p| (s.granularity, p)))
        .filter(|(_, p)| p.value.is_some() && !p.complete)
        .max_by_key(|(_, p)| p.date)
        .map(|(g, p)| {
            format!(
                "The last {} ({} onwards) is incomplete: its data runs to {} only. The chart \
                 draws it apart (a hollow dot off the line, a pale bar or band) and the CSV and \
                 JSON mark it complete=false.",
                g.as_str(),
                p.date,
                p.as_of_day
            )
        });
    // The latest value of each series, computed from the data rather than written into the
    // chart's description (where it went stale as soon as the data changed).
    let latest: Vec<String> = c
        .series
        .iter()
        .filter_map(|s| {
            let p = s.latest()?;
            let value = format_value(s.metric, p.value?);
            Some(format!("{} {value} ({})", s.name, p.as_of_day))
        })
        .collect();
    let latest = (!latest.is_empty()).then(|| format!("Latest: {}.", latest.join("; ")));
    context! {
        id => c.chart.id.clone(),
        title => c.chart.title.clone(),
        description => c.chart.description.clone(),
        latest => latest,
        svg => Value::from_safe_string(svg),
        svg_phone => Value::from_safe_string(svg_phone),
        phone_width => crate::render::PHONE_WIDTH,
        query => query.clone(),
        svg_url => format!("/api/v1/charts/{}/svg?{query}", c.chart.id),
        png_url => format!("/api/v1/charts/{}/png?{query}", c.chart.id),
        csv_url => format!("/api/v1/charts/{}/csv?{query}", c.chart.id),
        json_url => format!("/api/v1/charts/{}/json?{query}", c.chart.id),
        page_url => format!("/charts/{}?{query}", c.chart.id),
        embeds => crate::routes::embed::embed_snippets(public_url.unwrap_or(""), &c.chart.id, &query, &c.chart.title),
        embeds_relative => public_url.is_none(),
        from => c.request.from.to_string(),
        to => c.request.to.to_string(),
        granularity => c.request.granularity.as_str(),
        software => c.request.software.clone().unwrap_or_default(),
        view => c.request.view.as_str(),
        headers => headers,
        legend => legend,
        rows => rows,
        incomplete => incomplete,
        annotations => c.annotations.iter().map(|a| context! {
            date => a.date.to_string(), title => a.title.clone(), description => a.description.clone(),
        }).collect::<Vec<_>>(),
    }
}
