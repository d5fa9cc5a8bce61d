//! Every document the simulator serves, against the real world: NodeInfo against the official
//! schemas, and every kind of document against a consumer-side parser that also parses the real
//! captured documents of that kind, with the numbers the world says the server reports.
//!
//! These tests call `Handler::respond` directly: they check what servers say, not how the bytes
//! travel (the failures and transport tests do that through sockets).

use chrono::{DateTime, TimeZone, Utc};
use fedicensus_core::Software;
use fedicensus_sim::endpoints::Handler;
use fedicensus_sim::{
    FailureMix, Figures, Scenario, Server, SimBody, SimClock, SimRequest, SimResponse, World,
    WorldConfig,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The moment every test here looks at: mid-migration.
fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 11, 15, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// One default-mix world, shared: big enough that every software family has clean servers.
fn world() -> Arc<World> {
    static WORLD: OnceLock<Arc<World>> = OnceLock::new();
    WORLD
        .get_or_init(|| {
            let config = WorldConfig {
                servers: Some(6_000),
                ..WorldConfig::new(Scenario::Migration2022, 11)
            };
            Arc::new(World::generate(config))
        })
        .clone()
}

/// A second world without any failure or quirk, so rare families have clean servers too.
fn clean_world() -> Arc<World> {
    static WORLD: OnceLock<Arc<World>> = OnceLock::new();
    WORLD
        .get_or_init(|| {
            let config = WorldConfig {
                servers: Some(6_000),
                failures: FailureMix::none(),
                ..WorldConfig::new(Scenario::Migration2022, 12)
            };
            Arc::new(World::generate(config))
        })
        .clone()
}

fn handler(world: Arc<World>) -> Handler {
    Handler::new(world, SimClock::starting_at(at()))
}

/// Up to `per_family` servers of every software that answer normally at [`at`]: alive, no
/// failure, no quirk. Keyed by software name (`Other` names included).
fn clean_servers(world: &World, per_family: usize) -> BTreeMap<String, Vec<Server>> {
    let mut out: BTreeMap<String, Vec<Server>> = BTreeMap::new();
    for server in world.servers() {
        if server.failure.is_some()
            || !server.quirks.is_empty()
            || server.flood
            || !world.state(server.id, at()).alive
        {
            continue;
        }
        let list = out.entry(server.software.as_str().to_string()).or_default();
        if list.len() < per_family {
            list.push(server.clone());
        }
    }
    out
}

/// Clean servers of both worlds, each with its handler's world.
fn samples(per_family: usize) -> Vec<(Arc<World>, Server)> {
    let mut out = Vec::new();
    for w in [world(), clean_world()] {
        for servers in clean_servers(&w, per_family).into_values() {
            out.extend(servers.into_iter().map(|s| (w.clone(), s)));
        }
    }
    out
}

fn request(method: &str, host: &str, path: &str) -> SimRequest {
    SimRequest {
        method: method.into(),
        host: host.into(),
        path: path.into(),
        query: None,
        https: true,
        user_agent: Some("fedicensus-tests".into()),
        accept: Some("application/json".into()),
        if_none_match: None,
        if_modified_since: None,
    }
}

fn body(response: &SimResponse) -> &[u8] {
    match &response.body {
        SimBody::Full(b) => b,
        other => panic!("expected a complete body, got {other:?}"),
    }
}

fn header<'a>(response: &'a SimResponse, name: &str) -> Option<&'a str> {
    response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// One answer, with the figures the world reports just before and just after it (the clock runs
/// on, so a count may tick between the two).
struct Answer {
    response: SimResponse,
    before: Figures,
    after: Figures,
}

impl Answer {
    fn parse<T: DeserializeOwned>(&self, what: &str) -> T {
        serde_json::from_slice(body(&self.response)).unwrap_or_else(|e| {
            panic!(
                "{what} does not parse ({e}): {}",
                String::from_utf8_lossy(body(&self.response))
            )
        })
    }

    /// Asserts that a served count is what the world reports.
    fn check(&self, what: &str, served: u64, figure: fn(&Figures) -> u64) {
        assert!(
            served == figure(&self.before) || served == figure(&self.after),
            "{what}: served {served}, the world reports {}",
            figure(&self.before)
        );
    }
}

