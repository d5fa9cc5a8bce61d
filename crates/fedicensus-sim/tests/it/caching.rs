//! HTTP caching as each software does it: its `Cache-Control`, its validators, and a `304 Not
//! Modified` to a conditional request whose validator still matches (and only then).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use fedicensus_core::Software;
use fedicensus_sim::endpoints::Handler;
use fedicensus_sim::{
    FailureMix, Scenario, Server, SimBody, SimClock, SimRequest, SimResponse, World, WorldConfig,
};
use std::sync::Arc;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 11, 15, 12, 0, 0)
        .single()
        .expect("a valid date")
}

fn world() -> Arc<World> {
    Arc::new(World::generate(WorldConfig {
        servers: Some(3_000),
        failures: FailureMix::none(),
        ..WorldConfig::new(Scenario::Migration2022, 12)
    }))
}

/// A server of `software` that answers normally at `at`.
fn clean(world: &World, software: Software) -> Server {
    world
        .servers()
        .iter()
        .find(|s| {
            s.software == software
                && s.failure.is_none()
                && s.quirks.is_empty()
                && !s.flood
                && s.opt_out.is_none()
                && world.state(s.id, at()).alive
        })
        .cloned()
        .unwrap_or_else(|| panic!("the world has a clean {software:?} server"))
}

fn get(
    server: &Server,
    path: &str,
    if_none_match: Option<&str>,
    since: Option<&str>,
) -> SimRequest {
    SimRequest {
        method: "GET".into(),
        host: server.domain.clone(),
        path: path.into(),
        query: None,
        https: true,
        user_agent: Some("fedicensus-tests".into()),
        accept: Some("application/json".into()),
        if_none_match: if_none_match.map(str::to_string),
        if_modified_since: since.map(str::to_string),
    }
}

fn header<'a>(response: &'a SimResponse, name: &str) -> Option<&'a str> {
    response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn body_len(response: &SimResponse) -> usize {
    match &response.body {
        SimBody::Full(b) => b.len(),
        other => panic!("expected a complete body, got {other:?}"),
    }
}

#[test]
fn mastodon_gives_rack_etags_and_answers_a_matching_if_none_match_with_304() {
    let world = world();
    let server = clean(&world, Software::Mastodon);
    let handler = Handler::new(world.clone(), SimClock::starting_at(at()));
    let expected = [
        ("/.well-known/nodeinfo", "max-age=259200, public"),
        ("/api/v1/instance", "max-age=180, public"),
        ("/api/v1/instance/peers", "max-age=86400, public"),
        ("/api/v1/instance/activity", "max-age=86400, public"),
    ];
    for (path, cache_control) in expected {
        let first = handler.respond(&get(&server, path, None, None));
        assert_eq!(first.status, 200, "{path}");
        assert_eq!(
            header(&first, "cache-control"),
            Some(cache_control),
            "{path}"
        );
        let etag = header(&first, "etag").expect("an ETag").to_string();
        // Rack::ETag: weak, 32 hex digits of the body's SHA-256.
        assert!(
            etag.starts_with("W/\"") && etag.len() == 32 + 4,
            "{path}: {etag}"
        );
        let again = handler.respond(&get(&server, path, Some(&etag), None));
        assert_eq!(again.status, 304, "{path}");
        assert_eq!(body_len(&again), 0, "{path}");
        assert_eq!(header(&again, "etag"), Some(etag.as_str()), "{path}");
        assert_eq!(header(&again, "content-type"), None, "{path}");
        let other = handler.respond(&get(&server, path, Some("W/\"0123\""), None));
        assert_eq!(other.status, 200, "{path}");
        assert!(body_len(&other) > 0, "{path}");
    }
}

