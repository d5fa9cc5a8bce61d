//! The transport: every virtual server of a world, served on loopback like the internet.
//!
//! A crawler tested against the simulator must run its production code: its own DNS resolution
//! (and refusal of private addresses), TLS certificate checks, redirect policy, timeouts and body
//! limits. So the simulator does not hand responses to the crawler in memory; it serves them over
//! real sockets, and only configuration differs from a real crawl: where names resolve (the
//! simulator's DNS server), which CA is trusted (a local one, [`RunningSim::ca_pem`]) and which
//! port connects ([`RunningSim::addr`], the same for `http://` and `https://`).
//!
//! Map of the module:
//! - `listener`: accepting connections; one port sniffs TLS from plain HTTP; optional fixed ports
//!   for crawlers that use the system resolver and default ports; the SSRF bait listener.
//! - `http`: from a hyper request to [`Handler::respond`] and back, with the simulated round trip.
//! - `body`: streaming bodies: drips, huge filler, shared gzip bombs, hangs.
//! - [`tls`]: the local CAs and per-name certificates issued from SNI.
//! - [`dns`]: the DNS server (UDP and TCP) answering from [`World::resolve`], and a stub client.
//! - `log`: the request log and bait hits.
//! - `control`: the `sim.control` host (clock, truth, log, CA).
//!
//! Architecture invariant: the transport decides nothing a virtual server says; that is
//! [`Handler`]'s. It only decides who is asked ([`World::lookup`]), when the answer leaves (the
//! latency) and how its bytes travel.
//!
//! Architecture invariant: the simulator never connects anywhere. SSRF bait resolves to private
//! and link-local addresses in DNS answers only.

mod body;
mod control;
pub mod dns;
mod error;
mod http;
mod listener;
mod log;
pub mod tls;

pub use error::{Error, Result};
pub use log::{BaitHit, LoggedRequest, RequestLog, Scheme};

use crate::clock::SimClock;
use crate::endpoints::{Handler, HandlerConfig};
use crate::world::{Resolution, World, BAIT_LOOPBACK_ADDR, REFUSED_ADDR};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The simulator's own host name, served on the same listener as the virtual servers. Not a real
/// TLD, so it can never be a virtual server's name.
pub const CONTROL_HOST: &str = "sim.control";

/// The default longest a hanging server stays silent before closing.
pub const DEFAULT_HANG_FOR: Duration = Duration::from_secs(120);

/// The default longest a dripping body may take in all.
pub const DEFAULT_MAX_DRIP: Duration = Duration::from_secs(300);

/// The default number of requests the log keeps in full.
pub const DEFAULT_LOG_LIMIT: usize = 2_000_000;

/// How the simulator listens and behaves. [`Default`] is right for tests: loopback, ephemeral
/// ports, latency on.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The loopback address to listen on; live names resolve to it. Must not be `0.0.0.0`:
    /// refused names resolve to 127.0.0.2, where nothing may listen.
    pub listen: IpAddr,
    /// The port for HTTP and HTTPS together (0: any free port).
    pub port: u16,
    /// The DNS port, UDP and TCP (0: any free port).
    pub dns_port: u16,
    /// An extra plain-HTTP-only port (e.g. 80), for crawlers using the system resolver.
    pub http_port: Option<u16>,
    /// An extra HTTPS-only port (e.g. 443).
    pub https_port: Option<u16>,
    /// Whether to listen on [`BAIT_LOOPBACK_ADDR`] (same ports) and log who connects.
    pub bait: bool,
    /// Whether to wait each server's round trip before answering (off for raw-throughput
    /// benchmarks).
    pub apply_latency: bool,
    /// The longest a hanging server stays silent before closing the connection.
    pub hang_for: Duration,
    /// The longest a dripping body takes in all (drips are sped up to fit).
    pub max_drip: Duration,
    /// How many requests the log keeps in full (counts are always kept).
    pub log_limit: usize,
    /// The handler's knobs (hang length, drip pace, body sizes, rate limits). `hang_for` and
    /// `max_drip` above still cap what the handler asks for.
    pub handler: HandlerConfig,
    /// Whether live names resolve to their servers' hosting addresses in `127.16.0.0/16`
    /// ([`crate::hosting`]), each of which the simulator then also listens on (same port),
    /// rather than all to `listen`.
    pub hosting: bool,
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            listen: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            dns_port: 0,
            http_port: None,
            https_port: None,
            bait: true,
            apply_latency: true,
            hang_for: DEFAULT_HANG_FOR,
            max_drip: DEFAULT_MAX_DRIP,
            log_limit: DEFAULT_LOG_LIMIT,
            handler: HandlerConfig::default(),
            hosting: false,
        }
    }
}

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) world: Arc<World>,
    pub(crate) clock: SimClock,
    pub(crate) handler: Handler,
    pub(crate) cfg: ServeConfig,
    pub(crate) log: RequestLog,
    pub(crate) certs: Arc<tls::Certificates>,
    pub(crate) tls: Arc<rustls::ServerConfig>,
    pub(crate) addr: SocketAddr,
    pub(crate) dns_addr: SocketAddr,
    pub(crate) cancel: CancellationToken,
    pub(crate) tracker: TaskTracker,
}

