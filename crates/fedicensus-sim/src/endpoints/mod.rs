//! The endpoints each virtual server answers, per software, and the failures it answers with.
//!
//! A crawler is only as good as the servers it was tested against, so every document here copies
//! the shape of a real one (the fixtures in `fixtures/real`, and PROTOCOL.md where no capture
//! exists): the paths each software really uses, its key names and order, its version-specific
//! omissions (Mastodon's missing `localComments`, Lemmy 0.18's missing `services`, Misskey's
//! `null` active counts), filled with the server's own domain, version and the figures the world
//! says it reports at the clock's time.
//!
//! [`Handler::respond`] first lets the server's [`Failure`](crate::failure::Failure) decide whether it answers at all
//! (5xx, challenge pages, redirects, rate limits, endless answers), then routes the request to
//! its software family, then bends the answer by the failure (truncated or gigantic bodies,
//! dripping) and by header quirks. Module map:
//!
//! - `caching` gives each answer its software's `Cache-Control` and validators, and answers a
//!   conditional `GET` whose validator matches with 304.
//! - `failures` holds the per-host rate-limit windows and the canned pages of broken hosts.
//! - `robots` answers `/robots.txt`.
//! - `nodeinfo` answers `/.well-known/nodeinfo`, the NodeInfo documents (with their quirks),
//!   NodeInfo2, `/statistics.json` and Friendica's `statusnet/config.json`.
//! - `mastodon` answers the Mastodon client API's instance endpoints, for every software that
//!   implements them.
//! - `lemmy`, `misskey` and `peertube` answer those families' own APIs.
//!
//! Architecture invariant: no request panics, whatever its method, host, path or query; a request
//! the server would not understand gets the 404 that software gives.

mod caching;
pub(crate) mod failures;
mod lemmy;
mod mastodon;
mod misskey;
pub(crate) mod nodeinfo;
mod peertube;
pub(crate) mod robots;

use crate::clock::SimClock;
use crate::failure::Quirk;
use crate::response::{SimBody, SimRequest, SimResponse};
use crate::world::{Figures, Server, World};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use fedicensus_core::Software;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub use nodeinfo::NodeInfoVersion;

/// How long a [`Failure::Hang`](crate::failure::Failure::Hang) server keeps a connection silent by default.
pub const DEFAULT_HANG: Duration = Duration::from_secs(120);
/// How many bytes a [`Failure::Drip`](crate::failure::Failure::Drip) server sends at a time by default.
pub const DEFAULT_DRIP_CHUNK: usize = 16;
/// How long a [`Failure::Drip`](crate::failure::Failure::Drip) server waits between chunks by default.
pub const DEFAULT_DRIP_EVERY: Duration = Duration::from_millis(500);
/// How many requests a rate-limited host answers per window by default.
pub const DEFAULT_RATE_BURST: u32 = 3;
/// The length of a rate-limited host's window by default (wall time).
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(10);
/// The length of a [`Failure::HugeBody`](crate::failure::Failure::HugeBody) NodeInfo by default: 30 MB, beyond any sane body cap.
pub const DEFAULT_HUGE_LEN: u64 = 30 * 1024 * 1024;
/// What a [`Failure::GzipBomb`](crate::failure::Failure::GzipBomb) NodeInfo inflates to by default: 1 GiB.
pub const DEFAULT_BOMB_INFLATED: u64 = 1024 * 1024 * 1024;

/// The knobs of the handler's misbehaviour that tests want to shrink.
#[derive(Debug, Clone)]
pub struct HandlerConfig {
    /// How long a hanging server stays silent.
    pub hang: Duration,
    /// Bytes per chunk of a dripping answer.
    pub drip_chunk: usize,
    /// Pause between chunks of a dripping answer.
    pub drip_every: Duration,
    /// Requests a rate-limited host answers per window before it answers 429.
    pub rate_burst: u32,
    /// The rate-limit window (wall time).
    pub rate_window: Duration,
    /// Length of a huge NodeInfo body.
    pub huge_len: u64,
    /// Inflated length of a gzip-bomb NodeInfo body.
    pub bomb_inflated: u64,
}

