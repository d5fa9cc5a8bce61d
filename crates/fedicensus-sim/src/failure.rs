//! The ways real servers fail or misbehave, and how often the simulated world makes them do it.
//!
//! A [`Failure`] decides how a whole host answers (or does not): it is what a crawler must record
//! as the outcome of a visit. A [`Quirk`] leaves the host answering but bends what it says: wrong
//! types, fake numbers, hidden peers. Each server has at most one failure and any set of quirks,
//! drawn from a [`FailureMix`] of rates, so every test can ask for exactly the trouble it studies.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a whole host fails. Stable names (see [`Failure::name`]) appear in the truth CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Failure {
    /// The name does not exist: the simulator's DNS answers NXDOMAIN.
    NoSuchDomain,
    /// The name resolves to a loopback address where nothing listens: connection refused.
    Refused,
    /// The connection is accepted and the request read, but no answer ever comes.
    Hang,
    /// Headers come at once, then the body drips a few bytes at a time, slowly.
    Drip,
    /// The TLS certificate is signed by a CA nobody trusts (HTTP still answers).
    BadTls,
    /// Every request answers this 5xx status.
    ServerError(u16),
    /// Rate limited: beyond a small burst, 429 with a `Retry-After` header (seconds).
    RateLimitedRetryAfter,
    /// Rate limited the Mastodon way: 429 with only `X-RateLimit-Reset` (an ISO 8601 time).
    RateLimitedReset,
    /// A Cloudflare challenge page: 403, `text/html`, `cf-mitigated: challenge`.
    CloudflareChallenge,
    /// A parked domain or SPA catch-all: HTML with status 200 for every path.
    ParkedHtml,
    /// JSON endpoints answer `application/json` bodies that do not parse.
    MalformedJson,
    /// NodeInfo is tens of megabytes long.
    HugeBody,
    /// NodeInfo is a gzip bomb: a small compressed body that inflates to gigabytes.
    GzipBomb,
    /// Every path redirects, in a loop between two URLs of the same host.
    RedirectLoop,
    /// NodeInfo redirects to another host's NodeInfo (which answers with that host's numbers).
    RedirectOtherHost,
    /// The server moved for good: every path is a 301 to the same path on another domain.
    Moved,
    /// 410 Gone on every path.
    Gone,
    /// robots.txt disallows fedicensus's token (but not other crawlers).
    RobotsDisallowUs,
    /// robots.txt disallows every crawler (`User-agent: *` / `Disallow: /`).
    RobotsDisallowAll,
    /// The name resolves to a private (RFC 1918) address: SSRF bait, never to be connected to.
    SsrfPrivate,
    /// The name resolves to a loopback address other than the simulator's own: SSRF bait.
    SsrfLoopback,
    /// The name resolves to a link-local address (169.254.169.254): SSRF bait.
    SsrfLinkLocal,
    /// Slowloris in reverse: every answer is `200 application/json` whose body is one byte a
    /// second, for ever. Only a total time per request ends it (a read timeout that restarts
    /// with every byte never fires).
    Slowloris,
    /// NodeInfo is a body that never ends, sent as fast as the client reads, without a length.
    EndlessBody,
    /// NodeInfo is valid JSON nested 100,000 arrays deep (200 KB): a recursive parser without a
    /// depth limit overflows its stack.
    DeepJson,
    /// TLS stalls mid-handshake: the ClientHello is read and never answered (plain HTTP
    /// answers). Only a connect (handshake) timeout ends it.
    TlsStall,
    /// An adversary's rate limit: every request answers 429 with a `Retry-After` HTTP date in
    /// the year 12000 and `X-RateLimit-Reset: 300000000000` (a UNIX time in the year 11476).
    /// Only a crawler that caps a server-given instant keeps the host in its schedule.
    FarFutureRateLimit,
    /// robots.txt is larger than any document cap (2 MiB); its first lines disallow
    /// fedicensus's token, the rest is comments. RFC 9309 asks a crawler to parse at least the
    /// first 500 KiB.
    RobotsHuge,
    /// robots.txt is redirected five times, the last time to another server of the world, which
    /// answers this server's file: fedicensus's token is disallowed. RFC 9309 asks a crawler to
    /// follow at least five redirects.
    RobotsRedirected,
    /// The well-known document answers a same-host redirect to an explicit port where nothing
    /// listens (9); the redirected URL, asked on the server's own port, answers as usual. A
    /// crawler that pins its port follows it there.
    RedirectExplicitPort,
}

