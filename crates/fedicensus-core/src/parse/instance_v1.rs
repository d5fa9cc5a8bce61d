//! Mastodon's `/api/v1/instance` (deprecated since 4.0 but served by Mastodon and by every server
//! that imitates its client API: Pleroma, Akkoma, Friendica, Pixelfed, GoToSocial, ...).
//!
//! It carries the only total counts the Mastodon API offers (`stats.user_count`, `status_count`,
//! `domain_count`) and, in `version`, the de-facto software sniffing string: imitators answer
//! `"2.7.2 (compatible; Pleroma 2.0.7-stable)"`, Takahē `"takahe/0.10.1"`. Others (BookWyrm,
//! Micro.blog) send a bare version like Mastodon's, so the software is read from the marks a
//! server leaves itself ([`document_software`]) and is unknown without them, never assumed to be
//! Mastodon. `uri` is the account domain for Mastodon but a
//! full URL for Pleroma; both are kept raw and read into a [`Host`] where possible.

use super::{lenient, read_object, version::normalise_version, ParseError};
use crate::host::Host;
use crate::language::{self, DeclaredLanguage};
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
    /// The software the document names ([`document_software`]); `None` when it names none: a
    /// Mastodon-shaped document alone does not say the software is Mastodon.
    pub software: Option<Software>,
    /// The software's name as the document spells it (`Iceshrimp.NET`), when it spells one.
    pub software_name: Option<String>,
    /// The software's own version as sent (the part after the name in `compatible;`).
    pub software_version: Option<String>,
    /// The software's own version ([`normalise_version`], the inner one for `compatible;`).
    pub version: Option<String>,
    pub user_count: Option<u64>,
    pub status_count: Option<u64>,
    /// Domains the server knows, blocked ones included (so ≥ its peer list's length).
    pub domain_count: Option<u64>,
    pub registrations: Option<bool>,
    pub approval_required: Option<bool>,
    /// `languages`, normalised ([`crate::language`]): usually the admin's default locale.
    pub languages: Vec<String>,
}

