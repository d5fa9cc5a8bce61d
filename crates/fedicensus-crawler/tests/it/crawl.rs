//! A whole crawl of a 5,000-server world, judged against the simulator's truth and its request
//! log: how much it found, whether the numbers are the ones served, and how polite it was.

use crate::support::{crawler, mid_migration, serve_world, TEST_INTERVAL};
use fedicensus_core::{Host, Metric, Outcome, Source};
use fedicensus_crawler::config::DEFAULT_DOMAIN_BUDGET;
use fedicensus_crawler::MemoryFrontier;
use fedicensus_sim::{Failure, Quirk, Scenario, ServerId, World, WorldConfig};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

fn nodeinfo_value(obs: &fedicensus_core::Observation, metric: Metric) -> Option<u64> {
    obs.measurements
        .iter()
        .find(|m| m.metric == metric && m.source == Source::NodeInfo)
        .map(|m| m.value)
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

/// `Disallow` prefixes of the `*` group of a robots.txt, read naively (independently of the
/// crawler's parser); enough for the simulator's files.
fn disallowed_prefixes(body: &str) -> Vec<String> {
    let mut in_star = false;
    let mut out = Vec::new();
    let mut last_was_agent = false;
    for line in body.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
        if key == "user-agent" {
            let star = value == "*" || value.eq_ignore_ascii_case("fedicensus");
            in_star = if last_was_agent {
                in_star || star
            } else {
                star
            };
            last_was_agent = true;
            continue;
        }
        last_was_agent = false;
        if in_star && key == "disallow" && !value.is_empty() {
            out.push(value.to_string());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5000_server_crawl_finds_the_world_reports_its_numbers_and_stays_polite() {
    let at = mid_migration();
    let generated = Instant::now();
    let world = Arc::new(World::generate(WorldConfig {
        servers: Some(5000),
        ..WorldConfig::new(Scenario::Migration2022, 7)
    }));
    println!("world generated in {:?}", generated.elapsed());
    let sim = serve_world(world.clone(), at).await;

    // Seeds: the three largest servers that answer.
    let mut candidates: Vec<ServerId> = world
        .servers()
        .iter()
        .filter(|s| s.failure.is_none() && !s.flood && world.state(s.id, at).alive)
        .map(|s| s.id)
        .collect();
    candidates.sort_by_key(|id| std::cmp::Reverse(world.state(*id, at).figures.users));
    let seeds: Vec<ServerId> = candidates.into_iter().take(3).collect();
    let seed_hosts: Vec<Host> = seeds
        .iter()
        .map(|id| Host::parse(&world.server(*id).domain).expect("valid"))
        .collect();
    let discoverable = world.discoverable_from(&seeds, at);

    let crawler = crawler(&sim.sim);
    let started = Instant::now();
    let mut run = crawler.crawl_once(
        seed_hosts.clone(),
        MemoryFrontier::new(DEFAULT_DOMAIN_BUDGET),
        1024,
    );
    let mut observations = Vec::new();
    while let Some(obs) = run.observations.recv().await {
        observations.push(obs);
    }
    let (summary, frontier) = run.finished.await.expect("the crawl task ends");
    let elapsed = started.elapsed();

    // (a) discovery
    let known: HashSet<ServerId> = frontier
        .known()
        .iter()
        .filter_map(|h| world.lookup(h.as_str()).map(|s| s.id))
        .collect();
    let found = discoverable.iter().filter(|id| known.contains(id)).count();
    let share = found as f64 / discoverable.len() as f64;
    println!(
        "crawl of {} discoverable servers: {:?}, {} visits, {} requests, found {} ({:.2} %), \
         {} peer edges, over budget {:?}",
        discoverable.len(),
        elapsed,
        summary.visited,
        summary.requests,
        found,
        share * 100.0,
        frontier.edge_count(),
        frontier.over_budget(),
    );
    println!("outcomes: {:?}", summary.by_outcome);
    assert!(
        share >= 0.99,
        "found only {:.2} % of the discoverable world",
        share * 100.0
    );

    // (a) numbers of every server that answered equal what it served.
    let mut mismatches = Vec::new();
    let mut checked = 0;
    let mut fakes = 0;
    let mut junk = 0;
    let mut by_failure: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for obs in &observations {
        let Some(server) = world.lookup(obs.host.as_str()) else {
            // Junk copied from the real mastodon.social list (IDN spellings of names this world
            // does not have): crawled, as a crawler cannot know, and found not to exist.
            assert_eq!(obs.outcome, Outcome::NoSuchDomain, "{}", obs.host);
            junk += 1;
            continue;
        };
        let failure = server.failure.map_or("none".into(), |f| f.name());
        *by_failure
            .entry(failure)
            .or_default()
            .entry(obs.outcome.as_str())
            .or_default() += 1;
        if obs.outcome != Outcome::Ok {
            continue;
        }
        checked += 1;
        // Figures grow while the visit runs: what was served lies between the figures at the
        // visit's start and at its end.
        let reported = world.reported(server.id, obs.observed_at);
        let end = obs.observed_at + chrono::TimeDelta::milliseconds(obs.duration_ms as i64 + 1000);
        let reported_end = world.reported(server.id, end);
        let software = obs
            .software
            .as_ref()
            .expect("ok observations name their software");
        if software.family != server.software {
            mismatches.push(format!(
                "{}: software {} vs {}",
                obs.host, software.family, server.software
            ));
        }
        let version = world.nodeinfo_version_at(server.id, obs.observed_at);
        if software.raw_version != version {
            mismatches.push(format!(
                "{}: version {:?} vs {version:?}",
                obs.host, software.raw_version
            ));
        }
        if server.quirks.iter().any(|q| q.fakes_numbers()) {
            fakes += 1;
        }
        let lenient = may_lack_counts(server.quirks);
        for (metric, want, until) in [
            (Metric::UsersTotal, reported.users, reported_end.users),
            (
                Metric::UsersActiveMonth,
                reported.active_month,
                reported_end.active_month,
            ),
            (
                Metric::LocalPosts,
                reported.local_posts,
                reported_end.local_posts,
            ),
        ] {
            let (low, high) = (want.min(until), want.max(until));
            match nodeinfo_value(obs, metric) {
                Some(got) if (low..=high).contains(&got) => {}
                None if lenient || metric != Metric::UsersTotal => {}
                got => mismatches.push(format!(
                    "{} ({}, quirks {}): {} {got:?} vs reported {want}",
                    obs.host,
                    server.software,
                    server.quirks.names(),
                    metric.as_str()
                )),
            }
        }
    }
    for (failure, outcomes) in &by_failure {
        println!("  {failure:<26} {outcomes:?}");
    }
    println!(
        "{checked} ok observations checked, {fakes} of them with faked numbers (kept as \
         served), {junk} junk names from peer lists"
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );

    // (b) politeness, from the simulator's request log.
    assert!(sim.sim.bait_hits().is_empty(), "the SSRF bait was reached");
    let log = sim.sim.requests();
    let mut per_host: HashMap<&str, Vec<&fedicensus_sim::serve::LoggedRequest>> = HashMap::new();
    for request in &log {
        per_host
            .entry(request.host.as_str())
            .or_default()
            .push(request);
    }
    for (host, requests) in &per_host {
        let Some(server) = world.lookup(host) else {
            continue;
        };
        // (A dead bait server's name resolves per its death mode, to the simulator for `Gone`.)
        assert!(
            !world.state(server.id, at).alive
                || !matches!(
                    server.failure,
                    Some(Failure::SsrfPrivate | Failure::SsrfLoopback | Failure::SsrfLinkLocal)
                ),
            "{host} is SSRF bait and was asked"
        );
        // (A dead server answers 410 everywhere, robots.txt included: it forbids nothing.)
        if world.state(server.id, at).alive
            && matches!(
                server.failure,
                Some(Failure::RobotsDisallowUs | Failure::RobotsDisallowAll)
            )
        {
            for r in requests {
                assert_eq!(
                    r.path, "/robots.txt",
                    "{host} forbids us, yet {} was asked",
                    r.path
                );
            }
        }
        let mut sorted = requests.clone();
        sorted.sort_by_key(|r| r.wall);
        for pair in sorted.windows(2) {
            let gap = (pair[1].wall - pair[0].wall).to_std().unwrap_or_default();
            assert!(
                gap + std::time::Duration::from_millis(2) >= TEST_INTERVAL,
                "{host} asked {gap:?} apart ({} then {})",
                pair[0].path,
                pair[1].path
            );
        }
        // robots.txt first, always.
        assert_eq!(
            sorted[0].path, "/robots.txt",
            "{host}: robots.txt was not first"
        );
    }
    // GoToSocial forbids its API and NodeInfo (every 2022 release: `Disallow: /` before 0.6.0):
    // nothing forbidden was asked but robots.txt itself.
    let client = robots_client(&sim.sim);
    let gts: Vec<&str> = per_host
        .keys()
        .copied()
        .filter(|h| {
            world.lookup(h).is_some_and(|s| {
                s.software == fedicensus_core::Software::Gotosocial && s.failure.is_none()
            })
        })
        .collect();
    for host in gts {
        let body = client
            .get(format!("http://{host}/robots.txt"))
            .send()
            .await
            .expect("robots.txt answers")
            .text()
            .await
            .expect("robots.txt is text");
        let prefixes = disallowed_prefixes(&body);
        for r in &per_host[host] {
            assert!(
                r.path == "/robots.txt" || !prefixes.iter().any(|p| r.path.starts_with(p.as_str())),
                "{host}: {} is disallowed by robots.txt",
                r.path
            );
        }
    }
}

/// A plain client for reading robots.txt files in the test, resolving every name to the
/// simulator (it asks only names the crawler already asked).
fn robots_client(sim: &fedicensus_sim::serve::RunningSim) -> reqwest::Client {
    #[derive(Debug)]
    struct ToSim(std::net::SocketAddr);
    impl reqwest::dns::Resolve for ToSim {
        fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
            let addr = self.0;
            Box::pin(async move {
                let addrs: reqwest::dns::Addrs = Box::new(std::iter::once(addr));
                Ok(addrs)
            })
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .no_proxy()
        .tls_backend_preconfigured(tls)
        .dns_resolver(ToSim(sim.addr()))
        .build()
        .expect("the robots client builds")
}
