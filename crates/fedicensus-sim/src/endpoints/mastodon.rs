//! The Mastodon client API's instance endpoints, for Mastodon and every software that copies
//! them: `/api/v1/instance`, `/api/v2/instance`, `/peers`, `/activity`, `/domain_blocks`.
//!
//! Each software copies them differently, and crawlers sniff the software from those
//! differences: Pleroma's `uri` is a URL and its `version` says `(compatible; Pleroma …)`,
//! GoToSocial hides its peers behind a 401, only Mastodon has activity and domain blocks, and
//! limited-federation Mastodon answers 401 where others answer 200 (PROTOCOL.md §2).

use super::{json_ordered, json_status, nodeinfo, to_json, version_triple, Ctx, KeyOrder, Kind};
use crate::failure::Quirk;
use crate::response::SimResponse;
use crate::world::is_mitra;
use chrono::{DateTime, SecondsFormat, TimeDelta, Timelike, Utc};
use fedicensus_core::Software;
use serde_json::{json, Value};

/// Share (percent) of GoToSocial servers that set `instance-expose-peers: true`. Zero: the
/// world's truth ([`crate::world::software_serves_peers`]) counts GoToSocial as hiding its
/// peers, and a crawler must not discover more than the truth says it can.
const GTS_EXPOSE_PEERS_PERCENT: u64 = 0;
/// Share (percent) of Mastodon 4.x servers that show their domain blocks to everyone.
const SHOW_DOMAIN_BLOCKS_PERCENT: u64 = crate::blocks::SHOW_DOMAIN_BLOCKS_PERCENT;
/// Share (percent) of Mastodon servers whose `contact_account` is unset (`null`).
const NULL_CONTACT_PERCENT: u64 = 15;

/// The body of Mastodon's 401 in limited-federation mode.
const LIMITED_FEDERATION_401: &str = r#"{"error":"This method requires an authenticated user"}"#;
/// GoToSocial's 401 when peers are not exposed (fixture gotosocial/error-401-peers-not-exposed).
const GTS_PEERS_401: &str =
    r#"{"error":"Unauthorized: peers open query requires an authenticated account/user"}"#;

/// Mastodon's key order for the v1 instance entity (fixture mastodon.social 4.0.2).
const V1_ORDER: &[&str] = &[
    "uri",
    "title",
    "short_description",
    "description",
    "email",
    "version",
    "urls",
    "stats",
    "user_count",
    "status_count",
    "domain_count",
    "thumbnail",
    "languages",
    "registrations",
    "approval_required",
    "invites_enabled",
    "configuration",
    "contact_account",
    "rules",
    "domain",
    "source_url",
    "usage",
    "users",
    "active_month",
    "week",
    "statuses",
    "logins",
    "digest",
    "severity",
    "comment",
];

