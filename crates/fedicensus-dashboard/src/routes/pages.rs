//! The server-rendered pages: Overview, Growth and migration, Software, Concentration, one chart,
//! Servers, Server, Crawl health, Methodology and etiquette.

use super::api::{history, server_filter, server_json, SERVER_PARAMS};
use super::charts::{compute, Computed};
use super::{url_escape, Params, CHART_PARAMS};
use crate::charts::ChartPage;
use crate::data;
use crate::error::{Error, Result};
use crate::pages::{chart_view, methodology_html};
use crate::render::{render_svg, Size};
use crate::server_chart;
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use fedicensus_storage::{ServerStatus, METHODOLOGY_VERSION};
use minijinja::context;
use minijinja::value::Value;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

fn render(state: &AppState, template: &str, current: &str, ctx: Value) -> Result<Html<String>> {
    let census = state.live.as_ref().map(|live| live.progress().banner());
    let page = context! {
        current => current,
        methodology_version => METHODOLOGY_VERSION,
        census => census.map(|b| Value::from(minijinja::value::Serde(&b))),
        ..ctx
    };
    Ok(Html(state.templates.get_template(template)?.render(page)?))
}

/// A chart drawn for wide screens and for phones (the page shows one or the other by its width).
fn images(c: &Computed<'_>) -> [String; 2] {
    [Size::DESKTOP, Size::PHONE].map(|size| render_svg(c.chart, &c.series, &c.annotations, size))
}

async fn charts_of(state: &AppState, page: ChartPage, params: &Params) -> Result<Vec<Value>> {
    let range = data::data_range(&state.storage).await?;
    let mut out = Vec::new();
    for chart in state.config.charts.page(page) {
        let c = compute(state, chart, params, range).await?;
        out.push(chart_view(
            &c,
            images(&c),
            state.config.public_url.as_deref(),
        ));
    }
    Ok(out)
}

/// `GET /`: the headline numbers with their denominators, and the overview charts.
pub async fn overview(State(state): State<AppState>, query: QueryMap) -> Result<Html<String>> {
    let params = Params::new(query, CHART_PARAMS)?;
    let as_of = match params.date("to")? {
        Some(d) => d,
        None => data::data_range(&state.storage).await?.1,
    };
    let headlines = data::headlines(&state.storage, as_of).await?;
    let charts = charts_of(&state, ChartPage::Overview, &params).await?;
    render(
        &state,
        "overview.html",
        "/",
        context! { title => "Overview", as_of => as_of.to_string(), headlines => Value::from(minijinja::value::Serde(&headlines)), charts => charts },
    )
}

async fn chart_page(
    state: AppState,
    query: QueryMap,
    page: ChartPage,
    path: &str,
    title: &str,
    intro: &str,
) -> Result<Html<String>> {
    let params = Params::new(query, CHART_PARAMS)?;
    let charts = charts_of(&state, page, &params).await?;
    render(
        &state,
        "charts.html",
        path,
        context! { title => title, intro => intro, charts => charts },
    )
}

/// `GET /growth`: new and dead servers, activity, and the 2022 migration.
pub async fn growth(State(state): State<AppState>, query: QueryMap) -> Result<Html<String>> {
    chart_page(state, query, ChartPage::Growth, "/growth", "Growth and migration",
        "How many servers appear and disappear each week, how many people sign up and log in, and the wave after the Twitter takeover on 27 October 2022. Markers show where the world or a counting method changed; the servers each point rests on are in the table under every chart.").await
}

/// `GET /software`: the software families' shares.
pub async fn software(State(state): State<AppState>, query: QueryMap) -> Result<Html<String>> {
    chart_page(
        state,
        query,
        ChartPage::Software,
        "/software",
        "Software",
        "Which server software the fediverse runs on.",
    )
    .await
}

/// `GET /concentration`: how much of the fediverse sits on its largest servers.
pub async fn concentration(State(state): State<AppState>, query: QueryMap) -> Result<Html<String>> {
    chart_page(
        state,
        query,
        ChartPage::Concentration,
        "/concentration",
        "Concentration",
        "How many of the fediverse's users are on its largest servers.",
    )
    .await
}

