//! The hostile-server suite: one simulated world where a share of the servers fails in every way
//! the simulator knows (slowloris drips, endless bodies, gzip bombs, 100,000-deep JSON, TLS that
//! stalls mid-handshake, hangs, redirect loops, SSRF bait, ...) and others bend their documents
//! with every quirk, crawled together with the healthy servers around them.
//!
//! For every server it checks that the crawler records the right outcome, that no visit outlives
//! its time limits, that no request reads more than its body cap (counted after decompression),
//! that the process's peak memory stays far below what the bombs would inflate to, and that the
//! healthy servers are crawled exactly as they are in a world without trouble: same outcome,
//! same software, the numbers they serve.

#[path = "it/support.rs"]
mod support;

use fedicensus_core::{Host, Metric, Outcome, Source};
use fedicensus_sim::{Failure, FailureMix, Quirk, ServerId, World};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{crawler_config, crawler_with, mid_migration, serve_world, world_with};

/// The outcome each failure must give (the table of `tests/it/outcomes.rs`, which visits each
/// failure alone).
fn expected(failure: Failure) -> Outcome {
    match failure {
        Failure::NoSuchDomain => Outcome::NoSuchDomain,
        Failure::Refused => Outcome::Refused,
        Failure::Hang | Failure::Slowloris | Failure::TlsStall => Outcome::Timeout,
        Failure::Drip
        | Failure::RateLimitedRetryAfter
        | Failure::RateLimitedReset
        | Failure::RedirectExplicitPort => Outcome::Ok,
        Failure::FarFutureRateLimit => Outcome::RateLimited,
        Failure::RobotsHuge | Failure::RobotsRedirected => Outcome::RobotsDisallowed,
        Failure::BadTls => Outcome::Tls,
        Failure::ServerError(code) => Outcome::HttpStatus(code),
        Failure::CloudflareChallenge | Failure::ParkedHtml => Outcome::NotJson,
        Failure::MalformedJson | Failure::DeepJson | Failure::RedirectOtherHost => Outcome::Invalid,
        Failure::HugeBody | Failure::GzipBomb | Failure::EndlessBody => Outcome::TooLarge,
        Failure::RedirectLoop => Outcome::RedirectLoop,
        Failure::Moved => Outcome::Moved,
        Failure::Gone => Outcome::OptedOut,
        Failure::RobotsDisallowUs | Failure::RobotsDisallowAll => Outcome::RobotsDisallowed,
        Failure::SsrfPrivate | Failure::SsrfLoopback | Failure::SsrfLinkLocal => {
            Outcome::ForbiddenAddress
        }
    }
}

/// Quirks that may leave a NodeInfo count absent (never wrong).
fn may_lack_counts(quirks: fedicensus_sim::Quirks) -> bool {
    [
        Quirk::NullCounts,
        Quirk::NegativeCounts,
        Quirk::WrongTypes,
        Quirk::MisspeltKeys,
    ]
    .iter()
    .any(|q| quirks.has(*q))
}