impl Default for HandlerConfig {
    fn default() -> HandlerConfig {
        HandlerConfig {
            hang: DEFAULT_HANG,
            drip_chunk: DEFAULT_DRIP_CHUNK,
            drip_every: DEFAULT_DRIP_EVERY,
            rate_burst: DEFAULT_RATE_BURST,
            rate_window: DEFAULT_RATE_WINDOW,
            huge_len: DEFAULT_HUGE_LEN,
            bomb_inflated: DEFAULT_BOMB_INFLATED,
        }
    }
}

/// Answers requests for every server of one world. Holds the little mutable state real servers
/// have (rate-limit windows), so one handler is shared by every connection.
#[derive(Debug)]
pub struct Handler {
    world: Arc<World>,
    clock: SimClock,
    config: HandlerConfig,
    limits: failures::RateLimits,
}

/// What kind of endpoint answered, so the failure and quirk post-processing knows what to bend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Robots,
    WellKnown,
    NodeInfo,
    /// `/api/v1/instance`, `/api/v2/instance` and the like: where `X-Robots-Tag` matters.
    Instance,
    /// Any other JSON API answer.
    Api,
    /// Anything else (HTML pages, 404s).
    Other,
}

/// Everything an endpoint needs to answer one request.
pub(crate) struct Ctx<'a> {
    pub world: &'a World,
    pub server: &'a Server,
    pub req: &'a SimRequest,
    pub now: DateTime<Utc>,
    /// The figures the server reports now (fakes included).
    pub figures: Figures,
}

impl Ctx<'_> {
    /// The server's base URL, as it advertises itself.
    pub fn base(&self) -> String {
        format!("https://{}", self.server.domain)
    }

    /// A stable pseudo-random number for one per-server trait (`salt` names the trait), so that
    /// the same server always makes the same choices and different traits are independent.
    pub fn trait_hash(&self, salt: &str) -> u64 {
        trait_hash(self.world.config().seed, &self.server.domain, salt)
    }

    /// Whether the server has the per-server trait `salt`, which `percent` % of servers have.
    pub fn has_trait(&self, salt: &str, percent: u64) -> bool {
        self.trait_hash(salt) % 100 < percent
    }

    /// The languages the server declares, as its documents list them (see
    /// [`crate::languages`]).
    pub fn languages(&self) -> serde_json::Value {
        serde_json::json!(crate::languages::declared(
            self.world,
            self.server,
            self.now
        ))
    }

    pub fn quirk(&self, quirk: Quirk) -> bool {
        self.server.quirks.has(quirk)
    }

    /// `(major, minor, patch)` of the version the server runs now, read leniently.
    pub fn version(&self) -> (u64, u64, u64) {
        version_triple(self.version_str())
    }

    /// The raw version string the server runs now (a crawl at 2022-09-01 sees no 4.0).
    pub fn version_str(&self) -> &str {
        self.world.version_at(self.server.id, self.now)
    }

    /// A human title for the server, derived from its domain (hostile markup for a server with
    /// [`Quirk::HostileStrings`]).
    pub fn title(&self) -> String {
        if self.quirk(Quirk::HostileStrings) {
            return crate::failure::HOSTILE_TITLE.to_owned();
        }
        title_for(&self.server.domain)
    }

    /// The `software.version` NodeInfo documents carry: the version, or for a server with
    /// [`Quirk::HostileStrings`] a formula with markup around it.
    pub fn nodeinfo_version(&self) -> String {
        self.world.nodeinfo_version_at(self.server.id, self.now)
    }

    pub fn is_get(&self) -> bool {
        self.req.method.eq_ignore_ascii_case("GET") || self.req.method.eq_ignore_ascii_case("HEAD")
    }
}

impl Handler {
    /// A handler for `world`, answering as the world is at `clock`'s time.
    pub fn new(world: Arc<World>, clock: SimClock) -> Handler {
        Handler::with_config(world, clock, HandlerConfig::default())
    }

    /// A handler with non-default misbehaviour knobs (short hangs and windows for tests).
    pub fn with_config(world: Arc<World>, clock: SimClock, config: HandlerConfig) -> Handler {
        Handler {
            world,
            clock,
            config,
            limits: failures::RateLimits::default(),
        }
    }

    /// The world it serves.
    pub fn world(&self) -> &Arc<World> {
        &self.world
    }

