//! The outcome table: every way a simulated server fails is recorded as its outcome.

use crate::support::{crawler, crawler_config, crawler_with, mid_migration, spawn_sim, world_with};
use fedicensus_core::{Host, Outcome};
use fedicensus_sim::Failure;
use std::time::{Duration, Instant};

/// The outcome each failure must give (see the table in `fedicensus_crawler::visit`).
fn expected(failure: Failure) -> Outcome {
    match failure {
        Failure::NoSuchDomain => Outcome::NoSuchDomain,
        Failure::Refused => Outcome::Refused,
        Failure::Hang => Outcome::Timeout,
        // Slow but complete: a patient crawler gets the numbers.
        Failure::Drip => Outcome::Ok,
        Failure::BadTls => Outcome::Tls,
        Failure::ServerError(code) => Outcome::HttpStatus(code),
        Failure::RateLimitedRetryAfter | Failure::RateLimitedReset => Outcome::Ok,
        Failure::CloudflareChallenge | Failure::ParkedHtml => Outcome::NotJson,
        Failure::MalformedJson => Outcome::Invalid,
        Failure::HugeBody | Failure::GzipBomb => Outcome::TooLarge,
        Failure::RedirectLoop => Outcome::RedirectLoop,
        Failure::RedirectOtherHost => Outcome::Invalid,
        Failure::Moved => Outcome::Moved,
        Failure::Gone => Outcome::OptedOut,
        Failure::RobotsDisallowUs | Failure::RobotsDisallowAll => Outcome::RobotsDisallowed,
        Failure::SsrfPrivate | Failure::SsrfLoopback | Failure::SsrfLinkLocal => {
            Outcome::ForbiddenAddress
        }
        // A byte a second for ever, or a handshake never answered: the time limits end them.
        Failure::Slowloris | Failure::TlsStall => Outcome::Timeout,
        Failure::EndlessBody => Outcome::TooLarge,
        Failure::DeepJson => Outcome::Invalid,
        // The adversaries of issue 25: a rate limit until the year 11476; a robots.txt of
        // 2 MiB, or redirected five times to another host, that shuts us out; a redirect to
        // another port, followed on the pinned one.
        Failure::FarFutureRateLimit => Outcome::RateLimited,
        Failure::RobotsHuge | Failure::RobotsRedirected => Outcome::RobotsDisallowed,
        Failure::RedirectExplicitPort => Outcome::Ok,
    }
}

