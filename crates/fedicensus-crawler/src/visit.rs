//! One visit of one host: from its name to an [`Observation`].
//!
//! The order is fixed and polite (PROTOCOL.md §1, §4.4): resolve the name (the address policy
//! decides before any connection), read `robots.txt`, then `/.well-known/nodeinfo`, the NodeInfo
//! document it points to, and the few family-specific documents that hold numbers or peers. Every
//! path is checked against robots.txt before it is asked; no user content (timelines, accounts,
//! posts) is ever fetched. With [`CrawlerConfig::read_blocklists`](crate::CrawlerConfig) on, the
//! visits that read a peer list also keep the block list the server publishes: Pleroma's
//! `mrf_simple` from NodeInfo, Lemmy's blocked instances from its peer list document, and
//! Mastodon's and GoToSocial's `/api/v1/instance/domain_blocks` (asked before the peer list).
//!
//! How each trouble ends a visit (the outcome table, tested against the simulator):
//! - The scheme is `https`; on a refused or broken connection, or a handshake with a server that
//!   does not speak TLS, the visit starts again over `http` (a rejected certificate does not,
//!   unless the network config allows it: see [`NetworkConfig`](crate::NetworkConfig)).
//! - robots.txt, as RFC 9309 says: 2xx is obeyed, on its first
//!   [`ROBOTS_READ_CAP`](crate::robots::ROBOTS_READ_CAP) bytes when it is longer (the rest is not
//!   read); 4xx (missing) allows everything; an unreachable file (5xx, a timeout, a broken
//!   connection) allows nothing for this visit, and the visit ends with that outcome; up to
//!   five redirects (or `max_redirects`, if more) are followed, **to any host**, and more, or a
//!   loop, count as missing.
//! - A cross-host redirect of robots.txt alone does not mean the server moved: robots.txt is the
//!   one document that is commonly served from elsewhere (a CDN, the apex domain, a shared
//!   file), and RFC 9309 has the crawler obey the file it lands on for the host it asked. So the
//!   redirected file's rules apply to this host, and the visit goes on; a server that moved
//!   redirects its well-known document too, and that redirect (below) is what records `moved`.
//! - Redirects of every other document are followed by the visit, never by the client: at most
//!   [`CrawlerConfig::max_redirects`](crate::CrawlerConfig) hops on the same host (a loop or one
//!   hop too many is `redirect_loop`). A redirect to another host is never followed: a
//!   permanent one (301/308) of the well-known document means the server moved (`moved`, with
//!   `moved_to`, which is then crawled as its own host); a temporary one there is recorded as
//!   its status.
//! - Every redirect is followed without the port it names: the scheme's standard port, or the
//!   one the network config pins ([`NetworkConfig::port`](crate::NetworkConfig)), so a server
//!   cannot point the crawler at another port of its host.
//! - A rate limit's instant is the server's word, capped to [`MAX_POSTPONEMENT`] from now: an
//!   instant in the year 11476 would keep a host out of the census for good, and stored as
//!   text it sorts before today.
//! - A NodeInfo link or a NodeInfo redirect to **another host** is refused as `invalid`, as the
//!   Minoru crawler does: a server's numbers must come from the server itself, or any host could
//!   claim another's figures (and a crawler following such links can be steered anywhere).
//! - 404 on the well-known document or NodeInfo is `no_nodeinfo`; 410 and 451 are `opted_out`;
//!   429 (and Lemmy 0.19's `400 rate_limit_error`) is waited out once when the wait is short
//!   (`Retry-After` in seconds or as an HTTP date, Mastodon's `X-RateLimit-Reset` as an ISO 8601
//!   time), otherwise `rate_limited` and the host is postponed; other statuses are
//!   `http_<status>`; a body that is not JSON (HTML, a Cloudflare challenge) is `not_json`; JSON
//!   that is not the document is `invalid`.
//! - A request is given back the time the crawler itself was stalled while it ran (up to twice
//!   its timeout, see [`crate::http`]); one stalled for longer is `inconclusive`. A request that
//!   timed out with every stalled moment given back is the server's `timeout`. Any other
//!   timeout (DNS, the visit's deadline) or broken connection while the crawler was stalled
//!   for at least [`OVERLOAD_STALL`](crate::health::OVERLOAD_STALL) and
//!   [`OVERLOAD_SHARE`](crate::health::OVERLOAD_SHARE) of the visit is `inconclusive`: the
//!   failure may be ours, so it says nothing about the server.
//! - Once NodeInfo is read the visit is `ok`: the family documents only add numbers, peers and
//!   flags, and a failure among them (a hidden peer list, a rate limit, the visit's deadline)
//!   never changes the outcome.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use fedicensus_core::parse::{self, ParseError};
use fedicensus_core::{Host, Observation, Outcome, Software};
use reqwest::header::HeaderMap;
use reqwest::{Method, Url};

use crate::cache::{Content, DocumentCache, PeerDigest, Policy};
use crate::config::{CrawlerConfig, VisitPlan};
use crate::health::Health;
use crate::http::{Cached, FetchError, HttpClient, Overflow, Response};
use crate::politeness::{HostPool, HostSlot};
use crate::robots::{RobotsPolicy, ROBOTS_MIN_REDIRECTS, ROBOTS_READ_CAP};

/// Where a visit reads the time it records (`observed_at`), and the time rate-limit headers are
/// compared with. A simulated crawl passes the simulator's clock.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// When a 429 names no time, how long the host is left alone.
pub const DEFAULT_RATE_LIMIT_BACKOFF: Duration = Duration::from_secs(3600);

