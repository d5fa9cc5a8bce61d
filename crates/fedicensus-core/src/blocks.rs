//! Block lists servers publish: which domains a server's admins suspended, silenced or limited.
//!
//! Three shapes are read, each only when the server chose to publish it:
//! - Mastodon's `/api/v1/instance/domain_blocks` (4.0 and later, when the admin shows domain
//!   blocks to everyone), also served by GoToSocial when `instance-expose-suspended` is on: an
//!   array of `{domain, digest, severity, comment?}`. `domain` may be obfuscated with asterisks
//!   (`daji******.com`); `digest` is then the SHA-256 of the real name in hex, and the only way to
//!   learn it ([`Block::digest`]): a pattern is never guessed from.
//! - Lemmy's `federated_instances.blocked` (strings up to 0.17, objects with a `domain` from
//!   0.18), read from the peer list document ([`crate::parse::PeerList::blocked`]).
//! - Pleroma's and Akkoma's `metadata.federation.mrf_simple` in NodeInfo (when MRF transparency is
//!   on): one list of domains per policy, with Akkoma's reasons in `mrf_simple_info`.
//!
//! Every list is a stranger's: at most [`MAX_BLOCKS`] entries are kept, a comment is cut to
//! [`MAX_COMMENT_CHARS`] characters and a severity to [`MAX_SEVERITY_LEN`] bytes, and entries that
//! name no valid host (nor an obfuscated pattern of one) are counted in [`BlockList::skipped`].

use crate::host::Host;
use crate::parse::{lenient, read_json, ParseError, PeerList};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// The most entries kept from one list (real lists hold up to a few thousand).
pub const MAX_BLOCKS: usize = 10_000;
/// The longest comment kept, in characters (longer ones are cut).
pub const MAX_COMMENT_CHARS: usize = 500;
/// The longest severity kept, in bytes (a longer one is refused with its entry).
pub const MAX_SEVERITY_LEN: usize = 32;
/// The longest obfuscated pattern kept, in bytes (a DNS name's limit).
pub const MAX_PATTERN_LEN: usize = 253;

/// The document a block list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockSource {
    /// `/api/v1/instance/domain_blocks` (Mastodon, GoToSocial).
    DomainBlocks,
    /// Lemmy's `federated_instances.blocked`.
    LemmyBlocked,
    /// NodeInfo `metadata.federation.mrf_simple` (Pleroma, Akkoma).
    MrfSimple,
}

impl BlockSource {
    /// Every source, in a fixed order.
    pub const ALL: &'static [BlockSource] = &[
        BlockSource::DomainBlocks,
        BlockSource::LemmyBlocked,
        BlockSource::MrfSimple,
    ];

    /// The stable name stored and exported.
    pub fn as_str(&self) -> &'static str {
        match self {
            BlockSource::DomainBlocks => "domain_blocks",
            BlockSource::LemmyBlocked => "lemmy_blocked",
            BlockSource::MrfSimple => "mrf_simple",
        }
    }

    /// The source named `name` ([`BlockSource::as_str`]).
    pub fn from_name(name: &str) -> Option<BlockSource> {
        BlockSource::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == name)
    }
}

/// One published block.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Block {
    /// The blocked domain as published: a normalised host name, or, when [`Block::obfuscated`],
    /// the lowercase pattern with its asterisks (`daji******.com`).
    pub domain: String,
    /// Whether `domain` is an obfuscated pattern (it holds a `*`).
    pub obfuscated: bool,
    /// The SHA-256 of the real domain, 64 lowercase hex digits, when the list published one (a
    /// malformed digest is dropped).
    pub digest: Option<String>,
    /// `suspend`, `silence`, or a Pleroma policy name kept as it is (`media_removal`, ...);
    /// lowercase.
    pub severity: String,
    /// The public reason, when one was published (trimmed, cut to [`MAX_COMMENT_CHARS`]).
    pub comment: Option<String>,
}

/// A server's block list, as one document published it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockList {
    pub source: BlockSource,
    /// The blocks, in the document's order, one per (domain, severity).
    pub blocks: Vec<Block>,
    /// Entries that named no valid domain or pattern, or came past [`MAX_BLOCKS`].
    pub skipped: usize,
}

