//! Embeds and badges: what `/embed/charts/{id}` and `/badges/...` show and the headers other
//! sites and their caches need; then Chromium, inside a page of another origin, showing an
//! embedded chart, a chart image and a badge.

use crate::{spawn_app, App, TempDir};
use anyhow::{ensure, Context, Result};
use std::io::{Read, Write};
use std::path::Path;

const CHART: &str = "overview-servers";
const TITLE: &str = "Servers known and up";

/// HTML text as read: minijinja escapes `/` and `'` too.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of a response header (headers are lowercased by the test client).
fn header<'a>(r: &'a crate::Response, name: &str) -> Option<&'a str> {
    r.headers.lines().find_map(|l| {
        l.split_once(':')
            .filter(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim())
    })
}

#[tokio::test]
async fn the_embed_page_carries_title_date_servers_reporting_source_and_a_csv_link() -> Result<()> {
    let app = spawn_app(false).await?;
    let r = app.get(&format!("/embed/charts/{CHART}?width=360")).await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(header(&r, "content-type").is_some_and(|v| v.starts_with("text/html")));
    let b = &r.body;
    assert!(
        b.contains(&format!("<h1 id=\"chart-title\">{TITLE}</h1>")),
        "{b}"
    );
    assert!(b.contains("viewBox=\"0 0 360 340\""), "drawn 360 wide: {b}");
    assert!(
        b.contains("Data as of <span class=\"date\">2022-11-20</span>"),
        "{b}"
    );
    assert!(
        b.contains("servers reporting: ") && b.contains(" (servers known), "),
        "two series, each with its servers: {b}"
    );
    assert!(b.contains("Source: fedicensus, methodology "), "{b}");
    assert!(!b.contains("SIMULATED"), "not a demo census");
    // The CSV link keeps the chart's parameters (the range it shows, resolved).
    let csv = unescape(
        b.split("class=\"csv\" href=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .context("a CSV link")?,
    );
    assert!(
        csv.starts_with(&format!("/api/v1/charts/{CHART}/csv?from=")),
        "{csv}"
    );
    let data = app.get(&csv).await?;
    assert_eq!(data.status, 200);
    assert!(data
        .body
        .starts_with("series,metric,date,value,servers_reporting,complete"));
    // Nothing runs and nothing is fetched from anywhere: no script, no external resource.
    assert!(!b.contains("<script"), "no script");
    for attr in [" src=", "<link", "@import", "url(http"] {
        assert!(!b.contains(attr), "{attr} in the embed page");
    }
    // Framable from anywhere; nothing else loads.
    let csp = header(&r, "content-security-policy").context("a CSP")?;
    assert!(csp.contains("frame-ancestors *") && csp.contains("default-src 'none'"));
    assert!(header(&r, "x-frame-options").is_none());
    assert_eq!(
        header(&r, "cache-control"),
        Some("public, max-age=600, stale-while-revalidate=3600, stale-if-error=86400")
    );
    let etag = header(&r, "etag").context("an ETag")?.to_owned();
    let again = app
        .request(
            "GET",
            &format!("/embed/charts/{CHART}?width=360"),
            &[("If-None-Match", &etag)],
            "",
        )
        .await?;
    assert_eq!(again.status, 304);
    assert!(header(&again, "cache-control").is_some_and(|v| v.starts_with("public, max-age=600")));
    assert!(
        header(&again, "content-security-policy").is_some_and(|v| v.contains("frame-ancestors *"))
    );
    // A demo census says so on its embeds too.
    app.storage
        .add_annotation(
            chrono::NaiveDate::from_ymd_opt(2022, 9, 1).context("a date")?,
            fedicensus_dashboard::data::SIMULATED_MARKER,
            "",
            None,
        )
        .await?;
    let demo = app.get(&format!("/embed/charts/{CHART}")).await?;
    assert!(demo.body.contains("SIMULATED DATA"), "{}", demo.body);
    assert!(
        demo.body.contains("viewBox=\"0 0 720 440\""),
        "720 by default"
    );
    Ok(())
}

#[tokio::test]
async fn embed_parameters_are_validated_as_the_charts_files_are() -> Result<()> {
    let app = spawn_app(false).await?;
    for (query, status, says) in [
        ("width=100", 400, "300 to 1600"),
        ("width=wide", 400, "300 to 1600"),
        ("granularity=year", 400, "day, week, month"),
        ("form=2022-10-01", 400, "from"),
        ("from=2022-11-01&to=2022-10-01", 400, "on or before"),
        ("software=%3Cscript%3E", 400, "software"),
    ] {
        let r = app.get(&format!("/embed/charts/{CHART}?{query}")).await?;
        assert_eq!(r.status, status, "{query}: {}", r.body);
        assert!(r.body.contains(says), "{query}: {}", r.body);
        assert!(
            !header(&r, "cache-control").is_some_and(|v| v.contains("max-age=600")),
            "an error is not cached as public"
        );
    }
    // A software's name from a hostile server is escaped wherever the embed names it.
    let r = app.get("/embed/charts/software-share").await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("&lt;script&gt;alert(1)"),
        "the hostile name is shown"
    );
    assert!(!r.body.contains("<script>alert(1)") && !r.body.contains("\"onload="));
    let r = app.get("/embed/charts/no-such-chart").await?;
    assert_eq!(r.status, 404);
    let r = app
        .get(&format!(
            "/embed/charts/{CHART}?from=2022-10-01&to=2022-11-20&granularity=day&view=raw&width=1600"
        ))
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("viewBox=\"0 0 1600 "));
    assert!(unescape(&r.body).contains(&format!(
        "/api/v1/charts/{CHART}/csv?from=2022-10-01&to=2022-11-20&granularity=day&view=raw"
    )));
    Ok(())
}

