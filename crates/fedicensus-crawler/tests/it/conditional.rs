//! Conditional requests against the simulator: a second visit asks "has it changed?", a 304
//! is read as the same document read again (the census must not change), a server that dies
//! after a 304 is still recorded dead, and the cache stays within its bounds.

use crate::support::{crawler_config, crawler_with, serve_world, world_with};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use fedicensus_core::{Host, Observation, Software};
use fedicensus_crawler::{CacheLimits, Crawler, VisitPlan};
use fedicensus_sim::{Server, World};
use std::sync::Arc;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 11, 10, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// Servers that answer normally at every one of `instants`, of the families the simulator
/// gives validators or lifetimes to, Mastodon first.
fn answering(world: &World, instants: &[DateTime<Utc>], most: usize) -> Vec<Server> {
    let mut servers: Vec<Server> = world
        .servers()
        .iter()
        .filter(|s| {
            s.failure.is_none()
                && !s.flood
                && s.opt_out.is_none()
                && instants.iter().all(|at| world.state(s.id, *at).alive)
        })
        .cloned()
        .collect();
    servers.sort_by_key(|s| s.software != Software::Mastodon);
    servers.truncate(most);
    servers
}

fn host(server: &Server) -> Host {
    Host::parse(&server.domain).expect("a valid host")
}

/// What the census records of a visit made at about `at`: everything but its wall time (the
/// simulated clock runs on by the milliseconds a visit takes).
fn census(mut obs: Observation, at: DateTime<Utc>) -> Observation {
    obs.duration_ms = 0;
    obs.observed_at = at;
    obs
}

async fn visit(crawler: &Crawler, server: &Server) -> fedicensus_crawler::VisitReport {
    crawler.visit_planned(&host(server), VisitPlan::FULL).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_visit_asks_conditionally_and_takes_the_304s_as_the_same_documents() {
    let world = Arc::new(World::generate(world_with(400, None)));
    let later = start() + TimeDelta::minutes(1);
    let servers = answering(&world, &[start(), later], 40);
    let sim = serve_world(world.clone(), start()).await;
    let crawler = crawler_with(&sim.sim, crawler_config(&sim.sim));
    for server in &servers {
        visit(&crawler, server).await;
    }
    let first = crawler
        .cache_report()
        .expect("conditional requests are on by default");
    assert_eq!(first.not_modified, 0, "{first:?}");
    assert!(first.entries > 0, "{first:?}");
    sim.sim.clock().set(later);
    sim.sim.clear_log();
    let mut not_modified = 0;
    for server in &servers {
        let report = visit(&crawler, server).await;
        not_modified += report
            .requests
            .iter()
            .filter(|r| r.status == Some(304))
            .count();
        assert!(report.observation.outcome.is_ok(), "{}", server.domain);
    }
    let second = crawler.cache_report().expect("a cache");
    assert!(not_modified > 0, "no 304 taken: {second:?}");
    assert_eq!(second.not_modified as usize, not_modified, "{second:?}");
    assert!(second.bytes_saved > 0, "{second:?}");
    // The simulator answered those 304s (it is the server that says "not modified").
    let served_304 = sim
        .sim
        .requests()
        .iter()
        .filter(|r| r.status == 304)
        .count();
    assert_eq!(served_304, not_modified);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_census_with_conditional_requests_records_what_one_without_them_records() {
    let world = Arc::new(World::generate(world_with(400, None)));
    // Three visits of each server: a minute apart (some documents unchanged: 304s), then two
    // days later (figures changed: full answers).
    let instants = [
        start(),
        start() + TimeDelta::minutes(1),
        start() + TimeDelta::days(2),
    ];
    let servers = answering(&world, &instants, 25);
    let sim = serve_world(world.clone(), start()).await;
    let with = crawler_with(&sim.sim, crawler_config(&sim.sim));
    let mut config = crawler_config(&sim.sim);
    config.conditional_requests = false;
    let without = crawler_with(&sim.sim, config);
    assert!(without.cache_report().is_none());
    for at in instants {
        for server in &servers {
            // Both visits see the world at the same instant (its figures move with the clock).
            sim.sim.clock().set(at);
            let a = visit(&with, server).await;
            sim.sim.clock().set(at);
            let b = visit(&without, server).await;
            assert_eq!(
                census(a.observation, at),
                census(b.observation, at),
                "{} at {at}",
                server.domain
            );
        }
    }
    let report = with.cache_report().expect("a cache");
    assert!(report.not_modified > 0, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_dies_after_a_304_is_recorded_dead() {
    let world = Arc::new(World::generate(world_with(3000, None)));
    // A Mastodon server that dies during the scenario; visited twice the evening before (the
    // second visit takes 304s), then just after its death, while its documents are still
    // fresh by their `max-age` (a day for the peer list) and kept.
    let server = world
        .servers()
        .iter()
        .find(|s| {
            s.software == Software::Mastodon
                && s.failure.is_none()
                && !s.flood
                && s.opt_out.is_none()
                && s.died.is_some_and(|d| {
                    let eve = d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
                        - TimeDelta::minutes(10);
                    eve > start() - TimeDelta::days(60) && world.state(s.id, eve).alive
                })
        })
        .cloned()
        .expect("the world has a Mastodon server that dies");
    let died = server
        .died
        .expect("a death date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let sim = serve_world(world.clone(), died - TimeDelta::minutes(10)).await;
    let crawler = crawler_with(&sim.sim, crawler_config(&sim.sim));
    assert!(visit(&crawler, &server).await.observation.outcome.is_ok());
    sim.sim.clock().set(died - TimeDelta::minutes(5));
    let second = visit(&crawler, &server).await;
    assert!(second.observation.outcome.is_ok());
    assert!(
        second.requests.iter().any(|r| r.status == Some(304)),
        "{:?}",
        second.requests
    );
    sim.sim.clock().set(died + TimeDelta::minutes(5));
    assert!(!world.state(server.id, died + TimeDelta::minutes(5)).alive);
    let third = visit(&crawler, &server).await;
    assert!(
        !third.observation.outcome.is_ok(),
        "a dead server recorded {:?}: {:?}",
        third.observation.outcome,
        third.requests
    );
    assert!(third.observation.peers.is_none());
    assert!(third.observation.measurements.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_stays_within_its_entries_and_bytes() {
    let world = Arc::new(World::generate(world_with(400, None)));
    let servers = answering(&world, &[start()], 120);
    let sim = serve_world(world.clone(), start()).await;
    let mut config = crawler_config(&sim.sim);
    let limits = CacheLimits {
        entries: 64,
        bytes: 96 * 1024,
    };
    config.cache = limits;
    let crawler = crawler_with(&sim.sim, config);
    for server in &servers {
        visit(&crawler, server).await;
        let report = crawler.cache_report().expect("a cache");
        assert!(report.entries <= limits.entries, "{report:?}");
        assert!(report.bytes <= limits.bytes, "{report:?}");
    }
    let report = crawler.cache_report().expect("a cache");
    assert!(
        report.evicted > 0,
        "the crawl never filled the cache: {report:?}"
    );
    assert!(report.entries > 0, "{report:?}");
}
