//! The crawler's own overload is not a server's failure: a request that timed out while the
//! crawler's runtime could not run is given back the time it lost, and a visit that still fails
//! is `inconclusive`, made again once the crawler has calmed down. The runtime here has one
//! thread, shared with the simulator, and a task blocks it on purpose, as a starved process is.

use crate::support::*;
use fedicensus_core::{Host, Outcome};
use fedicensus_sim::Failure;
use std::time::Duration;

/// Blocks the runtime's thread for `how_long` after `after`, as a process that is not scheduled
/// (the simulator, on the same thread, is blocked too).
fn stall_the_runtime(after: Duration, how_long: Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        std::thread::sleep(how_long);
    });
}

#[tokio::test(flavor = "current_thread")]
async fn a_timeout_while_the_crawler_was_stalled_is_inconclusive_and_made_again() {
    let at = mid_migration();
    let sim = spawn_sim(world_with(12, Some(Failure::Hang)), at).await;
    let server = sim
        .world
        .servers()
        .iter()
        .find(|s| s.failure == Some(Failure::Hang) && sim.world.state(s.id, at).alive)
        .expect("a live hanging server");
    let host = Host::parse(&server.domain).expect("valid");
    let mut config = crawler_config(&sim.sim);
    config.request_timeout = Duration::from_secs(1);
    let crawler = crawler_with(&sim.sim, config);

    // Idle: the server's own timeout.
    let idle = crawler.visit_with_log(&host).await;
    assert_eq!(
        idle.observation.outcome,
        Outcome::Timeout,
        "{:?}",
        idle.requests
    );
    // (Its stall is not asserted: on a busy test machine the process is descheduled too.)

    // Stalled for 1.5 s while the 1 s request waits: given back, the timeout is the server's.
    stall_the_runtime(Duration::from_millis(300), Duration::from_millis(1_500));
    let given_back = crawler.visit_with_log(&host).await;
    assert_eq!(
        given_back.observation.outcome,
        Outcome::Timeout,
        "{:?}",
        given_back.requests
    );
    assert!(
        given_back.stalled >= Duration::from_millis(1_000),
        "{:?}",
        given_back.stalled
    );

    // Stalled for 4 s, more than the 2 s (twice the timeout) that can be given back: ours, not
    // the server's.
    stall_the_runtime(Duration::from_millis(300), Duration::from_millis(4_000));
    let stalled = crawler.visit_with_log(&host).await;
    assert_eq!(
        stalled.observation.outcome,
        Outcome::Inconclusive,
        "{:?}",
        stalled.requests
    );
    assert!(
        stalled.stalled >= Duration::from_millis(1_000),
        "{:?}",
        stalled.stalled
    );

    // Made again within the pass once the lag is gone: then the timeout is the server's.
    stall_the_runtime(Duration::from_millis(300), Duration::from_millis(4_000));
    let planned = crawler
        .visit_planned(&host, fedicensus_crawler::VisitPlan::FULL)
        .await;
    assert_eq!(
        planned.attempts, 2,
        "stalled {:?}: {:?}",
        planned.stalled, planned.requests
    );
    assert_eq!(planned.observation.outcome, Outcome::Timeout);
    assert!(planned.stalled >= Duration::from_millis(2_000));
}

#[tokio::test(flavor = "current_thread")]
async fn a_request_whose_answer_came_while_the_crawler_was_stalled_is_read_not_timed_out() {
    let at = mid_migration();
    let sim = spawn_sim(world_with(12, None), at).await;
    let server = sim
        .world
        .servers()
        .iter()
        .find(|s| {
            s.software == fedicensus_core::Software::Mastodon
                && !s.flood
                && sim.world.state(s.id, at).alive
        })
        .expect("a live Mastodon server");
    let host = Host::parse(&server.domain).expect("valid");
    let mut config = crawler_config(&sim.sim);
    config.request_timeout = Duration::from_secs(1);
    config.min_interval = Duration::ZERO;
    let crawler = crawler_with(&sim.sim, config);
    // Warm: the ticker runs, DNS and TLS are ready.
    let _ = crawler.visit_with_log(&host).await;

    // The runtime is blocked 1.5 s, longer than the request timeout, while the visit's requests
    // are under way: a request whose deadline passed while we could not run is given that time
    // back, and the server's answer is read.
    tokio::spawn(async { std::thread::sleep(Duration::from_millis(1_500)) });
    let report = crawler.visit_with_log(&host).await;
    assert_eq!(
        report.observation.outcome,
        Outcome::Ok,
        "{:?}",
        report.requests
    );
    assert!(
        report.stalled >= Duration::from_secs(1),
        "{:?}",
        report.stalled
    );
}