#[tokio::test]
async fn every_chart_offers_iframe_code_and_image_urls_in_two_sizes() -> Result<()> {
    let app = spawn_app(false).await?;
    let raw = app.get("/").await?.body;
    assert!(!raw.contains("<iframe"), "the code is shown, not run");
    let page = unescape(&raw);
    let base = app.url("");
    let query = "from=2022-10-15&to=2022-11-20&granularity=week&view=cleaned";
    for (width, height) in [(360, 340 + 130), (720, 440 + 130)] {
        // The iframe's code, as the textarea shows it (the snippet escapes its own `&`).
        let code = format!(
            "<iframe src=\"{base}/embed/charts/{CHART}?{}&amp;width={width}\" width=\"{width}\" height=\"{height}\"",
            query.replace('&', "&amp;")
        );
        assert!(page.contains(&code), "{code} not in the overview");
        for format in ["svg", "png"] {
            let url = format!("{base}/api/v1/charts/{CHART}/{format}?{query}&width={width}");
            assert!(page.contains(&url), "{url}");
        }
    }
    assert!(page.contains("<summary>Embed</summary>"));
    // Every image offered answers, drawn at its width.
    let png = app
        .request(
            "GET",
            &format!("/api/v1/charts/{CHART}/png?from=2022-10-15&to=2022-11-20&granularity=week&view=cleaned&width=360"),
            &[],
            "",
        )
        .await?;
    assert_eq!(png.status, 200);
    assert_eq!(header(&png, "access-control-allow-origin"), Some("*"));
    Ok(())
}

