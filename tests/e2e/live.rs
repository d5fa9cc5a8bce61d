//! Real server software, replayed: for each folder of `fixtures/live/` (documents captured from
//! real, unmodified servers, with their status and headers; see its README), a loopback server
//! answers exactly those bytes and headers, the real crawler visits it over a month, storage
//! records every visit, and the test checks the observation and what the census derives: the
//! server's status, whether it is up, whether it may be named, and its figures.
//!
//! The replay server answers only the paths a folder holds (404 otherwise) and one name server
//! resolves every name to it, so the crawler sees each program as a census would on the internet.

use chrono::{DateTime, Duration, TimeZone, Utc};
use fedicensus_core::{Host, Metric, Observation, Outcome, Source};
use fedicensus_crawler::config::EXAMPLE_CONTACT_URL;
use fedicensus_crawler::{Crawler, CrawlerConfig, NetworkConfig};
use fedicensus_storage::{ServerSnapshot, ServerStatus, Storage};
use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// One captured answer.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Headers a replay must not repeat: the replay frames its own bodies and closes its connections.
const HOP_BY_HOP: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "content-encoding",
];

fn live_dir(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/live")
        .join(folder)
}

/// Reads a captured head (`HTTP/1.1 200 OK` then headers), as curl wrote it.
fn parse_head(text: &str) -> (u16, Vec<(String, String)>) {
    let mut lines = text.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !HOP_BY_HOP.contains(&k.to_ascii_lowercase().as_str()))
        .collect();
    (status, headers)
}

/// The answer a folder holds under `stem`, in either layout the captures use:
/// `stem.body` with `stem.headers` (the full head) or `stem.status`; or `stem.json` with
/// `stem.hdr`.
fn answer(dir: &Path, stem: &str) -> Option<Answer> {
    let read = |ext: &str| std::fs::read(dir.join(format!("{stem}.{ext}"))).ok();
    let body = read("body").or_else(|| read("json"))?;
    let (status, headers) = if let Some(head) = read("headers").or_else(|| read("hdr")) {
        parse_head(&String::from_utf8_lossy(&head))
    } else {
        let status = read("status")
            .and_then(|s| String::from_utf8_lossy(&s).trim().parse().ok())
            .unwrap_or(200);
        // A capture without its head: say what the body is, as the program did.
        let json = matches!(
            body.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{' | b'[')
        );
        let kind = if json {
            "application/json"
        } else if body.starts_with(b"<") {
            "text/html; charset=utf-8"
        } else {
            "text/plain; charset=utf-8"
        };
        (status, vec![("Content-Type".to_string(), kind.to_string())])
    };
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// A replayed server: path (with query) to answer, for every name.
#[derive(Debug, Default, Clone)]
struct Replay {
    /// (host or "*", path) to answer.
    answers: HashMap<(String, String), Answer>,
}

impl Replay {
    fn add(&mut self, host: &str, path: &str, answer: Option<Answer>) {
        if let Some(answer) = answer {
            self.answers
                .insert((host.to_string(), path.to_string()), answer);
        }
    }

    fn get(&self, host: &str, path: &str) -> Option<&Answer> {
        self.answers
            .get(&(host.to_string(), path.to_string()))
            .or_else(|| self.answers.get(&("*".to_string(), path.to_string())))
    }

    /// Everything a folder of the live captures holds, for every name (`*`), under the paths
    /// the program serves them at.
    fn of_folder(folder: &str) -> Replay {
        let dir = live_dir(folder);
        let mut r = Replay::default();
        let first = |stems: &[&str]| stems.iter().find_map(|s| answer(&dir, s));
        r.add("*", "/robots.txt", first(&["robots.txt", "robots_txt"]));
        r.add(
            "*",
            "/.well-known/nodeinfo",
            first(&["wellknown", "_well-known_nodeinfo"]),
        );
        r.add("*", "/api/v1/instance", first(&["api_v1_instance"]));
        r.add("*", "/api/v2/instance", first(&["api_v2_instance"]));
        r.add(
            "*",
            "/api/v1/instance/activity",
            first(&["api_v1_instance_activity"]),
        );
        r.add(
            "*",
            "/api/v1/instance/peers",
            first(&["api_v1_instance_peers"]),
        );
        // The NodeInfo document, wherever the well-known document points.
        let links = r
            .get("*", "/.well-known/nodeinfo")
            .map(|a| String::from_utf8_lossy(&a.body).to_string())
            .unwrap_or_default();
        let hrefs: Vec<String> = serde_json::from_str::<serde_json::Value>(&links)
            .ok()
            .and_then(|v| v["links"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|l| l["href"].as_str().map(str::to_string))
            .collect();
        for href in hrefs {
            let path = href
                .split_once("://")
                .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
                .unwrap_or_default();
            let stem = if path.contains("2.1") {
                "nodeinfo_2_1"
            } else {
                "nodeinfo_2_0"
            };
            r.add("*", &path, first(&[stem, "nodeinfo"]));
        }
        r
    }

    /// The host the captures name for themselves (the well-known document's link).
    fn own_host(&self) -> String {
        let links = self
            .get("*", "/.well-known/nodeinfo")
            .map(|a| String::from_utf8_lossy(&a.body).to_string())
            .unwrap_or_default();
        let start = links.find("://").map(|i| i + 3).unwrap_or(0);
        links[start..]
            .split(['/', '"'])
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

/// A running replay: its HTTP address and its name server.
struct Running {
    http: SocketAddr,
    dns: SocketAddr,
    /// Every request served: (host, path).
    log: Arc<Mutex<Vec<(String, String)>>>,
}

async fn serve(replay: Replay) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let http = listener.local_addr().expect("an address");
    let udp = UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let dns = udp.local_addr().expect("an address");
    let log = Arc::new(Mutex::new(Vec::new()));
    let replay = Arc::new(replay);
    let served = log.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let replay = replay.clone();
            let served = served.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                    // A TLS ClientHello is not HTTP: hang up, as a plain-HTTP server does.
                    if head.first() == Some(&0x16) {
                        return;
                    }
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let path = text
                    .lines()
                    .next()
                    .and_then(|l| l.split_whitespace().nth(1))
                    .unwrap_or("/")
                    .to_string();
                let host = text
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("host").then(|| v.trim().to_string())
                    })
                    .unwrap_or_default();
                let host = host.split(':').next().unwrap_or_default().to_string();
                served
                    .lock()
                    .expect("the log's lock")
                    .push((host.clone(), path.clone()));
                let not_found = Answer {
                    status: 404,
                    headers: vec![("Content-Type".into(), "text/plain".into())],
                    body: b"Not found".to_vec(),
                };
                let answer = replay.get(&host, &path).unwrap_or(&not_found);
                let mut out = format!("HTTP/1.1 {} Replayed\r\n", answer.status);
                for (k, v) in &answer.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str(&format!(
                    "Content-Length: {}\r\nConnection: close\r\n\r\n",
                    answer.body.len()
                ));
                let _ = stream.write_all(out.as_bytes()).await;
                let _ = stream.write_all(&answer.body).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = udp.recv_from(&mut buf).await {
            let Ok(request) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            if request.metadata.message_type != MessageType::Query || request.queries.len() != 1 {
                continue;
            }
            let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
            reply.metadata.recursion_desired = request.metadata.recursion_desired;
            reply.metadata.recursion_available = true;
            let query = request.queries[0].clone();
            reply.add_query(query.clone());
            if query.query_type() == RecordType::A {
                reply.add_answer(Record::from_rdata(
                    query.name().clone(),
                    60,
                    RData::A(A(Ipv4Addr::LOCALHOST)),
                ));
            }
            if let Ok(bytes) = reply.to_vec() {
                let _ = udp.send_to(&bytes, from).await;
            }
        }
    });
    Running { http, dns, log }
}

/// 7 November 2026, when the captures were made.
fn captured() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 7, 0, 30, 0)
        .single()
        .expect("a valid instant")
}

