//! How broken hosts answer: the per-host rate-limit windows and the canned pages of failures.
//!
//! Most failures decide the answer before the request reaches the software ([`before_routing`]):
//! a Cloudflare challenge or a parked domain never shows the real server. A few bend the real
//! answer afterwards ([`after_routing`]): a truncated, gigantic or dripping NodeInfo is still
//! that server's NodeInfo. The rate-limit state is the handler's only mutable state; it is shared
//! by every connection, as a real server's limiter is.

use super::{html, json_status, nodeinfo, with_body, Ctx, HandlerConfig, Kind};
use crate::failure::Failure;
use crate::response::{SimBody, SimResponse};
use crate::world::{DeathMode, Server, ServerId, World};
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The pause between the bytes of a [`Failure::Slowloris`] answer.
pub(crate) const SLOWLORIS_EVERY: Duration = Duration::from_secs(1);

/// The `Retry-After` of a [`Failure::FarFutureRateLimit`] host: an HTTP date in the year 12000.
pub const FAR_FUTURE_RETRY_AFTER: &str = "Sat, 01 Jan 12000 00:00:00 GMT";

/// The `X-RateLimit-Reset` of a [`Failure::FarFutureRateLimit`] host: a UNIX time in the year
/// 11476.
pub const FAR_FUTURE_RESET: &str = "300000000000";

/// The port a [`Failure::RedirectExplicitPort`] host redirects to (discard: nothing listens).
pub const REDIRECT_PORT: u16 = 9;

/// How deep a [`Failure::DeepJson`] document nests its arrays.
pub(crate) const DEEP_JSON_DEPTH: usize = 100_000;

/// What an endless body repeats: JSON whitespace, 64 KiB at a time.
static ENDLESS_FILLER: [u8; 64 * 1024] = [b' '; 64 * 1024];

/// `[[[...]]]`, [`DEEP_JSON_DEPTH`] deep, built once.
fn deep_json() -> Bytes {
    static DOC: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = Vec::with_capacity(DEEP_JSON_DEPTH * 2);
        doc.resize(DEEP_JSON_DEPTH, b'[');
        doc.resize(DEEP_JSON_DEPTH * 2, b']');
        Bytes::from(doc)
    })
    .clone()
}

/// Fixed windows per rate-limited host: when the window started and how many requests it saw.
#[derive(Debug, Default)]
pub(crate) struct RateLimits {
    windows: Mutex<HashMap<ServerId, (Instant, u32)>>,
}

/// The outcome of one request against a host's limit.
enum Limit {
    /// Allowed; `remaining` requests are left in a window that ends in `resets_in`.
    Allowed { remaining: u32, resets_in: Duration },
    /// Refused until the window ends in `resets_in`.
    Refused { resets_in: Duration },
}

impl RateLimits {
    fn check(&self, id: ServerId, config: &HandlerConfig) -> Limit {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let entry = windows.entry(id).or_insert((now, 0));
        if now.duration_since(entry.0) >= config.rate_window {
            *entry = (now, 0);
        }
        let resets_in = config
            .rate_window
            .saturating_sub(now.duration_since(entry.0));
        if entry.1 >= config.rate_burst {
            Limit::Refused { resets_in }
        } else {
            entry.1 += 1;
            Limit::Allowed {
                remaining: config.rate_burst - entry.1,
                resets_in,
            }
        }
    }
}

/// Whether the failure answers in place of the server, or lets the request through (with
/// headers to add to API answers).
pub(crate) enum Gate {
    Answer(SimResponse),
    Pass { headers: Vec<(String, String)> },
}

