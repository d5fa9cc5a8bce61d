//! The HTTP client: one `reqwest::Client` per crawl, and single requests with hard limits.
//!
//! Every remote server is treated as hostile (activitypub-federation's stance): a body is read
//! in a stream and abandoned at the cap, counted **after** decompression, so a gzip bomb costs a
//! megabyte, not a gigabyte; every request has a total deadline, so a server that drips a byte a
//! second cannot hold a slot for ever; redirects are never followed by the client itself (the
//! visit decides, host by host, see [`crate::visit`]); and the resolver applies the address
//! policy to every connection ([`crate::resolve`]).
//!
//! A request's time is the server's time: it starts when the request's turn is granted (waiting
//! for politeness is not the request's), and time our own process spent stalled while it ran
//! (see [`crate::health`]) is given back to it, up to twice its timeout, before it times out;
//! a request stalled for longer than that fails as [`FetchError::Stalled`] (`inconclusive`).
//!
//! Failures come back as a [`FetchError`], which knows the [`Outcome`] it means for a visit.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use fedicensus_core::Outcome;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::Method;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::config::CrawlerConfig;
use crate::error::{Error, Result};
use crate::health::Health;
use crate::resolve::{PolicyResolver, ResolveError, Resolver};

/// A request is given back the time the crawler was stalled while it ran up to this many times
/// its timeout; a request stalled longer times out as [`FetchError::Stalled`].
pub const GIVE_BACK_FACTOR: u32 = 2;

/// How much of an error page is kept (its JSON may say `rate_limit_error`).
pub const ERROR_BODY_CAP: u64 = 64 * 1024;

/// One answer, read in full (up to its cap).
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL asked.
    pub url: String,
    pub status: u16,
    pub headers: HeaderMap,
    /// The body after decompression. Error answers keep at most [`ERROR_BODY_CAP`] bytes;
    /// redirects keep none.
    pub body: Bytes,
    /// From sending the request to the last byte read.
    pub elapsed: Duration,
    /// When the document came from the crawl's cache (a 304, or reused while fresh): the kept
    /// entry, whose body `body` is (see [`crate::cache`]).
    pub cached: Option<Cached>,
}

/// How a document came from the cache.
#[derive(Debug, Clone)]
pub struct Cached {
    /// The server answered `304 Not Modified`; false when it was reused without a request.
    pub not_modified: bool,
    pub entry: std::sync::Arc<crate::cache::CacheEntry>,
}

impl Response {
    /// A header as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the `Content-Type` says JSON (`application/json`, `application/jrd+json`,
    /// NodeInfo's profile parameter, ...).
    pub fn is_json(&self) -> bool {
        self.header(CONTENT_TYPE.as_str())
            .is_some_and(|t| t.to_ascii_lowercase().contains("json"))
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a request brought no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// The name gave no address we may use.
    #[error("{message}")]
    Resolve { outcome: Outcome, message: String },
    /// The connection was refused.
    #[error("connection refused")]
    Refused,
    /// No complete answer within the time allowed.
    #[error("timed out")]
    Timeout,
    /// No answer, but the crawler itself was stalled for longer than it could give back
    /// (see [`GIVE_BACK_FACTOR`]): the time ran out on our side, not necessarily the server's.
    #[error("timed out while the crawler itself was stalled for {stalled:?}")]
    Stalled { stalled: Duration },
    /// The TLS handshake failed; `certificate` when the certificate itself was rejected.
    #[error("TLS handshake failed: {detail}")]
    Tls { certificate: bool, detail: String },
    /// Reset, closed early, or another transport failure.
    #[error("connection failed: {0}")]
    Connection(String),
    /// The body grew beyond the cap (after decompression).
    #[error("body larger than {cap} bytes")]
    TooLarge { cap: u64 },
    /// The body could not be decoded (a corrupt gzip stream).
    #[error("body could not be decoded: {0}")]
    Decode(String),
}

impl FetchError {
    /// The outcome a visit records when this ends it.
    pub fn outcome(&self) -> Outcome {
        match self {
            FetchError::Resolve { outcome, .. } => outcome.clone(),
            FetchError::Refused => Outcome::Refused,
            FetchError::Timeout => Outcome::Timeout,
            FetchError::Stalled { .. } => Outcome::Inconclusive,
            FetchError::Tls { .. } => Outcome::Tls,
            FetchError::Connection(_) => Outcome::Connection,
            FetchError::TooLarge { .. } => Outcome::TooLarge,
            FetchError::Decode(_) => Outcome::Invalid,
        }
    }