/// `GET /languages`: the languages servers declare.
pub async fn languages(State(state): State<AppState>, query: QueryMap) -> Result<Html<String>> {
    chart_page(
        state,
        query,
        ChartPage::Languages,
        "/languages",
        "Languages",
        "Which languages servers say they speak: the primary language each server declares about itself (Mastodon's instance API, Lemmy's site languages, Misskey's meta, NodeInfo metadata), as of each date. A declaration is the admin's choice, often left at the default: it is not what the server's users write in. Servers that declare none are counted as \"none declared\", so the stack is every server.",
    )
    .await
}

/// `GET /comparison`: fedicensus beside other censuses' imported figures, with what each one
/// counts; without imports, how to import them.
pub async fn comparison(State(state): State<AppState>, query: QueryMap) -> Result<Html<String>> {
    let params = Params::new(query, CHART_PARAMS)?;
    let charts = charts_of(&state, ChartPage::Comparison, &params).await?;
    let imports: Vec<Value> = state
        .storage
        .reference_imports()
        .await?
        .iter()
        .map(|i| {
            context! {
                source => i.source.as_str(),
                title => i.source.title(),
                file_name => i.file_name.clone(),
                first_date => i.first_date.to_string(),
                last_date => i.last_date.to_string(),
                as_of => i.as_of.to_string(),
                imported_at => i.imported_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                figures => i.points,
                server_names => i.domains,
                sha256 => i.sha256.clone(),
                sha256_short => i.sha256.chars().take(12).collect::<String>(),
                notes => i.notes.join(" "),
            }
        })
        .collect();
    let commands: Vec<String> = fedicensus_core::reference::ReferenceSource::ALL
        .into_iter()
        .map(crate::reference::import_command)
        .collect();
    let definitions: Vec<Value> = crate::reference::DEFINITIONS
        .iter()
        .map(|d| Value::from(minijinja::value::Serde(d)))
        .collect();
    render(
        &state,
        "comparison.html",
        "/comparison",
        context! {
            title => "Comparison: why the numbers differ",
            intro => "fedicensus beside the figures other public censuses published (joinmastodon.org, FediDB, the-federation.info, instances.social), imported from files this census's operator downloaded. They disagree because each counts different servers, reads different documents and means something different by a user and by \"active\": the table at the end says how each one counts, as far as its own documentation or code says.",
            imports => imports,
            commands => commands,
            charts => charts,
            definitions => definitions,
        },
    )
}

/// The metrics the Where page's map can show, with their names on the page.
const MAP_METRICS: [(fedicensus_storage::SeriesMetric, &str); 3] = [
    (fedicensus_storage::SeriesMetric::ServersUp, "servers up"),
    (
        fedicensus_storage::SeriesMetric::UsersActiveMonth,
        "monthly active users",
    ),
    (
        fedicensus_storage::SeriesMetric::UsersTotal,
        "registered users",
    ),
];

/// A JSON value as a template value.
fn serde_value(v: serde_json::Value) -> Value {
    Value::from(minijinja::value::Serde(v))
}

/// How many networks the Where page's table lists.
pub const TABLE_NETWORKS: usize = 10;