/// The visits of one month: days 0, 7, 14, 21 and 30.
const VISIT_DAYS: [i64; 5] = [0, 7, 14, 21, 30];

/// What a month of visits to `host` gave, and what storage made of it on the last day.
struct Month {
    observations: Vec<Observation>,
    snapshot: ServerSnapshot,
    listable: bool,
    log: Vec<(String, String)>,
}

async fn month_of(replay: Replay, host: &str) -> anyhow::Result<Month> {
    let running = serve(replay).await;
    let mut config = CrawlerConfig::new(EXAMPLE_CONTACT_URL);
    config.network = NetworkConfig {
        nameserver: Some(running.dns),
        port: Some(running.http.port()),
        extra_ca_pem: None,
        allow_addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        only_allowed_addresses: true,
        http_fallback_on_bad_certificate: false,
    };
    config.min_interval = StdDuration::from_millis(10);
    config.max_crawl_delay = StdDuration::from_millis(10);
    config.connect_timeout = StdDuration::from_secs(2);
    config.request_timeout = StdDuration::from_secs(3);
    config.visit_timeout = StdDuration::from_secs(20);
    let day = Arc::new(Mutex::new(captured()));
    let clock = day.clone();
    let crawler = Crawler::new(config)?
        .with_clock(Arc::new(move || *clock.lock().expect("the clock's lock")));

    let dir = std::env::temp_dir().join(format!(
        "fedicensus-live-{}-{}",
        host.replace('.', "-"),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("census.db");
    let _ = std::fs::remove_file(&path);
    let storage = Storage::connect(&crate::support::sqlite_url(&path)).await?;
    let host = Host::parse(host)?;
    let mut observations = Vec::new();
    for d in VISIT_DAYS {
        *day.lock().expect("the clock's lock") = captured() + Duration::days(d);
        let observation = crawler.visit(&host).await;
        storage.record_observation(&observation, None).await?;
        observations.push(observation);
    }
    let last = (captured() + Duration::days(30)).date_naive();
    let snapshot = storage
        .snapshot(last)
        .await?
        .into_iter()
        .find(|s| s.host == host)
        .expect("the visited server is in the snapshot");
    let history = storage.server_history(&host).await?;
    let listable = history.listable;
    storage.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    let log = running.log.lock().expect("the log's lock").clone();
    Ok(Month {
        observations,
        snapshot,
        listable,
        log,
    })
}

fn measured(o: &Observation, metric: Metric, source: Source) -> Option<u64> {
    o.measurements
        .iter()
        .find(|m| m.metric == metric && m.source == source)
        .map(|m| m.value)
}

fn alive_and_listed(month: &Month) {
    for o in &month.observations {
        assert_eq!(o.outcome, Outcome::Ok, "{:?}", month.log);
    }
    assert_eq!(month.snapshot.status, ServerStatus::Alive);
    assert!(month.snapshot.up && month.snapshot.listable && month.listable);
}

#[tokio::test]
async fn takahe_is_read_with_its_monthly_actives_and_its_peers() -> anyhow::Result<()> {
    let replay = Replay::of_folder("takahe-0.11.0");
    let host = replay.own_host();
    let month = month_of(replay, &host).await?;
    alive_and_listed(&month);
    let o = &month.observations[0];
    assert_eq!(
        o.software.as_ref().map(|s| s.raw_name.as_str()),
        Some("takahe")
    );
    assert_eq!(measured(o, Metric::UsersTotal, Source::NodeInfo), Some(3));
    assert_eq!(measured(o, Metric::LocalPosts, Source::NodeInfo), Some(9));
    // Monthly actives come from its /api/v2/instance, read though it is not Mastodon.
    assert_eq!(
        measured(o, Metric::UsersActiveMonth, Source::InstanceV2),
        Some(4)
    );
    assert_eq!(o.best(Metric::UsersActiveMonth), Some(4));
    // Its instance API counts every local domain (4 users), NodeInfo one domain (3).
    assert_eq!(measured(o, Metric::UsersTotal, Source::InstanceV1), Some(4));
    let peers: Vec<&str> = o.peers.iter().flatten().map(Host::as_str).collect();
    assert_eq!(peers, ["bovine.probe.example.com", "mbp.probe.example.com"]);
    assert!(!o.activity.is_empty(), "its weekly activity is read");
    assert_eq!(month.snapshot.users_total, Some(3));
    assert_eq!(month.snapshot.users_active_month, Some(4));
    Ok(())
}

#[tokio::test]
async fn a_takahe_opt_out_in_robots_txt_is_an_alive_server_never_named() -> anyhow::Result<()> {
    let mut replay = Replay::of_folder("takahe-0.11.0");
    let host = replay.own_host();
    let dir = live_dir("takahe-0.11.0");
    replay.add(
        "*",
        "/robots.txt",
        Some(Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: std::fs::read(dir.join("robots.txt-with-fedicensus-opt-out"))?,
        }),
    );
    let month = month_of(replay, &host).await?;
    for o in &month.observations {
        assert_eq!(o.outcome, Outcome::RobotsDisallowed);
        assert!(o.measurements.is_empty());
    }
    // Nothing but robots.txt was asked.
    assert!(month.log.iter().all(|(_, path)| path == "/robots.txt"));
    // A month later: alive, up, never named, no figures.
    assert_eq!(month.snapshot.status, ServerStatus::Alive);
    assert!(month.snapshot.up && month.snapshot.robots_opted_out);
    assert!(!month.snapshot.listable && !month.listable);
    assert_eq!(month.snapshot.users_total, None);
    Ok(())
}

#[tokio::test]
async fn a_second_takahe_domain_is_read_on_its_own_host() -> anyhow::Result<()> {
    let dir = live_dir("takahe-0.11.0/second-domain");
    let main = "takahe.probe.example.com";
    let second = "takahe2.probe.example.com";
    let json = |file: &str| -> anyhow::Result<Option<Answer>> {
        Ok(Some(Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: std::fs::read(dir.join(file))?,
        }))
    };
    let mut replay = Replay::of_folder("takahe-0.11.0");
    // Each domain's own documents: both well-known documents link to the main domain, and
    // the same path answers with each domain's own figures.
    replay.add(
        main,
        "/.well-known/nodeinfo",
        json(&format!("{main}.wellknown.json"))?,
    );
    replay.add(
        main,
        "/nodeinfo/2.0/",
        json(&format!("{main}.nodeinfo.json"))?,
    );
    replay.add(
        second,
        "/.well-known/nodeinfo",
        json(&format!("{second}.wellknown.json"))?,
    );
    replay.add(
        second,
        "/nodeinfo/2.0/",
        json("takahe2-nodeinfo-2.0-same-host.json")?,
    );
    let month = month_of(replay, second).await?;
    alive_and_listed(&month);
    let o = &month.observations[0];
    assert_eq!(measured(o, Metric::UsersTotal, Source::NodeInfo), Some(1));
    assert_eq!(measured(o, Metric::LocalPosts, Source::NodeInfo), Some(5));
    assert_eq!(o.nodeinfo_elsewhere.as_ref().map(Host::as_str), Some(main));
    // The link was never followed: every request went to the visited host.
    assert!(
        month.log.iter().all(|(h, _)| h == second),
        "{:?}",
        month.log
    );
    assert_eq!(month.snapshot.users_total, Some(1));
    Ok(())
}

