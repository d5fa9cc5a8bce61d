//! Lemmy's own API: `/api/v3/site` (the counts) and its federated instances, each in the shape
//! the running release served.
//!
//! Lemmy writes its API answers by serializing its own Rust types (`GetSiteResponse` and what it
//! holds, in the `lemmy_api_common`, `lemmy_db_views*` and `lemmy_db_schema` crates of each
//! release), so every field here is one of those types' fields, in their order, and a real client
//! of the same release reads it (the conformance suite, `tests/it/conformance.rs`, checks that;
//! `docs/LEMMY-VERSIONS.md` lists the differences by release):
//! - timestamps are chrono `NaiveDateTime`s up to 0.18 (no `Z`, microseconds), `DateTime<Utc>`
//!   from 0.19 (with `Z`);
//! - 0.15 has the site's settings in `site` with `creator_id` and a `creator` view; 0.16 moves
//!   the creator out and adds the site's actor (`actor_id`, `inbox_url`, keys); 0.17 splits the
//!   settings into `local_site` and `local_site_rate_limit`; 0.18 drops `online` (no more
//!   websocket) and omits every `null` (`skip_serializing_none`), and `person.inbox_url`;
//! - the peer list is part of the site answer up to 0.17, as domain strings (PROTOCOL.md §3),
//!   `/api/v3/federated_instances` with instance objects from 0.18, flattened with a
//!   `federation_state` in 0.19.

use super::{json_ordered, nodeinfo, Ctx, KeyOrder, Kind};
use crate::failure::Quirk;
use crate::response::SimResponse;
use serde_json::{json, Map, Value};

/// Keys in the order Lemmy's types declare them (the top level and `site_view` first); a key
/// shared by several types takes its first place, the rest follow alphabetically.
const SITE_ORDER: &[&str] = &[
    "site_view",
    "admins",
    "online",
    "version",
    "my_user",
    "federated_instances",
    "all_languages",
    "discussion_languages",
    "taglines",
    "custom_emojis",
    "site",
    "creator",
    "local_site",
    "local_site_rate_limit",
    "counts",
    "person",
    "id",
    "site_id",
    "person_id",
    "name",
    "display_name",
    "domain",
    "sidebar",
    "creator_id",
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
    "post_count",
    "post_score",
    "comment_count",
    "comment_score",
    "linked",
    "allowed",
    "blocked",
];

/// The eras of Lemmy's site answer: each release line has its own types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Era {
    V015,
    V016,
    V017,
    V018,
    V019,
}

fn era(ctx: &Ctx<'_>) -> Era {
    match ctx.version() {
        v if v < (0, 16, 0) => Era::V015,
        v if v < (0, 17, 0) => Era::V016,
        v if v < (0, 18, 0) => Era::V017,
        v if v < (0, 19, 0) => Era::V018,
        _ => Era::V019,
    }
}

pub(crate) fn route(ctx: &Ctx<'_>) -> Option<(Kind, SimResponse)> {
    if !ctx.is_get() {
        return None;
    }
    match ctx.req.path.as_str() {
        "/api/v3/site" => Some((Kind::Instance, site(ctx))),
        "/api/v3/federated_instances" if era(ctx) >= Era::V018 => {
            Some((Kind::Api, federated_instances(ctx)))
        }
        _ => None,
    }
}

/// The instant a row was created, as Lemmy writes it: PostgreSQL's microseconds, without a zone
/// up to 0.18 (`chrono::NaiveDateTime`), with `Z` from 0.19 (`DateTime<Utc>`). The microseconds
/// are the server's own (never a multiple of 1,000, so chrono writes all six digits back).
fn published(ctx: &Ctx<'_>) -> String {
    let h = ctx.trait_hash("lemmy-published");
    let micros = (h % 999 + 1) + 1000 * ((h / 999) % 1000);
    let zone = if era(ctx) >= Era::V019 { "Z" } else { "" };
    format!("{}T12:00:00.{micros:06}{zone}", ctx.server.born)
}

/// An object from `(key, value)` pairs; from 0.18 on, Lemmy's types skip every `None`
/// (`serde_with::skip_serializing_none`), so `null` values are left out.
fn object(ctx: &Ctx<'_>, fields: Vec<(&str, Value)>) -> Value {
    let skip_none = era(ctx) >= Era::V018;
    let map: Map<String, Value> = fields
        .into_iter()
        .filter(|(_, v)| !(skip_none && v.is_null()))
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Value::Object(map)
}

