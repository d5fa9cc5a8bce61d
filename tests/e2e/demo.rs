//! `fedicensus demo` end to end: the real binary builds a census of a small simulated world, the
//! real dashboard serves it, and what the overview shows is checked against the simulator's
//! ground truth; then `fedicensus export` writes files whose manifest is checked byte for byte.
//! Served as it crawls, the demo's pages show the census growing pass by pass and, at the end,
//! beside the truth.
//!
//! The world has 1,000 servers and the demo crawls until 1 December (32 passes, the whole jump
//! of November 2022 included) so that the test stays near two minutes in a debug build on two
//! cores; at that size the calibration scales down (about 174 reachable Mastodon servers on
//! 27 October instead of 3,300).

use crate::fedicensus;
use crate::support::{http_get, mastodon_series, Served};
use chrono::{DateTime, NaiveDate, Utc};
use fedicensus_sim::{truth::truth_summary, LatencyModel, Scenario, World, WorldConfig};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::process::Stdio;

const SERVERS: u32 = 1_000;
const SEED: u64 = 7;
const UNTIL: &str = "2022-12-01";

/// Runs `fedicensus export` with `args` into `out` and returns its manifest.
fn run_export(db: &std::path::Path, out: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let run = fedicensus()
        .arg("export")
        .args(args)
        .arg("--db")
        .arg(db)
        .arg("--out")
        .arg(out)
        .output()
        .expect("export runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).expect("a manifest"))
        .expect("JSON")
}

#[test]
fn the_demo_shows_what_the_simulator_says_at_every_crawled_date_and_exports_what_its_manifest_says()
{
    let dir = std::env::temp_dir().join(format!("fedicensus-e2e-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let db = dir.join("demo.db");

    let out = fedicensus()
        .args(["demo", "--no-serve", "--servers", &SERVERS.to_string()])
        .args(["--seed", &SEED.to_string(), "--until", UNTIL, "--db"])
        .arg(&db)
        .stderr(Stdio::null())
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    // "pass 3/32 as of 2022-09-09: ..." for each date the demo crawled.
    let crawled: Vec<NaiveDate> = stdout
        .lines()
        .filter_map(|l| l.split(" as of ").nth(1))
        .filter_map(|rest| rest.get(..10))
        .map(|d| d.parse().expect("a date"))
        .collect();
    assert!(crawled.len() >= 20, "{stdout}");

    let serve = Served::start(&db);
    let addr = serve.addr.clone();
    let up = mastodon_series(&addr, UNTIL, "servers_up");
    let users = mastodon_series(&addr, UNTIL, "users_total");
    drop(serve);

    // Every date the demo crawled, the first included: a pass goes on until nothing is due, so
    // the first one has discovered and visited everything reachable from the seeds by its end,
    // and each later one revisits every live server (due 6 hours after its last visit, passes
    // at most 4 days apart, inside the 7-day window in which a server counts as up). The truth
    // is taken at the pass's instant (midnight), when the visits were made; the day's point is
    // as of the end of that day and rests on exactly those visits.
    let world = World::generate(WorldConfig {
        servers: Some(SERVERS as usize),
        latency: LatencyModel::ZERO,
        ..WorldConfig::new(Scenario::Migration2022, SEED)
    });
    let mut report = String::new();
    let mut worst: f64 = 0.0;
    for date in &crawled {
        let at: DateTime<Utc> = date.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let truth = truth_summary(&world, at).software("mastodon");
        let census_up = up.get(date).copied().unwrap_or(0.0);
        let census_users = users.get(date).copied().unwrap_or(0.0);
        // Up, in Mastodon's own series: reachable. A server whose robots.txt refuses
        // fedicensus is up too (methodology v3), but its refusal names no software, so it counts
        // in the all-software series only, not in Mastodon's.
        let truth_up = truth.reachable;
        let up_error = (census_up - truth_up as f64).abs() / truth_up as f64;
        let users_error = (census_users - truth.users as f64).abs() / truth.users as f64;
        worst = worst.max(up_error).max(users_error);
        report.push_str(&format!(
            "{date}: up {census_up} / truth {} ({:.2} %), users {census_users} / truth {} \
             ({:.2} %)\n",
            truth_up,
            up_error * 100.0,
            truth.users,
            users_error * 100.0
        ));
    }
    assert!(worst <= 0.02, "more than 2 % off the truth:\n{report}");

    let export = dir.join("export");
    let manifest = run_export(&db, &export, &[]);
    let files = manifest["files"].as_array().expect("a file list");
    assert!(files.len() >= 16, "{manifest}");
    assert_eq!(
        manifest["methodology_version"],
        fedicensus_storage::METHODOLOGY_VERSION
    );
    for file in files {
        let name = file["name"].as_str().expect("a name");
        let bytes = std::fs::read(export.join(name)).expect("the listed file exists");
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(file["sha256"], sha, "{name}");
        assert_eq!(file["bytes"], bytes.len() as u64, "{name}");
        let rows = csv::Reader::from_reader(bytes.as_slice()).records().count() as u64;
        assert_eq!(file["rows"], rows, "{name}");
    }
    let observations = files
        .iter()
        .find(|f| f["name"] == "observations.csv")
        .expect("observations exported");
    assert!(
        observations["rows"].as_u64().unwrap_or(0) > 10_000,
        "{manifest}"
    );

    // One server's history: the same visits as that server's rows of observations.csv, with
    // their sources and flags.
    let mut visits: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut all = csv::Reader::from_path(export.join("observations.csv")).expect("readable");
    for record in all.records() {
        let record = record.expect("a CSV record");
        visits
            .entry(record[1].to_owned())
            .or_default()
            .push(record[0].to_owned());
    }
    let (domain, ids) = visits
        .iter()
        .max_by_key(|(_, ids)| ids.len())
        .expect("servers were exported");
    let one = dir.join("one");
    let manifest = run_export(&db, &one, &["--what", "server", "--server", domain]);
    let history = one.join(format!("server-{domain}.csv"));
    let mut history = csv::Reader::from_path(&history).expect("the history was written");
    assert_eq!(
        history.headers().expect("a header").get(21),
        Some("measurements")
    );
    let exported: Vec<String> = history
        .records()
        .map(|r| r.expect("a CSV record")[0].to_owned())
        .collect();
    assert_eq!(
        &exported, ids,
        "{domain}: the same visits, in the same order"
    );
    assert_eq!(
        manifest["files"][0]["name"],
        format!("server-{domain}.csv"),
        "{manifest}"
    );

    // Downsampling everything crawled (the demo's dates are in 2022) changes no series file,
    // and the next export's manifest says it happened.
    let out = fedicensus()
        .args(["downsample", "--before", "2023-06-01", "--db"])
        .arg(&db)
        .output()
        .expect("downsample runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("visits before 2023-06-01"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let thinned = dir.join("thinned");
    let manifest = run_export(&db, &thinned, &["--what", "series"]);
    assert_eq!(
        manifest["downsampled"][0]["before"], "2023-06-01",
        "{manifest}"
    );
    let series_files = manifest["files"].as_array().expect("a file list");
    assert!(!series_files.is_empty());
    for file in series_files {
        let name = file["name"].as_str().expect("a name");
        assert_eq!(
            std::fs::read(thinned.join(name)).expect("exported"),
            std::fs::read(export.join(name)).expect("exported before"),
            "{name} changed after downsampling ({said})"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_demo_refuses_a_taken_port_before_crawling() {
    let dir = std::env::temp_dir().join(format!("fedicensus-e2e-demo-port-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("an address").to_string();
    let db = dir.join("demo.db");
    // Built (when out of date) before the clock starts.
    let mut command = fedicensus();
    let started = std::time::Instant::now();
    let output = command
        .args(["demo", "--servers", "50", "--listen", &addr, "--db"])
        .arg(&db)
        .output()
        .expect("the demo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("--listen") && stderr.contains("--no-serve"),
        "{stderr}"
    );
    assert!(!db.exists(), "nothing was crawled");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_demo_says_a_date_out_of_range_or_impossible_is_bad_input() {
    let out_of_range = fedicensus()
        .args(["demo", "--no-serve", "--until", "2023-05-01", "--db"])
        .arg(std::env::temp_dir().join("fedicensus-e2e-never.db"))
        .output()
        .expect("the demo runs");
    let stderr = String::from_utf8_lossy(&out_of_range.stderr);
    assert_eq!(out_of_range.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("outside the simulated period"), "{stderr}");
    let impossible = fedicensus()
        .args(["demo", "--no-serve", "--until", "2022-11-31"])
        .output()
        .expect("the demo runs");
    let stderr = String::from_utf8_lossy(&impossible.stderr);
    assert_eq!(impossible.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`2022-11-31` does not exist: November 2022 has 30 days"),
        "{stderr}"
    );
}

/// The value of `attribute="..."` in the first census banner of a page.
fn banner_attribute(page: &str, attribute: &str) -> Option<String> {
    let banner = &page[page.find("class=\"census-banner")?..];
    let banner = &banner[..banner.find('>')?];
    let rest = &banner[banner.find(&format!("{attribute}=\""))? + attribute.len() + 2..];
    Some(rest[..rest.find('"')?].to_owned())
}

#[test]
fn the_demo_serves_at_once_and_its_figures_grow_pass_by_pass_up_to_the_truth() {
    const SERVERS: u32 = 500;
    const UNTIL: &str = "2022-11-28";
    let dir = std::env::temp_dir().join(format!("fedicensus-e2e-demo-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let db = dir.join("demo.db");
    // Built (when out of date) before the clock starts.
    let mut command = fedicensus();
    let started = std::time::Instant::now();
    let mut demo = command
        .args([
            "demo",
            "--servers",
            &SERVERS.to_string(),
            "--seed",
            &SEED.to_string(),
        ])
        .args(["--until", UNTIL, "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the demo starts");
    let mut lines =
        std::io::BufRead::lines(std::io::BufReader::new(demo.stdout.take().expect("piped")));
    let mut printed = String::new();
    let addr = loop {
        let line = lines
            .next()
            .expect("the demo prints its URL")
            .expect("a line");
        printed.push_str(&line);
        printed.push('\n');
        assert!(
            !line.starts_with("pass "),
            "a pass before the URL:\n{printed}"
        );
        if let Some(url) = line.split("http://").nth(1) {
            break url.split('/').next().expect("host:port").to_owned();
        }
    };
    let url_after = started.elapsed();
    assert!(
        url_after < std::time::Duration::from_secs(10),
        "the URL after {url_after:?}:\n{printed}"
    );
    // The rest of standard output is read (and kept) on its own thread, so the demo never
    // blocks on a full pipe.
    let rest = std::thread::spawn(move || {
        lines
            .map_while(Result::ok)
            .collect::<Vec<String>>()
            .join("\n")
    });

    // Read the overview and a series while the crawl runs, until the banner says it is done.
    let mut seen: Vec<(u64, u64, usize)> = Vec::new();
    let complete_page = loop {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(600),
            "the demo never completed; seen (pass, visits, days with data): {seen:?}"
        );
        let page = http_get(&addr, "/");
        let complete = banner_attribute(&page, "data-complete").expect("a banner on /");
        if complete == "true" {
            break page;
        }
        let pass: u64 = banner_attribute(&page, "data-pass")
            .and_then(|p| p.parse().ok())
            .expect("the pass in the banner");
        let visits: u64 = banner_attribute(&page, "data-visits")
            .and_then(|v| v.parse().ok())
            .expect("the visits in the banner");
        let days = mastodon_series(&addr, UNTIL, "servers_up").len();
        if seen.last() != Some(&(pass, visits, days)) {
            seen.push((pass, visits, days));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    // Other pages carry the banner too, escaped like everything else.
    for page in ["/growth", "/software", "/servers", "/crawl", "/methodology"] {
        let body = http_get(&addr, page);
        assert_eq!(
            banner_attribute(&body, "data-complete").as_deref(),
            Some("true"),
            "{page}"
        );
    }
    let mastodon_up = mastodon_series(&addr, UNTIL, "servers_up");
    let _ = demo.kill();
    let _ = demo.wait();
    let printed = printed + &rest.join().expect("the reader thread");

    // The figures grew pass by pass: the passes seen moved forward, the visits never went back,
    // and the days the series has a value for grew over at least three passes.
    let passes: std::collections::BTreeSet<u64> = seen.iter().map(|s| s.0).collect();
    assert!(passes.len() >= 3, "{seen:?}");
    assert!(
        seen.windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1),
        "{seen:?}"
    );
    let days: std::collections::BTreeSet<usize> = seen.iter().map(|s| s.2).collect();
    assert!(
        days.len() >= 3,
        "the series did not grow while the demo crawled: {seen:?}"
    );
    assert!(
        mastodon_up.len() > *days.iter().next().unwrap_or(&0),
        "{seen:?}"
    );

    // The completed banner puts the census beside the truth at the headline dates: its census
    // figure is the dashboard's own series, its truth the simulator's, within 2 % of each other.
    let world = World::generate(WorldConfig {
        servers: Some(SERVERS as usize),
        latency: LatencyModel::ZERO,
        ..WorldConfig::new(Scenario::Migration2022, SEED)
    });
    let mut compared = 0;
    for check in complete_page.split("class=\"truth-check\"").skip(1) {
        let tag = &check[..check.find('>').expect("a tag")];
        let value = |name: &str| -> String {
            let rest = &tag[tag.find(&format!("{name}=\"")).expect(name) + name.len() + 2..];
            rest[..rest.find('"').expect("a closing quote")].to_owned()
        };
        let date: NaiveDate = value("data-date").parse().expect("a date");
        let census: f64 = value("data-census").parse().expect("a number");
        let truth: u64 = value("data-truth").parse().expect("a number");
        let at: DateTime<Utc> = date.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        assert_eq!(
            truth,
            truth_summary(&world, at).software("mastodon").reachable,
            "{date}"
        );
        assert_eq!(Some(&census), mastodon_up.get(&date), "{date}");
        let error = (census - truth as f64).abs() / truth as f64;
        assert!(error <= 0.02, "{date}: census {census}, truth {truth}");
        compared += 1;
    }
    assert_eq!(compared, 2, "both headline dates:\n{complete_page}");
    assert!(printed.contains("pass 1/"), "{printed}");

    // A plain `serve` of the same database, a census like any other now, has no banner.
    let served = Served::start(&db);
    let page = http_get(&served.addr, "/");
    assert!(!page.contains("class=\"census-banner"), "{page}");
    drop(served);
    let _ = std::fs::remove_dir_all(&dir);
}