/// Everything the visits of one crawler share.
pub(crate) struct Context {
    pub config: CrawlerConfig,
    pub http: HttpClient,
    pub pool: HostPool,
    pub clock: Clock,
    /// The operator's deny list, lowercased, without trailing dots.
    pub deny: Vec<String>,
    /// The crawler's own health: its stall judges failures, its limit paces visits.
    pub health: Health,
    /// The documents kept for conditional requests (see [`crate::cache`]); `None` when
    /// [`CrawlerConfig::conditional_requests`] is off.
    pub cache: Option<Arc<DocumentCache>>,
    /// Body bytes received, after decompression (every answer, cached or not).
    pub body_bytes: Arc<AtomicU64>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("config", &self.config)
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// Whether the operator's deny list names `host` or a domain above it.
    pub fn denied(&self, host: &Host) -> bool {
        let name = host.as_str();
        self.deny.iter().any(|d| {
            name == d
                || name
                    .strip_suffix(d.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }
}

/// One request a visit made (or refused to make), for `fedicensus probe` and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub url: String,
    /// The status, when an answer came.
    pub status: Option<u16>,
    /// Body bytes read (after decompression).
    pub bytes: usize,
    pub elapsed: Duration,
    /// Why there was no answer, or why the request was not made.
    pub error: Option<String>,
    /// Whether the request left the crawler (false for DNS failures and refusals).
    pub sent: bool,
}

/// A visit's observation and how it was made.
#[derive(Debug, Clone)]
pub struct VisitReport {
    pub observation: Observation,
    /// Every request, in order.
    pub requests: Vec<RequestRecord>,
    /// Until when the host asked to be left alone (429), if it did.
    pub postponed_until: Option<DateTime<Utc>>,
    /// How long the crawler itself was stalled during the visit (its runtime's lateness, see
    /// [`crate::health`]): the lag kept with the visit.
    pub stalled: Duration,
    /// Visits made for this report: more than 1 when an inconclusive visit was made again.
    pub attempts: u32,
}

/// Why a document could not be had.
#[derive(Debug, Clone)]
enum Stop {
    /// robots.txt forbids the path.
    Robots,
    Fetch(FetchError),
    /// A redirect to another host.
    CrossHost {
        status: u16,
        to: Option<Host>,
    },
    RedirectLoop,
    /// A 3xx without a usable `Location`.
    BadRedirect(u16),
    RateLimited,
    /// The visit's time is up.
    Deadline,
}

impl Stop {
    /// The outcome when this stops the visit at the document `kind`.
    fn outcome(&self, kind: Doc) -> Outcome {
        match self {
            Stop::Robots => Outcome::RobotsDisallowed,
            Stop::Fetch(err) => err.outcome(),
            Stop::CrossHost { status, to } => match kind {
                Doc::NodeInfo => Outcome::Invalid,
                _ if is_permanent(*status) && to.is_some() => Outcome::Moved,
                _ => Outcome::HttpStatus(*status),
            },
            Stop::RedirectLoop => Outcome::RedirectLoop,
            Stop::BadRedirect(status) => Outcome::HttpStatus(*status),
            Stop::RateLimited => Outcome::RateLimited,
            Stop::Deadline => Outcome::Timeout,
        }
    }
}

fn is_permanent(status: u16) -> bool {
    matches!(status, 301 | 308)
}

/// Which document a request is for (what a cross-host redirect of it means).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Doc {
    Robots,
    WellKnown,
    NodeInfo,
}

/// How a document may use the crawl's cache (see [`crate::cache`] for why each is what it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caching {
    /// Never kept (a `POST`).
    Off,
    /// Asked on every visit, conditionally when kept. Only robots.txt served by another host
    /// (a cross-host redirect) is reused while fresh.
    Revalidate,
    /// A peer list: as [`Caching::Revalidate`], and kept parsed (the visit stores it once it
    /// has parsed it, see `Visit::take_peers`).
    PeerList,
}

/// How a request's answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// A document: a 2xx body beyond the cap is refused (`too_large`); same-host redirects only,
    /// up to [`CrawlerConfig::max_redirects`](crate::CrawlerConfig).
    Document(u64),
    /// robots.txt, as RFC 9309 asks: the first [`ROBOTS_READ_CAP`] bytes are parsed and the rest
    /// ignored, and at least [`ROBOTS_MIN_REDIRECTS`] redirects are followed, to any host.
    Robots,
}

impl Reading {
    fn cap(self) -> (u64, Overflow) {
        match self {
            Reading::Document(cap) => (cap, Overflow::Refuse),
            Reading::Robots => (ROBOTS_READ_CAP, Overflow::Truncate),
        }
    }
}

/// Visits `host`, reading the optional documents `plan` names, and reports what it found.
pub(crate) async fn visit(ctx: &Context, host: &Host, plan: VisitPlan) -> VisitReport {
    let plan = VisitPlan {
        peers: plan.peers && ctx.config.fetch_peers,
        ..plan
    };
    let started = Instant::now();
    let _in_flight = ctx.health.visit_started();
    let stall_mark = ctx.health.stalled();
    let observed_at = (ctx.clock)();
    let mut observation = Observation::failed(host.clone(), observed_at, Outcome::Ok, 0);
    let mut requests = Vec::new();
    let mut server_timed_out = false;
    let outcome = if ctx.denied(host) {
        Outcome::OptedOut
    } else if !host.is_crawlable() {
        // `.onion` and `.i2p` are recorded when seen, never fetched (no request leaves).
        Outcome::NoSuchDomain
    } else {
        match ctx.http.resolver().lookup(host.as_str()).await {
            Err(err) => {
                requests.push(RequestRecord {
                    method: "DNS".into(),
                    url: host.to_string(),
                    status: None,
                    bytes: 0,
                    elapsed: started.elapsed(),
                    error: Some(err.to_string()),
                    sent: false,
                });
                err.outcome()
            }
            Ok(ips) => {
                // The address connected to is the first the policy resolver hands reqwest.
                observation.location = ctx.config.geo.as_ref().map(|geo| geo.locate(ips[0]));
                let mut visit = Visit {
                    ctx,
                    host: host.clone(),
                    slot: ctx.pool.slot(host),
                    ip: ips[0],
                    scheme: "https",
                    robots: RobotsPolicy::AllowAll,
                    deadline: tokio::time::Instant::now() + ctx.config.visit_timeout,
                    requests: Vec::new(),
                    observation,
                    plan,
                    server_timed_out: false,
                    paced: Arc::new(AtomicU64::new(0)),
                };
                // The deadline is also checked between requests; this guard only catches a
                // request that overstays it. Like the deadline, it moves by the time the crawl's
                // request rates held the visit back.
                let paced = visit.paced.clone();
                let guard =
                    tokio::time::Instant::now() + ctx.config.visit_timeout + Duration::from_secs(1);
                let guard = move || guard + Duration::from_nanos(paced.load(Ordering::Relaxed));
                let outcome = {
                    let run = visit.run();
                    tokio::pin!(run);
                    loop {
                        tokio::select! {
                            outcome = &mut run => break outcome,
                            () = tokio::time::sleep_until(guard()) => {
                                if guard() <= tokio::time::Instant::now() {
                                    break Outcome::Timeout;
                                }
                            }
                        }
                    }
                };
                observation = visit.observation;
                requests = visit.requests;
                server_timed_out = visit.server_timed_out;
                outcome
            }
        }
    };
    let took = started.elapsed();
    let stalled = ctx.health.stall_since(stall_mark);
    let outcome = if !(server_timed_out && outcome == Outcome::Timeout)
        && Health::overloaded(&outcome, took, stalled)
    {
        tracing::debug!(
            host = %host,
            failure = %outcome,
            stalled_ms = stalled.as_millis() as u64,
            "failed while the crawler was stalled: inconclusive"
        );
        Outcome::Inconclusive
    } else {
        outcome
    };
    observation.outcome = outcome;
    observation.duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
    if !observation.outcome.is_ok() {
        observation.peers = None;
        observation.blocks = None;
    }
    tracing::debug!(
        host = %host,
        outcome = %observation.outcome,
        duration_ms = observation.duration_ms,
        stalled_ms = stalled.as_millis() as u64,
        requests = requests.len(),
        "visited"
    );
    VisitReport {
        postponed_until: ctx.pool.postponed_until(host),
        observation,
        requests,
        stalled,
        attempts: 1,
    }
}

