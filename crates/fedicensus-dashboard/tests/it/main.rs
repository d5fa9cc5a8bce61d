//! Integration tests: the dashboard served on 127.0.0.1:0 over a fresh SQLite database filled
//! through storage's public write API, asked over real HTTP.

mod attacks;
mod blocks;
mod browser;
mod cache;
mod coverage;
mod embed;
mod exports;
mod geo;
mod grafana;
mod incomplete;
mod languages;
mod last_crawl;
mod live;
mod phone;
mod png;
mod reference;

use anyhow::{Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use fedicensus_core::{
    Host, Measurement, Metric, Observation, Outcome, Software, SoftwareReport, Source,
};
use fedicensus_dashboard::{AppState, ChartSet, DashboardConfig, Etiquette};
use fedicensus_storage::{RunStart, Storage};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A hostile software name: markup for HTML and a formula for spreadsheets.
pub const HOSTILE: &str = "=HYPERLINK(\"http://x\")<script>alert(1)</script>\"onload=";
pub const TOKEN: &str = "a-long-admin-token-for-tests";

#[derive(Debug)]
pub struct App {
    pub addr: SocketAddr,
    /// The database behind the app, for tests that add data while it runs.
    pub storage: Storage,
    _dir: TempDir,
}

/// A temporary directory removed on drop (no tempfile dependency needed).
#[derive(Debug)]
pub struct TempDir(pub std::path::PathBuf);
impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "fedicensus-dashboard-{tag}-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn at(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, month, day, 12, 0, 0)
        .single()
        .expect("a valid instant")
}

pub fn ok(
    host: &str,
    when: DateTime<Utc>,
    family: Software,
    raw: &str,
    users: u64,
    mau: Option<u64>,
) -> Observation {
    let mut o = Observation::failed(Host::from_normalised(host), when, Outcome::Ok, 40);
    o.software = Some(SoftwareReport {
        family,
        raw_name: raw.into(),
        raw_version: "4.0.2".into(),
        version: Some("4.0.2".into()),
    });
    o.measurements.push(Measurement {
        metric: Metric::UsersTotal,
        source: Source::NodeInfo,
        value: users,
    });
    if let Some(m) = mau {
        o.measurements.push(Measurement {
            metric: Metric::UsersActiveMonth,
            source: Source::NodeInfo,
            value: m,
        });
    }
    o
}

/// Two crawl runs in autumn 2022: a growing Mastodon server, one that died, a Misskey server
/// without monthly actives, and a server with a hostile software name.
pub async fn fill(storage: &Storage) -> Result<()> {
    let hostile_family = Software::Other(HOSTILE.to_lowercase());
    for (start, observations) in [
        (
            at(10, 15),
            vec![
                ok(
                    "big.example",
                    at(10, 15),
                    Software::Mastodon,
                    "mastodon",
                    1_000,
                    Some(300),
                ),
                ok(
                    "dead.example",
                    at(10, 15),
                    Software::Mastodon,
                    "mastodon",
                    50,
                    Some(10),
                ),
                ok(
                    "misskey.example",
                    at(10, 15),
                    Software::Misskey,
                    "misskey",
                    150,
                    None,
                ),
                ok(
                    "evil.example",
                    at(10, 15),
                    hostile_family.clone(),
                    HOSTILE,
                    5,
                    None,
                ),
            ],
        ),
        (
            at(11, 20),
            vec![
                ok(
                    "big.example",
                    at(11, 20),
                    Software::Mastodon,
                    "mastodon",
                    1_500,
                    Some(500),
                ),
                Observation::failed(
                    Host::from_normalised("dead.example"),
                    at(11, 10),
                    Outcome::Timeout,
                    10_000,
                ),
                Observation::failed(
                    Host::from_normalised("dead.example"),
                    at(11, 20),
                    Outcome::Timeout,
                    10_000,
                ),
                ok(
                    "misskey.example",
                    at(11, 20),
                    Software::Misskey,
                    "misskey",
                    200,
                    None,
                ),
                ok(
                    "evil.example",
                    at(11, 20),
                    hostile_family.clone(),
                    HOSTILE,
                    7,
                    None,
                ),
            ],
        ),
    ] {
        let run = storage
            .start_run(&RunStart {
                started_at: start,
                crawler_version: "test".into(),
                config_hash: "test".into(),
                seeds: vec![Host::from_normalised("big.example")],
            })
            .await?;
        for o in &observations {
            storage.record_observation(o, Some(run)).await?;
        }
        storage
            .finish_run(run, start + chrono::Duration::hours(1))
            .await?;
    }
    Ok(())
}