/// The process's peak resident memory so far (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Every failure kind at an equal share (60 % of servers in all) and every quirk at 6 %.
fn hostile_mix() -> FailureMix {
    let each = 0.6 / Failure::ALL.len() as f64;
    FailureMix {
        failures: Failure::ALL.iter().map(|f| (*f, each)).collect(),
        quirks: Quirk::ALL.iter().map(|q| (*q, 0.06)).collect(),
        peer_junk: 0.0,
        flood_subdomains: 0,
        robots_opt_outs: 0.0,
        ..FailureMix::none()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_servers_get_their_outcomes_within_bounds_and_healthy_ones_are_crawled_normally() {
    let at = mid_migration();
    let mut config = world_with(300, None);
    config.failures = hostile_mix();
    let world = Arc::new(World::generate(config));
    let sim = serve_world(world.clone(), at).await;
    let crawler_cfg = crawler_config(&sim.sim);
    let (visit_timeout, request_timeout, connect_timeout, cap, peer_cap) = (
        crawler_cfg.visit_timeout,
        crawler_cfg.request_timeout,
        crawler_cfg.connect_timeout,
        crawler_cfg.document_cap,
        crawler_cfg.peer_list_cap,
    );
    let crawler = Arc::new(crawler_with(&sim.sim, crawler_cfg));

    let live: Vec<ServerId> = world
        .servers()
        .iter()
        .filter(|s| !s.flood && world.state(s.id, at).alive)
        .map(|s| s.id)
        .collect();
    // Every failure kind and every quirk is present among the live servers, with healthy ones.
    for failure in Failure::ALL {
        assert!(
            live.iter()
                .any(|id| world.server(*id).failure == Some(*failure)),
            "no live server with {failure}"
        );
    }
    // Every quirk too, except those only one software has (Lemmy's, Calckey's and GoToSocial's
    // inflated numbers), which a world this small may not hold; the 5,000-server crawl test
    // (`tests/it/crawl.rs`) meets them.
    for quirk in Quirk::ALL {
        let present = live
            .iter()
            .any(|id| world.server(*id).failure.is_none() && world.server(*id).quirks.has(*quirk));
        if !present && !quirk.fakes_numbers() {
            panic!("no healthy server with quirk {}", quirk.name());
        }
        if !present {
            println!(
                "(no healthy server with quirk {} in this world)",
                quirk.name()
            );
        }
    }
    let healthy = live
        .iter()
        .filter(|id| world.server(**id).failure.is_none())
        .count();
    assert!(healthy >= 40, "only {healthy} healthy servers");

    let rss_before = peak_rss();
    let started = Instant::now();
    let visits = live.iter().map(|id| {
        let crawler = crawler.clone();
        let host = Host::parse(&world.server(*id).domain).expect("simulated names are valid");
        let id = *id;
        async move {
            let began = Instant::now();
            let report = crawler.visit_with_log(&host).await;
            (id, report, began.elapsed())
        }
    });
    let reports = futures_util::future::join_all(visits).await;
    let wall = started.elapsed();
    let rss_growth = peak_rss().saturating_sub(rss_before);

    let mut wrong = Vec::new();
    let mut by_kind: BTreeMap<String, (usize, Duration)> = BTreeMap::new();
    let mut checked_numbers = 0;
    for (id, report, elapsed) in &reports {
        let server = world.server(*id);
        let obs = &report.observation;
        let kind = server
            .failure
            .map_or_else(|| "healthy".to_string(), |f| f.name());
        let entry = by_kind.entry(kind.clone()).or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(*elapsed);

        let want = server.failure.map_or(Outcome::Ok, expected);
        // GoToSocial's built-in robots.txt refuses every crawler NodeInfo in every 2022 release
        // (fedicensus_sim::World::robots_refuses_us).
        let gts_robots = server.failure.is_none()
            && server.software == fedicensus_core::Software::Gotosocial
            && obs.outcome == Outcome::RobotsDisallowed;
        if obs.outcome != want && !gts_robots {
            wrong.push(format!(
                "{} ({kind}, quirks {}): {} instead of {want}",
                server.domain,
                server.quirks.names(),
                obs.outcome
            ));
        }
        // Time: no visit outlives its limit (plus scheduling slack on a loaded 2-core machine).
        if *elapsed > visit_timeout + Duration::from_secs(2) {
            wrong.push(format!(
                "{} ({kind}): visit took {elapsed:?}",
                server.domain
            ));
        }
        // Memory: no request read more than its cap (bytes are counted after decompression).
        for request in &report.requests {
            let limit = if request.url.contains("/peers") || request.url.contains("federated") {
                peer_cap
            } else {
                cap
            };
            if request.bytes as u64 > limit {
                wrong.push(format!(
                    "{} ({kind}): {} read {} bytes, over the {limit}-byte cap",
                    server.domain, request.url, request.bytes
                ));
            }
            if request.elapsed > request_timeout.max(connect_timeout) + Duration::from_secs(2) {
                wrong.push(format!(
                    "{} ({kind}): {} took {:?}",
                    server.domain, request.url, request.elapsed
                ));
            }
        }
        // Healthy servers (and the hostile ones that stay reachable) are read as if nothing
        // happened around them: their software and the numbers they serve.
        if obs.outcome == Outcome::Ok {
            let Some(software) = obs.software.as_ref() else {
                wrong.push(format!("{}: ok without software", server.domain));
                continue;
            };
            if software.family != server.software {
                wrong.push(format!(
                    "{}: software {} instead of {}",
                    server.domain, software.family, server.software
                ));
            }
            let begin = world.reported(*id, obs.observed_at);
            let end = world.reported(
                *id,
                obs.observed_at + chrono::TimeDelta::milliseconds(obs.duration_ms as i64 + 1000),
            );
            let got = obs
                .measurements
                .iter()
                .find(|m| m.metric == Metric::UsersTotal && m.source == Source::NodeInfo)
                .map(|m| m.value);
            let (low, high) = (begin.users.min(end.users), begin.users.max(end.users));
            match got {
                Some(users) if (low..=high).contains(&users) => checked_numbers += 1,
                None if may_lack_counts(server.quirks) => {}
                other => wrong.push(format!(
                    "{} (quirks {}): users {other:?}, served {low}..={high}",
                    server.domain,
                    server.quirks.names()
                )),
            }
            // Flags the quirks ask for.
            if server.quirks.has(Quirk::PrivacyFlag) && !obs.flags.private {
                wrong.push(format!("{}: privacy flag not recorded", server.domain));
            }
            if server.quirks.has(Quirk::NoIndexHeader) && !obs.flags.noindex {
                wrong.push(format!("{}: noindex not recorded", server.domain));
            }
        }
    }
    for (kind, (count, slowest)) in &by_kind {
        println!("{kind:<26} {count:>4} visits, slowest {slowest:?}");
    }
    println!(
        "{} visits ({healthy} healthy) in {wall:?}; {checked_numbers} user counts checked; \
         peak RSS grew by {} MiB",
        reports.len(),
        rss_growth / (1024 * 1024)
    );
    assert!(
        sim.sim.bait_hits().is_empty(),
        "the crawler connected to SSRF bait: {:?}",
        sim.sim.bait_hits()
    );
    assert!(
        wrong.is_empty(),
        "{} problems:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        checked_numbers >= healthy / 2,
        "only {checked_numbers} user counts could be checked"
    );
    // Gzip bombs inflate to 1 GiB each and endless bodies never end: reading either in full
    // would show here. 64 concurrent visits with 1 MiB caps need far less than 256 MiB.
    assert!(
        rss_growth < 256 * 1024 * 1024,
        "peak memory grew by {} MiB",
        rss_growth / (1024 * 1024)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_new_hostile_kind_ends_at_its_limit_not_later() {
    // Each new kind alone, with the time it may take: the request timeout for a drip of a
    // byte a second, the connect timeout for a stalled handshake, the cap's worth of reading for
    // an endless body, a parse for deep JSON.
    let at = mid_migration();
    for failure in [
        Failure::Slowloris,
        Failure::TlsStall,
        Failure::EndlessBody,
        Failure::DeepJson,
    ] {
        let world = Arc::new(World::generate(world_with(12, Some(failure))));
        let sim = serve_world(world.clone(), at).await;
        let config = crawler_config(&sim.sim);
        let limit = match failure {
            Failure::Slowloris => config.request_timeout,
            Failure::TlsStall => config.connect_timeout,
            _ => Duration::from_secs(1),
        };
        let crawler = crawler_with(&sim.sim, config);
        let server = world
            .servers()
            .iter()
            .find(|s| s.failure == Some(failure) && !s.flood && world.state(s.id, at).alive)
            .expect("a live server with the failure");
        let began = Instant::now();
        let report = crawler
            .visit_with_log(&Host::parse(&server.domain).expect("valid"))
            .await;
        let elapsed = began.elapsed();
        println!(
            "{failure:<14} {} in {elapsed:?} ({} requests)",
            report.observation.outcome,
            report.requests.len()
        );
        for r in &report.requests {
            println!(
                "    {} {:?} {} bytes {:?} {:?}",
                r.url, r.status, r.bytes, r.elapsed, r.error
            );
        }
        assert_eq!(report.observation.outcome, expected(failure), "{failure}");
        // Every request ends within its own limit; the first failure ends the visit.
        for r in &report.requests {
            assert!(
                r.elapsed < limit + Duration::from_secs(2),
                "{failure}: {} took {:?}",
                r.url,
                r.elapsed
            );
        }
        assert!(
            elapsed < 2 * limit + Duration::from_secs(4),
            "{failure}: the visit took {elapsed:?}"
        );
    }
}
