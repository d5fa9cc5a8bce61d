//! The harness: a simulator on loopback and a crawler configured for it.
//!
//! Copied in small from the simulator's own harness: the world is generated, served with latency
//! off and short hangs, drips and rate-limit windows, and the crawler is pointed at the
//! simulator's DNS, port and CA. The crawler's address policy is set to **only** the
//! simulator's two loopback addresses, so no test can connect anywhere else, whatever a DNS
//! answer says (127.0.0.3, the loopback SSRF bait, stays refused).
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use fedicensus_crawler::config::EXAMPLE_CONTACT_URL;
use fedicensus_crawler::{Crawler, CrawlerConfig, NetworkConfig};
use fedicensus_sim::endpoints::HandlerConfig;
use fedicensus_sim::serve::{self, RunningSim, ServeConfig};
use fedicensus_sim::world::REFUSED_ADDR;
use fedicensus_sim::{Failure, FailureMix, LatencyModel, SimClock, World, WorldConfig};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

/// The per-host interval tests crawl with.
pub const TEST_INTERVAL: Duration = Duration::from_millis(50);

/// A running simulator.
#[derive(Debug)]
pub struct TestSim {
    pub sim: RunningSim,
    pub world: Arc<World>,
}

/// 2022-11-15 12:00 UTC, the middle of the migration.
pub fn mid_migration() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 11, 15, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// A small world where every server has `failure` (or none).
pub fn world_with(servers: usize, failure: Option<Failure>) -> WorldConfig {
    let mut config = WorldConfig::new(fedicensus_sim::Scenario::Migration2022, 7);
    config.servers = Some(servers);
    config.failures = match failure {
        Some(failure) => FailureMix {
            failures: vec![(failure, 1.0)],
            ..FailureMix::none()
        },
        None => FailureMix::none(),
    };
    config.latency = LatencyModel::default();
    config
}

/// No latency; hangs, drips and rate-limit windows short enough for tests.
pub fn test_serve_config() -> ServeConfig {
    ServeConfig {
        apply_latency: false,
        hang_for: Duration::from_secs(5),
        max_drip: Duration::from_secs(2),
        handler: HandlerConfig {
            hang: Duration::from_secs(5),
            drip_every: Duration::from_millis(20),
            rate_window: Duration::from_secs(2),
            ..HandlerConfig::default()
        },
        ..ServeConfig::default()
    }
}

/// Generates `config`'s world and serves it at `at`.
pub async fn spawn_sim(config: WorldConfig, at: DateTime<Utc>) -> TestSim {
    let world = Arc::new(World::generate(config));
    serve_world(world, at).await
}

/// Serves an already generated world at `at`.
pub async fn serve_world(world: Arc<World>, at: DateTime<Utc>) -> TestSim {
    let sim = serve::start(
        world.clone(),
        SimClock::starting_at(at),
        test_serve_config(),
    )
    .await
    .expect("the simulator starts on loopback");
    TestSim { sim, world }
}

/// A crawler configuration for `sim`: its DNS, port and CA, only its loopback addresses,
/// short timeouts, concurrency 64.
pub fn crawler_config(sim: &RunningSim) -> CrawlerConfig {
    let mut config = CrawlerConfig::new(EXAMPLE_CONTACT_URL);
    config.network = NetworkConfig {
        nameserver: Some(sim.dns_addr()),
        port: Some(sim.addr().port()),
        extra_ca_pem: Some(sim.ca_pem().to_string()),
        allow_addresses: vec![sim.addr().ip(), IpAddr::V4(REFUSED_ADDR)],
        only_allowed_addresses: true,
        http_fallback_on_bad_certificate: false,
    };
    assert_eq!(sim.addr().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    config.concurrency = 64;
    config.per_ip_concurrency = 64;
    config.min_interval = TEST_INTERVAL;
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(3);
    config.visit_timeout = Duration::from_secs(20);
    config.max_crawl_delay = Duration::from_millis(200);
    config.max_rate_limit_wait = Duration::from_secs(5);
    config
}

/// A crawler for `sim`, reading the simulator's clock.
pub fn crawler(sim: &RunningSim) -> Crawler {
    crawler_with(sim, crawler_config(sim))
}

/// A crawler for `sim` with a chosen configuration.
pub fn crawler_with(sim: &RunningSim, config: CrawlerConfig) -> Crawler {
    let clock = sim.clock().clone();
    Crawler::new(config)
        .expect("the test crawler builds")
        .with_clock(Arc::new(move || clock.now()))
}