/// The answer a failure gives before the software sees the request, if it gives one.
pub(crate) fn before_routing(
    ctx: &Ctx<'_>,
    failure: Failure,
    config: &HandlerConfig,
    limits: &RateLimits,
) -> Gate {
    let pass = Gate::Pass {
        headers: Vec::new(),
    };
    match failure {
        Failure::Hang => Gate::Answer(SimResponse {
            status: 200,
            headers: Vec::new(),
            body: SimBody::Hang(config.hang),
        }),
        Failure::ServerError(code) => Gate::Answer(server_error(code)),
        Failure::Slowloris => Gate::Answer(SimResponse {
            status: 200,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: SimBody::Endless {
                chunk: Bytes::from_static(b" "),
                every: SLOWLORIS_EVERY,
            },
        }),
        Failure::CloudflareChallenge => Gate::Answer(cloudflare_challenge(ctx)),
        Failure::ParkedHtml => Gate::Answer(parked(ctx)),
        Failure::Gone => Gate::Answer(gone()),
        Failure::Moved => match target(ctx) {
            Some(target) => {
                let query = ctx
                    .req
                    .query
                    .as_deref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                let location = format!("https://{}{}{}", target.domain, ctx.req.path, query);
                Gate::Answer(moved_page(301, &location))
            }
            None => pass,
        },
        Failure::RedirectLoop => {
            // a -> b -> a on the same host: the path with `?loop=1` and without it.
            let scheme = if ctx.req.https { "https" } else { "http" };
            let looped = ctx
                .req
                .query
                .as_deref()
                .is_some_and(|q| q.split('&').any(|p| p == "loop=1"));
            let location = if looped {
                format!("{scheme}://{}{}", ctx.server.domain, ctx.req.path)
            } else {
                format!("{scheme}://{}{}?loop=1", ctx.server.domain, ctx.req.path)
            };
            Gate::Answer(moved_page(302, &location))
        }
        Failure::RateLimitedRetryAfter => match limits.check(ctx.server.id, config) {
            Limit::Allowed { .. } => pass,
            Limit::Refused { resets_in } => {
                let secs = resets_in.as_secs() + u64::from(resets_in.subsec_nanos() > 0);
                Gate::Answer(
                    html(429, "<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many Requests</h1></center><hr><center>nginx</center></body></html>\n")
                        .header("retry-after", secs.max(1).to_string()),
                )
            }
        },
        Failure::FarFutureRateLimit => Gate::Answer(
            json_status(429, r#"{"error":"Too many requests"}"#)
                .header("retry-after", FAR_FUTURE_RETRY_AFTER)
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", FAR_FUTURE_RESET),
        ),
        Failure::RedirectExplicitPort
            if ctx.req.path == "/.well-known/nodeinfo" && ctx.req.query.is_none() =>
        {
            let scheme = if ctx.req.https { "https" } else { "http" };
            let location = format!(
                "{scheme}://{}:{REDIRECT_PORT}/.well-known/nodeinfo?port={REDIRECT_PORT}",
                ctx.server.domain
            );
            Gate::Answer(moved_page(302, &location))
        }
        Failure::RateLimitedReset => {
            let limit = config.rate_burst.to_string();
            match limits.check(ctx.server.id, config) {
                Limit::Allowed {
                    remaining,
                    resets_in,
                } => Gate::Pass {
                    headers: vec![
                        ("x-ratelimit-limit".into(), limit),
                        ("x-ratelimit-remaining".into(), remaining.to_string()),
                        ("x-ratelimit-reset".into(), reset_time(ctx.now, resets_in)),
                    ],
                },
                Limit::Refused { resets_in } => Gate::Answer(
                    json_status(429, r#"{"error":"Too many requests"}"#)
                        .header("x-ratelimit-limit", limit)
                        .header("x-ratelimit-remaining", "0")
                        .header("x-ratelimit-reset", reset_time(ctx.now, resets_in)),
                ),
            }
        }
        _ => pass,
    }
}

/// The real answer, bent by the failure.
pub(crate) fn after_routing(
    ctx: &Ctx<'_>,
    failure: Failure,
    kind: Kind,
    response: SimResponse,
    config: &HandlerConfig,
) -> SimResponse {
    let is_json = response
        .headers
        .iter()
        .any(|(k, v)| k == "content-type" && v.contains("json"));
    match failure {
        Failure::MalformedJson if is_json => match &response.body {
            SimBody::Full(body) if !body.is_empty() => {
                // Cut the document short, as a proxy that dropped the connection does.
                let cut = (body.len() / 2).max(1);
                let truncated = body.slice(..cut);
                with_body(response, SimBody::Full(truncated))
            }
            _ => response,
        },
        Failure::HugeBody if kind == Kind::NodeInfo && response.status == 200 => with_body(
            response,
            SimBody::Huge {
                len: config.huge_len,
            },
        ),
        Failure::GzipBomb if kind == Kind::NodeInfo && response.status == 200 => with_body(
            response,
            SimBody::GzipBomb {
                inflated: config.bomb_inflated,
            },
        ),
        Failure::EndlessBody if kind == Kind::NodeInfo && response.status == 200 => with_body(
            response,
            SimBody::Endless {
                chunk: Bytes::from_static(&ENDLESS_FILLER),
                every: Duration::ZERO,
            },
        ),
        Failure::DeepJson if kind == Kind::NodeInfo && response.status == 200 => {
            with_body(response, SimBody::Full(deep_json()))
        }
        Failure::Drip => match &response.body {
            SimBody::Full(body) if !body.is_empty() => {
                let body = body.clone();
                with_body(
                    response,
                    SimBody::Drip {
                        body,
                        chunk: config.drip_chunk.max(1),
                        every: config.drip_every,
                    },
                )
            }
            _ => response,
        },
        Failure::RedirectOtherHost if kind == Kind::NodeInfo && response.status == 200 => {
            // Half of these servers point their well-known href straight at the other host (see
            // `nodeinfo`); the others redirect the NodeInfo document itself.
            match target(ctx).and_then(|t| nodeinfo::best_document_url(ctx.world, t)) {
                Some(location) => moved_page(302, &location),
                None => response,
            }
        }
        _ => response,
    }
}

/// The server a `Moved` or `RedirectOtherHost` server points to.
pub(crate) fn target<'a>(ctx: &Ctx<'a>) -> Option<&'a crate::world::Server> {
    let id = ctx.server.target?;
    let servers = ctx.world.servers();
    servers.get(id as usize)
}

