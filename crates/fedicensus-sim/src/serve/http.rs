//! One HTTP exchange: from a hyper request to a virtual server's answer on the wire.
//!
//! The transport decides only what the world cannot: which virtual server a request is for (the
//! `Host` header, cross-checked with the TLS SNI), how long the simulated round trip takes, and
//! how the body goes out. What the server says is [`Handler::respond`]'s business.
//!
//! Requests for a host the world does not have get `421 Misdirected Request`: it is what a real
//! front end answers for a name it is not configured for, and it cannot be mistaken for a
//! virtual server's own 404.
//!
//! [`Handler::respond`]: crate::endpoints::Handler::respond

use super::body::{gzip_bomb, StreamBody};
use super::control;
use super::log::{LoggedRequest, Scheme};
use super::{Shared, CONTROL_HOST};
use crate::response::{SimBody, SimRequest, SimResponse};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use rand::Rng;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What the connection knows about the requests it carries.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub(crate) remote: SocketAddr,
    pub(crate) scheme: Scheme,
    /// The SNI name of a TLS connection, lowercase.
    pub(crate) sni: Option<String>,
}

/// Returned instead of a response when a server hangs: hyper then closes the connection without
/// sending a byte.
#[derive(Debug)]
pub(crate) struct HangUp;

impl fmt::Display for HangUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the virtual server hung up without answering")
    }
}

impl std::error::Error for HangUp {}

/// The lowercase host of a request, without port: from the `Host` header, else the URI.
fn request_host(req: &Request<Incoming>) -> Option<String> {
    let raw = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_string()))?;
    let without_port = strip_port(&raw);
    Some(without_port.trim_end_matches('.').to_ascii_lowercase())
}

/// `host` of `host:port` (and `[v6]` of `[v6]:port`).
fn strip_port(raw: &str) -> &str {
    if raw.starts_with('[') {
        return match raw.find(']') {
            Some(end) => &raw[..=end],
            None => raw,
        };
    }
    match raw.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => raw,
    }
}

fn header_string(req: &Request<Incoming>, name: http::header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn plain(status: u16, text: impl Into<Bytes>) -> Response<StreamBody> {
    let mut response = Response::new(StreamBody::full(text.into()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Answers one request.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    conn: Arc<ConnInfo>,
    req: Request<Incoming>,
) -> Result<Response<StreamBody>, HangUp> {
    let Some(host) = request_host(&req) else {
        return Ok(plain(400, "a request needs a Host header\n"));
    };
    if let Some(sni) = &conn.sni {
        if *sni != host {
            return Ok(plain(
                421,
                format!("the TLS connection is for {sni}, the request for {host}\n"),
            ));
        }
    }
    if host == CONTROL_HOST {
        return Ok(control::serve(&shared, req).await);
    }
    let Some(server) = shared.world.lookup(&host) else {
        return Ok(plain(
            421,
            format!("this simulator serves no host named {host}\n"),
        ));
    };
    let latency_ms = server.latency_ms;

    let sim_request = SimRequest {
        method: req.method().as_str().to_string(),
        host,
        path: req.uri().path().to_string(),
        query: req.uri().query().map(str::to_string),
        https: conn.scheme == Scheme::Https,
        user_agent: header_string(&req, http::header::USER_AGENT),
        accept: header_string(&req, http::header::ACCEPT),
        if_none_match: header_string(&req, http::header::IF_NONE_MATCH),
        if_modified_since: header_string(&req, http::header::IF_MODIFIED_SINCE),
    };
    // The request body is not read: no endpoint takes one, and hyper drains or drops it.
    drop(req);

    if shared.cfg.apply_latency && latency_ms > 0.0 {
        let jitter = rand::rng().random_range(0.9..1.1);
        let wait = Duration::from_secs_f64(f64::from(latency_ms) * jitter / 1000.0);
        tokio::time::sleep(wait).await;
    }

    let answer = shared.handler.respond(&sim_request);
    let hang = match answer.body {
        SimBody::Hang(d) => Some(d.min(shared.cfg.hang_for)),
        _ => None,
    };
    shared.log.record(LoggedRequest {
        wall: chrono::Utc::now(),
        sim: shared.clock.now(),
        method: sim_request.method,
        scheme: conn.scheme,
        host: sim_request.host,
        path: sim_request.path,
        query: sim_request.query,
        status: if hang.is_some() { 0 } else { answer.status },
        user_agent: sim_request.user_agent,
        remote: conn.remote,
    });
    if let Some(wait) = hang {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.cancel.cancelled() => {}
        }
        return Err(HangUp);
    }
    Ok(to_hyper(answer, shared.cfg.max_drip))
}

/// Turns a handler's answer into a hyper response with a streaming body.
fn to_hyper(answer: SimResponse, max_drip: Duration) -> Response<StreamBody> {
    let mut gzip = false;
    let body = match answer.body {
        SimBody::Full(bytes) => StreamBody::full(bytes),
        SimBody::Drip { body, chunk, every } => {
            // Stretch no drip beyond `max_drip` in all, so tests and shutdown stay bounded.
            let chunks = body.len().div_ceil(chunk.max(1)).max(1) as u32;
            let every = every.min(max_drip / chunks);
            StreamBody::drip(body, chunk, every)
        }
        SimBody::Huge { len } => StreamBody::huge(len),
        SimBody::GzipBomb { inflated } => {
            gzip = true;
            StreamBody::full(gzip_bomb(inflated))
        }
        SimBody::Hang(_) => StreamBody::empty(),
        SimBody::Endless { chunk, every } => StreamBody::endless(chunk, every),
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in answer.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => tracing::warn!(%name, %value, "handler produced an invalid header"),
        }
    }
    if gzip && !headers.contains_key(http::header::CONTENT_ENCODING) {
        headers.insert(
            http::header::CONTENT_ENCODING,
            HeaderValue::from_static("gzip"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drips_are_squeezed_into_the_allowed_time() {
        let answer = SimResponse {
            status: 200,
            headers: Vec::new(),
            body: SimBody::Drip {
                body: Bytes::from(vec![b'x'; 100]),
                chunk: 10,
                every: Duration::from_secs(60),
            },
        };
        let response = to_hyper(answer, Duration::from_secs(10));
        match response.body() {
            StreamBody::Drip { every, .. } => assert_eq!(*every, Duration::from_secs(1)),
            other => panic!("not a drip: {other:?}"),
        }
    }
}