pub(crate) fn route(ctx: &Ctx<'_>) -> Option<(Kind, SimResponse)> {
    if !ctx.is_get() {
        return None;
    }
    let path = ctx.req.path.as_str();
    let known = matches!(
        path,
        "/api/v1/instance"
            | "/api/v2/instance"
            | "/api/v1/instance/peers"
            | "/api/v1/instance/activity"
            | "/api/v1/instance/domain_blocks"
    );
    if !known {
        return None;
    }
    let kind = if path.ends_with("/instance") {
        Kind::Instance
    } else {
        Kind::Api
    };
    if let Some(refusal) = nodeinfo::refuse_accept(ctx) {
        return Some((kind, refusal));
    }
    let software = &ctx.server.software;
    let mastodon = *software == Software::Mastodon;
    let mitra = is_mitra(software);
    let limited = ctx.quirk(Quirk::LimitedFederation);
    let v = ctx.version();
    if *software == Software::Takahe && v < (0, 6, 0) {
        // Takahē's client API starts with 0.6.0 (2022-12-24): before it, `/api/` is Django's 404.
        return None;
    }
    let response = match path {
        "/api/v1/instance" if limited => json_status(401, LIMITED_FEDERATION_401),
        "/api/v1/instance" if mitra => mitra_v1(ctx),
        "/api/v1/instance" => instance_v1(ctx),
        "/api/v2/instance" if mastodon && v >= (4, 0, 0) => instance_v2(ctx),
        "/api/v2/instance" if *software == Software::Friendica => friendica_v2(ctx),
        // `instance_info_v2` from Takahē 0.8.0 (2023-02-19), whose `active_month` counts every
        // local identity (`api/views/instance.py`; live fixture takahe-0.11.0/api_v2_instance).
        "/api/v2/instance" if *software == Software::Takahe && v >= (0, 8, 0) => takahe_v2(ctx),
        // Mitra's `/api/v2/instance` from 2.18.0 (commit d3a2f598, 2024-05-05).
        "/api/v2/instance" if mitra && v >= (2, 18, 0) => mitra_v2(ctx),
        // Takahē's weekly activity from 0.10.0 (commit 11e3ca1, 2023-07-15): integers, logins 0.
        "/api/v1/instance/activity" if *software == Software::Takahe && v >= (0, 10, 0) => {
            takahe_activity(ctx)
        }
        "/api/v1/instance/peers"
            if (mitra || *software == Software::Takahe)
                && crate::world::software_serves_peers_at(software, ctx.version_str()) =>
        {
            peers(ctx)
        }
        "/api/v1/instance/peers" if mitra || *software == Software::Takahe => return None,
        "/api/v1/instance/peers" => match software {
            Software::Mastodon
            | Software::Pleroma
            | Software::Akkoma
            | Software::Gotosocial
            | Software::Friendica
            | Software::Takahe
            | Software::Bookwyrm => {
                if limited {
                    json_status(401, LIMITED_FEDERATION_401)
                } else if ctx.quirk(Quirk::PeersDisabled) {
                    SimResponse::empty(404)
                } else if *software == Software::Gotosocial
                    && !ctx.has_trait("gts-expose-peers", GTS_EXPOSE_PEERS_PERCENT)
                {
                    json_status(401, GTS_PEERS_401)
                } else {
                    peers(ctx)
                }
            }
            _ => return None,
        },
        "/api/v1/instance/activity" if mastodon => {
            if limited {
                json_status(401, LIMITED_FEDERATION_401)
            } else if ctx.quirk(Quirk::ActivityDisabled) {
                SimResponse::empty(404)
            } else {
                activity(ctx)
            }
        }
        "/api/v1/instance/domain_blocks" if mastodon && ctx.version() >= (4, 0, 0) => {
            if limited {
                json_status(401, LIMITED_FEDERATION_401)
            } else if ctx.has_trait("show-domain-blocks", SHOW_DOMAIN_BLOCKS_PERCENT) {
                json_ordered(
                    &Value::Array(domain_blocks(ctx)),
                    KeyOrder::Ranked(V1_ORDER),
                )
            } else {
                SimResponse::empty(404)
            }
        }
        _ => return None,
    };
    let response = if mastodon {
        mastodon_headers(response, ctx.now)
    } else {
        response
    };
    Some((kind, response))
}

/// Every Mastodon API answer carries its (anonymous, 300 per 5 minutes) rate-limit state.
fn mastodon_headers(response: SimResponse, now: DateTime<Utc>) -> SimResponse {
    let into_window = i64::from(now.minute() % 5) * 60 + i64::from(now.second());
    let reset = now + TimeDelta::seconds(300 - into_window);
    let reset = reset
        .with_nanosecond(0)
        .unwrap_or(reset)
        .to_rfc3339_opts(SecondsFormat::Micros, true);
    response
        .header("x-ratelimit-limit", "300")
        .header("x-ratelimit-remaining", "299")
        .header("x-ratelimit-reset", reset)
}

/// The server's published block list ([`crate::blocks`]): the blocks in place now.
fn domain_blocks(ctx: &Ctx<'_>) -> Vec<Value> {
    crate::blocks::active(ctx.world, ctx.server, ctx.now)
        .iter()
        .map(|block| {
            let mut entry = json!({
                "domain": block.published_domain(),
                "digest": block.digest(),
                "severity": block.severity,
            });
            if let Some(comment) = block.comment {
                entry["comment"] = json!(comment);
            }
            entry
        })
        .collect()
}

/// Domains the server knows: its peers plus the ones it blocks (Mastodon's `Instance.count`).
fn domain_count(ctx: &Ctx<'_>, peers: usize) -> u64 {
    peers as u64 + crate::blocks::active(ctx.world, ctx.server, ctx.now).len() as u64
}