async fn bind_tcp(addr: SocketAddr, what: &'static str) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, what, source })
}

/// Binds DNS over UDP and TCP on one port. With port 0 the UDP socket picks a free port, and the
/// TCP one may find it taken (by another socket's ephemeral port, in a busy test run): then both
/// are tried again on a new port, a few times.
async fn bind_dns(wanted: SocketAddr) -> Result<(UdpSocket, SocketAddr, TcpListener)> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let udp = UdpSocket::bind(wanted)
            .await
            .map_err(|source| Error::Bind {
                addr: wanted,
                what: "DNS over UDP",
                source,
            })?;
        let addr = udp.local_addr().map_err(|source| Error::Bind {
            addr: wanted,
            what: "DNS over UDP",
            source,
        })?;
        match bind_tcp(addr, "DNS over TCP").await {
            Ok(tcp) => return Ok((udp, addr, tcp)),
            Err(err) if wanted.port() != 0 || attempts >= 20 => return Err(err),
            Err(_) => continue,
        }
    }
}

/// Starts serving `world` as it is at `clock`'s time. Returns once every socket is bound.
pub async fn start(world: Arc<World>, clock: SimClock, cfg: ServeConfig) -> Result<RunningSim> {
    if cfg.listen.is_unspecified() || cfg.listen == IpAddr::V4(REFUSED_ADDR) {
        return Err(Error::Config(format!(
            "cannot listen on {}: give a single local address such as 127.0.0.1 (refused names \
             resolve to {REFUSED_ADDR}, where nothing may listen)",
            cfg.listen
        )));
    }
    let main = bind_tcp(SocketAddr::new(cfg.listen, cfg.port), "HTTP and HTTPS").await?;
    let addr = main.local_addr().map_err(|source| Error::Bind {
        addr: SocketAddr::new(cfg.listen, cfg.port),
        what: "HTTP and HTTPS",
        source,
    })?;
    let (dns_udp, dns_addr, dns_tcp) = bind_dns(SocketAddr::new(cfg.listen, cfg.dns_port)).await?;
    let http_extra = match cfg.http_port {
        Some(port) => Some(bind_tcp(SocketAddr::new(cfg.listen, port), "HTTP").await?),
        None => None,
    };
    let https_extra = match cfg.https_port {
        Some(port) => Some(bind_tcp(SocketAddr::new(cfg.listen, port), "HTTPS").await?),
        None => None,
    };
    // One listener per hosting address, on the main port: names resolve there with hosting on.
    let mut hosted = Vec::new();
    if cfg.hosting {
        for ip in crate::hosting::addresses() {
            hosted.push(bind_tcp(SocketAddr::new(ip, addr.port()), "a hosting address").await?);
        }
    }
    let mut bait = Vec::new();
    if cfg.bait {
        let ports = [Some(addr.port()), cfg.http_port, cfg.https_port];
        for port in ports.into_iter().flatten() {
            let at = SocketAddr::new(IpAddr::V4(BAIT_LOOPBACK_ADDR), port);
            bait.push(bind_tcp(at, "SSRF bait").await?);
        }
    }

    let certs = Arc::new(tls::Certificates::generate(world.clone())?);
    let tls = tls::server_config(certs.clone())?;
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let shared = Arc::new(Shared {
        handler: Handler::with_config(world.clone(), clock.clone(), cfg.handler.clone()),
        world: world.clone(),
        clock: clock.clone(),
        log: RequestLog::new(cfg.log_limit),
        certs,
        tls,
        addr,
        dns_addr,
        cancel: cancel.clone(),
        tracker: tracker.clone(),
        cfg: cfg.clone(),
    });

    listener::spawn(shared.clone(), main, listener::Mode::Sniff);
    for l in hosted {
        listener::spawn(shared.clone(), l, listener::Mode::Sniff);
    }
    let http_addr = http_extra.as_ref().and_then(|l| l.local_addr().ok());
    let https_addr = https_extra.as_ref().and_then(|l| l.local_addr().ok());
    if let Some(l) = http_extra {
        listener::spawn(shared.clone(), l, listener::Mode::Http);
    }
    if let Some(l) = https_extra {
        listener::spawn(shared.clone(), l, listener::Mode::Https);
    }
    for l in bait {
        listener::spawn_bait(shared.clone(), l);
    }
    let zone = dns::Zone {
        world,
        clock,
        listen: cfg.listen,
        hosting: cfg.hosting,
    };
    dns::spawn(zone, dns_udp, dns_tcp, cancel.clone(), &tracker);
    tracing::info!(%addr, %dns_addr, servers = shared.world.servers().len(), "simulator serving");
    Ok(RunningSim {
        shared,
        http_addr,
        https_addr,
        ca_file: Mutex::new(None),
    })
}

