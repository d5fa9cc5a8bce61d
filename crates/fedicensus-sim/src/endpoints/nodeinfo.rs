//! NodeInfo: the well-known pointer, the documents at the paths each software really uses, and
//! the older or parallel documents some software still serves (NodeInfo2, `/statistics.json`,
//! Friendica's `statusnet/config.json`).
//!
//! The documents are what real software emits, including what real software always gets wrong
//! (Misskey's `null` active counts, Lemmy 0.18 without `services` and `metadata`, GoToSocial's
//! bare `total`, old Pixelfed's string numbers, BookWyrm's `http://` pointer): a crawler that only
//! parses the schema's ideal would fail on the real fediverse. Server quirks then bend the
//! documents further ([`apply_quirks`]).

use super::{failures, html, json_status, to_json, version_triple, Ctx, KeyOrder, Kind};
use crate::failure::{Failure, Quirk};
use crate::response::SimResponse;
use crate::world::{Server, World};
use fedicensus_core::Software;
use serde_json::{json, Map, Value};

/// The NodeInfo schema versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeInfoVersion {
    V1_0,
    V1_1,
    V2_0,
    V2_1,
    V2_2,
}

impl NodeInfoVersion {
    /// `"2.1"` and so on.
    pub fn as_str(&self) -> &'static str {
        match self {
            NodeInfoVersion::V1_0 => "1.0",
            NodeInfoVersion::V1_1 => "1.1",
            NodeInfoVersion::V2_0 => "2.0",
            NodeInfoVersion::V2_1 => "2.1",
            NodeInfoVersion::V2_2 => "2.2",
        }
    }

    /// The exact `rel` of this version's link in `/.well-known/nodeinfo`.
    pub fn rel(&self) -> String {
        format!(
            "http://nodeinfo.diaspora.software/ns/schema/{}",
            self.as_str()
        )
    }

    /// The `Content-Type` a conforming server sends this version with.
    pub fn content_type(&self) -> String {
        format!(
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{}#\"",
            self.as_str()
        )
    }

    fn is_1x(&self) -> bool {
        matches!(self, NodeInfoVersion::V1_0 | NodeInfoVersion::V1_1)
    }
}

/// One NodeInfo document a server serves: its version and its path on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Served {
    pub version: NodeInfoVersion,
    pub path: String,
}

/// Share (percent) of diaspora pods that still serve NodeInfo 1.0 only.
const DIASPORA_1_0_ONLY_PERCENT: u64 = 30;
/// Share (percent) of servers serving 2.1 that also offer the rarely deployed 2.2.
const NODEINFO_2_2_PERCENT: u64 = 4;
/// Share (percent) of `RedirectOtherHost` servers whose well-known href itself names the other
/// host (the rest redirect the NodeInfo document).
const HREF_OTHER_HOST_PERCENT: u64 = 50;

/// The key order NodeInfo serializers write (spec order), with the link keys of Mastodon's JRD.
const SPEC_ORDER: &[&str] = &[
    // `name` before `version` puts `software.name` first; no top-level key is called `name`.
    "name",
    "version",
    "instance",
    "software",
    "repository",
    "homepage",
    "protocols",
    "services",
    "inbound",
    "outbound",
    "openRegistrations",
    "usage",
    "users",
    "total",
    "activeHalfyear",
    "activeMonth",
    "activeWeek",
    "localPosts",
    "localComments",
    "metadata",
    "links",
    "rel",
    "type",
    "href",
];

/// Mastodon's serializer order: `outbound` before `inbound`, `activeMonth` before
/// `activeHalfyear`, `usage` before `openRegistrations` (fixture mastodon.social 4.3.0).
const MASTODON_ORDER: &[&str] = &[
    "name",
    "version",
    "software",
    "protocols",
    "services",
    "outbound",
    "inbound",
    "usage",
    "users",
    "total",
    "activeMonth",
    "activeHalfyear",
    "localPosts",
    "openRegistrations",
    "metadata",
    "nodeName",
    "nodeDescription",
    "links",
    "rel",
    "href",
];

/// Pleroma/Akkoma write `href` before `rel` in their JRD.
const HREF_FIRST_ORDER: &[&str] = &["links", "href", "rel"];

fn key_order(software: &Software) -> KeyOrder {
    match software {
        Software::Mastodon => KeyOrder::Ranked(MASTODON_ORDER),
        // Pixelfed and Firefish really write their keys sorted (fixtures).
        Software::Pixelfed | Software::Firefish => KeyOrder::Sorted,
        Software::Pleroma | Software::Akkoma => KeyOrder::Sorted,
        _ => KeyOrder::Ranked(SPEC_ORDER),
    }
}