    /// The clock it reads.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The misbehaviour knobs it uses.
    pub fn config(&self) -> &HandlerConfig {
        &self.config
    }

    /// What the server named in `req.host` answers to `req`.
    pub fn respond(&self, req: &SimRequest) -> SimResponse {
        answer(
            &self.world,
            &self.config,
            &self.limits,
            req,
            self.clock.now(),
        )
    }
}

/// What the server named in `req.host` answers to `req` at `now` (the handler's work, also used
/// by [`crate::lower_bound`] to know how long a dripping answer takes).
pub(crate) fn answer(
    world: &World,
    config: &HandlerConfig,
    limits: &failures::RateLimits,
    req: &SimRequest,
    now: DateTime<Utc>,
) -> SimResponse {
    let host = req.host.trim().trim_end_matches('.').to_ascii_lowercase();
    let Some(server) = world.lookup(&host) else {
        return failures::no_such_site();
    };
    let state = world.state(server.id, now);
    if !state.alive {
        return failures::dead(world, server, now);
    }
    let ctx = Ctx {
        world,
        server,
        req,
        now,
        figures: world.reported(server.id, now),
    };
    let mut rate_headers = Vec::new();
    if let Some(failure) = server.failure {
        match failures::before_routing(&ctx, failure, config, limits) {
            failures::Gate::Answer(response) => return response,
            failures::Gate::Pass { headers } => rate_headers = headers,
        }
    }
    let (kind, mut response) = route(&ctx);
    if let Some(failure) = server.failure {
        response = failures::after_routing(&ctx, failure, kind, response, config);
    }
    if server.quirks.has(Quirk::NoIndexHeader)
        && matches!(
            kind,
            Kind::NodeInfo | Kind::Instance | Kind::Robots | Kind::WellKnown
        )
    {
        response = response.header("x-robots-tag", "noindex");
    }
    if matches!(kind, Kind::Instance | Kind::Api) {
        response.headers.extend(rate_headers);
    }
    caching::apply(&ctx, kind, response)
}

fn route(ctx: &Ctx<'_>) -> (Kind, SimResponse) {
    let path = ctx.req.path.as_str();
    if path == "/robots.txt" {
        return (Kind::Robots, robots::robots(ctx));
    }
    if let Some(answer) = nodeinfo::route(ctx) {
        return answer;
    }
    let software = &ctx.server.software;
    let family = if software.speaks_mastodon_api() || crate::world::is_mitra(software) {
        mastodon::route(ctx)
    } else if software.is_misskey_family() {
        misskey::route(ctx)
    } else if *software == Software::Lemmy {
        lemmy::route(ctx)
    } else if *software == Software::Peertube {
        peertube::route(ctx)
    } else {
        None
    };
    family.unwrap_or_else(|| (Kind::Other, not_found(ctx)))
}

/// The 404 the server's software gives for a path it does not know.
pub(crate) fn not_found(ctx: &Ctx<'_>) -> SimResponse {
    match ctx.server.software {
        Software::Mastodon if ctx.req.path.starts_with("/api/") => {
            json_status(404, r#"{"error":"Record not found"}"#)
        }
        Software::Lemmy if ctx.req.path.starts_with("/api/") => {
            json_status(404, r#"{"error":"couldnt_find_object"}"#)
        }
        // actix-web's default 404: no body, no type (live fixture
        // mitra-5.9.1/api_v1_instance_activity.headers).
        ref s if crate::world::is_mitra(s) && ctx.req.path.starts_with("/api/") => {
            SimResponse::empty(404)
        }
        _ => html(404, "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The page you are looking for isn't here.</p></body></html>\n"),
    }
}

/// A JSON answer with a status.
pub(crate) fn json_status(status: u16, body: impl Into<Bytes>) -> SimResponse {
    SimResponse::with_type(status, "application/json; charset=utf-8", body)
}

/// An HTML answer with a status.
pub(crate) fn html(status: u16, body: impl Into<Bytes>) -> SimResponse {
    SimResponse::with_type(status, "text/html; charset=utf-8", body)
}

/// A 200 JSON answer of `value`, serialized with `order` deciding which keys come first.
pub(crate) fn json_ordered(value: &Value, order: KeyOrder) -> SimResponse {
    SimResponse::json(to_json(value, order))
}

/// Serializes `value` with object keys in the order `order` gives.
pub(crate) fn to_json(value: &Value, order: KeyOrder) -> Vec<u8> {
    // Serializing a `Value` into a Vec cannot fail: every key is a string.
    serde_json::to_vec(&Ordered { value, order }).unwrap_or_default()
}

/// How object keys are ordered when a document is written out. Real software writes its keys in
/// the order its serializer declares them; a crawler must not care, but the documents should look
/// like the real ones.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyOrder {
    /// Alphabetical (Pixelfed and Firefish really sort their keys).
    Sorted,
    /// Keys in this list come first, in its order (at every level); the rest alphabetically.
    Ranked(&'static [&'static str]),
}

