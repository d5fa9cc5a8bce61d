//! How fast the simulator serves: small responses per second over loopback, their latency, the
//! memory a 100,000-server world takes while serving, and the cost of TLS certificates.
//!
//! The load generator runs in the same process (on the same two cores), so the figures are a
//! lower bound on what the simulator alone could do. It keeps many HTTP/1.1 connections alive and
//! sends one small GET at a time on each (`/robots.txt` or `/.well-known/nodeinfo` of a random
//! healthy server), parsing just enough of each response to find its end. Latency is off: this
//! measures the transport and the handler, not the simulated round trips.
//!
//! Run: `cargo bench -p fedicensus-sim --bench serve`.

use bytes::{Buf, BytesMut};
use fedicensus_sim::serve::{self, ServeConfig};
use fedicensus_sim::world::Resolution;
use fedicensus_sim::{FailureMix, LatencyModel, Scenario, SimClock, World, WorldConfig};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SERVERS: usize = 100_000;
const CONNECTIONS: usize = 64;
const RUN: Duration = Duration::from_secs(10);
const TLS_RUN: Duration = Duration::from_secs(3);
const CERTS: usize = 2_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// A tiny xorshift, so host choice costs nothing next to the request.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

async fn run() -> Result<(), BoxError> {
    let mut config = WorldConfig::new(Scenario::Migration2022, 42);
    config.servers = Some(SERVERS);
    config.failures = FailureMix::none();
    config.latency = LatencyModel::default();
    let started = Instant::now();
    let world = Arc::new(World::generate(config));
    let generated = started.elapsed();
    let at = chrono::NaiveDate::from_ymd_opt(2022, 11, 15)
        .expect("a valid date")
        .and_hms_opt(12, 0, 0)
        .expect("a valid time")
        .and_utc();
    let serve = ServeConfig {
        apply_latency: false,
        ..ServeConfig::default()
    };
    let sim = serve::start(world.clone(), SimClock::starting_at(at), serve).await?;
    let listen = sim.addr().ip();
    let hosts: Arc<Vec<String>> = Arc::new(
        world
            .servers()
            .iter()
            .filter(|s| {
                world.state(s.id, at).alive
                    && world.resolve(&s.domain, at, listen) == Resolution::Address(listen)
            })
            .map(|s| s.domain.clone())
            .collect(),
    );
    let rss_world = status_kb("VmRSS:");
    println!(
        "world: {SERVERS} servers generated in {:.1} s, {} live; RSS {} MB",
        generated.as_secs_f64(),
        hosts.len(),
        rss_world / 1024
    );

    // Plain HTTP, keep-alive.
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + RUN;
    let mut tasks = Vec::new();
    for i in 0..CONNECTIONS {
        let hosts = hosts.clone();
        let errors = errors.clone();
        let addr = sim.addr();
        tasks.push(tokio::spawn(async move {
            load(addr, hosts, deadline, i as u64 + 1, errors).await
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await?);
    }
    latencies.sort_unstable();
    let count = latencies.len();
    let pct = |p: f64| latencies.get(((count as f64 * p) as usize).min(count.saturating_sub(1)));
    println!(
        "http keep-alive: {CONNECTIONS} connections, {:.0} responses/s over {} s ({count} in all, {} errors or non-200), latency p50 {} us, p99 {} us",
        count as f64 / RUN.as_secs_f64(),
        RUN.as_secs(),
        errors.load(Ordering::Relaxed),
        pct(0.50).copied().unwrap_or(0),
        pct(0.99).copied().unwrap_or(0),
    );
    println!(
        "memory: peak RSS (VmHWM) {} MB with the in-process load generator; request log holds {}",
        status_kb("VmHWM:") / 1024,
        sim.total_requests()
    );

    // Certificate issuing, bypassing the cache.
    let certs = sim.certificates().clone();
    let started = Instant::now();
    for host in hosts.iter().take(CERTS) {
        certs.issue(host, false)?;
    }
    let issuing = started.elapsed();
    println!(
        "certificates: {:.0} issued/s ({} us each, one CA signature; the leaf key is shared)",
        CERTS as f64 / issuing.as_secs_f64(),
        issuing.as_micros() / CERTS as u128
    );

    // HTTPS, one new connection (handshake, and a certificate issued on first use) per request,
    // as a crawler visiting each host once does.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(sim.certificates().ca_der().clone())?;
    let tls = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    let handshakes = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + TLS_RUN;
    let mut tasks = Vec::new();
    for i in 0..16u64 {
        let hosts = hosts.clone();
        let tls = tls.clone();
        let handshakes = handshakes.clone();
        let addr = sim.addr();
        tasks.push(tokio::spawn(async move {
            let connector = tokio_rustls::TlsConnector::from(tls);
            let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ (i * 7919 + 1);
            while Instant::now() < deadline {
                let host = &hosts[(next(&mut rng) % hosts.len() as u64) as usize];
                let Ok(name) = rustls::pki_types::ServerName::try_from(host.clone()) else {
                    continue;
                };
                let Ok(tcp) = TcpStream::connect(addr).await else {
                    continue;
                };
                let Ok(mut stream) = connector.connect(name, tcp).await else {
                    continue;
                };
                let request = format!(
                    "GET /robots.txt HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                );
                if stream.write_all(request.as_bytes()).await.is_err() {
                    continue;
                }
                let mut sink = Vec::new();
                if stream.read_to_end(&mut sink).await.is_ok() || !sink.is_empty() {
                    handshakes.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    println!(
        "https new connection per request: {:.0} requests/s over {} s (TLS handshake each; {} certificates cached)",
        handshakes.load(Ordering::Relaxed) as f64 / TLS_RUN.as_secs_f64(),
        TLS_RUN.as_secs(),
        sim.certificates().issued()
    );
    println!(
        "memory: peak RSS (VmHWM) {} MB at the end",
        status_kb("VmHWM:") / 1024
    );
    sim.shutdown().await;
    Ok(())
}

/// One keep-alive connection sending GETs until `deadline`; returns each latency in microseconds.
async fn load(
    addr: SocketAddr,
    hosts: Arc<Vec<String>>,
    deadline: Instant,
    seed: u64,
    errors: Arc<AtomicU64>,
) -> Vec<u32> {
    let mut latencies = Vec::with_capacity(1 << 16);
    let mut rng = 0x2545_f491_4f6c_dd1du64 ^ seed.wrapping_mul(0x9e37_79b9);
    let mut stream: Option<TcpStream> = None;
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut request = Vec::with_capacity(256);
    while Instant::now() < deadline {
        let conn = match &mut stream {
            Some(conn) => conn,
            None => match TcpStream::connect(addr).await {
                Ok(conn) => {
                    let _ = conn.set_nodelay(true);
                    buf.clear();
                    stream.insert(conn)
                }
                Err(_) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let r = next(&mut rng);
        let host = &hosts[(r % hosts.len() as u64) as usize];
        let path = if r & (1 << 40) == 0 {
            "/robots.txt"
        } else {
            "/.well-known/nodeinfo"
        };
        request.clear();
        request.extend_from_slice(b"GET ");
        request.extend_from_slice(path.as_bytes());
        request.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        request.extend_from_slice(host.as_bytes());
        request.extend_from_slice(b"\r\nUser-Agent: fedicensus-bench\r\nAccept: */*\r\n\r\n");
        let started = Instant::now();
        let ok = conn.write_all(&request).await.is_ok() && read_response(conn, &mut buf).await;
        if ok {
            latencies.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        } else {
            errors.fetch_add(1, Ordering::Relaxed);
            stream = None;
        }
    }
    latencies
}

/// Reads one response (headers, then `Content-Length` bytes of body). False on any problem,
/// including a status other than 200 (every host asked is healthy).
async fn read_response(conn: &mut TcpStream, buf: &mut BytesMut) -> bool {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = &buf[..end];
            if !head.starts_with(b"HTTP/1.1 200 ") {
                return false;
            }
            let Some(len) = content_length(head) else {
                return false;
            };
            let total = end + 4 + len;
            while buf.len() < total {
                match conn.read_buf(buf).await {
                    Ok(0) | Err(_) => return false,
                    Ok(_) => {}
                }
            }
            buf.advance(total);
            return true;
        }
        match conn.read_buf(buf).await {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

fn content_length(head: &[u8]) -> Option<usize> {
    let head = std::str::from_utf8(head).ok()?;
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}
