//! What the real servers taught (issue 19; documents in `shared/fixtures/live/`): opt-outs that
//! start in the middle of a server's history, GoToSocial's built-in robots.txt, second Takahē
//! domains whose NodeInfo link names the main domain, Mitra's Mastodon-compatible API, and the
//! releases of late 2022 that had (or had not) each endpoint. Served bytes and headers, the
//! truth's columns, the lower bound's request counts, determinism.

use crate::support::{serve_world, test_serve_config};
use crate::world::{day, full_world, small};
use chrono::{DateTime, NaiveTime, Utc};
use fedicensus_core::Software;
use fedicensus_sim::lower_bound::{api_requests, host_cost, CrawlParameters, MastodonApi};
use fedicensus_sim::truth::{truth_summary, write_csv, COLUMNS};
use fedicensus_sim::world::{is_mitra, software_serves_peers_at};
use fedicensus_sim::{FailureMix, Server, World};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

fn at_noon(date: chrono::NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::from_hms_opt(12, 0, 0).expect("noon"))
        .and_utc()
}

/// The truth CSV at `at` as rows keyed by domain, each a map of column to value.
fn truth_rows(world: &World, at: DateTime<Utc>) -> HashMap<String, HashMap<String, String>> {
    let mut out = Vec::new();
    write_csv(world, at, &mut out).expect("writing to a Vec");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    reader
        .records()
        .map(|r| {
            let r = r.expect("a row");
            let row: HashMap<String, String> = COLUMNS
                .iter()
                .zip(r.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            (row["domain"].clone(), row)
        })
        .collect()
}

fn params() -> CrawlParameters {
    CrawlParameters {
        concurrency: 64,
        min_interval: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(15),
    }
}

/// A world of `servers` servers with the default mix whose generation (by seed from 1) gives a
/// server `pred` holds for; the first such seed, so the test is deterministic.
fn world_where(servers: usize, pred: impl Fn(&World, &Server) -> bool) -> (World, u32) {
    for seed in 1..200 {
        let world = small(servers, seed, FailureMix::default());
        if let Some(id) = world
            .servers()
            .iter()
            .find(|s| pred(&world, s))
            .map(|s| s.id)
        {
            return (world, id);
        }
    }
    panic!("no seed below 200 gives such a server");
}

async fn get(
    sim: &crate::support::TestSim,
    host: &str,
    path: &str,
) -> (u16, HashMap<String, String>, Vec<u8>) {
    let response = sim
        .client
        .get(sim.url(true, host, path))
        .header("accept", "application/json")
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let body = response.bytes().await.expect("a body").to_vec();
    (status, headers, body)
}

#[test]
fn opt_outs_start_inside_the_scenario_mostly_on_small_servers_at_the_mix_share() {
    let world = full_world();
    let real = world.servers().iter().filter(|s| !s.flood).count();
    let opted: Vec<&Server> = world
        .servers()
        .iter()
        .filter(|s| s.opt_out.is_some())
        .collect();
    let expected = FailureMix::default().robots_opt_outs * real as f64;
    assert!(
        (opted.len() as f64 - expected).abs() <= 1.0,
        "{} opt-outs, expected {expected}",
        opted.len()
    );
    let scenario = world.config().scenario;
    let december = day(2022, 12, 1);
    let mut small_ones = 0;
    let mut ending = 0;
    for server in &opted {
        let window = server.opt_out.expect("filtered");
        assert!(server.failure.is_none(), "{}", server.domain);
        assert!(server.software != Software::Gotosocial && !is_mitra(&server.software));
        assert!(window.from > scenario.start() && window.from <= scenario.end());
        assert!(
            window.from > server.born,
            "{}: after its birth",
            server.domain
        );
        if let Some(until) = window.until {
            assert!(until > window.from && until <= scenario.end());
            ending += 1;
        }
        if world.state(server.id, december).figures.users <= 20 {
            small_ones += 1;
        }
    }
    assert!(ending > 0, "some opt-outs end inside the scenario");
    assert!(ending * 2 < opted.len(), "most stay");
    assert!(
        small_ones * 3 > opted.len() * 2,
        "mostly small: {small_ones} of {}",
        opted.len()
    );
    assert!(FailureMix::none().robots_opt_outs == 0.0);
    assert!(small(400, 3, FailureMix::none())
        .servers()
        .iter()
        .all(|s| s.opt_out.is_none()));
}

#[tokio::test]
async fn an_opt_out_shows_in_robots_txt_and_the_truth_from_its_first_day_only() {
    let (world, id) = world_where(2_000, |w, s| {
        s.opt_out.is_some_and(|o| {
            o.until.is_some()
                && w.state(s.id, at_noon(o.from)).alive
                && o.until.is_some_and(|u| w.state(s.id, at_noon(u)).alive)
        }) && s.software == Software::Mastodon
            && s.quirks.is_empty()
    });
    let server = world.server(id).clone();
    let window = server.opt_out.expect("chosen for it");
    let until = window.until.expect("chosen for it");
    let before = at_noon(window.from.pred_opt().expect("a day before"));
    let during = at_noon(window.from);
    let after = at_noon(until);
    let world = Arc::new(world);
    for (at, refuses) in [(before, false), (during, true), (after, false)] {
        assert_eq!(world.robots_refuses_us(id, at), refuses, "{at}");
        let row = &truth_rows(&world, at)[&server.domain];
        assert_eq!(row["robots_opted_out"], refuses.to_string(), "{at}");
        assert_eq!(row["alive"], "true");
        assert_eq!(row["reachable"], (!refuses).to_string(), "{at}");
        let sim = serve_world(world.clone(), at, test_serve_config()).await;
        let (status, headers, body) = get(&sim, &server.domain, "/robots.txt").await;
        let body = String::from_utf8(body).expect("text");
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
        assert_eq!(
            body.contains("\n\nUser-agent: fedicensus\nDisallow: /\n"),
            refuses,
            "{at}: {body}"
        );
        assert!(
            body.starts_with("# See http://www.robotstxt.org/"),
            "{body}"
        );
        // The rest of the server answers as before: it is alive.
        let (status, _, _) = get(&sim, &server.domain, "/.well-known/nodeinfo").await;
        assert_eq!(status, 200);
        // A polite crawler stops after robots.txt on the days it refuses.
        let requests = host_cost(&world, id, at, &params()).requests.len();
        assert_eq!(requests, if refuses { 1 } else { 7 }, "{at}");
    }
    let summary = truth_summary(&world, during);
    assert!(summary.software("mastodon").opted_out >= 1);
}

#[tokio::test]
async fn gotosocial_serves_the_robots_txt_its_2022_release_shipped_and_counts_as_opted_out() {
    let world = Arc::new(small(3_000, 7, FailureMix::none()));
    let at = day(2022, 12, 20);
    let gts: Vec<Server> = world
        .servers()
        .iter()
        .filter(|s| s.software == Software::Gotosocial && world.state(s.id, at).alive)
        .cloned()
        .collect();
    assert!(gts.len() >= 3, "{} GoToSocial servers", gts.len());
    let rows = truth_rows(&world, at);
    let sim = serve_world(world.clone(), at, test_serve_config()).await;
    let mut seen_0_6 = false;
    for server in &gts {
        let (status, headers, body) = get(&sim, &server.domain, "/robots.txt").await;
        let body = String::from_utf8(body).expect("text");
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
        let version = world.version_at(server.id, at);
        if version.starts_with("0.6.") {
            // internal/api/security/robots.go at v0.6.0.
            assert!(
                body.starts_with("User-agent: *\nCrawl-delay: 500\n# api stuff\nDisallow: /api/\n"),
                "{body}"
            );
            assert!(body.contains("\n# well known stuff\nDisallow: /.well-known/\n"));
            seen_0_6 = true;
        } else {
            // v0.1.0 to v0.5.2 and the development builds of 2022.
            assert_eq!(body, "User-agent: *\nDisallow: /\n", "{version}");
        }
        assert!(world.robots_refuses_us(server.id, at));
        let row = &rows[&server.domain];
        assert_eq!(row["robots_opted_out"], "true");
        assert_eq!(row["reachable"], "false");
        assert_eq!(row["alive"], "true");
        assert_eq!(
            host_cost(&world, server.id, at, &params()).requests.len(),
            1
        );
    }
    assert!(seen_0_6, "some run a 0.6.0 build");
    let summary = truth_summary(&world, at).software("gotosocial");
    assert_eq!(summary.reachable, 0);
    assert_eq!(summary.opted_out, summary.alive);
}

#[tokio::test]
async fn a_second_takahe_domain_links_to_the_main_one_and_answers_nodeinfo_itself() {
    let at = day(2022, 12, 28);
    let (world, id) = world_where(2_000, |w, s| {
        s.sibling_of.is_some() && w.state(s.id, at).alive && w.version_at(s.id, at) == "0.6.0"
    });
    let sibling = world.server(id).clone();
    let main = world.server(sibling.sibling_of.expect("a sibling")).clone();
    assert_eq!(sibling.software, Software::Takahe);
    assert_eq!(sibling.version, main.version);
    assert!(sibling.born >= main.born);
    assert_eq!(sibling.died, main.died);
    let members = world.installation(id);
    assert_eq!(members[0], main.id);
    assert!(members.contains(&id));
    let world = Arc::new(world);
    let sim = serve_world(world.clone(), at, test_serve_config()).await;

    let (status, _, body) = get(&sim, &sibling.domain, "/.well-known/nodeinfo").await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        doc["links"][0]["href"],
        format!("https://{}/nodeinfo/2.0/", main.domain)
    );
    assert_eq!(
        doc["links"][0]["rel"],
        "http://nodeinfo.diaspora.software/ns/schema/2.0"
    );
    assert_eq!(doc["links"].as_array().map(Vec::len), Some(1));

    // Its own host answers the same path; Takahē before 0.10.0 counts the whole installation.
    let installation_users: u64 = members
        .iter()
        .map(|m| world.state(*m, at).figures.users)
        .sum();
    for host in [&sibling.domain, &main.domain] {
        let (status, _, body) = get(&sim, host, "/nodeinfo/2.0/").await;
        assert_eq!(status, 200, "{host}");
        let doc: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(doc["software"]["name"], "takahe");
        assert_eq!(doc["usage"]["users"]["total"], installation_users, "{host}");
        // 0.6.0's instance API counts every domain too.
        let (status, _, body) = get(&sim, host, "/api/v1/instance").await;
        assert_eq!(status, 200, "{host}");
        let doc: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(doc["stats"]["user_count"], installation_users);
        assert_eq!(doc["version"], "takahe/0.6.0");
        // No v2 (0.8.0), activity (0.10.0) or peers (0.9.0) in 2022.
        for path in [
            "/api/v2/instance",
            "/api/v1/instance/activity",
            "/api/v1/instance/peers",
        ] {
            let (status, _, _) = get(&sim, host, path).await;
            assert_eq!(status, 404, "{host}{path}");
        }
    }
    let rows = truth_rows(&world, at);
    assert_eq!(rows[&sibling.domain]["sibling_of"], main.domain);
    assert_eq!(rows[&main.domain]["sibling_of"], "");
    assert_eq!(
        rows[&sibling.domain]["users"],
        world.state(id, at).figures.users.to_string(),
        "the truth has the domain's own figures"
    );
    assert_eq!(rows[&sibling.domain]["reachable"], "true");
    // robots.txt, well-known, the document on its own host; v1 (a document), v2, activity, peers.
    assert_eq!(
        api_requests(&world, &sibling, at),
        4,
        "v1 answers, so v2, activity and peers follow"
    );
    assert_eq!(host_cost(&world, id, at, &params()).requests.len(), 7);
}

