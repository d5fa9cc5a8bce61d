//! The kinds the real servers taught the simulator (issue 19), visited by the real crawler: an
//! opt-out that started inside the scenario, GoToSocial's built-in robots.txt, a second Takahē
//! domain whose NodeInfo link names the main domain, Mitra's Mastodon-compatible API.

use crate::support::serve_world;
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use fedicensus_core::{Host, Metric, Outcome, Software, Source};
use fedicensus_sim::world::is_mitra;
use fedicensus_sim::{FailureMix, Scenario, Server, World, WorldConfig};
use std::sync::Arc;

fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// The first world (2,000 servers, default mix, seeds from 1) with a server `pred` holds for.
fn world_where(pred: impl Fn(&World, &Server) -> bool) -> (Arc<World>, u32) {
    for seed in 1..200 {
        let mut config = WorldConfig::new(Scenario::Migration2022, seed);
        config.servers = Some(2_000);
        config.failures = FailureMix::default();
        let world = World::generate(config);
        if let Some(id) = world
            .servers()
            .iter()
            .find(|s| pred(&world, s))
            .map(|s| s.id)
        {
            return (Arc::new(world), id);
        }
    }
    panic!("no seed below 200 gives such a server");
}

async fn visit(world: Arc<World>, id: u32, at: DateTime<Utc>) -> fedicensus_core::Observation {
    let domain = world.server(id).domain.clone();
    let sim = serve_world(world, at).await;
    let crawler = crate::support::crawler(&sim.sim);
    crawler
        .visit(&Host::parse(&domain).expect("a valid name"))
        .await
}

fn value(obs: &fedicensus_core::Observation, metric: Metric, source: Source) -> Option<u64> {
    obs.measurements
        .iter()
        .find(|m| m.metric == metric && m.source == source)
        .map(|m| m.value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_inside_the_scenario_and_gotosocial_are_robots_disallowed() {
    let (world, id) = world_where(|w, s| {
        s.software == Software::Mastodon
            && s.opt_out.is_some_and(|o| {
                w.state(s.id, o.from.and_time(NaiveTime::MIN).and_utc())
                    .alive
            })
    });
    let from = world.server(id).opt_out.expect("chosen for it").from;
    let at = from.and_time(NaiveTime::MIN).and_utc() + chrono::TimeDelta::hours(12);
    let before = at - chrono::TimeDelta::days(1);
    let obs = visit(world.clone(), id, before).await;
    assert_eq!(obs.outcome, Outcome::Ok, "before its opt-out");
    let obs = visit(world.clone(), id, at).await;
    assert_eq!(obs.outcome, Outcome::RobotsDisallowed);
    assert!(obs.outcome.answered());

    let at = day(2022, 12, 20);
    let (world, id) = world_where(|w, s| {
        s.software == Software::Gotosocial && s.failure.is_none() && w.state(s.id, at).alive
    });
    let obs = visit(world, id, at).await;
    assert_eq!(obs.outcome, Outcome::RobotsDisallowed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_takahe_domain_is_read_at_its_own_host_and_names_the_main_one() {
    let at = day(2022, 12, 28);
    let (world, id) = world_where(|w, s| {
        s.sibling_of.is_some() && w.state(s.id, at).alive && w.version_at(s.id, at) == "0.6.0"
    });
    let main = world
        .server(world.server(id).sibling_of.expect("a sibling"))
        .domain
        .clone();
    let reported = world.reported(id, at);
    let obs = visit(world, id, at).await;
    assert_eq!(obs.outcome, Outcome::Ok);
    assert_eq!(
        obs.nodeinfo_elsewhere
            .as_ref()
            .map(|h| h.as_str().to_string()),
        Some(main)
    );
    // Takahē 0.6.0 counts the whole installation in NodeInfo and in its instance API.
    assert_eq!(
        value(&obs, Metric::UsersTotal, Source::NodeInfo),
        Some(reported.users)
    );
    assert_eq!(
        value(&obs, Metric::UsersTotal, Source::InstanceV1),
        Some(reported.users)
    );
    // No v2 before Takahē 0.8.0, so no monthly actives from it in 2022.
    assert_eq!(
        value(&obs, Metric::UsersActiveMonth, Source::InstanceV2),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mitra_is_read_through_its_mastodon_api() {
    let at = day(2022, 11, 15);
    let (world, id) = world_where(|w, s| {
        is_mitra(&s.software)
            && s.failure.is_none()
            && s.quirks.is_empty()
            && w.state(s.id, at).alive
    });
    let reported = world.reported(id, at);
    let obs = visit(world, id, at).await;
    assert_eq!(obs.outcome, Outcome::Ok);
    assert_eq!(
        value(&obs, Metric::UsersTotal, Source::InstanceV1),
        Some(reported.users)
    );
    // Mitra's 2022 releases had no peer list (from 1.18.0, 2023) and no v2: absent, not hidden.
    assert!(obs.peers.as_ref().is_none_or(Vec::is_empty));
    assert!(!obs.flags.peers_hidden);
}
