//! Lemmy's own API: `/api/v3/site` (the counts) and its federated instances.
//!
//! Lemmy has no Mastodon peers endpoint; where its peer list lives changed with versions
//! (PROTOCOL.md §3): inside the site response up to 0.17, `/api/v3/federated_instances` with
//! instance objects in 0.18, flattened with a `federation_state` in 0.19.

use super::{json_ordered, nodeinfo, Ctx, KeyOrder, Kind};
use crate::failure::Quirk;
use crate::response::SimResponse;
use serde_json::{json, Value};

const SITE_ORDER: &[&str] = &[
    "site_view",
    "site",
    "local_site",
    "local_site_rate_limit",
    "counts",
    "admins",
    "version",
    "id",
    "name",
    "domain",
    "published",
    "updated",
    "software",
    "users",
    "posts",
    "comments",
    "communities",
    "users_active_day",
    "users_active_week",
    "users_active_month",
    "users_active_half_year",
    "linked",
    "allowed",
    "blocked",
];

pub(crate) fn route(ctx: &Ctx<'_>) -> Option<(Kind, SimResponse)> {
    if !ctx.is_get() {
        return None;
    }
    match ctx.req.path.as_str() {
        "/api/v3/site" => Some((Kind::Instance, site(ctx))),
        "/api/v3/federated_instances" if ctx.version() >= (0, 18, 0) => {
            Some((Kind::Api, federated_instances(ctx)))
        }
        _ => None,
    }
}

fn published(ctx: &Ctx<'_>) -> String {
    format!("{}T12:00:00.000000Z", ctx.server.born)
}

fn site(ctx: &Ctx<'_>) -> SimResponse {
    let server = ctx.server;
    let f = ctx.figures;
    let base = ctx.base();
    let v = ctx.version();
    let title = ctx.title();
    let comments = nodeinfo::local_comments(ctx);
    let counts = json!({
        "id": 1,
        "site_id": 1,
        "users": f.users,
        "posts": f.local_posts,
        "comments": comments,
        "communities": (f.local_posts / 200).max(1),
        "users_active_day": f.active_month / 8,
        "users_active_week": f.active_month / 3,
        "users_active_month": f.active_month,
        "users_active_half_year": f.active_halfyear
    });
    let site = json!({
        "id": 1,
        "name": title,
        "sidebar": format!("Welcome to {title}."),
        "published": published(ctx),
        "updated": Value::Null,
        "icon": Value::Null,
        "banner": Value::Null,
        "description": Value::Null,
        "actor_id": format!("{base}/"),
        "last_refreshed_at": published(ctx),
        "inbox_url": format!("{base}/site_inbox"),
        "public_key": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n",
        "instance_id": 1
    });
    let mut site_view = json!({"site": site, "counts": counts});
    if v >= (0, 17, 0) {
        site_view["local_site"] = json!({
            "id": 1,
            "site_id": 1,
            "site_setup": true,
            "enable_downvotes": true,
            "enable_nsfw": true,
            "community_creation_admin_only": false,
            "require_email_verification": false,
            "application_question": Value::Null,
            "private_instance": false,
            "default_theme": "browser",
            "default_post_listing_type": "Local",
            "legal_information": Value::Null,
            "hide_modlog_mod_names": true,
            "application_email_admins": false,
            "actor_name_max_length": 20,
            "federation_enabled": true,
            "captcha_enabled": false,
            "captcha_difficulty": "medium",
            "published": published(ctx),
            "registration_mode": if server.open_registrations { "Open" } else { "Closed" },
            "reports_email_admins": false
        });
        site_view["local_site_rate_limit"] = json!({
            "id": 1, "local_site_id": 1, "message": 180, "message_per_second": 60, "post": 6,
            "post_per_second": 600, "register": 10, "register_per_second": 3600, "image": 6,
            "image_per_second": 3600, "comment": 6, "comment_per_second": 600, "search": 60,
            "search_per_second": 600
        });
    }
    let mut doc = json!({
        "site_view": site_view,
        "admins": [{
            "person": {"id": 2, "name": "admin", "banned": false, "published": published(ctx), "actor_id": format!("{base}/u/admin"), "local": true, "deleted": false, "admin": true, "bot_account": false, "instance_id": 1},
            "counts": {"id": 1, "person_id": 2, "post_count": 10, "comment_count": 40}
        }],
        "version": ctx.version_str(),
        "all_languages": [{"id": 0, "code": "und", "name": "Undetermined"}, {"id": 37, "code": "en", "name": "English"}],
        "discussion_languages": [],
        "taglines": [],
        "custom_emojis": []
    });
    if v < (0, 18, 0) {
        // Up to 0.17 the peer list is part of the site response, as plain domain strings.
        doc["federated_instances"] = if hides_peers(ctx) {
            Value::Null
        } else {
            let linked = ctx.world.peers(server.id, ctx.now);
            json!({"linked": linked, "allowed": Value::Null, "blocked": Value::Null})
        };
    }
    json_ordered(&doc, KeyOrder::Ranked(SITE_ORDER))
}

/// Whether the server keeps its peers to itself (federation closed to the public): Lemmy then
/// answers `federated_instances: null`.
fn hides_peers(ctx: &Ctx<'_>) -> bool {
    ctx.quirk(Quirk::PeersDisabled) || ctx.quirk(Quirk::LimitedFederation)
}

fn federated_instances(ctx: &Ctx<'_>) -> SimResponse {
    if hides_peers(ctx) {
        return json_ordered(&json!({ "federated_instances": null }), KeyOrder::Sorted);
    }
    let flattened = ctx.version() >= (0, 19, 0);
    let linked: Vec<Value> = ctx
        .world
        .peers(ctx.server.id, ctx.now)
        .iter()
        .enumerate()
        .map(|(i, domain)| {
            let id = i + 2;
            let mut instance = json!({
                "id": id,
                "domain": domain,
                "published": published(ctx),
                "updated": Value::Null
            });
            if let Some(peer) = ctx.world.lookup(domain) {
                instance["software"] = json!(peer.software.as_str());
                instance["version"] = json!(ctx.world.version_at(peer.id, ctx.now));
            }
            if flattened {
                instance["federation_state"] = json!({
                    "instance_id": id,
                    "last_successful_id": 1000 + i,
                    "last_successful_published_time": published(ctx),
                    "fail_count": 0,
                    "last_retry": Value::Null,
                    "next_retry": Value::Null
                });
            }
            instance
        })
        .collect();
    let doc = json!({"federated_instances": {"linked": linked, "allowed": [], "blocked": []}});
    json_ordered(&doc, KeyOrder::Ranked(SITE_ORDER))
}
