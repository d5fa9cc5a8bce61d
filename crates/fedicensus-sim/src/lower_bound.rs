//! The least wall time in which any polite crawler could finish a complete crawl of the world.
//!
//! A benchmark that says "the crawl took 41 s" means little alone; next to "no crawler with these
//! settings could have taken less than 35 s" it says how close to the limit the crawler is. The
//! bound is computed from the world model, never from a crawl.
//!
//! # The model
//! * **Which hosts.** Every world server a crawler finds by following peer lists from the seeds
//!   ([`World::discoverable_from`]), dead and failing ones included (it cannot know they are dead
//!   before trying). Junk entries of peer lists cost nothing (a crawler can reject them unseen).
//! * **Which requests.** A complete crawl of a healthy host asks `robots.txt`,
//!   `/.well-known/nodeinfo` and the NodeInfo document (on a second Takahē domain, whose link
//!   names the main domain, the same path on the host itself), then by what the server serves:
//!   Mastodon `/api/v2/instance`, `/api/v1/instance`, activity and peers (4); Lemmy site and
//!   `federated_instances` (2); PeerTube server stats (1); the Misskey family `api/meta`,
//!   `api/stats` and peers (3); any other server is asked `/api/v1/instance`, and if that
//!   answers an instance document (decided from the simulator's own answer, not from the
//!   software's name: Mitra answers it, Takahē before 0.6.0 does not) also v2, activity and
//!   peers (4); if it does not, a server of a family core says speaks the Mastodon API (or one
//!   that answered 401) is still asked activity and peers (3), any other nothing more (1). Quirks
//!   do not change the count (a disabled endpoint still costs its request).
//! * **robots.txt refusals stop after `robots.txt`** (1 request): the robots failures, an
//!   opt-out window that covers the day, GoToSocial's built-in robots.txt
//!   ([`World::robots_refuses_us`]).
//! * **Failures stop early.** NXDOMAIN (unknown, unborn, lapsed, `NoSuchDomain`), SSRF bait
//!   (never connected to) and refused connections cost no request and no time (the refusal of a
//!   loopback address is immediate). `Hang` costs one request of `request_timeout`; `BadTls`
//!   one failed handshake (2 round trips). `RobotsDisallowUs`/`RobotsDisallowAll` and `Moved`
//!   stop after `robots.txt` (1 request; the move target is crawled as its own host); 5xx,
//!   Cloudflare, parked HTML, `Gone` (failure or death mode), redirect loops, malformed JSON,
//!   huge and gzip-bomb bodies stop after the well-known document (2 requests).
//!   `RedirectOtherHost` costs the 3 NodeInfo requests. Rate-limited hosts are counted as
//!   healthy: the bound assumes the rate limit's burst does not bind (a lower bound may ignore
//!   costs; it must not invent them).
//! * **Dripping hosts** (`Drip`) make the same requests as healthy ones, but each answer takes
//!   as long as the simulator takes to drip it: the simulator's own answer to that request is
//!   computed (same code as serving it), and its body costs `(chunks - 1) × every` on top of
//!   the round trip (the simulator's defaults: 16 bytes every 500 ms, at most 300 s a body),
//!   or the request timeout if that comes first (any crawler with that timeout gives up
//!   there). A request given up at the timeout is the host's last: fedicensus asks a host
//!   that let one document time out for nothing more in that visit (the NodeInfo documents
//!   end the visit anyway; an instance API document ends its optional requests), so the bound
//!   counts no request after it. Paths are known for the Mastodon API (robots.txt,
//!   well-known, the NodeInfo document, then `/api/v2/instance`, `/api/v1/instance`,
//!   activity, peers; v1 instance and peers for the other Mastodon-API software); the other
//!   software's dripping API answers are charged one round trip (still a lower bound).
//!   Ignoring the drip, as the bound did before, left a dripping Mastodon host (60 s or more
//!   with the crawler's 15 s timeout) out of the longest chain, so the bound was loose.
//! * **Cost of a request.** At least one round trip of the host ([`crate::Server::latency_ms`]);
//!   the first request on a host also pays the connection: one round trip for TCP and one more
//!   for TLS 1.3 (assumption: one kept-alive connection per host, TLS on every host, DNS free).
//! * **Politeness.** A host's requests are sequential and start at least `min_interval` apart,
//!   so a host's chain is `Σ max(cost, min_interval)` over all its requests but the last, plus
//!   the last's cost. Waiting out the interval does not occupy a connection slot, so the busy
//!   time of a host is just `Σ cost`.
//! * **The bound** is `max(total busy time / concurrency, longest host chain)`: no schedule can
//!   beat either the slots' total work or the slowest host.