/// Spawns the dashboard over a fresh database; `admin` sets the admin token.
pub async fn spawn_app(admin: bool) -> Result<App> {
    spawn_app_with(admin, false).await
}

/// [`spawn_app`], with the pages `warm_up` computes already in the cache when `warm`.
pub async fn spawn_app_with(admin: bool, warm: bool) -> Result<App> {
    spawn_app_limited(admin, warm, fedicensus_dashboard::ServeLimits::default()).await
}

/// [`spawn_app_with`], served under `limits`.
pub async fn spawn_app_limited(
    admin: bool,
    warm: bool,
    limits: fedicensus_dashboard::ServeLimits,
) -> Result<App> {
    let dir = TempDir::new("it");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let url = format!("sqlite://{}?mode=rwc", dir.0.join("census.db").display());
    let storage = Storage::connect(&url).await.context("open storage")?;
    fill(&storage).await.context("fill the database")?;
    let config = DashboardConfig {
        charts: ChartSet::embedded()?,
        admin_token: admin.then(|| TOKEN.to_owned()),
        etiquette: Etiquette::default(),
        db_size: Some(std::sync::Arc::new(|| Some(4096))),
        public_url: Some(format!("http://{addr}")),
    };
    // The data's version is read on every request, so data added by a test shows at once.
    let state =
        AppState::new(storage.clone(), config)?.with_version_refresh(std::time::Duration::ZERO);
    if warm {
        fedicensus_dashboard::warm_up(state.clone()).await;
    }
    tokio::spawn(fedicensus_dashboard::serve_with(
        listener,
        fedicensus_dashboard::router(state),
        limits,
        std::future::pending(),
    ));
    Ok(App {
        addr,
        storage,
        _dir: dir,
    })
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// One HTTP/1.1 request on its own connection (`Connection: close`, read to the end).
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Response> {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").context("a response head")?;
        let status = head.split(' ').nth(1).context("a status")?.parse()?;
        Ok(Response {
            status,
            headers: head.to_lowercase(),
            body: body.to_owned(),
        })
    }

    pub async fn get(&self, path: &str) -> Result<Response> {
        self.request("GET", path, &[], "").await
    }

    /// Opts `host` out through the admin API (an app spawned with admin on), as its operator
    /// would ask.
    pub async fn opt_out(&self, host: &str) -> Result<Response> {
        let auth = format!("Bearer {TOKEN}");
        let body = serde_json::json!({ "host": host }).to_string();
        self.request(
            "POST",
            "/api/v1/admin/opt-out",
            &[("Authorization", &auth)],
            &body,
        )
        .await
    }
}

#[tokio::test]
async fn the_overview_shows_headline_numbers_as_of_a_date_with_servers_reporting() -> Result<()> {
    let app = spawn_app(false).await?;
    let r = app.get("/").await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("As of <strong>2022-11-20</strong>"),
        "{}",
        r.body
    );
    // 1,500 + 200 + 7: the dead server's last figure is older than the 30-day carry-forward.
    assert!(r.body.contains("1,707"), "registered users summed");
    assert!(
        r.body.contains("of 3 servers reporting"),
        "the users' denominator"
    );
    assert!(
        r.body.contains("of 1 server reporting"),
        "only one server reports monthly actives"
    );
    assert!(r.body.contains("<svg"), "charts are inline SVG");
    assert!(
        r.body.contains("servers reporting</th>"),
        "every chart has its data table"
    );
    Ok(())
}