struct Visit<'a> {
    ctx: &'a Context,
    host: Host,
    slot: Arc<HostSlot>,
    ip: IpAddr,
    scheme: &'static str,
    robots: RobotsPolicy,
    deadline: tokio::time::Instant,
    /// Nanoseconds the crawl's request rates held this visit back, each hold added before it
    /// starts (the guard around the visit reads it).
    paced: Arc<AtomicU64>,
    requests: Vec<RequestRecord>,
    observation: Observation,
    plan: VisitPlan,
    /// Whether a request timed out after it was given back every moment we were stalled: the
    /// server had its whole timeout, so that timeout is the server's, however busy we were.
    server_timed_out: bool,
}

impl Visit<'_> {
    async fn run(&mut self) -> Outcome {
        if let Err(outcome) = self.read_robots().await {
            return outcome;
        }
        let well_known = match self
            .fetch_document(Doc::WellKnown, "/.well-known/nodeinfo")
            .await
        {
            Ok(response) => response,
            Err(outcome) => return outcome,
        };
        let parsed = match parse::parse_well_known(&well_known.body) {
            Ok(parsed) => parsed,
            Err(err) => return parse_failure(&err),
        };
        let (version, nodeinfo) = if parsed.is_nodeinfo_document {
            // A NodeInfo document served at the well-known path (SkyBridge): read it as one.
            (None, well_known)
        } else {
            let Some((version, href)) = parsed.choose(&well_known.url) else {
                return Outcome::NoNodeInfo;
            };
            let path = match self.same_host_path(&href) {
                Some(path) => path,
                None => {
                    // A link to another host is never followed (any host could claim another's
                    // figures). Servers that serve several domains (Takahē) link every domain
                    // to the main one, and the same path on the visited host answers with that
                    // domain's own figures: ask that instead, and note the other host.
                    self.note_refusal(&href, "NodeInfo link to another host: same path asked here");
                    let Some(path) = path_of(&href) else {
                        return Outcome::Invalid;
                    };
                    self.observation.nodeinfo_elsewhere = Url::parse(&href)
                        .ok()
                        .and_then(|u| u.host_str().and_then(|h| Host::parse(h).ok()));
                    path
                }
            };
            match self.fetch_document(Doc::NodeInfo, &path).await {
                Ok(response) => (Some(version.as_str().to_string()), response),
                Err(outcome) => return outcome,
            }
        };
        let nodeinfo = match parse::parse_nodeinfo(&nodeinfo.body) {
            Ok(nodeinfo) => nodeinfo,
            Err(err) => return parse_failure(&err),
        };
        let obs = &mut self.observation;
        obs.nodeinfo_version = version.or_else(|| nodeinfo.schema_version.clone());
        obs.software = Some(nodeinfo.software_report());
        obs.open_registrations = nodeinfo.open_registrations;
        obs.measurements.extend(nodeinfo.measurements());
        obs.flags.private |= nodeinfo.private;
        obs.declare_languages(nodeinfo.declared_languages());
        if self.plan.peers && self.ctx.config.read_blocklists {
            // Pleroma's and Akkoma's block list rides in NodeInfo; read with the peer list, so
            // every block list has the peer list's resolution.
            obs.blocks = fedicensus_core::blocks::mrf_simple_blocks(&nodeinfo.metadata);
        }
        let family = nodeinfo.software.family.clone();
        self.read_family(&family).await;
        Outcome::Ok
    }

    /// Reads robots.txt (cached per host), over https, falling back to http when allowed.
    async fn read_robots(&mut self) -> Result<(), Outcome> {
        // The first request also decides the scheme, so it is made even when robots.txt is
        // cached.
        let first = self.get_as(
            Reading::Robots,
            Method::GET,
            "/robots.txt",
            None,
            Caching::Revalidate,
        );
        let result = match first.await {
            Err(Stop::Fetch(err))
                if err.allows_http_fallback(
                    self.ctx.config.network.http_fallback_on_bad_certificate,
                ) =>
            {
                tracing::debug!(host = %self.host, error = %err, "https failed, trying http");
                self.scheme = "http";
                match self
                    .get_as(
                        Reading::Robots,
                        Method::GET,
                        "/robots.txt",
                        None,
                        Caching::Revalidate,
                    )
                    .await
                {
                    // The https failure is the one reported: it is the protocol we asked for.
                    Err(Stop::Fetch(_)) => return Err(Stop::Fetch(err).outcome(Doc::Robots)),
                    other => other,
                }
            }
            other => other,
        };
        let robots = match result {
            Ok(response) if response.is_success() => RobotsPolicy::from_body(&response.body),
            Ok(response) if response.status >= 500 => {
                // A failing server has not said what it allows: nothing, for this visit.
                self.robots = RobotsPolicy::DisallowAll;
                return Err(Outcome::HttpStatus(response.status));
            }
            // 4xx: no robots.txt, everything is allowed.
            Ok(_) => RobotsPolicy::AllowAll,
            // More redirects than RFC 9309 asks a crawler to follow: unavailable, as a 4xx.
            Err(Stop::RedirectLoop | Stop::BadRedirect(_)) => RobotsPolicy::AllowAll,
            // Unreachable (a timeout, a broken connection or body): nothing is allowed, and the
            // visit ends here.
            Err(stop) => {
                self.robots = RobotsPolicy::DisallowAll;
                return Err(stop.outcome(Doc::Robots));
            }
        };
        self.ctx.pool.apply_robots(&self.slot, &robots);
        self.slot.set_robots(robots.clone());
        self.robots = robots;
        Ok(())
    }

    /// Fetches a JSON document the visit cannot do without; any trouble is its outcome.
    async fn fetch_document(&mut self, doc: Doc, path: &str) -> Result<Response, Outcome> {
        let cap = self.ctx.config.document_cap;
        let response = match self
            .get(Method::GET, path, None, cap, Caching::Revalidate)
            .await
        {
            Ok(response) => response,
            Err(stop) => {
                if let Stop::CrossHost { status, to } = &stop {
                    if doc != Doc::NodeInfo && is_permanent(*status) {
                        self.observation.moved_to = to.clone();
                    }
                }
                return Err(stop.outcome(doc));
            }
        };
        let html = response
            .header("content-type")
            .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
        let challenge = response.header("cf-mitigated").is_some();
        match response.status {
            200..=299 => {}
            // A Cloudflare challenge (403/503 HTML) is a page for browsers, not an answer.
            403 | 503 if challenge || (response.status == 403 && html) => {
                return Err(Outcome::NotJson)
            }
            404 => return Err(Outcome::NoNodeInfo),
            410 | 451 => return Err(Outcome::OptedOut),
            status => return Err(Outcome::HttpStatus(status)),
        }
        if !looks_like_json(&response) {
            return Err(Outcome::NotJson);
        }
        Ok(response)
    }

    /// The family documents: numbers, peers and flags. Failures here never change the outcome.
    ///
    /// Lemmy, PeerTube and the Misskey family have APIs of their own. Every other server is asked
    /// for the Mastodon client API's instance document, whatever its software is called: many
    /// speak it without being Mastodon (Mitra, Takahē, GoToSocial, Pleroma and Akkoma, Pixelfed,
    /// Friendica, snac, ...), and a server that answers it is read as Mastodon is (the v2
    /// document, weekly activity, the peer list), each number with its source.
    async fn read_family(&mut self, family: &Software) {
        let doc_cap = self.ctx.config.document_cap;
        let peer_cap = self.ctx.config.peer_list_cap;
        let peers = self.plan.peers;
        if *family == Software::Lemmy {
            let Some(site) = self.optional(Method::GET, "/api/v3/site", doc_cap).await else {
                return;
            };
            let site_body = site.ok();
            if let Some(Ok(parsed)) = site_body.as_ref().map(|b| parse::parse_lemmy_site(b)) {
                self.observation.measurements.extend(parsed.measurements());
                self.observation
                    .declare_languages(parsed.declared_languages());
            }
            if peers {
                let Some(r) = self
                    .optional_as(
                        Method::GET,
                        "/api/v3/federated_instances",
                        peer_cap,
                        Caching::PeerList,
                    )
                    .await
                else {
                    return;
                };
                self.note_peer_refusal(r.status);
                if let Some(digest) = r.kept_peers() {
                    self.use_peers(&digest);
                } else if let Some(body) = r.ok() {
                    self.take_peers(&body, r.response.as_ref());
                } else if let Some(body) = site_body {
                    // Lemmy 0.17 and older list their peers inside the site document instead.
                    self.take_peers(&body, None);
                }
            }
        } else if family.is_misskey_family() {
            let Some(r) = self.optional(Method::POST, "/api/meta", doc_cap).await else {
                return;
            };
            if let Some(Ok(meta)) = r.ok().map(|b| parse::parse_misskey_meta(&b)) {
                self.observation.measurements.extend(meta.measurements());
                self.observation
                    .declare_languages(meta.declared_languages());
                if self.observation.open_registrations.is_none() {
                    self.observation.open_registrations = meta.open_registrations();
                }
            }
            let Some(r) = self.optional(Method::POST, "/api/stats", doc_cap).await else {
                return;
            };
            if let Some(Ok(stats)) = r.ok().map(|b| parse::parse_misskey_stats(&b)) {
                self.observation.measurements.extend(stats.measurements());
            }
            if peers {
                self.read_peers("/api/v1/instance/peers", peer_cap).await;
            }
        } else if *family == Software::Peertube {
            let Some(r) = self
                .optional(Method::GET, "/api/v1/server/stats", doc_cap)
                .await
            else {
                return;
            };
            if let Some(Ok(stats)) = r.ok().map(|b| parse::parse_peertube_stats(&b)) {
                self.observation.measurements.extend(stats.measurements());
            }
        } else {
            self.read_mastodon_api(family).await;
        }
    }

    /// The Mastodon client API's instance documents, activity and peers, from any server that
    /// answers them. Mastodon is asked for v2 first (4.0 and later); another server is asked for
    /// v2 once its v1 document shows it speaks the API.
    async fn read_mastodon_api(&mut self, family: &Software) {
        let doc_cap = self.ctx.config.document_cap;
        let peer_cap = self.ctx.config.peer_list_cap;
        let mastodon = *family == Software::Mastodon;
        if mastodon && !self.read_instance_v2().await {
            return;
        }
        let Some(r) = self
            .optional(Method::GET, "/api/v1/instance", doc_cap)
            .await
        else {
            return;
        };
        if r.status == 401 {
            self.observation.flags.limited_federation = true;
        }
        let mut speaks = family.speaks_mastodon_api() || r.status == 401;
        if let Some(Ok(v1)) = r.ok().map(|b| parse::parse_instance_v1(&b)) {
            speaks = true;
            self.observation.measurements.extend(v1.measurements());
            self.observation.declare_languages(v1.declared_languages());
            if self.observation.open_registrations.is_none() {
                self.observation.open_registrations = v1.registrations;
            }
            if !mastodon && !self.read_instance_v2().await {
                return;
            }
        }
        if !speaks {
            // No Mastodon API here (a 404, HTML): nothing more to ask, and no peer list.
            return;
        }
        if self.plan.activity {
            let Some(r) = self
                .optional(Method::GET, "/api/v1/instance/activity", doc_cap)
                .await
            else {
                return;
            };
            if let Some(Ok(activity)) = r.ok().map(|b| parse::parse_activity(&b)) {
                self.observation
                    .measurements
                    .extend(activity.measurements());
                self.observation.activity = activity.weeks;
            }
        }
        if self.plan.peers
            && self.ctx.config.read_blocklists
            && matches!(family, Software::Mastodon | Software::Gotosocial)
            && !self.read_domain_blocks().await
        {
            return;
        }
        // The peer list last: it is the largest thing a visit holds (tens of thousands of
        // names), and read last it is held only from here to the writer, not through
        // another request and the interval before it.
        if self.plan.peers {
            self.read_peers("/api/v1/instance/peers", peer_cap).await;
        }
    }

    /// Reads `/api/v1/instance/domain_blocks` (Mastodon 4.0+, GoToSocial with
    /// `instance-expose-suspended`), where robots.txt allows it; false when the visit must stop
    /// asking. A 404 (the admin shows blocks to no one) or a refusal records no list.
    async fn read_domain_blocks(&mut self) -> bool {
        let doc_cap = self.ctx.config.document_cap;
        let Some(r) = self
            .optional(Method::GET, "/api/v1/instance/domain_blocks", doc_cap)
            .await
        else {
            return false;
        };
        if let Some(body) = r.ok() {
            match fedicensus_core::blocks::parse_domain_blocks(&body) {
                Ok(list) => self.observation.blocks = Some(list),
                Err(err) => {
                    tracing::debug!(host = %self.host, error = %err, "unreadable block list");
                }
            }
        }
        true
    }

    /// Reads `/api/v2/instance`; false when the visit must stop asking.
    async fn read_instance_v2(&mut self) -> bool {
        let doc_cap = self.ctx.config.document_cap;
        let Some(r) = self
            .optional(Method::GET, "/api/v2/instance", doc_cap)
            .await
        else {
            return false;
        };
        if let Some(Ok(v2)) = r.ok().map(|b| parse::parse_instance_v2(&b)) {
            self.observation.measurements.extend(v2.measurements());
            self.observation.declare_languages(v2.declared_languages());
            if v2.limited_federation == Some(true) {
                self.observation.flags.limited_federation = true;
            }
            if self.observation.open_registrations.is_none() {
                self.observation.open_registrations = v2.registrations_enabled;
            }
        }
        true
    }

    /// A peer list refused (401, 403): the server has one and hides it. A 404 or no answer is
    /// "no list offered", which is not the same and not flagged.
    fn note_peer_refusal(&mut self, status: u16) {
        if matches!(status, 401 | 403) {
            self.observation.flags.peers_hidden = true;
        }
    }

    /// Reads a peer list (always a visit's last request).
    async fn read_peers(&mut self, path: &str, cap: u64) {
        let Some(r) = self
            .optional_as(Method::GET, path, cap, Caching::PeerList)
            .await
        else {
            return;
        };
        self.note_peer_refusal(r.status);
        if let Some(digest) = r.kept_peers() {
            self.use_peers(&digest);
        } else if let Some(body) = r.ok() {
            self.take_peers(&body, r.response.as_ref());
        }
    }

    /// An unchanged peer list, as it was parsed when it was read: not parsed again.
    fn use_peers(&mut self, digest: &PeerDigest) {
        self.observation
            .measurements
            .extend(digest.measurements.iter().cloned());
        self.observation.peers = Some(digest.hosts.clone());
        if self.ctx.config.read_blocklists && digest.blocks.is_some() {
            self.observation.blocks = digest.blocks.clone();
        }
    }

    /// Parses a peer list into the observation, and keeps it parsed for the next visit when
    /// `response` (the answer it came in) may be kept.
    fn take_peers(&mut self, body: &[u8], response: Option<&Response>) {
        match parse::parse_peers(body) {
            Ok(list) => {
                let normalised = parse::normalise_peers(&list.entries);
                let measurements = list.measurements();
                let blocks = if self.ctx.config.read_blocklists {
                    fedicensus_core::blocks::lemmy_blocks(&list)
                } else {
                    None
                };
                self.observation.measurements.extend(measurements.clone());
                tracing::trace!(
                    host = %self.host,
                    peers = normalised.hosts.len(),
                    rejected = normalised.rejected_total(),
                    duplicates = normalised.duplicates,
                    "peer list"
                );
                if let (Some(cache), Some(response)) = (&self.ctx.cache, response) {
                    let policy = Policy::from_headers(&response.headers, (self.ctx.clock)());
                    if policy.worth_keeping(false) {
                        let digest = PeerDigest {
                            hosts: normalised.hosts.clone(),
                            measurements,
                            blocks: blocks.clone(),
                        };
                        let entry = policy.entry(
                            Content::Peers(Arc::new(digest)),
                            &response.headers,
                            response.body.len(),
                        );
                        cache.insert(&response.url, entry);
                    }
                }
                self.observation.peers = Some(normalised.hosts);
                if blocks.is_some() {
                    self.observation.blocks = blocks;
                }
            }
            Err(err) => tracing::debug!(host = %self.host, error = %err, "unreadable peer list"),
        }
    }

    /// Fetches an optional document. `None` when the visit must stop asking (rate limited, out
    /// of time, or the host let a request time out); otherwise what came, which may be an error
    /// status.
    ///
    /// A host that did not answer one document within the request timeout is asked for nothing
    /// more in this visit: its next document would most likely time out as well (a dripping
    /// Mastodon server let every one of its instance API requests run to the timeout, a minute
    /// of one host's visit), and a struggling server is spared the load. What the visit already
    /// read (NodeInfo's numbers) stands; the next visit asks again.
    async fn optional(&mut self, method: Method, path: &str, cap: u64) -> Option<Optional> {
        let caching = if method == Method::GET {
            Caching::Revalidate
        } else {
            Caching::Off
        };
        self.optional_as(method, path, cap, caching).await
    }

    /// [`Visit::optional`], using the cache as `caching` says.
    async fn optional_as(
        &mut self,
        method: Method,
        path: &str,
        cap: u64,
        caching: Caching,
    ) -> Option<Optional> {
        let body = (method == Method::POST).then_some("{}");
        match self.get(method, path, body, cap, caching).await {
            Ok(response) => Some(Optional::from_response(response)),
            Err(
                Stop::RateLimited
                | Stop::Deadline
                | Stop::Fetch(FetchError::Timeout | FetchError::Stalled { .. }),
            ) => None,
            Err(Stop::Robots) => {
                if path.ends_with("/peers") || path.ends_with("federated_instances") {
                    self.observation.flags.peers_hidden = true;
                }
                Some(Optional::none())
            }
            Err(_) => Some(Optional::none()),
        }
    }

    /// The path (and query) of `href` when it names this host; `None` for another host.
    fn same_host_path(&self, href: &str) -> Option<String> {
        let url = Url::parse(href).ok()?;
        let host = url.host_str()?.trim_end_matches('.');
        if !host.eq_ignore_ascii_case(self.host.as_str()) {
            return None;
        }
        path_of(href)
    }

    fn note_refusal(&mut self, url: &str, why: &str) {
        tracing::debug!(host = %self.host, url, why, "refused");
        self.requests.push(RequestRecord {
            method: "GET".into(),
            url: url.to_string(),
            status: None,
            bytes: 0,
            elapsed: Duration::ZERO,
            error: Some(why.to_string()),
            sent: false,
        });
    }

    /// The politeness slot of the host `url` names: the visit's own, or another host's.
    fn slot_for(&self, url: &Url) -> Arc<HostSlot> {
        match url
            .host_str()
            .and_then(|h| Host::parse(h.trim_end_matches('.')).ok())
        {
            Some(host) if host != self.host => self.ctx.pool.slot(&host),
            _ => self.slot.clone(),
        }
    }

    /// One document, politely: robots.txt checked for every URL, the host's turn taken for every
    /// request, same-host redirects followed up to the limit, one short rate limit waited out.
    async fn get(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&'static str>,
        cap: u64,
        caching: Caching,
    ) -> Result<Response, Stop> {
        self.get_as(Reading::Document(cap), method, path, body, caching)
            .await
    }

    /// [`Visit::get`] for a document read as `reading` says. Every redirect is asked without an
    /// explicit port: the scheme's standard one, or the port the network config pins (a server
    /// cannot send the crawler to another port of its own host, or of any host).
    async fn get_as(
        &mut self,
        reading: Reading,
        method: Method,
        path: &str,
        body: Option<&'static str>,
        caching: Caching,
    ) -> Result<Response, Stop> {
        let start = format!("{}://{}{}", self.scheme, self.host, path);
        let mut url = Url::parse(&start).map_err(|_| Stop::BadRedirect(0))?;
        let mut method = method;
        let mut body = body;
        let mut seen = HashSet::from([url.to_string()]);
        let mut hops = 0;
        let mut waited = false;
        let (cap, overflow) = reading.cap();
        let max_hops = match reading {
            Reading::Document(_) => self.ctx.config.max_redirects,
            Reading::Robots => self.ctx.config.max_redirects.max(ROBOTS_MIN_REDIRECTS),
        };
        loop {
            let target = path_and_query(&url);
            if !self.robots.allows(&target) {
                self.note_refusal(url.as_str(), "robots.txt disallows");
                return Err(Stop::Robots);
            }
            let remaining = self
                .deadline
                .saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                return Err(Stop::Deadline);
            }
            let ctx = self.ctx;
            let cache = ctx
                .cache
                .as_ref()
                .filter(|_| caching != Caching::Off && method == Method::GET);
            let kept = cache.and_then(|c| c.get(url.as_str()));
            // Reused while fresh: only another host's robots.txt (see `crate::cache`).
            let reusable = reading == Reading::Robots
                && !url.host_str().is_some_and(|h| {
                    h.trim_end_matches('.')
                        .eq_ignore_ascii_case(self.host.as_str())
                });
            if let (Some(cache), Some(entry)) = (cache, &kept) {
                if reusable && entry.is_fresh((self.ctx.clock)()) {
                    cache.note_reused(entry);
                    self.requests.push(RequestRecord {
                        method: method.to_string(),
                        url: url.to_string(),
                        status: Some(200),
                        bytes: 0,
                        elapsed: Duration::ZERO,
                        error: Some("fresh in the crawl's cache: not asked".into()),
                        sent: false,
                    });
                    return Ok(from_cache(
                        &url,
                        entry,
                        HeaderMap::new(),
                        false,
                        Duration::ZERO,
                    ));
                }
            }
            let conditional = match (cache, &kept) {
                (Some(cache), Some(entry)) if entry.has_validator() => {
                    cache.note_conditional();
                    entry.conditional_headers()
                }
                _ => HeaderMap::new(),
            };
            let timeout = self.ctx.config.request_timeout.min(remaining);
            let sent_at;
            // The turn of the host the URL names: a robots.txt redirected to another host (which
            // RFC 9309 has us follow) waits for that host's interval too, whoever else is
            // visiting it. Its address permit stays the visit's own.
            let slot = self.slot_for(&url);
            let result = {
                let turn = self.ctx.pool.turn(&slot, self.ip);
                let mut turn = tokio::time::timeout(remaining, turn)
                    .await
                    .map_err(|_| Stop::Deadline)?;
                // The crawl's own request rates hold the request back without using the visit's
                // time (see `crate::politeness`); the guard in `visit` learns of each hold before
                // it starts.
                let paced = &self.paced;
                self.deadline += turn
                    .pace(|hold| {
                        let nanos = u64::try_from(hold.as_nanos()).unwrap_or(u64::MAX);
                        paced.fetch_add(nanos, Ordering::Relaxed);
                    })
                    .await;
                // Timed from the turn on (waiting for the turn is politeness, not the request),
                // so a request that fails (a timeout, a reset) still reports the time it took.
                sent_at = Instant::now();
                let result = self
                    .ctx
                    .http
                    .send_with(
                        method.clone(),
                        url.as_str(),
                        body,
                        conditional,
                        cap,
                        overflow,
                        timeout,
                    )
                    .await;
                if let Ok(response) = &result {
                    if let Some(wait) = self.announced_wait(response) {
                        turn.hold_for(wait);
                    }
                }
                result
            };
            self.requests
                .push(record(&method, url.as_str(), &result, sent_at.elapsed()));
            if matches!(result, Err(FetchError::Timeout)) {
                self.server_timed_out = true;
            }
            let response = result.map_err(Stop::Fetch)?;
            self.ctx
                .body_bytes
                .fetch_add(response.body.len() as u64, Ordering::Relaxed);
            // Not modified: the kept document stands for this answer, read as if it had come
            // again (its freshness and validators renewed from the 304's headers).
            let response = match (cache, kept) {
                (Some(cache), Some(entry)) if response.status == 304 && entry.has_validator() => {
                    cache.note_not_modified(&entry);
                    let policy = Policy::from_headers(&response.headers, (self.ctx.clock)());
                    cache.insert(url.as_str(), entry.refreshed(&policy));
                    from_cache(&url, &entry, response.headers, true, response.elapsed)
                }
                _ => response,
            };
            if reading != Reading::Robots && has_noindex(&response) {
                self.observation.flags.noindex = true;
            }
            let status = response.status;
            if (300..400).contains(&status) {
                let mut next = response
                    .header("location")
                    .and_then(|location| url.join(location).ok())
                    .filter(|next| matches!(next.scheme(), "http" | "https"))
                    .ok_or(Stop::BadRedirect(status))?;
                next.set_port(None)
                    .map_err(|()| Stop::BadRedirect(status))?;
                let same_host = next.host_str().is_some_and(|h| {
                    h.trim_end_matches('.')
                        .eq_ignore_ascii_case(self.host.as_str())
                });
                if !same_host && reading != Reading::Robots {
                    let to = next.host_str().and_then(|h| Host::parse(h).ok());
                    return Err(Stop::CrossHost { status, to });
                }
                hops += 1;
                if hops > max_hops || !seen.insert(next.to_string()) {
                    return Err(Stop::RedirectLoop);
                }
                if status == 303 || (matches!(status, 301 | 302) && method == Method::POST) {
                    method = Method::GET;
                    body = None;
                }
                url = next;
                continue;
            }
            if is_rate_limited(&response) {
                let now = (self.ctx.clock)();
                let until = retry_at(&response.headers, now)
                    .unwrap_or(now + delta(DEFAULT_RATE_LIMIT_BACKOFF));
                let wait = (until - now).to_std().unwrap_or_default();
                let wait = wait.max(Duration::from_millis(500));
                let remaining = self
                    .deadline
                    .saturating_duration_since(tokio::time::Instant::now());
                if !waited && wait <= self.ctx.config.max_rate_limit_wait && wait < remaining {
                    waited = true;
                    tracing::debug!(host = %self.host, wait_ms = wait.as_millis() as u64, "rate limited, waiting");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                self.slot.postpone(until);
                return Err(Stop::RateLimited);
            }
            if let Some(cache) = cache {
                if response.cached.is_none() {
                    self.keep(cache, caching, reusable, &response);
                }
            }
            return Ok(response);
        }
    }

    /// Keeps a fresh answer for the next visit's conditional request, or forgets the kept one
    /// when the answer says not to keep it or the document is gone. A peer list is kept by
    /// `take_peers`, parsed.
    fn keep(&self, cache: &DocumentCache, caching: Caching, reusable: bool, response: &Response) {
        if !response.is_success() {
            if matches!(response.status, 404 | 410) {
                cache.remove(&response.url);
            }
            return;
        }
        let policy = Policy::from_headers(&response.headers, (self.ctx.clock)());
        if !policy.worth_keeping(reusable) {
            cache.remove(&response.url);
        } else if caching != Caching::PeerList {
            // A copy of exactly its length: the body read may sit in a larger buffer (it grew
            // as it was read), which the cache would otherwise hold whole.
            let content = Content::Body(bytes::Bytes::copy_from_slice(&response.body));
            cache.insert(
                &response.url,
                policy.entry(content, &response.headers, response.body.len()),
            );
        }
    }

    /// A successful answer that says the host's quota is spent (`X-RateLimit-Remaining: 0`):
    /// how long to hold the host, if the reset is near enough to wait for.
    fn announced_wait(&self, response: &Response) -> Option<Duration> {
        let remaining = response.header("x-ratelimit-remaining")?.trim();
        if remaining != "0" {
            return None;
        }
        let now = (self.ctx.clock)();
        let until = retry_at(&response.headers, now)?;
        let wait = (until - now).to_std().ok()?;
        (wait <= self.ctx.config.max_rate_limit_wait).then_some(wait)
    }
}