/// The ISO 8601 time Mastodon writes in `X-RateLimit-Reset` (the server's own clock).
fn reset_time(now: DateTime<Utc>, resets_in: Duration) -> String {
    let delta = TimeDelta::from_std(resets_in).unwrap_or(TimeDelta::zero());
    (now + delta).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// What the simulator's front answers for a name it serves but no server lives at.
pub(crate) fn no_such_site() -> SimResponse {
    html(404, "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>\n")
}

/// What a server that is not (or no longer) alive answers, when a request reaches it at all: a
/// dead host whose death mode is `Gone` answers 410 everywhere; the other death modes are decided
/// by DNS, so only a caller bypassing it gets here, and gets the front's 404, as for a server not
/// yet born.
pub(crate) fn dead(world: &World, server: &Server, now: DateTime<Utc>) -> SimResponse {
    if world.is_dead(server.id, now) && world.death_mode(server.id) == Some(DeathMode::Gone) {
        gone()
    } else {
        no_such_site()
    }
}

fn gone() -> SimResponse {
    html(410, "<html><head><title>410 Gone</title></head><body><center><h1>410 Gone</h1></center><hr><center>nginx</center></body></html>\n")
}

fn server_error(code: u16) -> SimResponse {
    let reason = match code {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        _ => "Server Error",
    };
    html(
        code,
        format!("<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"),
    )
}

pub(crate) fn moved_page(status: u16, location: &str) -> SimResponse {
    let reason = if status == 301 {
        "Moved Permanently"
    } else {
        "Found"
    };
    SimResponse {
        status,
        headers: vec![
            ("location".into(), location.into()),
            ("content-type".into(), "text/html".into()),
        ],
        body: SimBody::Full(Bytes::from(format!(
            "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        ))),
    }
}

fn cloudflare_challenge(ctx: &Ctx<'_>) -> SimResponse {
    let ray = format!(
        "{:016x}-AMS",
        ctx.trait_hash("cf-ray") ^ ctx.now.timestamp() as u64
    );
    let page = format!(
        "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>\
<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\">\
<meta name=\"robots\" content=\"noindex,nofollow\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"></head>\
<body><div class=\"main-wrapper\" role=\"main\"><div class=\"main-content\">\
<h1 class=\"zone-name-title h1\">{domain}</h1>\
<h2 class=\"h2\" id=\"challenge-running\">Checking if the site connection is secure</h2>\
<noscript><div id=\"challenge-error-title\"><div class=\"h2\"><span class=\"icon-wrapper\"></span>\
<span id=\"challenge-error-text\">Enable JavaScript and cookies to continue</span></div></div></noscript>\
<div id=\"challenge-body-text\" class=\"core-msg spacer\">{domain} needs to review the security of your connection before proceeding.</div>\
</div></div><script>(function(){{window._cf_chl_opt={{cvId: '2',cZone: '{domain}',cType: 'managed',cRay: '{ray}'}};}}());</script>\
<div class=\"footer\" role=\"contentinfo\"><div class=\"footer-inner\"><div class=\"text-center\">Ray ID: <code>{ray}</code></div>\
<div class=\"text-center\">Performance &amp; security by Cloudflare</div></div></div></body></html>",
        domain = ctx.server.domain,
    );
    html(403, page)
        .header("cf-mitigated", "challenge")
        .header("server", "cloudflare")
        .header("cf-ray", ray)
        .header(
            "cache-control",
            "private, max-age=0, no-store, no-cache, must-revalidate",
        )
}

fn parked(ctx: &Ctx<'_>) -> SimResponse {
    html(
        200,
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{domain} - this domain may be for sale</title></head>\
<body><div id=\"app\"><h1>{domain}</h1><p>This domain is parked free of charge. Inquire about buying it today.</p>\
<p>Related searches: social network, online community, free hosting</p></div></body></html>\n",
            domain = ctx.server.domain
        ),
    )
}