/// `GET /where`: where servers are hosted: a world map of servers, users or monthly actives by
/// country on one date (`to`, default the latest), the hosting networks holding the most servers
/// and users with the share of the three largest, and the country and network charts. Without a
/// geolocation database it says how to add one.
pub async fn where_page(State(state): State<AppState>, query: QueryMap) -> Result<Html<String>> {
    let mut known = CHART_PARAMS.to_vec();
    known.push("map");
    let params = Params::new(query, &known)?;
    let (metric, unit) = match params.get("map") {
        None => MAP_METRICS[0],
        Some(name) => MAP_METRICS
            .iter()
            .copied()
            .find(|(m, _)| m.as_str() == name)
            .ok_or_else(|| {
                Error::bad(
                    "map",
                    format!("{name:?} is not drawn on the map"),
                    "servers_up, users_active_month, users_total",
                )
            })?,
    };
    let range = data::data_range(&state.storage).await?;
    let date = params.date("to")?.unwrap_or(range.1);
    let day = data::ChartRequest {
        from: date,
        to: date,
        granularity: crate::series::Granularity::Day,
        software: None,
        view: params.view()?,
    };
    let located = state.storage.has_locations().await?;
    let countries = data::geo(&state.storage, metric, &day, false).await?;
    let total = countries.total.first().and_then(|p| p.value).unwrap_or(0.0);
    let values: BTreeMap<String, f64> = countries
        .lines
        .iter()
        .filter_map(|l| Some((l.key.clone()?, l.points.first()?.value?)))
        .filter(|(_, v)| *v > 0.0)
        .collect();
    let percent = |v: Option<f64>| v.map(|v| format!("{:.1} %", 100.0 * v));
    let share_of = |v: f64| (total > 0.0).then(|| format!("{:.1} %", 100.0 * v / total));
    let map = crate::world::map_svg(
        &values,
        unit,
        total,
        &format!("Map of {unit} by country of their address on {date}"),
    );
    let country_rows: Vec<Value> = countries
        .lines
        .iter()
        .filter_map(|l| {
            let v = l.points.first()?.value?;
            (v > 0.0).then(|| {
                let code = l.code();
                serde_value(json!({
                    "code": code,
                    "name": crate::world::name_of(code).unwrap_or(code),
                    "value": crate::render::thousands(v),
                    "share": share_of(v),
                    "servers": l.points.first().map_or(0, |p| p.servers_reporting),
                }))
            })
        })
        .collect();
    let unknown = percent(countries.unknown_share().first().copied().flatten());

    let servers = data::geo(
        &state.storage,
        fedicensus_storage::SeriesMetric::ServersUp,
        &day,
        true,
    )
    .await?;
    let users = data::geo(
        &state.storage,
        fedicensus_storage::SeriesMetric::UsersTotal,
        &day,
        true,
    )
    .await?;
    let value_at = |series: &fedicensus_storage::GeoSeries, key: &Option<String>| {
        series
            .lines
            .iter()
            .find(|l| &l.key == key)
            .and_then(|l| l.points.first()?.value)
            .unwrap_or(0.0)
    };
    let total_of = |series: &fedicensus_storage::GeoSeries| {
        series.total.first().and_then(|p| p.value).unwrap_or(0.0)
    };
    let share = |v: f64, t: f64| (t > 0.0).then(|| format!("{:.1} %", 100.0 * v / t));
    let network_rows: Vec<Value> = servers
        .lines
        .iter()
        .filter(|l| l.key.is_some())
        .take(TABLE_NETWORKS)
        .map(|l| {
            let s = value_at(&servers, &l.key);
            let u = value_at(&users, &l.key);
            serde_value(json!({
                "asn": l.code(),
                "organization": l.name,
                "servers": crate::render::thousands(s),
                "servers_share": share(s, total_of(&servers)),
                "users": crate::render::thousands(u),
                "users_share": share(u, total_of(&users)),
            }))
        })
        .collect();
    let concentration = json!({
        "servers": percent(servers.top_share.first().copied().flatten()),
        "users": percent(users.top_share.first().copied().flatten()),
        "servers_unknown": percent(servers.unknown_share().first().copied().flatten()),
        "users_unknown": percent(users.unknown_share().first().copied().flatten()),
    });
    let csv = |path: &str, metric: &str| {
        format!("/api/v1/{path}/{metric}?from={date}&to={date}&granularity=day&format=csv")
    };
    let charts = charts_of(&state, ChartPage::Where, &params).await?;
    render(
        &state,
        "where.html",
        "/where",
        context! {
            title => "Where",
            located => located,
            date => date.to_string(),
            metric => metric.as_str(),
            unit => unit,
            maps => MAP_METRICS.iter().map(|(m, u)| json!({"metric": m.as_str(), "unit": u})).map(|v| Value::from(minijinja::value::Serde(v))).collect::<Vec<_>>(),
            map => Value::from_safe_string(map),
            map_csv => csv("countries", metric.as_str()),
            map_json => csv("countries", metric.as_str()).replace("&format=csv", ""),
            countries => country_rows,
            unknown => unknown,
            total => crate::render::thousands(total),
            networks => network_rows,
            networks_csv => csv("networks", "servers_up"),
            networks_users_csv => csv("networks", "users_total"),
            top => fedicensus_storage::TOP_NETWORKS,
            concentration => serde_value(concentration),
            charts => charts,
        },
    )
}