/// Visits one live server with `failure` in a small world of its own; returns what was seen.
async fn visit_failure(
    failure: Failure,
) -> (Failure, String, Outcome, Option<Host>, Duration, bool) {
    let at = mid_migration();
    let sim = spawn_sim(world_with(12, Some(failure)), at).await;
    let server = sim
        .world
        .servers()
        .iter()
        .filter(|s| s.failure == Some(failure) && !s.flood)
        .find(|s| sim.world.state(s.id, at).alive)
        .unwrap_or_else(|| panic!("the world has a live server with {failure}"));
    let crawler = crawler(&sim.sim);
    let host = Host::parse(&server.domain).expect("simulated names are valid");
    let started = Instant::now();
    let observation = crawler.visit(&host).await;
    let elapsed = started.elapsed();
    let target_ok = match (&observation.moved_to, server.target) {
        (Some(to), Some(target)) => to.as_str() == sim.world.server(target).domain,
        (None, _) => failure != Failure::Moved,
        (Some(_), None) => false,
    };
    assert!(
        sim.sim.bait_hits().is_empty(),
        "{failure}: the bait was touched"
    );
    (
        failure,
        server.domain.clone(),
        observation.outcome,
        observation.moved_to,
        elapsed,
        target_ok,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_kind_is_recorded_as_its_outcome() {
    let visits = Failure::ALL.iter().map(|f| visit_failure(*f));
    let results = futures_util::future::join_all(visits).await;
    let mut wrong = Vec::new();
    for (failure, domain, outcome, moved_to, elapsed, target_ok) in &results {
        println!("{failure:<26} {domain:<40} {outcome:<18} {elapsed:?}");
        if *outcome != expected(*failure) || !target_ok {
            wrong.push(format!(
                "{failure} ({domain}): got {outcome} (moved to {moved_to:?}), expected {}",
                expected(*failure)
            ));
        }
    }
    assert!(wrong.is_empty(), "wrong outcomes:\n{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_and_a_30_mb_body_stop_at_the_cap_quickly() {
    for failure in [Failure::GzipBomb, Failure::HugeBody] {
        let (_, domain, outcome, _, elapsed, _) = visit_failure(failure).await;
        assert_eq!(outcome, Outcome::TooLarge, "{domain}");
        // Reading 1 GiB (or 30 MB) would take far longer than reading the 1 MiB cap.
        assert!(
            elapsed < Duration::from_secs(3),
            "{failure} took {elapsed:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_capped_request_reads_no_more_than_the_cap() {
    let at = mid_migration();
    let sim = spawn_sim(world_with(12, Some(Failure::GzipBomb)), at).await;
    let server = sim
        .world
        .servers()
        .iter()
        .find(|s| s.failure == Some(Failure::GzipBomb) && sim.world.state(s.id, at).alive)
        .expect("a live gzip bomb");
    let report = crawler(&sim.sim)
        .visit_with_log(&Host::parse(&server.domain).expect("valid"))
        .await;
    let nodeinfo = report
        .requests
        .iter()
        .find(|r| r.url.contains("/nodeinfo/"))
        .expect("the NodeInfo document was asked");
    assert!(nodeinfo
        .error
        .as_deref()
        .is_some_and(|e| e.contains("larger than")));
    assert_eq!(report.observation.outcome, Outcome::TooLarge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_times_out_records_the_time_it_waited() {
    let at = mid_migration();
    // The simulator holds a hanging request for 5 s (the test serve config); the crawler gives
    // up after 1 s.
    let sim = spawn_sim(world_with(12, Some(Failure::Hang)), at).await;
    let server = sim
        .world
        .servers()
        .iter()
        .find(|s| s.failure == Some(Failure::Hang) && sim.world.state(s.id, at).alive)
        .expect("a live hanging server");
    let mut config = crawler_config(&sim.sim);
    config.request_timeout = Duration::from_secs(1);
    let report = crawler_with(&sim.sim, config)
        .visit_with_log(&Host::parse(&server.domain).expect("valid"))
        .await;
    assert_eq!(report.observation.outcome, Outcome::Timeout);
    let timed_out = report
        .requests
        .iter()
        .find(|r| r.error.as_deref() == Some("timed out"))
        .unwrap_or_else(|| panic!("a timed-out request in {:?}", report.requests));
    assert!(timed_out.sent);
    assert!(
        timed_out.elapsed >= Duration::from_secs(1) && timed_out.elapsed < Duration::from_secs(4),
        "the request waited its 1 s timeout, but recorded {:?}",
        timed_out.elapsed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_lets_a_document_time_out_is_asked_nothing_more_in_that_visit() {
    let at = mid_migration();
    let sim = spawn_sim(world_with(24, Some(Failure::Drip)), at).await;
    let server = sim
        .world
        .servers()
        .iter()
        .find(|s| {
            s.failure == Some(Failure::Drip)
                && s.software == fedicensus_core::Software::Mastodon
                && !s.flood
                && sim.world.state(s.id, at).alive
        })
        .expect("a live dripping Mastodon server");
    let host = Host::parse(&server.domain).expect("valid");

    // First with the tests' 3 s timeout, which every drip (at most 2 s a body here) fits in:
    // the whole visit, and how long each document takes to drip.
    let patient = crawler(&sim.sim).visit_with_log(&host).await;
    assert_eq!(patient.observation.outcome, Outcome::Ok);
    let nodeinfo = patient
        .requests
        .iter()
        .position(|r| r.url.contains("/nodeinfo/"))
        .expect("the NodeInfo document was asked");
    let slowest_before = patient.requests[..=nodeinfo]
        .iter()
        .map(|r| r.elapsed)
        .max()
        .expect("requests");
    let slowest_after = patient.requests[nodeinfo + 1..]
        .iter()
        .map(|r| r.elapsed)
        .max()
        .expect("instance API requests after NodeInfo");
    assert!(
        slowest_after > slowest_before + Duration::from_millis(500),
        "the test needs an instance API document that drips longer than NodeInfo: {:?}",
        patient.requests
    );

    // Then with a timeout between the two: NodeInfo comes, a later document times out, and
    // nothing is asked after it.
    let mut config = crawler_config(&sim.sim);
    config.request_timeout = (slowest_before + slowest_after) / 2;
    let hasty = crawler_with(&sim.sim, config).visit_with_log(&host).await;
    let timed_out: Vec<usize> = hasty
        .requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.error.as_deref() == Some("timed out"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        timed_out,
        vec![hasty.requests.len() - 1],
        "one timed-out request, the visit's last: {:?}",
        hasty.requests
    );
    assert!(hasty.requests.len() < patient.requests.len());
    // What NodeInfo said stands.
    assert_eq!(hasty.observation.outcome, Outcome::Ok);
    assert_eq!(hasty.observation.software, patient.observation.software);
    assert!(hasty.observation.measurements.len() < patient.observation.measurements.len());
}