fn ask(handler: &Handler, server: &Server, method: &str, path: &str) -> Answer {
    let world = handler.world();
    let before = world.reported(server.id, handler.clock().now());
    let response = handler.respond(&request(method, &server.domain, path));
    let after = world.reported(server.id, handler.clock().now());
    Answer {
        response,
        before,
        after,
    }
}

/// The path of a link's href (absolute, relative or scheme-less), on the server's own host.
fn path_of(href: &str) -> String {
    let rest = href.split_once("://").map(|(_, r)| r).unwrap_or(href);
    if rest.starts_with('/') {
        return rest.to_string();
    }
    match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => "/".into(),
    }
}

const NODEINFO_REL: &str = "http://nodeinfo.diaspora.software/ns/schema/";

// ---- consumer-side shapes, as a lenient crawler reads each kind of document ----

#[derive(Debug, Deserialize)]
struct Jrd {
    links: Vec<JrdLink>,
}

#[derive(Debug, Deserialize)]
struct JrdLink {
    rel: String,
    href: String,
}

/// A count as real servers send it: a number, a numeric string, null, or junk.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Count {
    Int(i64),
    Str(String),
    Other(serde::de::IgnoredAny),
}

impl Count {
    fn value(&self) -> Option<u64> {
        match self {
            Count::Int(n) => u64::try_from(*n).ok(),
            Count::Str(s) => s.trim().parse().ok(),
            Count::Other(_) => None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct NodeInfo {
    version: String,
    software: NodeInfoSoftware,
    protocols: Value,
    services: Option<Value>,
    open_registrations: Option<bool>,
    usage: NodeInfoUsage,
    metadata: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct NodeInfoSoftware {
    name: String,
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeInfoUsage {
    users: Option<NodeInfoUsers>,
    local_posts: Option<Count>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeInfoUsers {
    total: Option<Count>,
    active_month: Option<Count>,
    active_halfyear: Option<Count>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct InstanceV1 {
    uri: String,
    title: String,
    version: String,
    stats: InstanceStats,
    registrations: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct InstanceStats {
    user_count: u64,
    status_count: u64,
    domain_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct InstanceV2 {
    domain: String,
    title: String,
    version: String,
    usage: InstanceV2Usage,
    registrations: InstanceV2Registrations,
}

#[derive(Debug, Deserialize)]
struct InstanceV2Usage {
    users: InstanceV2Users,
}

#[derive(Debug, Deserialize)]
struct InstanceV2Users {
    active_month: u64,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct InstanceV2Registrations {
    enabled: bool,
}

#[derive(Debug, Deserialize)]
struct ActivityWeek {
    week: String,
    statuses: String,
    logins: String,
    registrations: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct DomainBlock {
    domain: String,
    digest: String,
    severity: String,
    comment: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct MisskeyMeta {
    version: String,
    name: Option<String>,
    uri: String,
    disable_registration: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct MisskeyStats {
    notes_count: u64,
    original_notes_count: u64,
    users_count: u64,
    original_users_count: u64,
    instances: u64,
    drive_usage_local: u64,
    drive_usage_remote: u64,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct LemmySite {
    site_view: LemmySiteView,
    version: String,
    federated_instances: Option<Option<LemmyLinked<String>>>,
}

#[derive(Debug, Deserialize)]
struct LemmySiteView {
    site: LemmySiteInner,
    counts: LemmyCounts,
}

#[derive(Debug, Deserialize)]
struct LemmySiteInner {
    /// The site's actor came with 0.16; 0.15's site has none.
    actor_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct LemmyCounts {
    users: u64,
    posts: u64,
    comments: u64,
    communities: u64,
    users_active_day: u64,
    users_active_week: u64,
    users_active_month: u64,
    users_active_half_year: u64,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct LemmyLinked<T> {
    linked: Vec<T>,
    allowed: Option<Vec<T>>,
    blocked: Option<Vec<T>>,
}

#[derive(Debug, Deserialize)]
struct LemmyFederated {
    federated_instances: Option<LemmyLinked<LemmyInstance>>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct LemmyInstance {
    id: u64,
    domain: String,
    published: String,
    software: Option<String>,
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct PeertubeStats {
    total_users: u64,
    total_daily_active_users: u64,
    total_weekly_active_users: u64,
    total_monthly_active_users: u64,
    total_local_videos: u64,
    total_local_video_comments: u64,
    total_videos: u64,
    total_instance_followers: u64,
    total_instance_following: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct PeertubeConfig {
    instance: PeertubeConfigInstance,
    server_version: String,
    signup: PeertubeSignup,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct PeertubeConfigInstance {
    name: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct PeertubeSignup {
    allowed: bool,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Statistics {
    name: String,
    network: String,
    version: String,
    registrations_open: bool,
    total_users: Option<u64>,
    active_users_monthly: Option<u64>,
    local_posts: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct NodeInfo2 {
    version: String,
    server: NodeInfo2Server,
    open_registrations: bool,
    usage: NodeInfoUsage,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct NodeInfo2Server {
    base_url: String,
    software: String,
    version: String,
}

// ---- fixtures ----

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("real").join(path))
        .unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

fn parse_fixture<T: DeserializeOwned>(path: &str) -> T {
    serde_json::from_slice(&fixture(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

fn schema(version: &str) -> jsonschema::Validator {
    let path = fixtures().join(format!("nodeinfo-schemas/nodeinfo-{version}.schema.json"));
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_slice(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the official schema compiles")
}

/// The NodeInfo links of a server's well-known document: `(version, path)`.
fn nodeinfo_links(handler: &Handler, server: &Server) -> Vec<(String, String)> {
    let answer = ask(handler, server, "GET", "/.well-known/nodeinfo");
    assert_eq!(answer.response.status, 200, "{} well-known", server.domain);
    let jrd: Jrd = answer.parse("the well-known document");
    jrd.links
        .iter()
        .filter_map(|l| {
            l.rel
                .strip_prefix(NODEINFO_REL)
                .map(|v| (v.to_string(), path_of(&l.href)))
        })
        .collect()
}

/// The deviations from the schema that real software of this kind always has (PROTOCOL.md §3
/// and §4.1): the schema test allows exactly these.
fn allowed_deviation(server: &Server, instance_path: &str, message: &str) -> bool {
    let version = server.version.as_str();
    let below = |major: u64, minor: u64, patch: u64| {
        let nums: Vec<u64> = version
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .take(3)
            .filter_map(|p| p.parse().ok())
            .collect();
        let v = (
            nums.first().copied().unwrap_or(0),
            nums.get(1).copied().unwrap_or(0),
            nums.get(2).copied().unwrap_or(0),
        );
        v < (major, minor, patch)
    };
    let missing_services_or_metadata = instance_path.is_empty()
        && (message.contains("\"services\"") || message.contains("\"metadata\""));
    match &server.software {
        // Misskey's active counts are null by design.
        Software::Misskey | Software::Sharkey => {
            instance_path == "/usage/users/activeHalfyear"
                || instance_path == "/usage/users/activeMonth"
        }
        Software::Lemmy => below(0, 19, 0) && missing_services_or_metadata,
        Software::Bookwyrm => missing_services_or_metadata,
        Software::Pixelfed => {
            below(0, 11, 5)
                && (instance_path == "/usage/localPosts" || instance_path == "/usage/users/total")
        }
        // Names outside `^[a-z0-9-]+$` are real (Fediverse Observer lists 23).
        Software::Other(_) => instance_path == "/software/name",
        _ => false,
    }
}

#[test]
fn every_software_serves_nodeinfo_that_validates_against_the_official_schema() {
    let validators: BTreeMap<&str, jsonschema::Validator> = ["1.0", "1.1", "2.0", "2.1", "2.2"]
        .into_iter()
        .map(|v| (v, schema(v)))
        .collect();
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    let mut versions_seen: BTreeMap<String, usize> = BTreeMap::new();
    for (world, server) in samples(6) {
        let handler = handler(world);
        let links = nodeinfo_links(&handler, &server);
        assert!(!links.is_empty(), "{} links no NodeInfo", server.domain);
        for (version, path) in links {
            let answer = ask(&handler, &server, "GET", &path);
            assert_eq!(answer.response.status, 200, "{} {path}", server.domain);
            let content_type = header(&answer.response, "content-type").unwrap_or_default();
            assert!(
                content_type.contains(&format!("schema/{version}#")),
                "{} {path}: content type {content_type}",
                server.domain
            );
            let doc: Value = answer.parse("a NodeInfo document");
            assert_eq!(doc["version"], version.as_str(), "{} {path}", server.domain);
            let validator = validators
                .get(version.as_str())
                .unwrap_or_else(|| panic!("{} links unknown version {version}", server.domain));
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .map(|e| (e.instance_path().to_string(), e.to_string()))
                .filter(|(path, message)| !allowed_deviation(&server, path, message))
                .map(|(path, message)| format!("{path}: {message}"))
                .collect();
            assert!(
                errors.is_empty(),
                "{} ({} {}) NodeInfo {version} at {path} breaks the schema: {errors:?}\n{doc}",
                server.domain,
                server.software,
                server.version
            );
            *versions_seen.entry(version).or_default() += 1;
        }
        *checked
            .entry(server.software.as_str().to_string())
            .or_default() += 1;
    }
    // Every family alive in the clean world (some, like Sharkey or Mbin, were born after 2022).
    let clean = clean_world();
    let alive: std::collections::BTreeSet<&str> = clean
        .servers()
        .iter()
        .filter(|s| clean.state(s.id, at()).alive)
        .map(|s| s.software.as_str())
        .collect();
    for family in Software::NAMED {
        if alive.contains(family.as_str()) {
            assert!(
                checked.contains_key(family.as_str()),
                "no clean {family} server was checked; checked: {checked:?}"
            );
        }
    }
    let named = Software::NAMED
        .iter()
        .filter(|s| checked.contains_key(s.as_str()))
        .count();
    assert!(
        named >= 20,
        "only {named} named families checked: {checked:?}"
    );
    for version in ["1.0", "2.0", "2.1", "2.2"] {
        assert!(
            versions_seen.contains_key(version),
            "no server served NodeInfo {version}: {versions_seen:?}"
        );
    }
}

#[test]
fn real_nodeinfo_and_well_known_fixtures_parse_with_the_consumer_shapes() {
    for path in [
        "mastodon/nodeinfo-2.0-mastodon.social-4.3.0-nightly.json",
        "peertube/nodeinfo-2.0-peertube-5.0.0-blender.json",
        "pixelfed/nodeinfo-2.0-pixelfed-0.11.2-string-numbers.json",
        "pixelfed/nodeinfo-2.0-pixelfed.social-0.12.0.json",
        "pleroma/nodeinfo-2.0-pleroma-2.5.51-shitposterclub.json",
        "pleroma/nodeinfo-2.1-pleroma-localPosts-object.json",
        "akkoma/nodeinfo-2.1-docs-example.json",
        "lemmy/nodeinfo-2.0-lemmy-0.18.5-missing-services-metadata.json",
        "friendica/nodeinfo-2.0-friendica-2023.05.json",
        "diaspora/nodeinfo-1.0-diaspora-0.7.4.json",
        "diaspora/nodeinfo-2.0-diaspora-0.7.4.json",
        "firefish/nodeinfo-2.1-firefish-20240504.json",
        "misskey-forks/nodeinfo-2.1-catodon-24.04-dev.json",
        "misskey-forks/nodeinfo-2.1-meisskey-10.102.json",
        "relay/nodeinfo-2.1-activity-relay-2.0.5.json",
        "misc/nodeinfo-2.1-movary-dev-version-unknown.json",
        "spec/nodeinfo-1.0-example.json",
        "spec/nodeinfo-2.0-example.json",
        "spec/nodeinfo-2.1-example.json",
        "spec/nodeinfo-2.2-example.json",
    ] {
        let doc: NodeInfo = parse_fixture(path);
        assert!(!doc.software.name.is_empty(), "{path}");
    }
    let pixelfed: NodeInfo =
        parse_fixture("pixelfed/nodeinfo-2.0-pixelfed-0.11.2-string-numbers.json");
    let users = pixelfed.usage.users.expect("users");
    assert_eq!(users.total.and_then(|c| c.value()), Some(16));
    let jrd: Jrd = parse_fixture("akkoma/well-known-nodeinfo-docs-example-json-suffix.json");
    assert_eq!(jrd.links.len(), 2);
    let _: Jrd = parse_fixture("misc/well-known-nodeinfo-movary-dev-rel-self-schemeless-href.json");
}

#[test]
fn every_served_nodeinfo_parses_like_the_real_ones_with_the_reported_numbers() {
    for (world, server) in samples(3) {
        let handler = handler(world);
        for (_version, path) in nodeinfo_links(&handler, &server) {
            let answer = ask(&handler, &server, "GET", &path);
            let doc: NodeInfo = answer.parse("a NodeInfo document");
            let what = format!("{} ({}) {path}", server.domain, server.software);
            assert_eq!(doc.software.name, server.software.as_str(), "{what}");
            assert_eq!(
                doc.software.version,
                Some(
                    handler
                        .world()
                        .nodeinfo_version_at(server.id, handler.clock().now())
                )
            );
            let users = doc.usage.users.expect("usage.users");
            match users.total.as_ref().and_then(Count::value) {
                Some(total) => answer.check(&what, total, |f| f.users),
                // go-nodeinfo drops zero values.
                None => assert!(
                    server.software == Software::Writefreely && answer.before.users == 0,
                    "{what}: no users.total"
                ),
            }
            if let Some(month) = users.active_month.as_ref().and_then(Count::value) {
                answer.check(&what, month, |f| f.active_month);
            }
            if let Some(half) = users.active_halfyear.as_ref().and_then(Count::value) {
                answer.check(&what, half, |f| f.active_halfyear);
            }
            if let Some(posts) = doc.usage.local_posts.as_ref().and_then(Count::value) {
                answer.check(&what, posts, |f| f.local_posts);
            }
        }
    }
}

#[test]
fn real_mastodon_api_fixtures_parse_with_the_consumer_shapes() {
    for path in [
        "mastodon/api-v1-instance-mastodon.social-4.0.2.json",
        "mastodon/api-v1-instance-mastodon.social-fixture.json",
        "mastodon/api-v1-instance-2.4.0-null-contact.json",
        "mastodon/api-v1-instance-2.4.1rc1.json",
        "mastodon/api-v1-instance-docs-example.json",
        "mastodon/api-v1-instance-fedibird.com-3.4.1-fork.json",
        "mastodon/api-v1-instance-mstdn.jp-3.5.1.json",
        "mastodon/api-v1-instance-pawoo.net-3.3.3.json",
        "pleroma/api-v1-instance-pleroma-2.0.7.json",
        "pleroma/api-v1-instance-pleroma-0.9.0.json",
    ] {
        let _: InstanceV1 = parse_fixture(path);
    }
    for path in [
        "mastodon/api-v2-instance-docs-example.json",
        "friendica/api-v2-instance-loma.ml.json",
    ] {
        let _: InstanceV2 = parse_fixture(path);
    }
    for path in [
        "mastodon/api-v1-instance-activity-2weeks.json",
        "mastodon/api-v1-instance-activity-docs-example-12weeks.json",
    ] {
        let _: Vec<ActivityWeek> = parse_fixture(path);
    }
    for path in [
        "mastodon/api-v1-instance-peers-minimal.json",
        "mastodon/api-v1-instance-peers-fedi.simonwillison.net-2026-08.json",
        "gotosocial/api-v1-instance-peers-flat-with-obfuscated-domain.json",
    ] {
        let _: Vec<String> = parse_fixture(path);
    }
    let _: DomainBlock = parse_fixture("mastodon/domain-block-entity-obfuscated-docs-example.json");
    for path in [
        "misskey/api-meta-misskey-v10.json",
        "misskey/api-meta-misskey-v12.json",
        "misskey/api-meta-misskey.io-13.12.2.json",
    ] {
        let _: MisskeyMeta = parse_fixture(path);
    }
    let _: MisskeyStats = parse_fixture("misskey/api-stats-fixture.json");
    let _: Statistics = parse_fixture("diaspora/statistics.json-diaspora-0.5.7.json");
    let _: NodeInfo2 = parse_fixture("nodeinfo2/x-nodeinfo2-1.0-example.json");
}

#[test]
fn every_served_api_document_parses_like_the_real_ones_with_the_reported_numbers() {
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for (world, server) in samples(10) {
        let handler = handler(world.clone());
        let what = |path: &str| {
            format!(
                "{} ({} {}) {path}",
                server.domain, server.software, server.version
            )
        };
        let peers = || world.peers(server.id, handler.clock().now());
        let software = &server.software;

        // Takahē's client API starts with 0.6.0 (api/views/instance.py): before it, a 404.
        let takahe_without_api = *software == Software::Takahe
            && !world
                .version_at(server.id, handler.clock().now())
                .starts_with("0.6");
        if takahe_without_api {
            let answer = ask(&handler, &server, "GET", "/api/v1/instance");
            assert_eq!(answer.response.status, 404, "{}", what("/api/v1/instance"));
        }
        if software.speaks_mastodon_api() && !takahe_without_api {
            let answer = ask(&handler, &server, "GET", "/api/v1/instance");
            assert_eq!(answer.response.status, 200, "{}", what("/api/v1/instance"));
            let doc: InstanceV1 = answer.parse("/api/v1/instance");
            answer.check(&what("user_count"), doc.stats.user_count, |f| f.users);
            answer.check(&what("status_count"), doc.stats.status_count, |f| {
                f.local_posts
            });
            if let Some(domains) = doc.stats.domain_count {
                assert!(domains >= peers().len() as u64, "{}", what("domain_count"));
            }
            match software {
                Software::Pleroma | Software::Akkoma => {
                    assert!(doc.uri.starts_with("https://"), "{}", what("uri"));
                    assert!(doc.version.contains("(compatible; "), "{}", what("version"));
                }
                Software::Pixelfed | Software::Friendica => {
                    assert!(doc.version.contains("(compatible; "), "{}", what("version"));
                }
                _ => {}
            }
            *kinds.entry("instance v1").or_default() += 1;

            let answer = ask(&handler, &server, "GET", "/api/v2/instance");
            if answer.response.status == 200 {
                let doc: InstanceV2 = answer.parse("/api/v2/instance");
                answer.check(&what("active_month"), doc.usage.users.active_month, |f| {
                    f.active_month
                });
                *kinds.entry("instance v2").or_default() += 1;
            }

            let answer = ask(&handler, &server, "GET", "/api/v1/instance/peers");
            if answer.response.status == 200 {
                let served: Vec<String> = answer.parse("peers");
                assert_eq!(served, peers(), "{}", what("peers"));
                *kinds.entry("peers").or_default() += 1;
            } else if *software == Software::Gotosocial {
                assert_eq!(answer.response.status, 401);
            }

            let answer = ask(&handler, &server, "GET", "/api/v1/instance/activity");
            if answer.response.status == 200 {
                let weeks: Vec<ActivityWeek> = answer.parse("activity");
                let now = handler.clock().now();
                let truth = world.activity(server.id, now);
                assert_eq!(weeks.len(), 12, "{}", what("activity"));
                assert_eq!(weeks.len(), truth.len());
                for (served, truth) in weeks.iter().zip(&truth) {
                    assert_eq!(served.week, truth.week.to_string());
                    assert_eq!(served.statuses, truth.statuses.to_string());
                    assert_eq!(served.logins, truth.logins.to_string());
                    assert_eq!(served.registrations, truth.registrations.to_string());
                }
                *kinds.entry("activity").or_default() += 1;
            }

            let answer = ask(&handler, &server, "GET", "/api/v1/instance/domain_blocks");
            if answer.response.status == 200 {
                let blocks: Vec<DomainBlock> = answer.parse("domain_blocks");
                for block in blocks {
                    assert_eq!(block.digest.len(), 64);
                    assert!(matches!(block.severity.as_str(), "silence" | "suspend"));
                }
                *kinds.entry("domain_blocks").or_default() += 1;
            } else {
                assert_eq!(answer.response.status, 404);
            }
        }

        if software.is_misskey_family() {
            let answer = ask(&handler, &server, "POST", "/api/meta");
            let meta: MisskeyMeta = answer.parse("/api/meta");
            assert_eq!(
                meta.version,
                world.version_at(server.id, handler.clock().now())
            );
            let answer = ask(&handler, &server, "POST", "/api/stats");
            let stats: MisskeyStats = answer.parse("/api/stats");
            answer.check(
                &what("originalUsersCount"),
                stats.original_users_count,
                |f| f.users,
            );
            answer.check(
                &what("originalNotesCount"),
                stats.original_notes_count,
                |f| f.local_posts,
            );
            assert_eq!(stats.instances, peers().len() as u64);
            let answer = ask(&handler, &server, "GET", "/api/v1/instance/peers");
            let served: Vec<String> = answer.parse("peers");
            assert_eq!(served, peers(), "{}", what("peers"));
            *kinds.entry("misskey").or_default() += 1;
        }

        if *software == Software::Lemmy {
            let answer = ask(&handler, &server, "GET", "/api/v3/site");
            let site: LemmySite = answer.parse("/api/v3/site");
            let actor = site.site_view.site.actor_id;
            if site.version.starts_with("0.15.") {
                assert_eq!(actor, None, "{}", what("0.15 has no site actor"));
            } else {
                assert_eq!(actor, Some(format!("https://{}/", server.domain)));
            }
            let counts = &site.site_view.counts;
            answer.check(&what("users"), counts.users, |f| f.users);
            answer.check(&what("posts"), counts.posts, |f| f.local_posts);
            answer.check(
                &what("users_active_month"),
                counts.users_active_month,
                |f| f.active_month,
            );
            answer.check(&what("half_year"), counts.users_active_half_year, |f| {
                f.active_halfyear
            });
            let answer = ask(&handler, &server, "GET", "/api/v3/federated_instances");
            let linked: Vec<String> = if answer.response.status == 200 {
                let federated: LemmyFederated = answer.parse("federated_instances");
                federated
                    .federated_instances
                    .expect("federation is on")
                    .linked
                    .into_iter()
                    .map(|i| i.domain)
                    .collect()
            } else {
                site.federated_instances
                    .flatten()
                    .expect("peers in the site before 0.18")
                    .linked
            };
            assert_eq!(linked, peers(), "{}", what("lemmy peers"));
            *kinds.entry("lemmy").or_default() += 1;
        }

        if *software == Software::Peertube {
            let answer = ask(&handler, &server, "GET", "/api/v1/server/stats");
            let stats: PeertubeStats = answer.parse("/api/v1/server/stats");
            answer.check(&what("totalUsers"), stats.total_users, |f| f.users);
            answer.check(
                &what("totalMonthlyActiveUsers"),
                stats.total_monthly_active_users,
                |f| f.active_month,
            );
            answer.check(&what("totalLocalVideos"), stats.total_local_videos, |f| {
                f.local_posts
            });
            let answer = ask(&handler, &server, "GET", "/api/v1/config");
            let config: PeertubeConfig = answer.parse("/api/v1/config");
            assert_eq!(
                config.server_version,
                handler.world().version_at(server.id, handler.clock().now())
            );
            *kinds.entry("peertube").or_default() += 1;
        }

        if matches!(software, Software::Diaspora | Software::Friendica) {
            let answer = ask(&handler, &server, "GET", "/statistics.json");
            let stats: Statistics = answer.parse("/statistics.json");
            answer.check(
                &what("total_users"),
                stats.total_users.expect("total_users"),
                |f| f.users,
            );
            *kinds.entry("statistics.json").or_default() += 1;
        }

        if matches!(software, Software::Friendica | Software::Hubzilla) {
            let answer = ask(&handler, &server, "GET", "/.well-known/x-nodeinfo2");
            let doc: NodeInfo2 = answer.parse("x-nodeinfo2");
            assert_eq!(doc.server.base_url, format!("https://{}", server.domain));
            let total = doc
                .usage
                .users
                .and_then(|u| u.total)
                .and_then(|c| c.value());
            answer.check(&what("x-nodeinfo2 total"), total.expect("total"), |f| {
                f.users
            });
            *kinds.entry("x-nodeinfo2").or_default() += 1;
        }
    }
    for kind in [
        "instance v1",
        "instance v2",
        "peers",
        "activity",
        "domain_blocks",
        "misskey",
        "lemmy",
        "peertube",
        "statistics.json",
        "x-nodeinfo2",
    ] {
        assert!(
            kinds.contains_key(kind),
            "no server served {kind}: {kinds:?}"
        );
    }
}

#[test]
fn well_known_documents_have_the_shapes_of_their_software() {
    let mut seen: BTreeMap<&str, bool> = BTreeMap::new();
    for (world, server) in samples(10) {
        let handler = handler(world);
        let answer = ask(&handler, &server, "GET", "/.well-known/nodeinfo");
        let text = String::from_utf8_lossy(body(&answer.response)).to_string();
        let jrd: Jrd = answer.parse("well-known");
        let versions: Vec<&str> = jrd
            .links
            .iter()
            .filter_map(|l| l.rel.strip_prefix(NODEINFO_REL))
            .collect();
        match server.software {
            Software::Pleroma | Software::Akkoma => {
                assert!(text.starts_with(r#"{"links":[{"href":"#), "{text}");
                assert!(jrd.links.iter().all(|l| l.href.ends_with(".json")));
                seen.insert("akkoma", true);
            }
            Software::Misskey => {
                assert_eq!(versions.first(), Some(&"2.1"), "{text}");
                seen.insert("misskey", true);
            }
            Software::Mastodon => {
                assert!(text.starts_with(r#"{"links":[{"rel":"#), "{text}");
                assert!(versions.contains(&"2.0"));
                // Key order as mastodon.social's own document (fixture).
                let doc = ask(&handler, &server, "GET", "/nodeinfo/2.0");
                let text = String::from_utf8_lossy(body(&doc.response)).to_string();
                assert!(
                    text.starts_with(
                        r#"{"version":"2.0","software":{"name":"mastodon","version":"#
                    ),
                    "{text}"
                );
                assert!(
                    text.contains(
                        r#""services":{"outbound":[],"inbound":[]},"usage":{"users":{"total":"#
                    ),
                    "{text}"
                );
                seen.insert("mastodon", true);
            }
            Software::Bookwyrm => {
                assert!(jrd.links[0].href.starts_with("http://"), "{text}");
                seen.insert("bookwyrm", true);
            }
            Software::Diaspora if versions == ["1.0"] => {
                seen.insert("diaspora 1.0 only", true);
            }
            _ => {}
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
}

#[test]
fn no_request_makes_the_handler_panic() {
    let world = world();
    let handler = handler(world.clone());
    let hosts: Vec<String> = world
        .servers()
        .iter()
        .step_by(97)
        .map(|s| s.domain.clone())
        .chain(
            [
                "",
                ".",
                "nonexistent.invalid",
                "UPPER.example",
                "a..b",
                "ümlaut.example",
            ]
            .map(String::from),
        )
        .collect();
    let paths = [
        "/",
        "",
        "/robots.txt",
        "/.well-known/nodeinfo",
        "/nodeinfo/2.0",
        "/nodeinfo/2.1",
        "/nodeinfo/2.0.json",
        "/api/v1/instance",
        "/api/v2/instance",
        "/api/v1/instance/peers",
        "/api/v1/instance/activity",
        "/api/v1/instance/domain_blocks",
        "/api/meta",
        "/api/stats",
        "/api/v3/site",
        "/api/v3/federated_instances",
        "/api/v1/server/stats",
        "/api/v1/config",
        "/statistics.json",
        "/.well-known/x-nodeinfo2",
        "/../../etc/passwd",
        "/%00",
        "/🦣",
    ];
    for host in &hosts {
        for path in paths {
            for method in ["GET", "POST", "HEAD", "DELETE", "BREW"] {
                for accept in [None, Some("application/activity+json"), Some("*/*")] {
                    let mut req = request(method, host, path);
                    req.accept = accept.map(String::from);
                    req.query = Some("filter=open&loop=1&x=%ff".into());
                    let response = handler.respond(&req);
                    assert!((100..600).contains(&response.status));
                }
            }
        }
    }
}