use crate::endpoints::failures::RateLimits;
use crate::endpoints::nodeinfo::best_document_url;
use crate::endpoints::{answer, HandlerConfig};
use crate::failure::Failure;
use crate::response::{SimBody, SimRequest};
use crate::serve::DEFAULT_MAX_DRIP;
use crate::world::{DeathMode, Server, ServerId, World};
use chrono::{DateTime, Utc};
use fedicensus_core::Software;
use serde::Serialize;
use std::time::Duration;

/// The crawl settings the bound is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CrawlParameters {
    /// Requests in flight at once, across all hosts.
    pub concurrency: usize,
    /// Least time between the starts of two requests to the same host.
    pub min_interval: Duration,
    /// Connect timeout (unused by the model: refused connections on loopback fail at once).
    pub connect_timeout: Duration,
    /// Time after which a request without an answer is given up.
    pub request_timeout: Duration,
}

/// The bound and the figures it is made of.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LowerBound {
    /// World hosts a crawler finds (seeds included).
    pub hosts: usize,
    /// Requests a complete crawl must make.
    pub requests: u64,
    /// The most requests any one host needs.
    pub max_requests_per_host: u64,
    /// Sum of every request's least duration, in seconds.
    pub total_busy_secs: f64,
    /// The slowest host's least chain, in seconds.
    pub longest_chain_secs: f64,
    /// `max(total_busy_secs / concurrency, longest_chain_secs)`.
    pub bound_secs: f64,
}

/// What one host costs: the least duration of each request, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct HostCost {
    pub requests: Vec<f64>,
}

impl HostCost {
    /// The least time from the host's first request to the end of its last.
    pub fn chain_secs(&self, min_interval: f64) -> f64 {
        match self.requests.split_last() {
            None => 0.0,
            Some((last, rest)) => rest.iter().map(|c| c.max(min_interval)).sum::<f64>() + last,
        }
    }

    /// The time the host occupies connection slots.
    pub fn busy_secs(&self) -> f64 {
        self.requests.iter().sum()
    }
}

/// What a crawler learns from a server's `/api/v1/instance` (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MastodonApi {
    /// Not asked (Mastodon, Lemmy, PeerTube, the Misskey family have their own plans).
    NotAsked,
    /// An instance document: v2, activity and peers follow.
    Answers,
    /// No document, but the family speaks the API (or it answered 401): activity and peers follow.
    Assumed,
    /// No document: nothing more.
    Absent,
}

/// How `server` answers `/api/v1/instance` at `at`, from the simulator's own answer.
pub fn mastodon_api(world: &World, server: &Server, at: DateTime<Utc>) -> MastodonApi {
    let software = &server.software;
    if *software == Software::Mastodon
        || *software == Software::Lemmy
        || *software == Software::Peertube
        || software.is_misskey_family()
    {
        return MastodonApi::NotAsked;
    }
    let response = answer(
        world,
        &HandlerConfig::default(),
        &RateLimits::default(),
        &SimRequest {
            method: "GET".into(),
            host: server.domain.clone(),
            path: "/api/v1/instance".into(),
            query: None,
            https: true,
            user_agent: None,
            accept: Some("application/json".into()),
            if_none_match: None,
            if_modified_since: None,
        },
        at,
    );
    let body: &[u8] = match &response.body {
        SimBody::Full(bytes) => bytes,
        SimBody::Drip { body, .. } => body,
        _ => &[],
    };
    let document = (200..300).contains(&response.status)
        && serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v.is_object());
    if document {
        MastodonApi::Answers
    } else if software.speaks_mastodon_api() || response.status == 401 {
        MastodonApi::Assumed
    } else {
        MastodonApi::Absent
    }
}

/// Requests a complete crawl of a healthy `server` makes at `at` after the three NodeInfo
/// requests (robots.txt, well-known, document).
pub fn api_requests(world: &World, server: &Server, at: DateTime<Utc>) -> usize {
    match &server.software {
        Software::Mastodon => 4,
        Software::Lemmy => 2,
        Software::Peertube => 1,
        s if s.is_misskey_family() => 3,
        _ => match mastodon_api(world, server, at) {
            MastodonApi::Answers => 4,
            MastodonApi::Assumed => 3,
            MastodonApi::Absent | MastodonApi::NotAsked => 1,
        },
    }
}

