//! A crawl of the lemmy-2023 world (the Lemmy growth of June 2023), judged against the
//! simulator's truth: every Lemmy server the truth counts reachable and a crawl from the seeds
//! can find is found and read, with the figures it truly has (or, for the servers that count
//! remote users as their own, the figures it reports), the version it ran that day, and the
//! peers only Lemmy 0.18's `/api/v3/federated_instances` lists.

use crate::support::{crawler, serve_world};
use chrono::{DateTime, TimeZone, Utc};
use fedicensus_core::{Host, Metric, Outcome, Software, Source};
use fedicensus_crawler::config::DEFAULT_DOMAIN_BUDGET;
use fedicensus_crawler::MemoryFrontier;
use fedicensus_sim::truth::truth_summary;
use fedicensus_sim::{FailureMix, Quirk, Scenario, ServerId, World, WorldConfig};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

fn nodeinfo_value(obs: &fedicensus_core::Observation, metric: Metric) -> Option<u64> {
    obs.measurements
        .iter()
        .find(|m| m.metric == metric && m.source == Source::NodeInfo)
        .map(|m| m.value)
}

/// Two weeks after the end of June: Lemmy servers run 0.17.x and 0.18.x.
fn mid_july_2023() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 7, 14, 12, 0, 0)
        .single()
        .expect("a valid date")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_of_the_lemmy_2023_world_matches_its_truth() {
    let at = mid_july_2023();
    let world = Arc::new(World::generate(WorldConfig {
        servers: Some(700),
        // Failures and quirks of every kind, but no adversaries: their claims are not the truth
        // by design, and the 2022 crawl test covers them.
        failures: FailureMix {
            adversaries: FailureMix::none().adversaries,
            ..FailureMix::default()
        },
        ..WorldConfig::new(Scenario::Lemmy2023, 7)
    }));
    let truth = truth_summary(&world, at);
    let lemmy_truth = truth.software("lemmy");
    println!("truth at {at}: lemmy {lemmy_truth:?}");
    assert!(
        lemmy_truth.reachable >= 80,
        "the world has too few reachable Lemmy servers to judge: {lemmy_truth:?}"
    );
    let sim = serve_world(world.clone(), at).await;

    // Seeds: the three largest Lemmy servers that answer.
    let mut candidates: Vec<ServerId> = world
        .servers()
        .iter()
        .filter(|s| {
            s.software == Software::Lemmy
                && s.failure.is_none()
                && s.quirks.is_empty()
                && world.state(s.id, at).reachable
        })
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
    let mut run = crawler.crawl_once(seed_hosts, MemoryFrontier::new(DEFAULT_DOMAIN_BUDGET), 1024);
    let mut observations = Vec::new();
    while let Some(obs) = run.observations.recv().await {
        observations.push(obs);
    }
    let (summary, _frontier) = run.finished.await.expect("the crawl task ends");
    println!(
        "{} visits, {} requests, outcomes {:?}",
        summary.visited, summary.requests, summary.by_outcome
    );

    // The truth's reachable Lemmy servers that a crawl from the seeds can find.
    let expected: BTreeSet<ServerId> = discoverable
        .iter()
        .copied()
        .filter(|id| {
            let s = world.server(*id);
            s.software == Software::Lemmy && !s.flood && world.state(*id, at).reachable
        })
        .collect();
    let by_id: HashMap<ServerId, &fedicensus_core::Observation> = observations
        .iter()
        .filter_map(|o| world.lookup(o.host.as_str()).map(|s| (s.id, o)))
        .collect();

    let mut mismatches = Vec::new();
    let mut versions: BTreeMap<String, usize> = BTreeMap::new();
    let mut lists_0_18 = 0;
    let (mut users_crawled, mut users_true) = (0u64, 0u64);
    for id in &expected {
        let server = world.server(*id);
        let Some(obs) = by_id.get(id) else {
            mismatches.push(format!("{}: reachable, never visited", server.domain));
            continue;
        };
        if obs.outcome != Outcome::Ok {
            mismatches.push(format!(
                "{}: reachable, crawled as {} (failure {:?}, quirks {})",
                server.domain,
                obs.outcome.as_str(),
                server.failure,
                server.quirks.names()
            ));
            continue;
        }
        let software = obs
            .software
            .as_ref()
            .expect("ok observations name their software");
        if software.family != Software::Lemmy {
            mismatches.push(format!("{}: software {}", server.domain, software.family));
        }
        let version = world.nodeinfo_version_at(*id, obs.observed_at);
        if software.raw_version != version {
            mismatches.push(format!(
                "{}: version {:?}, the world runs {version:?}",
                server.domain, software.raw_version
            ));
        }
        // Its peer list, which 0.18 serves at `/api/v3/federated_instances` only.
        if world.serves_peers(*id, obs.observed_at) {
            // The names a crawler can take from it (junk copied from real lists, such as `*`
            // entries and oversized labels, is no host).
            let served: HashSet<String> = world
                .peers(*id, obs.observed_at)
                .iter()
                .filter_map(|d| Host::parse(d).ok())
                .map(|h| h.as_str().to_string())
                .collect();
            match &obs.peers {
                Some(read)
                    if read.len() == served.len()
                        && read.iter().all(|h| served.contains(h.as_str())) =>
                {
                    if version.starts_with("0.18.") {
                        lists_0_18 += 1;
                    }
                }
                read => mismatches.push(format!(
                    "{} (Lemmy {version}): read {:?} peers of the {} it serves; not read: {:?}",
                    server.domain,
                    read.as_ref().map(Vec::len),
                    served.len(),
                    served
                        .iter()
                        .filter(|d| !read
                            .as_ref()
                            .is_some_and(|r| r.iter().any(|h| h.as_str() == d.as_str())))
                        .take(3)
                        .collect::<Vec<_>>()
                )),
            }
        }
        *versions.entry(version).or_default() += 1;
        // What it served lies between its figures at the visit's start and end; the truth's
        // figures, unless it counts remote users as its own (then what it reports).
        let end = obs.observed_at + chrono::TimeDelta::milliseconds(obs.duration_ms as i64 + 1000);
        let inflated = server.quirks.has(Quirk::LemmyRemoteInflation);
        let (start_users, end_users) = if inflated {
            (
                world.reported(*id, obs.observed_at).users,
                world.reported(*id, end).users,
            )
        } else {
            (
                world.state(*id, obs.observed_at).figures.users,
                world.state(*id, end).figures.users,
            )
        };
        let lenient = [
            Quirk::NullCounts,
            Quirk::NegativeCounts,
            Quirk::WrongTypes,
            Quirk::MisspeltKeys,
        ]
        .iter()
        .any(|q| server.quirks.has(*q));
        match nodeinfo_value(obs, Metric::UsersTotal) {
            Some(got) if (start_users..=end_users).contains(&got) => {
                if !inflated {
                    users_crawled += got;
                    users_true += world.state(*id, at).figures.users;
                }
            }
            None if lenient => {}
            got => mismatches.push(format!(
                "{} (quirks {}): users {got:?}, served {start_users}..={end_users}",
                server.domain,
                server.quirks.names()
            )),
        }
    }
    // Nothing the truth does not count as a reachable Lemmy server was read as one.
    for obs in &observations {
        let Some(server) = world.lookup(obs.host.as_str()) else {
            continue;
        };
        if obs.outcome == Outcome::Ok
            && server.software == Software::Lemmy
            && !expected.contains(&server.id)
        {
            mismatches.push(format!(
                "{}: read, but the truth does not count it reachable",
                server.domain
            ));
        }
    }
    println!(
        "{} reachable discoverable Lemmy servers of {} reachable; versions {versions:?}; users \
         crawled {users_crawled}, true {users_true}; {lists_0_18} Lemmy 0.18 peer lists read",
        expected.len(),
        lemmy_truth.reachable
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(
        lists_0_18 >= 20,
        "only {lists_0_18} Lemmy 0.18 peer lists read"
    );
    // The crawl must have met both release lines of July 2023, and found most of the Lemmy
    // servers the truth counts (those no peer list names cannot be found).
    assert!(
        versions.keys().any(|v| v.starts_with("0.17."))
            && versions.keys().any(|v| v.starts_with("0.18.")),
        "{versions:?}"
    );
    assert!(
        expected.len() as f64 >= 0.9 * lemmy_truth.reachable as f64,
        "only {} of {} reachable Lemmy servers are discoverable",
        expected.len(),
        lemmy_truth.reachable
    );
}