#[tokio::test]
async fn chart_images_carry_their_servers_reporting_and_csv_address() -> Result<()> {
    let app = spawn_app(false).await?;
    // The servers each series' latest point rests on, as the chart's JSON gives them.
    let json: serde_json::Value =
        serde_json::from_str(&app.get(&format!("/api/v1/charts/{CHART}/json")).await?.body)?;
    let mut reporting = Vec::new();
    for s in json["series"].as_array().context("series")? {
        let latest = s["points"]
            .as_array()
            .context("points")?
            .iter()
            .rev()
            .find(|p| !p["value"].is_null())
            .context("a latest point")?;
        reporting.push(format!(
            "{} ({})",
            latest["servers_reporting"],
            s["name"].as_str().unwrap_or("")
        ));
    }
    let r = app.get(&format!("/api/v1/charts/{CHART}/svg")).await?;
    assert_eq!(r.status, 200);
    let line = format!(
        "Data as of 2022-11-20, servers reporting: {}",
        reporting.join(", ")
    );
    assert!(r.body.contains(&line), "{line}: {}", r.body);
    // The CSV's whole address, on two rows (broken after one of its `&`).
    let csv = format!(
        "Data: {}/api/v1/charts/{CHART}/csv?from=2022-10-15&amp;",
        app.url("")
    );
    assert!(r.body.contains(&csv), "{}", r.body);
    assert!(r.body.contains("view=cleaned\n</text>"), "{}", r.body);
    // A column's image has room for the CSV's address without its query only.
    let narrow = app
        .get(&format!("/api/v1/charts/{CHART}/svg?width=360"))
        .await?;
    assert!(
        narrow.body.contains("overview-servers/csv\n</text>"),
        "{}",
        narrow.body
    );
    assert!(!narrow.body.contains("csv?from"), "{}", narrow.body);
    assert_eq!(header(&r, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&r, "cross-origin-resource-policy"),
        Some("cross-origin")
    );
    assert!(header(&r, "cache-control").is_some_and(|v| v.starts_with("public, max-age=600")));
    // Pages keep the dashboard's own cache policy and are not offered to other origins.
    let page = app.get("/").await?;
    assert!(header(&page, "access-control-allow-origin").is_none());
    assert!(header(&page, "content-security-policy").is_none());
    assert_eq!(
        header(&page, "cache-control"),
        Some(fedicensus_dashboard::cache::CACHE_CONTROL)
    );
    Ok(())
}

/// The badge's texts (label, value) and width.
fn badge_texts(svg: &str) -> (Vec<String>, u32) {
    let texts: Vec<String> = svg
        .split("lengthAdjust=\"spacingAndGlyphs\">")
        .skip(1)
        .filter_map(|s| s.split("</text>").next().map(str::to_owned))
        .collect();
    let width = fedicensus_dashboard::badge::badge_width(svg).unwrap_or(0);
    (texts, width)
}

