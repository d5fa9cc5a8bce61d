//! What one visit to one server found: the [`Observation`] the crawler emits and storage records.
//!
//! A visit that fails is still an observation: its [`Outcome`] says how it failed. Every number
//! keeps the document it came from ([`Source`]), because NodeInfo and the Mastodon instance API
//! often disagree and researchers need to see both. A number a server did not report is absent,
//! never zero.

use crate::blocks::BlockList;
use crate::geo::Location;
use crate::host::Host;
use crate::language::{self, DeclaredLanguage};
use crate::software::Software;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a visit ended. Stable names (see [`Outcome::as_str`]) are stored and exported.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum Outcome {
    /// NodeInfo (at least) was read and parsed.
    Ok,
    /// The name does not resolve (NXDOMAIN or no address).
    NoSuchDomain,
    /// The name resolved to an address we refuse to connect to (private, loopback, ...).
    ForbiddenAddress,
    /// The connection was refused.
    Refused,
    /// No answer within the time allowed (connect, request or whole visit).
    Timeout,
    /// The TLS handshake failed (bad certificate, protocol error).
    Tls,
    /// Another connection-level failure (reset, unexpected close).
    Connection,
    /// The server answered an HTTP error status where a document was expected.
    HttpStatus(u16),
    /// A JSON document was expected and something else came (HTML, a Cloudflare page).
    NotJson,
    /// JSON that does not describe a server (malformed, or no `software.name`).
    Invalid,
    /// A body larger than the cap (after decompression).
    TooLarge,
    /// Too many redirects, or a redirect loop.
    RedirectLoop,
    /// The server has no NodeInfo (404 on the well-known document).
    NoNodeInfo,
    /// robots.txt forbids what we would fetch.
    RobotsDisallowed,
    /// The server asked not to be counted (410 Gone, 451, or an operator's deny list).
    OptedOut,
    /// The server moved permanently to another domain (recorded in [`Observation::moved_to`]).
    Moved,
    /// Rate limited (429) and not retried within this visit.
    RateLimited,
    /// The visit failed while the crawler itself was overloaded (its runtime not scheduled, its
    /// own reads late): the failure may be ours, so it says nothing about the server. Never makes
    /// a server down, unreachable or dead; the host is visited again soon.
    Inconclusive,
}

impl Outcome {
    /// The stable name stored in databases and exports.
    pub fn as_str(&self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::NoSuchDomain => "no_such_domain".into(),
            Outcome::ForbiddenAddress => "forbidden_address".into(),
            Outcome::Refused => "refused".into(),
            Outcome::Timeout => "timeout".into(),
            Outcome::Tls => "tls".into(),
            Outcome::Connection => "connection".into(),
            Outcome::HttpStatus(code) => format!("http_{code}"),
            Outcome::NotJson => "not_json".into(),
            Outcome::Invalid => "invalid".into(),
            Outcome::TooLarge => "too_large".into(),
            Outcome::RedirectLoop => "redirect_loop".into(),
            Outcome::NoNodeInfo => "no_nodeinfo".into(),
            Outcome::RobotsDisallowed => "robots_disallowed".into(),
            Outcome::OptedOut => "opted_out".into(),
            Outcome::Moved => "moved".into(),
            Outcome::RateLimited => "rate_limited".into(),
            Outcome::Inconclusive => "inconclusive".into(),
        }
    }

    /// Parses a stable name back (the inverse of [`Outcome::as_str`]).
    pub fn from_name(name: &str) -> Option<Outcome> {
        if let Some(code) = name.strip_prefix("http_") {
            return code.parse().ok().map(Outcome::HttpStatus);
        }
        Some(match name {
            "ok" => Outcome::Ok,
            "no_such_domain" => Outcome::NoSuchDomain,
            "forbidden_address" => Outcome::ForbiddenAddress,
            "refused" => Outcome::Refused,
            "timeout" => Outcome::Timeout,
            "tls" => Outcome::Tls,
            "connection" => Outcome::Connection,
            "not_json" => Outcome::NotJson,
            "invalid" => Outcome::Invalid,
            "too_large" => Outcome::TooLarge,
            "redirect_loop" => Outcome::RedirectLoop,
            "no_nodeinfo" => Outcome::NoNodeInfo,
            "robots_disallowed" => Outcome::RobotsDisallowed,
            "opted_out" => Outcome::OptedOut,
            "moved" => Outcome::Moved,
            "rate_limited" => Outcome::RateLimited,
            "inconclusive" => Outcome::Inconclusive,
            _ => return None,
        })
    }

    /// Whether the server answered with usable numbers.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }

    /// Whether the server answered as a running server does: with NodeInfo (`ok`), or with a
    /// robots.txt that forbids what fedicensus would read (it is up, and has opted out of being
    /// read). Such a server is alive: never unreachable, never dead.
    pub fn answered(&self) -> bool {
        matches!(self, Outcome::Ok | Outcome::RobotsDisallowed)
    }

    /// Whether the visit says anything about the server: false for `inconclusive` (the
    /// crawler's own overload), which no status, death or figure reads.
    pub fn is_conclusive(&self) -> bool {
        !matches!(self, Outcome::Inconclusive)
    }

    /// The stable names of the outcomes [`Outcome::answered`] accepts, for SQL.
    pub const ANSWERED_NAMES: &'static [&'static str] = &["ok", "robots_disallowed"];
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// The document a number came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    // Serialised under its stable name (snake_case would give `node_info`).
    #[serde(rename = "nodeinfo")]
    NodeInfo,
    InstanceV1,
    InstanceV2,
    Activity,
    LemmySite,
    MisskeyMeta,
    MisskeyStats,
    PeertubeStats,
    PeerList,
    /// The pre-NodeInfo `/statistics.json` of diaspora*, Friendica and RedMatrix.
    StatisticsJson,
}

