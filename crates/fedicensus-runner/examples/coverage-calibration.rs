//! Calibrates the coverage estimate (`fedicensus_storage::coverage`) on the simulator, whose
//! truth knows the servers a census has not found.
//!
//! For each world size and seed it crawls the simulated fediverse with the demo's pipeline
//! (`fedicensus demo --no-serve --servers N --seed S --until DATE`), then, at each crawled date,
//! puts every estimator's estimate and 95 % interval beside the truth: the servers of the world a
//! visit could have confirmed by that date (born, and resolving to an address the demo's crawler
//! may reach at one of its passes up to that date; a flood host, which the demo denies, is
//! confirmed by its denial), and those of them a peer list names. It prints
//! one row per run, date and estimator, then per estimator how often the interval held the truth
//! and the mean relative error.
//!
//!   cargo run -p fedicensus-runner --example coverage-calibration -- \
//!       --sizes 300,1000 --seeds 1-6 --until 2022-09-19
//!
//! With `--thin 0.05,0.1` it crawls nothing: on `--until` a census reads the peer lists of only
//! that share of the servers that serve one ([`thinned`]).
//!
//! `COVERAGE_DEBUG_DIR=DIR` keeps each run's database in the temporary directory and writes the
//! truth's confirmable servers of each date to `DIR/confirmable-DATE.txt`, to compare by name.
//!
//! `scripts/coverage-calibration` runs the crawled setting; docs/METHODOLOGY.md ("Coverage")
//! records the figures of both and their commands.

use chrono::{DateTime, NaiveDate, Utc};
use fedicensus_runner::demo::{self, Demo, SCENARIO};
use fedicensus_sim::world::{Resolution, REFUSED_ADDR};
use fedicensus_sim::{LatencyModel, World, WorldConfig};
use fedicensus_storage::coverage::reporter_group;
use fedicensus_storage::methodology::COVERAGE_MIN_REPORTERS;
use fedicensus_storage::{CoverageQuery, Estimator, Granularity, Storage};
use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

type Failure = Box<dyn std::error::Error + Send + Sync>;

const ESTIMATORS: [Estimator; 4] = [
    Estimator::Chapman { groups: 2 },
    Estimator::Chao2 { groups: 2 },
    Estimator::Chao2 { groups: 4 },
    Estimator::Chao2 { groups: 8 },
];

struct Args {
    sizes: Vec<u32>,
    seeds: Vec<u64>,
    until: NaiveDate,
    /// Instead of crawling: the shares of reporters whose lists a thinned census reads.
    thin: Vec<f64>,
}

fn parse_args() -> Result<Args, Failure> {
    let mut args = Args {
        sizes: vec![300, 1000],
        seeds: (1..=6).collect(),
        until: NaiveDate::from_ymd_opt(2022, 9, 19).ok_or("a valid date")?,
        thin: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sizes" => {
                args.sizes = value
                    .split(',')
                    .map(|s| s.trim().parse())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--sizes {value:?}: {e} (accepted: 300,1000)"))?
            }
            "--seeds" => {
                let (a, b) = value.split_once('-').unwrap_or((&value, &value));
                let (a, b): (u64, u64) = (a.parse()?, b.parse()?);
                args.seeds = (a..=b).collect();
            }
            "--until" => args.until = NaiveDate::parse_from_str(&value, "%Y-%m-%d")?,
            "--thin" => {
                args.thin = value
                    .split(',')
                    .map(|s| s.trim().parse())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--thin {value:?}: {e} (accepted: 0.1,0.25)"))?
            }
            other => {
                return Err(format!(
                    "unknown flag {other} (accepted: --sizes, --seeds, --until, --thin)"
                )
                .into())
            }
        }
    }
    Ok(args)
}

/// The truth at `date`: the servers a visit at one of `passes` (up to and including `date`'s)
/// could have confirmed, and those of them that a peer list served at one of those passes names
/// (the population a capture-recapture estimate can reach: a server no list names has no chance
/// of capture).
fn truth(world: &World, passes: &[DateTime<Utc>], date: NaiveDate) -> (u64, u64) {
    let listen = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let reachable = |ip: IpAddr| ip == listen || ip == IpAddr::V4(REFUSED_ADDR);
    let passes: Vec<DateTime<Utc>> = passes
        .iter()
        .copied()
        .filter(|t| t.date_naive() <= date)
        .collect();
    let mut named: HashSet<&str> = HashSet::new();
    for t in &passes {
        for s in world.servers() {
            if !world.serves_peers(s.id, *t) {
                continue;
            }
            for peer in world.peers(s.id, *t) {
                if let Some(p) = world.lookup(&peer) {
                    if p.id != s.id {
                        named.insert(p.domain.as_str());
                    }
                }
            }
        }
    }
    // A flood host the demo denies is confirmed without a visit (outcome `opted_out`).
    let confirmable: Vec<&str> = world
        .servers()
        .iter()
        .filter(|s| {
            passes.iter().any(|t| {
                world.is_born(s.id, *t)
                    && (s.flood
                        || matches!(world.resolve(&s.domain, *t, listen),
                                    Resolution::Address(ip) if reachable(ip)))
            })
        })
        .map(|s| s.domain.as_str())
        .collect();
    if let Ok(dir) = std::env::var("COVERAGE_DEBUG_DIR") {
        let _ = std::fs::write(
            format!("{dir}/confirmable-{date}.txt"),
            confirmable.join("\n"),
        );
    }
    let listed = confirmable.iter().filter(|d| named.contains(*d)).count();
    (confirmable.len() as u64, listed as u64)
}