#[tokio::test]
async fn a_servers_charts_are_embeddable_as_pages_and_images_until_it_opts_out() -> Result<()> {
    let app = spawn_app(true).await?;
    // Its page offers each chart's embed code, in both sizes.
    let page = unescape(&app.get("/servers/big.example").await?.body);
    for size in ["360", "720"] {
        assert!(
            page.contains(&format!(
                "/embed/servers/big.example/users_total?width={size}\" width=\"{size}\""
            )),
            "{page}"
        );
        assert!(page.contains(&format!(
            "/api/v1/servers/big.example/charts/users_active_month/png?width={size}"
        )));
    }
    assert!(page.contains("whole history"), "{page}");

    let r = app
        .get("/embed/servers/big.example/users_total?width=360")
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = &r.body;
    assert!(
        b.contains("<h1 id=\"chart-title\">registered users of big.example</h1>"),
        "{b}"
    );
    assert!(b.contains("viewBox=\"0 0 360 340\""), "drawn 360 wide: {b}");
    assert!(
        b.contains("Data as of <span class=\"date\">2022-11-20</span>"),
        "{b}"
    );
    assert!(b.contains("Source: fedicensus, methodology "), "{b}");
    assert!(unescape(b).contains("href=\"/api/v1/servers/big.example/history.csv\""));
    assert!(!b.contains("<script") && !b.contains(" src="), "{b}");
    let csp = header(&r, "content-security-policy").context("a CSP")?;
    assert!(csp.contains("frame-ancestors *") && csp.contains("default-src 'none'"));
    assert!(header(&r, "cache-control").is_some_and(|v| v.starts_with("public, max-age=600")));

    let svg = app
        .get("/api/v1/servers/big.example/charts/users_total/svg?width=360")
        .await?;
    assert_eq!(svg.status, 200, "{}", svg.body);
    assert!(header(&svg, "content-type").is_some_and(|v| v.starts_with("image/svg+xml")));
    assert_eq!(header(&svg, "access-control-allow-origin"), Some("*"));
    assert!(
        svg.body.contains("registered users of big.example"),
        "{}",
        svg.body
    );
    assert!(
        unescape(&svg.body).contains("/api/v1/servers/")
            && unescape(&svg.body).contains("big.example/history.csv"),
        "the image names its data (wrapped where long): {}",
        svg.body
    );
    let png = app
        .get("/api/v1/servers/big.example/charts/users_total/png")
        .await?;
    assert_eq!(png.status, 200);
    assert!(header(&png, "content-type") == Some("image/png"));

    for (path, status) in [
        // Misskey reports no monthly actives: no chart to embed.
        ("/embed/servers/misskey.example/users_active_month", 404),
        ("/embed/servers/big.example/servers_up", 404),
        ("/embed/servers/never-seen.example/users_total", 404),
        (
            "/embed/servers/big.example/users_total?from=2022-01-01",
            400,
        ),
        ("/embed/servers/big.example/users_total?width=99999", 400),
        ("/api/v1/servers/big.example/charts/users_total/csv", 400),
    ] {
        assert_eq!(app.get(path).await?.status, status, "{path}");
    }
    // A server that opts out is no longer drawn for other sites.
    let r = app.opt_out("big.example").await?;
    assert_eq!(r.status, 200, "{}", r.body);
    for path in [
        "/embed/servers/big.example/users_total",
        "/api/v1/servers/big.example/charts/users_total/svg",
    ] {
        assert_eq!(app.get(path).await?.status, 404, "{path}");
    }
    Ok(())
}

#[tokio::test]
async fn server_badges_show_the_latest_reported_figure_and_never_an_unlisted_name() -> Result<()> {
    let app = spawn_app(true).await?;
    let r = app
        .get("/badges/servers/big.example/users_total.svg")
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(header(&r, "content-type").is_some_and(|v| v.starts_with("image/svg+xml")));
    assert_eq!(header(&r, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&r, "cache-control"),
        Some("public, max-age=600, stale-while-revalidate=3600, stale-if-error=86400")
    );
    let (texts, big_width) = badge_texts(&r.body);
    // Each text twice (its shadow, then itself), as shields.io draws them.
    assert_eq!(
        texts,
        ["big.example", "big.example", "1,500 users", "1,500 users"],
        "{}",
        r.body
    );
    assert!(r
        .body
        .contains("<title>big.example: 1,500 users (fedicensus, reported 2022-11-20)</title>"));
    let r = app
        .get("/badges/servers/big.example/users_active_month.svg")
        .await?;
    assert_eq!(badge_texts(&r.body).0[2], "500 monthly actives");
    // Misskey reports no monthly actives: the badge says so, in grey.
    let r = app
        .get("/badges/servers/misskey.example/users_active_month.svg")
        .await?;
    assert_eq!(r.status, 200);
    assert_eq!(badge_texts(&r.body).0[2], "no data");
    assert!(r.body.contains(fedicensus_dashboard::badge::NO_DATA_COLOR));
    // The width follows the text.
    let r = app
        .get("/badges/servers/evil.example/users_total.svg")
        .await?;
    let (texts, evil_width) = badge_texts(&r.body);
    assert_eq!(texts[2], "7 users");
    assert!(evil_width < big_width, "{evil_width} {big_width}");
    // A 304 keeps the headers other sites need.
    let etag = header(&r, "etag").context("an ETag")?.to_owned();
    let again = app
        .request(
            "GET",
            "/badges/servers/evil.example/users_total.svg",
            &[("If-None-Match", &etag)],
            "",
        )
        .await?;
    assert_eq!(again.status, 304);
    assert_eq!(header(&again, "access-control-allow-origin"), Some("*"));
    for (path, status) in [
        ("/badges/servers/never-seen.example/users_total.svg", 404),
        ("/badges/servers/big.example/users.svg", 404),
        ("/badges/servers/big.example/users_total.png", 404),
        ("/badges/servers/big.example/servers_up.svg", 404),
        (
            "/badges/servers/big.example/users_total.svg?style=flat",
            400,
        ),
    ] {
        assert_eq!(app.get(path).await?.status, status, "{path}");
    }
    // A server that opts out loses its badge at once: a badge names its server.
    let r = app.opt_out("big.example").await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .get("/badges/servers/big.example/users_total.svg")
        .await?;
    assert_eq!(r.status, 404);
    assert!(!r.body.contains("1,500"));
    Ok(())
}

