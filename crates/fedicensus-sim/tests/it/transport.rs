//! The transport, through a real client on loopback: every failure that lives below HTTP (DNS,
//! connections, TLS, timing, body sizes) as a crawler meets it, plus the plumbing tests rely on
//! (SNI certificates on one sniffing port, the request log, latency, the control host).

use crate::support::{
    mid_migration, serve_world, spawn_sim, spawn_sim_with, test_serve_config, world_with, TestSim,
};
use chrono::{TimeZone, Utc};
use fedicensus_sim::serve::dns::Answer;
use fedicensus_sim::serve::{Scheme, ServeConfig, CONTROL_HOST};
use fedicensus_sim::world::{BAIT_LOOPBACK_ADDR, REFUSED_ADDR};
use fedicensus_sim::{Failure, World};
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RData, RecordType};
use std::error::Error as _;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The error and all its sources, for assertions on what went wrong.
fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(" / ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// The first server of a one-failure world.
fn only_server(sim: &TestSim, failure: Failure) -> String {
    sim.server_with(failure)
        .unwrap_or_else(|| panic!("a world where every server has {failure} has one"))
        .domain
        .clone()
}

/// The URL of the NodeInfo document `host` links from its well-known document.
async fn nodeinfo_url(sim: &TestSim, host: &str) -> String {
    let jrd: serde_json::Value = sim
        .client
        .get(sim.url(true, host, "/.well-known/nodeinfo"))
        .send()
        .await
        .expect("the well-known document answers")
        .json()
        .await
        .expect("the well-known document is JSON");
    jrd["links"]
        .as_array()
        .and_then(|links| links.last())
        .and_then(|link| link["href"].as_str())
        .expect("a NodeInfo link")
        .to_string()
}

#[tokio::test]
async fn unknown_names_get_nxdomain() {
    let sim = spawn_sim(world_with(12, Some(Failure::NoSuchDomain)), mid_migration()).await;
    assert_eq!(
        sim.dns_a("no-such-host.example").await,
        Answer::NoSuchDomain
    );
    let host = only_server(&sim, Failure::NoSuchDomain);
    assert_eq!(sim.dns_a(&host).await, Answer::NoSuchDomain);
    let error = sim
        .client
        .get(sim.url(true, &host, "/.well-known/nodeinfo"))
        .send()
        .await
        .expect_err("a name that does not exist cannot be fetched");
    assert!(error.is_connect(), "{}", chain(&error));
    assert!(chain(&error).contains("NXDOMAIN"), "{}", chain(&error));
    assert_eq!(sim.sim.total_requests(), 0);
}

#[tokio::test]
async fn aaaa_queries_for_existing_names_are_empty_not_nxdomain() {
    let sim = spawn_sim(world_with(12, None), mid_migration()).await;
    let host = sim.healthy_server().domain.clone();
    let answer =
        fedicensus_sim::serve::dns::query(sim.sim.dns_addr(), &host, true, Duration::from_secs(2))
            .await
            .expect("the DNS server answers");
    assert_eq!(answer, Answer::Addresses(Vec::new()));
}

#[tokio::test]
async fn dns_answers_over_tcp_too() {
    let sim = spawn_sim(world_with(12, None), mid_migration()).await;
    let host = sim.healthy_server().domain.clone();
    let mut query = Message::query();
    query.add_query(Query::query(
        Name::from_ascii(format!("{host}.")).expect("a valid name"),
        RecordType::A,
    ));
    let packet = query.to_vec().expect("the query encodes");
    let mut stream = tokio::net::TcpStream::connect(sim.sim.dns_addr())
        .await
        .expect("DNS listens on TCP");
    let mut framed = (packet.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&packet);
    stream.write_all(&framed).await.expect("the query is sent");
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.expect("a length prefix");
    let mut reply = vec![0u8; u16::from_be_bytes(len) as usize];
    stream.read_exact(&mut reply).await.expect("a reply");
    let reply = Message::from_vec(&reply).expect("the reply decodes");
    assert_eq!(reply.metadata.id, query.metadata.id);
    let addresses: Vec<_> = reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect();
    assert_eq!(addresses, vec![Ipv4Addr::LOCALHOST]);
}

#[tokio::test]
async fn refused_servers_resolve_where_nothing_listens() {
    let sim = spawn_sim(world_with(12, Some(Failure::Refused)), mid_migration()).await;
    let host = only_server(&sim, Failure::Refused);
    assert_eq!(
        sim.dns_a(&host).await,
        Answer::Addresses(vec![IpAddr::V4(REFUSED_ADDR)])
    );
    let error = sim
        .client
        .get(sim.url(false, &host, "/robots.txt"))
        .send()
        .await
        .expect_err("nothing listens on the refused address");
    assert!(error.is_connect(), "{}", chain(&error));
    assert!(
        chain(&error).to_lowercase().contains("refused"),
        "{}",
        chain(&error)
    );
}

#[tokio::test]
async fn hanging_servers_accept_and_never_answer() {
    let sim = spawn_sim(world_with(12, Some(Failure::Hang)), mid_migration()).await;
    let host = only_server(&sim, Failure::Hang);
    let client = sim
        .client_builder()
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a client");
    let started = Instant::now();
    let error = client
        .get(sim.url(true, &host, "/.well-known/nodeinfo"))
        .send()
        .await
        .expect_err("a hanging server never answers");
    assert!(error.is_timeout(), "{}", chain(&error));
    assert!(started.elapsed() >= Duration::from_millis(450));
    // The connection was accepted and the request read: it is in the log, with no status.
    let logged = sim.sim.requests();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].status, 0);
    assert_eq!(logged[0].host, host);
}

