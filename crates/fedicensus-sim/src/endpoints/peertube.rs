//! PeerTube's own API: `/api/v1/config` (a subset) and `/api/v1/server/stats`.
//!
//! PeerTube has no peer list; its counts are richer than NodeInfo's (daily, weekly and monthly
//! active users, videos rather than posts), which is why a census may read them.

use super::{json_ordered, nodeinfo, Ctx, KeyOrder, Kind};
use crate::response::SimResponse;
use serde_json::{json, Value};

pub(crate) fn route(ctx: &Ctx<'_>) -> Option<(Kind, SimResponse)> {
    if !ctx.is_get() {
        return None;
    }
    match ctx.req.path.as_str() {
        "/api/v1/config" => Some((Kind::Instance, config(ctx))),
        "/api/v1/server/stats" => Some((Kind::Api, stats(ctx))),
        _ => None,
    }
}

fn config(ctx: &Ctx<'_>) -> SimResponse {
    let server = ctx.server;
    let title = ctx.title();
    let doc = json!({
        "instance": {
            "name": title,
            "shortDescription": format!("{title} is a small corner of the fediverse."),
            "isNSFW": false,
            "defaultNSFWPolicy": "do_not_list",
            "defaultClientRoute": "/videos/trending",
            "customizations": {"javascript": "", "css": ""}
        },
        "search": {"remoteUri": {"users": true, "anonymous": false}, "searchIndex": {"enabled": false, "url": "", "disableLocalSearch": false, "isDefaultSearch": false}},
        "plugin": {"registered": [], "registeredExternalAuths": [], "registeredIdAndPassAuths": []},
        "theme": {"registered": [], "default": "default"},
        "email": {"enabled": false},
        "contactForm": {"enabled": true},
        "serverVersion": ctx.version_str(),
        "serverCommit": Value::Null,
        "signup": {"allowed": server.open_registrations, "allowedForCurrentIP": server.open_registrations, "requiresEmailVerification": false, "minimumAge": 16},
        "transcoding": {"hls": {"enabled": true}, "webtorrent": {"enabled": false}, "enabledResolutions": [480, 720, 1080]},
        "user": {"videoQuota": 5368709120u64, "videoQuotaDaily": -1},
        "trending": {"videos": {"intervalDays": 7}},
        "tracker": {"enabled": true},
        "followings": {"instance": {"autoFollowIndex": {"indexUrl": "https://instances.joinpeertube.org/api/v1/instances/hosts"}}},
        "federation": {"enabled": true}
    });
    json_ordered(
        &doc,
        KeyOrder::Ranked(&[
            "instance",
            "search",
            "plugin",
            "theme",
            "email",
            "contactForm",
            "serverVersion",
            "serverCommit",
            "signup",
        ]),
    )
}

fn stats(ctx: &Ctx<'_>) -> SimResponse {
    let f = ctx.figures;
    let comments = nodeinfo::local_comments(ctx);
    let doc = json!({
        "totalUsers": f.users,
        "totalDailyActiveUsers": f.active_month / 8,
        "totalWeeklyActiveUsers": f.active_month / 3,
        "totalMonthlyActiveUsers": f.active_month,
        "totalModerators": 1,
        "totalAdmins": 1,
        "totalLocalVideos": f.local_posts,
        "totalLocalVideoViews": f.local_posts.saturating_mul(37),
        "totalLocalVideoComments": comments,
        "totalLocalVideoFilesSize": f.local_posts.saturating_mul(250_000_000),
        "totalVideos": f.local_posts.saturating_mul(4),
        "totalVideoComments": comments.saturating_mul(3),
        "totalLocalVideoChannels": (f.users / 2).max(1),
        "totalLocalDailyActiveVideoChannels": f.active_month / 10,
        "totalLocalWeeklyActiveVideoChannels": f.active_month / 4,
        "totalLocalMonthlyActiveVideoChannels": f.active_month / 2,
        "totalLocalPlaylists": f.users / 3,
        "totalInstanceFollowers": 12,
        "totalInstanceFollowing": 9,
        "videosRedundancy": [],
        "totalActivityPubMessagesProcessed": 120_000,
        "totalActivityPubMessagesSuccesses": 119_000,
        "totalActivityPubMessagesErrors": 1_000,
        "activityPubMessagesProcessedPerSecond": 0.05,
        "totalActivityPubMessagesWaiting": 0
    });
    json_ordered(
        &doc,
        KeyOrder::Ranked(&[
            "totalUsers",
            "totalDailyActiveUsers",
            "totalWeeklyActiveUsers",
            "totalMonthlyActiveUsers",
        ]),
    )
}
