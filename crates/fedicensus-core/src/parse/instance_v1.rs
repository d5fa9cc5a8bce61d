//! Mastodon's `/api/v1/instance` (deprecated since 4.0 but served by Mastodon and by every server
//! that imitates its client API: Pleroma, Akkoma, Friendica, Pixelfed, GoToSocial, ...).
//!
//! It carries the only total counts the Mastodon API offers (`stats.user_count`, `status_count`,
//! `domain_count`) and, in `version`, the de-facto software sniffing string: imitators answer
//! `"2.7.2 (compatible; Pleroma 2.0.7-stable)"`. `uri` is the account domain for Mastodon but a
//! full URL for Pleroma; both are kept raw and read into a [`Host`] where possible.

use super::{lenient, read_object, version::normalise_version, ParseError};
use crate::host::Host;
use crate::observation::{Measurement, Metric, Source};
use crate::software::Software;
use serde::Serialize;

/// A parsed `/api/v1/instance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceV1 {
    /// `uri` as sent (a domain for Mastodon, a URL for Pleroma, `host:port` for a GTS testrig).
    pub uri: Option<String>,
    /// `uri` normalised, when it is a valid name.
    pub domain: Option<Host>,
    pub title: Option<String>,
    /// `version` as sent.
    pub raw_version: Option<String>,
    /// The software the version string reveals (Mastodon unless it names another).
    pub software: Software,
    /// The software's own version ([`normalise_version`], the inner one for `compatible;`).
    pub version: Option<String>,
    pub user_count: Option<u64>,
    pub status_count: Option<u64>,
    /// Domains the server knows, blocked ones included (so ≥ its peer list's length).
    pub domain_count: Option<u64>,
    pub registrations: Option<bool>,
    pub approval_required: Option<bool>,
}

impl InstanceV1 {
    /// The numbers reported, tagged [`Source::InstanceV1`].
    pub fn measurements(&self) -> Vec<Measurement> {
        measurements(
            Source::InstanceV1,
            &[
                (Metric::UsersTotal, self.user_count),
                (Metric::LocalPosts, self.status_count),
                (Metric::DomainCount, self.domain_count),
            ],
        )
    }
}

/// Parses `/api/v1/instance`. Fails only on non-objects and error objects.
pub fn parse_instance_v1(bytes: &[u8]) -> Result<InstanceV1, ParseError> {
    let doc = read_object(bytes, "an instance document")?;
    let stats = lenient::object(&doc, &["stats"]);
    let stat = |key: &str| stats.and_then(|s| lenient::count_at(s, &[key]));
    let uri = lenient::string_at(&doc, &["uri"]);
    let raw_version = lenient::string_at(&doc, &["version"]);
    Ok(InstanceV1 {
        domain: uri.as_deref().and_then(|u| Host::parse(u).ok()),
        uri,
        title: lenient::string_at(&doc, &["title"]),
        software: sniff_software(raw_version.as_deref().unwrap_or("")),
        version: raw_version.as_deref().and_then(normalise_version),
        raw_version,
        user_count: stat("user_count"),
        status_count: stat("status_count"),
        domain_count: stat("domain_count"),
        registrations: lenient::bool_at(&doc, &["registrations"]),
        approval_required: lenient::bool_at(&doc, &["approval_required"]),
    })
}

/// Software names that imitators put in a Mastodon-API version string, checked in this order
/// (the-federation checks Pleroma, Pixelfed, Kibou, Kroeg, Misskey; fediverse.space Smithereen).
const MARKERS: &[&str] = &[
    "akkoma",
    "pleroma",
    "pixelfed",
    "friendica",
    "misskey",
    "gotosocial",
    "takahe",
    "smithereen",
    "kibou",
    "kroeg",
];

/// The software a Mastodon-API `version` string reveals: the name after `compatible;`, else a
/// known marker anywhere in it, else Mastodon (glitch-soc and other forks keep Mastodon's API).
pub fn sniff_software(version: &str) -> Software {
    if let Some(start) = version.find("(compatible;") {
        let inner = version[start + "(compatible;".len()..].trim_start();
        let name: String = inner
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if !name.is_empty() {
            return Software::from_nodeinfo_name(&name);
        }
    }
    let lower = version.to_lowercase();
    MARKERS
        .iter()
        .find(|m| lower.contains(*m))
        .map_or(Software::Mastodon, |m| Software::from_nodeinfo_name(m))
}

/// Measurements from `(metric, value)` pairs, skipping absent values.
pub(crate) fn measurements(source: Source, values: &[(Metric, Option<u64>)]) -> Vec<Measurement> {
    values
        .iter()
        .filter_map(|(metric, value)| {
            value.map(|value| Measurement {
                metric: *metric,
                source,
                value,
            })
        })
        .collect()
}
