//! What a virtual server answers, described independently of the transport.
//!
//! The world and the endpoint handlers (`endpoints`) decide *what* a server says; the transport
//! (`serve`) turns a [`SimResponse`] into bytes on a socket, including the slow, endless and
//! never-finished answers real servers give. Keeping the two apart lets the handlers be tested
//! without sockets and the transport be tested without a world.

use bytes::Bytes;
use std::time::Duration;

/// One request, as the handlers see it.
#[derive(Debug, Clone)]
pub struct SimRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The lowercase host name from the `Host` header (or SNI), without port.
    pub host: String,
    /// The path, without the query string.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Whether it came over TLS.
    pub https: bool,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<String>,
    /// The `Accept` header, if any.
    pub accept: Option<String>,
    /// The `If-None-Match` header, if any (a conditional request).
    pub if_none_match: Option<String>,
    /// The `If-Modified-Since` header, if any (a conditional request).
    pub if_modified_since: Option<String>,
}

/// How the body of a response is produced.
#[derive(Debug, Clone)]
pub enum SimBody {
    /// A complete body, sent at once.
    Full(Bytes),
    /// The body, sent `chunk` bytes at a time with `every` between chunks.
    Drip {
        body: Bytes,
        chunk: usize,
        every: Duration,
    },
    /// `len` bytes of filler (JSON whitespace inside an array), streamed without being held in
    /// memory.
    Huge { len: u64 },
    /// A gzip stream (sent with `Content-Encoding: gzip`) that inflates to `inflated` bytes.
    GzipBomb { inflated: u64 },
    /// No response at all: the connection stays open and silent for this long, then closes.
    Hang(Duration),
    /// A body that never ends: `chunk` again and again, `every` apart (zero: as fast as the
    /// client reads), without a length. Only the client's limits (or its going away) end it.
    Endless { chunk: Bytes, every: Duration },
}

/// A complete answer: status, headers and how the body comes.
#[derive(Debug, Clone)]
pub struct SimResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: SimBody,
}

impl SimResponse {
    /// A JSON answer with status 200.
    pub fn json(body: impl Into<Bytes>) -> SimResponse {
        SimResponse::with_type(200, "application/json; charset=utf-8", body)
    }

    /// An answer with a status, a `Content-Type` and a complete body.
    pub fn with_type(status: u16, content_type: &str, body: impl Into<Bytes>) -> SimResponse {
        SimResponse {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: SimBody::Full(body.into()),
        }
    }

    /// An empty answer with a status (404 with an empty body is how Mastodon hides peers).
    pub fn empty(status: u16) -> SimResponse {
        SimResponse {
            status,
            headers: Vec::new(),
            body: SimBody::Full(Bytes::new()),
        }
    }

    /// A redirect to `location` with the given 3xx status.
    pub fn redirect(status: u16, location: &str) -> SimResponse {
        SimResponse {
            status,
            headers: vec![("location".into(), location.into())],
            body: SimBody::Full(Bytes::new()),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> SimResponse {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }
}