#[test]
fn second_takahe_domains_are_servers_of_their_own_in_peer_lists() {
    let world = full_world();
    let at = day(2022, 12, 28);
    let siblings: Vec<&Server> = world
        .servers()
        .iter()
        .filter(|s| s.sibling_of.is_some())
        .collect();
    let takahe_mains = world
        .servers()
        .iter()
        .filter(|s| s.software == Software::Takahe && s.sibling_of.is_none())
        .count();
    assert!(!siblings.is_empty() && siblings.len() <= takahe_mains);
    let listed = siblings.iter().any(|s| {
        world.is_born(s.id, at)
            && world
                .servers()
                .iter()
                .take(3_000)
                .any(|o| world.peers(o.id, at).contains(&s.domain))
    });
    assert!(listed, "a second domain appears in some peer list");
}

#[tokio::test]
async fn mitra_answers_the_mastodon_api_of_its_2022_releases() {
    let at = day(2022, 11, 15);
    let (world, id) = world_where(3_000, |w, s| {
        is_mitra(&s.software)
            && s.failure.is_none()
            && s.quirks.is_empty()
            && w.state(s.id, at).alive
    });
    let server = world.server(id).clone();
    let world = Arc::new(world);
    let sim = serve_world(world.clone(), at, test_serve_config()).await;
    let (status, headers, body) = get(&sim, &server.domain, "/api/v1/instance").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].starts_with("application/json"));
    let doc: Value = serde_json::from_slice(&body).expect("JSON");
    let version = world.version_at(id, at);
    assert_eq!(
        doc["version"],
        format!("3.0.0 (compatible; Mitra {version})")
    );
    assert_eq!(
        doc["stats"]["user_count"],
        world.reported(id, at).users,
        "{doc}"
    );
    // Activity: actix's bare 404 (live fixture mitra-5.9.1/api_v1_instance_activity.headers).
    let (status, headers, body) = get(&sim, &server.domain, "/api/v1/instance/activity").await;
    assert_eq!(status, 404);
    assert!(body.is_empty());
    assert!(!headers.contains_key("content-type"));
    // No peer list before 1.18.0 and no v2 before 2.18.0.
    for path in ["/api/v1/instance/peers", "/api/v2/instance"] {
        let (status, _, body) = get(&sim, &server.domain, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.is_empty());
    }
    // robots.txt: the web client's HTML page with status 200 (live fixture mitra-5.9.1).
    let (status, headers, body) = get(&sim, &server.domain, "/robots.txt").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(body.starts_with(b"<html><body>"));
    assert!(!world.robots_refuses_us(id, at));
    let rows = truth_rows(&world, at);
    assert_eq!(rows[&server.domain]["serves_peers"], "false");
    assert_eq!(rows[&server.domain]["robots_opted_out"], "false");
    assert_eq!(
        fedicensus_sim::lower_bound::mastodon_api(&world, &server, at),
        MastodonApi::Answers
    );
    assert_eq!(host_cost(&world, id, at, &params()).requests.len(), 7);
    // The releases that had a peer list.
    let mitra = Software::Other("mitra".into());
    assert!(!software_serves_peers_at(&mitra, "1.7.0"));
    assert!(software_serves_peers_at(&mitra, "1.18.0"));
    assert!(software_serves_peers_at(&mitra, "5.9.1"));
    assert!(!software_serves_peers_at(&Software::Takahe, "0.6.0"));
    assert!(software_serves_peers_at(&Software::Takahe, "0.9.0"));
    assert!(software_serves_peers_at(&Software::Pleroma, "2.4.4"));
}