/// The NodeInfo documents `server` serves, in the order its well-known lists them.
pub(crate) fn served(world: &World, server: &Server) -> Vec<Served> {
    use NodeInfoVersion::*;
    let v = version_triple(&server.version);
    let at = |version: NodeInfoVersion, path: &str| Served {
        version,
        path: path.to_string(),
    };
    let mut out = match &server.software {
        Software::Mastodon => vec![at(V2_0, "/nodeinfo/2.0")],
        Software::Pleroma | Software::Akkoma => vec![
            at(V2_0, "/nodeinfo/2.0.json"),
            at(V2_1, "/nodeinfo/2.1.json"),
        ],
        s if s.is_misskey_family() => vec![at(V2_1, "/nodeinfo/2.1"), at(V2_0, "/nodeinfo/2.0")],
        Software::Lemmy if v >= (0, 19, 4) => vec![at(V2_1, "/nodeinfo/2.1")],
        Software::Lemmy => vec![at(V2_0, "/nodeinfo/2.0.json")],
        Software::Peertube => vec![at(V2_0, "/nodeinfo/2.0.json")],
        Software::Pixelfed => vec![at(V2_0, "/api/nodeinfo/2.0.json")],
        Software::Gotosocial => vec![at(V2_0, "/nodeinfo/2.0"), at(V2_1, "/nodeinfo/2.1")],
        Software::Friendica => vec![at(V1_0, "/nodeinfo/1.0"), at(V2_0, "/nodeinfo/2.0")],
        Software::Diaspora => {
            if super::trait_hash(world.config().seed, &server.domain, "diaspora-1.0-only") % 100
                < DIASPORA_1_0_ONLY_PERCENT
            {
                vec![at(V1_0, "/nodeinfo/1.0")]
            } else {
                vec![at(V1_0, "/nodeinfo/1.0"), at(V2_0, "/nodeinfo/2.0")]
            }
        }
        Software::Hubzilla => vec![at(V2_0, "/nodeinfo/2.0")],
        Software::Wordpress => vec![at(V2_0, "/wp-json/activitypub/1.0/nodeinfo")],
        Software::Writefreely => vec![at(V2_0, "/api/nodeinfo")],
        Software::Bookwyrm => vec![at(V2_0, "/nodeinfo/2.0")],
        Software::Funkwhale => vec![at(V2_0, "/api/v1/instance/nodeinfo/2.0")],
        Software::Mobilizon => vec![
            at(V2_0, "/.well-known/nodeinfo/2.0"),
            at(V2_1, "/.well-known/nodeinfo/2.1"),
        ],
        Software::Kbin | Software::Mbin => {
            vec![at(V2_0, "/nodeinfo/2.0"), at(V2_1, "/nodeinfo/2.1")]
        }
        Software::Takahe => vec![at(V2_0, "/nodeinfo/2.0/")],
        _ => vec![at(V2_0, "/nodeinfo/2.0"), at(V2_1, "/nodeinfo/2.1")],
    };
    let offers_2_2 = super::trait_hash(world.config().seed, &server.domain, "nodeinfo-2.2") % 100
        < NODEINFO_2_2_PERCENT;
    if offers_2_2 {
        if let Some(pos) = out.iter().position(|s| s.version == V2_1) {
            let path = out[pos].path.replace("2.1", "2.2");
            out.insert(0, at(V2_2, &path));
        }
    }
    out
}

/// The absolute URL of the highest NodeInfo version `server` serves.
pub(crate) fn best_document_url(world: &World, server: &Server) -> Option<String> {
    let best = served(world, server)
        .into_iter()
        .max_by_key(|s| s.version)?;
    Some(href_for(server, &best.path))
}

fn href_for(server: &Server, path: &str) -> String {
    // BookWyrm's pointer hard-codes plain http (bookwyrm/views/wellknown.py).
    let scheme = if server.software == Software::Bookwyrm {
        "http"
    } else {
        "https"
    };
    format!("{scheme}://{}{}", server.domain, path)
}

/// Answers the NodeInfo family of paths; `None` for any other path.
pub(crate) fn route(ctx: &Ctx<'_>) -> Option<(Kind, SimResponse)> {
    if !ctx.is_get() {
        return None;
    }
    let path = ctx.req.path.as_str();
    if path == "/.well-known/nodeinfo" {
        if let Some(refusal) = refuse_accept(ctx) {
            return Some((Kind::WellKnown, refusal));
        }
        return Some((Kind::WellKnown, well_known(ctx)));
    }
    let documents = served(ctx.world, ctx.server);
    if let Some(doc) = documents.iter().find(|s| s.path == path) {
        if let Some(refusal) = refuse_accept(ctx) {
            return Some((Kind::NodeInfo, refusal));
        }
        let value = document(ctx, doc.version);
        let body = to_json(&value, key_order(&ctx.server.software));
        // Its caching headers are the software's (`super::caching`).
        let response = SimResponse::with_type(200, &doc.version.content_type(), body);
        return Some((Kind::NodeInfo, response));
    }
    if ctx.server.software == Software::Lemmy
        && ctx.version() >= (0, 19, 4)
        && matches!(
            path,
            "/nodeinfo/2.0.json" | "/nodeinfo/2.1.json" | "/version"
        )
    {
        // actix `web::redirect` answers 307 with the relative target (LemmyNet/lemmy
        // crates/routes/src/nodeinfo.rs).
        return Some((Kind::NodeInfo, SimResponse::redirect(307, "/nodeinfo/2.1")));
    }
    match (path, &ctx.server.software) {
        ("/.well-known/x-nodeinfo2", Software::Friendica | Software::Hubzilla) => {
            Some((Kind::NodeInfo, nodeinfo2(ctx)))
        }
        ("/statistics.json", Software::Friendica | Software::Diaspora) => {
            Some((Kind::Api, statistics(ctx)))
        }
        (
            "/api/statusnet/config.json" | "/api/statusnet/config" | "/api/gnusocial/config",
            Software::Friendica,
        ) => Some((Kind::Api, statusnet_config(ctx))),
        _ => None,
    }
}

