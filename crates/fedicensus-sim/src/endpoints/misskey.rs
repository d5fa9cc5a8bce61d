//! The Misskey family's own API: `POST /api/meta`, `POST /api/stats`, and the Mastodon-style
//! peer list Misskey also serves.
//!
//! Misskey's API is POST-only (a GET answers 405) and reports errors as a JSON object with an
//! `error` key whatever the status, which is how a crawler must recognise them.

use super::{json_ordered, json_status, Ctx, KeyOrder, Kind};
use crate::failure::Quirk;
use crate::response::SimResponse;
use fedicensus_core::Software;
use serde_json::{json, Value};

const UNKNOWN_ENDPOINT: &str = r#"{"error":{"message":"Unknown API endpoint.","code":"UNKNOWN_API_ENDPOINT","id":"2ca3b769-540a-4f08-9dd5-b5a825b6d0f1","kind":"client"}}"#;

const META_ORDER: &[&str] = &[
    "maintainerName",
    "maintainerEmail",
    "maintainer",
    "version",
    "name",
    "uri",
    "description",
    "langs",
    "tosUrl",
    "repositoryUrl",
    "feedbackUrl",
    "disableRegistration",
    "disableLocalTimeline",
    "disableGlobalTimeline",
    "emailRequiredForSignup",
    "notesCount",
    "originalNotesCount",
    "usersCount",
    "originalUsersCount",
    "reactionsCount",
    "instances",
    "driveUsageLocal",
    "driveUsageRemote",
];

pub(crate) fn route(ctx: &Ctx<'_>) -> Option<(Kind, SimResponse)> {
    let path = ctx.req.path.as_str();
    let post = ctx.req.method.eq_ignore_ascii_case("POST");
    match path {
        "/api/meta" | "/api/stats" if !post => {
            Some((Kind::Api, SimResponse::empty(405).header("allow", "POST")))
        }
        "/api/meta" => Some((Kind::Instance, meta(ctx))),
        "/api/stats" => Some((Kind::Api, stats(ctx))),
        "/api/v1/instance/peers" if ctx.is_get() => {
            if ctx.quirk(Quirk::LimitedFederation) {
                Some((
                    Kind::Api,
                    json_status(
                        401,
                        r#"{"error":"This method requires an authenticated user"}"#,
                    ),
                ))
            } else if ctx.quirk(Quirk::PeersDisabled) {
                Some((Kind::Api, SimResponse::empty(404)))
            } else {
                let peers = ctx.world.peers(ctx.server.id, ctx.now);
                Some((Kind::Api, json_ordered(&json!(peers), KeyOrder::Sorted)))
            }
        }
        p if p.starts_with("/api/") => Some((Kind::Api, json_status(404, UNKNOWN_ENDPOINT))),
        _ => None,
    }
}

fn meta(ctx: &Ctx<'_>) -> SimResponse {
    let server = ctx.server;
    let base = ctx.base();
    let title = ctx.title();
    let description = format!("{title} is a small corner of the fediverse.");
    let doc = if server.software == Software::Meisskey {
        // The v10 shape (fixture misskey/api-meta-misskey-v10.json).
        json!({
            "maintainer": {"name": "admin", "email": format!("admin@{}", server.domain)},
            "version": ctx.version_str(),
            "name": title,
            "uri": base,
            "description": description,
            "langs": ctx.languages(),
            "machine": "meisskey",
            "os": "linux",
            "node": "v16.16.0",
            "announcements": [],
            "disableRegistration": !server.open_registrations,
            "disableLocalTimeline": false,
            "enableEmojiReaction": true,
            "driveCapacityPerLocalUserMb": 1000,
            "driveCapacityPerRemoteUserMb": 128,
            "cacheRemoteFiles": false,
            "enableRecaptcha": false,
            "swPublickey": Value::Null,
            "bannerUrl": Value::Null,
            "iconUrl": Value::Null,
            "maxNoteTextLength": 5000,
            "emojis": [],
            "enableEmail": false,
            "enableTwitterIntegration": false,
            "enableGithubIntegration": false,
            "enableDiscordIntegration": false,
            "enableServiceWorker": true,
            "proxyAccountName": "ghost",
            "features": {"registration": server.open_registrations, "localTimeLine": true, "globalTimeLine": true, "elasticsearch": false, "recaptcha": false, "objectStorage": false, "twitter": false, "github": false, "discord": false, "serviceWorker": true}
        })
    } else {
        // The 13.x shape (fixture misskey/api-meta-misskey.io-13.12.2.json).
        let head = json!({
            "maintainerName": "admin",
            "maintainerEmail": format!("admin@{}", server.domain),
            "version": ctx.version_str(),
            "name": title,
            "uri": base,
            "description": description,
            "langs": ctx.languages(),
            "tosUrl": format!("{base}/about"),
            "repositoryUrl": "https://github.com/misskey-dev/misskey",
            "feedbackUrl": "https://github.com/misskey-dev/misskey/issues/new",
            "disableRegistration": !server.open_registrations,
            "emailRequiredForSignup": false,
            "enableHcaptcha": false,
            "hcaptchaSiteKey": Value::Null,
            "enableRecaptcha": false,
            "recaptchaSiteKey": Value::Null,
            "enableTurnstile": false,
            "turnstileSiteKey": Value::Null,
            "swPublickey": Value::Null,
            "themeColor": "#86b300"
        });
        let rest = json!({
            "mascotImageUrl": "/assets/ai.png",
            "bannerUrl": Value::Null,
            "errorImageUrl": "https://xn--931a.moe/aiart/yubitun.png",
            "iconUrl": Value::Null,
            "backgroundImageUrl": Value::Null,
            "logoImageUrl": Value::Null,
            "maxNoteTextLength": 3000,
            "defaultLightTheme": Value::Null,
            "defaultDarkTheme": Value::Null,
            "ads": [],
            "enableEmail": false,
            "enableServiceWorker": false,
            "translatorAvailable": false,
            "serverRules": [],
            "policies": {"gtlAvailable": true, "ltlAvailable": true, "canPublicNote": true, "canInvite": false, "canManageCustomEmojis": false, "canSearchNotes": false, "canHideAds": false, "driveCapacityMb": 100, "alwaysMarkNsfw": false, "pinLimit": 5, "antennaLimit": 5, "wordMuteLimit": 200, "webhookLimit": 3, "clipLimit": 10, "noteEachClipsLimit": 200, "userListLimit": 10, "userEachUserListsLimit": 50, "rateLimitFactor": 1},
            "mediaProxy": format!("{base}/proxy")
        });
        let mut doc = head;
        if let (Some(doc), Value::Object(rest)) = (doc.as_object_mut(), rest) {
            doc.extend(rest);
        }
        doc
    };
    json_ordered(&doc, KeyOrder::Ranked(META_ORDER))
}

fn stats(ctx: &Ctx<'_>) -> SimResponse {
    let f = ctx.figures;
    let instances = ctx.world.peer_count(ctx.server.id, ctx.now) as u64;
    let doc = json!({
        "notesCount": f.local_posts.saturating_add(instances.saturating_mul(40)),
        "originalNotesCount": f.local_posts,
        "usersCount": f.users.saturating_add(instances.saturating_mul(3)),
        "originalUsersCount": f.users,
        "reactionsCount": f.local_posts.saturating_mul(2),
        "instances": instances,
        "driveUsageLocal": 0,
        "driveUsageRemote": 0
    });
    json_ordered(&doc, KeyOrder::Ranked(META_ORDER))
}