    /// Whether an `https://` failure like this one may be retried over `http://`: a refused or
    /// broken connection, or a handshake with a server that does not speak TLS; a rejected
    /// certificate only when `on_bad_certificate`.
    pub fn allows_http_fallback(&self, on_bad_certificate: bool) -> bool {
        match self {
            FetchError::Refused | FetchError::Connection(_) => true,
            FetchError::Tls { certificate, .. } => !certificate || on_bad_certificate,
            _ => false,
        }
    }
}

/// What becomes of a 2xx body longer than its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// The answer is [`FetchError::TooLarge`] (a document cut short cannot be parsed).
    Refuse,
    /// The body is cut at the cap and the rest left unread (robots.txt: RFC 9309 parses the
    /// first part of a long file).
    Truncate,
}

/// The crawl's HTTP client.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    resolver: Arc<Resolver>,
    /// Our own stall, given back to requests that ran through it.
    health: Health,
}

/// How long a connection to a host stays open unused: long enough to carry one visit's
/// requests (the host's minimum interval apart), and no longer. A connection kept past its visit
/// is never used again (the host is not due for hours) but holds a file descriptor on both ends:
/// at 500 visits a second, a 20-second idle timeout kept 10,000 of them open and ran the demo out
/// of descriptors.
fn idle_timeout(min_interval: Duration) -> Duration {
    (min_interval * 2).clamp(Duration::from_secs(2), Duration::from_secs(20))
}

impl HttpClient {
    /// Builds the one client of a crawl: rustls with ring, the web's root CAs plus the extra CA,
    /// the policy resolver, no automatic redirects, no proxy, `Accept: application/json` and
    /// the crawler's User-Agent.
    pub fn new(config: &CrawlerConfig, resolver: Arc<Resolver>) -> Result<HttpClient> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = &config.network.extra_ca_pem {
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| Error::Certificate(e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| Error::Certificate(e.to_string()))?;
                added += 1;
            }
            if added == 0 {
                return Err(Error::Certificate("no certificate in the PEM text".into()));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("TLS protocol versions: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];

        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent())
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .no_proxy()
            .pool_max_idle_per_host(1)
            .pool_idle_timeout(idle_timeout(config.min_interval))
            .tcp_nodelay(true)
            .dns_resolver(PolicyResolver(resolver.clone()))
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(Error::Client)?;
        Ok(HttpClient {
            client,
            resolver,
            health: Health::new(1),
        })
    }

    /// The same client, giving back to each request the stall `health` measures.
    pub fn with_health(mut self, health: Health) -> HttpClient {
        self.health = health;
        self
    }

    /// The resolver the client uses.
    pub fn resolver(&self) -> &Arc<Resolver> {
        &self.resolver
    }

