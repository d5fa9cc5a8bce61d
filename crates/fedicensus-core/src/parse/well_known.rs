//! `/.well-known/nodeinfo`: the JRD that points at a server's NodeInfo documents.
//!
//! The spec says `{"links": [{"rel": <schema URI>, "href": <URL>}]}`. Real servers send `links`
//! as a single object (old Lemmy, Hubzilla), a single object plus a stray `"0"` key holding the
//! next link (old Hubzilla), `rel: "self"` with the schema URI in `type` and a scheme-less href
//! (a Movary dev build), relative hrefs (`/nodeinfo/2.0`), extra non-NodeInfo links (FEP-2677's
//! `Application` actor) and links in any order. So instead of a fixed shape we walk the document
//! and collect every object with an `href` and a `rel` or `type`; [`choose_nodeinfo`] then picks
//! the highest schema version and resolves its href.

use super::{lenient, read_json, ParseError};
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use url::Url;

/// A NodeInfo schema version, ordered oldest to newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum NodeInfoVersion {
    #[serde(rename = "1.0")]
    V1_0,
    #[serde(rename = "1.1")]
    V1_1,
    #[serde(rename = "2.0")]
    V2_0,
    #[serde(rename = "2.1")]
    V2_1,
    #[serde(rename = "2.2")]
    V2_2,
}

impl NodeInfoVersion {
    /// Every version, oldest first.
    pub const ALL: [NodeInfoVersion; 5] = [
        NodeInfoVersion::V1_0,
        NodeInfoVersion::V1_1,
        NodeInfoVersion::V2_0,
        NodeInfoVersion::V2_1,
        NodeInfoVersion::V2_2,
    ];

    /// `"2.1"` and so on.
    pub fn as_str(&self) -> &'static str {
        match self {
            NodeInfoVersion::V1_0 => "1.0",
            NodeInfoVersion::V1_1 => "1.1",
            NodeInfoVersion::V2_0 => "2.0",
            NodeInfoVersion::V2_1 => "2.1",
            NodeInfoVersion::V2_2 => "2.2",
        }
    }

    /// The version a schema URI names: `http://nodeinfo.diaspora.software/ns/schema/2.1`, also
    /// with `https`, a trailing `#` or `/`, in any case.
    pub fn from_schema(uri: &str) -> Option<NodeInfoVersion> {
        let uri = uri.trim().to_ascii_lowercase();
        let uri = uri.trim_end_matches(['#', '/']);
        let rest = uri
            .strip_prefix("http://")
            .or_else(|| uri.strip_prefix("https://"))?;
        let version = rest.strip_prefix("nodeinfo.diaspora.software/ns/schema/")?;
        NodeInfoVersion::ALL
            .into_iter()
            .find(|v| v.as_str() == version)
    }
}

impl fmt::Display for NodeInfoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One link of the JRD, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeInfoLink {
    pub rel: Option<String>,
    #[serde(rename = "type")]
    pub media_type: Option<String>,
    pub href: String,
}

impl NodeInfoLink {
    /// The NodeInfo version the link points at: from `rel`, or from `type` when `rel` is not a
    /// schema URI (the `rel: "self"` quirk).
    pub fn version(&self) -> Option<NodeInfoVersion> {
        self.rel
            .as_deref()
            .and_then(NodeInfoVersion::from_schema)
            .or_else(|| {
                self.media_type
                    .as_deref()
                    .and_then(NodeInfoVersion::from_schema)
            })
    }
}

/// A parsed `/.well-known/nodeinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WellKnown {
    /// Every link found, NodeInfo or not, in document order.
    pub links: Vec<NodeInfoLink>,
    /// The server sent a NodeInfo document here instead of the JRD (seen on SkyBridge): the
    /// caller may parse the same body with [`super::parse_nodeinfo`].
    pub is_nodeinfo_document: bool,
}

impl WellKnown {
    /// The best NodeInfo link, resolved against the URL the JRD was fetched from.
    pub fn choose(&self, well_known_url: &str) -> Option<(NodeInfoVersion, String)> {
        choose_nodeinfo(&self.links, well_known_url)
    }
}