/// How many domains the Blocks page lists.
const MOST_BLOCKED_SHOWN: usize = 50;

/// `GET /blocks`: who blocks whom, from the block lists servers publish: the most-blocked
/// domains now (by servers, or `?by=users` by the blockers' users) and blocks added per week.
pub async fn blocks(State(state): State<AppState>, query: QueryMap) -> Result<Html<String>> {
    let params = Params::new(query, &["by"])?;
    let ranking = super::api::block_ranking(&params)?;
    let by_users = ranking == fedicensus_storage::BlockRanking::Users;
    let list = state
        .storage
        .most_blocked(ranking, MOST_BLOCKED_SHOWN)
        .await?;
    let weeks = state.storage.blocks_per_week().await?;
    let most = weeks
        .iter()
        .map(|w| w.added.max(w.removed))
        .max()
        .unwrap_or(0)
        .max(1);
    let domains: Vec<serde_json::Value> = list
        .domains
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "rank": i + 1,
                "domain": d.domain,
                "url": d.known.then(|| format!("/servers/{}", url_escape(&d.domain))),
                "blockers": d.blockers,
                "suspending": d.suspending,
                "blockers_users": d.blockers_users,
            })
        })
        .collect();
    let weeks: Vec<serde_json::Value> = weeks
        .iter()
        .rev()
        .map(|w| {
            json!({
                "week_start": w.week_start.to_string(),
                "added": w.added,
                "removed": w.removed,
                "at_first_read": w.at_first_read,
                "added_pct": w.added * 100 / most,
                "removed_pct": w.removed * 100 / most,
            })
        })
        .collect();
    let by = if by_users { "users" } else { "servers" };
    render(
        &state,
        "blocks.html",
        "/blocks",
        context! {
            title => "Blocks",
            by_users => by_users,
            lists_read => list.lists_read,
            unmatched => list.unmatched,
            domains => Value::from(minijinja::value::Serde(&domains)),
            weeks => Value::from(minijinja::value::Serde(&weeks)),
            most_csv => format!("/api/v1/blocks/most-blocked?by={by}&format=csv"),
            most_json => format!("/api/v1/blocks/most-blocked?by={by}"),
        },
    )
}

