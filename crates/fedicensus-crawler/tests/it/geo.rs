//! Where servers are hosted, end to end: the operator's MaxMind-format databases read and
//! checked (MaxMind's published test databases, and damaged or wrong ones refused with a clear
//! error, never a panic), and a crawl of a simulated world whose servers sit on hosting networks
//! gives each server the country and network the simulator's truth says, so the country shares
//! are the truth's within a point.

use crate::support::{crawler_config, crawler_with, world_with, TestSim};
use chrono::{DateTime, TimeZone, Utc};
use fedicensus_core::{Host, Outcome};
use fedicensus_crawler::config::DEFAULT_DOMAIN_BUDGET;
use fedicensus_crawler::{GeoDatabases, GeoError, MemoryFrontier};
use fedicensus_sim::hosting;
use fedicensus_sim::serve::{self, ServeConfig};
use fedicensus_sim::world::REFUSED_ADDR;
use fedicensus_sim::{SimClock, World};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

fn fixture(name: &str) -> (String, Vec<u8>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/geo")
        .join(name);
    let bytes = std::fs::read(&path).expect("the fixture is in the repository");
    (name.to_owned(), bytes)
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

#[test]
fn maxminds_test_databases_give_the_documented_countries_and_networks() {
    let geo = GeoDatabases::from_bytes(
        Some(fixture("GeoLite2-Country-Test.mmdb")),
        Some(fixture("GeoLite2-ASN-Test.mmdb")),
    )
    .expect("valid databases")
    .expect("two databases given");
    assert!(geo.label().contains("GeoLite2-Country"), "{}", geo.label());
    assert!(geo.label().contains("GeoLite2-ASN"), "{}", geo.label());
    let at = geo.locate(ip("81.2.69.142"));
    assert_eq!(at.country.as_deref(), Some("GB"));
    assert_eq!(
        geo.locate(ip("89.160.20.128")).country.as_deref(),
        Some("SE")
    );
    assert_eq!(geo.locate(ip("2001:218::1")).country.as_deref(), Some("JP"));
    // An IPv4-mapped IPv6 address is looked up as the IPv4 address it maps.
    assert_eq!(
        geo.locate(ip("::ffff:81.2.69.142")).country.as_deref(),
        Some("GB")
    );
    let google = geo.locate(ip("1.0.0.1"));
    assert_eq!(google.asn, Some(15169));
    assert_eq!(google.as_organization.as_deref(), Some("Google Inc."));
    assert_eq!(google.country, None, "1.0.0.1 is in the ASN test data only");
    let att = geo.locate(ip("12.81.96.1"));
    assert_eq!((att.asn, att.as_organization), (Some(7018), None));
    let nowhere = geo.locate(ip("127.0.0.1"));
    assert!(nowhere.is_empty(), "{nowhere:?}");
    assert_eq!(nowhere.database, geo.label());
}

#[test]
fn a_city_database_serves_as_the_country_database_and_either_may_be_missing() {
    let geo = GeoDatabases::from_bytes(Some(fixture("GeoLite2-City-Test.mmdb")), None)
        .expect("a city database has countries")
        .expect("one database given");
    let at = geo.locate(ip("81.2.69.142"));
    assert_eq!(at.country.as_deref(), Some("GB"));
    assert_eq!(at.asn, None, "no ASN database");
    assert!(GeoDatabases::from_bytes(None, None)
        .expect("nothing to check")
        .is_none());
}

#[test]
fn a_damaged_or_wrong_database_is_refused_with_its_name_never_a_panic() {
    let (name, good) = fixture("GeoLite2-Country-Test.mmdb");
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text", b"not a database at all".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
    ];
    // Every byte of the search tree and data section overwritten in turn would be slow; a few
    // stretches of garbage across the file must each be refused or read without panicking.
    for start in [0, good.len() / 4, good.len() / 2] {
        let mut bad = good.clone();
        for b in bad.iter_mut().skip(start).take(64) {
            *b = 0xff;
        }
        cases.push(("overwritten", bad));
    }
    for (what, bytes) in cases {
        let outcome = std::panic::catch_unwind(|| {
            GeoDatabases::from_bytes(Some((format!("{name} ({what})"), bytes)), None)
        });
        let result = outcome.unwrap_or_else(|_| panic!("{what}: the reader panicked"));
        if let Err(e) = result {
            let message = e.to_string();
            assert!(message.contains(&name), "{what}: {message}");
            assert!(matches!(e, GeoError::Invalid { .. }), "{what}: {message}");
        } else {
            assert!(what == "overwritten", "{what} was accepted");
        }
    }
    let wrong = GeoDatabases::from_bytes(Some(fixture("GeoLite2-ASN-Test.mmdb")), None)
        .expect_err("an ASN database is not a country database");
    assert!(
        wrong.to_string().contains("GeoLite2-ASN"),
        "the message names its type: {wrong}"
    );
    let wrong = GeoDatabases::from_bytes(None, Some(fixture("GeoLite2-Country-Test.mmdb")))
        .expect_err("a country database is not an ASN database");
    assert!(matches!(wrong, GeoError::WrongKind { .. }), "{wrong}");
}

