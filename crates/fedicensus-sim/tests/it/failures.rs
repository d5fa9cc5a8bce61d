//! HTTP-level failures and quirks, through a real client on loopback: one test per way a server
//! breaks or bends, each in a world where that is the only trouble, asked the way a crawler asks
//! (the harness client resolves through the simulator's DNS and trusts its CA).

use crate::support::{mid_migration, spawn_sim, TestSim};
use fedicensus_core::Software;
use fedicensus_sim::{Failure, FailureMix, LatencyModel, Quirk, Scenario, Server, WorldConfig};
use serde_json::Value;
use std::io::Read;
use std::time::{Duration, Instant};

/// A world of `servers` servers where every server has `failure`.
fn failure_world(failure: Failure, servers: usize) -> WorldConfig {
    WorldConfig {
        servers: Some(servers),
        failures: FailureMix {
            failures: vec![(failure, 1.0)],
            ..FailureMix::none()
        },
        latency: LatencyModel::ZERO,
        ..WorldConfig::new(Scenario::Migration2022, 7)
    }
}

/// A world where every server that can have `quirk` has it, and nothing fails.
fn quirk_world(quirk: Quirk, servers: usize) -> WorldConfig {
    WorldConfig {
        servers: Some(servers),
        failures: FailureMix {
            quirks: vec![(quirk, 1.0)],
            ..FailureMix::none()
        },
        latency: LatencyModel::ZERO,
        ..WorldConfig::new(Scenario::Migration2022, 7)
    }
}

/// The first server alive now that matches `pred`.
fn alive_where(sim: &TestSim, pred: impl Fn(&Server) -> bool) -> Server {
    let now = sim.sim.clock().now();
    sim.world
        .servers()
        .iter()
        .find(|s| !s.flood && sim.world.state(s.id, now).alive && pred(s))
        .cloned()
        .expect("the world has a matching live server")
}

fn alive_with_failure(sim: &TestSim, failure: Failure) -> Server {
    alive_where(sim, |s| s.failure == Some(failure))
}

fn alive_with_quirk(sim: &TestSim, quirk: Quirk, pred: impl Fn(&Server) -> bool) -> Server {
    alive_where(sim, |s| {
        s.failure.is_none() && s.quirks.has(quirk) && pred(s)
    })
}

async fn failure_sim(failure: Failure) -> (TestSim, Server) {
    let sim = spawn_sim(failure_world(failure, 12), mid_migration()).await;
    let server = alive_with_failure(&sim, failure);
    (sim, server)
}

async fn get(sim: &TestSim, url: &str) -> reqwest::Response {
    sim.client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

fn no_redirects(sim: &TestSim) -> reqwest::Client {
    sim.client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("the client builds")
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn url(sim: &TestSim, server: &Server, path: &str) -> String {
    sim.url(true, &server.domain, path)
}

/// Every `(rel or type, href)` pair in a well-known document, whatever its shape.
fn links_of(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match doc {
        Value::Object(map) => {
            if let (Some(href), Some(rel)) = (
                map.get("href").and_then(Value::as_str),
                map.get("rel").and_then(Value::as_str),
            ) {
                let rel = map
                    .get("type")
                    .and_then(Value::as_str)
                    .filter(|_| rel == "self")
                    .unwrap_or(rel);
                out.push((rel.to_string(), href.to_string()));
            }
            for value in map.values() {
                out.extend(links_of(value));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| out.extend(links_of(v))),
        _ => {}
    }
    out
}

/// The absolute URL of the highest NodeInfo version a well-known document links.
fn best_nodeinfo(doc: &Value, domain: &str) -> String {
    let (_, href) = links_of(doc)
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("http://nodeinfo.diaspora.software/ns/schema/"))
        .max()
        .expect("a NodeInfo link");
    if href.starts_with('/') {
        format!("https://{domain}{href}")
    } else if !href.contains("://") {
        format!("https://{href}")
    } else {
        href
    }
}

async fn well_known(sim: &TestSim, server: &Server) -> Value {
    get(sim, &url(sim, server, "/.well-known/nodeinfo"))
        .await
        .json()
        .await
        .expect("the well-known document is JSON")
}

/// The server's best NodeInfo document, as JSON.
async fn nodeinfo(sim: &TestSim, server: &Server) -> Value {
    let doc = well_known(sim, server).await;
    let url = best_nodeinfo(&doc, &server.domain);
    let response = get(sim, &url).await;
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.expect("NodeInfo is JSON")
}

// ---- failures ----

#[tokio::test]
async fn server_error_answers_its_5xx_status_on_every_path() {
    let (sim, server) = failure_sim(Failure::ServerError(502)).await;
    for path in ["/robots.txt", "/.well-known/nodeinfo", "/api/v1/instance"] {
        let response = get(&sim, &url(&sim, &server, path)).await;
        assert_eq!(response.status(), 502, "{path}");
        assert!(header(&response, "content-type")
            .unwrap_or_default()
            .contains("text/html"));
    }
}

#[tokio::test]
async fn rate_limited_server_answers_429_with_retry_after() {
    let (sim, server) = failure_sim(Failure::RateLimitedRetryAfter).await;
    let target = url(&sim, &server, "/.well-known/nodeinfo");
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let response = get(&sim, &target).await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            retry_after = header(&response, "retry-after");
        }
    }
    assert_eq!(
        &statuses[..3],
        &[200, 200, 200],
        "a small burst passes: {statuses:?}"
    );
    assert_eq!(statuses[3], 429, "{statuses:?}");
    let secs: u64 = retry_after
        .expect("429 carries Retry-After")
        .parse()
        .expect("Retry-After is in seconds");
    assert!((1..=10).contains(&secs), "Retry-After {secs}");
}

