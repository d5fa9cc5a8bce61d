//! Error objects servers send instead of the document asked for.
//!
//! Mastodon and GoToSocial answer `{"error": "This API requires an authenticated user"}` (401, or
//! 429 `Too many requests`), Lemmy `{"error": "rate_limit_error"}` (with HTTP 400!), Misskey
//! `{"error": {"message", "code", "id", "kind"}}`. fediverse.space treats any small object with an
//! `error` key as a failure whatever the HTTP status; so do we, which keeps an error body from
//! being mistaken for an empty document.

use super::{lenient, read_json, ParseError};
use serde::Serialize;
use serde_json::{Map, Value};

/// A server's error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    /// The message (Misskey: `error.message`, else `error`, else `error_description`).
    pub message: String,
    /// Misskey's `error.code` or Lemmy's error name, when given.
    pub code: Option<String>,
}

/// Reads a body that is expected to be an error object.
pub fn parse_error_body(bytes: &[u8]) -> Result<ErrorBody, ParseError> {
    match read_json(bytes)? {
        Value::Object(map) => error_body(&map)
            .ok_or_else(|| ParseError::Invalid("no \"error\" key in the object".into())),
        other => Err(ParseError::Invalid(format!(
            "an error body is an object, found {}",
            lenient::type_name(&other)
        ))),
    }
}

/// The error in an object, when the object is an error object: it has an `error` (or `errors`)
/// key and at most four keys in all, so a full document that happens to carry an `error` field is
/// not mistaken for one.
pub fn error_body(map: &Map<String, Value>) -> Option<ErrorBody> {
    let error = map.get("error").or_else(|| map.get("errors"))?;
    if map.len() > 4 || error.is_null() || error == &Value::Bool(false) {
        return None;
    }
    let (message, code) = match error {
        Value::Object(inner) => (
            lenient::string_at(inner, &["message"]),
            lenient::string_at(inner, &["code"]),
        ),
        Value::String(s) => (Some(s.clone()), None),
        Value::Array(items) => (items.first().map(|v| v.to_string()), None),
        other => (Some(other.to_string()), None),
    };
    let message = message
        .or_else(|| lenient::string_at(map, &["error_description", "message"]))
        .unwrap_or_default();
    let code = code.or_else(|| lenient::string_at(map, &["code"]));
    Some(ErrorBody { message, code })
}

/// The error message of an error object, for [`ParseError::ErrorBody`].
pub(crate) fn error_in(map: &Map<String, Value>) -> Option<String> {
    error_body(map).map(|e| match e.code {
        Some(code) if !code.is_empty() && code != e.message => format!("{} ({code})", e.message),
        _ => e.message,
    })
}
