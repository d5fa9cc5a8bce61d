//! Peer lists: how fedicensus discovers servers.
//!
//! Shapes read (all return the entries as raw strings; normalising them is a separate step,
//! [`normalise_peers`], so that rejections can be counted):
//! - Mastodon, Pleroma, Misskey, GoToSocial `/api/v1/instance/peers`: an array of strings;
//! - GoToSocial with `?filter=`: an array of objects `{domain, suspended_at?, comment?, ...}`;
//! - Lemmy ≤0.17: `federated_instances: {linked, allowed?, blocked?}` of strings, inside
//!   `/api/v3/site`; 0.18: `/api/v3/federated_instances` with objects `{id, domain, ...}`; 0.19:
//!   the same objects with `federation_state` flattened in; `federated_instances: null` when
//!   federation is off.
//!
//! Entries are untrusted: mastodon.social's 121,644 include IPs, ports, Unicode and punycode
//! spellings of one name, and GoToSocial's include obfuscated `o*g.*u**` blocks.

use super::instance_v1::measurements;
use super::{lenient, read_json, ParseError};
use crate::host::{Host, HostError};
use crate::observation::{Measurement, Metric, Source};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

/// Which shape the list came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerListShape {
    /// An array of domain strings (Mastodon and imitators).
    Strings,
    /// An array of objects with a `domain` (GoToSocial filters) or `host` (Misskey) key.
    Objects,
    /// Lemmy's `federated_instances` object (any version).
    Lemmy,
    /// Lemmy with federation disabled (`federated_instances: null`).
    LemmyDisabled,
}

/// A parsed peer list: raw entries, not yet validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerList {
    pub shape: PeerListShape,
    /// The peers (Lemmy: `linked`), as sent, in order.
    pub entries: Vec<String>,
    /// Lemmy `allowed` (an allow-list, when the server federates only with these).
    pub allowed: Vec<String>,
    /// Lemmy `blocked`.
    pub blocked: Vec<String>,
    /// Array elements that held no domain string.
    pub skipped: usize,
}

impl PeerList {
    /// The number of entries, tagged [`Source::PeerList`].
    pub fn measurements(&self) -> Vec<Measurement> {
        let count = u64::try_from(self.entries.len()).ok();
        measurements(Source::PeerList, &[(Metric::PeerCount, count)])
    }
}

/// Parses a peer list in any of the shapes above.
pub fn parse_peers(bytes: &[u8]) -> Result<PeerList, ParseError> {
    // The common shape, an array of strings, is read straight into strings: building a
    // `Value` for each of 100,000 entries and copying its string out cost as much as
    // normalising them. Anything else (objects, a null among the strings, Lemmy, an error)
    // fails this read and takes the general one below, which gives the same list.
    let unmarked = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(entries) = serde_json::from_slice::<Vec<String>>(unmarked) {
        return Ok(PeerList {
            shape: PeerListShape::Strings,
            entries,
            allowed: Vec::new(),
            blocked: Vec::new(),
            skipped: 0,
        });
    }
    match read_json(bytes)? {
        Value::Array(items) => {
            let shape = if items.iter().any(Value::is_object) {
                PeerListShape::Objects
            } else {
                PeerListShape::Strings
            };
            let (entries, skipped) = domains(&items);
            Ok(PeerList {
                shape,
                entries,
                allowed: Vec::new(),
                blocked: Vec::new(),
                skipped,
            })
        }
        Value::Object(map) => lemmy(&map),
        other => Err(ParseError::Invalid(format!(
            "a peer list is an array, found {}",
            lenient::type_name(&other)
        ))),
    }
}

fn lemmy(map: &Map<String, Value>) -> Result<PeerList, ParseError> {
    let Some(federated) = lenient::get(map, &["federated_instances"]) else {
        return Err(match super::error_body::error_in(map) {
            Some(error) => ParseError::ErrorBody(error),
            None => {
                ParseError::Invalid("a peer list is an array or has \"federated_instances\"".into())
            }
        });
    };
    let Some(federated) = federated.as_object() else {
        return Ok(PeerList {
            shape: PeerListShape::LemmyDisabled,
            entries: Vec::new(),
            allowed: Vec::new(),
            blocked: Vec::new(),
            skipped: 0,
        });
    };
    let list = |key: &str| match federated.get(key) {
        Some(Value::Array(items)) => domains(items),
        _ => (Vec::new(), 0),
    };
    let (entries, s1) = list("linked");
    let (allowed, s2) = list("allowed");
    let (blocked, s3) = list("blocked");
    Ok(PeerList {
        shape: PeerListShape::Lemmy,
        entries,
        allowed,
        blocked,
        skipped: s1 + s2 + s3,
    })
}

/// The domain strings in an array of strings or objects, and how many elements had none.
fn domains(items: &[Value]) -> (Vec<String>, usize) {
    let mut out = Vec::with_capacity(items.len());
    let mut skipped = 0;
    for item in items {
        let domain = match item {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => lenient::string_at(o, &["domain", "host"]).or_else(|| {
                // Lemmy 1.0's paged items nest the instance: `{instance: {domain}}`.
                lenient::object(o, &["instance"]).and_then(|i| lenient::string_at(i, &["domain"]))
            }),
            _ => None,
        };
        match domain {
            Some(d) => out.push(d),
            None => skipped += 1,
        }
    }
    (out, skipped)
}

/// A peer list after normalisation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NormalisedPeers {
    /// Valid, distinct names, in order of first appearance (`.onion`/`.i2p` included; see
    /// [`Host::is_crawlable`]).
    pub hosts: Vec<Host>,
    /// Entries that normalised to a name already listed (`social.λ.zone` after
    /// `social.xn--wxa.zone`, `a.example:443` after `a.example`).
    pub duplicates: usize,
    /// Refused entries, by reason.
    pub rejected: BTreeMap<HostError, usize>,
}

impl NormalisedPeers {
    /// All refused entries.
    pub fn rejected_total(&self) -> usize {
        self.rejected.values().sum()
    }
}

/// Normalises raw peer entries with [`Host::parse`], dropping duplicates and counting refusals.
pub fn normalise_peers<S: AsRef<str>>(raw: &[S]) -> NormalisedPeers {
    let mut out = NormalisedPeers::default();
    let mut hosts = Vec::with_capacity(raw.len());
    for entry in raw {
        match Host::parse(entry.as_ref()) {
            Ok(host) => hosts.push(host),
            Err(e) => *out.rejected.entry(e).or_default() += 1,
        }
    }
    // Duplicates go after the names are made, keeping each first appearance: the set borrows
    // the names instead of holding a copy of each.
    let keep: Vec<bool> = {
        let mut seen = HashSet::with_capacity(hosts.len());
        hosts.iter().map(|h| seen.insert(h.as_str())).collect()
    };
    let mut keep = keep.into_iter();
    hosts.retain(|_| keep.next().expect("one flag a name"));
    // What is neither refused nor kept repeated a name.
    out.duplicates = raw.len() - out.rejected_total() - hosts.len();
    out.hosts = hosts;
    // The list is held until the writer stores it; the spare capacity is given back.
    out.hosts.shrink_to_fit();
    out
}
