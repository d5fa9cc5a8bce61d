//! NodeInfo 1.0–2.2 documents, and NodeInfo2 (`/.well-known/x-nodeinfo2`, a different spec).
//!
//! Every field except `software.name` is optional here, whatever the schema says: Lemmy 0.18 and
//! BookWyrm omit `services` and `metadata`, Friendica may omit `usage` or send `users: []`,
//! Misskey sends `null` active counts, Pixelfed sends counts as strings, a Pleroma sent
//! `localPosts` as an object, some forks misspell keys (`activeHalfYear`, `metaData`,
//! `local_posts`, `totalPosts`). A field that cannot be read is `None` ("not reported"), never 0.
//! `protocols` is an array in 2.x and an `{inbound, outbound}` object in 1.x; both are read.

use super::{lenient, read_object, version::normalise_version, ParseError};
use crate::language::{self, DeclaredLanguage};
use crate::observation::{Measurement, Metric, SoftwareReport, Source};
use crate::software::Software;
use serde::Serialize;
use serde_json::{Map, Value};

/// A parsed NodeInfo document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeInfo {
    /// The document's own `version` field (`"2.0"`), as sent.
    pub schema_version: Option<String>,
    pub software: NodeInfoSoftware,
    /// Protocols, in document order, without duplicates (1.x: inbound then outbound).
    pub protocols: Vec<String>,
    pub open_registrations: Option<bool>,
    pub usage: Usage,
    /// The server's name: `metadata.nodeName`, or 2.2's `instance.name`.
    pub node_name: Option<String>,
    /// `metadata.private` is true (Pleroma, Akkoma, WriteFreely, Funkwhale): count the server in
    /// aggregates, never list it.
    pub private: bool,
    /// `metadata` as sent (`null` when absent), for the per-software details nobody agrees on.
    pub metadata: Value,
    /// `metadata.languages` or `metadata.langs` (Misskey forks), normalised
    /// ([`crate::language`]).
    pub languages: Vec<String>,
}

/// `software` of a NodeInfo document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeInfoSoftware {
    /// `software.name` exactly as sent.
    pub raw_name: String,
    /// The family the name maps to (trimmed, lowercased).
    pub family: Software,
    /// `software.version` exactly as sent (empty when absent).
    pub raw_version: String,
    /// The version normalised by [`normalise_version`].
    pub version: Option<String>,
    pub repository: Option<String>,
    pub homepage: Option<String>,
}

impl NodeInfoSoftware {
    fn new(raw_name: String, raw_version: String) -> NodeInfoSoftware {
        NodeInfoSoftware {
            family: Software::from_nodeinfo_name(&raw_name),
            version: normalise_version(&raw_version),
            raw_name,
            raw_version,
            repository: None,
            homepage: None,
        }
    }

    /// The report stored with an observation.
    pub fn report(&self) -> SoftwareReport {
        SoftwareReport {
            family: self.family.clone(),
            raw_name: self.raw_name.clone(),
            raw_version: self.raw_version.clone(),
            version: self.version.clone(),
        }
    }
}

/// `usage`: every count optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub users_total: Option<u64>,
    pub users_active_halfyear: Option<u64>,
    pub users_active_month: Option<u64>,
    pub users_active_week: Option<u64>,
    pub local_posts: Option<u64>,
    pub local_comments: Option<u64>,
}

impl Usage {
    /// Reads a `usage` value of any shape.
    pub fn from_value(usage: Option<&Value>) -> Usage {
        let Some(usage) = usage.and_then(Value::as_object) else {
            return Usage::default();
        };
        let users = lenient::object(usage, &["users"]);
        let user = |keys: &[&str]| users.and_then(|u| lenient::count_at(u, keys));
        Usage {
            users_total: user(&["total"]),
            users_active_halfyear: user(&["activeHalfyear"]),
            users_active_month: user(&["activeMonth"]),
            users_active_week: user(&["activeWeek"]),
            local_posts: lenient::count_at(usage, &["localPosts", "totalPosts"]),
            local_comments: lenient::count_at(usage, &["localComments", "totalComments"]),
        }
    }

    /// The counts present, tagged with `source`.
    pub fn measurements(&self, source: Source) -> Vec<Measurement> {
        [
            (Metric::UsersTotal, self.users_total),
            (Metric::UsersActiveMonth, self.users_active_month),
            (Metric::UsersActiveHalfyear, self.users_active_halfyear),
            (Metric::UsersActiveWeek, self.users_active_week),
            (Metric::LocalPosts, self.local_posts),
            (Metric::LocalComments, self.local_comments),
        ]
        .into_iter()
        .filter_map(|(metric, value)| {
            value.map(|value| Measurement {
                metric,
                source,
                value,
            })
        })
        .collect()
    }
}