#[test]
fn a_changed_document_is_answered_in_full_whatever_the_validator() {
    let world = world();
    let server = clean(&world, Software::Mastodon);
    let clock = SimClock::starting_at(at());
    let handler = Handler::new(world.clone(), clock.clone());
    let nodeinfo = handler.respond(&get(&server, "/nodeinfo/2.0", None, None));
    let etag = header(&nodeinfo, "etag").expect("an ETag").to_string();
    // A month later the figures differ: the same validator no longer matches.
    clock.set(at() + TimeDelta::days(30));
    let later = handler.respond(&get(&server, "/nodeinfo/2.0", Some(&etag), None));
    assert_eq!(later.status, 200);
    assert_ne!(header(&later, "etag"), Some(etag.as_str()));
}

#[test]
fn mastodon_robots_txt_is_nginx_s_static_file_with_both_validators() {
    let world = world();
    let server = clean(&world, Software::Mastodon);
    let handler = Handler::new(world.clone(), SimClock::starting_at(at()));
    let first = handler.respond(&get(&server, "/robots.txt", None, None));
    let etag = header(&first, "etag").expect("an ETag").to_string();
    assert!(etag.starts_with('"') && etag.contains('-'), "{etag}");
    let since = header(&first, "last-modified")
        .expect("a Last-Modified")
        .to_string();
    assert!(since.ends_with(" GMT"), "{since}");
    assert_eq!(
        handler
            .respond(&get(&server, "/robots.txt", Some(&etag), None))
            .status,
        304
    );
    assert_eq!(
        handler
            .respond(&get(&server, "/robots.txt", None, Some(&since)))
            .status,
        304
    );
    // nginx's `if_modified_since exact`: another date is not a match.
    let other = "Mon, 01 Jan 2001 00:00:00 GMT";
    assert_eq!(
        handler
            .respond(&get(&server, "/robots.txt", None, Some(other)))
            .status,
        200
    );
}

#[test]
fn gotosocial_sends_no_validators_and_forbids_storing_its_client_api() {
    let world = world();
    let server = clean(&world, Software::Gotosocial);
    let handler = Handler::new(world.clone(), SimClock::starting_at(at()));
    let well_known = handler.respond(&get(&server, "/.well-known/nodeinfo", None, None));
    assert_eq!(
        header(&well_known, "cache-control"),
        Some("public, max-age=120")
    );
    let instance = handler.respond(&get(&server, "/api/v1/instance", None, None));
    assert_eq!(instance.status, 200);
    assert_eq!(header(&instance, "cache-control"), Some("no-store"));
    for response in [&well_known, &instance] {
        assert_eq!(header(response, "etag"), None);
        assert_eq!(header(response, "last-modified"), None);
    }
    // Without a validator there is nothing to match: a full answer every time.
    let again = handler.respond(&get(&server, "/api/v1/instance", Some("*"), None));
    assert_eq!(again.status, 200);
}

#[test]
fn lemmy_and_misskey_say_how_long_nodeinfo_is_fresh_without_validators() {
    let world = world();
    for (software, cache_control) in [
        (Software::Lemmy, None),
        (Software::Misskey, Some("public, max-age=600")),
    ] {
        let server = clean(&world, software.clone());
        let handler = Handler::new(world.clone(), SimClock::starting_at(at()));
        let links = handler.respond(&get(&server, "/.well-known/nodeinfo", None, None));
        let links: serde_json::Value = serde_json::from_slice(match &links.body {
            SimBody::Full(b) => b,
            _ => panic!("a complete body"),
        })
        .expect("JSON");
        let href = links["links"][0]["href"].as_str().expect("a link");
        let path = href
            .split_once("://")
            .map(|(_, r)| &r[r.find('/').unwrap_or(0)..])
            .unwrap_or(href);
        let nodeinfo = handler.respond(&get(&server, path, None, None));
        assert_eq!(nodeinfo.status, 200, "{software:?} {path}");
        // Lemmy's headers start with 0.18.4 (2023): in November 2022 it sent none.
        assert_eq!(
            header(&nodeinfo, "cache-control"),
            cache_control,
            "{software:?}"
        );
        assert_eq!(header(&nodeinfo, "etag"), None, "{software:?}");
    }
}