/// Pleroma/Akkoma and GoToSocial refuse a request whose `Accept` allows no plain JSON (a crawler
/// asking for `application/activity+json` only gets 406).
pub(crate) fn refuse_accept(ctx: &Ctx<'_>) -> Option<SimResponse> {
    let software = &ctx.server.software;
    if !matches!(
        software,
        Software::Pleroma | Software::Akkoma | Software::Gotosocial
    ) {
        return None;
    }
    let accept = ctx.req.accept.as_deref()?.to_ascii_lowercase();
    if accept.trim().is_empty()
        || accept.contains("application/json")
        || accept.contains("*/*")
        || accept.contains("application/*")
    {
        return None;
    }
    Some(match software {
        Software::Gotosocial => json_status(
            406,
            r#"{"error":"Not Acceptable: this endpoint only serves application/json, but the request's Accept header did not allow it"}"#,
        ),
        _ => html(406, "Not Acceptable"),
    })
}

/// `/.well-known/nodeinfo`: the JRD pointing at the documents, with the server's quirks.
fn well_known(ctx: &Ctx<'_>) -> SimResponse {
    let server = ctx.server;
    let mut links: Vec<(String, String)> = served(ctx.world, server)
        .iter()
        .map(|s| (s.version.rel(), href_for(server, &s.path)))
        .collect();
    if server.failure == Some(Failure::RedirectOtherHost)
        && ctx.has_trait("href-other-host", HREF_OTHER_HOST_PERCENT)
    {
        if let Some(target) = failures::target(ctx) {
            if let Some(best) = served(ctx.world, target)
                .into_iter()
                .max_by_key(|s| s.version)
            {
                links = vec![(best.version.rel(), href_for(target, &best.path))];
            }
        }
    }
    if let Some(main) = server.sibling_of {
        // A second domain of a Takahē installation links to the main domain over https, the
        // same path (live fixture takahe-0.11.0/second-domain/takahe2.probe.example.com.wellknown.json).
        let main = ctx.world.server(main);
        links = served(ctx.world, server)
            .iter()
            .map(|s| (s.version.rel(), href_for(main, &s.path)))
            .collect();
    }
    let mut extra = Vec::new();
    let v = ctx.version();
    let as_app = "https://www.w3.org/ns/activitystreams#Application".to_string();
    match server.software {
        Software::Mastodon if v >= (4, 3, 0) => {
            extra.push((as_app, format!("{}/actor", ctx.base())));
        }
        Software::Peertube if v >= (6, 0, 0) => {
            extra.push((as_app, format!("{}/accounts/peertube", ctx.base())));
        }
        _ => {}
    }

    let relative = ctx.quirk(Quirk::WellKnownRelativeHref);
    let schemeless = ctx.quirk(Quirk::WellKnownSchemeless);
    let link = |rel: &str, href: &str, nodeinfo: bool| -> Value {
        let href = if relative && nodeinfo {
            strip_origin(href)
        } else if schemeless && nodeinfo {
            href.split_once("://")
                .map(|(_, rest)| rest.to_string())
                .unwrap_or_else(|| href.to_string())
        } else {
            href.to_string()
        };
        if schemeless && nodeinfo {
            json!({"rel": "self", "type": rel, "href": href})
        } else {
            json!({"rel": rel, "href": href})
        }
    };
    let nodeinfo_links: Vec<Value> = links.iter().map(|(r, h)| link(r, h, true)).collect();
    let doc = if ctx.quirk(Quirk::WellKnownZeroKey) {
        // Old Hubzilla: the lowest version as `links`, the next under a stray "0" key.
        let mut sorted = nodeinfo_links.clone();
        sorted.reverse();
        let first = sorted.first().cloned().unwrap_or(Value::Null);
        let second = sorted.get(1).cloned().unwrap_or_else(|| first.clone());
        json!({"links": first, "0": second})
    } else if ctx.quirk(Quirk::WellKnownLinksObject) {
        let best = best_link(&links)
            .map(|(r, h)| link(r, h, true))
            .unwrap_or(Value::Null);
        json!({ "links": best })
    } else {
        let mut all = nodeinfo_links;
        all.extend(extra.iter().map(|(r, h)| link(r, h, false)));
        json!({ "links": all })
    };
    let order = match server.software {
        Software::Pleroma | Software::Akkoma => KeyOrder::Ranked(HREF_FIRST_ORDER),
        _ => KeyOrder::Ranked(SPEC_ORDER),
    };
    SimResponse::json(to_json(&doc, order))
}

fn best_link(links: &[(String, String)]) -> Option<&(String, String)> {
    links.iter().max_by(|a, b| a.0.cmp(&b.0))
}

fn strip_origin(href: &str) -> String {
    match href.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(i) => rest[i..].to_string(),
            None => "/".into(),
        },
        None => href.to_string(),
    }
}

/// A number field of a document.
fn n(x: u64) -> Value {
    Value::from(x)
}