#[derive(Default)]
struct Tally {
    points: u64,
    held: u64,
    /// Points whose interval held the truth of the population the estimate can reach (servers
    /// known but named by no list, plus every confirmable server a list names).
    held_listed: u64,
    relative_error: f64,
    relative_width: f64,
    below: u64,
    /// Sum of the shares of the truth seen (thinned runs).
    seen: f64,
}

/// Replicates of each thinned census (different reporters read).
const REPLICATES: u64 = 5;

/// The thinned calibration: no crawl. On `until`, every server that serves a peer list is a
/// reporter, and a census reads the lists of a share `q` of them, drawn by a hash of their domain
/// and the replicate; the captures of the groups of those reporters (confirmable servers only)
/// go through each estimator, whose interval is put beside the servers any list names (the
/// population the estimate can reach). This is a census that has read only part of the peer
/// lists, as a real one has where most servers hide theirs.
fn thinned(args: &Args) {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut withheld = 0u64;
    println!("size,seed,share,replicate,estimator,reporters,listed,estimate,low,high,truth,held");
    let at = args.until.and_time(chrono::NaiveTime::MIN).and_utc();
    for &size in &args.sizes {
        for &seed in &args.seeds {
            let world = World::generate(WorldConfig {
                servers: Some(size as usize),
                latency: LatencyModel::ZERO,
                ..WorldConfig::new(SCENARIO, seed)
            });
            let listen = IpAddr::V4(Ipv4Addr::LOCALHOST);
            let confirmable = |id: fedicensus_sim::ServerId, domain: &str| {
                world.is_born(id, at)
                    && matches!(world.resolve(domain, at, listen),
                                Resolution::Address(ip)
                                    if ip == listen || ip == IpAddr::V4(REFUSED_ADDR))
            };
            let lists: Vec<(String, Vec<fedicensus_sim::ServerId>)> = world
                .servers()
                .iter()
                .filter(|s| world.serves_peers(s.id, at))
                .map(|s| {
                    let named: BTreeMap<fedicensus_sim::ServerId, ()> = world
                        .peers(s.id, at)
                        .iter()
                        .filter_map(|p| world.lookup(p))
                        .filter(|p| p.id != s.id && confirmable(p.id, &p.domain))
                        .map(|p| (p.id, ()))
                        .collect();
                    (s.domain.clone(), named.into_keys().collect())
                })
                .collect();
            let truth = lists
                .iter()
                .flat_map(|(_, named)| named.iter().copied())
                .collect::<HashSet<_>>()
                .len() as f64;
            for &share in &args.thin {
                for replicate in 0..REPLICATES {
                    let read: Vec<&(String, Vec<fedicensus_sim::ServerId>)> = lists
                        .iter()
                        .filter(|(domain, _)| {
                            let draw = reporter_group(&format!("{replicate}:{domain}"), 1_000_000);
                            f64::from(draw) < share * 1_000_000.0
                        })
                        .collect();
                    // The published estimate needs this many lists naming a confirmed server.
                    let reporters = read.iter().filter(|(_, named)| !named.is_empty()).count();
                    if (reporters as u64) < COVERAGE_MIN_REPORTERS {
                        withheld += 1;
                        continue;
                    }
                    for estimator in ESTIMATORS {
                        let groups = estimator.groups();
                        let mut masks: BTreeMap<fedicensus_sim::ServerId, usize> = BTreeMap::new();
                        for (domain, named) in &read {
                            let bit = 1usize << reporter_group(domain, groups);
                            for id in named {
                                *masks.entry(*id).or_default() |= bit;
                            }
                        }
                        let mut histories = vec![0u64; 1 << groups];
                        for mask in masks.values() {
                            histories[*mask] += 1;
                        }
                        let Some(e) = estimator.estimate(&histories) else {
                            continue;
                        };
                        let held = e.low <= truth && truth <= e.high;
                        println!(
                            "{size},{seed},{share},{replicate},{}-{groups},{},{},{:.1},{:.1},{:.1},{truth},{held}",
                            estimator.name(),
                            read.len(),
                            e.seen,
                            e.estimate,
                            e.low,
                            e.high,
                        );
                        let tally = tallies
                            .entry(format!("{}-{groups} share {share}", estimator.name()))
                            .or_default();
                        tally.points += 1;
                        tally.held += u64::from(held);
                        tally.below += u64::from(e.high < truth);
                        tally.relative_error += (e.estimate - truth) / truth;
                        tally.relative_width += (e.high - e.low) / truth;
                        tally.seen += e.seen as f64 / truth;
                    }
                }
            }
        }
    }
    println!();
    println!(
        "# {withheld} thinned censuses read fewer than {COVERAGE_MIN_REPORTERS} lists naming a \
         confirmed server: no estimate"
    );
    println!(
        "estimator,points,held,held_share,truth_above_interval,mean_relative_error,\
         mean_relative_width,mean_share_seen"
    );
    for (name, t) in &tallies {
        let n = t.points.max(1) as f64;
        println!(
            "{name},{},{},{:.3},{},{:+.4},{:.4},{:.3}",
            t.points,
            t.held,
            t.held as f64 / n,
            t.below,
            t.relative_error / n,
            t.relative_width / n,
            t.seen / n,
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Failure> {
    let args = parse_args()?;
    if !args.thin.is_empty() {
        thinned(&args);
        return Ok(());
    }
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    println!(
        "size,seed,date,estimator,known,listed,estimate,low,high,truth,held,truth_listed,held_listed"
    );
    for &size in &args.sizes {
        for &seed in &args.seeds {
            let db = PathBuf::from(format!(
                "{}/coverage-calibration-{}-{size}-{seed}.db",
                std::env::temp_dir().display(),
                std::process::id()
            ));
            let run = Demo {
                seed,
                servers: Some(size),
                db: db.clone(),
                until: Some(args.until),
                concurrency: None,
                conditional_requests: true,
            };
            demo::prepare_database_file(&db, |_| {}).await?;
            demo::run(&run, None, CancellationToken::new(), |line| {
                eprintln!("[{size} servers, seed {seed}] {line}")
            })
            .await?;
            let world = World::generate(WorldConfig {
                servers: Some(size as usize),
                latency: LatencyModel::ZERO,
                ..WorldConfig::new(SCENARIO, seed)
            });
            let passes = run.dates();
            let storage = Storage::connect(&run.url()).await?;
            // Every pass but the first: by then every server found has had its peer list read.
            for pass in passes.iter().skip(1) {
                let date = pass.date_naive();
                let (truth, truly_listed) = truth(&world, &passes, date);
                let query = CoverageQuery {
                    granularity: Granularity::Day,
                    from: date,
                    to: date,
                };
                for estimator in ESTIMATORS {
                    let series = storage.coverage_with(&query, estimator).await?;
                    let Some(p) = series.points.first() else {
                        continue;
                    };
                    let (Some(estimate), Some(low), Some(high)) = (p.estimate, p.low, p.high)
                    else {
                        continue;
                    };
                    if p.reporters < COVERAGE_MIN_REPORTERS {
                        continue;
                    }
                    let t = truth as f64;
                    let held = low <= t && t <= high;
                    let tl =
                        (p.servers_known.saturating_sub(p.servers_listed) + truly_listed) as f64;
                    let held_listed = low <= tl && tl <= high;
                    println!(
                        "{size},{seed},{date},{}-{},{},{},{estimate:.1},{low:.1},{high:.1},{truth},{held},{tl},{held_listed}",
                        estimator.name(),
                        estimator.groups(),
                        p.servers_known,
                        p.servers_listed,
                    );
                    let tally = tallies
                        .entry(format!("{}-{}", estimator.name(), estimator.groups()))
                        .or_default();
                    tally.points += 1;
                    tally.held += u64::from(held);
                    tally.held_listed += u64::from(held_listed);
                    tally.below += u64::from(high < t);
                    tally.relative_error += (estimate - t) / t;
                    tally.relative_width += (high - low) / t;
                }
            }
            storage.close().await;
            if std::env::var("COVERAGE_DEBUG_DIR").is_ok() {
                continue;
            }
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
        }
    }
    println!();
    println!(
        "estimator,points,held,held_share,held_listed_share,truth_above_interval,\
         mean_relative_error,mean_relative_width"
    );
    for (name, t) in &tallies {
        let n = t.points.max(1) as f64;
        println!(
            "{name},{},{},{:.3},{:.3},{},{:+.4},{:.4}",
            t.points,
            t.held,
            t.held as f64 / n,
            t.held_listed as f64 / n,
            t.below,
            t.relative_error / n,
            t.relative_width / n
        );
    }
    Ok(())
}
