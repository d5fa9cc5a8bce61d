//! A full crawl of a simulated world through the real pipeline, compared with the simulator's
//! lower bound. Prints figures; asserts nothing.
//!
//! It drives the release binary as two processes, as a user would: `fedicensus simulate` (the
//! world, default failure mix and latency) and `fedicensus crawl --once` into a fresh SQLite file
//! under `/usr/bin/time -v` (peak RSS and CPU time of the crawler alone). The lower bound is
//! computed in-process from the same world with the crawl's concurrency, interval and timeouts.
//!
//! The module's bound charges every host's first request a TCP and a TLS round trip; the
//! simulator sleeps one round trip (± 10 %) per answered request and nothing per connection. So
//! the bench also prints a stricter bound, "as the simulator charges": the same hosts and
//! requests with the connection's round trips removed, failed handshakes free and every round
//! trip at 0.9 of the server's latency. The target is judged against the module's bound; the
//! strict one says how much of the margin is the connection cost the simulator never charges.
//! Load (`/proc/loadavg`) is printed before and after, and the simulator's own CPU time, since
//! the two processes share the machine's cores.
//!
//! `BENCH_STOP_AFTER_SECS` stops the crawl (SIGTERM, a graceful stop) after that many seconds:
//! for measuring the crawler's memory while a large world's frontier is full, without waiting
//! for the whole crawl.
//!
//! Build the binary first: `cargo build --release -p fedicensus-cli --bin fedicensus`, then
//! `cargo bench -p fedicensus-cli --bench crawl`. Environment: `BENCH_SERVERS` (default 30000),
//! `BENCH_CONCURRENCY` (default the crawler's 64; per-IP concurrency is set to the same, since
//! every simulated server shares 127.0.0.1), `BENCH_MIN_INTERVAL_MS` (default 1000, the
//! crawler's default), `FEDICENSUS_BIN` (default `target/release/fedicensus`).