#[tokio::test]
async fn mastodon_style_rate_limit_answers_429_with_an_iso_reset_time_and_no_retry_after() {
    let (sim, server) = failure_sim(Failure::RateLimitedReset).await;
    let target = url(&sim, &server, "/.well-known/nodeinfo");
    for _ in 0..3 {
        assert_eq!(get(&sim, &target).await.status(), 200);
    }
    let response = get(&sim, &target).await;
    assert_eq!(response.status(), 429);
    assert!(header(&response, "retry-after").is_none());
    assert_eq!(
        header(&response, "x-ratelimit-remaining").as_deref(),
        Some("0")
    );
    assert!(header(&response, "x-ratelimit-limit").is_some());
    let reset = header(&response, "x-ratelimit-reset").expect("X-RateLimit-Reset");
    let reset = chrono::DateTime::parse_from_rfc3339(&reset).expect("an ISO 8601 time");
    let now = sim.sim.clock().now();
    assert!(
        reset >= now - chrono::TimeDelta::seconds(1)
            && reset <= now + chrono::TimeDelta::seconds(11)
    );
    let body: Value = response.json().await.expect("a JSON error");
    assert_eq!(body["error"], "Too many requests");
}

#[tokio::test]
async fn mastodon_api_answers_carry_rate_limit_headers() {
    let sim = spawn_sim(
        WorldConfig {
            servers: Some(30),
            failures: FailureMix::none(),
            latency: LatencyModel::ZERO,
            ..WorldConfig::new(Scenario::Migration2022, 7)
        },
        mid_migration(),
    )
    .await;
    let server = alive_where(&sim, |s| {
        s.software == Software::Mastodon && s.failure.is_none()
    });
    let response = get(&sim, &url(&sim, &server, "/api/v1/instance")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-ratelimit-limit").as_deref(),
        Some("300")
    );
    assert!(header(&response, "x-ratelimit-remaining").is_some());
    let reset = header(&response, "x-ratelimit-reset").expect("X-RateLimit-Reset");
    assert!(
        chrono::DateTime::parse_from_rfc3339(&reset).is_ok(),
        "{reset}"
    );
}

#[tokio::test]
async fn cloudflare_challenge_answers_403_html_with_cf_mitigated() {
    let (sim, server) = failure_sim(Failure::CloudflareChallenge).await;
    let response = get(&sim, &url(&sim, &server, "/.well-known/nodeinfo")).await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        header(&response, "cf-mitigated").as_deref(),
        Some("challenge")
    );
    assert!(header(&response, "content-type")
        .unwrap_or_default()
        .starts_with("text/html"));
    let page = response.text().await.expect("a page");
    assert!(page.contains("Just a moment"), "{page}");
}

