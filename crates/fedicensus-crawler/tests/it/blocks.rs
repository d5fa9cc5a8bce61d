//! Block lists, end to end through the real crawler: a small simulated world crawled at dates
//! through its scenario gives, server by server, exactly the block list the simulator's truth
//! says each publishes on that date (domain as published, digest, severity, comment), so every
//! published block edge is found with its first and last sighting at the crawl's resolution; and
//! a crawl that was not told to read block lists reads none.

use crate::support::{crawler_config, crawler_with, serve_world, world_with};
use chrono::{DateTime, TimeZone, Utc};
use fedicensus_core::{Host, Outcome};
use fedicensus_crawler::config::DEFAULT_DOMAIN_BUDGET;
use fedicensus_crawler::MemoryFrontier;
use fedicensus_sim::blocks::{blocks_of, published, source_of};
use fedicensus_sim::World;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn noon(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// One published entry: (blocker, domain as published, digest when obfuscated, severity,
/// comment, source).
type Entry = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
);

/// Crawls every alive server of `world` at `at` (reading block lists when `read`); returns the
/// entries read, the entries the truth says were published to the servers read, the servers
/// whose list was read, and the disagreements.
async fn crawl_at(
    world: Arc<World>,
    at: DateTime<Utc>,
    read: bool,
) -> (
    BTreeSet<Entry>,
    BTreeSet<Entry>,
    BTreeSet<String>,
    Vec<String>,
) {
    let sim = serve_world(world.clone(), at).await;
    let seeds: Vec<Host> = world
        .servers()
        .iter()
        .filter(|s| world.state(s.id, at).alive)
        .filter_map(|s| Host::parse(&s.domain).ok())
        .collect();
    let mut config = crawler_config(&sim.sim);
    config.read_blocklists = read;
    let mut run = crawler_with(&sim.sim, config).crawl_once(
        seeds,
        MemoryFrontier::new(DEFAULT_DOMAIN_BUDGET),
        256,
    );
    let mut got = BTreeSet::new();
    let mut want = BTreeSet::new();
    let mut lists = BTreeSet::new();
    let mut wrong = Vec::new();
    while let Some(obs) = run.observations.recv().await {
        let Some(server) = world.lookup(obs.host.as_str()) else {
            continue;
        };
        if obs.outcome != Outcome::Ok || !world.state(server.id, at).alive {
            assert!(
                obs.blocks.is_none(),
                "{}: a list from a failed visit",
                server.domain
            );
            continue;
        }
        let truth = if read {
            published(&world, server, at)
        } else {
            None
        };
        if truth.is_some() != obs.blocks.is_some() {
            wrong.push(format!(
                "{} ({} {}): list read {}, published {}",
                server.domain,
                server.software.as_str(),
                world.version_at(server.id, at),
                obs.blocks.is_some(),
                truth.is_some()
            ));
        }
        if let Some(list) = &obs.blocks {
            lists.insert(server.domain.clone());
            assert_eq!(list.skipped, 0, "{}", server.domain);
            for b in &list.blocks {
                got.insert((
                    server.domain.clone(),
                    b.domain.clone(),
                    if b.obfuscated { b.digest.clone() } else { None },
                    b.severity.clone(),
                    b.comment.clone(),
                    list.source.as_str().to_owned(),
                ));
            }
        }
        if let (Some(truth), Some(source)) = (truth, source_of(server)) {
            for b in truth {
                want.insert((
                    b.blocker.clone(),
                    b.published_domain(),
                    b.obfuscated.then(|| b.digest()),
                    b.severity.to_owned(),
                    b.comment.map(str::to_owned),
                    source.as_str().to_owned(),
                ));
            }
        }
    }
    run.finished.await.expect("the crawl task ends");
    (got, want, lists, wrong)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_finds_every_published_block_with_its_dates_and_severity() {
    let world = Arc::new(World::generate(world_with(300, None)));
    let dates = [
        noon(2022, 9, 10),
        noon(2022, 10, 1),
        noon(2022, 10, 22),
        noon(2022, 11, 12),
        noon(2022, 12, 3),
        noon(2022, 12, 24),
    ];
    // Per entry: the crawl dates it was read on, and the dates the truth says it was published.
    let mut seen: BTreeMap<Entry, Vec<DateTime<Utc>>> = BTreeMap::new();
    let mut truth: BTreeMap<Entry, Vec<DateTime<Utc>>> = BTreeMap::new();
    for at in dates {
        let (got, want, lists, wrong) = crawl_at(world.clone(), at, true).await;
        println!("{at}: {} lists read, {} blocks", lists.len(), got.len());
        assert!(
            wrong.is_empty(),
            "{} disagree at {at}: {wrong:#?}",
            wrong.len()
        );
        let missed: Vec<&Entry> = want.difference(&got).collect();
        let invented: Vec<&Entry> = got.difference(&want).collect();
        assert!(missed.is_empty(), "missed at {at}: {missed:#?}");
        assert!(
            invented.is_empty(),
            "not in the truth at {at}: {invented:#?}"
        );
        for e in got {
            seen.entry(e).or_default().push(at);
        }
        for e in want {
            truth.entry(e).or_default().push(at);
        }
    }
    assert_eq!(seen, truth);
    // Every block of the truth that stood on a crawl date on a list read then: its first and
    // last sighting are the first and last crawl dates it stood on.
    let mut added = 0;
    let mut lifted = 0;
    for server in world.servers() {
        for b in blocks_of(&world, server) {
            let on: Vec<DateTime<Utc>> = dates
                .iter()
                .copied()
                .filter(|d| b.active(*d) && world.state(server.id, *d).alive)
                .filter(|d| published(&world, server, *d).is_some())
                .collect();
            let (Some(first), Some(last)) = (on.first(), on.last()) else {
                continue;
            };
            let key = seen
                .keys()
                .find(|e| e.0 == b.blocker && e.1 == b.published_domain() && e.3 == b.severity)
                .unwrap_or_else(|| panic!("{b:?} never found"));
            let sightings = &seen[key];
            assert_eq!(
                (sightings.first(), sightings.last()),
                (Some(first), Some(last)),
                "{b:?}"
            );
            if b.from > dates[0] {
                added += 1;
            }
            if b.until.is_some_and(|u| u <= dates[dates.len() - 1]) {
                lifted += 1;
            }
        }
    }
    let sources: BTreeSet<&str> = seen.keys().map(|e| e.5.as_str()).collect();
    let obfuscated = seen.keys().filter(|e| e.2.is_some()).count();
    let severities: BTreeSet<&str> = seen.keys().map(|e| e.3.as_str()).collect();
    println!(
        "{} entries over {} dates: {added} added and {lifted} lifted during the crawls, \
         {obfuscated} obfuscated, sources {sources:?}, severities {severities:?}",
        seen.len(),
        dates.len()
    );
    assert!(
        added > 5 && lifted > 5,
        "blocks come and go: {added} added, {lifted} lifted"
    );
    assert!(obfuscated > 0, "some entries are obfuscated");
    assert_eq!(
        sources,
        ["domain_blocks", "lemmy_blocked", "mrf_simple"]
            .into_iter()
            .collect()
    );
    assert!(severities.contains("suspend") && severities.contains("silence"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_told_not_to_read_block_lists_reads_none() {
    let world = Arc::new(World::generate(world_with(120, None)));
    let (got, _, lists, wrong) = crawl_at(world, noon(2022, 12, 3), false).await;
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(lists.is_empty() && got.is_empty());
}