#[tokio::test]
async fn every_page_answers_200() -> Result<()> {
    let app = spawn_app(false).await?;
    for path in [
        "/",
        "/growth",
        "/software",
        "/concentration",
        "/comparison",
        "/servers",
        "/servers?q=big&sort=domain&order=asc",
        "/servers/big.example",
        "/crawl",
        "/methodology",
        "/charts/migration-2022-servers?granularity=week&view=raw",
    ] {
        let r = app.get(path).await?;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    let m = app.get("/methodology").await?.body;
    assert!(
        m.contains("fedicensus&#x2f;0.1.0 (+") && m.contains("robots.txt") && m.contains("opt out")
    );
    assert!(
        m.contains("servers_reporting"),
        "the methodology document is rendered"
    );
    Ok(())
}

#[tokio::test]
async fn series_json_and_csv_give_the_same_points() -> Result<()> {
    let app = spawn_app(false).await?;
    for metric in [
        "servers_known",
        "servers_up",
        "users_total",
        "users_active_month",
    ] {
        let q = "from=2022-10-10&to=2022-11-30&granularity=week";
        let json = app.get(&format!("/api/v1/series/{metric}?{q}")).await?;
        assert_eq!(json.status, 200, "{}", json.body);
        let v: serde_json::Value = serde_json::from_str(&json.body)?;
        let csv = app
            .get(&format!("/api/v1/series/{metric}?{q}&format=csv"))
            .await?;
        assert!(csv.headers.contains("text/csv"));
        let lines: Vec<&str> = csv.body.lines().collect();
        assert_eq!(lines[0], "date,value,servers_reporting,complete");
        let points = v["points"].as_array().context("points")?;
        assert_eq!(points.len(), lines.len() - 1);
        for (p, line) in points.iter().zip(&lines[1..]) {
            let value = match p["value"].as_f64() {
                Some(x) => x.to_string(),
                None => String::new(),
            };
            let expected = format!(
                "{},{},{},{}",
                p["date"].as_str().unwrap_or_default(),
                value,
                p["servers_reporting"],
                p["complete"]
            );
            assert_eq!(*line, expected, "{metric}");
        }
    }
    let v: serde_json::Value = serde_json::from_str(
        &app.get("/api/v1/series/users_active_month?from=2022-11-20&to=2022-11-20")
            .await?
            .body,
    )?;
    assert_eq!(
        v["points"][0]["value"], 500.0,
        "the Misskey server has no MAU: left out, not zero"
    );
    assert_eq!(v["points"][0]["servers_reporting"], 1);
    Ok(())
}

#[tokio::test]
async fn bad_parameters_answer_400_with_json_saying_what_is_accepted() -> Result<()> {
    let app = spawn_app(false).await?;
    for (path, accepted) in [
        ("/api/v1/series/users?from=2022-10-01", "servers_known"),
        ("/api/v1/series/servers_up?from=2022-13-01", "YYYY-MM-DD"),
        (
            "/api/v1/series/servers_up?granularity=year",
            "day, week, month",
        ),
        ("/api/v1/series/servers_up?format=xml", "json, csv"),
        ("/api/v1/series/servers_up?form=2022-10-01", "from"),
        (
            "/api/v1/series/servers_up?from=2022-11-01&to=2022-10-01",
            "on or before",
        ),
        ("/api/v1/servers?sort=size", "domain, users"),
        ("/api/v1/servers?page=0", "1 to"),
        ("/servers?status=sleepy", "alive"),
        ("/api/v1/servers?size=big", "N-M"),
        ("/api/v1/servers?size=1-2-3", "N-M"),
        ("/api/v1/servers?size=%2B", "N-M"),
        ("/servers?size=1000-10", "N+"),
        ("/api/v1/charts/overview-servers/gif", "svg, png, csv, json"),
    ] {
        let r = app.get(path).await?;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(r.headers.contains("application/json"), "{path}");
        let v: serde_json::Value = serde_json::from_str(&r.body)?;
        let msg = v["error"].as_str().context("an error message")?;
        assert!(msg.contains(accepted), "{path}: {msg}");
    }
    Ok(())
}

#[tokio::test]
async fn the_servers_listing_filters_by_size() -> Result<()> {
    let app = spawn_app(false).await?;
    // As of the last run: big 1,500 users, misskey 200, evil 7; dead last reported 50.
    let domains = |body: &str| -> Result<Vec<String>> {
        let v: serde_json::Value = serde_json::from_str(body)?;
        Ok(v["servers"]
            .as_array()
            .context("servers")?
            .iter()
            .filter_map(|s| s["domain"].as_str().map(str::to_owned))
            .collect())
    };
    let all = app.get("/api/v1/servers?sort=domain&order=asc").await?;
    let all: serde_json::Value = serde_json::from_str(&all.body)?;
    let users = |domain: &str| {
        all["servers"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["domain"] == domain))
            .and_then(|s| s["users_total"].as_u64())
    };
    assert_eq!(users("big.example"), Some(1_500));
    assert_eq!(users("misskey.example"), Some(200));
    for (size, expected) in [
        ("101-1000", vec!["misskey.example"]),
        ("1001-10000", vec!["big.example"]),
        ("200", vec!["misskey.example"]),
        ("200+", vec!["big.example", "misskey.example"]),
        ("200%2B", vec!["big.example", "misskey.example"]),
        ("200-", vec!["big.example", "misskey.example"]),
        ("2-10", vec!["evil.example"]),
        ("10001+", vec![]),
    ] {
        let r = app
            .get(&format!(
                "/api/v1/servers?sort=domain&order=asc&size={size}"
            ))
            .await?;
        assert_eq!(r.status, 200, "{size}: {}", r.body);
        assert_eq!(domains(&r.body)?, expected, "size={size}");
    }
    // The page keeps the filter in its form and its links.
    let r = app.get("/servers?size=101-1000").await?;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("<option selected>101-1000</option>"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("size=101-1000&amp;page=1&amp;format=csv"),
        "{}",
        r.body
    );
    assert!(r.body.contains("misskey.example") && !r.body.contains(">big.example<"));
    Ok(())
}