#[tokio::test]
async fn parked_domain_answers_html_200_on_every_path() {
    let (sim, server) = failure_sim(Failure::ParkedHtml).await;
    for path in [
        "/.well-known/nodeinfo",
        "/nodeinfo/2.0",
        "/api/v1/instance",
        "/anything",
    ] {
        let response = get(&sim, &url(&sim, &server, path)).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(header(&response, "content-type")
            .unwrap_or_default()
            .starts_with("text/html"));
        let body = response.bytes().await.expect("a body");
        assert!(
            serde_json::from_slice::<Value>(&body).is_err(),
            "{path} is not JSON"
        );
    }
}

#[tokio::test]
async fn malformed_json_server_answers_json_content_type_with_a_body_that_does_not_parse() {
    let (sim, server) = failure_sim(Failure::MalformedJson).await;
    let response = get(&sim, &url(&sim, &server, "/.well-known/nodeinfo")).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type")
        .unwrap_or_default()
        .contains("json"));
    let body = response.bytes().await.expect("a body");
    assert!(!body.is_empty());
    assert!(
        serde_json::from_slice::<Value>(&body).is_err(),
        "{body:?} parses"
    );
}

#[tokio::test]
async fn huge_body_server_answers_tens_of_megabytes_of_nodeinfo() {
    let (sim, server) = failure_sim(Failure::HugeBody).await;
    let doc = well_known(&sim, &server).await;
    let mut response = get(&sim, &best_nodeinfo(&doc, &server.domain)).await;
    assert_eq!(response.status(), 200);
    let mut read = 0usize;
    while let Some(chunk) = response.chunk().await.expect("the body streams") {
        read += chunk.len();
        if read > 12 * 1024 * 1024 {
            break;
        }
    }
    assert!(read > 12 * 1024 * 1024, "only {read} bytes");
}

#[tokio::test]
async fn gzip_bomb_server_answers_a_small_gzip_body_that_inflates_enormously() {
    let (sim, server) = failure_sim(Failure::GzipBomb).await;
    let doc = well_known(&sim, &server).await;
    let client = sim
        .client_builder()
        .no_gzip()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let response = client
        .get(best_nodeinfo(&doc, &server.domain))
        .send()
        .await
        .expect("NodeInfo answers");
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-encoding").as_deref(),
        Some("gzip")
    );
    let compressed = response.bytes().await.expect("the compressed body");
    assert!(
        compressed.len() < 8 * 1024 * 1024,
        "{} bytes compressed",
        compressed.len()
    );
    let mut inflated = 0u64;
    let mut decoder = flate2::read::GzDecoder::new(&compressed[..]);
    let mut buf = vec![0u8; 1 << 16];
    while inflated < 64 * 1024 * 1024 {
        match decoder.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => inflated += n as u64,
        }
    }
    assert!(
        inflated >= 64 * 1024 * 1024,
        "inflates to only {inflated} bytes"
    );
}

#[tokio::test]
async fn hanging_server_never_answers() {
    let (sim, server) = failure_sim(Failure::Hang).await;
    let client = sim
        .client_builder()
        .timeout(Duration::from_millis(800))
        .build()
        .expect("client");
    let error = client
        .get(url(&sim, &server, "/.well-known/nodeinfo"))
        .send()
        .await
        .expect_err("no answer comes");
    assert!(error.is_timeout(), "{error}");
}

#[tokio::test]
async fn dripping_server_sends_headers_at_once_and_the_real_body_slowly() {
    let (sim, server) = failure_sim(Failure::Drip).await;
    let started = Instant::now();
    let response = get(&sim, &url(&sim, &server, "/robots.txt")).await;
    let headers_after = started.elapsed();
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("the whole body comes");
    let body_after = started.elapsed();
    assert!(
        headers_after < Duration::from_millis(400),
        "headers after {headers_after:?}"
    );
    // 16 bytes every 0.5 s: the body takes (chunks - 1) pauses.
    let chunks = text.len().div_ceil(16) as u32;
    assert!(chunks >= 2, "{text}");
    let least = Duration::from_millis(450) * (chunks - 1);
    assert!(
        body_after >= least,
        "{} bytes in {body_after:?}",
        text.len()
    );
    assert!(text.contains("User-agent"), "{text}");
}