use chrono::{NaiveDate, Utc};
use fedicensus_crawler::config as defaults;
use fedicensus_sim::lower_bound::{host_cost, lower_bound, CrawlParameters, HostCost};
use fedicensus_sim::{FailureMix, LatencyModel, Scenario, World, WorldConfig};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const AT: &str = "2022-11-15";
const SEEDS: [&str; 2] = ["mastodon.social", "pawoo.net"];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let servers: usize = env_or("BENCH_SERVERS", 30_000);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", defaults::DEFAULT_CONCURRENCY);
    let interval_ms: u64 = env_or("BENCH_MIN_INTERVAL_MS", 1000);
    let binary = std::env::var("FEDICENSUS_BIN").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release/fedicensus"),
        PathBuf::from,
    );
    assert!(
        binary.exists(),
        "no {}: cargo build --release first",
        binary.display()
    );
    let at = NaiveDate::parse_from_str(AT, "%Y-%m-%d")
        .expect("a date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();

    // The bound, from the same world the simulator will serve.
    let started = Instant::now();
    let world = World::generate(WorldConfig {
        servers: Some(servers),
        failures: FailureMix::default(),
        latency: LatencyModel::default(),
        ..WorldConfig::new(Scenario::Migration2022, 7)
    });
    let seeds: Vec<_> = SEEDS
        .iter()
        .map(|s| world.lookup(s).expect("a seed").id)
        .collect();
    let params = CrawlParameters {
        concurrency,
        min_interval: Duration::from_millis(interval_ms),
        connect_timeout: defaults::DEFAULT_CONNECT_TIMEOUT,
        request_timeout: defaults::DEFAULT_REQUEST_TIMEOUT,
    };
    let bound = lower_bound(&world, &seeds, at, &params);
    let strict = strict_bound(&world, &seeds, at, &params);
    println!(
        "world: {} servers ({} with the flood), generated and bounded in {:.1} s",
        servers,
        world.servers().len(),
        started.elapsed().as_secs_f64()
    );
    println!("lower bound: {bound:?}");
    println!("strict bound (as the simulator charges): {strict:.1} s");
    drop(world);

    let dir = std::env::temp_dir().join(format!("fedicensus-bench-crawl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let ca = dir.join("ca.pem");
    let mut sim = Command::new(&binary)
        .args(["simulate", "--servers", &servers.to_string(), "--seed", "7"])
        .args(["--at", AT, "--listen", "127.0.0.1:0", "--ca-file"])
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the simulator starts");
    let mut printed = String::new();
    for line in BufReader::new(sim.stdout.take().expect("stdout")).lines() {
        let line = line.expect("a line");
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let after = |marker: &str| {
        printed
            .split(marker)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no {marker} in {printed}"))
            .to_string()
    };
    let port = after("HTTP and HTTPS   port ");
    let dns = after("DNS server       ");

    let mut crawl = Command::new("/usr/bin/time");
    crawl
        .arg("-v")
        .arg(&binary)
        .env("FEDICENSUS__CRAWLER__CONCURRENCY", concurrency.to_string())
        .env(
            "FEDICENSUS__CRAWLER__PER_IP_CONCURRENCY",
            concurrency.to_string(),
        )
        .env(
            "FEDICENSUS__CRAWLER__MIN_INTERVAL",
            format!("{interval_ms}ms"),
        )
        .env("RUST_LOG", "warn")
        .current_dir(&dir)
        .args(["crawl", "--once", "--db"])
        .arg(dir.join("census.db"))
        .args(["--dns", &dns, "--port", &port, "--ca-file"])
        .arg(&ca)
        .args([
            "--allow-address",
            "127.0.0.1",
            "--allow-address",
            "127.0.0.2",
        ])
        .args([
            "--now",
            AT,
            "--contact-url",
            "https://example.invalid/fedicensus",
        ]);
    for seed in SEEDS {
        crawl.args(["--seed", seed]);
    }
    let stop_after: Option<u64> = std::env::var("BENCH_STOP_AFTER_SECS")
        .ok()
        .and_then(|v| v.parse().ok());
    let load_before = loadavg();
    let wall = Instant::now();
    let child = crawl
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the crawl starts");
    if let Some(secs) = stop_after {
        let time_pid = child.id();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(secs));
            // The crawler is /usr/bin/time's only child.
            let children =
                std::fs::read_to_string(format!("/proc/{time_pid}/task/{time_pid}/children"))
                    .unwrap_or_default();
            for pid in children.split_whitespace() {
                let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
                    .collect::<Vec<_>>()
                    .join(", ");
                println!("stopping the crawl after {secs} s ({rss})");
                let _ = Command::new("kill").args(["-TERM", pid]).status();
            }
        });
    }
    let out = child.wait_with_output().expect("the crawl runs");
    let wall = wall.elapsed().as_secs_f64();
    let load_after = loadavg();
    let sim_cpu = process_cpu_secs(sim.id());
    let _ = sim.kill();
    let _ = sim.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| -> f64 {
        stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    let rss_mb = field("Maximum resident set size (kbytes):") / 1024.0;
    let cpu = field("User time (seconds):") + field("System time (seconds):");
    let visits: f64 = stdout
        .split("crawl pass finished: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(f64::NAN);
    println!("crawl output:\n{stdout}");
    if !out.status.success() {
        println!("crawl failed ({}):\n{stderr}", out.status);
    }
    println!("figures ({}):", Utc::now().format("%Y-%m-%d"));
    println!("  servers in the world        {servers}");
    println!("  hosts the bound counts      {}", bound.hosts);
    println!("  visits recorded             {visits}");
    println!("  wall time                   {wall:.1} s");
    println!(
        "  lower bound                 {:.1} s (busy {:.0} s / {concurrency} slots; longest chain {:.1} s)",
        bound.bound_secs, bound.total_busy_secs, bound.longest_chain_secs
    );
    println!(
        "  ratio to the bound          {:.2}",
        wall / bound.bound_secs
    );
    println!(
        "  strict bound                {strict:.1} s (ratio {:.2})",
        wall / strict
    );
    println!("  crawler peak RSS            {rss_mb:.0} MB");
    println!(
        "  crawler CPU time            {cpu:.1} s ({:.2} ms per visit)",
        1000.0 * cpu / visits
    );
    println!("  simulator CPU time          {sim_cpu:.1} s");
    println!("  load average before/after   {load_before} / {load_after}");
    println!(
        "  cores                       {}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bound with the costs the simulator actually charges (see the module doc): a request's
/// least time is 0.9 of its host's round trip, connections cost nothing, a failed handshake
/// nothing; timeouts are unchanged.
fn strict_bound(
    world: &World,
    seeds: &[fedicensus_sim::ServerId],
    at: chrono::DateTime<Utc>,
    params: &CrawlParameters,
) -> f64 {
    let interval = params.min_interval.as_secs_f64();
    let mut busy = 0.0;
    let mut longest: f64 = 0.0;
    for id in world.discoverable_from(seeds, at) {
        let rtt = f64::from(world.server(id).latency_ms) / 1000.0;
        let same = |a: f64, b: f64| (a - b).abs() < 1e-9;
        let cost = HostCost {
            requests: host_cost(world, id, at, params)
                .requests
                .iter()
                .map(|&c| {
                    if same(c, 3.0 * rtt) || same(c, rtt) {
                        0.9 * rtt
                    } else if same(c, 2.0 * rtt) {
                        0.0
                    } else {
                        c
                    }
                })
                .collect(),
        };
        busy += cost.busy_secs();
        longest = longest.max(cost.chain_secs(interval));
    }
    (busy / params.concurrency.max(1) as f64).max(longest)
}

/// The 1, 5 and 15 minute load averages.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// User plus system CPU time of a running process, from `/proc/PID/stat` (clock ticks of 1/100 s).
fn process_cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // utime and stime are fields 14 and 15 of stat: 11 and 12 counted from the state (field 3).
    (ticks(11) + ticks(12)) / 100.0
}