/// A running simulator. Dropping it stops every loop; [`RunningSim::shutdown`] also waits for
/// them.
#[derive(Debug)]
pub struct RunningSim {
    shared: Arc<Shared>,
    http_addr: Option<SocketAddr>,
    https_addr: Option<SocketAddr>,
    ca_file: Mutex<Option<PathBuf>>,
}

impl RunningSim {
    /// Where every virtual server answers, HTTP and HTTPS alike.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The DNS server (UDP and TCP).
    pub fn dns_addr(&self) -> SocketAddr {
        self.shared.dns_addr
    }

    /// Every address live names may resolve to: the listen address, and with
    /// [`ServeConfig::hosting`] every hosting address (a crawler's allow-list).
    pub fn server_addresses(&self) -> Vec<IpAddr> {
        let mut all = vec![self.shared.addr.ip()];
        if self.shared.cfg.hosting {
            all.extend(crate::hosting::addresses());
        }
        all
    }

    /// The extra plain-HTTP listener, if one was asked for.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// The extra HTTPS listener, if one was asked for.
    pub fn https_addr(&self) -> Option<SocketAddr> {
        self.https_addr
    }

    /// The CA certificate a crawler must trust, PEM-encoded.
    pub fn ca_pem(&self) -> &str {
        self.shared.certs.ca_pem()
    }

    /// The certificate issuer (for measuring issuing cost, or inspecting what was issued).
    pub fn certificates(&self) -> &Arc<tls::Certificates> {
        &self.shared.certs
    }

    /// The simulated clock; setting it moves the whole world.
    pub fn clock(&self) -> &SimClock {
        &self.shared.clock
    }

    /// The world served.
    pub fn world(&self) -> &Arc<World> {
        &self.shared.world
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &ServeConfig {
        &self.shared.cfg
    }

    /// Every request answered so far (up to the log limit), in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log.requests()
    }

    /// Requests answered per host.
    pub fn requests_per_host(&self) -> HashMap<String, u64> {
        self.shared.log.per_host()
    }

    /// Requests answered by one host.
    pub fn requests_for(&self, host: &str) -> u64 {
        self.shared.log.count_for(host)
    }

    /// Requests answered in all.
    pub fn total_requests(&self) -> u64 {
        self.shared.log.total()
    }

    /// Connections that reached the SSRF bait listener.
    pub fn bait_hits(&self) -> Vec<BaitHit> {
        self.shared.log.bait_hits()
    }