#[tokio::test]
async fn redirect_loop_server_bounces_between_two_urls_of_its_own_host() {
    let (sim, server) = failure_sim(Failure::RedirectLoop).await;
    let client = no_redirects(&sim);
    let first = url(&sim, &server, "/.well-known/nodeinfo");
    let a = client.get(&first).send().await.expect("answers");
    assert_eq!(a.status(), 302);
    let second = header(&a, "location").expect("Location");
    assert!(
        second.contains(&server.domain) && second != first,
        "{second}"
    );
    let b = client.get(&second).send().await.expect("answers");
    assert_eq!(b.status(), 302);
    assert_eq!(header(&b, "location").as_deref(), Some(first.as_str()));
    let error = sim
        .client
        .get(&first)
        .send()
        .await
        .expect_err("a loop never ends");
    assert!(error.is_redirect(), "{error}");
}

#[tokio::test]
async fn redirect_other_host_leads_the_nodeinfo_fetch_to_another_servers_numbers() {
    let sim = spawn_sim(
        failure_world(Failure::RedirectOtherHost, 40),
        mid_migration(),
    )
    .await;
    let now = sim.sim.clock().now();
    let mut checked = 0;
    for server in sim.world.servers().iter().filter(|s| {
        s.failure == Some(Failure::RedirectOtherHost) && sim.world.state(s.id, now).alive
    }) {
        let Some(target) = server.target.map(|t| sim.world.server(t).clone()) else {
            continue;
        };
        if !sim.world.state(target.id, now).alive {
            continue;
        }
        let doc = well_known(&sim, server).await;
        let response = get(&sim, &best_nodeinfo(&doc, &server.domain)).await;
        assert_eq!(
            response.url().host_str(),
            Some(target.domain.as_str()),
            "{} should lead to {}",
            server.domain,
            target.domain
        );
        let nodeinfo: Value = response.json().await.expect("the target's NodeInfo");
        let reported = sim.world.reported(target.id, sim.sim.clock().now());
        let total = nodeinfo["usage"]["users"]["total"].as_u64();
        if let Some(total) = total {
            assert!(
                total.abs_diff(reported.users) <= 1,
                "{total} vs {}",
                reported.users
            );
        }
        checked += 1;
        if checked >= 3 {
            break;
        }
    }
    assert!(checked > 0, "no live redirecting server with a live target");
}

#[tokio::test]
async fn moved_server_answers_301_to_the_same_path_on_its_new_domain() {
    let sim = spawn_sim(failure_world(Failure::Moved, 12), mid_migration()).await;
    let server = alive_where(&sim, |s| {
        s.failure == Some(Failure::Moved) && s.target.is_some()
    });
    let target = sim
        .world
        .server(server.target.expect("a target"))
        .domain
        .clone();
    let client = no_redirects(&sim);
    for path in ["/.well-known/nodeinfo", "/api/v1/instance"] {
        let response = client
            .get(url(&sim, &server, path))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 301, "{path}");
        assert_eq!(
            header(&response, "location"),
            Some(format!("https://{target}{path}"))
        );
    }
}

#[tokio::test]
async fn gone_server_answers_410_on_every_path() {
    let (sim, server) = failure_sim(Failure::Gone).await;
    for path in [
        "/robots.txt",
        "/.well-known/nodeinfo",
        "/api/v1/instance/peers",
    ] {
        assert_eq!(
            get(&sim, &url(&sim, &server, path)).await.status(),
            410,
            "{path}"
        );
    }
}

#[tokio::test]
async fn robots_disallowing_us_names_our_token_and_the_rest_still_answers() {
    let (sim, server) = failure_sim(Failure::RobotsDisallowUs).await;
    let robots = get(&sim, &url(&sim, &server, "/robots.txt"))
        .await
        .text()
        .await
        .expect("text");
    assert!(
        robots.contains("User-agent: fedicensus\nDisallow: /\n"),
        "{robots}"
    );
    assert!(!robots.contains("User-agent: *\nDisallow: /\n"), "{robots}");
    nodeinfo(&sim, &server).await;
}

