//! The crawler's own overload is not a server's failure (issue 26): `fedicensus demo` crawls a
//! small simulated world while every core of the machine is kept busy by spinning processes and
//! its concurrency is set far too high, and the census still matches the simulator's truth at
//! every pass date. The crawler measures its own lag, keeps its visits in flight to what the
//! machine sustains, and records a failure that coincided with its own stall as `inconclusive`
//! (made again within the pass first); without that, the same run read hundreds of timeouts as
//! servers' failures (RELIABILITY.md, "The crawler's own overload").

use crate::fedicensus;
use crate::support::{http_get as get, mastodon_series, Served};
use chrono::{DateTime, NaiveDate, Utc};
use fedicensus_sim::{truth::truth_summary, LatencyModel, Scenario, World, WorldConfig};
use std::process::{Child, Command, Stdio};

const SERVERS: u32 = 400;
const SEED: u64 = 7;
const UNTIL: &str = "2022-10-19";
/// Request slots: 16 visits in flight each, so up to 8,192 visits at once, twenty times the
/// world, on two cores kept busy.
const CONCURRENCY: &str = "512";

/// Processes spinning on every core (two a core), killed when dropped.
struct Spinners(Vec<Child>);

impl Spinners {
    fn start() -> Spinners {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Spinners(
            (0..2 * cores)
                .map(|_| {
                    Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .stdin(Stdio::null())
                        .spawn()
                        .expect("a spinning shell starts")
                })
                .collect(),
        )
    }
}

impl Drop for Spinners {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn a_census_crawled_on_a_machine_kept_busy_still_matches_the_truth_at_every_pass() {
    let dir = std::env::temp_dir().join(format!("fedicensus-e2e-overload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let db = dir.join("demo.db");
    // Built before the spinners start (a no-op when up to date).
    drop(fedicensus());

    let spinners = Spinners::start();
    let out = fedicensus()
        .args(["demo", "--no-serve", "--servers", &SERVERS.to_string()])
        .args(["--seed", &SEED.to_string(), "--until", UNTIL])
        .args(["--concurrency", CONCURRENCY, "--db"])
        .arg(&db)
        .stderr(Stdio::null())
        .output()
        .expect("the demo runs");
    drop(spinners);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    let crawled: Vec<NaiveDate> = stdout
        .lines()
        .filter_map(|l| l.split(" as of ").nth(1))
        .filter_map(|rest| rest.get(..10))
        .map(|d| d.parse().expect("a date"))
        .collect();
    assert!(crawled.len() >= 8, "{stdout}");
    // "crawled 9 dates (3,210 visits, 12 inconclusive) in 41.0 s"
    let inconclusive: u64 = stdout
        .lines()
        .find(|l| l.starts_with("crawled "))
        .and_then(|l| l.split(" visits, ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of inconclusive visits in:\n{stdout}"));

    let serve = Served::start(&db);
    let addr = serve.addr.clone();
    let up = mastodon_series(&addr, UNTIL, "servers_up");
    let users = mastodon_series(&addr, UNTIL, "users_total");
    let runs: serde_json::Value =
        serde_json::from_str(&get(&addr, "/api/v1/runs")).expect("runs as JSON");
    let crawl_page = get(&addr, "/crawl");
    drop(serve);

    let world = World::generate(WorldConfig {
        servers: Some(SERVERS as usize),
        latency: LatencyModel::ZERO,
        ..WorldConfig::new(Scenario::Migration2022, SEED)
    });
    let mut report = format!("{stdout}\n");
    let mut worst: f64 = 0.0;
    for date in &crawled {
        let at: DateTime<Utc> = date.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let truth = truth_summary(&world, at).software("mastodon");
        let census_up = up.get(date).copied().unwrap_or(0.0);
        let census_users = users.get(date).copied().unwrap_or(0.0);
        let up_error = (census_up - truth.reachable as f64).abs() / truth.reachable as f64;
        let users_error = (census_users - truth.users as f64).abs() / truth.users as f64;
        worst = worst.max(up_error).max(users_error);
        report.push_str(&format!(
            "{date}: up {census_up} / truth {} ({:.2} %), users {census_users} / truth {} \
             ({:.2} %)\n",
            truth.reachable,
            up_error * 100.0,
            truth.users,
            users_error * 100.0
        ));
    }
    println!("{report}{inconclusive} visits inconclusive");
    assert!(worst <= 0.02, "more than 2 % off the truth:\n{report}");

    // Every run records the crawler's own health, and Crawl health shows it.
    let runs = runs["runs"].as_array().expect("a run list");
    assert_eq!(runs.len(), crawled.len(), "{runs:?}");
    for run in runs {
        assert!(run["health"]["lag_max_ms"].is_u64(), "{run}");
        assert!(
            run["health"]["visit_limit_max"].as_u64() >= Some(1),
            "{run}"
        );
    }
    let counted: u64 = runs
        .iter()
        .map(|r| r["inconclusive"].as_u64().expect("a count"))
        .sum();
    assert_eq!(counted, inconclusive);
    assert!(
        crawl_page.contains("The crawler&#x27;s own health")
            || crawl_page.contains("The crawler's own health")
    );
    assert!(crawl_page.contains("not counted against their servers"));
    let _ = std::fs::remove_dir_all(&dir);
}