#[tokio::test]
async fn software_badges_show_the_dashboards_series_on_the_last_crawled_day() -> Result<()> {
    let app = spawn_app(false).await?;
    for (metric, words) in [
        ("servers_up", ["server up", "servers up"]),
        ("users_total", ["user", "users"]),
        ("users_active_month", ["monthly active", "monthly actives"]),
    ] {
        let series = app
            .get(&format!(
                "/api/v1/series/{metric}?software=mastodon&from=2022-11-20&to=2022-11-20"
            ))
            .await?;
        let v: serde_json::Value = serde_json::from_str(&series.body)?;
        let value = v["points"][0]["value"].as_f64().context("a value")?;
        let expected = format!(
            "{} {}",
            fedicensus_dashboard::render::thousands(value),
            if value == 1.0 { words[0] } else { words[1] }
        );
        let r = app
            .get(&format!("/badges/software/mastodon/{metric}.svg"))
            .await?;
        assert_eq!(r.status, 200, "{metric}: {}", r.body);
        let (texts, _) = badge_texts(&r.body);
        assert_eq!(texts[0], "mastodon");
        assert_eq!(texts[2], expected, "{metric}");
        assert!(r.body.contains("as of 2022-11-20"), "{}", r.body);
    }
    assert_eq!(
        badge_texts(
            &app.get("/badges/software/Misskey/users_total.svg")
                .await?
                .body
        )
        .0[2],
        "200 users"
    );
    for (path, status) in [
        ("/badges/software/nosuchsoftware/servers_up.svg", 404),
        ("/badges/software/mastodon/servers_known.svg", 404),
        ("/badges/software/%3Cscript%3E/servers_up.svg", 400),
        ("/badges/software/mastodon/servers_up.svg?v=2", 400),
    ] {
        let r = app.get(path).await?;
        assert_eq!(r.status, status, "{path}: {}", r.body);
        // Errors are JSON, never a drawing or markup (a name is quoted in the message only).
        assert!(header(&r, "content-type").is_some_and(|v| v.starts_with("application/json")));
    }
    Ok(())
}

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium(args: &[String], profile: &Path) -> Result<std::process::Output> {
    let output = std::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-quic",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=10000",
            "--run-all-compositor-stages-before-draw",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()?;
    ensure!(
        output.status.success(),
        "chromium failed: {}",
        output.status
    );
    Ok(output)
}

/// Serves `page` at every path on 127.0.0.1 (a newsroom's site, another origin than the
/// dashboard's) until the process ends; its port.
fn newsroom(page: String) -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    Ok(port)
}

/// The RGB pixels of a PNG file, with its width and height.
fn pixels(file: &Path) -> Result<(Vec<u8>, u32, u32)> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(file)?));
    let mut reader = decoder.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size().context("a PNG size")?];
    let info = reader.next_frame(&mut buf)?;
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Ok((rgb, info.width, info.height))
}