#[tokio::test]
async fn a_server_page_charts_its_history_and_names_its_aliases() -> Result<()> {
    let app = spawn_app(false).await?;
    app.storage
        .add_alias(
            &Host::from_normalised("www.big.example"),
            &Host::from_normalised("big.example"),
            "www",
            at(10, 16),
        )
        .await?;
    let page = app.get("/servers/big.example").await?;
    assert_eq!(page.status, 200);
    for id in ["server-users_total", "server-users_active_month"] {
        let section = page
            .body
            .split(&format!("<section class=\"server-chart\" id=\"{id}\">"))
            .nth(1)
            .with_context(|| format!("no {id} chart"))?;
        let section = section.split("</section>").next().unwrap_or_default();
        // Drawn for wide screens and phones, each plotting the two successful visits.
        assert_eq!(section.matches("<svg").count(), 2, "{id}");
        assert!(
            section.contains("data-points=\"2\""),
            "{id}: {section:.300}"
        );
    }
    assert!(
        page.body.contains("1,500"),
        "the latest figure is on the page"
    );
    // big.example never reported posts: no chart for them.
    assert!(!page.body.contains("id=\"server-local_posts\""));
    assert!(page
        .body
        .contains("<td>www.big.example</td><td>www</td><td>2022-10-16</td>"));
    // Misskey reported no monthly actives: only its users chart.
    let page = app.get("/servers/misskey.example").await?;
    assert!(page.body.contains("id=\"server-users_total\""));
    assert!(!page.body.contains("id=\"server-users_active_month\""));
    assert!(!page.body.contains("Other names"));
    // A server that failed once and never answered after keeps its one chart point.
    let page = app.get("/servers/dead.example").await?;
    assert!(page.body.contains("data-points=\"1\""));
    assert!(!page.body.contains("Other servers of this installation"));
    Ok(())
}

#[tokio::test]
async fn a_server_page_lists_the_other_domains_of_its_installation() -> Result<()> {
    let app = spawn_app(false).await?;
    // Takahē's second domain: its NodeInfo link named big.example's document.
    let mut second = ok(
        "two.big.example",
        at(11, 20),
        Software::Takahe,
        "takahe",
        4,
        None,
    );
    second.nodeinfo_elsewhere = Some(Host::from_normalised("big.example"));
    app.storage.ingest_bulk(&[second], None).await?;
    let page = app.get("/servers/big.example").await?;
    assert!(page.body.contains("Other servers of this installation"));
    assert!(
        page.body.contains(
            "<td><a href=\"&#x2f;servers&#x2f;two.big.example\">two.big.example</a></td>\
             <td>its NodeInfo links to this server</td><td>2022-11-20</td><td>2022-11-20</td>"
        ),
        "{}",
        page.body
    );
    let page = app.get("/servers/two.big.example").await?;
    assert!(page
        .body
        .contains("this server's NodeInfo links to it (the main domain)"));
    let r = app.get("/api/v1/servers/two.big.example").await?;
    let v: serde_json::Value = serde_json::from_str(&r.body)?;
    assert_eq!(v["siblings"][0]["domain"], "big.example");
    assert_eq!(v["siblings"][0]["relation"], "main_domain");
    Ok(())
}