impl NodeInfo {
    /// The languages it declared, tagged [`crate::Source::NodeInfo`].
    pub fn declared_languages(&self) -> Vec<DeclaredLanguage> {
        language::declared(crate::Source::NodeInfo, &self.languages)
    }

    /// The numbers reported, tagged [`Source::NodeInfo`].
    pub fn measurements(&self) -> Vec<Measurement> {
        self.usage.measurements(Source::NodeInfo)
    }

    /// The software report stored with an observation.
    pub fn software_report(&self) -> SoftwareReport {
        self.software.report()
    }
}

/// Parses a NodeInfo 1.0–2.2 document. Fails only when it is not a JSON object, is an error
/// object, or has no usable `software.name`.
pub fn parse_nodeinfo(bytes: &[u8]) -> Result<NodeInfo, ParseError> {
    let doc = read_object(bytes, "a NodeInfo document")?;
    let software = lenient::object(&doc, &["software"])
        .ok_or_else(|| ParseError::Invalid("no \"software\" object".into()))?;
    let name = lenient::string_at(software, &["name"])
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ParseError::Invalid("no \"software.name\"".into()))?;
    let version = lenient::string_at(software, &["version"]).unwrap_or_default();
    let mut sw = NodeInfoSoftware::new(name, version);
    sw.repository = lenient::string_at(software, &["repository"]);
    sw.homepage = lenient::string_at(software, &["homepage"]);

    let metadata = lenient::get(&doc, &["metadata"])
        .cloned()
        .unwrap_or(Value::Null);
    let meta = metadata.as_object();
    let instance = lenient::object(&doc, &["instance"]);
    let node_name = meta
        .and_then(|m| lenient::string_at(m, &["nodeName"]))
        .or_else(|| instance.and_then(|i| lenient::string_at(i, &["name"])));
    let private = meta
        .and_then(|m| lenient::bool_at(m, &["private"]))
        .unwrap_or(false);

    Ok(NodeInfo {
        schema_version: lenient::string_at(&doc, &["version"]),
        software: sw,
        protocols: protocols(lenient::get(&doc, &["protocols"])),
        open_registrations: lenient::bool_at(&doc, &["openRegistrations"]),
        usage: Usage::from_value(lenient::get(&doc, &["usage"])),
        node_name,
        private,
        languages: meta
            .map(|m| language::from_json(lenient::get(m, &["languages", "langs"])))
            .unwrap_or_default(),
        metadata,
    })
}

/// Parses a NodeInfo2 document (`/.well-known/x-nodeinfo2`): `server.{baseUrl, name, software,
/// version}` instead of `software`, otherwise NodeInfo-like. Returned as a [`NodeInfo`] (schema
/// version `x-nodeinfo2 <version>`), so callers handle one type.
pub fn parse_nodeinfo2(bytes: &[u8]) -> Result<NodeInfo, ParseError> {
    let doc = read_object(bytes, "a NodeInfo2 document")?;
    let server = lenient::object(&doc, &["server"])
        .ok_or_else(|| ParseError::Invalid("no \"server\" object".into()))?;
    let name = lenient::string_at(server, &["software"])
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ParseError::Invalid("no \"server.software\"".into()))?;
    let version = lenient::string_at(server, &["version"]).unwrap_or_default();
    let metadata = Value::Object(Map::from_iter(
        [
            ("baseUrl", lenient::get(server, &["baseUrl"])),
            ("organization", lenient::get(&doc, &["organization"])),
            ("relay", lenient::get(&doc, &["relay"])),
            ("otherFeatures", lenient::get(&doc, &["otherFeatures"])),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.clone()))),
    ));
    Ok(NodeInfo {
        schema_version: Some(format!(
            "x-nodeinfo2 {}",
            lenient::string_at(&doc, &["version"]).unwrap_or_default()
        )),
        software: NodeInfoSoftware::new(name, version),
        protocols: protocols(lenient::get(&doc, &["protocols"])),
        open_registrations: lenient::bool_at(&doc, &["openRegistrations"]),
        usage: Usage::from_value(lenient::get(&doc, &["usage"])),
        node_name: lenient::string_at(server, &["name"]),
        private: false,
        languages: Vec::new(),
        metadata,
    })
}

/// `protocols` as an array (2.x), an `{inbound, outbound}` object (1.x) or a lone string.
fn protocols(value: Option<&Value>) -> Vec<String> {
    let mut all: Vec<String> = match value {
        Some(Value::Object(map)) => ["inbound", "outbound"]
            .iter()
            .flat_map(|k| map.get(*k).map(lenient::strings).unwrap_or_default())
            .collect(),
        Some(v) => lenient::strings(v),
        None => Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    all.retain(|p| seen.insert(p.clone()));
    all
}