struct Ordered<'a> {
    value: &'a Value,
    order: KeyOrder,
}

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                if let KeyOrder::Ranked(rank) = self.order {
                    entries.sort_by_key(|(k, _)| {
                        (
                            rank.iter().position(|r| r == k).unwrap_or(usize::MAX),
                            k.as_str(),
                        )
                    });
                }
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    out.serialize_entry(
                        k,
                        &Ordered {
                            value: v,
                            order: self.order,
                        },
                    )?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for v in items {
                    out.serialize_element(&Ordered {
                        value: v,
                        order: self.order,
                    })?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// A stable 64-bit hash of a server's trait: FNV-1a over seed, domain and salt, then mixed.
pub(crate) fn trait_hash(seed: u64, domain: &str, salt: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in domain.bytes().chain([0]).chain(salt.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64 finaliser, so that nearby inputs give unrelated outputs.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The leading `major.minor.patch` numbers of a version string; missing parts are 0. Reads
/// `v0.13.0 git-31e37d2`, `4.1.5+glitch`, `2023.05-1518` and `0.19.4-rc.1` alike.
pub(crate) fn version_triple(version: &str) -> (u64, u64, u64) {
    let start = version
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(version.len());
    let mut parts = version[start..].split('.').map(|p| {
        let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse::<u64>().ok()
    });
    let major = parts.next().flatten().unwrap_or(0);
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    (major, minor, patch)
}

/// A plausible instance title for a domain: its most telling label, capitalised.
pub(crate) fn title_for(domain: &str) -> String {
    let labels: Vec<&str> = domain.split('.').collect();
    let generic = [
        "social",
        "mastodon",
        "masto",
        "www",
        "fedi",
        "pleroma",
        "misskey",
        "lemmy",
        "video",
        "tube",
        "pixelfed",
        "friendica",
    ];
    let pick = labels
        .iter()
        .take(labels.len().saturating_sub(1).max(1))
        .find(|l| !generic.contains(l))
        .or(labels.first())
        .copied()
        .unwrap_or("fediverse");
    let mut chars = pick.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Fediverse".into(),
    }
}

/// Replaces a complete body, keeping status and headers.
pub(crate) fn with_body(mut response: SimResponse, body: SimBody) -> SimResponse {
    response.body = body;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_leniently() {
        assert_eq!(version_triple("4.1.5+glitch"), (4, 1, 5));
        assert_eq!(version_triple("v0.13.0 git-31e37d2"), (0, 13, 0));
        assert_eq!(version_triple("0.19.4-rc.1"), (0, 19, 4));
        assert_eq!(version_triple("2023.05-1518"), (2023, 5, 0));
        assert_eq!(version_triple(""), (0, 0, 0));
        assert_eq!(version_triple("unknown"), (0, 0, 0));
    }

    #[test]
    fn ranked_keys_come_first_and_the_rest_sorted() {
        let v = serde_json::json!({"b": 1, "href": "x", "rel": "y", "a": {"rel": 1, "href": 2}});
        let out = String::from_utf8(to_json(&v, KeyOrder::Ranked(&["rel", "href"]))).unwrap();
        assert_eq!(
            out,
            r#"{"rel":"y","href":"x","a":{"rel":1,"href":2},"b":1}"#
        );
    }

    #[test]
    fn titles_come_from_the_telling_label() {
        assert_eq!(title_for("mastodon.social"), "Mastodon");
        assert_eq!(title_for("social.example.org"), "Example");
        assert_eq!(title_for("fosstodon.org"), "Fosstodon");
    }
}
