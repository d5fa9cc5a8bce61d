//! The dashboard as a person sees it, on a census built by crawling the simulated `migration-2022`
//! world: headless Chromium (Debian's package, installed by `.ci/run`) opens every page, the test
//! checks that the browser logged no console message, that every chart on the page has plotted
//! points and draws each of its series, and that a chart's CSV link gives the numbers its table
//! shows. Screenshots at phone and desktop widths are kept in `target/dashboard-screenshots/`
//! for a person to look at. Skipped, with a message, where `/usr/bin/chromium` is missing.
//!
//! The world is small (300 servers, crawled until 1 December 2022) to keep the test near a
//! minute in a debug build.

use crate::fedicensus;
use crate::support::{http_get as get, Served};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CHROMIUM: &str = "/usr/bin/chromium";
const SERVERS: &str = "300";
const UNTIL: &str = "2022-12-01";

/// Chromium, headless, logging the page's console to stderr.
fn chromium(profile: &Path) -> Command {
    let mut c = Command::new(CHROMIUM);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Lines of Chromium's log that come from the page: console messages, uncaught errors, failed
/// loads. The dashboard has no scripts, so there should be none at all.
fn console_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            l.contains(":CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Failed to load resource")
        })
        .map(str::to_owned)
        .collect()
}

/// The DOM after load, as Chromium serialises it.
fn dump_dom(url: &str, profile: &Path) -> String {
    let out = chromium(profile)
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed on {url}: {stderr}");
    let console = console_lines(&stderr);
    assert!(console.is_empty(), "{url}: console messages: {console:#?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn screenshot(url: &str, width: u32, height: u32, out: &Path, profile: &Path) {
    let status = chromium(profile)
        .arg(format!("--screenshot={}", out.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("chromium runs");
    assert!(status.success(), "chromium screenshot of {url}: {status}");
    let png = std::fs::read(out).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{url}: not a PNG");
    let w = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    assert_eq!(w, width, "{url}: screenshot width");
    assert!(
        png.len() > 20_000,
        "{url}: a blank page? {} bytes",
        png.len()
    );
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// A number as the dashboard's tables show it ("8,400", "84.0 %", "–" for none).
fn shown_number(cell: &str) -> Option<f64> {
    let cell = cell.trim();
    if let Some(share) = cell.strip_suffix('%') {
        return share
            .trim()
            .replace(',', "")
            .parse::<f64>()
            .ok()
            .map(|v| v / 100.0);
    }
    cell.replace(',', "").parse().ok()
}

/// Checks one chart section of a page; returns its CSV link.
fn check_chart(page: &str, section: &str) -> String {
    let id = section.split('"').next().expect("an id").to_owned();
    let svg = between(section, "<svg", "</svg>").unwrap_or_else(|| panic!("{page} {id}: an SVG"));
    let points: usize = between(svg, "data-points=\"", "\"")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{page} {id}: data-points"));
    assert!(points > 0, "{page} {id}: no plotted points");
    // Each chart is also drawn for phones (the page shows that one on narrow screens).
    assert!(
        section.contains("<div class=\"chart-phone\"><svg")
            && section.contains("viewBox=\"0 0 330 "),
        "{page} {id}: no drawing for phones"
    );
    // Every series is drawn in its colour (the page's legend names them with the same colours).
    let legend = between(section, "<p class=\"legend\">", "</p>").expect("a legend");
    let colours: Vec<&str> = legend
        .split("background: ")
        .skip(1)
        .filter_map(|s| s.get(..7))
        .collect();
    assert!(!colours.is_empty(), "{page} {id}: a legend");
    let svg_upper = svg.to_uppercase();
    for colour in &colours {
        assert!(
            svg_upper.matches(&colour.to_uppercase()).count() >= 2,
            "{page} {id}: the series in {colour} is not drawn (legend entry and marks)"
        );
    }
    let href = between(section, "href=\"/api/v1/charts/", "\"")
        .filter(|h| h.contains("/csv?"))
        .unwrap_or_else(|| panic!("{page} {id}: a CSV link"));
    format!("/api/v1/charts/{}", href.replace("&amp;", "&"))
}

/// Follows a chart's CSV link and finds its numbers in the chart's table on the page.
fn csv_matches_table(section: &str, csv_path: &str, addr: &str) {
    let csv = get(addr, csv_path);
    let table = between(section, "<tbody>", "</tbody>").expect("a table");
    let rows: Vec<Vec<String>> = table
        .split("<tr>")
        .skip(1)
        .map(|r| {
            r.split("<td")
                .skip(1)
                .filter_map(|c| between(c, ">", "</td>").map(str::to_owned))
                .collect()
        })
        .collect();
    let mut series: Vec<String> = Vec::new();
    let mut checked = 0;
    for record in csv::Reader::from_reader(csv.as_bytes()).records() {
        let r = record.expect("a CSV row");
        let (name, date, value) = (&r[0], &r[2], &r[3]);
        let index = match series.iter().position(|s| s == name) {
            Some(i) => i,
            None => {
                series.push(name.to_owned());
                series.len() - 1
            }
        };
        let row = rows
            .iter()
            .find(|row| row.first().map(String::as_str) == Some(date))
            .unwrap_or_else(|| panic!("{csv_path}: {date} is not in the table"));
        let cell = &row[1 + 2 * index];
        match value.parse::<f64>() {
            Ok(v) => {
                let shown = shown_number(cell)
                    .unwrap_or_else(|| panic!("{csv_path} {date} {name}: table shows {cell:?}"));
                let tolerance = if cell.ends_with('%') { 0.0006 } else { 0.51 };
                assert!(
                    (shown - v).abs() <= tolerance,
                    "{csv_path} {date} {name}: CSV {v}, table {cell}"
                );
                checked += 1;
            }
            Err(_) => assert!(value.is_empty() && shown_number(cell).is_none()),
        }
    }
    assert!(checked > 0, "{csv_path}: no numbers compared");
}

/// The world's servers with the `hostile-strings` quirk give themselves a title of markup and
/// a NodeInfo version that is a spreadsheet formula with markup: the server's page shows each
/// visit's version escaped, and its history CSV starts that cell with `'`. (The Servers listing
/// shows the normalised version, which such a string has none of.) Returns one such server,
/// whose page Chromium then opens like any other.
fn hostile_server_is_escaped_and_neutralised(addr: &str) -> String {
    // The demo's world: the migration-2022 scenario, seed 7, at the test's size.
    let world = fedicensus_sim::World::generate(fedicensus_sim::WorldConfig {
        servers: Some(SERVERS.parse().expect("a number")),
        latency: fedicensus_sim::LatencyModel::ZERO,
        ..fedicensus_sim::WorldConfig::new(fedicensus_sim::Scenario::Migration2022, 7)
    });
    let hostile: Vec<String> = world
        .servers()
        .iter()
        .filter(|s| s.quirks.has(fedicensus_sim::Quirk::HostileStrings))
        .map(|s| s.domain.clone())
        .collect();
    assert!(
        !hostile.is_empty(),
        "the simulated world has a server with hostile strings"
    );
    for host in &hostile {
        // Its page lists every visit with the version it served: escaped, never markup.
        let path = format!("/servers/{host}");
        let html = get(addr, &path);
        assert!(!html.contains("<script>"), "{path} has raw markup");
        assert!(
            html.contains("=HYPERLINK(&quot;http:&#x2f;&#x2f;evil.invalid&#x2f;&quot;"),
            "{path} shows the version, escaped"
        );
        assert!(html.contains("&lt;script&gt;alert("), "{path}");
        // Its history CSV holds the raw version as a text cell, never a formula.
        let path = format!("/api/v1/servers/{host}/history.csv");
        let csv = get(addr, &path);
        assert!(csv.contains("\"'=HYPERLINK(\"\"http"), "{path}: {csv:.600}");
        assert!(
            !csv.contains(",=HYPERLINK(") && !csv.contains(",\"=HYPERLINK("),
            "{path}: a cell starts with ="
        );
    }
    hostile[0].clone()
}

#[test]
fn chromium_sees_every_page_and_chart_of_a_crawled_census_without_console_errors() {
    if !Path::new(CHROMIUM).exists() {
        println!(
            "skipped: {CHROMIUM} is not installed (apt-get install -y chromium, as .ci/run does)"
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("fedicensus-e2e-dashboard-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let db = dir.join("demo.db");
    let out = fedicensus()
        .args([
            "demo",
            "--no-serve",
            "--servers",
            SERVERS,
            "--until",
            UNTIL,
            "--db",
        ])
        .arg(&db)
        .stderr(Stdio::null())
        .output()
        .expect("the demo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let serve = Served::start(&db);
    let addr = serve.addr.clone();

    let servers: serde_json::Value = serde_json::from_str(&get(
        &addr,
        "/api/v1/servers?sort=users&order=desc&per_page=1",
    ))
    .expect("JSON");
    let host = servers["servers"][0]["host"]
        .as_str()
        .or_else(|| servers["servers"][0]["domain"].as_str())
        .expect("a server")
        .to_owned();
    let hostile = hostile_server_is_escaped_and_neutralised(&addr);
    let pages = [
        ("hostile-server", format!("/servers/{hostile}")),
        ("overview", "/".to_owned()),
        ("growth", "/growth".to_owned()),
        ("software", "/software".to_owned()),
        ("concentration", "/concentration".to_owned()),
        ("servers", "/servers".to_owned()),
        ("server", format!("/servers/{host}")),
        ("crawl", "/crawl".to_owned()),
        ("methodology", "/methodology".to_owned()),
        ("chart", "/charts/migration-2022-servers".to_owned()),
    ];
    let keep = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/dashboard-screenshots");
    std::fs::create_dir_all(&keep).expect("target/dashboard-screenshots");
    let mut charts = 0;
    let mut csv_checked = 0;
    for (name, path) in &pages {
        let url = format!("http://{addr}{path}");
        let dom = dump_dom(&url, &dir.join(format!("profile-{name}")));
        assert!(dom.contains("</html>"), "{url}: a whole page");
        // The dashboard has no scripts and no raster images in pages: any such element in the
        // browser's DOM would be markup a crawled server smuggled in.
        assert!(!dom.contains("<script"), "{url}: a script element");
        assert!(!dom.contains("onerror="), "{url}: an event handler");
        for section in dom.split("<section class=\"chart\" id=\"").skip(1) {
            let csv_path = check_chart(path, section);
            charts += 1;
            // Follow the first chart's CSV link on each chart page.
            if csv_checked < 4 && !section.contains("data-points=\"0\"") {
                csv_matches_table(section, &csv_path, &addr);
                csv_checked += 1;
            }
        }
        // A phone's width, but tall enough to show the charts below the headline numbers
        // (a headless screenshot is of the window only; the one thing that depends on the
        // window's height, charts' 70vh height cap, is never reached by a phone's chart).
        for (width, height, label) in [(390, 2400, "phone"), (1280, 900, "desktop")] {
            let out = keep.join(format!("{name}-{label}.png"));
            screenshot(
                &url,
                width,
                height,
                &out,
                &dir.join(format!("profile-{name}-{label}")),
            );
        }
    }
    drop(serve);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(charts >= 8, "only {charts} charts seen");
    assert!(csv_checked >= 2, "only {csv_checked} CSV links followed");
    println!(
        "{} pages, {charts} charts, {csv_checked} CSV links checked; screenshots in {}",
        pages.len(),
        keep.display()
    );
}