#[tokio::test]
async fn robots_disallowing_all_shuts_every_crawler_out_and_the_rest_still_answers() {
    let (sim, server) = failure_sim(Failure::RobotsDisallowAll).await;
    let robots = get(&sim, &url(&sim, &server, "/robots.txt"))
        .await
        .text()
        .await
        .expect("text");
    assert_eq!(robots, "User-agent: *\nDisallow: /\n");
    nodeinfo(&sim, &server).await;
}

// ---- quirks ----

#[tokio::test]
async fn disabled_peers_answer_404_with_an_empty_body() {
    let sim = spawn_sim(quirk_world(Quirk::PeersDisabled, 30), mid_migration()).await;
    let server = alive_with_quirk(&sim, Quirk::PeersDisabled, |s| {
        s.software == Software::Mastodon
    });
    let response = get(&sim, &url(&sim, &server, "/api/v1/instance/peers")).await;
    assert_eq!(response.status(), 404);
    assert!(response.bytes().await.expect("body").is_empty());
}

#[tokio::test]
async fn disabled_activity_answers_404_with_an_empty_body() {
    let sim = spawn_sim(quirk_world(Quirk::ActivityDisabled, 30), mid_migration()).await;
    let server = alive_with_quirk(&sim, Quirk::ActivityDisabled, |s| {
        s.software == Software::Mastodon
    });
    let response = get(&sim, &url(&sim, &server, "/api/v1/instance/activity")).await;
    assert_eq!(response.status(), 404);
    assert!(response.bytes().await.expect("body").is_empty());
}

#[tokio::test]
async fn limited_federation_hides_instance_peers_and_activity_behind_401() {
    let sim = spawn_sim(quirk_world(Quirk::LimitedFederation, 60), mid_migration()).await;
    let server = alive_with_quirk(&sim, Quirk::LimitedFederation, |s| {
        s.software == Software::Mastodon
    });
    for path in [
        "/api/v1/instance",
        "/api/v1/instance/peers",
        "/api/v1/instance/activity",
    ] {
        let response = get(&sim, &url(&sim, &server, path)).await;
        assert_eq!(response.status(), 401, "{path}");
        let body: Value = response.json().await.expect("a JSON error");
        assert_eq!(body["error"], "This method requires an authenticated user");
    }
    // NodeInfo stays open.
    nodeinfo(&sim, &server).await;
    if let Some(v4) = sim.world.servers().iter().find(|s| {
        s.software == Software::Mastodon
            && s.quirks.has(Quirk::LimitedFederation)
            && s.failure.is_none()
            && s.version.starts_with('4')
            && sim.world.state(s.id, sim.sim.clock().now()).alive
    }) {
        let response = get(&sim, &url(&sim, v4, "/api/v2/instance")).await;
        assert_eq!(response.status(), 200);
        let doc: Value = response.json().await.expect("v2 is JSON");
        assert_eq!(doc["configuration"]["limited_federation"], true);
        assert_eq!(doc["usage"]["users"]["active_month"], 0);
    }
}

#[tokio::test]
async fn numbers_as_strings_quirk_serves_counts_as_json_strings() {
    let sim = spawn_sim(quirk_world(Quirk::NumbersAsStrings, 20), mid_migration()).await;
    let server = alive_with_quirk(&sim, Quirk::NumbersAsStrings, |s| {
        s.software == Software::Mastodon
    });
    let doc = nodeinfo(&sim, &server).await;
    let total = doc["usage"]["users"]["total"]
        .as_str()
        .expect("a string total");
    let reported = sim.world.reported(server.id, sim.sim.clock().now()).users;
    assert!(total.parse::<u64>().expect("numeric").abs_diff(reported) <= 1);
    assert!(doc["usage"]["localPosts"].is_string());
}

#[tokio::test]
async fn null_counts_quirk_serves_null_active_users() {
    let sim = spawn_sim(quirk_world(Quirk::NullCounts, 20), mid_migration()).await;
    let server = alive_with_quirk(&sim, Quirk::NullCounts, |s| {
        s.software == Software::Mastodon
    });
    let doc = nodeinfo(&sim, &server).await;
    assert!(doc["usage"]["users"]["activeMonth"].is_null());
    assert!(doc["usage"]["users"]["activeHalfyear"].is_null());
    assert!(doc["usage"]["users"]["total"].is_u64());
}