impl InstanceV1 {
    /// The languages it declared, tagged [`crate::Source::InstanceV1`].
    pub fn declared_languages(&self) -> Vec<DeclaredLanguage> {
        language::declared(crate::Source::InstanceV1, &self.languages)
    }

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
    let sniff = document_software(&doc, raw_version.as_deref());
    Ok(InstanceV1 {
        domain: uri.as_deref().and_then(|u| Host::parse(u).ok()),
        uri,
        title: lenient::string_at(&doc, &["title"]),
        software: sniff.as_ref().map(|s| s.family.clone()),
        software_name: sniff.as_ref().and_then(|s| s.name.clone()),
        software_version: sniff.and_then(|s| s.version),
        version: raw_version.as_deref().and_then(normalise_version),
        raw_version,
        user_count: stat("user_count"),
        status_count: stat("status_count"),
        domain_count: stat("domain_count"),
        registrations: lenient::bool_at(&doc, &["registrations"]),
        approval_required: lenient::bool_at(&doc, &["approval_required"]),
        languages: language::from_json(lenient::get(&doc, &["languages"])),
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

/// What an instance document says about the software that serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoftwareSniff {
    /// The family ([`Software::from_nodeinfo_name`] of the name, so it matches the NodeInfo's).
    pub family: Software,
    /// The name as the document spells it (`Iceshrimp.NET`, `takahe`), when it spells one.
    pub name: Option<String>,
    /// The software's own version as sent (`2024.1-beta2.security3+e1d25a9231` in
    /// `4.2.1 (compatible; Iceshrimp.NET/2024.1-beta2.security3+e1d25a9231)`).
    pub version: Option<String>,
}

impl SoftwareSniff {
    fn named(name: &str, version: &str) -> SoftwareSniff {
        let version = version.trim();
        SoftwareSniff {
            family: Software::from_nodeinfo_name(name),
            name: Some(name.to_owned()),
            version: (!version.is_empty()).then(|| version.to_owned()),
        }
    }
}

/// The software a Mastodon-API `version` string names, or `None` when it names none (a bare
/// `4.2.1` is Mastodon's API version, which BookWyrm, Micro.blog and others send too, so it says
/// nothing about the software). Read in this order:
/// 1. the name after `compatible;`, up to a space or `/`: `2.7.2 (compatible; Pleroma 2.0.7)`,
///    `4.2.1 (compatible; Iceshrimp.NET/2024.1-beta2)`; the rest is the software's version;
/// 2. a leading `name/version` (Takahē's `takahe/0.10.1`) or `name version` (`Smithereen
///    0.0.1-pre-alpha`);
/// 3. a known marker anywhere in the string (the version then unknown).
pub fn sniff_version(version: &str) -> Option<SoftwareSniff> {
    let version = version.trim();
    if let Some(start) = version.find("(compatible;") {
        let inner = version[start + "(compatible;".len()..].trim_start();
        let inner = inner.split(')').next().unwrap_or(inner);
        if let Some((name, rest)) = leading_name(inner) {
            let rest = rest.strip_prefix('/').unwrap_or(rest);
            return Some(SoftwareSniff::named(name, rest));
        }
    }
    if let Some((name, rest)) = leading_name(version) {
        let after_slash = rest.strip_prefix('/');
        let after_space = rest
            .strip_prefix(char::is_whitespace)
            .map(str::trim_start)
            .filter(|r| r.starts_with(|c: char| c.is_ascii_digit() || c == 'v'));
        if let Some(rest) = after_slash.or(after_space) {
            return Some(SoftwareSniff::named(name, rest));
        }
    }
    let lower = version.to_lowercase();
    MARKERS
        .iter()
        .find(|m| lower.contains(*m))
        .map(|m| SoftwareSniff {
            family: Software::from_nodeinfo_name(m),
            name: None,
            version: None,
        })
}

/// A software name at the start of `text` (a letter, then letters, digits, `.`, `-`, `_`; a
/// trailing `.` is punctuation) and what follows it.
fn leading_name(text: &str) -> Option<(&str, &str)> {
    if !text.starts_with(|c: char| c.is_alphabetic()) {
        return None;
    }
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .unwrap_or(text.len());
    let name = text[..end].trim_end_matches('.');
    // `v0.13.0` is a version, not a name.
    let versionish =
        name.starts_with(['v', 'V']) && name[1..].starts_with(|c: char| c.is_ascii_digit());
    (!versionish).then(|| (name, &text[name.len()..]))
}

/// The family a version string names; see [`sniff_version`].
pub fn sniff_software(version: &str) -> Option<Software> {
    sniff_version(version).map(|s| s.family)
}

/// What an instance document (v1 or v2) says its software is, from the marks a server leaves
/// itself rather than from the API's shape, which every imitator copies:
/// - the `version` string ([`sniff_version`]);
/// - `account_domain`, a key only GoToSocial sends;
/// - `source_url` (v2): the repository the server says it runs, named by its last path segment
///   (`github.com/mastodon/mastodon` and forks such as `Universeodon-com/mastodon` are
///   Mastodon; `jointakahe/takahe`, `codeberg.org/silverpill/mitra`);
/// - Mastodon's own version format (`4.2.1`, `4.0.0rc2`, `4.3.0-nightly.2024-05-13`,
///   `3.5.3+glitch`: one token, three numbers) together with `urls.streaming_api`, which
///   Mastodon's v1 document has carried since 2017 and BookWyrm's and Micro.blog's do not.
///
/// Anything else is `None`: the software is unknown, not Mastodon.
pub(crate) fn document_software(
    doc: &serde_json::Map<String, serde_json::Value>,
    raw_version: Option<&str>,
) -> Option<SoftwareSniff> {
    let raw = raw_version.map(str::trim).filter(|v| !v.is_empty());
    if let Some(sniff) = raw.and_then(sniff_version) {
        return Some(sniff);
    }
    let own_version = raw.map(str::to_owned);
    if lenient::get(doc, &["account_domain"]).is_some() {
        return Some(SoftwareSniff {
            family: Software::Gotosocial,
            name: None,
            version: own_version,
        });
    }
    if let Some(repo) = lenient::string_at(doc, &["source_url"]).and_then(|u| repository_name(&u)) {
        return Some(SoftwareSniff {
            family: Software::from_nodeinfo_name(&repo),
            name: None,
            version: own_version,
        });
    }
    let streaming = lenient::object(doc, &["urls"])
        .and_then(|u| lenient::string_at(u, &["streaming_api"]))
        .is_some_and(|s| !s.trim().is_empty());
    if streaming && raw.is_some_and(is_mastodon_version) {
        return Some(SoftwareSniff {
            family: Software::Mastodon,
            name: None,
            version: own_version,
        });
    }
    None
}

/// The repository name in a source URL: its last path segment, without `.git`.
fn repository_name(url: &str) -> Option<String> {
    let url = url::Url::parse(url.trim()).ok()?;
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    if segments.len() < 2 {
        return None;
    }
    let last = segments.last()?;
    let name = last.strip_suffix(".git").unwrap_or(last);
    (!name.is_empty()).then(|| name.to_owned())
}

/// Whether a version is in Mastodon's format: `major.minor.patch`, then optionally a pre-release
/// or build suffix (`rc2`, `-nightly.2024-05-13`, `+glitch`, `-asonix-changes`), all one token,
/// and no `git` build (GoToSocial's `0.16.0+git-f1cbf6f`).
fn is_mastodon_version(version: &str) -> bool {
    if version.contains(char::is_whitespace) || version.contains("git") {
        return false;
    }
    let mut rest = version;
    for i in 0..3 {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        if i < 2 {
            match rest.strip_prefix('.') {
                Some(after) => rest = after,
                None => return false,
            }
        }
    }
    rest.is_empty()
        || rest.starts_with(['-', '+'])
        || rest.starts_with(|c: char| c.is_ascii_lowercase())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(version: &str) -> Option<(Software, Option<String>, Option<String>)> {
        sniff_version(version).map(|s| (s.family, s.name, s.version))
    }

    #[test]
    fn a_compatible_name_runs_to_a_space_or_a_slash() {
        assert_eq!(
            sniff("2.7.2 (compatible; Pleroma 2.0.7-stable)"),
            Some((
                Software::Pleroma,
                Some("Pleroma".into()),
                Some("2.0.7-stable".into())
            ))
        );
        assert_eq!(
            sniff("4.2.1 (compatible; Iceshrimp.NET/2024.1-beta2)"),
            Some((
                Software::Other("iceshrimp.net".into()),
                Some("Iceshrimp.NET".into()),
                Some("2024.1-beta2".into())
            ))
        );
    }

    #[test]
    fn a_leading_name_with_a_slash_or_a_space_names_the_software() {
        assert_eq!(
            sniff("takahe/0.10.1"),
            Some((
                Software::Takahe,
                Some("takahe".into()),
                Some("0.10.1".into())
            ))
        );
        assert_eq!(
            sniff_software("Smithereen 0.0.1-pre-alpha"),
            Some(Software::Other("smithereen".into()))
        );
    }

    #[test]
    fn a_bare_version_names_no_software() {
        for v in [
            "4.2.1",
            "0.7.4",
            "2.1",
            "v0.13.0 git-31e37d2",
            "",
            "unknown",
        ] {
            assert_eq!(sniff_software(v), None, "{v:?}");
        }
    }

    fn doc(json: serde_json::Value) -> Option<Software> {
        let map = json.as_object().expect("an object").clone();
        let version = map
            .get("version")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        document_software(&map, version.as_deref()).map(|s| s.family)
    }

    #[test]
    fn a_document_names_its_software_by_the_marks_it_leaves() {
        let streaming = serde_json::json!({"streaming_api": "wss://a.example"});
        // GoToSocial 0.7.1's v1 document: Mastodon's shape, GoToSocial's `account_domain`.
        let gts = serde_json::json!({"version": "0.7.1 git-adb5966", "account_domain": "a.example",
            "urls": streaming});
        assert_eq!(doc(gts), Some(Software::Gotosocial));
        let gts_one_token = serde_json::json!({"version": "0.16.0+git-f1cbf6f", "urls": streaming});
        assert_eq!(doc(gts_one_token), None);
        let mastodon =
            serde_json::json!({"version": "4.3.0-nightly.2024-05-13", "urls": streaming});
        assert_eq!(doc(mastodon), Some(Software::Mastodon));
        let bare = serde_json::json!({"version": "4.3.0"});
        assert_eq!(doc(bare), None);
        let takahe = serde_json::json!({"version": "0.10.1",
            "source_url": "https://github.com/jointakahe/takahe"});
        assert_eq!(doc(takahe), Some(Software::Takahe));
        let mitra = serde_json::json!({"version": "4.0.0",
            "source_url": "https://codeberg.org/silverpill/mitra.git"});
        assert_eq!(doc(mitra), Some(Software::Other("mitra".into())));
    }
}