impl Failure {
    /// Every failure kind, with a representative status for [`Failure::ServerError`].
    pub const ALL: &'static [Failure] = &[
        Failure::NoSuchDomain,
        Failure::Refused,
        Failure::Hang,
        Failure::Drip,
        Failure::BadTls,
        Failure::ServerError(503),
        Failure::RateLimitedRetryAfter,
        Failure::RateLimitedReset,
        Failure::CloudflareChallenge,
        Failure::ParkedHtml,
        Failure::MalformedJson,
        Failure::HugeBody,
        Failure::GzipBomb,
        Failure::RedirectLoop,
        Failure::RedirectOtherHost,
        Failure::Moved,
        Failure::Gone,
        Failure::RobotsDisallowUs,
        Failure::RobotsDisallowAll,
        Failure::SsrfPrivate,
        Failure::SsrfLoopback,
        Failure::SsrfLinkLocal,
        Failure::Slowloris,
        Failure::EndlessBody,
        Failure::DeepJson,
        Failure::TlsStall,
        Failure::FarFutureRateLimit,
        Failure::RobotsHuge,
        Failure::RobotsRedirected,
        Failure::RedirectExplicitPort,
    ];

    /// The stable name used in the truth CSV and on the command line.
    pub fn name(&self) -> String {
        match self {
            Failure::NoSuchDomain => "no-such-domain".into(),
            Failure::Refused => "refused".into(),
            Failure::Hang => "hang".into(),
            Failure::Drip => "drip".into(),
            Failure::BadTls => "bad-tls".into(),
            Failure::ServerError(code) => format!("server-error-{code}"),
            Failure::RateLimitedRetryAfter => "rate-limited-retry-after".into(),
            Failure::RateLimitedReset => "rate-limited-reset".into(),
            Failure::CloudflareChallenge => "cloudflare-challenge".into(),
            Failure::ParkedHtml => "parked-html".into(),
            Failure::MalformedJson => "malformed-json".into(),
            Failure::HugeBody => "huge-body".into(),
            Failure::GzipBomb => "gzip-bomb".into(),
            Failure::RedirectLoop => "redirect-loop".into(),
            Failure::RedirectOtherHost => "redirect-other-host".into(),
            Failure::Moved => "moved".into(),
            Failure::Gone => "gone".into(),
            Failure::RobotsDisallowUs => "robots-disallow-us".into(),
            Failure::RobotsDisallowAll => "robots-disallow-all".into(),
            Failure::SsrfPrivate => "ssrf-private".into(),
            Failure::SsrfLoopback => "ssrf-loopback".into(),
            Failure::SsrfLinkLocal => "ssrf-link-local".into(),
            Failure::Slowloris => "slowloris".into(),
            Failure::EndlessBody => "endless-body".into(),
            Failure::DeepJson => "deep-json".into(),
            Failure::TlsStall => "tls-stall".into(),
            Failure::FarFutureRateLimit => "far-future-rate-limit".into(),
            Failure::RobotsHuge => "robots-huge".into(),
            Failure::RobotsRedirected => "robots-redirected".into(),
            Failure::RedirectExplicitPort => "redirect-explicit-port".into(),
        }
    }

    /// Whether a patient, polite client (one that honours robots.txt, waits out rate limits and
    /// has no time limit) gets the server's real numbers from its NodeInfo. This is what the truth
    /// calls "reachable"; it is the definition the scenario is calibrated against.
    pub fn leaves_reachable(&self) -> bool {
        matches!(
            self,
            Failure::RateLimitedRetryAfter
                | Failure::RateLimitedReset
                | Failure::Drip
                | Failure::RedirectExplicitPort
        )
    }

    /// Whether the failure is decided by name resolution rather than by the HTTP server.
    pub fn is_dns_level(&self) -> bool {
        matches!(
            self,
            Failure::NoSuchDomain
                | Failure::Refused
                | Failure::SsrfPrivate
                | Failure::SsrfLoopback
                | Failure::SsrfLinkLocal
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A way a server that answers bends what it says. A server may have several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Quirk {
    /// `/api/v1/instance/peers` answers 404 with an empty body (admin disabled it).
    PeersDisabled,
    /// `/api/v1/instance/activity` answers 404 with an empty body.
    ActivityDisabled,
    /// Mastodon limited-federation (whitelist) mode: v1 instance, peers and activity answer 401.
    LimitedFederation,
    /// NodeInfo counts are JSON strings (Pixelfed 0.11).
    NumbersAsStrings,
    /// NodeInfo active-user counts are `null` (Misskey does this by design; here on any software).
    NullCounts,
    /// NodeInfo counts are negative.
    NegativeCounts,
    /// NodeInfo fields have the wrong JSON type (`usage.users: []`, `localPosts` as an object,
    /// `metadata: []`).
    WrongTypes,
    /// NodeInfo keys are misspelt (`activeHalfYear`, `metaData`, `local_posts`).
    MisspeltKeys,
    /// NodeInfo `metadata.private` is true: the admin asked not to be listed.
    PrivacyFlag,
    /// GoToSocial's "baffle" mode: random preposterous numbers, regenerated hourly.
    Baffle,
    /// Lemmy's NodeInfo counts remote users as its own (a 5-MAU server claiming 74,234 users).
    LemmyRemoteInflation,
    /// Calckey-style inflation of the Mastodon-API counts (2 users one day, 10,000 the next).
    CalckeyInflation,
    /// `/.well-known/nodeinfo` has `links` as a single object, not an array (old Lemmy, Hubzilla).
    WellKnownLinksObject,
    /// `links` as an object plus a stray `"0"` key holding the second link (old Hubzilla).
    WellKnownZeroKey,
    /// The link's `href` is relative (`/nodeinfo/2.0`).
    WellKnownRelativeHref,
    /// The link's `href` has no scheme (`host/nodeinfo/2.1`) and `rel` is `self` (Movary).
    WellKnownSchemeless,
    /// NodeInfo and robots.txt answer with `X-Robots-Tag: noindex`.
    NoIndexHeader,
    /// The admin typed markup and spreadsheet formulas into what the server says of itself: its
    /// title, description and name ([`HOSTILE_TITLE`]) and its NodeInfo `software.version`
    /// ([`hostile_version`]). Numbers and the software's name are untouched, so the server counts
    /// as what it is; what a dashboard shows of it must be escaped, and its CSV cells neutralised.
    HostileStrings,
}

/// The title, name and description a [`Quirk::HostileStrings`] server gives itself.
pub const HOSTILE_TITLE: &str =
    "<script>alert('title')</script><img src=x onerror=alert(1)>\"'onmouseover=alert(2) x=";

/// The NodeInfo `software.version` a [`Quirk::HostileStrings`] server running `version` serves:
/// a spreadsheet formula that also carries markup.
pub fn hostile_version(version: &str) -> String {
    format!("=HYPERLINK(\"http://evil.invalid/\",\"{version}\")<script>alert('version')</script>")
}

impl Quirk {
    /// Every quirk, in a stable order.
    pub const ALL: &'static [Quirk] = &[
        Quirk::PeersDisabled,
        Quirk::ActivityDisabled,
        Quirk::LimitedFederation,
        Quirk::NumbersAsStrings,
        Quirk::NullCounts,
        Quirk::NegativeCounts,
        Quirk::WrongTypes,
        Quirk::MisspeltKeys,
        Quirk::PrivacyFlag,
        Quirk::Baffle,
        Quirk::LemmyRemoteInflation,
        Quirk::CalckeyInflation,
        Quirk::WellKnownLinksObject,
        Quirk::WellKnownZeroKey,
        Quirk::WellKnownRelativeHref,
        Quirk::WellKnownSchemeless,
        Quirk::NoIndexHeader,
        Quirk::HostileStrings,
    ];

    /// The stable name used in the truth CSV.
    pub fn name(&self) -> &'static str {
        match self {
            Quirk::PeersDisabled => "peers-disabled",
            Quirk::ActivityDisabled => "activity-disabled",
            Quirk::LimitedFederation => "limited-federation",
            Quirk::NumbersAsStrings => "numbers-as-strings",
            Quirk::NullCounts => "null-counts",
            Quirk::NegativeCounts => "negative-counts",
            Quirk::WrongTypes => "wrong-types",
            Quirk::MisspeltKeys => "misspelt-keys",
            Quirk::PrivacyFlag => "privacy-flag",
            Quirk::Baffle => "baffle",
            Quirk::LemmyRemoteInflation => "lemmy-remote-inflation",
            Quirk::CalckeyInflation => "calckey-inflation",
            Quirk::WellKnownLinksObject => "well-known-links-object",
            Quirk::WellKnownZeroKey => "well-known-zero-key",
            Quirk::WellKnownRelativeHref => "well-known-relative-href",
            Quirk::WellKnownSchemeless => "well-known-schemeless",
            Quirk::NoIndexHeader => "x-robots-tag-noindex",
            Quirk::HostileStrings => "hostile-strings",
        }
    }

    /// Whether this quirk makes the numbers a server reports differ from its true numbers
    /// on purpose (the crawler must flag these, not correct them).
    pub fn fakes_numbers(&self) -> bool {
        matches!(
            self,
            Quirk::Baffle | Quirk::LemmyRemoteInflation | Quirk::CalckeyInflation
        )
    }
}

