//! What a crawl may do: its identity, its time and size limits, its politeness and its network.
//!
//! The library never reads the environment or a file (an architecture invariant): the binary
//! builds a [`CrawlerConfig`] from its settings and hands it over. Every default is a `pub const`
//! so the binary's settings, the documentation and the tests quote the same numbers.
//!
//! The defaults are chosen from what the field does (PROTOCOL.md §4.2, FIELD.md): body caps like
//! Firefish's 1 MiB read of the well-known document (peer lists get 16 MiB: mastodon.social's
//! list is 2.9 MB and growing), 3 redirects, fediverse.space's 15 s request timeout, one request
//! in flight per host and a second between two requests to it. Request rates (governor) are
//! off by default: the caps on requests in flight and each host's interval bound a crawl, and
//! an operator who needs a ceiling sets one.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use crate::error::{Error, Result};

/// The token robots.txt files use to address fedicensus (we also obey `*`).
pub const ROBOTS_TOKEN: &str = "fedicensus";
/// How long establishing a connection may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take, from sending it to the last byte of its body.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a whole visit of one host may take, waits for politeness included.
pub const DEFAULT_VISIT_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest document read (after decompression): NodeInfo, instance API, robots.txt.
pub const DEFAULT_DOCUMENT_CAP: u64 = 1024 * 1024;
/// The largest peer list read (after decompression).
pub const DEFAULT_PEER_LIST_CAP: u64 = 16 * 1024 * 1024;
/// How many same-host redirects one request may follow.
pub const DEFAULT_MAX_REDIRECTS: usize = 3;
/// Visits running at once, across all hosts.
pub const DEFAULT_CONCURRENCY: usize = 64;
/// Visits running at once against one IP address (shared hosting serves many names).
pub const DEFAULT_PER_IP_CONCURRENCY: usize = 4;
/// The least time between the starts of two requests to one host.
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Requests a second for the whole crawl: no limit by default (the request slots,
/// `concurrency`, bound it). For an operator whose link or provider wants a ceiling.
pub const DEFAULT_REQUESTS_PER_SECOND: Option<NonZeroU32> = None;
/// Requests a second to one IP address, whichever of its hosts they go to: no limit by default
/// (`per_ip_concurrency` and each host's interval bound it). Shared hosting puts thousands of
/// servers on one address; an operator who wants to spare such providers more than the caps do
/// sets one.
pub const DEFAULT_REQUESTS_PER_SECOND_PER_ADDRESS: Option<NonZeroU32> = None;
/// The longest `Crawl-delay` honoured; longer ones are cut to this (GoToSocial asks for 500 s,
/// which would make a four-request visit last half an hour).
pub const DEFAULT_MAX_CRAWL_DELAY: Duration = Duration::from_secs(20);
/// The longest a visit waits out a rate limit (429) before giving up on the host until later.
pub const DEFAULT_MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(30);
/// Hosts of one registrable domain visited per crawl cycle (contains `*.gab.best` floods).
pub const DEFAULT_DOMAIN_BUDGET: usize = 25;
/// How often a host's peer list is read: a visit inside this time of the last read skips it.
/// Peer lists are the largest documents a server serves (megabytes for big servers) and change
/// slowly; reading one daily finds new servers quickly enough (many servers list each new one)
/// at a quarter of the cost of reading it on every 6-hourly visit.
pub const DEFAULT_PEERS_EVERY: Duration = Duration::from_secs(24 * 3600);
/// How often a Mastodon server's weekly activity (`/api/v1/instance/activity`, twelve weeks) is
/// read: it is the backfill of a newly found server's history, and its weeks close once a week.
pub const DEFAULT_ACTIVITY_EVERY: Duration = Duration::from_secs(7 * 86_400);
/// The contact URL tests and the simulator use; a real crawl must give its own.
pub const EXAMPLE_CONTACT_URL: &str = "https://example.invalid/fedicensus";

/// Everything a crawl is allowed to do.
#[derive(Debug, Clone)]
pub struct CrawlerConfig {
    /// A page that explains the crawler and how to opt out; it goes into the User-Agent
    /// (`fedicensus/<version> (+<contact URL>)`). Required.
    pub contact_url: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub visit_timeout: Duration,
    pub document_cap: u64,
    pub peer_list_cap: u64,
    pub max_redirects: usize,
    pub concurrency: usize,
    pub per_ip_concurrency: usize,
    pub min_interval: Duration,
    /// At most this many requests a second in all (`None`: no limit); see
    /// [`crate::politeness`].
    pub requests_per_second: Option<NonZeroU32>,
    /// At most this many requests a second to one IP address, across all its hosts (`None`: no
    /// limit).
    pub requests_per_second_per_address: Option<NonZeroU32>,
    pub max_crawl_delay: Duration,
    pub max_rate_limit_wait: Duration,
    pub domain_budget: usize,
    /// Hosts the operator was asked to leave alone: a name here excludes that host and every
    /// host under it (`example.org` also covers `social.example.org`). Recorded as
    /// [`Outcome::OptedOut`](fedicensus_core::Outcome::OptedOut) without any request.
    pub deny: Vec<String>,
    /// Whether to fetch the peer lists (discovery). Off for a probe that only wants numbers.
    pub fetch_peers: bool,
    /// Whether to read the block lists servers publish (Mastodon's and GoToSocial's
    /// `/api/v1/instance/domain_blocks`, Lemmy's blocked instances, Pleroma's `mrf_simple`), on
    /// the visits that read a peer list. Off by default: an operator turns it on (the demo does).
    pub read_blocklists: bool,
    /// How often a host that answered is visited ([`ALIVE_EVERY`](crate::schedule::ALIVE_EVERY)
    /// by default, with jitter); failures follow their own backoff.
    pub alive_every: Duration,
    /// How often a host's peer list is read ([`DEFAULT_PEERS_EVERY`]); see [`VisitPlan`].
    pub peers_every: Duration,
    /// How often weekly activity is read ([`DEFAULT_ACTIVITY_EVERY`]); see [`VisitPlan`].
    pub activity_every: Duration,
    /// Whether documents are kept for conditional requests (`If-None-Match`,
    /// `If-Modified-Since`) and reused while fresh where that is safe (see [`crate::cache`]).
    /// On by default; off, every document is read in full on every visit.
    pub conditional_requests: bool,
    /// How large the cache of documents may grow.
    pub cache: crate::cache::CacheLimits,
    pub network: NetworkConfig,
    /// The operator's geolocation databases (`[geo]`), if any: each visit that resolved its
    /// name records the country and network of the address it connected to.
    pub geo: Option<std::sync::Arc<crate::geo::GeoDatabases>>,
}

/// Which optional documents one visit reads. The numbers (NodeInfo, the instance API) are read
/// on every visit; the peer list and the weekly activity only when their last read is older
/// than [`CrawlerConfig::peers_every`] and [`CrawlerConfig::activity_every`] (the caller knows
/// when that was: the crawler keeps no state between runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitPlan {
    pub peers: bool,
    pub activity: bool,
}