/// What an optional request brought.
struct Optional {
    /// The status, 0 when there was no answer.
    status: u16,
    /// The body, when the answer was a 2xx JSON document.
    body: Option<bytes::Bytes>,
    /// The answer itself (its URL, headers and cache entry), when there was one.
    response: Option<Response>,
}

impl Optional {
    fn none() -> Optional {
        Optional {
            status: 0,
            body: None,
            response: None,
        }
    }

    fn from_response(response: Response) -> Optional {
        let json = response.is_success() && looks_like_json(&response);
        Optional {
            status: response.status,
            body: json.then(|| response.body.clone()),
            response: Some(response),
        }
    }

    /// The peer list kept parsed in the cache, when the document came from there.
    fn kept_peers(&self) -> Option<Arc<PeerDigest>> {
        let cached = self.response.as_ref()?.cached.as_ref()?;
        cached.entry.peers().cloned()
    }

    fn ok(&self) -> Option<bytes::Bytes> {
        self.body.clone()
    }
}

/// A document read from the cache: the kept body (empty for a peer list, which is kept parsed)
/// with the server's headers (a 304's, none for a reuse) and the kept ones it did not send.
fn from_cache(
    url: &Url,
    entry: &Arc<crate::cache::CacheEntry>,
    headers: reqwest::header::HeaderMap,
    not_modified: bool,
    elapsed: Duration,
) -> Response {
    Response {
        url: url.to_string(),
        status: 200,
        headers: entry.merged_headers(headers),
        body: entry.body().cloned().unwrap_or_default(),
        elapsed,
        cached: Some(Cached {
            not_modified,
            entry: entry.clone(),
        }),
    }
}