/// A set of quirks, stored as a bit set so a 100,000-server world stays small.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Quirks(u32);

impl Quirks {
    /// No quirks.
    pub const NONE: Quirks = Quirks(0);

    /// Whether `quirk` is in the set.
    pub fn has(self, quirk: Quirk) -> bool {
        self.0 & (1 << quirk as u8) != 0
    }

    /// Adds `quirk` to the set.
    pub fn insert(&mut self, quirk: Quirk) {
        self.0 |= 1 << quirk as u8;
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The quirks in the set, in [`Quirk::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Quirk> {
        Quirk::ALL.iter().copied().filter(move |q| self.has(*q))
    }

    /// The names joined by `+`, as in the truth CSV (empty when there are none).
    pub fn names(self) -> String {
        self.iter().map(|q| q.name()).collect::<Vec<_>>().join("+")
    }
}

impl FromIterator<Quirk> for Quirks {
    fn from_iter<I: IntoIterator<Item = Quirk>>(iter: I) -> Self {
        let mut set = Quirks::NONE;
        for q in iter {
            set.insert(q);
        }
        set
    }
}

/// How often each failure and quirk is assigned, as a share of all servers (0.0 to 1.0).
///
/// The default mix is calibrated to the field: about 11 % mean downtime and many dead hosts in
/// peer lists (FIELD.md), with every kind of trouble present at least a little.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureMix {
    /// Share of servers with each failure. The shares must add up to at most 1.
    pub failures: Vec<(Failure, f64)>,
    /// Share of (eligible) servers with each quirk, drawn independently.
    pub quirks: Vec<(Quirk, f64)>,
    /// Share of peer-list entries that are junk copied from the real mastodon.social list
    /// (IPs, `host:port`, Unicode and punycode forms, `*`-obfuscated names, over-long labels...).
    pub peer_junk: f64,
    /// How many subdomains of one registrable domain flood the peer lists (0 for none).
    pub flood_subdomains: usize,
    /// Share of servers whose robots.txt starts refusing fedicensus on a day inside the scenario
    /// (and for one in five stops again later): see `World::robots_refuses_us`.
    #[serde(default)]
    pub robots_opt_outs: f64,
    /// Parties that try to inflate the census (none by default): see [`Adversaries`].
    #[serde(default)]
    pub adversaries: Adversaries,
}

/// Parties that try to inflate a census, each of one kind (issue 25): the world's truth says what
/// an honest census shows of them (their claims left out, invented names not servers).
///
/// None are in the default mix: they are added after calibration, from their own random stream,
/// so no other server changes, but their claims and their servers would change the default
/// scenario's calibrated census figures (24 Mastodon servers claiming 30 million users each).
/// [`Adversaries::standard`] turns every kind on (`fedicensus simulate --adversaries`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adversaries {
    /// Subdomains of one registrable domain, each a small Mastodon server claiming
    /// `inflated_users` registered users (0 for none).
    pub inflated_subdomains: usize,
    /// What each of those subdomains claims.
    pub inflated_users: u64,
    /// Small Mastodon servers whose claim jumps to `jump_users` on 10 November 2022 (0 for none).
    pub jumpers: usize,
    /// What a jumper claims from its jump on, beyond the whole fediverse's users.
    pub jump_users: u64,
    /// Invented names in the peer list of one small Mastodon server (0 for none): names of no
    /// server, which do not resolve.
    pub invented_peers: usize,
}

impl Adversaries {
    /// No adversary.
    pub const NONE: Adversaries = Adversaries {
        inflated_subdomains: 0,
        inflated_users: 0,
        jumpers: 0,
        jump_users: 0,
        invented_peers: 0,
    };

    /// One of each kind, as the attacks of issue 25 tried them: 24 subdomains claiming 30 million
    /// users each, one server jumping to 40 million, one peer list of 2,000 invented names.
    pub fn standard() -> Adversaries {
        Adversaries {
            inflated_subdomains: 24,
            inflated_users: 30_000_000,
            jumpers: 1,
            jump_users: 40_000_000,
            invented_peers: 2_000,
        }
    }

    /// Whether any adversary is on.
    pub fn any(&self) -> bool {
        self.inflated_subdomains > 0 || self.jumpers > 0 || self.invented_peers > 0
    }
}

impl FailureMix {
    /// A world where every server behaves.
    pub fn none() -> FailureMix {
        FailureMix {
            failures: Vec::new(),
            quirks: Vec::new(),
            peer_junk: 0.0,
            flood_subdomains: 0,
            robots_opt_outs: 0.0,
            adversaries: Adversaries::NONE,
        }
    }

    /// The share of servers assigned `failure`.
    pub fn rate_of(&self, failure: Failure) -> f64 {
        self.failures
            .iter()
            .filter(|(f, _)| *f == failure)
            .map(|(_, r)| *r)
            .sum()
    }
}

impl Default for FailureMix {
    fn default() -> FailureMix {
        FailureMix {
            failures: vec![
                (Failure::NoSuchDomain, 0.035),
                (Failure::Refused, 0.03),
                (Failure::Hang, 0.008),
                (Failure::Drip, 0.004),
                (Failure::BadTls, 0.015),
                (Failure::ServerError(502), 0.012),
                (Failure::ServerError(503), 0.008),
                (Failure::RateLimitedRetryAfter, 0.004),
                (Failure::RateLimitedReset, 0.004),
                (Failure::CloudflareChallenge, 0.006),
                (Failure::ParkedHtml, 0.008),
                (Failure::MalformedJson, 0.003),
                (Failure::HugeBody, 0.001),
                (Failure::GzipBomb, 0.001),
                (Failure::RedirectLoop, 0.002),
                (Failure::RedirectOtherHost, 0.002),
                (Failure::Moved, 0.004),
                (Failure::Gone, 0.004),
                (Failure::RobotsDisallowUs, 0.003),
                (Failure::RobotsDisallowAll, 0.006),
                (Failure::SsrfPrivate, 0.001),
                (Failure::SsrfLoopback, 0.001),
                (Failure::SsrfLinkLocal, 0.001),
            ],
            quirks: vec![
                (Quirk::PeersDisabled, 0.03),
                (Quirk::ActivityDisabled, 0.03),
                (Quirk::LimitedFederation, 0.005),
                (Quirk::NumbersAsStrings, 0.01),
                (Quirk::NullCounts, 0.01),
                (Quirk::NegativeCounts, 0.003),
                (Quirk::WrongTypes, 0.005),
                (Quirk::MisspeltKeys, 0.005),
                (Quirk::PrivacyFlag, 0.01),
                (Quirk::Baffle, 0.003),
                (Quirk::LemmyRemoteInflation, 0.002),
                (Quirk::CalckeyInflation, 0.002),
                (Quirk::WellKnownLinksObject, 0.005),
                (Quirk::WellKnownZeroKey, 0.002),
                (Quirk::WellKnownRelativeHref, 0.01),
                (Quirk::WellKnownSchemeless, 0.002),
                (Quirk::NoIndexHeader, 0.003),
                // Last, so that adding it changed no other quirk's servers.
                (Quirk::HostileStrings, 0.01),
            ],
            peer_junk: 0.004,
            flood_subdomains: 200,
            // No census measured opt-outs that start mid-history; 0.6 % sits between the
            // static robots refusals above (0.3 % fedicensus only, 0.6 % every crawler).
            robots_opt_outs: 0.006,
            adversaries: Adversaries::NONE,
        }
    }
}
