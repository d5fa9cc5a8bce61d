//! The test harness: a simulator on loopback, and a client that reaches it the way a crawler
//! does, through the simulator's own DNS server and trusting its CA.
//!
//! `spawn_sim(config, at)` generates the world, starts the simulator on ephemeral ports with
//! latency off (tests measure behaviour, not speed; pass a [`ServeConfig`] to
//! `spawn_sim_with` for latency or other limits) and builds a `reqwest` client whose resolver
//! asks the simulator's DNS over UDP, so NXDOMAIN, refused addresses and SSRF bait come from DNS
//! answers as they would on the internet.
//!
//! Safety: the harness resolver refuses to hand out any address that is not loopback, so no test
//! client can ever connect to the private or link-local addresses SSRF bait resolves to.
// Not every test module uses every helper.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use fedicensus_sim::serve::dns::{self, Answer};
use fedicensus_sim::serve::{self, RunningSim, ServeConfig};
use fedicensus_sim::{Failure, FailureMix, LatencyModel, Server, SimClock, World, WorldConfig};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long the harness client waits for a whole response by default.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A running simulator and a client for it.
#[derive(Debug)]
pub struct TestSim {
    pub sim: RunningSim,
    pub world: Arc<World>,
    /// A client with the simulator's DNS and CA, [`CLIENT_TIMEOUT`], default redirects.
    pub client: reqwest::Client,
}

/// A date inside the default scenario (2022-11-15, the middle of the migration).
pub fn mid_migration() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 11, 15, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// A small world (`servers` servers, seed 7) where every server has `failure`, or none with
/// `None`. Latency model as generated; the harness turns latency off unless asked.
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

/// The serve config tests use: ephemeral ports, no latency, short hangs and drips.
pub fn test_serve_config() -> ServeConfig {
    ServeConfig {
        apply_latency: false,
        hang_for: Duration::from_secs(5),
        max_drip: Duration::from_secs(10),
        ..ServeConfig::default()
    }
}

/// Generates the world for `config` and serves it at simulated time `at`, latency off.
pub async fn spawn_sim(config: WorldConfig, at: DateTime<Utc>) -> TestSim {
    spawn_sim_with(config, at, test_serve_config()).await
}

/// Like [`spawn_sim`], with a chosen serve config.
pub async fn spawn_sim_with(config: WorldConfig, at: DateTime<Utc>, serve: ServeConfig) -> TestSim {
    let world = Arc::new(World::generate(config));
    serve_world(world, at, serve).await
}

/// Serves an already generated world (share one world between tests to save generation time).
pub async fn serve_world(world: Arc<World>, at: DateTime<Utc>, serve: ServeConfig) -> TestSim {
    let sim = serve::start(world.clone(), SimClock::starting_at(at), serve)
        .await
        .expect("the simulator starts on loopback");
    let client = client_builder(&sim)
        .timeout(CLIENT_TIMEOUT)
        .build()
        .expect("the test client builds");
    TestSim { sim, world, client }
}

/// A reqwest client builder that resolves through `sim`'s DNS, connects to `sim`'s port and
/// trusts `sim`'s CA (and no other). No proxy, no timeout: add your own.
pub fn client_builder(sim: &RunningSim) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .no_proxy()
        .user_agent("fedicensus-sim-tests/0.1 (+https://example.invalid/fedicensus)")
        .dns_resolver(SimResolver {
            dns: sim.dns_addr(),
            port: sim.addr().port(),
        })
        .tls_backend_preconfigured(tls_config(sim))
}

/// A rustls client config (ring) trusting only `sim`'s CA.
pub fn tls_config(sim: &RunningSim) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(sim.certificates().ca_der().clone())
        .expect("the simulator's CA certificate is valid");
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

impl TestSim {
    /// `scheme://host/path` (path starting with `/`).
    pub fn url(&self, https: bool, host: &str, path: &str) -> String {
        format!("{}://{host}{path}", if https { "https" } else { "http" })
    }

    /// A client builder like the harness client's, to set other timeouts or redirect policies.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        client_builder(&self.sim)
    }

    /// The first server with `failure` that is alive at the simulated time (else the first with
    /// it at all), if the world has one.
    pub fn server_with(&self, failure: Failure) -> Option<&Server> {
        let now = self.sim.clock().now();
        let mut with = self
            .world
            .servers()
            .iter()
            .filter(|s| s.failure == Some(failure));
        let first = with.clone().next();
        with.find(|s| self.world.state(s.id, now).alive).or(first)
    }

    /// The first server alive at the simulated time that resolves to the simulator and has no
    /// failure (a server that answers normally).
    pub fn healthy_server(&self) -> &Server {
        let now = self.sim.clock().now();
        let listen = self.sim.addr().ip();
        self.world
            .servers()
            .iter()
            .find(|s| {
                s.failure.is_none()
                    && self.world.resolve(&s.domain, now, listen)
                        == fedicensus_sim::world::Resolution::Address(listen)
                    && self.world.state(s.id, now).alive
            })
            .expect("the world has a healthy server")
    }

    /// Asks the simulator's DNS for the A records of `name`.
    pub async fn dns_a(&self, name: &str) -> Answer {
        dns::query(self.sim.dns_addr(), name, false, Duration::from_secs(2))
            .await
            .expect("the simulator's DNS answers")
    }
}

/// Name resolution through the simulator's DNS server over UDP, as a crawler configured for the
/// simulator does it. Every address gets the simulator's port, so `http://` and `https://` URLs
/// without a port connect to the one sniffing listener.
#[derive(Debug, Clone)]
pub struct SimResolver {
    pub dns: SocketAddr,
    pub port: u16,
}

/// A resolution failure, with the reason in words (reqwest shows it in its error chain).
#[derive(Debug)]
pub struct ResolveError(pub String);

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ResolveError {}

impl Resolve for SimResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let SimResolver { dns, port } = self.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let answer = dns::query(dns, &host, false, Duration::from_secs(2)).await?;
            let ips = match answer {
                Answer::Addresses(ips) if !ips.is_empty() => ips,
                Answer::Addresses(_) => {
                    return Err(ResolveError(format!("{host} has no A record")).into())
                }
                Answer::NoSuchDomain => {
                    return Err(ResolveError(format!("{host}: no such domain (NXDOMAIN)")).into())
                }
                Answer::Failed(code) => {
                    return Err(ResolveError(format!("{host}: DNS answered {code}")).into())
                }
            };
            if let Some(ip) = ips.iter().find(|ip| !ip.is_loopback()) {
                return Err(ResolveError(format!(
                    "{host} resolves to {ip}, which is not loopback: the test client refuses it"
                ))
                .into());
            }
            let addrs: Addrs = Box::new(ips.into_iter().map(move |ip| SocketAddr::new(ip, port)));
            Ok(addrs)
        })
    }
}