/// Builds a list entry by entry, refusing repeats in constant time (a hostile list of 10,000
/// entries would cost 50 million comparisons against the list).
struct Builder {
    list: BlockList,
    seen: HashSet<(String, String, Option<String>)>,
}

impl Builder {
    fn new(source: BlockSource) -> Builder {
        Builder {
            list: BlockList {
                source,
                blocks: Vec::new(),
                skipped: 0,
            },
            seen: HashSet::new(),
        }
    }

    /// Adds one entry, unless it is invalid, repeats one already kept (the same domain or
    /// pattern, severity and digest: two obfuscated entries may share a pattern and differ by
    /// digest), or the list is full.
    fn push(&mut self, domain: &str, digest: Option<&str>, severity: &str, comment: Option<&str>) {
        if self.list.blocks.len() >= MAX_BLOCKS {
            self.list.skipped += 1;
            return;
        }
        let (Some((domain, obfuscated)), Some(severity)) =
            (normalise_target(domain), normalise_severity(severity))
        else {
            self.list.skipped += 1;
            return;
        };
        let digest = digest.and_then(normalise_digest);
        let key = (
            domain.clone(),
            severity.clone(),
            if obfuscated { digest.clone() } else { None },
        );
        if !self.seen.insert(key) {
            return;
        }
        self.list.blocks.push(Block {
            domain,
            obfuscated,
            digest,
            severity,
            comment: comment.and_then(normalise_comment),
        });
    }
}

/// A published domain: a host name (normalised with [`Host::parse`]) or, with an asterisk, an
/// obfuscated pattern (lowercase ASCII letters, digits, `-`, `_`, `.` and `*` only).
fn normalise_target(raw: &str) -> Option<(String, bool)> {
    let raw = raw.trim();
    if raw.contains('*') {
        let pattern = raw.trim_end_matches('.').to_ascii_lowercase();
        let valid = !pattern.is_empty()
            && pattern.len() <= MAX_PATTERN_LEN
            && pattern
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*'));
        return valid.then_some((pattern, true));
    }
    Host::parse(raw)
        .ok()
        .map(|h| (h.as_str().to_owned(), false))
}

/// A hex SHA-256, lowercased; anything else is no digest.
fn normalise_digest(raw: &str) -> Option<String> {
    let raw = raw.trim();
    (raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| raw.to_ascii_lowercase())
}

fn normalise_severity(raw: &str) -> Option<String> {
    let severity = raw.trim().to_ascii_lowercase();
    let valid = !severity.is_empty()
        && severity.len() <= MAX_SEVERITY_LEN
        && severity
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then_some(severity)
}

fn normalise_comment(raw: &str) -> Option<String> {
    let cut: String = raw.trim().chars().take(MAX_COMMENT_CHARS).collect();
    let cut = cut.trim_end().to_owned();
    (!cut.is_empty()).then_some(cut)
}

/// Parses `/api/v1/instance/domain_blocks` (Mastodon 4.0+, GoToSocial): an array of objects.
///
/// A missing severity is read from GoToSocial's `suspended_at`/`silenced_at` when present, else
/// taken as `suspend` (GoToSocial publishes suspensions only); GoToSocial's `public_comment`
/// stands in for a missing `comment`.
pub fn parse_domain_blocks(bytes: &[u8]) -> Result<BlockList, ParseError> {
    let items = match read_json(bytes)? {
        Value::Array(items) => items,
        Value::Object(map) => {
            return Err(match crate::parse::error_body::error_in(&map) {
                Some(error) => ParseError::ErrorBody(error),
                None => ParseError::Invalid("domain blocks are a JSON array".into()),
            })
        }
        other => {
            return Err(ParseError::Invalid(format!(
                "domain blocks are a JSON array, found {}",
                lenient::type_name(&other)
            )))
        }
    };
    let mut list = Builder::new(BlockSource::DomainBlocks);
    for item in &items {
        let Some(object) = item.as_object() else {
            list.list.skipped += 1;
            continue;
        };
        let Some(domain) = object.get("domain").and_then(Value::as_str) else {
            list.list.skipped += 1;
            continue;
        };
        let severity = match object.get("severity").and_then(Value::as_str) {
            Some(s) => s,
            None if has_value(object, "silenced_at") && !has_value(object, "suspended_at") => {
                "silence"
            }
            None => "suspend",
        };
        let comment = object
            .get("comment")
            .and_then(Value::as_str)
            .or_else(|| object.get("public_comment").and_then(Value::as_str));
        let digest = object.get("digest").and_then(Value::as_str);
        list.push(domain, digest, severity, comment);
    }
    Ok(list.list)
}