impl Source {
    /// The stable name stored and exported.
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::NodeInfo => "nodeinfo",
            Source::InstanceV1 => "instance_v1",
            Source::InstanceV2 => "instance_v2",
            Source::Activity => "activity",
            Source::LemmySite => "lemmy_site",
            Source::MisskeyMeta => "misskey_meta",
            Source::MisskeyStats => "misskey_stats",
            Source::PeertubeStats => "peertube_stats",
            Source::PeerList => "peer_list",
            Source::StatisticsJson => "statistics_json",
        }
    }

    /// Every source, in a stable order.
    pub const ALL: &'static [Source] = &[
        Source::NodeInfo,
        Source::InstanceV1,
        Source::InstanceV2,
        Source::Activity,
        Source::LemmySite,
        Source::MisskeyMeta,
        Source::MisskeyStats,
        Source::PeertubeStats,
        Source::PeerList,
        Source::StatisticsJson,
    ];

    /// Parses a stable name back (the inverse of [`Source::as_str`]).
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.iter().copied().find(|s| s.as_str() == name)
    }
}

/// What a number counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Registered users.
    UsersTotal,
    /// Users active in the last month (each software's own window).
    UsersActiveMonth,
    /// Users active in the last half year.
    UsersActiveHalfyear,
    /// Users active in the last week (NodeInfo 2.2, Lemmy, PeerTube).
    UsersActiveWeek,
    /// Posts by local users.
    LocalPosts,
    /// Comments by local users.
    LocalComments,
    /// Domains the server knows (Mastodon `stats.domain_count`, Misskey `instances`).
    DomainCount,
    /// Entries in the peer list it served.
    PeerCount,
}

impl Metric {
    /// The stable name stored and exported.
    pub fn as_str(&self) -> &'static str {
        match self {
            Metric::UsersTotal => "users_total",
            Metric::UsersActiveMonth => "users_active_month",
            Metric::UsersActiveHalfyear => "users_active_halfyear",
            Metric::UsersActiveWeek => "users_active_week",
            Metric::LocalPosts => "local_posts",
            Metric::LocalComments => "local_comments",
            Metric::DomainCount => "domain_count",
            Metric::PeerCount => "peer_count",
        }
    }
}

/// One number a server reported, with where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measurement {
    pub metric: Metric,
    pub source: Source,
    pub value: u64,
}

/// One week of `/api/v1/instance/activity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekActivity {
    /// Start of the week, as the server reported it.
    pub week_start: DateTime<Utc>,
    pub statuses: u64,
    pub logins: u64,
    pub registrations: u64,
}

/// Things a server said about itself that change how it may be shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flags {
    /// NodeInfo `metadata.private`, Friendica `site.private` or similar: counted in aggregates,
    /// never listed individually.
    pub private: bool,
    /// `X-Robots-Tag: noindex` on its documents: counted, not listed.
    pub noindex: bool,
    /// Mastodon limited-federation mode (401 on the instance API).
    pub limited_federation: bool,
    /// The server refused its peer list (401, 403, or robots.txt forbids it): it has one and
    /// hides it. A server that offers none (404, no such API) is not flagged; its visit simply
    /// has no peer list.
    pub peers_hidden: bool,
}

/// The software a server reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftwareReport {
    /// The family it maps to.
    pub family: Software,
    /// `software.name` exactly as sent.
    pub raw_name: String,
    /// `software.version` exactly as sent (may be empty).
    pub raw_version: String,
    /// The version normalised to `major.minor.patch` where one can be read.
    pub version: Option<String>,
}