impl VisitPlan {
    /// Everything (a host never read before, `fedicensus probe`).
    pub const FULL: VisitPlan = VisitPlan {
        peers: true,
        activity: true,
    };
}

/// Where names resolve, which certificates are trusted and which addresses may be reached.
///
/// A real crawl leaves everything at its default: the system resolver, the web's root CAs,
/// standard ports and no allowed special addresses. A crawl of the simulator sets the first four.
#[derive(Debug, Clone, Default)]
pub struct NetworkConfig {
    /// Ask this DNS server (UDP, then TCP) instead of the system's resolvers.
    pub nameserver: Option<SocketAddr>,
    /// Connect every request to this port, whatever the scheme (the simulator serves HTTP and
    /// HTTPS on one port).
    pub port: Option<u16>,
    /// An extra CA certificate to trust, PEM-encoded (the simulator's).
    pub extra_ca_pem: Option<String>,
    /// Addresses allowed although the address policy forbids their range (loopback for the
    /// simulator). Exact addresses only, never ranges.
    pub allow_addresses: Vec<IpAddr>,
    /// Refuse every address not in `allow_addresses`, public ones included. For tests and the
    /// simulator: such a crawl can never reach the internet, whatever its DNS answers.
    pub only_allowed_addresses: bool,
    /// Whether an `https://` visit that fails on its certificate may retry over plain `http://`.
    /// Off by default: a bad certificate is recorded as `tls` (other servers cannot federate with
    /// it either) and a crawler that downgrades on certificate errors is trivially fooled. A
    /// handshake that fails because the server does not speak TLS at all, and a refused or reset
    /// connection, always fall back to `http://` (the NodeInfo protocol says so).
    pub http_fallback_on_bad_certificate: bool,
}

impl CrawlerConfig {
    /// The defaults, with `contact_url`.
    pub fn new(contact_url: impl Into<String>) -> CrawlerConfig {
        CrawlerConfig {
            contact_url: contact_url.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            visit_timeout: DEFAULT_VISIT_TIMEOUT,
            document_cap: DEFAULT_DOCUMENT_CAP,
            peer_list_cap: DEFAULT_PEER_LIST_CAP,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            concurrency: DEFAULT_CONCURRENCY,
            per_ip_concurrency: DEFAULT_PER_IP_CONCURRENCY,
            min_interval: DEFAULT_MIN_INTERVAL,
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            requests_per_second_per_address: DEFAULT_REQUESTS_PER_SECOND_PER_ADDRESS,
            max_crawl_delay: DEFAULT_MAX_CRAWL_DELAY,
            max_rate_limit_wait: DEFAULT_MAX_RATE_LIMIT_WAIT,
            domain_budget: DEFAULT_DOMAIN_BUDGET,
            deny: Vec::new(),
            fetch_peers: true,
            read_blocklists: false,
            alive_every: crate::schedule::ALIVE_EVERY,
            peers_every: DEFAULT_PEERS_EVERY,
            activity_every: DEFAULT_ACTIVITY_EVERY,
            conditional_requests: true,
            cache: crate::cache::CacheLimits::default(),
            network: NetworkConfig::default(),
            geo: None,
        }
    }