/// Comments made by local users: not a world figure, so derived from posts, per software.
pub(crate) fn local_comments(ctx: &Ctx<'_>) -> u64 {
    let posts = ctx.figures.local_posts;
    match ctx.server.software {
        Software::Lemmy | Software::Kbin | Software::Mbin => posts.saturating_mul(8),
        Software::Diaspora | Software::Friendica | Software::Hubzilla => posts / 2,
        Software::Peertube => posts / 20,
        Software::Wordpress => posts.saturating_mul(3),
        _ => posts / 4,
    }
}

/// The document of `version` the server serves, quirks applied.
pub(crate) fn document(ctx: &Ctx<'_>, version: NodeInfoVersion) -> Value {
    let mut doc = base_document(ctx, version);
    apply_quirks(ctx, &mut doc);
    doc
}

fn software_repo(software: &Software) -> Option<(&'static str, Option<&'static str>)> {
    Some(match software {
        Software::Pleroma => ("https://git.pleroma.social/pleroma/pleroma", None),
        Software::Akkoma => ("https://akkoma.dev/AkkomaGang/akkoma", None),
        Software::Misskey => (
            "https://github.com/misskey-dev/misskey",
            Some("https://misskey-hub.net/"),
        ),
        Software::Sharkey => (
            "https://activitypub.software/TransFem-org/Sharkey/",
            Some("https://joinsharkey.org"),
        ),
        Software::Firefish | Software::Calckey => (
            "https://codeberg.org/firefish/firefish",
            Some("https://codeberg.org/firefish/firefish"),
        ),
        Software::Iceshrimp => (
            "https://iceshrimp.dev/iceshrimp/iceshrimp",
            Some("https://iceshrimp.dev/iceshrimp/iceshrimp"),
        ),
        Software::Foundkey => ("https://akkoma.dev/FoundKeyGang/FoundKey", None),
        Software::Meisskey => ("https://github.com/mei23/misskey", None),
        Software::Lemmy => (
            "https://github.com/LemmyNet/lemmy",
            Some("https://join-lemmy.org/"),
        ),
        Software::Gotosocial => (
            "https://github.com/superseriousbusiness/gotosocial",
            Some("https://docs.gotosocial.org"),
        ),
        Software::Mobilizon => (
            "https://framagit.org/framasoft/mobilizon",
            Some("https://joinmobilizon.org"),
        ),
        Software::Kbin => (
            "https://codeberg.org/Kbin/kbin-core",
            Some("https://kbin.pub"),
        ),
        Software::Mbin => (
            "https://github.com/MbinOrg/mbin",
            Some("https://joinmbin.org"),
        ),
        _ => return None,
    })
}

