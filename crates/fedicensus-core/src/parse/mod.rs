//! Parsers for the documents a fediverse server serves: one module per document kind, each with a
//! `parse_*(bytes) -> Result<_, ParseError>` function.
//!
//! Servers are strangers and their documents are sloppy (PROTOCOL.md §4): numbers as strings,
//! `null` counts, objects where arrays belong, misspelt keys, missing "required" fields. So every
//! parser reads the body into a [`serde_json::Value`] and walks it leniently (the helpers in
//! [`lenient`]): a field of the wrong type becomes `None`, never a failure of the whole document.
//! A document fails only when it is not JSON ([`ParseError::Json`]), when it is a server's error
//! object ([`ParseError::ErrorBody`]), or when the one thing that makes it what it claims to be is
//! missing ([`ParseError::Invalid`], e.g. NodeInfo without `software.name`).
//!
//! No parser panics on any input; a test feeds every parser truncated and garbled variants of
//! every real fixture. Each parsed document offers `measurements()`, the numbers it reported
//! tagged with their [`crate::Source`], so disagreements between documents stay visible.

pub mod activity;
pub mod error_body;
pub mod instance_v1;
pub mod instance_v2;
pub mod lemmy_site;
pub mod lenient;
pub mod misskey_meta;
pub mod misskey_stats;
pub mod nodeinfo;
pub mod peers;
pub mod peertube_stats;
pub mod statistics_json;
pub mod version;
pub mod well_known;

pub use activity::{parse_activity, Activity};
pub use error_body::{error_body, parse_error_body, ErrorBody};
pub use instance_v1::{parse_instance_v1, sniff_version, InstanceV1, SoftwareSniff};
pub use instance_v2::{parse_instance_v2, InstanceV2};
pub use lemmy_site::{parse_lemmy_site, LemmySite};
pub use misskey_meta::{parse_misskey_meta, MisskeyMeta};
pub use misskey_stats::{parse_misskey_stats, MisskeyStats};
pub use nodeinfo::{parse_nodeinfo, parse_nodeinfo2, NodeInfo, NodeInfoSoftware, Usage};
pub use peers::{normalise_peers, parse_peers, NormalisedPeers, PeerList};
pub use peertube_stats::{parse_peertube_stats, PeertubeStats};
pub use statistics_json::{parse_statistics_json, StatisticsJson};
pub use version::normalise_version;
pub use well_known::{choose_nodeinfo, parse_well_known, NodeInfoLink, NodeInfoVersion, WellKnown};

/// Why a document could not be read. The text of each variant says what was wrong, for logs and
/// for `fedicensus parse`; [`ParseError::as_str`] gives a stable name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not JSON (HTML, truncated, empty).
    #[error("not JSON: {0}")]
    Json(String),
    /// The body is the server's JSON error object (`{"error": "..."}`), not the document.
    #[error("the server sent an error: {0}")]
    ErrorBody(String),
    /// JSON, but not the document expected (wrong top-level type, no `software.name`, ...).
    #[error("not a valid document: {0}")]
    Invalid(String),
}

impl ParseError {
    /// The stable name of the kind of failure.
    pub fn as_str(&self) -> &'static str {
        match self {
            ParseError::Json(_) => "json",
            ParseError::ErrorBody(_) => "error_body",
            ParseError::Invalid(_) => "invalid",
        }
    }
}

/// Reads a body as JSON, tolerating a UTF-8 byte order mark.
pub(crate) fn read_json(bytes: &[u8]) -> Result<serde_json::Value, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))
}

/// Reads a body that must be a JSON object; an error object becomes [`ParseError::ErrorBody`].
pub(crate) fn read_object(
    bytes: &[u8],
    what: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, ParseError> {
    match read_json(bytes)? {
        serde_json::Value::Object(map) => {
            if let Some(error) = error_body::error_in(&map) {
                return Err(ParseError::ErrorBody(error));
            }
            Ok(map)
        }
        other => Err(ParseError::Invalid(format!(
            "{what} must be a JSON object, found {}",
            lenient::type_name(&other)
        ))),
    }
}