/// The least cost of crawling `id` at `at` (see the module doc).
pub fn host_cost(
    world: &World,
    id: ServerId,
    at: DateTime<Utc>,
    params: &CrawlParameters,
) -> HostCost {
    let server = world.server(id);
    let rtt = f64::from(server.latency_ms) / 1000.0;
    let none = HostCost {
        requests: Vec::new(),
    };
    if !world.is_born(id, at) {
        return none;
    }
    let answered = |count: usize| -> HostCost {
        let mut requests = vec![rtt; count];
        if let Some(first) = requests.first_mut() {
            *first += 2.0 * rtt;
        }
        HostCost { requests }
    };
    if world.is_dead(id, at) {
        return match world.death_mode(id) {
            Some(DeathMode::Gone) => answered(2),
            _ => none,
        };
    }
    let full = if world.robots_refuses_us(id, at) {
        1
    } else {
        3 + api_requests(world, server, at)
    };
    match server.failure {
        None | Some(Failure::RateLimitedRetryAfter | Failure::RateLimitedReset) => answered(full),
        Some(Failure::Drip) => dripping(world, server, at, params, full),
        Some(
            Failure::NoSuchDomain
            | Failure::Refused
            | Failure::SsrfPrivate
            | Failure::SsrfLoopback
            | Failure::SsrfLinkLocal,
        ) => none,
        Some(Failure::Hang) => HostCost {
            requests: vec![params.request_timeout.as_secs_f64()],
        },
        Some(Failure::BadTls) => HostCost {
            requests: vec![2.0 * rtt],
        },
        Some(
            Failure::RobotsDisallowUs
            | Failure::RobotsDisallowAll
            | Failure::RobotsHuge
            | Failure::Moved
            | Failure::FarFutureRateLimit,
        ) => answered(1),
        // Five redirects, then the other host's answer.
        Some(Failure::RobotsRedirected) => answered(6),
        // One redirect more than a healthy host.
        Some(Failure::RedirectExplicitPort) => answered(full + 1),
        Some(Failure::RedirectOtherHost) => answered(3),
        Some(
            Failure::ServerError(_)
            | Failure::CloudflareChallenge
            | Failure::ParkedHtml
            | Failure::Gone
            | Failure::RedirectLoop
            | Failure::MalformedJson
            | Failure::HugeBody
            | Failure::GzipBomb
            | Failure::EndlessBody
            | Failure::DeepJson,
        ) => answered(2),
        // A byte a second: given up at the request timeout.
        Some(Failure::Slowloris) => HostCost {
            requests: vec![params.request_timeout.as_secs_f64()],
        },
        // No answer to the ClientHello: given up at the connect timeout.
        Some(Failure::TlsStall) => HostCost {
            requests: vec![params.connect_timeout.as_secs_f64()],
        },
    }
}

/// The paths a crawler asks a healthy host for after robots.txt, the well-known document and
/// the NodeInfo document, where the bound knows them (see the module doc).
fn api_paths(world: &World, server: &Server, at: DateTime<Utc>) -> &'static [&'static str] {
    match &server.software {
        Software::Mastodon => &[
            "/api/v2/instance",
            "/api/v1/instance",
            "/api/v1/instance/activity",
            "/api/v1/instance/peers",
        ],
        _ => match mastodon_api(world, server, at) {
            MastodonApi::Answers => &[
                "/api/v1/instance",
                "/api/v2/instance",
                "/api/v1/instance/activity",
                "/api/v1/instance/peers",
            ],
            MastodonApi::Assumed => &[
                "/api/v1/instance",
                "/api/v1/instance/activity",
                "/api/v1/instance/peers",
            ],
            MastodonApi::Absent => &["/api/v1/instance"],
            MastodonApi::NotAsked => &[],
        },
    }
}