/// Chromium opens a page of another origin (`localhost` against the dashboard's `127.0.0.1`,
/// another port too) holding the embed in an iframe, a chart image and a badge, both loaded
/// `crossorigin` (they fail without `Access-Control-Allow-Origin`). Checked: what the page's
/// own script sees of the images (loaded, their sizes), and a screenshot, whose iframe region
/// must be the embed page itself as Chromium draws it alone (whose DOM holds the title).
#[tokio::test(flavor = "multi_thread")]
async fn chromium_shows_an_embedded_chart_and_a_badge_inside_a_page_of_another_origin() -> Result<()>
{
    if !Path::new(CHROMIUM).exists() {
        crate::skipped(&format!(
            "{CHROMIUM} is not installed (apt-get install -y chromium)"
        ));
        return Ok(());
    }
    let app: App = spawn_app(false).await?;
    let (frame_w, frame_h) = (360u32, 470u32);
    let embed = app.url(&format!("/embed/charts/{CHART}?width={frame_w}"));
    let badge_url = app.url("/badges/software/mastodon/users_total.svg");
    let badge = app.get("/badges/software/mastodon/users_total.svg").await?;
    let badge_width = fedicensus_dashboard::badge::badge_width(&badge.body).context("a width")?;
    let image = app.url(&format!("/api/v1/charts/{CHART}/svg?width=360"));
    let page = format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; background: #fff; }}
iframe {{ display: block; border: 0; }}
img {{ display: block; }}
</style></head><body>
<iframe id="embed" src="{embed}" width="{frame_w}" height="{frame_h}"></iframe>
<img id="badge" crossorigin="anonymous" src="{badge_url}" alt="">
<img id="chart" crossorigin="anonymous" src="{image}" alt="" width="360">
<script>
for (const id of ['badge', 'chart']) {{
  const img = document.getElementById(id);
  const report = () => document.body.setAttribute('data-' + id,
      img.complete && img.naturalWidth > 0 ? img.naturalWidth + 'x' + img.naturalHeight : 'failed');
  img.addEventListener('load', report);
  img.addEventListener('error', report);
  if (img.complete) report();
}}
window.addEventListener('load', () => document.body.setAttribute('data-loaded', 'yes'));
</script></body></html>"#
    );
    let port = newsroom(page)?;
    let outer = format!("http://localhost:{port}/article");
    let dir = TempDir::new("embed-browser");
    let root = dir.0.clone();
    let (dom, standalone_dom) = {
        let (outer, embed, root) = (outer.clone(), embed.clone(), root.clone());
        tokio::task::spawn_blocking(move || {
            let dom = chromium(
                &["--window-size=800,1200".into(), "--dump-dom".into(), outer],
                &root.join("profile-dom"),
            )?;
            let alone = chromium(
                &["--window-size=800,1200".into(), "--dump-dom".into(), embed],
                &root.join("profile-alone-dom"),
            )?;
            anyhow::Ok((
                String::from_utf8_lossy(&dom.stdout).into_owned(),
                String::from_utf8_lossy(&alone.stdout).into_owned(),
            ))
        })
        .await??
    };
    ensure!(
        dom.contains("data-loaded=\"yes\""),
        "the page did not load: {dom}"
    );
    let attr = |name: &str| {
        dom.split(&format!("data-{name}=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or("(missing)")
            .to_owned()
    };
    assert_eq!(
        attr("badge"),
        format!("{badge_width}x20"),
        "the badge renders at its own size"
    );
    // A chart SVG scales to its box (width 100%, a viewBox): loaded is what counts here.
    ensure!(
        attr("chart") != "failed" && attr("chart") != "(missing)",
        "the chart image did not load across origins: {}",
        attr("chart")
    );
    ensure!(
        standalone_dom.contains(&format!("<h1 id=\"chart-title\">{TITLE}</h1>")),
        "the embed page's title: {standalone_dom}"
    );
    // What the iframe shows is the embed page, drawn as it is alone: the same pixels. A loaded
    // machine can capture a frame before the iframe's own process has painted it, so the
    // comparison gets three tries; what each failed one saw is printed.
    let (framed, alone) = (root.join("framed.png"), root.join("alone.png"));
    let mut attempt = 0;
    loop {
        attempt += 1;
        let seen = {
            let (outer, embed, root) = (outer.clone(), embed.clone(), root.clone());
            let (framed, alone) = (framed.clone(), alone.clone());
            tokio::task::spawn_blocking(move || {
                chromium(
                    &[
                        "--window-size=800,1200".into(),
                        format!("--screenshot={}", framed.display()),
                        outer,
                    ],
                    &root.join(format!("profile-framed-{attempt}")),
                )?;
                chromium(
                    &[
                        format!("--window-size={frame_w},{frame_h}"),
                        format!("--screenshot={}", alone.display()),
                        embed,
                    ],
                    &root.join(format!("profile-alone-{attempt}")),
                )?;
                framed_as_alone(&framed, &alone, (frame_w, frame_h), badge_width)
            })
            .await?
        };
        match seen {
            Ok(()) => break,
            Err(e) if attempt < 3 => eprintln!("attempt {attempt}: {e:#}; trying again"),
            Err(e) => return Err(e),
        }
    }
    if let Some(keep) = std::env::var_os("FEDICENSUS_KEEP_SCREENSHOTS") {
        let keep = std::path::PathBuf::from(keep);
        std::fs::create_dir_all(&keep)?;
        std::fs::copy(&framed, keep.join("embed-other-origin.png"))?;
    }
    Ok(())
}

/// Whether the screenshot `framed` shows, in its top-left `frame` (width, height), the same
/// pixels as `alone` (the embed page drawn alone at that size), with a chart in them (its first
/// series' colour), and a badge `badge_width` wide just under it (its label's grey).
fn framed_as_alone(framed: &Path, alone: &Path, frame: (u32, u32), badge_width: u32) -> Result<()> {
    let (frame_w, frame_h) = frame;
    let (page_px, page_w, page_h) = pixels(framed)?;
    let (alone_px, alone_w, alone_h) = pixels(alone)?;
    ensure!(
        alone_w == frame_w && alone_h == frame_h,
        "{alone_w}x{alone_h}"
    );
    ensure!(
        page_w >= frame_w && page_h >= frame_h + 20,
        "{page_w}x{page_h}"
    );
    let (mut same, mut chart_blue) = (0u64, 0u64);
    for y in 0..frame_h {
        for x in 0..frame_w {
            let a = ((y * page_w + x) * 3) as usize;
            let b = ((y * frame_w + x) * 3) as usize;
            let (p, q) = (&page_px[a..a + 3], &alone_px[b..b + 3]);
            if p.iter().zip(q).all(|(u, v)| u.abs_diff(*v) <= 8) {
                same += 1;
            }
            // The first series' colour, #1f6fb4: the chart is drawn, not an error page.
            if p[0].abs_diff(0x1f) <= 12 && p[1].abs_diff(0x6f) <= 12 && p[2].abs_diff(0xb4) <= 12 {
                chart_blue += 1;
            }
        }
    }
    let total = u64::from(frame_w * frame_h);
    ensure!(
        same * 100 >= total * 98,
        "the iframe differs from the embed page: {same} of {total} pixels alike"
    );
    ensure!(
        chart_blue > 200,
        "no chart in the iframe ({chart_blue} blue pixels)"
    );
    let grey = (frame_h..frame_h + 20)
        .flat_map(|y| (0..badge_width.min(page_w)).map(move |x| (x, y)))
        .filter(|(x, y)| {
            let a = ((y * page_w + x) * 3) as usize;
            page_px[a..a + 3].iter().all(|c| c.abs_diff(0x55) <= 10)
        })
        .count();
    ensure!(grey > 100, "no badge under the iframe ({grey} grey pixels)");
    Ok(())
}