#[tokio::test]
async fn negative_counts_quirk_serves_negative_numbers() {
    let sim = spawn_sim(quirk_world(Quirk::NegativeCounts, 20), mid_migration()).await;
    let server = alive_with_quirk(&sim, Quirk::NegativeCounts, |s| {
        s.software == Software::Mastodon
    });
    let doc = nodeinfo(&sim, &server).await;
    assert_eq!(doc["usage"]["users"]["activeMonth"], -1);
    assert_eq!(doc["usage"]["localPosts"], -1);
}

#[tokio::test]
async fn wrong_types_quirk_serves_arrays_and_objects_where_numbers_and_objects_belong() {
    let sim = spawn_sim(quirk_world(Quirk::WrongTypes, 30), mid_migration()).await;
    let now = sim.sim.clock().now();
    let mut shapes = 0;
    for server in sim.world.servers().iter().filter(|s| {
        s.quirks.has(Quirk::WrongTypes) && s.failure.is_none() && sim.world.state(s.id, now).alive
    }) {
        let doc = nodeinfo(&sim, server).await;
        let users_array = doc["usage"]["users"].is_array();
        let posts_object = doc["usage"]["localPosts"].is_object();
        let metadata_array = doc["metadata"].is_array();
        assert!(
            users_array || posts_object || metadata_array,
            "{}: {doc}",
            server.domain
        );
        shapes += 1;
    }
    assert!(shapes > 0);
}

#[tokio::test]
async fn misspelt_keys_quirk_renames_nodeinfo_keys() {
    let sim = spawn_sim(quirk_world(Quirk::MisspeltKeys, 20), mid_migration()).await;
    let server = alive_with_quirk(&sim, Quirk::MisspeltKeys, |s| {
        s.software == Software::Mastodon
    });
    let doc = nodeinfo(&sim, &server).await;
    assert!(
        doc.get("metaData").is_some() && doc.get("metadata").is_none(),
        "{doc}"
    );
    assert!(doc["usage"].get("local_posts").is_some(), "{doc}");
    assert!(
        doc["usage"]["users"].get("activeHalfYear").is_some(),
        "{doc}"
    );
}

#[tokio::test]
async fn privacy_flag_quirk_sets_metadata_private_and_friendicas_site_private() {
    let sim = spawn_sim(quirk_world(Quirk::PrivacyFlag, 200), mid_migration()).await;
    let server = alive_with_quirk(&sim, Quirk::PrivacyFlag, |s| {
        s.software == Software::Mastodon
    });
    let doc = nodeinfo(&sim, &server).await;
    assert_eq!(doc["metadata"]["private"], true);
    let now = sim.sim.clock().now();
    if let Some(friendica) = sim.world.servers().iter().find(|s| {
        s.software == Software::Friendica
            && s.quirks.has(Quirk::PrivacyFlag)
            && s.failure.is_none()
            && sim.world.state(s.id, now).alive
    }) {
        let config: Value = get(&sim, &url(&sim, friendica, "/api/statusnet/config.json"))
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(config["site"]["private"], true);
    }
}

/// Fake-number quirks: the served figures are the world's reported (fake) ones.
async fn serves_reported_numbers(quirk: Quirk, software: fn(&Software) -> bool) {
    let sim = spawn_sim(quirk_world(quirk, 400), mid_migration()).await;
    let server = alive_with_quirk(&sim, quirk, |s| software(&s.software));
    let doc = nodeinfo(&sim, &server).await;
    let now = sim.sim.clock().now();
    let reported = sim.world.reported(server.id, now);
    let total = doc["usage"]["users"]["total"].as_u64().expect("a total");
    assert!(
        total.abs_diff(reported.users) <= 1,
        "{total} vs reported {}",
        reported.users
    );
}

#[tokio::test]
async fn baffle_quirk_serves_the_reported_fake_numbers() {
    serves_reported_numbers(Quirk::Baffle, |s| *s == Software::Gotosocial).await;
}