#[tokio::test]
async fn the_versions_chart_splits_servers_up_by_version_and_adds_up_to_them() -> Result<()> {
    let app = spawn_app(false).await?;
    // Five more Mastodon servers on 2022-11-20: 4.0 twice (one as "v4.0.0"), 3.5, a glitch
    // fork of 3.5, and one whose version string has no version.
    let mut more = Vec::new();
    for (host, version) in [
        ("m1.example", "4.0.0"),
        ("m2.example", "v4.0.0"),
        ("m3.example", "3.5.3"),
        ("m4.example", "3.5.5+glitch"),
        ("m5.example", "=cmd|' /C calc'!A0"),
    ] {
        let mut o = ok(host, at(11, 20), Software::Mastodon, "mastodon", 10, None);
        if let Some(s) = o.software.as_mut() {
            s.raw_version = version.into();
            s.version = fedicensus_core::parse::version::normalise_version(version);
        }
        more.push(o);
    }
    app.storage.ingest_bulk(&more, None).await?;
    let r = app
        .get("/api/v1/charts/software-versions/json?from=2022-11-20&to=2022-11-20&granularity=day")
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body)?;
    let value = |name: &str| -> Option<f64> {
        v["series"].as_array()?.iter().find(|s| s["name"] == name)?["points"][0]["value"].as_f64()
    };
    // big.example (4.0.2), m1, m2: 4.0; m3, m4: 3.5; m5: unknown. dead.example is not up.
    assert_eq!(value("mastodon 4.0"), Some(3.0), "{}", r.body);
    assert_eq!(value("mastodon 3.5"), Some(2.0), "{}", r.body);
    assert_eq!(value("version unknown"), Some(1.0), "{}", r.body);
    assert_eq!(
        value("other versions"),
        None,
        "no other versions: {}",
        r.body
    );
    let up = app
        .get("/api/v1/series/servers_up?from=2022-11-20&to=2022-11-20&software=mastodon")
        .await?;
    let up: serde_json::Value = serde_json::from_str(&up.body)?;
    assert_eq!(
        up["points"][0]["value"].as_f64(),
        Some(6.0),
        "the stack adds up"
    );
    // The Software page draws it.
    let page = app.get("/software").await?;
    assert!(page.body.contains("id=\"software-versions\""));
    Ok(())
}

#[tokio::test]
async fn csv_cells_from_crawled_servers_are_neutralised_but_numbers_are_not() -> Result<()> {
    let app = spawn_app(false).await?;
    let r = app
        .get("/api/v1/servers?format=csv&sort=domain&order=asc")
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("evil.example,\"'=hyperlink("), "{}", r.body);
    assert!(!r.body.contains(",=hyperlink"), "no cell starts with =");
    let r = app.get("/api/v1/servers/evil.example/history.csv").await?;
    assert!(r.body.contains("'=HYPERLINK("), "{}", r.body);
    Ok(())
}

#[tokio::test]
async fn text_from_crawled_servers_is_escaped_in_html() -> Result<()> {
    let app = spawn_app(false).await?;
    for path in ["/servers?sort=domain", "/servers/evil.example", "/software"] {
        let r = app.get(path).await?;
        assert_eq!(r.status, 200, "{path}");
        assert!(
            !r.body.contains("<script>alert(1)"),
            "{path} has raw markup"
        );
        assert!(
            !r.body.contains("\"onload="),
            "{path} has a raw attribute breaker"
        );
    }
    let r = app.get("/servers/evil.example").await?;
    assert!(r.body.contains("&lt;script&gt;alert(1)&lt;"), "{}", r.body);
    Ok(())
}