#[tokio::test]
async fn takahe_before_0_6_has_no_mastodon_api_and_costs_what_the_crawler_asks() {
    let at = day(2022, 12, 10);
    let (world, id) = world_where(2_000, |w, s| {
        s.software == Software::Takahe
            && s.failure.is_none()
            && s.quirks.is_empty()
            && w.state(s.id, at).alive
            && w.version_at(s.id, at) != "0.6.0"
    });
    let server = world.server(id).clone();
    let world = Arc::new(world);
    let sim = serve_world(world.clone(), at, test_serve_config()).await;
    let (status, headers, _) = get(&sim, &server.domain, "/api/v1/instance").await;
    assert_eq!(status, 404);
    assert!(headers["content-type"].starts_with("text/html"));
    // No robots.txt before 0.7.0 either.
    let (status, _, _) = get(&sim, &server.domain, "/robots.txt").await;
    assert_eq!(status, 404);
    assert_eq!(
        fedicensus_sim::lower_bound::mastodon_api(&world, &server, at),
        MastodonApi::Assumed
    );
    // Core says Takahē speaks the API, so the crawler still asks activity and peers.
    assert_eq!(host_cost(&world, id, at, &params()).requests.len(), 6);
    assert!(!world.serves_peers(id, at));
}

#[test]
fn no_takahe_or_mitra_server_serves_peers_in_2022_and_the_new_kinds_are_deterministic() {
    let world = full_world();
    for at in [day(2022, 10, 27), day(2022, 12, 31)] {
        for server in world.servers() {
            if server.software == Software::Takahe || is_mitra(&server.software) {
                assert!(!world.serves_peers(server.id, at), "{}", server.domain);
            }
        }
    }
    let a = small(3_000, 11, FailureMix::default());
    let b = small(3_000, 11, FailureMix::default());
    let windows = |w: &World| -> Vec<_> {
        w.servers()
            .iter()
            .map(|s| (s.domain.clone(), s.opt_out, s.sibling_of))
            .collect()
    };
    assert_eq!(windows(&a), windows(&b));
    let at = day(2022, 12, 20);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    write_csv(&a, at, &mut x).expect("a Vec");
    write_csv(&b, at, &mut y).expect("a Vec");
    assert_eq!(x, y);
}