#[tokio::test]
async fn lemmy_remote_inflation_quirk_serves_the_reported_inflated_numbers() {
    serves_reported_numbers(Quirk::LemmyRemoteInflation, |s| *s == Software::Lemmy).await;
}

#[tokio::test]
async fn calckey_inflation_quirk_serves_the_reported_inflated_numbers() {
    serves_reported_numbers(Quirk::CalckeyInflation, Software::is_misskey_family).await;
}

#[tokio::test]
async fn links_object_quirk_serves_links_as_a_single_object() {
    let sim = spawn_sim(
        quirk_world(Quirk::WellKnownLinksObject, 12),
        mid_migration(),
    )
    .await;
    let server = alive_with_quirk(&sim, Quirk::WellKnownLinksObject, |_| true);
    let doc = well_known(&sim, &server).await;
    assert!(doc["links"].is_object(), "{doc}");
    nodeinfo(&sim, &server).await;
}

#[tokio::test]
async fn zero_key_quirk_serves_a_stray_zero_key_next_to_a_links_object() {
    let sim = spawn_sim(quirk_world(Quirk::WellKnownZeroKey, 12), mid_migration()).await;
    let server = alive_with_quirk(&sim, Quirk::WellKnownZeroKey, |_| true);
    let doc = well_known(&sim, &server).await;
    assert!(doc["links"].is_object() && doc["0"].is_object(), "{doc}");
    nodeinfo(&sim, &server).await;
}

#[tokio::test]
async fn relative_href_quirk_serves_a_path_only_href() {
    let sim = spawn_sim(
        quirk_world(Quirk::WellKnownRelativeHref, 12),
        mid_migration(),
    )
    .await;
    let server = alive_with_quirk(&sim, Quirk::WellKnownRelativeHref, |_| true);
    let doc = well_known(&sim, &server).await;
    let href = doc["links"][0]["href"].as_str().expect("an href");
    assert!(href.starts_with('/'), "{doc}");
    nodeinfo(&sim, &server).await;
}