fn base_document(ctx: &Ctx<'_>, version: NodeInfoVersion) -> Value {
    let server = ctx.server;
    let software = &server.software;
    let f = ctx.figures;
    let v = ctx.version();
    let title = ctx.title();

    let mut software_obj = json!({"name": software.as_str(), "version": ctx.nodeinfo_version()});
    if version >= NodeInfoVersion::V2_1 {
        if let Some((repo, home)) = software_repo(software) {
            software_obj["repository"] = json!(repo);
            if let Some(home) = home {
                software_obj["homepage"] = json!(home);
            }
        }
    }

    let protocols: Value = if version.is_1x() {
        match software {
            Software::Friendica => {
                json!({"inbound": ["friendica", "diaspora", "gnusocial"], "outbound": ["friendica", "diaspora", "gnusocial"]})
            }
            _ => json!({"inbound": ["diaspora"], "outbound": ["diaspora"]}),
        }
    } else {
        match software {
            Software::Friendica => json!(["dfrn", "activitypub", "diaspora"]),
            Software::Diaspora => json!(["diaspora"]),
            Software::Hubzilla => json!(["zot", "activitypub"]),
            _ => json!(["activitypub"]),
        }
    };

    let services: Option<Value> = match software {
        Software::Lemmy if v < (0, 19, 0) => None,
        Software::Bookwyrm => None,
        Software::Mastodon => Some(json!({"outbound": [], "inbound": []})),
        Software::Peertube => Some(json!({"inbound": [], "outbound": ["atom1.0", "rss2.0"]})),
        s if s.is_misskey_family() => {
            Some(json!({"inbound": [], "outbound": ["atom1.0", "rss2.0"]}))
        }
        Software::Friendica if version.is_1x() => Some(
            json!({"inbound": [], "outbound": ["gnusocial", "smtp", "tumblr", "twitter", "wordpress"]}),
        ),
        Software::Friendica => Some(json!({
            "inbound": ["twitter", "atom1.0", "rss2.0", "imap"],
            "outbound": ["smtp", "tumblr", "twitter", "wordpress", "atom1.0"]
        })),
        Software::Diaspora => Some(json!({"inbound": [], "outbound": ["twitter", "tumblr"]})),
        Software::Writefreely => Some(json!({"inbound": [], "outbound": ["rss2.0"]})),
        Software::Funkwhale => Some(json!({"inbound": ["atom1.0"], "outbound": ["atom1.0"]})),
        Software::Wordpress => Some(json!({"inbound": [], "outbound": ["rss2.0", "atom1.0"]})),
        _ => Some(json!({"inbound": [], "outbound": []})),
    };

    let comments = local_comments(ctx);
    let usage = match software {
        Software::Mastodon | Software::Pleroma | Software::Akkoma | Software::Bookwyrm => json!({
            "users": {"total": n(f.users), "activeMonth": n(f.active_month), "activeHalfyear": n(f.active_halfyear)},
            "localPosts": n(f.local_posts)
        }),
        Software::Misskey | Software::Sharkey => json!({
            "users": {"total": n(f.users), "activeHalfyear": null, "activeMonth": null},
            "localPosts": n(f.local_posts),
            "localComments": 0
        }),
        s if s.is_misskey_family() => json!({
            "users": {"total": n(f.users), "activeHalfyear": n(f.active_halfyear), "activeMonth": n(f.active_month)},
            "localPosts": n(f.local_posts),
            "localComments": 0
        }),
        Software::Gotosocial => {
            let mut users = json!({"total": n(f.users)});
            if ctx.quirk(Quirk::Baffle) {
                // `activeMonth` is `omitempty` and only set in baffle mode.
                users["activeMonth"] = n(f.active_month);
            }
            json!({"users": users, "localPosts": n(f.local_posts)})
        }
        Software::Pixelfed if v < (0, 11, 5) => json!({
            // pixelfed/pixelfed#3792, fixed by #4208.
            "localPosts": f.local_posts.to_string(),
            "localComments": 0,
            "users": {"total": f.users.to_string(), "activeHalfyear": n(f.active_halfyear), "activeMonth": n(f.active_month)}
        }),
        Software::Pixelfed => json!({
            "localPosts": n(f.local_posts),
            "localComments": 0,
            "users": {"total": n(f.users), "activeHalfyear": n(f.active_halfyear), "activeMonth": n(f.active_month)}
        }),
        Software::Writefreely => {
            // go-nodeinfo's `omitempty`: zero values vanish.
            let mut users = Map::new();
            for (k, x) in [
                ("total", f.users),
                ("activeHalfyear", f.active_halfyear),
                ("activeMonth", f.active_month),
            ] {
                if x > 0 {
                    users.insert(k.into(), n(x));
                }
            }
            let mut usage = json!({ "users": users });
            if f.local_posts > 0 {
                usage["localPosts"] = n(f.local_posts);
            }
            usage
        }
        Software::Funkwhale => json!({
            "users": {"total": n(f.users), "activeHalfyear": n(f.active_halfyear), "activeMonth": n(f.active_month)}
        }),
        Software::Mobilizon => json!({
            "users": {"total": n(f.users)},
            "localPosts": n(f.local_posts),
            "localComments": n(comments)
        }),
        Software::Takahe => json!({"users": {"total": n(f.users)}, "localPosts": n(f.local_posts)}),
        Software::Peertube => json!({
            "users": {"total": n(f.users), "activeMonth": n(f.active_month), "activeHalfyear": n(f.active_halfyear)},
            "localPosts": n(f.local_posts),
            "localComments": n(comments)
        }),
        Software::Lemmy
        | Software::Friendica
        | Software::Diaspora
        | Software::Hubzilla
        | Software::Wordpress
        | Software::Kbin
        | Software::Mbin => json!({
            "users": {"total": n(f.users), "activeHalfyear": n(f.active_halfyear), "activeMonth": n(f.active_month)},
            "localPosts": n(f.local_posts),
            "localComments": n(comments)
        }),
        _ => json!({
            "users": {"total": n(f.users), "activeHalfyear": n(f.active_halfyear), "activeMonth": n(f.active_month)},
            "localPosts": n(f.local_posts)
        }),
    };

    let metadata = metadata(ctx, &title);

    let mut doc = Map::new();
    doc.insert("version".into(), json!(version.as_str()));
    if version == NodeInfoVersion::V2_2 {
        doc.insert(
            "instance".into(),
            json!({"name": title, "description": format!("Welcome to {title}, a {} server.", software.as_str())}),
        );
    }
    doc.insert("software".into(), software_obj);
    doc.insert("protocols".into(), protocols);
    if let Some(services) = services {
        doc.insert("services".into(), services);
    }
    doc.insert("openRegistrations".into(), json!(server.open_registrations));
    let mut usage = usage;
    if version == NodeInfoVersion::V2_2 {
        if let Some(users) = usage.get_mut("users").and_then(Value::as_object_mut) {
            users.insert("activeWeek".into(), n(f.active_month / 3));
        }
    }
    doc.insert("usage".into(), usage);
    if let Some(metadata) = metadata {
        doc.insert("metadata".into(), metadata);
    }
    Value::Object(doc)
}

/// Pleroma's MRF simple policy, one list per policy, with the blocks in place now
/// ([`crate::blocks`]); every list empty for a server that blocks nobody.
fn mrf_simple(ctx: &Ctx<'_>) -> Value {
    let mut simple = json!({"accept": [], "avatar_removal": [], "banner_removal": [], "federated_timeline_removal": [], "followers_only": [], "media_nsfw": [], "media_removal": [], "reject": [], "reject_deletes": [], "report_removal": []});
    for block in crate::blocks::active(ctx.world, ctx.server, ctx.now) {
        if let Some(list) = block
            .policy
            .and_then(|p| simple.get_mut(p))
            .and_then(Value::as_array_mut)
        {
            list.push(json!(block.target));
        }
    }
    simple
}