/// `GET /charts/{id}`: one chart with the URL's range, granularity, software and view.
pub async fn chart(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Html<String>> {
    let params = Params::new(query, CHART_PARAMS)?;
    let chart = state
        .config
        .charts
        .get(&id)
        .ok_or_else(|| Error::NotFound(format!("no chart {id:?}")))?;
    let range = data::data_range(&state.storage).await?;
    let c = compute(&state, chart, &params, range).await?;
    let view = chart_view(&c, images(&c), state.config.public_url.as_deref());
    render(
        &state,
        "charts.html",
        "",
        context! { title => chart.title.clone(), intro => "", charts => vec![view] },
    )
}

/// `GET /servers`: searchable, sortable, paginated.
pub async fn servers(State(state): State<AppState>, query: QueryMap) -> Result<Html<String>> {
    let params = Params::new(query, SERVER_PARAMS)?;
    let filter = server_filter(&params)?;
    let date = match params.date("date")? {
        Some(d) => d,
        None => data::data_range(&state.storage).await?.1,
    };
    let page = data::servers(&state.storage, date, &filter).await?;
    let per_page = filter.per_page.clamp(1, data::MAX_PER_PAGE);
    let pages = page.total.div_ceil(per_page).max(1);
    let mut base = format!(
        "sort={}&order={}&per_page={per_page}&date={date}",
        filter.sort.as_str(),
        if filter.descending { "desc" } else { "asc" }
    );
    let size = filter.size.map(|s| s.as_param());
    for (key, value) in [
        ("q", &filter.search),
        ("software", &filter.software),
        ("status", &filter.status),
        ("size", &size),
    ] {
        if let Some(v) = value {
            base.push_str(&format!("&{key}={}", url_escape(v)));
        }
    }
    let link = |n: usize| format!("/servers?{base}&page={n}");
    let servers: Vec<serde_json::Value> = page
        .servers
        .iter()
        .map(|s| {
            let mut v = server_json(s);
            v["url"] = json!(format!("/servers/{}", url_escape(s.host.as_str())));
            v["first_seen"] = json!(s.first_seen.to_rfc3339());
            v
        })
        .collect();
    let mut statuses = vec!["up"];
    statuses.extend(ServerStatus::ALL.iter().map(|s| s.as_str()));
    render(
        &state,
        "servers.html",
        "/servers",
        context! {
            title => "Servers",
            as_of => date.to_string(),
            total => page.total,
            unlisted => page.unlisted,
            servers => Value::from(minijinja::value::Serde(&servers)),
            q => filter.search.clone().unwrap_or_default(),
            software => filter.software.clone().unwrap_or_default(),
            status => filter.status.clone().unwrap_or_default(),
            statuses => statuses,
            size => size.clone().unwrap_or_default(),
            sizes => data::SizeFilter::BANDS.to_vec(),
            sort => filter.sort.as_str(),
            sorts => data::ServerSort::ACCEPTED.split(", ").collect::<Vec<_>>(),
            order => if filter.descending { "desc" } else { "asc" },
            page => filter.page,
            pages => pages,
            prev_url => (filter.page > 1).then(|| link(filter.page - 1)),
            next_url => (filter.page < pages).then(|| link(filter.page + 1)),
            csv_url => format!("/api/v1/servers?{base}&page={}&format=csv", filter.page),
            json_url => format!("/api/v1/servers?{base}&page={}", filter.page),
        },
    )
}

/// `GET /servers/{host}`: one server's visits, figures, outcomes and quality flags.
pub async fn server(
    State(state): State<AppState>,
    Path(host): Path<String>,
) -> Result<Html<String>> {
    let h = history(&state, &host).await?;
    let observations: Vec<serde_json::Value> = h
        .observations
        .iter()
        .rev()
        .map(|o| json!({
            "observed_at": o.observed_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            "outcome": o.outcome,
            "software_raw_name": o.software_raw_name,
            "software_version": o.software_raw_version.as_deref().map(shown_version),
            "software_version_full": o.software_raw_version,
            "users_total": o.users_total,
            "users_active_month": o.users_active_month,
            "local_posts": o.local_posts,
            "languages": o.languages.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(", "),
            "languages_sources": o.languages.iter().map(|(l, s)| format!("{l}: {s}")).collect::<Vec<_>>().join("; "),
            "location": o.location.as_ref().map(|l| {
                let country = l.country.as_deref().unwrap_or(fedicensus_storage::UNKNOWN);
                match (l.asn, &l.as_organization) {
                    (Some(asn), Some(org)) => format!("{country}, AS{asn} {org}"),
                    (Some(asn), None) => format!("{country}, AS{asn}"),
                    (None, _) => country.to_owned(),
                }
            }),
            "location_source": o.location.as_ref().map(|l| l.database.clone()),
            "quality_flags": o.quality_flags.iter().map(|(k, _, r)| json!({"kind": k, "reason": r})).collect::<Vec<_>>(),
        }))
        .collect();
    let activity: Vec<serde_json::Value> = h
        .activity
        .iter()
        .rev()
        .map(|w| json!({"week_start": w.week_start.to_rfc3339(), "statuses": w.statuses, "logins": w.logins, "registrations": w.registrations}))
        .collect();
    let aliases: Vec<serde_json::Value> = h
        .aliases
        .iter()
        .map(|a| json!({"alias": a.alias, "reason": a.reason, "first_seen": a.first_seen.format("%Y-%m-%d").to_string()}))
        .collect();
    let siblings: Vec<serde_json::Value> = h
        .siblings
        .iter()
        .map(|s| json!({"domain": s.domain, "url": format!("/servers/{}", url_escape(&s.domain)), "is_main": s.is_main, "first_seen": s.first_seen.format("%Y-%m-%d").to_string(), "last_seen": s.last_seen.format("%Y-%m-%d").to_string()}))
        .collect();
    let charts = server_charts(&h, state.config.public_url.as_deref().unwrap_or(""));
    let escaped = url_escape(h.host.as_str());
    let (blocked_by, blocks) = super::api::server_block_edges(&state, h.host.as_str()).await?;
    let day = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
    let edge = |e: &fedicensus_storage::BlockEdge, other: &str| {
        json!({
            "other": other,
            "url": format!("/servers/{}", url_escape(other)),
            "published": e.published,
            "obfuscated": e.published.contains('*'),
            "severity": e.severity,
            "comment": e.comment,
            "source": e.source,
            "first_seen": day(e.first_seen),
            "last_seen": day(e.last_seen),
            "current": e.current,
        })
    };
    let blocked_by: Vec<serde_json::Value> =
        blocked_by.iter().map(|e| edge(e, &e.blocker)).collect();
    let blocks: Vec<serde_json::Value> = blocks
        .iter()
        .map(|e| edge(e, e.blocked.as_deref().unwrap_or(&e.published)))
        .collect();
    render(
        &state,
        "server.html",
        "/servers",
        context! {
            title => h.host.as_str().to_owned(),
            domain => h.host.as_str().to_owned(),
            status => h.status.as_str(),
            first_seen => h.first_seen.format("%Y-%m-%d").to_string(),
            revealed_by => h.revealed_by.clone(),
            moved_to => h.moved_to.clone(),
            observations => Value::from(minijinja::value::Serde(&observations)),
            activity => Value::from(minijinja::value::Serde(&activity)),
            aliases => Value::from(minijinja::value::Serde(&aliases)),
            siblings => Value::from(minijinja::value::Serde(&siblings)),
            charts => Value::from(minijinja::value::Serde(&charts)),
            csv_url => format!("/api/v1/servers/{escaped}/history.csv"),
            json_url => format!("/api/v1/servers/{escaped}"),
            blocked_by => Value::from(minijinja::value::Serde(&blocked_by)),
            blocks => Value::from(minijinja::value::Serde(&blocks)),
            blocks_csv => format!("/api/v1/servers/{escaped}/blocks?format=csv"),
            blocks_json => format!("/api/v1/servers/{escaped}/blocks"),
        },
    )
}

/// Longest software version shown whole in a server's visits table (free text, as the server
/// sent it; the full string is in the cell's title and in the CSV).
const VERSION_SHOWN: usize = 40;

/// A version as the visits table shows it: whole when short, else its start and an ellipsis.
fn shown_version(raw: &str) -> String {
    if raw.chars().count() <= VERSION_SHOWN {
        raw.to_owned()
    } else {
        let start: String = raw.chars().take(VERSION_SHOWN - 1).collect();
        format!("{start}…")
    }
}

/// One server's history charts ([`crate::server_chart`]), each drawn for wide screens and for
/// phones, with its embed snippets (the dashboard's public address before them when known).
fn server_charts(
    h: &fedicensus_storage::ServerHistory,
    public_url: &str,
) -> Vec<serde_json::Value> {
    server_chart::FIGURES
        .iter()
        .filter_map(|(metric, _)| server_chart::chart(h, *metric))
        .map(|(chart, series)| {
            let [wide, phone] =
                [Size::DESKTOP, Size::PHONE].map(|size| render_svg(&chart, &series, &[], size));
            let label = series[0].name.clone();
            json!({
                "id": chart.id,
                "title": label,
                "svg": wide,
                "svg_phone": phone,
                "embeds": server_chart::embed_snippets(public_url, &h.host, series[0].metric, &chart.title),
                "embeds_relative": public_url.is_empty(),
            })
        })
        .collect()
}

/// `GET /crawl`: recent runs and outcomes by class.
pub async fn crawl(State(state): State<AppState>) -> Result<Html<String>> {
    let mut runs = state.storage.runs().await?;
    runs.reverse();
    runs.truncate(50);
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for r in &runs {
        for (o, n) in &r.outcomes {
            *totals.entry(o.clone()).or_default() += n;
        }
    }
    let inconclusive = totals.get("inconclusive").copied().unwrap_or(0);
    let mut totals: Vec<(String, u64)> = totals.into_iter().collect();
    totals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let runs: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| {
            json!({
                "id": r.id.0,
                "started_at": r.started_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                "finished_at": r.finished_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
                "crawler_version": r.crawler_version,
                "visits": r.outcomes.values().sum::<u64>(),
                "outcomes": r.outcomes.iter().collect::<Vec<_>>(),
                "inconclusive": r.outcomes.get("inconclusive").copied().unwrap_or(0),
                "health": r.health.map(|h| {
                    let took = r
                        .finished_at
                        .map(|f| (f - r.started_at).num_milliseconds().max(1) as f64);
                    json!({
                        "lag_p99_ms": h.lag_p99_ms,
                        "lag_max_ms": h.lag_max_ms,
                        "stalled_s": format!("{:.1}", h.stalled_ms as f64 / 1000.0),
                        "stalled_share": took.map(|t| format!("{:.0} %", (h.stalled_ms as f64 * 100.0 / t).min(100.0))),
                        "cpu": h.cpu_permille.map(|c| format!("{:.0} %", c as f64 / 10.0)),
                        "visit_limit": format!("{}–{}", h.visit_limit_min, h.visit_limit_max),
                    })
                }),
            })
        })
        .collect();
    let now = chrono::Utc::now();
    let minute = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let schedule: Vec<serde_json::Value> = state
        .storage
        .schedule(now)
        .await?
        .iter()
        .map(|r| {
            json!({
                "status": r.status.as_str(),
                "servers": r.servers,
                "due_now": r.due_now,
                "due_within_hour": r.due_within_hour,
                "due_within_day": r.due_within_day,
                "leased": r.leased,
                "visited_last_day": r.visited_last_day,
                "visited_last_week": r.visited_last_week,
                "never_visited": r.never_visited,
            })
        })
        .collect();
    let requests: Vec<serde_json::Value> = state
        .storage
        .crawl_requests(10)
        .await?
        .iter()
        .map(|r| {
            json!({
                "requested_at": minute(r.requested_at),
                "requested_by": r.requested_by,
                "started_at": r.started_at.map(minute),
                "started_by": r.started_by,
            })
        })
        .collect();
    let unlisted = state.storage.unlisted().await?;
    render(
        &state,
        "crawl.html",
        "/crawl",
        context! {
            title => "Crawl health",
            robots_opted_out => unlisted.robots_opted_out,
            operator_opted_out => unlisted.operator_opted_out,
            now => minute(now),
            runs => Value::from(minijinja::value::Serde(&runs)),
            totals => Value::from(minijinja::value::Serde(&totals)),
            inconclusive => inconclusive,
            schedule => Value::from(minijinja::value::Serde(&schedule)),
            requests => Value::from(minijinja::value::Serde(&requests)),
        },
    )
}

/// `GET /methodology`: every definition (docs/METHODOLOGY.md) and the crawler's etiquette.
pub async fn methodology(State(state): State<AppState>) -> Result<Html<String>> {
    let e = &state.config.etiquette;
    render(
        &state,
        "methodology.html",
        "/methodology",
        context! {
            title => "Methodology and etiquette",
            user_agent => e.user_agent.clone(),
            robots_token => e.robots_token.clone(),
            contact_url => e.contact_url.clone(),
            methodology => Value::from_safe_string(methodology_html()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_versions_are_cut_at_a_character_boundary_and_short_ones_kept() {
        assert_eq!(shown_version("4.0.2"), "4.0.2");
        let long = "ü".repeat(60);
        let shown = shown_version(&long);
        assert_eq!(shown.chars().count(), VERSION_SHOWN);
        assert!(shown.ends_with('…'));
        assert_eq!(
            shown_version(&"x".repeat(VERSION_SHOWN)),
            "x".repeat(VERSION_SHOWN)
        );
    }
}