fn peers(ctx: &Ctx<'_>) -> SimResponse {
    let peers = ctx.world.peers(ctx.server.id, ctx.now);
    let value = if ctx.server.software == Software::Gotosocial
        && ctx
            .req
            .query
            .as_deref()
            .is_some_and(|q| q.contains("filter=") && !q.contains("flat=true"))
    {
        // GoToSocial's `?filter=open` answers objects.
        Value::Array(peers.iter().map(|d| json!({ "domain": d })).collect())
    } else {
        json!(peers)
    };
    SimResponse::json(to_json(&value, KeyOrder::Sorted))
}

fn activity(ctx: &Ctx<'_>) -> SimResponse {
    let weeks: Vec<Value> = ctx
        .world
        .activity(ctx.server.id, ctx.now)
        .iter()
        .map(|w| {
            json!({
                "week": w.week.to_string(),
                "statuses": w.statuses.to_string(),
                "logins": w.logins.to_string(),
                "registrations": w.registrations.to_string(),
            })
        })
        .collect();
    json_ordered(
        &Value::Array(weeks),
        KeyOrder::Ranked(&["week", "statuses", "logins", "registrations"]),
    )
}

/// The account entity of the instance's contact (or `null`).
fn contact_account(ctx: &Ctx<'_>) -> Value {
    if ctx.has_trait("null-contact", NULL_CONTACT_PERCENT) {
        return Value::Null;
    }
    let base = ctx.base();
    json!({
        "id": "1",
        "username": "admin",
        "acct": "admin",
        "display_name": "Admin",
        "locked": false,
        "bot": false,
        "discoverable": true,
        "group": false,
        "created_at": "2019-01-01T00:00:00.000Z",
        "note": format!("<p>Admin of {}</p>", ctx.server.domain),
        "url": format!("{base}/@admin"),
        "avatar": format!("{base}/avatars/original/missing.png"),
        "avatar_static": format!("{base}/avatars/original/missing.png"),
        "header": format!("{base}/headers/original/missing.png"),
        "header_static": format!("{base}/headers/original/missing.png"),
        "followers_count": 120,
        "following_count": 80,
        "statuses_count": 900,
        "last_status_at": "2022-10-30",
        "emojis": [],
        "fields": []
    })
}

fn configuration(mastodon_4: bool) -> Value {
    let mut c = json!({
        "statuses": {"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23},
        "media_attachments": {
            "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp", "image/avif", "video/webm", "video/mp4", "video/quicktime", "video/ogg", "audio/wave", "audio/wav", "audio/x-wav", "audio/ogg", "audio/mpeg", "audio/mp3", "audio/webm", "audio/flac", "audio/aac", "audio/m4a", "audio/mp4"],
            "image_size_limit": 10485760,
            "image_matrix_limit": 16777216,
            "video_size_limit": 41943040,
            "video_frame_rate_limit": 60,
            "video_matrix_limit": 2304000
        },
        "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2629746}
    });
    if mastodon_4 {
        c["accounts"] = json!({"max_featured_tags": 10});
    }
    c
}

fn rules() -> Value {
    json!([
        {"id": "1", "text": "No racism, sexism, homophobia, transphobia, xenophobia, or casteism"},
        {"id": "2", "text": "No incitement of violence or promotion of violent ideologies"},
        {"id": "3", "text": "No harassment, dogpiling or doxxing of other users"}
    ])
}

/// The Mastodon version other software claims compatibility with, and its own name.
fn compatible_version(ctx: &Ctx<'_>, mastodon: &str, name: &str) -> String {
    format!("{mastodon} (compatible; {name} {})", ctx.version_str())
}