    /// The User-Agent sent with every request: `fedicensus/<version> (+<contact URL>)`.
    pub fn user_agent(&self) -> String {
        format!(
            "fedicensus/{} (+{})",
            env!("CARGO_PKG_VERSION"),
            self.contact_url.trim()
        )
    }

    /// What a visit at `now` reads, given when the host's peer list and activity were last read
    /// (`None`: never). A read is due once its interval has passed; a 5 % allowance keeps a
    /// host visited every `interval` (give or take the schedule's jitter) from skipping every
    /// other read.
    pub fn plan(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        peers_read: Option<chrono::DateTime<chrono::Utc>>,
        activity_read: Option<chrono::DateTime<chrono::Utc>>,
    ) -> VisitPlan {
        let due = |last: Option<chrono::DateTime<chrono::Utc>>, every: Duration| {
            let every =
                chrono::TimeDelta::from_std(every.mul_f64(0.95)).unwrap_or(chrono::TimeDelta::MAX);
            last.is_none_or(|last| now - last >= every)
        };
        VisitPlan {
            peers: self.fetch_peers && due(peers_read, self.peers_every),
            activity: due(activity_read, self.activity_every),
        }
    }

    /// Checks that the configuration can work; a crawl refuses to start otherwise.
    pub fn validate(&self) -> Result<()> {
        let contact = self.contact_url.trim();
        if contact.is_empty() {
            return Err(Error::NoContactUrl);
        }
        let has_scheme = contact.starts_with("https://") || contact.starts_with("http://");
        if !has_scheme
            || contact.chars().any(|c| c.is_control() || c.is_whitespace())
            || contact.contains(')')
        {
            return Err(Error::Config(format!(
                "contact URL {contact:?} is not an http:// or https:// URL without spaces or \
                 parentheses"
            )));
        }
        let positive = [
            ("concurrency", self.concurrency),
            ("per_ip_concurrency", self.per_ip_concurrency),
            ("domain_budget", self.domain_budget),
            ("document_cap", self.document_cap as usize),
            ("peer_list_cap", self.peer_list_cap as usize),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(Error::Config(format!("{name} must be at least 1")));
            }
        }
        let durations = [
            ("connect_timeout", self.connect_timeout),
            ("request_timeout", self.request_timeout),
            ("visit_timeout", self.visit_timeout),
            ("alive_every", self.alive_every),
        ];
        for (name, value) in durations {
            if value.is_zero() {
                return Err(Error::Config(format!("{name} must be longer than zero")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crawl_without_a_contact_url_refuses_to_start() {
        let config = CrawlerConfig::new("  ");
        assert!(matches!(config.validate(), Err(Error::NoContactUrl)));
        let config = CrawlerConfig::new("mailto:me@example.org");
        assert!(matches!(config.validate(), Err(Error::Config(_))));
        assert!(CrawlerConfig::new(EXAMPLE_CONTACT_URL).validate().is_ok());
    }

    #[test]
    fn peer_lists_and_activity_are_read_once_per_interval() {
        use chrono::{TimeDelta, TimeZone, Utc};
        let config = CrawlerConfig::new(EXAMPLE_CONTACT_URL);
        let now = Utc.with_ymd_and_hms(2022, 11, 1, 12, 0, 0).unwrap();
        assert_eq!(config.plan(now, None, None), VisitPlan::FULL);
        let plan = config.plan(
            now,
            Some(now - TimeDelta::hours(6)),
            Some(now - TimeDelta::days(2)),
        );
        assert_eq!(
            plan,
            VisitPlan {
                peers: false,
                activity: false
            }
        );
        let plan = config.plan(
            now,
            Some(now - TimeDelta::hours(24)),
            Some(now - TimeDelta::days(7)),
        );
        assert_eq!(plan, VisitPlan::FULL);
        let no_peers = CrawlerConfig {
            fetch_peers: false,
            ..config
        };
        assert!(!no_peers.plan(now, None, None).peers);
    }

    #[test]
    fn the_user_agent_names_the_crawler_its_version_and_its_contact() {
        let config = CrawlerConfig::new("https://example.org/crawler");
        assert_eq!(
            config.user_agent(),
            format!(
                "fedicensus/{} (+https://example.org/crawler)",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
}
