//! Declared languages, end to end through the real crawler: a small simulated world crawled at
//! dates before and after November 2022 gives, server by server, the primary language the
//! simulator's truth says each declares, so the shares by language are the truth's.

use crate::support::{crawler, serve_world, world_with};
use chrono::{DateTime, TimeZone, Utc};
use fedicensus_core::{Host, Outcome};
use fedicensus_crawler::config::DEFAULT_DOMAIN_BUDGET;
use fedicensus_crawler::MemoryFrontier;
use fedicensus_sim::World;
use std::collections::BTreeMap;
use std::sync::Arc;

fn noon(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// Servers by primary language (`None`: none declared).
type Shares = BTreeMap<Option<String>, u64>;

/// Crawls every alive server of `world` at `at`; returns the crawl's shares among the servers
/// read, the truth's shares for the same servers, and how many disagreed.
async fn crawl_at(world: Arc<World>, at: DateTime<Utc>) -> (Shares, Shares, Vec<String>) {
    let sim = serve_world(world.clone(), at).await;
    let seeds: Vec<Host> = world
        .servers()
        .iter()
        .filter(|s| world.state(s.id, at).alive)
        .filter_map(|s| Host::parse(&s.domain).ok())
        .collect();
    let mut run =
        crawler(&sim.sim).crawl_once(seeds, MemoryFrontier::new(DEFAULT_DOMAIN_BUDGET), 256);
    let mut crawled = Shares::new();
    let mut truth = Shares::new();
    let mut wrong = Vec::new();
    while let Some(obs) = run.observations.recv().await {
        if obs.outcome != Outcome::Ok {
            continue;
        }
        let Some(server) = world.lookup(obs.host.as_str()) else {
            continue;
        };
        if !world.state(server.id, at).alive {
            continue;
        }
        let got = obs.primary_language().map(str::to_owned);
        let want = fedicensus_sim::languages::primary(&world, server, at).map(str::to_owned);
        if got != want {
            wrong.push(format!(
                "{} ({} {}): crawled {got:?}, truth {want:?}",
                server.domain,
                server.software.as_str(),
                server.version
            ));
        }
        *crawled.entry(got).or_default() += 1;
        *truth.entry(want).or_default() += 1;
    }
    run.finished.await.expect("the crawl task ends");
    (crawled, truth, wrong)
}

fn share(shares: &Shares, language: &str) -> f64 {
    let total: u64 = shares.values().sum();
    shares.get(&Some(language.to_owned())).copied().unwrap_or(0) as f64 / total.max(1) as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_finds_every_servers_declared_language_and_the_truths_shares() {
    let world = Arc::new(World::generate(world_with(500, None)));
    let mut japanese = Vec::new();
    for at in [noon(2022, 10, 15), noon(2022, 12, 15)] {
        let (crawled, truth, wrong) = crawl_at(world.clone(), at).await;
        println!("{at}: crawled {crawled:?}");
        assert!(wrong.is_empty(), "{} disagree: {wrong:#?}", wrong.len());
        assert_eq!(crawled, truth);
        let read: u64 = crawled.values().sum();
        assert!(read > 100, "only {read} servers read at {at}");
        assert!(crawled.contains_key(&None), "some servers declare none");
        japanese.push(share(&crawled, "ja"));
    }
    println!("Japanese share of servers read: {japanese:?}");
    assert!(
        japanese[1] < japanese[0],
        "the Japanese share falls through the migration: {japanese:?}"
    );
}
