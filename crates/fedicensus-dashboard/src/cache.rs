//! Rendered responses kept in memory, keyed by the data's version, and conditional requests.
//!
//! The census changes when a crawl records observations (a few times a day), while its charts
//! are read far more often, so pages, charts and data files are computed once per data version
//! and then served from memory. The version is storage's [`DataVersion`] (maxima of primary keys
//! and two small counts, one cheap query), read at most once per [`DEFAULT_VERSION_REFRESH`]
//! and at once after an admin action here. Every cacheable response carries an `ETag` made of
//! that version, and a request whose `If-None-Match` names it gets `304 Not Modified` without
//! any work; others are answered from the cache or computed and stored.
//!
//! Responses are cached only when they are `200 OK` with a body of known size up to
//! [`MAX_CACHED_BODY`]; the whole-census exports (`/api/v1/exports/{file}`) are not cached
//! routes at all, and stream. The cache holds at most
//! [`CACHE_BYTES`] bytes (moka evicts the least used), so varied query strings cannot grow it
//! without bound; a new version makes every older entry unreachable, and they are dropped.
//!
//! While a crawl writes, the version changes every second or so. Then one request per URL
//! computes the new response, and requests for that URL that arrive meanwhile get the last one
//! computed (an older version, with that version's `ETag`) instead of each computing it again:
//! without that, every connection recomputed the overview at once on each change and requests
//! waited for seconds (found by `scripts/load-under-crawl`). The request that computes waits
//! for the new response at most [`SERVE_STALE_AFTER`] when an older one exists: then it gets
//! the older one too, and the computation finishes in the background and is stored. Before
//! that, one request a second waited for the whole computation, and on a loaded machine some
//! waited more than 2 s.
//!
//! [`DataVersion`]: fedicensus_storage::DataVersion

use crate::error::{Error, Result};
use crate::state::AppState;
use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use fedicensus_storage::Storage;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a read of the data's version is trusted before storage is asked again.
pub const DEFAULT_VERSION_REFRESH: Duration = Duration::from_secs(1);
/// How long the request that computes a new response waits for it when an older response for
/// the same URL can be served instead.
pub const SERVE_STALE_AFTER: Duration = Duration::from_millis(250);
/// How long a request for a URL nobody has a response for yet waits for the one computing it
/// before computing it too.
pub const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);
/// The largest body kept in the cache.
pub const MAX_CACHED_BODY: u64 = 4 * 1024 * 1024;
/// The most bytes the cache holds.
pub const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// What browsers and proxies are told: they may keep a response a minute, then must ask again
/// (cheaply, with `If-None-Match`).
pub const CACHE_CONTROL: &str = "public, max-age=60, must-revalidate";

/// The route patterns whose GET responses depend only on the data and the request (the crawl
/// page is not among them: what is due depends on the time of day).
pub const CACHED_ROUTES: &[&str] = &[
    "/",
    "/growth",
    "/software",
    "/concentration",
    "/languages",
    "/where",
    "/charts/{id}",
    "/servers",
    "/servers/{host}",
    "/methodology",
    "/api/v1/series/{metric}",
    "/api/v1/languages/{metric}",
    "/api/v1/countries/{metric}",
    "/api/v1/networks/{metric}",
    "/api/v1/servers",
    "/api/v1/servers/{host}",
    "/api/v1/servers/{host}/history.csv",
    "/api/v1/annotations",
    "/api/v1/runs",
    "/api/v1/charts",
    "/api/v1/charts/{id}/{format}",
    "/api/v1/servers/{host}/charts/{figure}/{format}",
    "/embed/charts/{id}",
    "/embed/servers/{host}/{figure}",
    "/badges/servers/{host}/{file}",
    "/badges/software/{name}/{file}",
];

/// Headers a cached response keeps (everything else is recomputed).
const KEPT_HEADERS: [HeaderName; 2] = [header::CONTENT_TYPE, header::CONTENT_DISPOSITION];

#[derive(Debug)]
struct Cached {
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

/// Counts for `/metrics`.
#[derive(Debug, Default)]
pub struct CacheCounters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub not_modified: AtomicU64,
}