/// The record of one request that was sent; `spent` is the time from sending it to its answer
/// or its failure (an answer's own `elapsed` is used when there is one).
fn record(
    method: &Method,
    url: &str,
    result: &Result<Response, FetchError>,
    spent: Duration,
) -> RequestRecord {
    match result {
        Ok(r) => RequestRecord {
            method: method.to_string(),
            url: url.to_string(),
            status: Some(r.status),
            bytes: r.body.len(),
            elapsed: r.elapsed,
            error: None,
            sent: true,
        },
        Err(err) => RequestRecord {
            method: method.to_string(),
            url: url.to_string(),
            status: None,
            bytes: 0,
            elapsed: spent,
            error: Some(err.to_string()),
            sent: true,
        },
    }
}

/// The path (and query) of an absolute http(s) URL, to be asked of the visited host.
fn path_of(href: &str) -> Option<String> {
    let url = Url::parse(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    Some(path_and_query(&url))
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    }
}

/// JSON by its `Content-Type`, or by its first byte when the type is missing or generic
/// (`text/plain`): HTML never starts with `{` or `[`.
fn looks_like_json(response: &Response) -> bool {
    if response.is_json() {
        return true;
    }
    let html = response
        .header("content-type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    let first = response
        .body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    !html && matches!(first, Some(b'{' | b'['))
}

fn has_noindex(response: &Response) -> bool {
    response
        .headers
        .get_all("x-robots-tag")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            let v = v.to_ascii_lowercase();
            // `X-Robots-Tag: otherbot: noindex` addresses another crawler.
            let applies = match v.split_once(':') {
                Some((agent, _)) if !agent.contains(',') && !agent.contains("noindex") => {
                    let agent = agent.trim();
                    agent == crate::config::ROBOTS_TOKEN || agent == "*"
                }
                _ => true,
            };
            applies && (v.contains("noindex") || v.contains("none"))
        })
}