fn instance_v1(ctx: &Ctx<'_>) -> SimResponse {
    let server = ctx.server;
    let f = ctx.figures;
    let base = ctx.base();
    let domain = &server.domain;
    let title = ctx.title();
    let description = format!("{title} is a small corner of the fediverse.");
    let peers = ctx.world.peer_count(server.id, ctx.now);
    let stats = json!({
        "user_count": f.users,
        "status_count": f.local_posts,
        "domain_count": domain_count(ctx, peers)
    });
    let thumbnail = format!("{base}/packs/media/images/preview.png");
    let doc = match server.software {
        Software::Pleroma | Software::Akkoma => {
            let name = if server.software == Software::Akkoma {
                "Akkoma"
            } else {
                "Pleroma"
            };
            let doc = json!({
                "avatar_upload_limit": 2000000,
                "background_upload_limit": 4000000,
                "banner_upload_limit": 4000000,
                "description": description,
                "email": format!("admin@{domain}"),
                "languages": ctx.languages(),
                "max_toot_chars": 5000,
                "poll_limits": {"max_expiration": 31536000, "max_option_chars": 200, "max_options": 20, "min_expiration": 0},
                "registrations": server.open_registrations,
                "approval_required": false,
                "stats": stats,
                "thumbnail": format!("{base}/instance/thumbnail.jpeg"),
                "title": title,
                "upload_limit": 16000000,
                "uri": base,
                "urls": {"streaming_api": format!("wss://{domain}")},
                "version": compatible_version(ctx, "2.7.2", name),
                "pleroma": {"metadata": {"account_activation_required": false, "features": ["pleroma_api", "mastodon_api", "polls"], "federation": {"enabled": true}, "fields_limits": {"max_fields": 10}, "post_formats": ["text/plain", "text/html", "text/markdown"]}, "stats": {"mau": f.active_month}, "vapid_public_key": "BAnpmSeIwmgkLeLiyRmYIQzhy3zm2jeH3EnZ_iyVFMqsV1wbbDeAvXsCvh8mVs4uv6LmfMeHiq0h4Hqn2yROzSE"}
            });
            return json_ordered(&doc, KeyOrder::Sorted);
        }
        Software::Gotosocial => json!({
            "uri": domain,
            "account_domain": domain,
            "title": title,
            "description": description,
            "short_description": description,
            "email": format!("admin@{domain}"),
            "version": ctx.version_str(),
            "languages": ctx.languages(),
            "registrations": server.open_registrations,
            "approval_required": true,
            "invites_enabled": false,
            "configuration": configuration(false),
            "urls": {"streaming_api": format!("wss://{domain}")},
            "stats": stats,
            "thumbnail": format!("{base}/assets/logo.png"),
            "contact_account": contact_account(ctx),
            "max_toot_chars": 5000
        }),
        Software::Pixelfed => json!({
            "uri": domain,
            "title": title,
            "short_description": description,
            "description": description,
            "email": format!("admin@{domain}"),
            "version": compatible_version(ctx, "2.7.2", "Pixelfed"),
            "urls": {},
            "stats": stats,
            "thumbnail": format!("{base}/img/pixelfed-icon-color.png"),
            "languages": ctx.languages(),
            "registrations": server.open_registrations,
            "approval_required": false,
            "contact_account": contact_account(ctx),
            "rules": []
        }),
        Software::Friendica => json!({
            "uri": domain,
            "title": title,
            "description": description,
            "email": format!("admin@{domain}"),
            "version": compatible_version(ctx, "2.8.0", "Friendica"),
            "urls": {},
            "stats": stats,
            "thumbnail": format!("{base}/images/friendica-banner.jpg"),
            "languages": ctx.languages(),
            "max_toot_chars": 200000,
            "registrations": server.open_registrations,
            "approval_required": false,
            "contact_account": contact_account(ctx),
            "rules": []
        }),
        Software::Takahe => json!({
            "uri": domain,
            "title": title,
            "short_description": description,
            "description": description,
            "email": "",
            "version": format!("takahe/{}", ctx.version_str()),
            "urls": {},
            "stats": stats,
            "thumbnail": format!("{base}/static/img/fb-image.png"),
            "languages": ctx.languages(),
            "registrations": server.open_registrations,
            "approval_required": false,
            "invites_enabled": false,
            "configuration": configuration(false),
            "contact_account": Value::Null,
            "rules": []
        }),
        Software::Bookwyrm => json!({
            "uri": domain,
            "title": title,
            "short_description": description,
            "description": description,
            "version": ctx.version_str(),
            "stats": {"user_count": f.users, "status_count": f.local_posts},
            "thumbnail": format!("{base}/static/images/logo.png"),
            "languages": ctx.languages(),
            "registrations": server.open_registrations,
            "approval_required": false,
            "email": format!("admin@{domain}")
        }),
        _ => {
            let v = ctx.version();
            let mut doc = json!({
                "uri": domain,
                "title": title,
                "short_description": description,
                "description": "",
                "email": format!("admin@{domain}"),
                "version": ctx.version_str(),
                "urls": {"streaming_api": format!("wss://{domain}")},
                "stats": stats,
                "thumbnail": thumbnail,
                "languages": ctx.languages(),
                "registrations": server.open_registrations,
                "approval_required": false,
                "invites_enabled": true,
                "contact_account": contact_account(ctx)
            });
            if v >= (3, 4, 2) {
                doc["configuration"] = configuration(v >= (4, 0, 0));
            }
            if v >= (3, 4, 0) {
                doc["rules"] = rules();
            }
            doc
        }
    };
    json_ordered(&doc, KeyOrder::Ranked(V1_ORDER))
}