/// The response cache and the data version it is keyed by.
pub struct ResponseCache {
    refresh: Duration,
    /// The latest version read, and when.
    version: Mutex<Option<(Instant, Arc<str>)>>,
    /// Bumped by this process's own writes (admin actions), so they show at once.
    local: AtomicU64,
    entries: moka::sync::Cache<String, Arc<Cached>>,
    /// The last response computed for each path and query, of whatever version, with its
    /// `ETag`: what is served while the current one is being computed.
    latest: moka::sync::Cache<String, Arc<(HeaderValue, Arc<Cached>)>>,
    /// Paths and queries whose response is being computed now, each with what wakes the
    /// requests waiting for it.
    computing: Mutex<std::collections::HashMap<String, Arc<tokio::sync::Notify>>>,
    pub counters: CacheCounters,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("refresh", &self.refresh)
            .field("entries", &self.entries.entry_count())
            .finish_non_exhaustive()
    }
}

impl ResponseCache {
    /// An empty cache that reads the data's version at most once per `refresh`.
    pub fn new(refresh: Duration) -> ResponseCache {
        ResponseCache {
            refresh,
            version: Mutex::new(None),
            local: AtomicU64::new(0),
            entries: moka::sync::Cache::builder()
                .max_capacity(CACHE_BYTES)
                .weigher(|key: &String, value: &Arc<Cached>| {
                    u32::try_from(key.len() + value.body.len()).unwrap_or(u32::MAX)
                })
                .build(),
            latest: moka::sync::Cache::builder()
                .max_capacity(CACHE_BYTES)
                .weigher(|key: &String, value: &Arc<(HeaderValue, Arc<Cached>)>| {
                    u32::try_from(key.len() + value.1.body.len()).unwrap_or(u32::MAX)
                })
                .build(),
            computing: Mutex::new(std::collections::HashMap::new()),
            counters: CacheCounters::default(),
        }
    }

    /// Says the data changed (after a write by this process): the next request reads the
    /// version again.
    pub fn invalidate(&self) {
        self.local.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut v) = self.version.lock() {
            *v = None;
        }
    }

    /// The data's version as a token, read from storage when the last read is older than the
    /// refresh interval.
    pub async fn version(&self, storage: &Storage) -> Result<Arc<str>> {
        if let Ok(guard) = self.version.lock() {
            if let Some((at, v)) = guard.as_ref() {
                if at.elapsed() < self.refresh {
                    return Ok(v.clone());
                }
            }
        }
        let data = storage.data_version().await?;
        let mut token = format!("{data}l{}", self.local.load(Ordering::Relaxed));
        if data.runs == 0 {
            // With no crawl yet, pages default to the last year up to today.
            token.push_str(&format!("d{}", Utc::now().date_naive().format("%Y%m%d")));
        }
        let token: Arc<str> = Arc::from(token);
        if let Ok(mut guard) = self.version.lock() {
            if guard.as_ref().is_some_and(|(_, old)| *old != token) {
                // Entries are keyed by version, so old ones are unreachable: free them now.
                self.entries.invalidate_all();
            }
            *guard = Some((Instant::now(), token.clone()));
        }
        Ok(token)
    }

    /// Entries held (for tests and metrics; moka counts lazily).
    pub fn entry_count(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }
}

/// Marks a path and query as being computed until dropped.
struct Computing {
    cache: Arc<ResponseCache>,
    target: String,
}

impl Drop for Computing {
    fn drop(&mut self) {
        if let Ok(mut computing) = self.cache.computing.lock() {
            if let Some(done) = computing.remove(&self.target) {
                done.notify_waiters();
            }
        }
    }
}

fn from_cache(hit: &Cached, etag: &HeaderValue) -> Response {
    let mut response = Body::from(hit.body.clone()).into_response();
    for (name, value) in &hit.headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    with_validators(response, etag)
}

/// Whether an `If-None-Match` header value names `etag` (weak comparison, `*` matches).
fn matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let etag = bare(etag);
    if_none_match
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == etag)
}

fn with_validators(mut response: Response, etag: &HeaderValue) -> Response {
    let h = response.headers_mut();
    h.insert(header::ETAG, etag.clone());
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    response
}