/// 429, or Lemmy 0.19's `400 {"error":"rate_limit_error"}`.
fn is_rate_limited(response: &Response) -> bool {
    match response.status {
        429 => true,
        400 => parse::parse_error_body(&response.body).is_ok_and(|e| {
            e.message == "rate_limit_error" || e.code.as_deref() == Some("rate_limit_error")
        }),
        _ => false,
    }
}

/// The failure a parser reports, as an outcome: a body announced as JSON that is not JSON, or
/// JSON that is not the document, are both `invalid`.
fn parse_failure(err: &ParseError) -> Outcome {
    tracing::trace!(error = %err, "document refused");
    Outcome::Invalid
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// The furthest a server can push its next visit: a rate limit that names a later instant (an
/// adversary's `X-RateLimit-Reset: 300000000000` is the year 11476) is read as this long from
/// now. Every server-given instant passes through [`retry_at`], so none beyond it is stored.
pub const MAX_POSTPONEMENT: Duration = Duration::from_secs(30 * 86_400);

/// When a rate-limited host may be asked again, from its headers: `Retry-After` (seconds or an
/// HTTP date), else `X-RateLimit-Reset` (Mastodon's ISO 8601 time; seconds to wait, or a UNIX
/// time, for other software). `now` is the crawler's clock. The instant is never before `now`
/// nor more than [`MAX_POSTPONEMENT`] after it.
pub fn retry_at(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let latest = now + delta(MAX_POSTPONEMENT);
    server_instant(headers, now).map(|at| at.clamp(now, latest))
}

/// The instant the rate-limit headers name, as the server wrote it.
fn server_instant(
    headers: &reqwest::header::HeaderMap,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(value) = text("retry-after") {
        if let Ok(secs) = value.parse::<u64>() {
            return Some(now + delta(Duration::from_secs(secs.min(365 * 86_400))));
        }
        if let Ok(date) = DateTime::parse_from_rfc2822(value) {
            return Some(date.with_timezone(&Utc));
        }
    }
    if let Some(value) = text("x-ratelimit-reset") {
        if let Ok(date) = DateTime::parse_from_rfc3339(value) {
            return Some(date.with_timezone(&Utc));
        }
        if let Ok(number) = value.parse::<f64>() {
            if number.is_finite() && number >= 0.0 {
                // Large numbers are UNIX times, small ones seconds to wait.
                if number > 1.0e9 {
                    return DateTime::from_timestamp(number as i64, 0);
                }
                return Some(now + delta(Duration::from_secs_f64(number.min(365.0 * 86_400.0))));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 11, 15, 12, 0, 0)
            .single()
            .expect("a valid date")
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn retry_after_in_seconds_postpones_from_now() {
        let at = retry_at(&headers(&[("retry-after", "120")]), now());
        assert_eq!(at, Some(now() + TimeDelta::seconds(120)));
    }

    #[test]
    fn retry_after_as_an_http_date_is_read() {
        let at = retry_at(
            &headers(&[("retry-after", "Tue, 15 Nov 2022 12:05:00 GMT")]),
            now(),
        );
        assert_eq!(at, Some(now() + TimeDelta::minutes(5)));
    }

    #[test]
    fn mastodon_rate_limit_reset_is_an_iso_time() {
        let at = retry_at(
            &headers(&[("x-ratelimit-reset", "2022-11-15T12:00:07.250000Z")]),
            now(),
        );
        assert_eq!(at, Some(now() + TimeDelta::milliseconds(7250)));
    }

    #[test]
    fn a_far_future_rate_limit_is_capped_to_the_horizon() {
        let horizon = now() + TimeDelta::days(30);
        for pairs in [
            [("x-ratelimit-reset", "300000000000")],
            [("retry-after", "Sat, 01 Jan 12000 00:00:00 GMT")],
            [("retry-after", "99999999999")],
            [("x-ratelimit-reset", "9999-12-31T23:59:59Z")],
        ] {
            let at = retry_at(&headers(&pairs), now());
            assert_eq!(at, Some(horizon), "{pairs:?}");
        }
    }

    #[test]
    fn a_rate_limit_reset_in_the_past_means_now() {
        let at = retry_at(
            &headers(&[("x-ratelimit-reset", "1999-01-01T00:00:00Z")]),
            now(),
        );
        assert_eq!(at, Some(now()));
    }

    #[test]
    fn no_header_means_no_time() {
        assert_eq!(retry_at(&headers(&[]), now()), None);
        assert_eq!(retry_at(&headers(&[("retry-after", "soon")]), now()), None);
    }
}