fn instance_v2(ctx: &Ctx<'_>) -> SimResponse {
    let server = ctx.server;
    let base = ctx.base();
    let domain = &server.domain;
    let title = ctx.title();
    let limited = ctx.quirk(Quirk::LimitedFederation);
    let active_month = if limited { 0 } else { ctx.figures.active_month };
    let v = version_triple(ctx.version_str());
    let mut configuration = configuration(true);
    configuration["urls"] = json!({"streaming": format!("wss://{domain}"), "status": Value::Null});
    configuration["translation"] = json!({"enabled": false});
    if limited || v >= (4, 4, 0) {
        configuration["limited_federation"] = json!(limited);
    }
    let doc = json!({
        "domain": domain,
        "title": title,
        "version": ctx.version_str(),
        "source_url": "https://github.com/mastodon/mastodon",
        "description": format!("{title} is a small corner of the fediverse."),
        "usage": {"users": {"active_month": active_month}},
        "thumbnail": {"url": format!("{base}/packs/media/images/preview.png")},
        "languages": ctx.languages(),
        "configuration": configuration,
        "registrations": {"enabled": server.open_registrations, "approval_required": false, "message": Value::Null},
        "contact": {"email": format!("admin@{domain}"), "account": contact_account(ctx)},
        "rules": rules()
    });
    json_ordered(&doc, KeyOrder::Ranked(V2_KEY_ORDER))
}

/// Takahē's `/api/v2/instance` (0.8.0 on), in the shape of the live fixture
/// `takahe-0.11.0/api_v2_instance.body`: `usage.users.active_month` is the count of every local
/// identity of the installation, not of monthly actives.
fn takahe_v2(ctx: &Ctx<'_>) -> SimResponse {
    let server = ctx.server;
    let doc = json!({
        "domain": server.domain,
        "title": ctx.title(),
        "version": format!("takahe/{}", ctx.version_str()),
        "source_url": "https://github.com/jointakahe/takahe",
        "description": "",
        "email": "",
        "urls": {},
        "usage": {"users": {"active_month": ctx.figures.users}},
        "thumbnail": {"url": "/static/img/fjords-banner-600.fa337a5055b6.jpg"},
        "languages": ctx.languages(),
        "configuration": {"urls": {}, "accounts": {"max_featured_tags": 0}, "statuses": {"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23}, "media_attachments": {"supported_mime_types": ["image/apng", "image/avif", "image/gif", "image/jpeg", "image/png", "image/webp"], "image_size_limit": 10485760, "image_matrix_limit": 4000000, "video_size_limit": 0, "video_frame_rate_limit": 60, "video_matrix_limit": 4000000}, "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2629746}, "translation": {"enabled": false}},
        "registrations": {"enabled": server.open_registrations, "approval_required": false, "message": Value::Null},
        "contact": {"email": "", "account": Value::Null},
        "rules": []
    });
    SimResponse::with_type(
        200,
        "application/json",
        to_json(&doc, KeyOrder::Ranked(TAKAHE_V2_ORDER)),
    )
}

/// Takahē's key order (Django's `JsonResponse` keeps the view's dict order).
const TAKAHE_V2_ORDER: &[&str] = &[
    "domain",
    "title",
    "version",
    "source_url",
    "description",
    "email",
    "urls",
    "usage",
    "thumbnail",
    "languages",
    "configuration",
    "registrations",
    "contact",
    "rules",
    "users",
    "active_month",
    "enabled",
    "approval_required",
    "message",
    "account",
];

/// Takahē's weekly activity (0.10.0 on; live fixture takahe-0.11.0/api_v1_instance_activity):
/// integer fields, `logins` always 0 ("TODO: Populate when we have identity activity tracking").
fn takahe_activity(ctx: &Ctx<'_>) -> SimResponse {
    let weeks: Vec<Value> = ctx
        .world
        .activity(ctx.server.id, ctx.now)
        .iter()
        .map(|w| {
            json!({
                "week": w.week,
                "statuses": w.statuses,
                "logins": 0,
                "registrations": w.registrations,
            })
        })
        .collect();
    SimResponse::with_type(
        200,
        "application/json",
        to_json(
            &Value::Array(weeks),
            KeyOrder::Ranked(&["week", "statuses", "logins", "registrations"]),
        ),
    )
}