fn has_value(object: &Map<String, Value>, key: &str) -> bool {
    object.get(key).is_some_and(|v| !v.is_null())
}

/// Lemmy's blocked instances, from a parsed peer list: `None` unless the list is Lemmy's (any
/// version). A blocked instance is defederated entirely, read as `suspend`. Lemmy publishes no
/// reasons.
pub fn lemmy_blocks(peers: &PeerList) -> Option<BlockList> {
    if peers.shape != crate::parse::peers::PeerListShape::Lemmy {
        return None;
    }
    let mut list = Builder::new(BlockSource::LemmyBlocked);
    for domain in &peers.blocked {
        list.push(domain, None, "suspend", None);
    }
    Some(list.list)
}

/// How a Pleroma/Akkoma MRF simple policy is recorded: `reject` is a suspension,
/// `federated_timeline_removal` a silence, every other policy under its own name. `accept` (an
/// allow-list) is no block and is not read.
pub fn mrf_severity(policy: &str) -> Option<&str> {
    match policy {
        "accept" => None,
        "reject" => Some("suspend"),
        "federated_timeline_removal" => Some("silence"),
        other => Some(other),
    }
}

/// Pleroma's and Akkoma's `metadata.federation.mrf_simple` from NodeInfo `metadata`, with the
/// reasons of Akkoma's `mrf_simple_info` as comments; `None` when the server publishes none.
pub fn mrf_simple_blocks(metadata: &Value) -> Option<BlockList> {
    let federation = metadata.get("federation")?.as_object()?;
    let simple = federation.get("mrf_simple")?.as_object()?;
    let info = federation.get("mrf_simple_info").and_then(Value::as_object);
    let mut list = Builder::new(BlockSource::MrfSimple);
    // In the document's key order would depend on serde_json's map order; a fixed order of
    // policies (sorted) keeps the list stable.
    let mut policies: Vec<(&String, &Value)> = simple.iter().collect();
    policies.sort_by(|a, b| a.0.cmp(b.0));
    for (policy, domains) in policies {
        let Some(severity) = mrf_severity(policy) else {
            continue;
        };
        let Some(domains) = domains.as_array() else {
            continue;
        };
        let reasons = info.and_then(|i| i.get(policy.as_str()));
        for domain in domains {
            let Some(domain) = domain.as_str() else {
                list.list.skipped += 1;
                continue;
            };
            let comment = reasons
                .and_then(|r| r.get(domain))
                .and_then(|r| r.get("reason"))
                .and_then(Value::as_str);
            list.push(domain, None, severity, comment);
        }
    }
    Some(list.list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_a_host_or_a_pattern() {
        assert_eq!(
            normalise_target("Daji******.COM"),
            Some(("daji******.com".into(), true))
        );
        assert_eq!(
            normalise_target(" Example.org. "),
            Some(("example.org".into(), false))
        );
        assert_eq!(normalise_target("<script>*"), None);
        assert_eq!(normalise_target(""), None);
        assert_eq!(normalise_target(&format!("{}*.com", "a".repeat(300))), None);
    }

    #[test]
    fn a_digest_is_64_hex_digits() {
        let d = "3752F63A7079D60C2DE5DCEB8BD7608E86A15544EB78A494A482041C3684B37F";
        assert_eq!(normalise_digest(d), Some(d.to_ascii_lowercase()));
        assert_eq!(normalise_digest("abc"), None);
        assert_eq!(normalise_digest(&"g".repeat(64)), None);
    }

    #[test]
    fn severities_and_comments_are_capped() {
        assert_eq!(normalise_severity(" Suspend "), Some("suspend".into()));
        assert_eq!(normalise_severity(&"x".repeat(33)), None);
        assert_eq!(normalise_severity("a b"), None);
        assert_eq!(normalise_comment("   "), None);
        let long = "é".repeat(2 * MAX_COMMENT_CHARS);
        assert_eq!(
            normalise_comment(&long).map(|c| c.chars().count()),
            Some(MAX_COMMENT_CHARS)
        );
    }
}