/// One visit to one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub host: Host,
    /// When the visit started (the crawler's clock; simulated time in a simulated crawl).
    pub observed_at: DateTime<Utc>,
    pub outcome: Outcome,
    /// Wall time the visit took, in milliseconds.
    pub duration_ms: u64,
    /// The NodeInfo schema version read (`"2.0"`, ...), if any.
    pub nodeinfo_version: Option<String>,
    pub software: Option<SoftwareReport>,
    pub open_registrations: Option<bool>,
    /// Every number reported, with its source. Several sources may report one metric.
    pub measurements: Vec<Measurement>,
    /// Weekly activity, newest first, as reported (the first week is partial).
    pub activity: Vec<WeekActivity>,
    /// The normalised peers it listed (valid names only), when a peer list was read.
    pub peers: Option<Vec<Host>>,
    pub flags: Flags,
    /// Where it moved, for [`Outcome::Moved`].
    pub moved_to: Option<Host>,
    /// Another host its NodeInfo link named (a server that serves several domains, such as
    /// Takahē, links each to its main one). The link is never followed: the same path was asked
    /// of this host, and its figures are this host's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodeinfo_elsewhere: Option<Host>,
    /// The languages the server declared, each with the document that declared it (the
    /// instance API, Lemmy's site, Misskey's meta, NodeInfo metadata), in the order
    /// [`language::ordered`] gives: the first is its primary language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<DeclaredLanguage>,
    /// The country and network of the address the visit connected to, when the crawler has a
    /// geolocation database (`None` without one, or when the name did not resolve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The block list the server published, when the crawl reads block lists and one was read
    /// (`None`: not read, which says nothing about the server's blocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks: Option<BlockList>,
}

impl Observation {
    /// A visit that ended with `outcome` and found nothing.
    pub fn failed(
        host: Host,
        observed_at: DateTime<Utc>,
        outcome: Outcome,
        duration_ms: u64,
    ) -> Observation {
        Observation {
            host,
            observed_at,
            outcome,
            duration_ms,
            nodeinfo_version: None,
            software: None,
            open_registrations: None,
            measurements: Vec::new(),
            activity: Vec::new(),
            peers: None,
            flags: Flags::default(),
            moved_to: None,
            nodeinfo_elsewhere: None,
            languages: Vec::new(),
            location: None,
            blocks: None,
        }
    }

    /// Adds the languages one document declared, keeping the most trusted source first.
    pub fn declare_languages(&mut self, declared: Vec<DeclaredLanguage>) {
        self.languages.extend(declared);
        self.languages = language::ordered(&self.languages);
    }

    /// The server's primary declared language: the first language of the most trusted document
    /// that declared any ([`language::source_rank`]), or `None` when no document declared one.
    pub fn primary_language(&self) -> Option<&str> {
        self.languages
            .iter()
            .min_by_key(|l| language::source_rank(l.source))
            .map(|l| l.language.as_str())
    }

    /// The value of `metric` from the most trusted source that reported it: NodeInfo first for
    /// totals and posts, the instance API v2 first for monthly actives (Mastodon's own figure).
    pub fn best(&self, metric: Metric) -> Option<u64> {
        let order: &[Source] = match metric {
            Metric::UsersActiveMonth => &[
                Source::InstanceV2,
                Source::NodeInfo,
                Source::LemmySite,
                Source::PeertubeStats,
                Source::StatisticsJson,
            ],
            _ => &[
                Source::NodeInfo,
                Source::InstanceV1,
                Source::LemmySite,
                Source::MisskeyStats,
                Source::PeertubeStats,
                Source::StatisticsJson,
                Source::InstanceV2,
                Source::Activity,
                Source::PeerList,
            ],
        };
        order.iter().find_map(|source| {
            self.measurements
                .iter()
                .find(|m| m.metric == metric && m.source == *source)
                .map(|m| m.value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_serialise_under_their_stable_names() {
        for source in Source::ALL {
            let json = serde_json::to_value(source).expect("serialisable");
            assert_eq!(json.as_str(), Some(source.as_str()));
            assert_eq!(Source::from_name(source.as_str()), Some(*source));
        }
    }

    #[test]
    fn outcome_names_round_trip() {
        for outcome in [
            Outcome::Ok,
            Outcome::NoSuchDomain,
            Outcome::HttpStatus(503),
            Outcome::RobotsDisallowed,
            Outcome::Moved,
            Outcome::Inconclusive,
        ] {
            assert_eq!(Outcome::from_name(&outcome.as_str()), Some(outcome));
        }
        assert_eq!(Outcome::from_name("nonsense"), None);
    }
}