/// Mitra's `/api/v1/instance` as 1.x served it (`src/mastodon_api/instance/types.rs` at v1.7.0:
/// `MASTODON_API_VERSION` "3.0.0", the struct's field order, the blockchain fields of its
/// Ethereum integration); from 2.x on its key set grew to the live fixture's
/// (`mitra-5.9.1/api_v1_instance.body`, "4.0.0 (compatible; Mitra 5.9.1)").
fn mitra_v1(ctx: &Ctx<'_>) -> SimResponse {
    let server = ctx.server;
    let f = ctx.figures;
    let title = ctx.title();
    let peers = ctx.world.peer_count(server.id, ctx.now) as u64;
    let mastodon = if ctx.version() >= (2, 0, 0) {
        "4.0.0"
    } else {
        "3.0.0"
    };
    let doc = json!({
        "uri": server.domain,
        "title": title,
        "short_description": "",
        "description": "",
        "description_html": "",
        "version": compatible_version(ctx, mastodon, "Mitra"),
        "registrations": server.open_registrations,
        "stats": {"user_count": f.users, "status_count": f.local_posts, "domain_count": peers},
        "login_message": "",
        "post_character_limit": 2000,
        "blockchains": [],
        "ipfs_gateway_url": Value::Null
    });
    SimResponse::json(to_json(&doc, KeyOrder::Ranked(MITRA_V1_ORDER)))
}

const MITRA_V1_ORDER: &[&str] = &[
    "uri",
    "title",
    "short_description",
    "description",
    "description_html",
    "version",
    "registrations",
    "stats",
    "user_count",
    "status_count",
    "domain_count",
    "login_message",
    "post_character_limit",
    "blockchains",
    "ipfs_gateway_url",
];

/// Mitra's `/api/v2/instance` (2.18.0 on; live fixture `mitra-5.9.1/api_v2_instance.body`,
/// shortened to the keys a census reads).
fn mitra_v2(ctx: &Ctx<'_>) -> SimResponse {
    let server = ctx.server;
    let doc = json!({
        "domain": server.domain,
        "title": ctx.title(),
        "description": "",
        "version": compatible_version(ctx, "4.0.0", "Mitra"),
        "source_url": "https://codeberg.org/silverpill/mitra",
        "usage": {"users": {"active_month": ctx.figures.active_month}},
        "registrations": {"enabled": server.open_registrations, "approval_required": false}
    });
    SimResponse::json(to_json(&doc, KeyOrder::Ranked(V2_KEY_ORDER)))
}

/// The key order of `/api/v2/instance` (Mastodon's serializer; Friendica copies it).
const V2_KEY_ORDER: &[&str] = &[
    "domain",
    "title",
    "version",
    "source_url",
    "description",
    "usage",
    "thumbnail",
    "languages",
    "configuration",
    "registrations",
    "contact",
    "rules",
];

/// Friendica's partial v2 (fixture friendica/api-v2-instance-loma.ml.json).
fn friendica_v2(ctx: &Ctx<'_>) -> SimResponse {
    let server = ctx.server;
    let base = ctx.base();
    let title = ctx.title();
    let doc = json!({
        "domain": server.domain,
        "title": title,
        "version": compatible_version(ctx, "2.8.0", "Friendica"),
        "source_url": Value::Null,
        "description": format!("{title} is a small corner of the fediverse."),
        "usage": {"users": {"active_month": ctx.figures.active_month}},
        "thumbnail": {"url": format!("{base}/images/friendica-banner.jpg")},
        "languages": ctx.languages(),
        "configuration": {"statuses": {"max_characters": 200000}, "media_attachments": {"supported_mime_types": {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif"}, "image_size_limit": 10485760}},
        "registrations": {"enabled": server.open_registrations, "approval_required": false},
        "contact": {"email": format!("admin@{}", server.domain), "account": contact_account(ctx)},
        "rules": []
    });
    json_ordered(&doc, KeyOrder::Ranked(V2_KEY_ORDER))
}
