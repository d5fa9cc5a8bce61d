//! HTTP caching as each software does it: the `Cache-Control` it sends, the validators (`ETag`,
//! `Last-Modified`) it gives, and the `304 Not Modified` it answers a conditional `GET` whose
//! validator still matches.
//!
//! Each rule is read from the software's source (or the captured headers in
//! `fixtures/live/`); a software not named here sends no cache headers and no validators, so a
//! crawler gets a full answer from it every time, as from the real one:
//!
//! - **Mastodon** (Rails). Every JSON document goes through `Rack::ETag`, which gives a 200
//!   answer with a complete body a weak ETag, `W/"` + the first 32 hex digits of the body's
//!   SHA-256 + `"`, and `Rack::ConditionalGet`, which answers 304 when `If-None-Match` names it
//!   (rack `lib/rack/etag.rb`, `lib/rack/conditional_get.rb`). The controllers set the freshness
//!   with `expires_in`: `/.well-known/nodeinfo` 3 days and NodeInfo 30 minutes
//!   (`app/controllers/well_known/node_info_controller.rb`), `/api/v1/instance` and
//!   `/api/v2/instance` 3 minutes (`app/controllers/api/v1/instances_controller.rb`,
//!   `api/v2/instances_controller.rb`), peers and activity a day
//!   (`api/v1/instances/peers_controller.rb`, `activity_controller.rb`), all `public`.
//!   `robots.txt` is a file of `public/` that the recommended nginx serves itself
//!   (`dist/nginx.conf`, `try_files $uri @proxy`): nginx's strong ETag `"<mtime hex>-<length
//!   hex>"` and `Last-Modified`, 304 to either validator (`if_modified_since exact`).
//! - **GoToSocial**: `/.well-known/` is `public, max-age=120` (`internal/api/wellknown.go`),
//!   NodeInfo `public, max-age=120` up to 0.17 (live fixture `gotosocial-0.7.1/nodeinfo_2_0`) and
//!   `public, max-age=86400` from 0.18.0 (`internal/api/nodeinfo.go`), the client API `no-store`
//!   (`internal/api/client.go`; live fixture `api_v1_instance`, `api_v1_instance_peers`). From
//!   0.18.0 its built-in robots.txt has a constant strong ETag and answers 304 when
//!   `If-None-Match` is exactly it (`internal/api/robots/robots.go`, commit fd670c6); 0.7.1 sent
//!   none (live fixture `robots_txt.headers`).
//! - **Lemmy** from 0.18.4: `public, max-age=259200` on `/.well-known/nodeinfo` and `public,
//!   max-age=3600` on NodeInfo (`crates/routes/src/nodeinfo.rs`, `crates/utils/src/
//!   cache_header.rs`, commit 1f21bdb); actix adds no validators.
//! - **Misskey** (and Sharkey): NodeInfo `public, max-age=600`
//!   (`packages/backend/src/server/NodeinfoServerService.ts`), the well-known document nothing
//!   (`WellKnownServerService.ts`); `robots.txt` is a static file sent by `@fastify/static`
//!   (`send`): `public, max-age=0`, a weak ETag `W/"<length hex>-<mtime ms hex>"` and
//!   `Last-Modified`, 304 to either (`If-Modified-Since` not before the file's time).
//! - **Pleroma** and **Akkoma** (Phoenix): every dynamic answer keeps Plug's default
//!   `cache-control: max-age=0, private, must-revalidate` (`Plug.Conn`'s default headers);
//!   `robots.txt` comes from `Plug.Static`, with `cache-control: public`, a strong ETag of the
//!   file's size and time, and 304 to a matching `If-None-Match` only.
//!
//! Only complete 200 bodies get validators (a dripping or endless answer is a failure, not a
//! document), and a 304 keeps every header but the body's own (`Content-Type`), as Rack and nginx
//! do. A server's document changes exactly when the world changes it, so a 304 means the body
//! would have been the same bytes.

use super::{Ctx, Kind};
use crate::response::{SimBody, SimResponse};
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use fedicensus_core::Software;
use sha2::{Digest, Sha256};

/// GoToSocial's robots.txt ETags (`internal/api/util/robots.go`: `RobotsTxtETag` and
/// `RobotsTxtDisallowNodeInfoETag`), keyed by whether the file lets crawlers read NodeInfo.
const GTS_ROBOTS_ETAG: &str = "\"7b6b498f7381ac33cb3efb34c68f662d\"";
const GTS_ROBOTS_DISALLOW_NODEINFO_ETAG: &str = "\"6d21be573d502581a3bf7271b7e63fc8\"";

/// How a server makes and checks its validators.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Validator {
    /// No validator: every answer is a full one.
    None,
    /// `Rack::ETag`: a weak ETag of the body's digest; `If-None-Match` only.
    RackDigest,
    /// nginx serving a file: strong `"<mtime>-<length>"`, `Last-Modified`, exact matches.
    NginxFile,
    /// `send` (`@fastify/static`): weak `"<length>-<mtime ms>"`, `Last-Modified`.
    SendFile,
    /// `Plug.Static`: a strong ETag of size and time; `If-None-Match` only.
    PlugStatic,
    /// A constant strong ETag compared with the whole `If-None-Match` header (GoToSocial).
    Constant(&'static str),
}

/// What a server's software says about caching one answer.
struct Policy {
    cache_control: Option<&'static str>,
    validator: Validator,
}

