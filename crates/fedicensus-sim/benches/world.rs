//! World-model benchmark: how long a 100,000-server world takes to generate, how much memory it
//! holds, and how long the largest peer list takes to compute. Figures only, no assertions (a
//! benchmark is not a test); run with `cargo bench -p fedicensus-sim --bench world`.

use chrono::{TimeZone, Utc};
use fedicensus_sim::lower_bound::{lower_bound, CrawlParameters};
use fedicensus_sim::truth::truth_summary;
use fedicensus_sim::{Scenario, World, WorldConfig};
use std::time::{Duration, Instant};

/// A line of /proc/self/status (`VmHWM`, `VmRSS`), in MiB; `None` off Linux.
fn status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn mib(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.1} MiB"))
}

fn main() {
    let before = status_mib("VmRSS:");
    let started = Instant::now();
    let mut config = WorldConfig::new(Scenario::Migration2022, 2022);
    config.servers = Some(100_000);
    let world = World::generate(config);
    let generation = started.elapsed();
    println!("world/generate-100k: {generation:.2?}");
    println!(
        "world/servers: {} (flood hosts included)",
        world.servers().len()
    );
    println!("world/rss-before: {}", mib(before));
    println!("world/rss-after: {}", mib(status_mib("VmRSS:")));
    println!("world/peak-rss: {}", mib(status_mib("VmHWM:")));

    let at = Utc
        .with_ymd_and_hms(2022, 11, 27, 12, 0, 0)
        .single()
        .expect("valid date");
    let seed = world
        .lookup("mastodon.social")
        .expect("the named seed exists")
        .id;
    let started = Instant::now();
    let peers = world.peers(seed, at);
    println!(
        "world/peers-mastodon.social: {} entries in {:.2?}",
        peers.len(),
        started.elapsed()
    );

    let started = Instant::now();
    let found = world.discoverable_from(&[seed], at);
    println!(
        "world/discoverable-from-mastodon.social: {} hosts in {:.2?}",
        found.len(),
        started.elapsed()
    );

    let started = Instant::now();
    let summary = truth_summary(&world, at);
    let mastodon = summary.software("mastodon");
    println!(
        "world/truth-summary: {:.2?} (reachable Mastodon {}, users {}, MAU {})",
        started.elapsed(),
        mastodon.reachable,
        mastodon.users,
        mastodon.active_month
    );

    let params = CrawlParameters {
        concurrency: 64,
        min_interval: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
    };
    let started = Instant::now();
    let bound = lower_bound(&world, &[seed], at, &params);
    println!(
        "world/lower-bound: {:.2?} ({} hosts, {} requests, bound {:.0} s at concurrency 64)",
        started.elapsed(),
        bound.hosts,
        bound.requests,
        bound.bound_secs
    );
}