    /// The request log as CSV (also at `http://sim.control/requests.csv`).
    pub fn requests_csv(&self) -> Vec<u8> {
        self.shared.log.to_csv()
    }

    /// Forgets the request log and bait hits (between crawls).
    pub fn clear_log(&self) {
        self.shared.log.clear()
    }

    /// A hosts file: one `address name` line for every name that resolves to a loopback address
    /// at the current simulated time (the simulator, 127.0.0.2 for refused names, 127.0.0.3 for
    /// loopback bait), plus the control host. Names resolving to private or link-local bait are
    /// left out, so that no crawler using it can ever connect there.
    pub fn hosts_file(&self) -> String {
        let listen = self.shared.cfg.listen;
        let now = self.shared.clock.now();
        let mut out = format!(
            "# fedicensus simulator, world seed {}, simulated time {}\n{listen} {CONTROL_HOST}\n",
            self.shared.world.config().seed,
            now.to_rfc3339()
        );
        for server in self.shared.world.servers() {
            let world = &self.shared.world;
            let hosting = self.shared.cfg.hosting;
            if let Resolution::Address(ip) =
                crate::hosting::resolve(world, &server.domain, now, listen, hosting)
            {
                if ip.is_loopback() {
                    let _ = writeln!(out, "{ip} {}", server.domain);
                }
            }
        }
        out
    }

    /// Writes [`RunningSim::hosts_file`] to `path`.
    pub fn write_hosts_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.hosts_file()).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes the CA certificate to `path`; [`RunningSim::how_to_connect`] then names the file.
    pub fn write_ca_pem(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.ca_pem()).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
        *self.ca_file.lock().unwrap_or_else(|e| e.into_inner()) = Some(path.to_path_buf());
        Ok(())
    }

    /// A paragraph telling a person how to point a crawler at this simulator.
    pub fn how_to_connect(&self) -> String {
        let world = &self.shared.world;
        let addr = self.addr();
        let dns = self.dns_addr();
        let ca = match &*self.ca_file.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(path) => format!("the CA certificate in {}", path.display()),
            None => format!("the CA certificate served at http://{CONTROL_HOST}/ca.pem"),
        };
        let mut text = format!(
            "Serving {} servers (scenario {}, seed {}), simulated time {}.\n\
             \n\
             To crawl it, change only configuration:\n\
             \x20 DNS server       {dns} (UDP and TCP); live names resolve to {}\n\
             \x20 HTTP and HTTPS   port {} for every name (one port: TLS is recognised by its first byte)\n\
             \x20 trust            {ca}\n\
             \x20 allow addresses  {} (the servers) and {REFUSED_ADDR} (names that refuse connections)\n\
             \x20 never allow      {BAIT_LOOPBACK_ADDR} or private and link-local addresses: SSRF bait, and any\n\
             \x20                  connection to {BAIT_LOOPBACK_ADDR} is logged as a failure\n\
             \n\
             Control host {CONTROL_HOST} on the same port: GET /world, /ca.pem, /requests.csv,\n\
             /truth.csv?at=DATE; POST /clock?at=TIME moves the simulated clock.",
            world.servers().len(),
            world.config().scenario.name(),
            world.config().seed,
            self.shared.clock.now().format("%Y-%m-%d %H:%M:%S UTC"),
            addr.ip(),
            addr.port(),
            addr.ip(),
        );
        if self.http_addr.is_some() || self.https_addr.is_some() {
            let _ = write!(
                text,
                "\nFor crawlers that use the system resolver and default ports (with --hosts-file): \
                 plain HTTP on {}, HTTPS on {}.",
                self.http_addr
                    .map_or_else(|| "no port".to_string(), |a| a.to_string()),
                self.https_addr
                    .map_or_else(|| "no port".to_string(), |a| a.to_string()),
            );
        }
        text
    }

    /// Stops accepting, ends every connection (after a short grace for answers in flight) and
    /// waits for every task to finish.
    pub async fn shutdown(self) {
        self.shared.cancel.cancel();
        self.shared.tracker.close();
        self.shared.tracker.wait().await;
        tracing::info!(requests = self.shared.log.total(), "simulator stopped");
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        self.shared.cancel.cancel();
    }
}