/// Akkoma's reasons for its MRF simple policy (`mrf_simple_info`), when it publishes any.
fn mrf_simple_info(ctx: &Ctx<'_>) -> Option<Value> {
    let mut info = serde_json::Map::new();
    for block in crate::blocks::active(ctx.world, ctx.server, ctx.now) {
        let (Some(policy), Some(comment)) = (block.policy, block.comment) else {
            continue;
        };
        let entry = info.entry(policy).or_insert_with(|| json!({}));
        entry[block.target.as_str()] = json!({ "reason": comment });
    }
    (!info.is_empty()).then_some(Value::Object(info))
}

/// Pleroma's metadata with Akkoma's block reasons added where it has any (a Pleroma server has
/// none: its blocks carry no comment).
fn pleroma_metadata(ctx: &Ctx<'_>, mut metadata: Value) -> Value {
    if let Some(info) = mrf_simple_info(ctx) {
        metadata["federation"]["mrf_simple_info"] = info;
    }
    metadata
}

fn metadata(ctx: &Ctx<'_>, title: &str) -> Option<Value> {
    let server = ctx.server;
    let base = ctx.base();
    let domain = &server.domain;
    let v = ctx.version();
    let description = format!("{title} is a small corner of the fediverse.");
    Some(match &server.software {
        Software::Mastodon if v >= (4, 2, 0) => {
            json!({"nodeName": title, "nodeDescription": description})
        }
        Software::Mastodon => json!({}),
        Software::Pleroma | Software::Akkoma => pleroma_metadata(
            ctx,
            json!({
                "nodeName": title,
                "nodeDescription": description,
                "private": false,
                "suggestions": {"enabled": false},
                "staffAccounts": [format!("{base}/users/admin")],
                "federation": {
                    "enabled": true,
                    "exclusions": false,
                    "mrf_policies": ["SimplePolicy", "ObjectAgePolicy", "TagPolicy", "HashtagPolicy"],
                    "mrf_simple": mrf_simple(ctx),
                    "mrf_object_age": {"actions": ["delist", "strip_followers"], "threshold": 604800},
                    "quarantined_instances": [],
                    "quarantined_instances_info": {"quarantined_instances": {}}
                },
                "pollLimits": {"max_expiration": 31536000, "max_option_chars": 200, "max_options": 20, "min_expiration": 0},
                "postFormats": ["text/plain", "text/html", "text/markdown", "text/bbcode"],
                "uploadLimits": {"avatar": 2000000, "background": 4000000, "banner": 4000000, "general": 16000000},
                "fieldsLimits": {"maxFields": 10, "maxRemoteFields": 20, "nameLength": 512, "valueLength": 2048},
                "accountActivationRequired": false,
                "invitesEnabled": false,
                "mailerEnabled": false,
                "features": ["pleroma_api", "mastodon_api", "mastodon_api_streaming", "polls", "pleroma_explicit_addressing", "shareable_emoji_packs", "multifetch", "pleroma:api/v1/notifications:include_types_filter", "editing", "media_proxy", "relay", "pleroma_emoji_reactions", "exposable_reactions", "profile_directory"],
                "restrictedNicknames": [".well-known", "~", "about", "activities", "api", "auth", "check_password", "dev", "friend-requests", "inbox", "internal", "main", "media", "nodeinfo", "notice", "oauth", "objects", "ostatus_subscribe", "pleroma", "proxy", "push", "registration", "relay", "settings", "status", "tag", "user-search", "user_exists", "users", "web", "verify_credentials", "update_credentials", "relationships", "search", "confirmation_resend", "mfa"],
                "skipThreadContainment": true,
                "privilegedStaff": false,
                "localBubbleInstances": [],
                "publicTimelineVisibility": {"bubble": true, "federated": true, "local": true},
                "federatedTimelineAvailable": true
            }),
        ),
        s if s.is_misskey_family() => json!({
            "nodeName": title,
            "nodeDescription": description,
            "nodeAdmins": [{"name": "admin", "email": format!("admin@{domain}")}],
            "maintainer": {"name": "admin", "email": format!("admin@{domain}")},
            "langs": ctx.languages(),
            "tosUrl": format!("{base}/about"),
            "privacyPolicyUrl": null,
            "impressumUrl": null,
            "repositoryUrl": software_repo(s).map(|r| r.0).unwrap_or("https://github.com/misskey-dev/misskey"),
            "feedbackUrl": "https://github.com/misskey-dev/misskey/issues/new",
            "disableRegistration": !server.open_registrations,
            "disableLocalTimeline": false,
            "disableGlobalTimeline": false,
            "emailRequiredForSignup": true,
            "enableHcaptcha": false,
            "enableRecaptcha": false,
            "enableTurnstile": false,
            "maxNoteTextLength": 3000,
            "enableEmail": true,
            "enableServiceWorker": true,
            "proxyAccountName": "proxy",
            "themeColor": "#86b300"
        }),
        Software::Lemmy if v < (0, 19, 0) => return None,
        Software::Lemmy => json!({}),
        Software::Bookwyrm => return None,
        Software::Peertube => json!({
            "taxonomy": {"postsName": "Videos"},
            "nodeName": title,
            "nodeDescription": description,
            "nodeConfig": {
                "search": {"remoteUri": {"users": true, "anonymous": false}},
                "plugin": {"registered": []},
                "theme": {"registered": [], "default": "default"},
                "email": {"enabled": false},
                "contactForm": {"enabled": true},
                "transcoding": {"hls": {"enabled": true}, "webtorrent": {"enabled": false}, "enabledResolutions": [480, 720, 1080]},
                "live": {"enabled": false, "transcoding": {"enabled": true, "enabledResolutions": []}},
                "import": {"videos": {"http": {"enabled": true}, "torrent": {"enabled": false}}},
                "autoBlacklist": {"videos": {"ofUsers": {"enabled": false}}},
                "user": {"videoQuota": 5368709120u64, "videoQuotaDaily": -1},
                "trending": {"videos": {"intervalDays": 7}},
                "tracker": {"enabled": true}
            }
        }),
        Software::Pixelfed => json!({
            "nodeName": title,
            "software": {"homepage": "https://pixelfed.org", "repo": "https://github.com/pixelfed/pixelfed"},
            "config": {"features": {"timelines": {"local": true, "network": true}, "mobile_apis": true, "stories": true, "video": true, "import": {"instagram": false, "mastodon": false, "pixelfed": false}, "label": {"covid": {"enabled": false, "org": "visit the WHO website", "url": "https://www.who.int/emergencies/diseases/novel-coronavirus-2019/advice-for-public"}}, "hls": {"enabled": false}}}
        }),
        Software::Friendica => json!({"explicitContent": false, "nodeName": title}),
        Software::Gotosocial => json!({}),
        Software::Diaspora => json!({
            "nodeName": title,
            "xmppChat": false,
            "camo": {"markdown": false, "opengraph": false, "remotePods": false},
            "adminAccount": "podmin"
        }),
        Software::Hubzilla => json!({"nodeName": title}),
        Software::Wordpress => json!({"nodeName": title, "nodeDescription": description}),
        Software::Writefreely => json!({
            "nodeName": title,
            "nodeDescription": description,
            "private": false,
            "software": {"homepage": "https://writefreely.org", "github": "https://github.com/writefreely/writefreely", "follow": "https://writing.exchange/@write_as"}
        }),
        Software::Funkwhale => json!({
            "actorId": format!("{base}/federation/actors/service"),
            "private": false,
            "shortDescription": description,
            "longDescription": "",
            "rules": "",
            "contactEmail": "",
            "terms": "",
            "nodeName": title,
            "banner": null,
            "defaultUploadQuota": 1000,
            "library": {"federationEnabled": true, "anonymousCanListen": true, "tracks": {"total": ctx.figures.local_posts}, "artists": {"total": ctx.figures.local_posts / 10}, "albums": {"total": ctx.figures.local_posts / 8}, "music": {"hours": ctx.figures.local_posts / 15}},
            "supportedUploadExtensions": ["aac", "aif", "aiff", "flac", "m4a", "mp3", "ogg", "opus"],
            "allowList": {"enabled": false, "domains": null},
            "reportTypes": [],
            "funkwhaleSupportMessageEnabled": true,
            "instanceSupportMessage": "",
            "endpoints": {"knownNodes": format!("{base}/api/v1/federation/domains?purpose=all"), "channels": null, "libraries": null},
            "usage": {"favorites": {"tracks": {"total": 0}}, "listenings": {"total": 0}, "downloads": {"total": 0}}
        }),
        Software::Mobilizon => json!({"nodeName": title}),
        Software::Kbin | Software::Mbin | Software::Takahe => json!({}),
        _ => json!({"nodeName": title}),
    })
}