/// The least cost of a dripping host's `full` requests (see the module doc).
fn dripping(
    world: &World,
    server: &Server,
    at: DateTime<Utc>,
    params: &CrawlParameters,
    full: usize,
) -> HostCost {
    let rtt = f64::from(server.latency_ms) / 1000.0;
    let timeout = params.request_timeout.as_secs_f64();
    let config = HandlerConfig::default();
    let limits = RateLimits::default();
    let document = best_document_url(world, server).and_then(|url| {
        let rest = url.split_once("://")?.1;
        Some(rest.find('/').map_or("/", |i| &rest[i..]).to_string())
    });
    let mut paths: Vec<Option<String>> = vec![
        Some("/robots.txt".to_string()),
        Some("/.well-known/nodeinfo".to_string()),
        document,
    ];
    paths.extend(
        api_paths(world, server, at)
            .iter()
            .map(|p| Some(p.to_string())),
    );
    paths.resize(full, None);
    let mut requests = Vec::with_capacity(full);
    for (i, path) in paths.iter().enumerate() {
        let connect = if i == 0 { 2.0 * rtt } else { 0.0 };
        let drip = path.as_ref().map_or(0.0, |path| {
            let request = SimRequest {
                method: "GET".into(),
                host: server.domain.clone(),
                path: path.clone(),
                query: None,
                https: true,
                user_agent: None,
                accept: Some("application/json".into()),
                if_none_match: None,
                if_modified_since: None,
            };
            drip_secs(&answer(world, &config, &limits, &request, at).body)
        });
        let cost = connect + rtt + drip;
        if cost > timeout {
            // Given up at the timeout, and the visit asks nothing more.
            requests.push(timeout.max(connect + rtt));
            break;
        }
        requests.push(cost);
    }
    HostCost { requests }
}

/// How long the simulator takes to drip `body` beyond its first chunk (as `serve` sends it,
/// with its default cap on a whole body).
fn drip_secs(body: &SimBody) -> f64 {
    match body {
        SimBody::Drip { body, chunk, every } => {
            let chunks = body.len().div_ceil((*chunk).max(1)).max(1) as u32;
            let every = (*every).min(DEFAULT_MAX_DRIP / chunks);
            every.as_secs_f64() * f64::from(chunks - 1)
        }
        _ => 0.0,
    }
}

