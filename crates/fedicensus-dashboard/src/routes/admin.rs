//! Admin actions: add seeds, opt a server out, add an annotation, start a crawl. They need the
//! bearer token
//! from the configuration; without a configured token they do not exist (404), so a dashboard
//! started without one cannot be changed over HTTP at all.
//!
//! The token is checked **before** the body is read, and a body is read only up to its route's
//! cap ([`SEEDS_BODY_LIMIT`], [`SMALL_BODY_LIMIT`]): anyone can send a POST, and a server that
//! buffered 2 MB of each unauthenticated one grew by 533 MB under 200 of them and kept it. An
//! unauthenticated request is answered at once and its body never read.

use crate::error::{Error, Result};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use chrono::{NaiveDate, Utc};
use fedicensus_core::Host;
use fedicensus_storage::ServerStatus;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

/// Checks the `Authorization: Bearer TOKEN` header against the configured token.
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<()> {
    let Some(expected) = state.config.admin_token.as_deref() else {
        return Err(Error::NotFound(
            "admin actions are off (no admin token configured)".into(),
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(Error::Forbidden(
            "an Authorization: Bearer token is required",
        ))?;
    // Compare in constant time, so the token cannot be guessed byte by byte from timings.
    let same = given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(Error::Forbidden("wrong bearer token"))
    }
}

/// The most a seeds request may carry: about 20,000 names.
pub const SEEDS_BODY_LIMIT: usize = 1024 * 1024;
/// The most the other admin requests (one host, one annotation, who asks) may carry.
pub const SMALL_BODY_LIMIT: usize = 16 * 1024;

/// Reads a body of at most `limit` bytes (a declared length beyond it is refused unread).
async fn read_body(headers: &HeaderMap, raw: Body, limit: usize) -> Result<Bytes> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(Error::TooLarge { limit });
    }
    axum::body::to_bytes(raw, limit)
        .await
        .map_err(|_| Error::TooLarge { limit })
}

fn body<T: DeserializeOwned>(bytes: &Bytes, accepted: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::bad("(body)", e.to_string(), accepted))
}

fn host(param: &str, raw: &str) -> Result<Host> {
    Host::parse(raw).map_err(|e| {
        Error::bad(
            param,
            format!("{raw:?} is not a server name: {e}"),
            "a domain name such as mastodon.social",
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Seeds {
    hosts: Vec<String>,
}

/// `POST /api/v1/admin/seeds` with `{"hosts": ["a.example", ...]}`.
pub async fn add_seeds(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Json<Value>> {
    authorize(&state, &headers)?;
    let bytes = read_body(&headers, raw, SEEDS_BODY_LIMIT).await?;
    let seeds: Seeds = body(&bytes, "{\"hosts\": [\"a.example\", ...]}")?;
    let hosts = seeds
        .hosts
        .iter()
        .map(|h| host("hosts", h))
        .collect::<Result<Vec<_>>>()?;
    let added = state.storage.add_seeds(&hosts, Utc::now()).await?;
    state.cache.invalidate();
    tracing::info!(added, given = hosts.len(), "seeds added by an admin");
    Ok(Json(json!({ "added": added, "given": hosts.len() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptOut {
    host: String,
}

/// `POST /api/v1/admin/opt-out` with `{"host": "a.example"}`: never crawled or listed again.
pub async fn opt_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Json<Value>> {
    authorize(&state, &headers)?;
    let bytes = read_body(&headers, raw, SMALL_BODY_LIMIT).await?;
    let req: OptOut = body(&bytes, "{\"host\": \"a.example\"}")?;
    // Any server already in the database can be opted out, even one whose name our parser
    // would refuse today: it is looked up, not crawled.
    let h = Host::from_normalised(req.host.trim().to_lowercase());
    match state
        .storage
        .set_status(&h, ServerStatus::OptedOut, None)
        .await
    {
        Err(fedicensus_storage::Error::UnknownServer { .. }) => {
            return Err(Error::NotFound(format!("no server {:?}", h.as_str())))
        }
        other => other?,
    }
    state.cache.invalidate();
    tracing::info!(host = %h, "server opted out by an admin");
    Ok(Json(json!({ "host": h.as_str(), "status": "opted_out" })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAnnotation {
    date: NaiveDate,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    source_url: Option<String>,
}

/// `POST /api/v1/admin/annotations` with `{"date": "YYYY-MM-DD", "title": "...",
/// "description": "...", "source_url": "..."}`.
pub async fn add_annotation(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Json<Value>> {
    authorize(&state, &headers)?;
    let bytes = read_body(&headers, raw, SMALL_BODY_LIMIT).await?;
    let accepted = "{\"date\": \"YYYY-MM-DD\", \"title\": \"...\", \"description\": \"...\", \"source_url\": \"https://...\"}";
    let a: NewAnnotation = body(&bytes, accepted)?;
    if a.title.trim().is_empty() || a.title.len() > 200 {
        return Err(Error::bad(
            "title",
            "empty or longer than 200 characters",
            "1 to 200 characters",
        ));
    }
    state
        .storage
        .add_annotation(
            a.date,
            a.title.trim(),
            &a.description,
            a.source_url.as_deref(),
        )
        .await?;
    state.cache.invalidate();
    Ok(Json(json!({ "date": a.date, "title": a.title.trim() })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StartCrawl {
    /// Who asks (shown on the Crawl health page); default "admin".
    #[serde(default)]
    by: Option<String>,
}

/// `POST /api/v1/admin/crawl` with an empty body or `{"by": "name"}`: asks running
/// `fedicensus crawl --every` daemons to start a pass now (they look every few seconds). The
/// dashboard does not crawl itself; while no daemon runs, the request waits, and the next
/// `fedicensus crawl` (`--once` too) takes it. Asking again while one waits is the same request.
pub async fn start_crawl(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Json<Value>> {
    authorize(&state, &headers)?;
    let bytes = read_body(&headers, raw, SMALL_BODY_LIMIT).await?;
    let req: StartCrawl = if bytes.iter().all(u8::is_ascii_whitespace) {
        StartCrawl::default()
    } else {
        body(&bytes, "an empty body, or {\"by\": \"who asks\"}")?
    };
    let by = req.by.as_deref().map(str::trim).unwrap_or("admin");
    if by.is_empty() || by.chars().count() > 100 || by.chars().any(char::is_control) {
        return Err(Error::bad(
            "by",
            "empty, longer than 100 characters, or with control characters",
            "1 to 100 printable characters",
        ));
    }
    let (request, new) = state.storage.request_crawl(Utc::now(), by).await?;
    state.cache.invalidate();
    tracing::info!(id = request.id, new, by, "crawl asked for by an admin");
    Ok(Json(json!({
        "id": request.id,
        "requested_at": request.requested_at,
        "requested_by": request.requested_by,
        "new": new,
        "status": "waiting",
        "message": "Running `fedicensus crawl --every` daemons start a pass within seconds; \
                    with none running, the next `fedicensus crawl` takes it. The Crawl health \
                    page shows when it started.",
    })))
}