#[tokio::test]
async fn the_openapi_document_covers_every_route_and_responses_have_its_required_fields(
) -> Result<()> {
    let app = spawn_app(false).await?;
    let doc: serde_json::Value =
        serde_json::from_str(&app.get("/api/v1/openapi.json").await?.body)?;
    for (method, path) in fedicensus_dashboard::router::API_ROUTES {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    let documented = doc["paths"].as_object().context("paths")?;
    assert_eq!(
        documented.len(),
        fedicensus_dashboard::router::API_ROUTES.len(),
        "no documented path is missing from the router"
    );
    // The chart files' query parameters, width included, are exactly the documented ones.
    let mut params: Vec<&str> = doc["paths"]["/api/v1/charts/{id}/{format}"]["get"]["parameters"]
        .as_array()
        .context("parameters")?
        .iter()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str())
        .collect();
    params.sort_unstable();
    let mut accepted = fedicensus_dashboard::routes::charts::FILE_PARAMS.to_vec();
    accepted.sort_unstable();
    assert_eq!(params, accepted, "documented and accepted chart parameters");
    for (path, schema) in [
        ("/api/v1/series/servers_up?granularity=week", "Series"),
        (
            "/api/v1/series/users_active_month?software=mastodon",
            "Series",
        ),
        ("/api/v1/servers", "ServerList"),
        ("/api/v1/servers/big.example", "ServerHistory"),
        ("/api/v1/servers/dead.example", "ServerHistory"),
        ("/api/v1/annotations", "Annotations"),
        ("/api/v1/runs", "Runs"),
        ("/api/v1/charts", "Charts"),
        ("/api/v1/charts/overview-users/json", "ChartData"),
        ("/api/v1/series/nope", "Error"),
    ] {
        let v: serde_json::Value = serde_json::from_str(&app.get(path).await?.body)?;
        let mut wrong = Vec::new();
        conforms(
            &doc,
            &doc["components"]["schemas"][schema],
            &v,
            "$",
            &mut wrong,
        );
        assert!(wrong.is_empty(), "{path} against {schema}: {wrong:#?}");
    }
    // The checker itself tells a wrong type, a missing field and a wrong item apart.
    let mut wrong = Vec::new();
    let bad = serde_json::json!({"points": [{"date": 5}], "metric": null});
    conforms(
        &doc,
        &doc["components"]["schemas"]["Series"],
        &bad,
        "$",
        &mut wrong,
    );
    assert!(wrong.iter().any(|w| w.contains("$.metric")), "{wrong:?}");
    assert!(
        wrong.iter().any(|w| w.contains("$.points[0].date")),
        "{wrong:?}"
    );
    assert!(wrong.iter().any(|w| w.contains("missing")), "{wrong:?}");
    Ok(())
}

/// Checks `value` against `schema` (the subset of JSON Schema the OpenAPI document uses: `$ref`,
/// `type` as a name or a list, `required`, `properties`, `items`, and the `date` and `date-time`
/// formats), pushing what does not fit, with its JSON path, to `wrong`.
pub fn conforms(
    doc: &serde_json::Value,
    schema: &serde_json::Value,
    value: &serde_json::Value,
    at: &str,
    wrong: &mut Vec<String>,
) {
    use serde_json::Value;
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        if target.is_null() {
            wrong.push(format!("{at}: unknown schema {reference}"));
        } else {
            conforms(doc, target, value, at, wrong);
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let fits = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    };
    if !types.is_empty() && !types.iter().any(|t| fits(t)) {
        wrong.push(format!("{at}: {value} is not {}", types.join(" or ")));
        return;
    }
    if let (Some(format), Some(text)) = (schema["format"].as_str(), value.as_str()) {
        let ok = match format {
            "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
            "date-time" => DateTime::parse_from_rfc3339(text).is_ok(),
            _ => true,
        };
        if !ok {
            wrong.push(format!("{at}: {text:?} is not a {format}"));
        }
    }
    if let Some(object) = value.as_object() {
        for field in schema["required"].as_array().into_iter().flatten() {
            let field = field.as_str().unwrap_or_default();
            if !object.contains_key(field) {
                wrong.push(format!("{at}.{field}: missing"));
            }
        }
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                if let Some(v) = object.get(name) {
                    conforms(doc, property, v, &format!("{at}.{name}"), wrong);
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            conforms(doc, items, item, &format!("{at}[{i}]"), wrong);
        }
    }
}

