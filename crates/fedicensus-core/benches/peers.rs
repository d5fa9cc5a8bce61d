//! How fast a peer list is normalised: entries a second, on one core, from the body as served to
//! the normalised, distinct hosts (`parse_peers` then `normalise_peers`), on mastodon.social's
//! real list of 121,644 entries (`fixtures/real/mastodon/`), with each stage timed on its own.
//!
//! ```sh
//! cargo bench -p fedicensus-core --bench peers            # 20 rounds
//! BENCH_ROUNDS=50 cargo bench -p fedicensus-core --bench peers
//! BENCH_FILE=path/to/peers.json cargo bench -p fedicensus-core --bench peers
//! ```
//!
//! Each round is timed in CPU time of this thread (Linux's `/proc/thread-self/schedstat`, in
//! nanoseconds; wall time where it is missing): on a machine shared with other builds, wall
//! time also counts the time other processes had the core. The figure is the median round's
//! (the best round is printed beside it). Target (issue 20): at least 1,000,000 entries a
//! second.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fedicensus_core::parse::{normalise_peers, parse_peers};

const TARGET: f64 = 1_000_000.0;

/// This thread's CPU time so far, or the wall clock where Linux's schedstat is missing.
fn cpu_now(wall: Instant) -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_else(|| wall.elapsed())
}

fn main() {
    let file = std::env::var_os("BENCH_FILE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/real/mastodon/api-v1-instance-peers-mastodon.social-2026-08-full.json")
    });
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .max(1);
    let body = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));

    // One warm-up round, which also gives the counts printed below.
    let list = parse_peers(&body).expect("the fixture is a peer list");
    let entries = list.entries.len();
    let normalised = normalise_peers(&list.entries);
    drop(list);

    let mut whole = Vec::with_capacity(rounds);
    let mut parse = Vec::with_capacity(rounds);
    let mut normalise = Vec::with_capacity(rounds);
    let wall = Instant::now();
    for _ in 0..rounds {
        let start = cpu_now(wall);
        let list = parse_peers(std::hint::black_box(&body)).expect("a peer list");
        let parsed = cpu_now(wall);
        let hosts = normalise_peers(&list.entries);
        let done = cpu_now(wall);
        std::hint::black_box(&hosts);
        drop(hosts);
        drop(list);
        whole.push(done - start);
        parse.push(parsed - start);
        normalise.push(done - parsed);
    }
    let rate = |d: Duration| entries as f64 / d.as_secs_f64();
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let best_whole = *whole.iter().min().expect("at least one round");
    let (whole, parse, normalise) = (
        median(&mut whole),
        median(&mut parse),
        median(&mut normalise),
    );
    println!("peer list: {} ({} bytes)", file.display(), body.len());
    println!(
        "entries {entries}, hosts {}, duplicates {}, rejected {}",
        normalised.hosts.len(),
        normalised.duplicates,
        normalised.rejected_total()
    );
    println!("rounds {rounds} (median; best in brackets), one thread, CPU time");
    println!(
        "  parse (JSON to entries)      {:>8.2} ms  {:>12.0} entries/s",
        parse.as_secs_f64() * 1e3,
        rate(parse)
    );
    println!(
        "  normalise (IDNA, PSL, dedupe) {:>7.2} ms  {:>12.0} entries/s",
        normalise.as_secs_f64() * 1e3,
        rate(normalise)
    );
    println!(
        "  body to normalised hosts     {:>8.2} ms  {:>12.0} entries/s  ({:.0} best)",
        whole.as_secs_f64() * 1e3,
        rate(whole),
        rate(best_whole)
    );
    println!(
        "target {:.0} entries/s: {}",
        TARGET,
        if rate(whole) >= TARGET {
            "met"
        } else {
            "missed"
        }
    );
}
