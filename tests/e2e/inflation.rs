//! One party cannot inflate the census (issue 25): a crawl of a world with the simulator's
//! adversaries (24 subdomains of one domain claiming 30 million users each, a server whose claim
//! jumps to 40 million, a peer list of 2,000 invented names) shows what an honest census shows,
//! on SQLite and on PostgreSQL.

use crate::crawl::PgDatabase;
use crate::support::{at, block_on, sqlite_url, Sim, AT, SEEDS};
use fedicensus_sim::world::Resolution;
use fedicensus_sim::Adversary;
use fedicensus_storage::{Granularity, SeriesMetric, SeriesQuery, Storage};
use std::net::{IpAddr, Ipv4Addr};

/// The share by which headline figures may differ from the truth (the demo test's).
const TOLERANCE: f64 = 0.02;

#[test]
fn a_crawl_of_a_world_with_adversaries_on_sqlite_shows_what_an_honest_census_shows() {
    let sim = Sim::start_with_adversaries("adversaries-sqlite", 400);
    let url = sqlite_url(&sim.path("census.db"));
    crawl_and_compare(&sim, &url);
}

#[test]
fn a_crawl_of_a_world_with_adversaries_on_postgresql_shows_what_an_honest_census_shows() {
    let Some(pg) = PgDatabase::create("adversaries on PostgreSQL") else {
        return;
    };
    let sim = Sim::start_with_adversaries("adversaries-pg", 400);
    crawl_and_compare(&sim, &pg.url);
}

fn crawl_and_compare(sim: &Sim, url: &str) {
    let out = sim.crawl_at(url, AT).output().expect("the crawl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let world = sim.world();
    let seeds: Vec<u32> = SEEDS
        .iter()
        .map(|s| world.lookup(s).expect("a seed").id)
        .collect();
    let found = world.discoverable_from(&seeds, at());
    let listen = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let allowed = [Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 2)];
    let mut honest_users = 0u64;
    let mut confirmable = 0u64;
    let mut adversaries = Vec::new();
    for id in &found {
        let server = world.server(*id);
        if let Some(kind) = server.adversary {
            adversaries.push((server.domain.clone(), kind));
        }
        // A name the crawl can confirm: it resolves to an address the crawl may visit.
        if matches!(
            world.resolve(&server.domain, at(), listen),
            Resolution::Address(IpAddr::V4(a)) if allowed.contains(&a)
        ) {
            confirmable += 1;
        }
        let state = world.state(*id, at());
        let claims = matches!(
            server.adversary,
            Some(Adversary::InflatedSubdomain | Adversary::JumpBeyondTotal)
        );
        if state.reachable && !claims {
            honest_users += state.figures.users;
        }
    }
    let inflated = adversaries
        .iter()
        .filter(|(_, k)| *k == Adversary::InflatedSubdomain)
        .count();
    assert_eq!(
        inflated, 24,
        "every inflated subdomain is found: {adversaries:?}"
    );
    assert!(adversaries
        .iter()
        .any(|(_, k)| *k == Adversary::JumpBeyondTotal));
    assert!(adversaries
        .iter()
        .any(|(_, k)| *k == Adversary::InventedPeers));

    block_on(async {
        let storage = Storage::connect(url).await.expect("the database opens");
        let day = at().date_naive();
        let read = |metric, cleaned| {
            let mut query = SeriesQuery::new(metric, Granularity::Day, day, day);
            query.cleaned = cleaned;
            let storage = storage.clone();
            async move {
                storage.series(&query).await.expect("a series").points[0]
                    .value
                    .expect("a value")
            }
        };
        let cleaned = read(SeriesMetric::UsersTotal, true).await;
        let raw = read(SeriesMetric::UsersTotal, false).await;
        let known = read(SeriesMetric::ServersKnown, false).await;
        let mentioned = read(SeriesMetric::ServersMentioned, false).await;

        // The raw series keeps every claim; the cleaned one is the honest census.
        assert!(raw > 24.0 * 30_000_000.0, "raw {raw}");
        let users_error = (cleaned - honest_users as f64).abs() / honest_users as f64;
        assert!(
            users_error <= TOLERANCE,
            "cleaned users {cleaned} against {honest_users} honest ({:.2} %)",
            users_error * 100.0
        );
        // Invented names are mentioned, never known.
        let known_error = (known - confirmable as f64).abs() / confirmable as f64;
        assert!(
            known_error <= TOLERANCE,
            "servers known {known} against {confirmable} confirmable ({:.2} %)",
            known_error * 100.0
        );
        assert!(
            mentioned - known >= 2_000.0,
            "mentioned {mentioned}, known {known}"
        );

        // Each claim is kept, flagged, with its provenance.
        for (domain, kind) in &adversaries {
            if *kind == Adversary::InventedPeers {
                continue;
            }
            let history = storage
                .server_history(&fedicensus_core::Host::from_normalised(domain.as_str()))
                .await
                .expect("a history");
            let ok = history
                .observations
                .iter()
                .find(|o| o.outcome == "ok")
                .unwrap_or_else(|| panic!("{domain} answered"));
            assert!(ok.users_total.unwrap_or(0) >= 30_000_000, "{domain}");
            assert!(!ok.quality_flags.is_empty(), "{domain} {kind:?} unflagged");
        }
        storage.close().await;
    });
}