const PUBLIC_KEY: &str =
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n";

fn site(ctx: &Ctx<'_>) -> SimResponse {
    let era = era(ctx);
    let f = ctx.figures;
    let base = ctx.base();
    let title = ctx.title();
    let open = ctx.server.open_registrations;
    let null = Value::Null;
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

    // `Site`: its settings up to 0.16 (`lemmy_db_schema::source::site::Site`), only the site's
    // actor from 0.17 on, where the settings move to `LocalSite`.
    let mut site = vec![
        ("id", json!(1)),
        ("name", json!(title)),
        ("sidebar", json!(format!("Welcome to {title}."))),
    ];
    if era == Era::V015 {
        site.push(("creator_id", json!(2)));
    }
    site.extend([
        ("published", json!(published(ctx))),
        ("updated", null.clone()),
    ]);
    if era <= Era::V016 {
        site.extend([
            ("enable_downvotes", json!(true)),
            ("open_registration", json!(open)),
            ("enable_nsfw", json!(true)),
        ]);
    }
    site.extend([
        ("icon", null.clone()),
        ("banner", null.clone()),
        ("description", null.clone()),
    ]);
    if era <= Era::V016 {
        site.extend([
            ("community_creation_admin_only", json!(false)),
            ("require_email_verification", json!(false)),
            ("require_application", json!(false)),
            ("application_question", null.clone()),
            ("private_instance", json!(false)),
        ]);
    }
    if era >= Era::V016 {
        // `SiteView::read_local` blanks the private key before the answer is written.
        site.extend([
            ("actor_id", json!(format!("{base}/"))),
            ("last_refreshed_at", json!(published(ctx))),
            ("inbox_url", json!(format!("{base}/site_inbox"))),
            ("private_key", null.clone()),
            ("public_key", json!(PUBLIC_KEY)),
        ]);
    }
    if era == Era::V016 {
        site.extend([
            ("default_theme", json!("browser")),
            ("default_post_listing_type", json!("Local")),
            ("legal_information", null.clone()),
        ]);
    }
    if era >= Era::V017 {
        site.push(("instance_id", json!(1)));
    }
    let site = object(ctx, site);

    let admin = admin(ctx);
    let mut site_view = vec![("site", site)];
    if era == Era::V015 {
        site_view.push(("creator", admin["person"].clone()));
    }
    if era >= Era::V017 {
        site_view.push(("local_site", local_site(ctx)));
        site_view.push(("local_site_rate_limit", local_site_rate_limit(ctx)));
    }
    site_view.push(("counts", counts));
    let site_view = object(ctx, site_view);

    let mut doc = vec![("site_view", site_view), ("admins", json!([admin]))];
    if era <= Era::V017 {
        // Users connected to the websocket (`GetUsersOnline`); the websocket went in 0.18.
        doc.push(("online", json!(f.active_month / 40)));
    }
    doc.extend([
        ("version", json!(ctx.version_str())),
        ("my_user", null.clone()),
    ]);
    if era <= Era::V017 {
        // Up to 0.17 the peer list is part of the site answer, as plain domain strings.
        doc.push(("federated_instances", federated_domains(ctx)));
    }
    if era >= Era::V017 {
        doc.extend([
            ("all_languages", all_languages()),
            ("discussion_languages", discussion_languages(ctx)),
        ]);
        // 0.17 answers `null` for no taglines (`Option<Vec<Tagline>>`, `then_some`), 0.18 `[]`.
        doc.push((
            "taglines",
            if era == Era::V017 {
                null.clone()
            } else {
                json!([])
            },
        ));
    }
    if era >= Era::V018 {
        doc.push(("custom_emojis", json!([])));
    }
    // The envelope (`GetSiteResponse`) keeps its `null`s in every release: `my_user` stays.
    let doc = Value::Object(doc.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
    json_ordered(&doc, KeyOrder::Ranked(SITE_ORDER))
}

/// One admin, as `PersonViewSafe` (up to 0.17) or `PersonView` (0.18 on) writes it.
fn admin(ctx: &Ctx<'_>) -> Value {
    let era = era(ctx);
    let base = ctx.base();
    let null = Value::Null;
    let mut person = vec![
        ("id", json!(2)),
        ("name", json!("admin")),
        ("display_name", null.clone()),
        ("avatar", null.clone()),
        ("banned", json!(false)),
        ("published", json!(published(ctx))),
        ("updated", null.clone()),
        ("actor_id", json!(format!("{base}/u/admin"))),
        ("bio", null.clone()),
        ("local", json!(true)),
        ("banner", null.clone()),
        ("deleted", json!(false)),
    ];
    if era <= Era::V017 {
        // `PersonSafe` carries the inboxes; 0.18's `Person` never writes them (`skip` from
        // 0.18.1; 0.18.0 had `skip_serializing` on `inbox_url`, so its own type could not read
        // its answers back: 0.18.1 added `placeholder_apub_url` for lemmy-stats-crawler).
        person.extend([
            ("inbox_url", json!(format!("{base}/u/admin/inbox"))),
            ("shared_inbox_url", json!(format!("{base}/inbox"))),
        ]);
    }
    person.extend([
        ("matrix_user_id", null.clone()),
        ("admin", json!(true)),
        ("bot_account", json!(false)),
        ("ban_expires", null),
    ]);
    if era >= Era::V017 {
        person.push(("instance_id", json!(1)));
    }
    let counts = json!({
        "id": 1, "person_id": 2, "post_count": 10, "post_score": 42, "comment_count": 40,
        "comment_score": 97
    });
    json!({"person": object(ctx, person), "counts": counts})
}

/// `LocalSite` (0.17 on): the settings that were `Site`'s.
fn local_site(ctx: &Ctx<'_>) -> Value {
    let era = era(ctx);
    let null = Value::Null;
    // `RegistrationMode` is `rename_all = "lowercase"` in 0.17, its variant names from 0.18.
    let registration = match (ctx.server.open_registrations, era) {
        (true, Era::V017) => "open",
        (false, Era::V017) => "closed",
        (true, _) => "Open",
        (false, _) => "Closed",
    };
    let mut fields = vec![
        ("id", json!(1)),
        ("site_id", json!(1)),
        ("site_setup", json!(true)),
        ("enable_downvotes", json!(true)),
        ("enable_nsfw", json!(true)),
        ("community_creation_admin_only", json!(false)),
        ("require_email_verification", json!(false)),
        ("application_question", null.clone()),
        ("private_instance", json!(false)),
        ("default_theme", json!("browser")),
        ("default_post_listing_type", json!("Local")),
        ("legal_information", null.clone()),
        ("hide_modlog_mod_names", json!(true)),
        ("application_email_admins", json!(false)),
        ("slur_filter_regex", null.clone()),
        ("actor_name_max_length", json!(20)),
        ("federation_enabled", json!(true)),
    ];
    if era == Era::V017 {
        fields.push(("federation_debug", json!(false)));
    }
    if era == Era::V017 || ctx.version() < (0, 18, 1) {
        // Dropped in 0.18.1 (LemmyNet/lemmy 0.18.0..0.18.1, `source/local_site.rs`).
        fields.push(("federation_worker_count", json!(64)));
    }
    fields.extend([
        ("captcha_enabled", json!(false)),
        ("captcha_difficulty", json!("medium")),
        ("registration_mode", json!(registration)),
    ]);
    if ctx.version() >= (0, 17, 2) {
        // Added in 0.17.2 (LemmyNet/lemmy 0.17.1..0.17.2, `source/local_site.rs`).
        fields.push(("reports_email_admins", json!(false)));
    }
    fields.extend([("published", json!(published(ctx))), ("updated", null)]);
    object(ctx, fields)
}

/// `LocalSiteRateLimit` (0.17 on), with Lemmy's default limits.
fn local_site_rate_limit(ctx: &Ctx<'_>) -> Value {
    object(
        ctx,
        vec![
            ("id", json!(1)),
            ("local_site_id", json!(1)),
            ("message", json!(180)),
            ("message_per_second", json!(60)),
            ("post", json!(6)),
            ("post_per_second", json!(600)),
            ("register", json!(3)),
            ("register_per_second", json!(3600)),
            ("image", json!(6)),
            ("image_per_second", json!(3600)),
            ("comment", json!(6)),
            ("comment_per_second", json!(600)),
            ("search", json!(60)),
            ("search_per_second", json!(600)),
            ("published", json!(published(ctx))),
            ("updated", Value::Null),
        ],
    )
}

/// Whether the server keeps its peers to itself (federation closed to the public): Lemmy then
/// answers `federated_instances: null`.
fn hides_peers(ctx: &Ctx<'_>) -> bool {
    ctx.quirk(Quirk::PeersDisabled) || ctx.quirk(Quirk::LimitedFederation)
}

/// The site answer's `federated_instances` up to 0.17 (`FederatedInstances` of strings): `linked`
/// always, `allowed` and `blocked` `null` when not configured (0.16: the config file's
/// `Option`s; 0.17: empty lists turned into `None`).
fn federated_domains(ctx: &Ctx<'_>) -> Value {
    if hides_peers(ctx) {
        return Value::Null;
    }
    let linked = ctx.world.peers(ctx.server.id, ctx.now);
    let blocked: Vec<String> = crate::blocks::active(ctx.world, ctx.server, ctx.now)
        .into_iter()
        .map(|b| b.target)
        .collect();
    let blocked = if blocked.is_empty() {
        Value::Null
    } else {
        json!(blocked)
    };
    json!({"linked": linked, "allowed": Value::Null, "blocked": blocked})
}

fn federated_instances(ctx: &Ctx<'_>) -> SimResponse {
    if hides_peers(ctx) {
        // 0.18's `GetFederatedInstancesResponse` skips a `None` (an empty object); 0.19 keeps it.
        let doc = if era(ctx) == Era::V018 {
            json!({})
        } else {
            json!({ "federated_instances": null })
        };
        return json_ordered(&doc, KeyOrder::Sorted);
    }
    let flattened = era(ctx) >= Era::V019;
    let linked: Vec<Value> = ctx
        .world
        .peers(ctx.server.id, ctx.now)
        .iter()
        .enumerate()
        .map(|(i, domain)| {
            let id = i + 2;
            let (software, version) = match ctx.world.lookup(domain) {
                Some(peer) => (
                    json!(peer.software.as_str()),
                    json!(ctx.world.version_at(peer.id, ctx.now)),
                ),
                None => (Value::Null, Value::Null),
            };
            let mut instance = object(
                ctx,
                vec![
                    ("id", json!(id)),
                    ("domain", json!(domain)),
                    ("published", json!(published(ctx))),
                    ("updated", Value::Null),
                    ("software", software),
                    ("version", version),
                ],
            );
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
    // Blocked instances as Lemmy lists them: the same `Instance` objects, ids after the linked.
    let blocked: Vec<Value> = crate::blocks::active(ctx.world, ctx.server, ctx.now)
        .iter()
        .enumerate()
        .map(|(i, block)| {
            object(
                ctx,
                vec![
                    ("id", json!(linked.len() + i + 2)),
                    ("domain", json!(block.target)),
                    ("published", json!(published(ctx))),
                    ("updated", Value::Null),
                    ("software", Value::Null),
                    ("version", Value::Null),
                ],
            )
        })
        .collect();
    let doc = json!({"federated_instances": {"linked": linked, "allowed": [], "blocked": blocked}});
    json_ordered(&doc, KeyOrder::Ranked(SITE_ORDER))
}

/// A few rows of Lemmy's language table (the real one has about 180; `und` is 0 and English 37
/// there, the other ids here are the simulator's own).
const LANGUAGES: &[(u64, &str, &str)] = &[
    (0, "und", "Undetermined"),
    (37, "en", "English"),
    (39, "de", "Deutsch"),
    (48, "fr", "Français"),
    (70, "ja", "日本語"),
];

fn all_languages() -> serde_json::Value {
    serde_json::Value::Array(
        LANGUAGES
            .iter()
            .map(|(id, code, name)| json!({"id": id, "code": code, "name": name}))
            .collect(),
    )
}

/// The site's discussion languages: the ones it declares, or, as Lemmy's default, every
/// language it knows (which declares nothing).
fn discussion_languages(ctx: &Ctx<'_>) -> serde_json::Value {
    let declared = crate::languages::declared(ctx.world, ctx.server, ctx.now);
    let ids: Vec<u64> = if declared.is_empty() {
        LANGUAGES.iter().map(|(id, _, _)| *id).collect()
    } else {
        declared
            .iter()
            .filter_map(|code| {
                LANGUAGES
                    .iter()
                    .find(|(_, c, _)| c == code)
                    .map(|(id, _, _)| *id)
            })
            .collect()
    };
    json!(ids)
}
