//! Calibrates the coverage estimate (`fedicensus_storage::coverage`) on the simulator, whose
//! truth knows the servers a census has not found.
//!
//! For each world size and seed it crawls the simulated fediverse with the demo's pipeline
//! (`fedicensus demo --no-serve --servers N --seed S --until DATE`), then, at each crawled date,
//! puts every estimator's estimate and 95 % interval beside the truth: the servers of the world a
//! visit could have confirmed by that date (born, not a flood host the demo denies, and resolving
//! to an address the demo's crawler may reach, at one of its passes up to that date). It prints
//! one row per run, date and estimator, then per estimator how often the interval held the truth
//! and the mean relative error.
//!
//!   cargo run -p fedicensus-runner --example coverage-calibration -- \
//!       --sizes 300,1000 --seeds 1-6 --until 2022-09-19
//!
//! `scripts/coverage-calibration` runs the command whose figures docs/METHODOLOGY.md records.

use chrono::{DateTime, NaiveDate, Utc};
use fedicensus_runner::demo::{self, Demo, SCENARIO};
use fedicensus_sim::world::{Resolution, REFUSED_ADDR};
use fedicensus_sim::{LatencyModel, World, WorldConfig};
use fedicensus_storage::{CoverageQuery, Estimator, Granularity, Storage};
use std::collections::BTreeMap;
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
}

fn parse_args() -> Result<Args, Failure> {
    let mut args = Args {
        sizes: vec![300, 1000],
        seeds: (1..=6).collect(),
        until: NaiveDate::from_ymd_opt(2022, 9, 19).ok_or("a valid date")?,
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
            other => {
                return Err(
                    format!("unknown flag {other} (accepted: --sizes, --seeds, --until)").into(),
                )
            }
        }
    }
    Ok(args)
}

/// The servers a visit at one of `passes` (up to and including `date`'s) could have confirmed.
fn confirmable(world: &World, passes: &[DateTime<Utc>], date: NaiveDate) -> u64 {
    let listen = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let reachable = |ip: IpAddr| ip == listen || ip == IpAddr::V4(REFUSED_ADDR);
    world
        .servers()
        .iter()
        .filter(|s| !s.flood)
        .filter(|s| {
            passes.iter().filter(|t| t.date_naive() <= date).any(|t| {
                world.is_born(s.id, *t)
                    && matches!(world.resolve(&s.domain, *t, listen),
                                    Resolution::Address(ip) if reachable(ip))
            })
        })
        .count() as u64
}

#[derive(Default)]
struct Tally {
    points: u64,
    held: u64,
    relative_error: f64,
    relative_width: f64,
    below: u64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Failure> {
    let args = parse_args()?;
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    println!("size,seed,date,estimator,known,listed,estimate,low,high,truth,held");
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
                let truth = confirmable(&world, &passes, date);
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
                    let t = truth as f64;
                    let held = low <= t && t <= high;
                    println!(
                        "{size},{seed},{date},{}-{},{},{},{estimate:.1},{low:.1},{high:.1},{truth},{held}",
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
                    tally.below += u64::from(high < t);
                    tally.relative_error += (estimate - t) / t;
                    tally.relative_width += (high - low) / t;
                }
            }
            storage.close().await;
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
        }
    }
    println!();
    println!("estimator,points,held,held_share,truth_above_interval,mean_relative_error,mean_relative_width");
    for (name, t) in &tallies {
        let n = t.points.max(1) as f64;
        println!(
            "{name},{},{},{:.3},{},{:+.4},{:.4}",
            t.points,
            t.held,
            t.held as f64 / n,
            t.below,
            t.relative_error / n,
            t.relative_width / n
        );
    }
    Ok(())
}