#[tokio::test]
async fn hangs_end_by_closing_the_connection() {
    let serve = ServeConfig {
        hang_for: Duration::from_millis(300),
        ..test_serve_config()
    };
    let sim = spawn_sim_with(world_with(12, Some(Failure::Hang)), mid_migration(), serve).await;
    let host = only_server(&sim, Failure::Hang);
    let started = Instant::now();
    let error = sim
        .client
        .get(sim.url(false, &host, "/robots.txt"))
        .send()
        .await
        .expect_err("the server closes without answering");
    assert!(!error.is_timeout(), "{}", chain(&error));
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn dripping_servers_are_slow_enough_for_a_timeout_to_fire() {
    let serve = ServeConfig {
        max_drip: Duration::from_secs(2),
        ..test_serve_config()
    };
    let sim = spawn_sim_with(world_with(12, Some(Failure::Drip)), mid_migration(), serve).await;
    let host = only_server(&sim, Failure::Drip);
    let url = sim.url(true, &host, "/.well-known/nodeinfo");

    let impatient = sim
        .client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("a client");
    let error = async { impatient.get(&url).send().await?.bytes().await }
        .await
        .expect_err("the drip outlasts the timeout");
    assert!(error.is_timeout(), "{}", chain(&error));

    let started = Instant::now();
    let response = sim
        .client
        .get(&url)
        .send()
        .await
        .expect("headers come at once");
    let headers_after = started.elapsed();
    let body = response
        .bytes()
        .await
        .expect("a patient client gets it all");
    assert!(!body.is_empty());
    assert!(
        headers_after < Duration::from_millis(300),
        "{headers_after:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bad_tls_servers_are_rejected_but_answer_plain_http() {
    let sim = spawn_sim(world_with(12, Some(Failure::BadTls)), mid_migration()).await;
    let host = only_server(&sim, Failure::BadTls);
    let error = sim
        .client
        .get(sim.url(true, &host, "/robots.txt"))
        .send()
        .await
        .expect_err("a certificate from an unknown CA is refused");
    assert!(error.is_connect(), "{}", chain(&error));
    assert!(
        chain(&error).to_lowercase().contains("certificate"),
        "{}",
        chain(&error)
    );
    let response = sim
        .client
        .get(sim.url(false, &host, "/robots.txt"))
        .send()
        .await
        .expect("plain HTTP still answers");
    assert!(response.status().as_u16() < 500);
}

#[tokio::test]
async fn huge_bodies_arrive_in_full_unless_capped() {
    let sim = spawn_sim(world_with(12, Some(Failure::HugeBody)), mid_migration()).await;
    let host = only_server(&sim, Failure::HugeBody);
    let url = nodeinfo_url(&sim, &host).await;
    let mut response = sim.client.get(&url).send().await.expect("headers");
    let declared = response.content_length().expect("a declared length");
    assert!(declared >= 10_000_000, "{declared} bytes");
    // A capped reader stops after 5 MB.
    let cap = 5_000_000;
    let mut read = 0usize;
    while let Some(chunk) = response.chunk().await.expect("the body streams") {
        read += chunk.len();
        if read > cap {
            break;
        }
    }
    assert!(read > cap);
    // An uncapped one gets every byte.
    let body = sim
        .client
        .get(&url)
        .send()
        .await
        .expect("headers")
        .bytes()
        .await
        .expect("the whole body");
    assert_eq!(body.len() as u64, declared);
}

#[tokio::test]
async fn gzip_bombs_are_small_on_the_wire_and_huge_inflated() {
    let sim = spawn_sim(world_with(12, Some(Failure::GzipBomb)), mid_migration()).await;
    let host = only_server(&sim, Failure::GzipBomb);
    let url = nodeinfo_url(&sim, &host).await;

    let raw = sim
        .client_builder()
        .no_gzip()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let response = raw.get(&url).send().await.expect("headers");
    assert_eq!(
        response
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let compressed = response.bytes().await.expect("the compressed body");
    assert!(compressed.len() < 4_000_000, "{} bytes", compressed.len());

    // A client that inflates and caps what it reads stops early.
    let mut response = sim.client.get(&url).send().await.expect("headers");
    let cap = 20_000_000;
    let mut inflated = 0usize;
    while let Some(chunk) = response.chunk().await.expect("the body inflates") {
        inflated += chunk.len();
        if inflated > cap {
            break;
        }
    }
    assert!(
        inflated > cap,
        "{compressed_len} bytes inflated to only {inflated}",
        compressed_len = compressed.len()
    );
}

#[tokio::test]
async fn ssrf_bait_resolves_to_private_loopback_and_link_local_addresses() {
    for (failure, check) in [
        (
            Failure::SsrfPrivate,
            (|ip: Ipv4Addr| ip.is_private()) as fn(Ipv4Addr) -> bool,
        ),
        (Failure::SsrfLoopback, |ip: Ipv4Addr| {
            ip == BAIT_LOOPBACK_ADDR
        }),
        (Failure::SsrfLinkLocal, |ip: Ipv4Addr| ip.is_link_local()),
    ] {
        let sim = spawn_sim(world_with(6, Some(failure)), mid_migration()).await;
        let host = only_server(&sim, failure);
        match sim.dns_a(&host).await {
            Answer::Addresses(ips) => {
                assert_eq!(ips.len(), 1);
                match ips[0] {
                    IpAddr::V4(ip) => assert!(check(ip), "{failure}: {ip}"),
                    other => panic!("{failure}: {other}"),
                }
            }
            other => panic!("{failure}: {other:?}"),
        }
        sim.sim.shutdown().await;
    }
}

#[tokio::test]
async fn connections_to_loopback_bait_are_logged() {
    let sim = spawn_sim(world_with(6, Some(Failure::SsrfLoopback)), mid_migration()).await;
    assert!(sim.sim.bait_hits().is_empty());
    let host = only_server(&sim, Failure::SsrfLoopback);
    // A careless client: it connects wherever DNS says (the harness resolver allows loopback).
    let _ = sim.client.get(sim.url(false, &host, "/")).send().await;
    let hits = sim.sim.bait_hits();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].local.ip(), IpAddr::V4(BAIT_LOOPBACK_ADDR));
    assert_eq!(sim.sim.total_requests(), 0);
}

#[tokio::test]
async fn https_and_http_share_one_port() {
    let sim = spawn_sim(world_with(12, None), mid_migration()).await;
    let host = sim.healthy_server().domain.clone();
    for https in [true, false] {
        let response = sim
            .client
            .get(sim.url(https, &host, "/.well-known/nodeinfo"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("https={https}: {}", chain(&e)));
        assert_eq!(response.remote_addr(), Some(sim.sim.addr()));
        assert!(response.status().is_success(), "{}", response.status());
    }
    let schemes: Vec<Scheme> = sim.sim.requests().iter().map(|r| r.scheme).collect();
    assert_eq!(schemes, vec![Scheme::Https, Scheme::Http]);
    assert_eq!(sim.sim.certificates().issued(), 1);
}

#[tokio::test]
async fn unknown_hosts_get_421_and_no_certificate() {
    let sim = spawn_sim(world_with(6, None), mid_migration()).await;
    let client = sim
        .client_builder()
        .resolve("not-in-the-world.example", sim.sim.addr())
        .build()
        .expect("a client");
    let response = client
        .get("http://not-in-the-world.example/")
        .send()
        .await
        .expect("plain HTTP answers");
    assert_eq!(response.status().as_u16(), 421);
    let error = client
        .get("https://not-in-the-world.example/")
        .send()
        .await
        .expect_err("no certificate for an unknown name");
    assert!(error.is_connect(), "{}", chain(&error));
}

#[tokio::test]
async fn the_request_log_records_host_path_time_and_client() {
    let sim = spawn_sim(world_with(12, None), mid_migration()).await;
    let host = sim.healthy_server().domain.clone();
    let before = Utc::now();
    let response = sim
        .client
        .get(sim.url(true, &host, "/robots.txt?x=1"))
        .send()
        .await
        .expect("robots.txt answers");
    let status = response.status().as_u16();
    let after = Utc::now();
    let logged = sim.sim.requests();
    assert_eq!(logged.len(), 1);
    let entry = &logged[0];
    assert_eq!(entry.host, host);
    assert_eq!(entry.path, "/robots.txt");
    assert_eq!(entry.query.as_deref(), Some("x=1"));
    assert_eq!(entry.method, "GET");
    assert_eq!(entry.scheme, Scheme::Https);
    assert_eq!(entry.status, status);
    assert!(entry
        .user_agent
        .as_deref()
        .is_some_and(|ua| ua.starts_with("fedicensus-sim-tests")));
    assert!(entry.remote.ip().is_loopback());
    assert!(before <= entry.wall && entry.wall <= after);
    assert!((entry.sim - mid_migration()).num_seconds().abs() < 60);
    assert_eq!(sim.sim.requests_for(&host), 1);
    let csv = String::from_utf8(sim.sim.requests_csv()).expect("UTF-8");
    assert!(csv
        .lines()
        .nth(1)
        .is_some_and(|l| l.contains("/robots.txt")));
}

#[tokio::test]
async fn latency_is_applied_before_answering() {
    let world = Arc::new(World::generate(world_with(40, None)));
    let serve = ServeConfig {
        apply_latency: true,
        ..test_serve_config()
    };
    let sim = serve_world(world, mid_migration(), serve).await;
    let now = sim.sim.clock().now();
    let server = sim
        .world
        .servers()
        .iter()
        .filter(|s| sim.world.state(s.id, now).alive && s.latency_ms >= 30.0)
        .min_by(|a, b| a.latency_ms.total_cmp(&b.latency_ms))
        .expect("a server with some latency");
    let expected = Duration::from_secs_f64(f64::from(server.latency_ms) * 0.85 / 1000.0);
    let host = server.domain.clone();
    let url = sim.url(false, &host, "/robots.txt");
    // Warm up the connection so only the simulated round trip is measured.
    let _ = sim.client.get(&url).send().await.expect("an answer");
    let started = Instant::now();
    let _ = sim.client.get(&url).send().await.expect("an answer");
    assert!(
        started.elapsed() >= expected,
        "{:?} < {expected:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_clock_is_set_through_the_control_host() {
    let sim = spawn_sim(world_with(6, None), mid_migration()).await;
    let response = sim
        .client
        .post(format!(
            "https://{CONTROL_HOST}/clock?at=2022-12-01T00:00:00Z"
        ))
        .send()
        .await
        .expect("the control host answers over HTTPS");
    assert_eq!(response.status().as_u16(), 200);
    let target = Utc
        .with_ymd_and_hms(2022, 12, 1, 0, 0, 0)
        .single()
        .expect("a date");
    let drift = sim.sim.clock().now() - target;
    assert!(drift.num_seconds() >= 0 && drift.num_seconds() < 10);

    let bad = sim
        .client
        .post(format!("http://{CONTROL_HOST}/clock?at=tomorrow"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(bad.status().as_u16(), 400);
    assert!(bad.text().await.expect("a message").contains("RFC 3339"));

    let pem = sim
        .client
        .get(format!("http://{CONTROL_HOST}/ca.pem"))
        .send()
        .await
        .expect("the CA")
        .text()
        .await
        .expect("text");
    assert_eq!(pem, sim.sim.ca_pem());
    let world: serde_json::Value = sim
        .client
        .get(format!("http://{CONTROL_HOST}/world"))
        .send()
        .await
        .expect("the summary")
        .json()
        .await
        .expect("JSON");
    assert_eq!(world["servers"], 6);
    // Control requests are the experimenter's, not the crawler's: they are not logged.
    assert_eq!(sim.sim.total_requests(), 0);
}

#[tokio::test]
async fn the_hosts_file_lists_loopback_names_only() {
    let sim = spawn_sim(world_with(12, Some(Failure::SsrfPrivate)), mid_migration()).await;
    let hosts = sim.sim.hosts_file();
    assert!(hosts.contains(&format!("127.0.0.1 {CONTROL_HOST}")));
    let host = only_server(&sim, Failure::SsrfPrivate);
    assert!(!hosts.contains(&host), "{hosts}");
    let sim = spawn_sim(world_with(12, None), mid_migration()).await;
    let host = sim.healthy_server().domain.clone();
    let path = std::env::temp_dir().join(format!("fedicensus-hosts-{}", std::process::id()));
    sim.sim
        .write_hosts_file(&path)
        .expect("the hosts file is written");
    let written = std::fs::read_to_string(&path).expect("readable");
    let _ = std::fs::remove_file(&path);
    assert!(
        written.lines().any(|l| l == format!("127.0.0.1 {host}")),
        "{written}"
    );
}

#[tokio::test]
async fn fixed_port_listeners_speak_one_protocol_each() {
    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port()
    }
    let serve = ServeConfig {
        http_port: Some(free_port()),
        https_port: Some(free_port()),
        ..test_serve_config()
    };
    let sim = spawn_sim_with(world_with(6, None), mid_migration(), serve).await;
    let host = sim.healthy_server().domain.clone();
    let http = sim.sim.http_addr().expect("an HTTP port");
    let https = sim.sim.https_addr().expect("an HTTPS port");
    let client = sim
        .client_builder()
        .resolve(&host, http)
        .build()
        .expect("a client");
    let response = client
        .get(format!("http://{host}:{}/robots.txt", http.port()))
        .send()
        .await
        .expect("plain HTTP on the HTTP port");
    assert!(response.status().as_u16() < 500);
    let response = client
        .get(format!("https://{host}:{}/robots.txt", https.port()))
        .send()
        .await
        .expect("TLS on the HTTPS port");
    assert!(response.status().as_u16() < 500);
    assert!(sim.sim.how_to_connect().contains(&https.to_string()));
}

#[tokio::test]
async fn the_truth_is_served_by_the_control_host() {
    let sim = spawn_sim(world_with(12, None), mid_migration()).await;
    let response = sim
        .client
        .get(format!("http://{CONTROL_HOST}/truth.csv?at=2022-11-01"))
        .send()
        .await
        .expect("the control host answers");
    assert_eq!(response.status().as_u16(), 200);
    let csv = response.text().await.expect("text");
    let mut expected = Vec::new();
    let at = Utc
        .with_ymd_and_hms(2022, 11, 1, 0, 0, 0)
        .single()
        .expect("a date");
    fedicensus_sim::truth::write_csv(&sim.world, at, &mut expected).expect("the truth writes");
    assert_eq!(csv.as_bytes(), expected.as_slice());
    let bad = sim
        .client
        .get(format!("http://{CONTROL_HOST}/truth.csv?at=soon"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(bad.status().as_u16(), 400);
}

#[tokio::test]
async fn shutdown_ends_hanging_connections_promptly() {
    let serve = ServeConfig {
        hang_for: Duration::from_secs(60),
        ..test_serve_config()
    };
    let sim = spawn_sim_with(world_with(6, Some(Failure::Hang)), mid_migration(), serve).await;
    let host = only_server(&sim, Failure::Hang);
    let client = sim.client.clone();
    let url = sim.url(false, &host, "/robots.txt");
    let request = tokio::spawn(async move { client.get(url).send().await });
    while sim.sim.total_requests() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    sim.sim.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let outcome = request.await.expect("the request task ends");
    assert!(
        outcome.is_err(),
        "a hanging server never answers, even at shutdown"
    );
}

#[tokio::test]
async fn listening_on_every_address_is_refused() {
    let world = Arc::new(World::generate(world_with(6, None)));
    let serve = ServeConfig {
        listen: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        ..test_serve_config()
    };
    let error = fedicensus_sim::serve::start(
        world,
        fedicensus_sim::SimClock::starting_at(mid_migration()),
        serve,
    )
    .await
    .expect_err("0.0.0.0 would answer on the refused address");
    assert!(error.to_string().contains("127.0.0.1"), "{error}");
}