#[tokio::test]
async fn admin_actions_are_off_without_a_token_and_need_the_right_one() -> Result<()> {
    let off = spawn_app(false).await?;
    let r = off
        .request(
            "POST",
            "/api/v1/admin/seeds",
            &[("Authorization", &format!("Bearer {TOKEN}"))],
            r#"{"hosts":["new.example.org"]}"#,
        )
        .await?;
    assert_eq!(r.status, 404, "{}", r.body);

    let app = spawn_app(true).await?;
    let body = r#"{"hosts":["new.example.org"]}"#;
    assert_eq!(
        app.request("POST", "/api/v1/admin/seeds", &[], body)
            .await?
            .status,
        403
    );
    assert_eq!(
        app.request(
            "POST",
            "/api/v1/admin/seeds",
            &[("Authorization", "Bearer wrong-token-of-some-length")],
            body
        )
        .await?
        .status,
        403
    );
    let auth = format!("Bearer {TOKEN}");
    let r = app
        .request(
            "POST",
            "/api/v1/admin/seeds",
            &[("Authorization", &auth)],
            body,
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"added\":1"));
    let r = app
        .request(
            "POST",
            "/api/v1/admin/seeds",
            &[("Authorization", &auth)],
            r#"{"hosts":["not a host!"]}"#,
        )
        .await?;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app
        .request(
            "POST",
            "/api/v1/admin/opt-out",
            &[("Authorization", &auth)],
            r#"{"host":"big.example"}"#,
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.get("/servers/big.example").await?.status,
        404,
        "an opted-out server is not listed"
    );
    let r = app
        .request(
            "POST",
            "/api/v1/admin/annotations",
            &[("Authorization", &auth)],
            r#"{"date":"2022-11-01","title":"Test marker"}"#,
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(app
        .get("/api/v1/annotations?from=2022-11-01&to=2022-11-01")
        .await?
        .body
        .contains("Test marker"));

    // Start a crawl: a request waits for a crawl daemon (the CLI's e2e test runs one); asking
    // again while it waits is the same request; the Crawl health page shows it.
    let doc: serde_json::Value =
        serde_json::from_str(&app.get("/api/v1/openapi.json").await?.body)?;
    assert_eq!(
        app.request("POST", "/api/v1/admin/crawl", &[], "")
            .await?
            .status,
        403
    );
    let r = app
        .request(
            "POST",
            "/api/v1/admin/crawl",
            &[("Authorization", &auth)],
            "",
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let first: serde_json::Value = serde_json::from_str(&r.body)?;
    let mut wrong = Vec::new();
    conforms(
        &doc,
        &doc["components"]["schemas"]["CrawlRequested"],
        &first,
        "$",
        &mut wrong,
    );
    assert!(wrong.is_empty(), "{wrong:?}");
    assert_eq!(first["new"], true);
    assert_eq!(first["requested_by"], "admin");
    let r = app
        .request(
            "POST",
            "/api/v1/admin/crawl",
            &[("Authorization", &auth)],
            r#"{"by":"<b>night shift</b>"}"#,
        )
        .await?;
    let again: serde_json::Value = serde_json::from_str(&r.body)?;
    assert_eq!(
        (again["id"].clone(), again["new"].clone()),
        (first["id"].clone(), false.into())
    );
    for bad in [r#"{"by":""}"#, r#"{"who":"x"}"#, "not json"] {
        let r = app
            .request(
                "POST",
                "/api/v1/admin/crawl",
                &[("Authorization", &auth)],
                bad,
            )
            .await?;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let page = app.get("/crawl").await?;
    assert!(page.body.contains("Crawls asked for"), "{}", page.body);
    assert!(
        page.body.contains("waiting for a crawl daemon"),
        "{}",
        page.body
    );
    app.storage
        .start_crawl_requests(Utc::now(), "worker-7")
        .await?;
    let page = app.get("/crawl").await?;
    assert!(page.body.contains("worker-7"), "{}", page.body);
    Ok(())
}

#[tokio::test]
async fn metrics_and_healthz_answer() -> Result<()> {
    let app = spawn_app(false).await?;
    let h = app.get("/healthz").await?;
    assert_eq!(h.status, 200);
    assert!(h.body.contains("\"ok\""));
    app.get("/").await?;
    let m = app.get("/metrics").await?;
    assert_eq!(m.status, 200);
    for needle in [
        "fedicensus_http_requests_total{route=\"/\",status=\"200\"} 1",
        "fedicensus_http_request_duration_seconds_count{route=\"/\"}",
        "fedicensus_database_size_bytes 4096",
        "fedicensus_crawl_runs_total 2",
        "fedicensus_last_crawl_finished_timestamp_seconds",
        "fedicensus_crawl_visits_total{outcome=\"timeout\"} 2",
    ] {
        assert!(m.body.contains(needle), "{needle} missing in\n{}", m.body);
    }
    Ok(())
}

/// Says that a test (or its PostgreSQL half) did not run and why, visibly: on standard error,
/// and as a line in the file `FEDICENSUS_SKIPPED_LOG` names when set, which `.ci/run` counts as
/// skipped rather than passed.
pub fn skipped(why: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    eprintln!("SKIPPED {test}: {why}");
    if let Ok(log) = std::env::var("FEDICENSUS_SKIPPED_LOG") {
        use std::io::Write;
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(file, "{test}: {why}");
        }
    }
}