#[tokio::test]
async fn gotosocials_default_robots_txt_is_an_opt_out_not_a_death() -> anyhow::Result<()> {
    let replay = Replay::of_folder("gotosocial-0.7.1");
    let host = replay.own_host();
    let month = month_of(replay, &host).await?;
    for o in &month.observations {
        // Disallow: /.well-known/ for every agent: NodeInfo may not be read.
        assert_eq!(o.outcome, Outcome::RobotsDisallowed);
    }
    assert!(month.log.iter().all(|(_, path)| path == "/robots.txt"));
    assert_eq!(month.snapshot.status, ServerStatus::Alive);
    assert!(month.snapshot.up && !month.snapshot.listable && !month.listable);
    Ok(())
}

#[tokio::test]
async fn mitra_is_read_through_its_mastodon_api_with_its_open_peer_list() -> anyhow::Result<()> {
    let replay = Replay::of_folder("mitra-5.9.1");
    let host = replay.own_host();
    let month = month_of(replay, &host).await?;
    alive_and_listed(&month);
    let o = &month.observations[0];
    assert_eq!(
        o.software.as_ref().map(|s| s.raw_name.as_str()),
        Some("mitra")
    );
    let peers: Vec<&str> = o.peers.iter().flatten().map(Host::as_str).collect();
    assert_eq!(peers, ["gts.example.com", "offline.example.com"]);
    assert!(!o.flags.peers_hidden);
    assert!(o
        .measurements
        .iter()
        .any(|m| m.source == Source::InstanceV1));
    Ok(())
}

