//! The crawl's request rates (governor) against the simulator: held on the wire, and a visit
//! they hold back past its own timeout is not a timeout (the wait is the crawler's, not the
//! server's).

use crate::support::{crawler_config, crawler_with, mid_migration, spawn_sim, world_with};
use fedicensus_core::{Host, Outcome};
use std::num::NonZeroU32;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_wide_rate_holds_on_the_wire_and_its_waits_are_not_the_servers_timeouts() {
    let at = mid_migration();
    let sim = spawn_sim(world_with(40, None), at).await;
    let hosts: Vec<Host> = sim
        .world
        .servers()
        .iter()
        .filter(|s| !s.flood && sim.world.state(s.id, at).alive)
        .take(8)
        .map(|s| Host::parse(&s.domain).expect("simulated names are valid"))
        .collect();
    assert_eq!(hosts.len(), 8, "the world has eight live servers");
    let mut config = crawler_config(&sim.sim);
    config.requests_per_second = NonZeroU32::new(5);
    // Shorter than the pacing of most of these visits: eight hosts' requests at 5 a second
    // take several seconds, all wanted at once.
    config.visit_timeout = Duration::from_secs(2);
    let crawler = crawler_with(&sim.sim, config);
    let visits = hosts.iter().map(|host| crawler.visit(host));
    let observations = futures_util::future::join_all(visits).await;

    for obs in &observations {
        assert_ne!(obs.outcome, Outcome::Timeout, "{}: {obs:?}", obs.host);
        assert_ne!(obs.outcome, Outcome::Inconclusive, "{}", obs.host);
    }
    assert!(
        observations.iter().any(|o| o.duration_ms > 2_000),
        "at least one visit was held back past its timeout and still finished"
    );
    let mut received: Vec<_> = sim.sim.requests().into_iter().map(|r| r.wall).collect();
    received.sort();
    assert!(received.len() >= 20, "{} requests", received.len());
    // No second holds more than five requests: any six in a row span a second, less a little
    // for the loopback's jitter between sending and the simulator's timestamp.
    for six in received.windows(6) {
        let span = six[5] - six[0];
        assert!(
            span >= chrono::TimeDelta::milliseconds(950),
            "six requests within {span:?}"
        );
    }
}