/// How deep to look for links: the quirks put them at depth 1 or 2.
const MAX_DEPTH: usize = 4;

/// Parses a `/.well-known/nodeinfo` body.
pub fn parse_well_known(bytes: &[u8]) -> Result<WellKnown, ParseError> {
    let value = read_json(bytes)?;
    let is_nodeinfo_document = match &value {
        Value::Object(map) => {
            if let Some(error) = super::error_body::error_in(map) {
                return Err(ParseError::ErrorBody(error));
            }
            lenient::object(map, &["software"])
                .and_then(|s| lenient::string_at(s, &["name"]))
                .is_some()
        }
        Value::Array(_) => false,
        other => {
            return Err(ParseError::Invalid(format!(
                "a well-known document is an object, found {}",
                lenient::type_name(other)
            )))
        }
    };
    let mut links = Vec::new();
    collect_links(&value, 0, &mut links);
    Ok(WellKnown {
        links,
        is_nodeinfo_document,
    })
}

fn collect_links(value: &Value, depth: usize, out: &mut Vec<NodeInfoLink>) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            let href = map.get("href").and_then(Value::as_str);
            let rel = map.get("rel").and_then(Value::as_str);
            let media_type = map.get("type").and_then(Value::as_str);
            if let Some(href) = href {
                if rel.is_some() || media_type.is_some() {
                    out.push(NodeInfoLink {
                        rel: rel.map(str::to_owned),
                        media_type: media_type.map(str::to_owned),
                        href: href.to_owned(),
                    });
                    return;
                }
            }
            for v in map.values() {
                collect_links(v, depth + 1, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                collect_links(v, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// The highest NodeInfo version among `links` (2.2 > 2.1 > 2.0 > 1.1 > 1.0; unknown rels
/// ignored; on a tie the first link wins) and its href resolved against `well_known_url`:
/// relative hrefs are joined to it, scheme-less `host/path` hrefs get `https://`. Only `http` and
/// `https` URLs are returned.
pub fn choose_nodeinfo(
    links: &[NodeInfoLink],
    well_known_url: &str,
) -> Option<(NodeInfoVersion, String)> {
    let base = Url::parse(well_known_url).ok();
    let mut best: Option<(NodeInfoVersion, String)> = None;
    for link in links {
        let Some(version) = link.version() else {
            continue;
        };
        if best.as_ref().is_some_and(|(v, _)| *v >= version) {
            continue;
        }
        if let Some(url) = resolve_href(&link.href, base.as_ref()) {
            best = Some((version, url));
        }
    }
    best
}

/// Resolves an href from a JRD; see [`choose_nodeinfo`].
pub fn resolve_href(href: &str, base: Option<&Url>) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let web = |url: Url| matches!(url.scheme(), "http" | "https").then(|| url.to_string());
    if href.contains("://") {
        return Url::parse(href).ok().and_then(web);
    }
    if let Some(rest) = href.strip_prefix("//") {
        return Url::parse(&format!("https://{rest}")).ok().and_then(web);
    }
    if !href.starts_with(['/', '.', '?', '#']) {
        // `movary.test/nodeinfo/2.1` or `example.com:8080/x`: a host without a scheme.
        // A lone dotted segment (`2.0.json`) is a relative file name; a dotted first segment
        // followed by a path is a host (the PSL is not consulted: dev hosts end in `.test`).
        if href
            .split_once('/')
            .is_some_and(|(first, _)| looks_like_host(first))
        {
            return Url::parse(&format!("https://{href}")).ok().and_then(web);
        }
    }
    base.and_then(|b| b.join(href).ok()).and_then(web)
}

fn looks_like_host(segment: &str) -> bool {
    let name = segment.rsplit_once(':').map_or(segment, |(name, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            name
        } else {
            segment
        }
    });
    name.contains('.')
        && !name.starts_with('.')
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && name
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.chars().all(char::is_alphabetic))
}