/// Bends a NodeInfo document by the server's quirks. `Baffle` and the inflations are already in
/// the figures (they come from `World::reported`).
pub(crate) fn apply_quirks(ctx: &Ctx<'_>, doc: &mut Value) {
    let Some(obj) = doc.as_object_mut() else {
        return;
    };
    if ctx.quirk(Quirk::PrivacyFlag) {
        let metadata = obj
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(m) = metadata.as_object_mut() {
            m.insert("private".into(), Value::Bool(true));
        }
    }
    if ctx.quirk(Quirk::NegativeCounts) {
        if let Some(usage) = obj.get_mut("usage").and_then(Value::as_object_mut) {
            usage.insert("localPosts".into(), json!(-1));
            if let Some(users) = usage.get_mut("users").and_then(Value::as_object_mut) {
                users.insert("activeHalfyear".into(), json!(-1));
                users.insert("activeMonth".into(), json!(-1));
            }
        }
    }
    if ctx.quirk(Quirk::NullCounts) {
        if let Some(users) = obj
            .get_mut("usage")
            .and_then(|u| u.get_mut("users"))
            .and_then(Value::as_object_mut)
        {
            users.insert("activeHalfyear".into(), Value::Null);
            users.insert("activeMonth".into(), Value::Null);
        }
    }
    if ctx.quirk(Quirk::NumbersAsStrings) {
        if let Some(usage) = obj.get_mut("usage").and_then(Value::as_object_mut) {
            stringify_numbers(usage);
            if let Some(users) = usage.get_mut("users").and_then(Value::as_object_mut) {
                stringify_numbers(users);
            }
        }
    }
    if ctx.quirk(Quirk::WrongTypes) {
        match ctx.trait_hash("wrong-types") % 3 {
            0 => {
                // Friendica#12201, Misskey#7410.
                if let Some(usage) = obj.get_mut("usage").and_then(Value::as_object_mut) {
                    usage.insert("users".into(), json!([]));
                }
            }
            1 => {
                // The Pleroma `{"all":..,"direct":..}` object.
                if let Some(usage) = obj.get_mut("usage").and_then(Value::as_object_mut) {
                    let all = ctx.figures.local_posts;
                    usage.insert("localPosts".into(), json!({"all": all, "direct": all / 10}));
                }
            }
            _ => {
                // Lemmy#4762.
                obj.insert("metadata".into(), json!([]));
            }
        }
    }
    if ctx.quirk(Quirk::MisspeltKeys) {
        rename(obj, "metadata", "metaData");
        if let Some(usage) = obj.get_mut("usage").and_then(Value::as_object_mut) {
            rename(usage, "localPosts", "local_posts");
            if let Some(users) = usage.get_mut("users").and_then(Value::as_object_mut) {
                rename(users, "activeHalfyear", "activeHalfYear");
            }
        }
    }
}