/// The middleware: 304 for a current `If-None-Match`, else the cached response, else the
/// handler's response (stored when it can be).
pub async fn cache_responses(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let cacheable = (request.method() == Method::GET || request.method() == Method::HEAD)
        && request
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|p| CACHED_ROUTES.contains(&p.as_str()));
    if !cacheable {
        return next.run(request).await;
    }
    let cache = &state.cache;
    let version = match cache.version(&state.storage).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    // A census being built shows its progress on every page: a page computed under an older
    // progress is another version, never served for the current one.
    let version: Arc<str> = match &state.live {
        Some(live) => Arc::from(format!("{version}p{}", live.revision())),
        None => version,
    };
    let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) else {
        return Error::Internal("a data version that is not a header value".into()).into_response();
    };
    let current = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches(v, etag.to_str().unwrap_or_default()));
    if current {
        cache.counters.not_modified.fetch_add(1, Ordering::Relaxed);
        return with_validators(StatusCode::NOT_MODIFIED.into_response(), &etag);
    }
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_owned();
    let key = format!("{version} {target}");
    if let Some(hit) = cache.entries.get(&key) {
        cache.counters.hits.fetch_add(1, Ordering::Relaxed);
        return from_cache(&hit, &etag);
    }
    // One request computes; the others get the last response computed, if there is one, or
    // wait for the one computing (a cold cache under load: each computing it again made all of
    // them slow, some over 2 s).
    let (first, done) = match cache.computing.lock() {
        Ok(mut computing) => match computing.get(&target) {
            Some(done) => (false, Some(done.clone())),
            None => {
                computing.insert(target.clone(), Arc::new(tokio::sync::Notify::new()));
                (true, None)
            }
        },
        Err(_) => (true, None),
    };
    if let Some(done) = done {
        if let Some(stale) = cache.latest.get(&target) {
            cache.counters.hits.fetch_add(1, Ordering::Relaxed);
            return from_cache(&stale.1, &stale.0);
        }
        let notified = done.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if cache
            .computing
            .lock()
            .is_ok_and(|c| c.contains_key(&target))
        {
            let _ = tokio::time::timeout(WAIT_FOR_FIRST, notified).await;
        }
        if let Some(hit) = cache.entries.get(&key) {
            cache.counters.hits.fetch_add(1, Ordering::Relaxed);
            return from_cache(&hit, &etag);
        }
        if let Some(stale) = cache.latest.get(&target) {
            cache.counters.hits.fetch_add(1, Ordering::Relaxed);
            return from_cache(&stale.1, &stale.0);
        }
    }
    let computing = first.then(|| Computing {
        cache: state.cache.clone(),
        target: target.clone(),
    });
    cache.counters.misses.fetch_add(1, Ordering::Relaxed);
    let stale = if first {
        cache.latest.get(&target)
    } else {
        None
    };
    let work = compute(
        state.cache.clone(),
        computing,
        next,
        request,
        key,
        target,
        etag,
    );
    let Some(stale) = stale else {
        return work.await;
    };
    // An older response exists: wait for the new one only briefly, then serve the older one and
    // let the computation finish (and be stored) in the background.
    let mut task = tokio::spawn(work);
    match tokio::time::timeout(SERVE_STALE_AFTER, &mut task).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => Error::Internal(format!("computing a response: {e}")).into_response(),
        Err(_) => {
            cache.counters.hits.fetch_add(1, Ordering::Relaxed);
            from_cache(&stale.1, &stale.0)
        }
    }
}

/// Runs the handler and stores its response (when it is `200 OK` and small) as the current
/// version's and as the latest for its URL. `_computing` marks the URL as being computed until
/// this ends.
async fn compute(
    cache: Arc<ResponseCache>,
    _computing: Option<Computing>,
    next: Next,
    request: Request,
    key: String,
    target: String,
    etag: HeaderValue,
) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let small = response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_CACHED_BODY);
    if !small {
        return with_validators(response, &etag);
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_CACHED_BODY as usize).await {
        Ok(b) => b,
        Err(e) => return Error::Internal(format!("reading a response body: {e}")).into_response(),
    };
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|n| parts.headers.get(n).map(|v| (n.clone(), v.clone())))
        .collect();
    let cached = Arc::new(Cached {
        headers,
        body: bytes.clone(),
    });
    cache
        .latest
        .insert(target, Arc::new((etag.clone(), cached.clone())));
    cache.entries.insert(key, cached);
    with_validators(Response::from_parts(parts, Body::from(bytes)), &etag)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_a_star() {
        assert!(matches("\"v1\"", "\"v1\""));
        assert!(matches("W/\"v1\"", "\"v1\""));
        assert!(matches("\"v0\", \"v1\"", "\"v1\""));
        assert!(matches("*", "\"v1\""));
        assert!(!matches("\"v0\"", "\"v1\""));
        assert!(!matches("", "\"v1\""));
    }
}