fn policy(ctx: &Ctx<'_>, kind: Kind) -> Policy {
    let path = ctx.req.path.as_str();
    let none = |cache_control| Policy {
        cache_control,
        validator: Validator::None,
    };
    match ctx.server.software {
        Software::Mastodon => {
            if kind == Kind::Robots {
                return Policy {
                    cache_control: None,
                    validator: Validator::NginxFile,
                };
            }
            let cache_control = match (kind, path) {
                (Kind::WellKnown, _) => Some("max-age=259200, public"),
                (Kind::NodeInfo, _) => Some("max-age=1800, public"),
                (Kind::Instance, _) => Some("max-age=180, public"),
                (_, "/api/v1/instance/peers" | "/api/v1/instance/activity") => {
                    Some("max-age=86400, public")
                }
                _ => None,
            };
            Policy {
                cache_control,
                validator: Validator::RackDigest,
            }
        }
        Software::Gotosocial => {
            let v18 = ctx.version() >= (0, 18, 0);
            match kind {
                Kind::Robots if v18 => {
                    let etag = if super::robots::gts_default_stats_mode(ctx) {
                        GTS_ROBOTS_DISALLOW_NODEINFO_ETAG
                    } else {
                        GTS_ROBOTS_ETAG
                    };
                    Policy {
                        cache_control: None,
                        validator: Validator::Constant(etag),
                    }
                }
                Kind::WellKnown => none(Some("public, max-age=120")),
                Kind::NodeInfo if v18 => none(Some("public, max-age=86400")),
                Kind::NodeInfo => none(Some("public, max-age=120")),
                Kind::Instance | Kind::Api if path.starts_with("/api/") => none(Some("no-store")),
                _ => none(None),
            }
        }
        Software::Lemmy if ctx.version() >= (0, 18, 4) => match kind {
            Kind::WellKnown => none(Some("public, max-age=259200")),
            Kind::NodeInfo => none(Some("public, max-age=3600")),
            _ => none(None),
        },
        Software::Misskey | Software::Sharkey => match kind {
            Kind::Robots => Policy {
                cache_control: Some("public, max-age=0"),
                validator: Validator::SendFile,
            },
            Kind::NodeInfo => none(Some("public, max-age=600")),
            _ => none(None),
        },
        Software::Pleroma | Software::Akkoma => match kind {
            Kind::Robots => Policy {
                cache_control: Some("public"),
                validator: Validator::PlugStatic,
            },
            _ => none(Some("max-age=0, private, must-revalidate")),
        },
        _ => none(None),
    }
}

/// The answer with the caching headers the server's software gives it, or its 304 when the
/// request's validator matches.
pub(crate) fn apply(ctx: &Ctx<'_>, kind: Kind, mut response: SimResponse) -> SimResponse {
    if response.status != 200 || !ctx.is_get() {
        return response;
    }
    let SimBody::Full(body) = &response.body else {
        return response;
    };
    let policy = policy(ctx, kind);
    if let Some(value) = policy.cache_control {
        response.headers.retain(|(name, _)| name != "cache-control");
        response
            .headers
            .push(("cache-control".into(), value.to_string()));
    }
    let mtime = static_mtime(ctx);
    let (etag, last_modified) = match &policy.validator {
        Validator::None => return response,
        Validator::RackDigest => {
            let digest = hex(&Sha256::digest(body));
            (format!("W/\"{}\"", &digest[..32]), None)
        }
        Validator::NginxFile => (
            format!("\"{:x}-{:x}\"", mtime.timestamp(), body.len()),
            Some(mtime),
        ),
        Validator::SendFile => (
            format!("W/\"{:x}-{:x}\"", body.len(), mtime.timestamp_millis()),
            Some(mtime),
        ),
        Validator::PlugStatic => {
            let digest = Sha256::digest(format!("{}-{}", body.len(), mtime.timestamp()));
            (format!("\"{}\"", hex(&digest[..4])), None)
        }
        Validator::Constant(etag) => ((*etag).to_string(), None),
    };
    let last_modified_text = last_modified.map(http_date);
    let fresh = match (&ctx.req.if_none_match, &ctx.req.if_modified_since) {
        (Some(asked), _) => match policy.validator {
            Validator::Constant(_) => asked == &etag,
            _ => asked
                .split(',')
                .any(|t| t.trim() == etag || t.trim() == "*"),
        },
        (None, Some(since)) => match (&policy.validator, last_modified) {
            (Validator::NginxFile, Some(_)) => last_modified_text.as_deref() == Some(since.trim()),
            (Validator::SendFile, Some(at)) => DateTime::parse_from_rfc2822(since.trim())
                .is_ok_and(|since| at.timestamp() <= since.timestamp()),
            _ => false,
        },
        (None, None) => false,
    };
    response.headers.push(("etag".into(), etag));
    if let Some(text) = last_modified_text {
        response.headers.push(("last-modified".into(), text));
    }
    if fresh {
        response.status = 304;
        response
            .headers
            .retain(|(name, _)| name != "content-type" && name != "content-length");
        response.body = SimBody::Full(bytes::Bytes::new());
    }
    response
}

/// When the server's static files last changed: the day its admin last edited robots.txt (the
/// start or end of an opt-out), else the day it was installed, at a per-server time of day.
fn static_mtime(ctx: &Ctx<'_>) -> DateTime<Utc> {
    let today = ctx.now.date_naive();
    let day = match ctx.server.opt_out.as_ref() {
        Some(o) if o.from <= today => match o.until {
            Some(until) if until <= today => until,
            _ => o.from,
        },
        _ => ctx.server.born,
    };
    let seconds = i64::try_from(ctx.trait_hash("static-mtime") % 86_400).unwrap_or(0);
    day.and_time(NaiveTime::MIN).and_utc() + TimeDelta::seconds(seconds)
}

/// An HTTP date (IMF-fixdate).
fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