fn stringify_numbers(map: &mut Map<String, Value>) {
    for value in map.values_mut() {
        if let Value::Number(num) = value {
            *value = Value::String(num.to_string());
        }
    }
}

fn rename(map: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = map.remove(from) {
        map.insert(to.into(), v);
    }
}

/// `/.well-known/x-nodeinfo2` (the separate NodeInfo2 spec), as Friendica and Hubzilla serve it.
fn nodeinfo2(ctx: &Ctx<'_>) -> SimResponse {
    let f = ctx.figures;
    let title = ctx.title();
    let doc = json!({
        "version": "1.0",
        "server": {
            "baseUrl": ctx.base(),
            "name": title,
            "software": ctx.server.software.as_str(),
            "version": ctx.nodeinfo_version()
        },
        "organization": {"name": title, "contact": format!("admin@{}", ctx.server.domain), "account": format!("{}/profile/admin", ctx.base())},
        "protocols": match ctx.server.software {
            Software::Hubzilla => json!(["zot", "activitypub"]),
            _ => json!(["dfrn", "activitypub", "diaspora"]),
        },
        "relay": "none",
        "services": {"inbound": ["atom1.0", "rss2.0"], "outbound": ["atom1.0"]},
        "openRegistrations": ctx.server.open_registrations,
        "usage": {
            "users": {"total": f.users, "activeHalfyear": f.active_halfyear, "activeMonth": f.active_month, "activeWeek": f.active_month / 3},
            "localPosts": f.local_posts,
            "localComments": local_comments(ctx)
        },
        "otherFeatures": [{"name": "explicitContent", "inbound": false, "outbound": false}]
    });
    SimResponse::json(to_json(&doc, KeyOrder::Ranked(SPEC_ORDER)))
}

/// The pre-NodeInfo `/statistics.json` of diaspora and Friendica.
fn statistics(ctx: &Ctx<'_>) -> SimResponse {
    let f = ctx.figures;
    let (network, name) = match ctx.server.software {
        Software::Diaspora => ("Diaspora", "diaspora*".to_string()),
        _ => ("Friendica", ctx.title()),
    };
    let doc = json!({
        "name": name,
        "network": network,
        "version": ctx.version_str(),
        "registrations_open": ctx.server.open_registrations,
        "total_users": f.users,
        "active_users_halfyear": f.active_halfyear,
        "active_users_monthly": f.active_month,
        "local_posts": f.local_posts,
        "local_comments": local_comments(ctx),
        "services": ["twitter", "tumblr"],
        "twitter": true,
        "tumblr": true,
        "facebook": false,
        "wordpress": false
    });
    SimResponse::json(to_json(
        &doc,
        KeyOrder::Ranked(&[
            "name",
            "network",
            "version",
            "registrations_open",
            "total_users",
            "active_users_halfyear",
            "active_users_monthly",
            "local_posts",
            "local_comments",
            "services",
        ]),
    ))
}

/// Friendica's GNU social compatible `/api/statusnet/config.json`, where `site.private` is the
/// admin's "do not list me" flag.
fn statusnet_config(ctx: &Ctx<'_>) -> SimResponse {
    let domain = &ctx.server.domain;
    let doc = json!({
        "site": {
            "name": ctx.title(),
            "server": domain,
            "theme": "frio",
            "path": "",
            "logo": format!("{}/images/friendica-64.png", ctx.base()),
            "fancy": true,
            "language": "en",
            "email": "",
            "broadcast": "",
            "shorturllength": "30",
            "textlimit": "200000",
            "ssl": "always",
            "sslserver": domain,
            "private": ctx.quirk(Quirk::PrivacyFlag),
            "friendica": {
                "FRIENDICA_PLATFORM": "Friendica",
                "FRIENDICA_VERSION": ctx.version_str(),
                "DFRN_PROTOCOL_VERSION": "2.23",
                "DB_UPDATE_VERSION": 1518
            }
        }
    });
    SimResponse::json(to_json(&doc, KeyOrder::Ranked(&["site", "name", "server"])))
}
