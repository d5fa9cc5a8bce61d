//! Hostile servers of issue 25: a rate limit until the year 11476, robots.txt files a lax
//! reader takes for "allow all" (too long, or redirected to another host), an unreachable
//! robots.txt, and a redirect to another port of the server's own host.

use crate::support::{crawler, mid_migration, spawn_sim, world_with, TestSim, TEST_INTERVAL};
use chrono::TimeDelta;
use fedicensus_core::{Host, Outcome};
use fedicensus_crawler::visit::MAX_POSTPONEMENT;
use fedicensus_crawler::MemoryFrontier;
use fedicensus_sim::Failure;
use std::time::Duration;

/// A live server of `sim` with `failure`.
fn live_with(sim: &TestSim, failure: Failure) -> Host {
    let at = mid_migration();
    let server = sim
        .world
        .servers()
        .iter()
        .filter(|s| s.failure == Some(failure) && !s.flood)
        .find(|s| sim.world.state(s.id, at).alive)
        .unwrap_or_else(|| panic!("the world has a live server with {failure}"));
    Host::parse(&server.domain).expect("simulated names are valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_until_the_year_11476_postpones_a_host_thirty_days_and_a_pass_visits_it_once()
{
    let at = mid_migration();
    let sim = spawn_sim(world_with(12, Some(Failure::FarFutureRateLimit)), at).await;
    let host = live_with(&sim, Failure::FarFutureRateLimit);
    let crawler = crawler(&sim.sim);
    for pass in 0..2 {
        sim.sim.clear_log();
        let mut run = crawler.crawl_once(vec![host.clone()], MemoryFrontier::new(100), 16);
        let mut observations = Vec::new();
        let finished = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(observation) = run.observations.recv().await {
                observations.push(observation);
            }
            run.finished.await.expect("the pass ends")
        })
        .await
        .expect("the pass finishes");
        let (summary, _) = finished;
        assert_eq!(summary.visited, 1, "pass {pass}");
        assert_eq!(observations.len(), 1, "pass {pass}");
        assert_eq!(observations[0].outcome, Outcome::RateLimited, "pass {pass}");
        assert_eq!(
            sim.sim.requests_for(host.as_str()),
            1,
            "pass {pass}: only robots.txt was asked, once"
        );
        let until = crawler
            .postponed_until(&host)
            .expect("the host is postponed");
        let now = sim.sim.clock().now();
        assert!(
            until <= now + TimeDelta::from_std(MAX_POSTPONEMENT).expect("30 days"),
            "pass {pass}: postponed until {until}"
        );
        assert!(until > now + TimeDelta::days(29), "pass {pass}: {until}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robots_txt_of_2_mib_is_obeyed_on_its_first_part_not_taken_for_allow_all() {
    let sim = spawn_sim(world_with(12, Some(Failure::RobotsHuge)), mid_migration()).await;
    let host = live_with(&sim, Failure::RobotsHuge);
    let report = crawler(&sim.sim).visit_with_log(&host).await;
    assert_eq!(report.observation.outcome, Outcome::RobotsDisallowed);
    let robots = &report.requests[0];
    assert!(robots.url.ends_with("/robots.txt"), "{robots:?}");
    assert_eq!(robots.status, Some(200));
    assert!(robots.bytes >= 500 * 1024, "{} bytes read", robots.bytes);
    assert!(robots.bytes <= 512 * 1024, "{} bytes read", robots.bytes);
    assert!(
        report
            .requests
            .iter()
            .all(|r| !r.sent || r.url.contains("robots.txt")),
        "nothing but robots.txt was asked: {:?}",
        report.requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robots_txt_redirected_five_times_to_another_host_is_obeyed() {
    let sim = spawn_sim(
        world_with(12, Some(Failure::RobotsRedirected)),
        mid_migration(),
    )
    .await;
    let host = live_with(&sim, Failure::RobotsRedirected);
    let report = crawler(&sim.sim).visit_with_log(&host).await;
    let asked: Vec<_> = report.requests.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        report.observation.outcome,
        Outcome::RobotsDisallowed,
        "{asked:#?}"
    );
    assert!(report.observation.moved_to.is_none());
    assert_eq!(
        asked.len(),
        7,
        "six robots.txt requests and one refusal: {asked:#?}"
    );
    assert!(asked[5].contains("robots-of="), "{asked:#?}");
    assert!(
        !asked[5].contains(&format!("://{host}/")),
        "the last hop is another host: {asked:#?}"
    );
    assert!(asked[6].ends_with("/.well-known/nodeinfo"), "{asked:#?}");
    assert!(
        !report.requests[6].sent,
        "the well-known document was refused, not asked"
    );
}

/// The 5,000-server crawl test once caught another host asked 20 ms after its own visit's
/// request: a robots.txt redirected to it took the redirecting host's turn, not its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robots_txt_redirected_to_another_host_waits_for_that_hosts_turn() {
    let sim = spawn_sim(
        world_with(12, Some(Failure::RobotsRedirected)),
        mid_migration(),
    )
    .await;
    let host = live_with(&sim, Failure::RobotsRedirected);
    let crawler = crawler(&sim.sim);
    let report = crawler.visit_with_log(&host).await;
    let last_hop = reqwest::Url::parse(&report.requests[5].url).expect("a URL");
    let other = Host::parse(last_hop.host_str().expect("a host")).expect("a valid host");
    assert_ne!(other, host);
    sim.sim.clear_log();
    // The two visited at once, again and again: the redirected request to `other` lands while
    // `other`'s own visit asks it.
    for _ in 0..4 {
        tokio::join!(
            crawler.visit_with_log(&host),
            crawler.visit_with_log(&other)
        );
    }
    let mut times: Vec<_> = sim
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.host == other.as_str())
        .map(|r| (r.wall, r.path))
        .collect();
    times.sort();
    assert!(times.len() >= 8, "{times:?}");
    for pair in times.windows(2) {
        let gap = (pair[1].0 - pair[0].0).to_std().unwrap_or_default();
        assert!(
            gap + Duration::from_millis(2) >= TEST_INTERVAL,
            "{other} asked {gap:?} apart ({} then {})",
            pair[0].1,
            pair[1].1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_robots_txt_allows_nothing_for_the_visit() {
    for failure in [Failure::ServerError(503), Failure::Hang] {
        let sim = spawn_sim(world_with(12, Some(failure)), mid_migration()).await;
        let host = live_with(&sim, failure);
        let report = crawler(&sim.sim).visit_with_log(&host).await;
        assert_ne!(report.observation.outcome, Outcome::Ok, "{failure}");
        assert!(
            report
                .requests
                .iter()
                .all(|r| r.url.ends_with("/robots.txt")),
            "{failure}: {:?}",
            report.requests
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_an_explicit_port_is_followed_on_the_pinned_port() {
    let sim = spawn_sim(
        world_with(12, Some(Failure::RedirectExplicitPort)),
        mid_migration(),
    )
    .await;
    let host = live_with(&sim, Failure::RedirectExplicitPort);
    let report = crawler(&sim.sim).visit_with_log(&host).await;
    let asked: Vec<_> = report.requests.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(report.observation.outcome, Outcome::Ok, "{asked:#?}");
    assert!(
        asked
            .iter()
            .any(|u| u.ends_with("/.well-known/nodeinfo?port=9")),
        "the redirect was followed: {asked:#?}"
    );
    assert!(
        asked.iter().all(|u| !u.contains(":9/")),
        "no request named port 9: {asked:#?}"
    );
}
