//! The request log: every request the virtual servers answered, and every connection made to the
//! SSRF bait listener.
//!
//! Tests judge a crawler by what it did, not only by what it reported: how many requests each host
//! received, whether robots.txt came first, whether anything touched the bait. The log keeps the
//! first [`ServeConfig::log_limit`](super::ServeConfig) requests in full (a 30,000-server crawl
//! makes about 200,000, a few tens of megabytes) and counts every request per host beyond that.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Mutex;

/// Which protocol a request came over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request a virtual server answered (or, for a hanging server, accepted and sat on).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LoggedRequest {
    /// Wall-clock time the answer was decided (after the simulated round trip).
    pub wall: DateTime<Utc>,
    /// Simulated time at that moment.
    pub sim: DateTime<Utc>,
    pub method: String,
    pub scheme: Scheme,
    /// Lowercase host name, without port.
    pub host: String,
    /// Path without the query string.
    pub path: String,
    pub query: Option<String>,
    /// Status sent; 0 when the server sent nothing (a hang).
    pub status: u16,
    pub user_agent: Option<String>,
    /// Where the request came from.
    pub remote: SocketAddr,
}

/// One connection to the SSRF bait listener: a crawler connected where it never should.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BaitHit {
    pub wall: DateTime<Utc>,
    /// Where the connection came from.
    pub remote: SocketAddr,
    /// The bait address and port it reached.
    pub local: SocketAddr,
}

#[derive(Debug, Default)]
struct Inner {
    requests: Vec<LoggedRequest>,
    per_host: HashMap<String, u64>,
    total: u64,
    dropped: u64,
    bait: Vec<BaitHit>,
}

/// The log, shared by every connection.
#[derive(Debug)]
pub struct RequestLog {
    limit: usize,
    inner: Mutex<Inner>,
}

impl RequestLog {
    /// A log keeping at most `limit` requests in full (counts are always kept).
    pub fn new(limit: usize) -> RequestLog {
        RequestLog {
            limit,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a request.
    pub fn record(&self, request: LoggedRequest) {
        let mut inner = self.lock();
        inner.total += 1;
        match inner.per_host.get_mut(&request.host) {
            Some(count) => *count += 1,
            None => {
                inner.per_host.insert(request.host.clone(), 1);
            }
        }
        if inner.requests.len() < self.limit {
            inner.requests.push(request);
        } else {
            inner.dropped += 1;
        }
    }

    /// Records a connection to the bait listener.
    pub fn record_bait(&self, hit: BaitHit) {
        tracing::warn!(remote = %hit.remote, local = %hit.local, "connection to SSRF bait");
        self.lock().bait.push(hit);
    }

    /// The requests kept, in the order they were answered.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().requests.clone()
    }

    /// Requests answered per host (every request, even beyond the limit).
    pub fn per_host(&self) -> HashMap<String, u64> {
        self.lock().per_host.clone()
    }

    /// Requests answered by `host`.
    pub fn count_for(&self, host: &str) -> u64 {
        self.lock().per_host.get(host).copied().unwrap_or(0)
    }

    /// Requests answered in all.
    pub fn total(&self) -> u64 {
        self.lock().total
    }

    /// Requests counted but not kept in full because the log was at its limit.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Connections to the SSRF bait listener.
    pub fn bait_hits(&self) -> Vec<BaitHit> {
        self.lock().bait.clone()
    }

    /// Forgets everything (between two crawls of one running simulator).
    pub fn clear(&self) {
        *self.lock() = Inner::default();
    }

    /// The log as CSV: a header line, then one line per request kept.
    pub fn to_csv(&self) -> Vec<u8> {
        let requests = self.requests();
        let mut out = csv::Writer::from_writer(Vec::with_capacity(requests.len() * 120));
        // Writing to a Vec cannot fail; a failed record would only mean a short CSV.
        let _ = out.write_record([
            "wall",
            "sim",
            "method",
            "scheme",
            "host",
            "path",
            "query",
            "status",
            "user_agent",
            "remote",
        ]);
        for r in &requests {
            let _ = out.write_record([
                r.wall
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                    .as_str(),
                r.sim
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    .as_str(),
                &r.method,
                r.scheme.as_str(),
                &neutralise(&r.host),
                &neutralise(&r.path),
                &neutralise(r.query.as_deref().unwrap_or("")),
                &r.status.to_string(),
                &neutralise(r.user_agent.as_deref().unwrap_or("")),
                &r.remote.to_string(),
            ]);
        }
        out.into_inner().unwrap_or_default()
    }
}

/// Client-supplied text in a CSV cell cannot start a spreadsheet formula.
fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}