    /// Sends one request and reads its answer, all within `timeout`. `body` is sent as JSON
    /// (Misskey's `POST /api/meta` takes `{}`). A 2xx body beyond `cap` is
    /// [`FetchError::TooLarge`]; error bodies are cut at [`ERROR_BODY_CAP`] silently.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&'static str>,
        cap: u64,
        timeout: Duration,
    ) -> std::result::Result<Response, FetchError> {
        self.send_capped(method, url, body, cap, Overflow::Refuse, timeout)
            .await
    }

    /// [`HttpClient::send`], with a 2xx body beyond `cap` refused or cut as `overflow` says.
    pub async fn send_capped(
        &self,
        method: Method,
        url: &str,
        body: Option<&'static str>,
        cap: u64,
        overflow: Overflow,
        timeout: Duration,
    ) -> std::result::Result<Response, FetchError> {
        self.send_with(method, url, body, HeaderMap::new(), cap, overflow, timeout)
            .await
    }

    /// [`HttpClient::send_capped`] with `headers` added to the request (a conditional request's
    /// `If-None-Match` and `If-Modified-Since`).
    #[allow(clippy::too_many_arguments)]
    pub async fn send_with(
        &self,
        method: Method,
        url: &str,
        body: Option<&'static str>,
        headers: HeaderMap,
        cap: u64,
        overflow: Overflow,
        timeout: Duration,
    ) -> std::result::Result<Response, FetchError> {
        let started = Instant::now();
        let mark = self.health.stalled();
        let request = self.send_inner(method, url, body, headers, cap, overflow);
        tokio::pin!(request);
        let mut deadline = tokio::time::Instant::now() + timeout;
        // The most that is given back: beyond it, the server has not had its time and we cannot
        // wait longer, so the timeout is ours.
        let most = timeout.saturating_mul(GIVE_BACK_FACTOR);
        let mut given_back = Duration::ZERO;
        let result = loop {
            match tokio::time::timeout_at(deadline, &mut request).await {
                Ok(result) => break result,
                Err(_) => {
                    // The time we were stalled while the request ran was not the server's: it
                    // is given back before the request times out.
                    let owed = self.health.stall_since(mark).saturating_sub(given_back);
                    if owed < Duration::from_millis(1) {
                        // The server had its whole timeout of our running time.
                        break Err(FetchError::Timeout);
                    }
                    if given_back >= most {
                        break Err(FetchError::Stalled {
                            stalled: given_back + owed,
                        });
                    }
                    let owed = owed.min(most - given_back);
                    given_back += owed;
                    deadline = tokio::time::Instant::now().max(deadline) + owed;
                }
            }
        };
        let (status, headers, body) = result?;
        Ok(Response {
            url: url.to_string(),
            status,
            headers,
            body,
            elapsed: started.elapsed(),
            cached: None,
        })
    }

    async fn send_inner(
        &self,
        method: Method,
        url: &str,
        body: Option<&'static str>,
        headers: HeaderMap,
        cap: u64,
        overflow: Overflow,
    ) -> std::result::Result<(u16, HeaderMap, Bytes), FetchError> {
        // reqwest does not resolve IP literals, so the policy is applied to them here.
        if let Some(host) = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
        {
            if let Ok(ip) = host.trim_matches(['[', ']']).parse() {
                if !self.resolver.policy().permits(ip) {
                    let err = ResolveError::Forbidden { host, ip };
                    return Err(FetchError::Resolve {
                        outcome: err.outcome(),
                        message: err.to_string(),
                    });
                }
            }
        }
        let mut request = self.client.request(method, url).headers(headers);
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let mut response = request.send().await.map_err(|e| classify(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // Redirects and `304 Not Modified` have no body worth reading.
        if (300..400).contains(&status) {
            return Ok((status, headers, Bytes::new()));
        }
        let success = (200..300).contains(&status);
        let refuse = success && overflow == Overflow::Refuse;
        let limit = if success {
            cap
        } else {
            cap.min(ERROR_BODY_CAP)
        };
        // A declared length beyond the cap is refused before reading (reqwest drops the header
        // when it decompresses, so this only ever applies to plain bodies).
        if refuse {
            let declared = headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|len| len > cap) {
                return Err(FetchError::TooLarge { cap });
            }
        }
        let mut buf = BytesMut::new();
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(err) => return Err(classify(&err)),
            };
            let room = limit.saturating_sub(buf.len() as u64) as usize;
            if chunk.len() > room {
                if refuse {
                    return Err(FetchError::TooLarge { cap });
                }
                buf.extend_from_slice(&chunk[..room]);
                break;
            }
            buf.extend_from_slice(&chunk);
        }
        Ok((status, headers, buf.freeze()))
    }
}

/// Reads what a reqwest error means, walking its chain of causes.
fn classify(err: &reqwest::Error) -> FetchError {
    if err.is_timeout() {
        return FetchError::Timeout;
    }
    let mut refused = false;
    let mut timed_out = false;
    let mut cause: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cause {
        // io::Error hides what it wraps from `source()` (and hyper wraps io errors in io
        // errors), so each one is opened by hand.
        let mut layer: Option<&(dyn StdError + 'static)> = Some(e);
        while let Some(inner) = layer {
            if let Some(found) = recognise(inner) {
                return found;
            }
            layer = match inner.downcast_ref::<std::io::Error>() {
                Some(io) => {
                    match io.kind() {
                        std::io::ErrorKind::ConnectionRefused => refused = true,
                        std::io::ErrorKind::TimedOut => timed_out = true,
                        _ => {}
                    }
                    io.get_ref().map(|i| i as &(dyn StdError + 'static))
                }
                None => None,
            };
        }
        cause = e.source();
    }
    if refused {
        FetchError::Refused
    } else if timed_out {
        FetchError::Timeout
    } else if err.is_decode() {
        FetchError::Decode(chain(err))
    } else {
        FetchError::Connection(chain(err))
    }
}

/// Our resolver's refusals and rustls's handshake errors, wherever they sit in a chain.
fn recognise(e: &(dyn StdError + 'static)) -> Option<FetchError> {
    if let Some(resolve) = e.downcast_ref::<ResolveError>() {
        return Some(FetchError::Resolve {
            outcome: resolve.outcome(),
            message: resolve.to_string(),
        });
    }
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        let certificate = matches!(
            tls,
            rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::InvalidCertRevocationList(_)
        );
        return Some(FetchError::Tls {
            certificate,
            detail: tls.to_string(),
        });
    }
    None
}

/// The error and its causes, as one line.
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cause = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_connection_outlives_the_wait_between_a_visits_requests_and_little_more() {
        for secs in [0, 1, 5, 60] {
            let interval = Duration::from_secs(secs);
            let idle = idle_timeout(interval);
            assert!(idle >= Duration::from_secs(2), "{secs}");
            assert!(idle > interval || idle == Duration::from_secs(20), "{secs}");
            assert!(idle <= Duration::from_secs(20), "{secs}");
        }
    }
}