fn noon(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// Servers by country (`None`: unknown).
type Shares = BTreeMap<Option<String>, u64>;

fn share(shares: &Shares, key: &Option<String>) -> f64 {
    let total: u64 = shares.values().sum();
    shares.get(key).copied().unwrap_or(0) as f64 / total.max(1) as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_places_every_server_where_the_simulator_hosts_it() {
    let at = noon(2022, 11, 15);
    let world = Arc::new(World::generate(world_with(600, None)));
    let serve_config = ServeConfig {
        hosting: true,
        ..crate::support::test_serve_config()
    };
    let sim = serve::start(world.clone(), SimClock::starting_at(at), serve_config)
        .await
        .expect("the simulator starts on its hosting addresses");
    let sim = TestSim { sim, world };
    let world = sim.world.clone();
    let mut config = crawler_config(&sim.sim);
    config.network.allow_addresses = sim.sim.server_addresses();
    config
        .network
        .allow_addresses
        .push(IpAddr::V4(REFUSED_ADDR));
    config.geo = GeoDatabases::from_bytes(
        Some((
            "sim-country".into(),
            hosting::country_database().expect("written"),
        )),
        Some(("sim-asn".into(), hosting::asn_database().expect("written"))),
    )
    .expect("the simulator's databases are valid")
    .map(Arc::new);
    let alive: Vec<_> = world
        .servers()
        .iter()
        .filter(|s| world.state(s.id, at).alive)
        .collect();
    let seeds: Vec<Host> = alive
        .iter()
        .filter_map(|s| Host::parse(&s.domain).ok())
        .collect();
    let mut truth = Shares::new();
    for s in &alive {
        let h = hosting::hosting(&world, s);
        *truth.entry(h.country().map(str::to_owned)).or_default() += 1;
    }
    let mut run = crawler_with(&sim.sim, config).crawl_once(
        seeds,
        MemoryFrontier::new(DEFAULT_DOMAIN_BUDGET),
        256,
    );
    let mut crawled = Shares::new();
    let mut wrong = Vec::new();
    let mut networks = BTreeMap::<u32, u64>::new();
    while let Some(obs) = run.observations.recv().await {
        if !matches!(obs.outcome, Outcome::Ok | Outcome::RobotsDisallowed) {
            continue;
        }
        let Some(server) = world.lookup(obs.host.as_str()) else {
            continue;
        };
        if !world.state(server.id, at).alive {
            continue;
        }
        let h = hosting::hosting(&world, server);
        let location = obs.location.clone().expect("a located visit");
        if location.country.as_deref() != h.country() || location.asn != h.asn() {
            wrong.push(format!(
                "{}: crawled {:?} AS{:?}, truth {:?} AS{:?}",
                server.domain,
                location.country,
                location.asn,
                h.country(),
                h.asn()
            ));
        }
        if let Some(asn) = location.asn {
            *networks.entry(asn).or_default() += 1;
            assert_eq!(
                location.as_organization.as_deref(),
                Some(h.network().organization)
            );
        }
        *crawled.entry(location.country).or_default() += 1;
    }
    run.finished.await.expect("the crawl task ends");
    println!("crawled {crawled:?}\ntruth {truth:?}\nnetworks {networks:?}");
    assert!(wrong.is_empty(), "{} disagree: {wrong:#?}", wrong.len());
    let read: u64 = crawled.values().sum();
    let alive_count = alive.len() as u64;
    assert!(
        read * 10 >= alive_count * 9,
        "only {read} of {alive_count} alive servers answered"
    );
    for key in truth.keys().chain(crawled.keys()) {
        let (c, t) = (share(&crawled, key), share(&truth, key));
        assert!(
            (c - t).abs() <= 0.01,
            "{key:?}: crawled {:.2} %, truth {:.2} %",
            100.0 * c,
            100.0 * t
        );
    }
    assert!(
        crawled.contains_key(&None),
        "some servers' country is unknown"
    );
    assert!(crawled.len() >= 8, "servers in many countries: {crawled:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_database_a_crawl_locates_nothing_and_works_as_before() {
    let at = noon(2022, 11, 15);
    let sim =
        crate::support::serve_world(Arc::new(World::generate(world_with(60, None))), at).await;
    let config = crawler_config(&sim.sim);
    assert!(config.geo.is_none());
    let seeds: Vec<Host> = sim
        .world
        .servers()
        .iter()
        .filter(|s| sim.world.state(s.id, at).alive)
        .filter_map(|s| Host::parse(&s.domain).ok())
        .collect();
    let mut run = crawler_with(&sim.sim, config).crawl_once(
        seeds,
        MemoryFrontier::new(DEFAULT_DOMAIN_BUDGET),
        64,
    );
    let mut ok = 0;
    while let Some(obs) = run.observations.recv().await {
        assert!(obs.location.is_none(), "{}: {:?}", obs.host, obs.location);
        ok += usize::from(obs.outcome == Outcome::Ok);
    }
    run.finished.await.expect("the crawl task ends");
    assert!(ok > 20, "only {ok} servers answered");
}