#[tokio::test]
async fn bovine_herd_without_a_mastodon_api_has_no_peer_list_and_is_not_flagged(
) -> anyhow::Result<()> {
    let replay = Replay::of_folder("bovine-herd-0.5.19");
    let host = replay.own_host();
    let month = month_of(replay, &host).await?;
    alive_and_listed(&month);
    let o = &month.observations[0];
    assert!(o.peers.is_none());
    assert!(
        !o.flags.peers_hidden,
        "no list offered is not a list refused"
    );
    assert!(measured(o, Metric::UsersTotal, Source::NodeInfo).is_some());
    assert!(measured(o, Metric::UsersActiveMonth, Source::NodeInfo).is_some());
    assert!(measured(o, Metric::UsersActiveHalfyear, Source::NodeInfo).is_some());
    // Its instance API answered 404: nothing more was asked of that API.
    assert!(!month
        .log
        .iter()
        .any(|(_, p)| p == "/api/v2/instance" || p == "/api/v1/instance/peers"));
    Ok(())
}

#[tokio::test]
async fn microblog_pub_a_single_user_server_is_read_from_nodeinfo_2_1() -> anyhow::Result<()> {
    let replay = Replay::of_folder("microblogpub-2.0.0");
    let host = replay.own_host();
    let month = month_of(replay, &host).await?;
    alive_and_listed(&month);
    let o = &month.observations[0];
    assert_eq!(o.nodeinfo_version.as_deref(), Some("2.1"));
    assert_eq!(measured(o, Metric::UsersTotal, Source::NodeInfo), Some(1));
    assert!(o.peers.is_none() && !o.flags.peers_hidden);
    Ok(())
}

#[tokio::test]
async fn a_fedify_application_is_read_with_its_pre_release_version() -> anyhow::Result<()> {
    let replay = Replay::of_folder("fedify-2.3.6");
    let host = replay.own_host();
    let month = month_of(replay, &host).await?;
    alive_and_listed(&month);
    let o = &month.observations[0];
    let software = o.software.as_ref().expect("software read");
    assert!(!software.raw_version.is_empty());
    assert!(measured(o, Metric::UsersTotal, Source::NodeInfo).is_some());
    Ok(())
}