#[tokio::test]
async fn schemeless_quirk_serves_rel_self_with_the_schema_in_type_and_no_scheme() {
    let sim = spawn_sim(quirk_world(Quirk::WellKnownSchemeless, 12), mid_migration()).await;
    let server = alive_with_quirk(&sim, Quirk::WellKnownSchemeless, |_| true);
    let doc = well_known(&sim, &server).await;
    let link = &doc["links"][0];
    assert_eq!(link["rel"], "self", "{doc}");
    assert!(link["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("http://nodeinfo.diaspora.software/ns/schema/")));
    let href = link["href"].as_str().expect("an href");
    assert!(
        href.starts_with(&server.domain) && !href.contains("://"),
        "{href}"
    );
    nodeinfo(&sim, &server).await;
}

#[tokio::test]
async fn noindex_quirk_sends_x_robots_tag_on_nodeinfo_and_instance_answers() {
    let sim = spawn_sim(quirk_world(Quirk::NoIndexHeader, 30), mid_migration()).await;
    let server = alive_with_quirk(&sim, Quirk::NoIndexHeader, |s| {
        s.software == Software::Mastodon
    });
    let doc = well_known(&sim, &server).await;
    let response = get(&sim, &best_nodeinfo(&doc, &server.domain)).await;
    assert_eq!(
        header(&response, "x-robots-tag").as_deref(),
        Some("noindex")
    );
    let response = get(&sim, &url(&sim, &server, "/api/v1/instance")).await;
    assert_eq!(
        header(&response, "x-robots-tag").as_deref(),
        Some("noindex")
    );
}

#[tokio::test]
async fn pleroma_akkoma_and_gotosocial_refuse_an_activity_json_only_accept_with_406() {
    let sim = spawn_sim(
        WorldConfig {
            servers: Some(400),
            failures: FailureMix::none(),
            latency: LatencyModel::ZERO,
            ..WorldConfig::new(Scenario::Migration2022, 7)
        },
        mid_migration(),
    )
    .await;
    let mut checked = Vec::new();
    for family in [Software::Pleroma, Software::Akkoma, Software::Gotosocial] {
        let server = alive_where(&sim, |s| s.software == family);
        let doc = well_known(&sim, &server).await;
        let target = best_nodeinfo(&doc, &server.domain);
        for (accept, status) in [
            (Some("application/activity+json"), 406),
            (None, 200),
            (Some("application/json, application/activity+json"), 200),
        ] {
            let mut request = sim.client.get(&target);
            if let Some(accept) = accept {
                request = request.header("accept", accept);
            }
            let response = request.send().await.expect("answers");
            assert_eq!(response.status(), status, "{family} with Accept {accept:?}");
        }
        checked.push(family);
    }
    // Mastodon does not care.
    let mastodon = alive_where(&sim, |s| s.software == Software::Mastodon);
    let response = sim
        .client
        .get(url(&sim, &mastodon, "/api/v1/instance"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    assert_eq!(checked.len(), 3);
}

#[tokio::test]
async fn gotosocial_hides_its_peers_behind_401_and_its_robots_txt_refuses_nodeinfo() {
    let sim = spawn_sim(
        WorldConfig {
            servers: Some(400),
            failures: FailureMix::none(),
            latency: LatencyModel::ZERO,
            ..WorldConfig::new(Scenario::Migration2022, 7)
        },
        mid_migration(),
    )
    .await;
    let server = alive_where(&sim, |s| s.software == Software::Gotosocial);
    let response = get(&sim, &url(&sim, &server, "/api/v1/instance/peers")).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body["error"],
        "Unauthorized: peers open query requires an authenticated account/user"
    );
    let robots = get(&sim, &url(&sim, &server, "/robots.txt"))
        .await
        .text()
        .await
        .expect("text");
    // Every GoToSocial release of 2022 refuses every crawler NodeInfo: `Disallow: /` before
    // 0.6.0, `Disallow: /.well-known/` and `/api/` in 0.6 (see endpoints::robots).
    assert!(
        robots == "User-agent: *\nDisallow: /\n"
            || (robots.starts_with("User-agent: *\nCrawl-delay: 500\n")
                && robots.contains("Disallow: /api/\n")
                && robots.contains("Disallow: /.well-known/\n")),
        "{robots}"
    );
    assert!(sim.world.robots_refuses_us(server.id, mid_migration()));
}

#[tokio::test]
async fn peer_lists_served_over_http_carry_real_junk_ssrf_bait_and_the_flood() {
    // The full default world: junk, bait and the flood come at the field's rates.
    let config = WorldConfig {
        latency: LatencyModel::ZERO,
        ..WorldConfig::new(Scenario::Migration2022, 7)
    };
    let sim = spawn_sim(config, mid_migration()).await;
    let url = sim.url(true, "mastodon.social", "/api/v1/instance/peers");
    let peers: Vec<String> = sim
        .client
        .get(&url)
        .send()
        .await
        .expect("mastodon.social answers")
        .json()
        .await
        .expect("a JSON array of strings");
    assert!(peers.len() > 5_000, "{} peers", peers.len());

    let has = |what: &str, pred: &dyn Fn(&String) -> bool| {
        assert!(
            peers.iter().any(pred),
            "no {what} in mastodon.social's peers"
        );
    };
    has("IPv4 literal", &|p| p.parse::<std::net::Ipv4Addr>().is_ok());
    has("host:port", &|p| {
        p.rsplit_once(':')
            .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
    });
    has("raw Unicode name", &|p| !p.is_ascii());
    has("punycode name", &|p| p.contains("xn--"));
    has("`*`-obfuscated name", &|p| p.contains('*'));
    has("label of 63+ characters", &|p| {
        p.split('.').any(|l| l.len() >= 63)
    });
    has("uppercase duplicate", &|p| {
        p.bytes().any(|b| b.is_ascii_uppercase())
    });
    has("trailing-dot duplicate", &|p| p.ends_with('.'));
    has("SSRF bait", &|p| {
        sim.world.lookup(p).is_some_and(|s| {
            matches!(
                s.failure,
                Some(Failure::SsrfPrivate | Failure::SsrfLoopback | Failure::SsrfLinkLocal)
            )
        })
    });
    let parent = sim.world.flood_parent().expect("the default mix floods");
    let flood = peers.iter().filter(|p| p.ends_with(parent)).count();
    assert!(flood > 100, "{flood} subdomains of {parent}");
}