/// The least wall time of a complete crawl of `world` at `at` from `seeds` with `params`.
pub fn lower_bound(
    world: &World,
    seeds: &[ServerId],
    at: DateTime<Utc>,
    params: &CrawlParameters,
) -> LowerBound {
    let hosts = world.discoverable_from(seeds, at);
    let interval = params.min_interval.as_secs_f64();
    let mut requests = 0u64;
    let mut max_requests = 0u64;
    let mut busy = 0.0;
    let mut longest: f64 = 0.0;
    for id in &hosts {
        let cost = host_cost(world, *id, at, params);
        let count = cost.requests.len() as u64;
        requests += count;
        max_requests = max_requests.max(count);
        busy += cost.busy_secs();
        longest = longest.max(cost.chain_secs(interval));
    }
    let slots = params.concurrency.max(1) as f64;
    LowerBound {
        hosts: hosts.len(),
        requests,
        max_requests_per_host: max_requests,
        total_busy_secs: busy,
        longest_chain_secs: longest,
        bound_secs: (busy / slots).max(longest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::FailureMix;
    use crate::world::{LatencyModel, Scenario, WorldConfig};
    use chrono::TimeZone;

    fn params() -> CrawlParameters {
        CrawlParameters {
            concurrency: 4,
            min_interval: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn a_host_chain_spaces_requests_by_the_interval() {
        // A Mastodon host at 100 ms: 7 requests, the first paying TCP and TLS (300 ms).
        let cost = HostCost {
            requests: vec![0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
        };
        assert!((cost.busy_secs() - 0.9).abs() < 1e-9);
        assert!((cost.chain_secs(1.0) - 6.1).abs() < 1e-9);
        assert!((cost.chain_secs(0.0) - 0.9).abs() < 1e-9);
    }

    #[test]
    fn the_bound_of_a_tiny_healthy_world_matches_a_hand_count() {
        let at = Utc
            .with_ymd_and_hms(2022, 12, 31, 12, 0, 0)
            .single()
            .expect("valid");
        let mut config = WorldConfig::new(Scenario::Migration2022, 3);
        config.servers = Some(12);
        config.failures = FailureMix::none();
        config.latency = LatencyModel {
            median_ms: 100.0,
            sigma: 0.0,
        };
        let world = World::generate(config);
        let seed = world.lookup("mastodon.social").expect("named seed").id;
        let bound = lower_bound(&world, &[seed], at, &params());
        // By hand: every found host alive and healthy costs 3 + its API requests, 100 ms each,
        // plus 200 ms of connection on the first; dead ones per their death mode.
        let mut requests = 0;
        let mut busy = 0.0;
        let mut longest: f64 = 0.0;
        for id in world.discoverable_from(&[seed], at) {
            let server = world.server(id);
            let n = if world.is_dead(id, at) {
                if world.death_mode(id) == Some(DeathMode::Gone) {
                    2
                } else {
                    0
                }
            } else if world.robots_refuses_us(id, at) {
                1
            } else {
                3 + api_requests(&world, server, at)
            };
            requests += n;
            if n > 0 {
                busy += 0.2 + 0.1 * n as f64;
                longest = longest.max((n - 1) as f64 * 1.0 + 0.1);
            }
        }
        assert_eq!(bound.requests, requests as u64);
        assert!((bound.total_busy_secs - busy).abs() < 1e-6);
        assert!((bound.longest_chain_secs - longest).abs() < 1e-6);
        assert!((bound.bound_secs - (busy / 4.0).max(longest)).abs() < 1e-6);
        // The seed is a healthy Mastodon server: 7 requests, 6 intervals of 1 s, then 100 ms.
        assert_eq!(bound.max_requests_per_host, 7);
        assert!((bound.longest_chain_secs - 6.1).abs() < 1e-6);
    }

    #[test]
    fn a_dripping_host_costs_what_the_simulator_takes_to_drip_its_answers() {
        let at = Utc
            .with_ymd_and_hms(2022, 11, 15, 0, 0, 0)
            .single()
            .expect("valid");
        let mut config = WorldConfig::new(Scenario::Migration2022, 7);
        config.servers = Some(3_000);
        let world = std::sync::Arc::new(World::generate(config));
        let server = world
            .servers()
            .iter()
            .find(|s| {
                s.failure == Some(Failure::Drip)
                    && s.software == Software::Mastodon
                    && world.is_born(s.id, at)
                    && !world.is_dead(s.id, at)
            })
            .expect("a live dripping Mastodon server among 3,000");
        let params = params();
        let cost = host_cost(&world, server.id, at, &params);
        assert!(
            cost.requests.len() > 3,
            "NodeInfo answers in time: {cost:?}"
        );
        // robots.txt as the simulator serves it: 16 bytes every 500 ms after the first chunk,
        // plus the round trip and the connection's two.
        let rtt = f64::from(server.latency_ms) / 1000.0;
        let handler =
            crate::endpoints::Handler::new(world.clone(), crate::SimClock::starting_at(at));
        let robots = handler.respond(&SimRequest {
            method: "GET".into(),
            host: server.domain.clone(),
            path: "/robots.txt".into(),
            query: None,
            https: true,
            user_agent: None,
            accept: None,
            if_none_match: None,
            if_modified_since: None,
        });
        let SimBody::Drip { body, .. } = &robots.body else {
            panic!("robots.txt of a dripping server drips: {robots:?}");
        };
        let by_hand = 3.0 * rtt + 0.5 * (body.len().div_ceil(16) - 1) as f64;
        assert!(
            (cost.requests[0] - by_hand).abs() < 1e-9,
            "{cost:?} vs {by_hand}"
        );
        // An instance document is long: the request timeout (10 s here) comes first, and the
        // visit asks nothing after it (7 requests for a patient crawler).
        let (last, before) = cost.requests.split_last().expect("requests");
        assert!((last - 10.0).abs() < 1e-9, "{cost:?}");
        assert!(cost.requests.len() < 7, "{cost:?}");
        assert!(before.iter().all(|&c| c >= rtt && c < 10.0), "{cost:?}");
        // A healthy host of the same world still costs one round trip a request.
        let healthy = world
            .servers()
            .iter()
            .find(|s| s.failure.is_none() && world.is_born(s.id, at) && !world.is_dead(s.id, at))
            .expect("a healthy server");
        let rtt = f64::from(healthy.latency_ms) / 1000.0;
        let cost = host_cost(&world, healthy.id, at, &params);
        assert!((cost.requests[0] - 3.0 * rtt).abs() < 1e-9);
        assert!(cost.requests[1..].iter().all(|&c| (c - rtt).abs() < 1e-9));
    }
}
