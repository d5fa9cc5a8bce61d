//! `/robots.txt`: what a polite crawler reads before anything else.
//!
//! Most servers allow everything. GoToSocial's robots.txt is built in and has refused every
//! crawler its NodeInfo since its first release (see [`gotosocial_robots`]): a polite census
//! never learns those servers' numbers, though they are alive and answering, and the truth counts
//! them as opted out (`World::robots_refuses_us`). The two robots failures disallow the
//! fedicensus token only, or every crawler; an opt-out window (`Server::opt_out`) adds a
//! fedicensus group on the days it covers. Mitra answers robots.txt with its web client's HTML
//! page and status 200 (live fixture `mitra-5.9.1/robots_txt.*`); Takahē had no robots.txt before
//! 0.7.0 (`static/robots.txt` first appears in the 0.7.0 tag), so its 404 page.

use super::failures::moved_page;
use super::Ctx;
use crate::failure::Failure;
use crate::response::SimResponse;
use fedicensus_core::Software;

/// The token robots.txt files use to address fedicensus.
pub const FEDICENSUS_TOKEN: &str = "fedicensus";

/// Share (percent) of GoToSocial servers left in the default stats mode, whose robots.txt
/// disallows NodeInfo.
const GTS_DEFAULT_STATS_MODE_PERCENT: u64 = 70;

/// How large a [`Failure::RobotsHuge`] robots.txt is.
pub const HUGE_ROBOTS_LEN: usize = 2 * 1024 * 1024;

/// How many redirects a [`Failure::RobotsRedirected`] robots.txt takes, the last to another host.
pub const ROBOTS_REDIRECTS: u32 = 5;

/// What a robots.txt that shuts fedicensus out says.
fn disallow_us() -> String {
    format!(
        "# We do not want to be in crawler statistics.\nUser-agent: {FEDICENSUS_TOKEN}\nDisallow: /\n\nUser-agent: *\nDisallow:\n"
    )
}

/// The value of `name` in the request's query.
fn query_param<'a>(ctx: &'a Ctx<'_>, name: &str) -> Option<&'a str> {
    ctx.req
        .query
        .as_deref()?
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// The fedicensus group an opted-out admin adds (Takahē's own setting writes exactly this after
/// its usual file: live fixture `takahe-0.11.0/robots.txt-with-fedicensus-opt-out`).
const OPT_OUT_GROUP: &str = "\n\nUser-agent: fedicensus\nDisallow: /\n\n";

/// Takahē's `static/robots.txt` (0.7.0 to 0.11.0; live fixture `takahe-0.11.0/robots.txt.body`).
const TAKAHE_ROBOTS: &str = "User-Agent: *\n\n# Don't allow any bot to crawl tags.\nDisallow: /tags/\nDisallow: /tags/*\n\n# Don't allow bots to crawl through the proxy\nDisallow: /proxy/*\n";

pub(crate) fn robots(ctx: &Ctx<'_>) -> SimResponse {
    // Another server's file, served here at the end of its redirects.
    if let Some(owner) = query_param(ctx, "robots-of") {
        if ctx
            .world
            .lookup(owner)
            .is_some_and(|s| s.failure == Some(Failure::RobotsRedirected))
        {
            return SimResponse::with_type(200, "text/plain; charset=utf-8", disallow_us());
        }
    }
    let software = &ctx.server.software;
    let opted_out = ctx
        .server
        .opt_out
        .is_some_and(|o| o.covers(ctx.now.date_naive()));
    let robots_failure = matches!(
        ctx.server.failure,
        Some(
            Failure::RobotsDisallowUs
                | Failure::RobotsDisallowAll
                | Failure::RobotsHuge
                | Failure::RobotsRedirected
        )
    );
    if crate::world::is_mitra(software) && !robots_failure {
        // The web client's index page for every unknown path (live fixture mitra-5.9.1).
        return super::html(200, format!("<html><body>{}</body></html>\n", ctx.title()));
    }
    if *software == Software::Takahe && !robots_failure {
        let body = match (ctx.version() >= (0, 7, 0), opted_out) {
            (true, false) => TAKAHE_ROBOTS.to_string(),
            (_, true) => format!("{TAKAHE_ROBOTS}{OPT_OUT_GROUP}"),
            (false, false) => return super::not_found(ctx),
        };
        return SimResponse::with_type(200, "text/plain", body);
    }
    if *software == Software::Gotosocial && !robots_failure {
        let body = gotosocial_robots(ctx.version_str(), gts_default_stats_mode(ctx));
        return SimResponse::with_type(200, "text/plain; charset=utf-8", body);
    }
    let body = match ctx.server.failure {
        Some(Failure::RobotsRedirected) => return redirected(ctx),
        Some(Failure::RobotsHuge) => {
            let mut body = disallow_us().into_bytes();
            let filler = b"# This line only makes the file long; the rules are at the top.\n";
            while body.len() < HUGE_ROBOTS_LEN {
                body.extend_from_slice(filler);
            }
            return SimResponse::with_type(200, "text/plain; charset=utf-8", body);
        }
        Some(Failure::RobotsDisallowAll) => "User-agent: *\nDisallow: /\n".to_string(),
        Some(Failure::RobotsDisallowUs) => disallow_us(),
        _ => match ctx.server.software {
            Software::Mastodon => "# See http://www.robotstxt.org/robotstxt.html for documentation on how to use the robots.txt file\n\nUser-agent: *\nDisallow: /media_proxy/\nDisallow: /interact/\n".to_string(),
            Software::Lemmy | Software::Misskey | Software::Sharkey => "User-agent: *\nAllow: /\n".to_string(),
            _ => "User-agent: *\nDisallow:\n".to_string(),
        },
    };
    let body = if opted_out {
        format!("{}{OPT_OUT_GROUP}", body.trim_end())
    } else {
        body
    };
    SimResponse::with_type(200, "text/plain; charset=utf-8", body)
}

/// One of a [`Failure::RobotsRedirected`] server's redirects: `?hop=1` to `?hop=4` on its own
/// host, then a permanent one to the first other live server of the world that answers HTTP.
fn redirected(ctx: &Ctx<'_>) -> SimResponse {
    let hop: u32 = query_param(ctx, "hop")
        .and_then(|h| h.parse().ok())
        .unwrap_or(0);
    let scheme = if ctx.req.https { "https" } else { "http" };
    if hop + 1 < ROBOTS_REDIRECTS {
        let location = format!(
            "{scheme}://{}/robots.txt?hop={}",
            ctx.server.domain,
            hop + 1
        );
        return moved_page(302, &location);
    }
    let other = ctx.world.servers().iter().find(|s| {
        s.id != ctx.server.id
            && !s.flood
            && s.failure.is_none_or(|f| f == Failure::RobotsRedirected)
            && ctx.world.state(s.id, ctx.now).alive
    });
    match other {
        Some(other) => moved_page(
            301,
            &format!(
                "https://{}/robots.txt?robots-of={}",
                other.domain, ctx.server.domain
            ),
        ),
        None => SimResponse::with_type(200, "text/plain; charset=utf-8", disallow_us()),
    }
}

/// Whether this GoToSocial server runs in the default `instance-stats-mode` (robots.txt then
/// disallows NodeInfo from 0.18.0 on, though NodeInfo itself answers).
pub(crate) fn gts_default_stats_mode(ctx: &Ctx<'_>) -> bool {
    ctx.server.software == Software::Gotosocial
        && ctx.has_trait("gts-stats-mode", GTS_DEFAULT_STATS_MODE_PERCENT)
}

/// GoToSocial's robots.txt before 0.6.0 (`internal/api/security/robots.go`, v0.1.0 to v0.5.2:
/// "the most restrictive possible robots.txt file").
const GTS_BEFORE_0_6: &str = "User-agent: *\nDisallow: /\n";

/// GoToSocial 0.6.x's robots.txt (`internal/api/security/robots.go` at v0.6.0, 2022-12-05).
const GTS_0_6: &str = "User-agent: *\nCrawl-delay: 500\n# api stuff\nDisallow: /api/\n# auth/login stuff\nDisallow: /auth/\nDisallow: /oauth/\nDisallow: /check_your_email\nDisallow: /wait_for_approval\nDisallow: /account_disabled\n# well known stuff\nDisallow: /.well-known/\n# files\nDisallow: /fileserver/\n# s2s AP stuff\nDisallow: /users/\nDisallow: /emoji/\n# panels\nDisallow: /admin\nDisallow: /user\nDisallow: /settings/\n";

/// GoToSocial 0.7.0's robots.txt (`internal/web/robots.go` at v0.7.0, 2023-02-16), byte for
/// byte the live fixture `gotosocial-0.7.1/robots_txt.body` (no final newline). Later releases
/// kept these rules and added groups for AI crawlers.
pub(crate) const GTS_0_7: &str = "# GoToSocial robots.txt -- to edit, see internal/web/robots.go\n# more info @ https://developers.google.com/search/docs/crawling-indexing/robots/intro\nUser-agent: *\nCrawl-delay: 500\n# api stuff\nDisallow: /api/\n# auth/login stuff\nDisallow: /auth/\nDisallow: /oauth/\nDisallow: /check_your_email\nDisallow: /wait_for_approval\nDisallow: /account_disabled\n# well known stuff\nDisallow: /.well-known/\n# files\nDisallow: /fileserver/\n# s2s AP stuff\nDisallow: /users/\nDisallow: /emoji/\n# panels\nDisallow: /admin\nDisallow: /user\nDisallow: /settings/\n# domain blocklist\nDisallow: /about/suspended";

/// The `(major, minor, patch)` of a GoToSocial version string, or `None` for a build that names
/// no release (`git-1a2b3c4`, `kalaclista git-212fecf`, empty): those ran the development branch
/// of 2022, before 0.6.0 (a plain [`super::version_triple`] would read `git-212fecf` as 212).
fn gotosocial_release(version: &str) -> Option<(u64, u64, u64)> {
    version
        .starts_with(|c: char| c.is_ascii_digit() || c == 'v')
        .then(|| super::version_triple(version))
}

/// GoToSocial's built-in robots.txt for `version`. GoToSocial has no setting
/// for it before 0.18.0, and every release refuses every crawler its NodeInfo:
/// * before 0.6.0: `User-agent: *` / `Disallow: /` (the only file the 2022 world's 0.5 servers
///   serve);
/// * 0.6.x: `Disallow: /.well-known/` and `/api/` (from 2022-12-05);
/// * 0.7.0 to 0.17.x: the same rules with a header and `/about/suspended` (from 2023-02-16;
///   `internal/web/robots.go`);
/// * 0.18.0 on (2025-02-22): AI-crawler groups, `/.well-known/webfinger` only, and the NodeInfo
///   paths disallowed unless `instance-stats-mode` is "serve" (`internal/api/util/robots.go`).
///
/// The migration-2022 world's GoToSocial servers run 0.5 and 0.6 (the scenario ends before
/// 0.7.0), so in it every GoToSocial server serves one of the first two.
pub(crate) fn gotosocial_robots(version: &str, default_stats_mode: bool) -> String {
    match gotosocial_release(version) {
        None => GTS_BEFORE_0_6.to_string(),
        Some(v) if v < (0, 6, 0) => GTS_BEFORE_0_6.to_string(),
        Some(v) if v < (0, 7, 0) => GTS_0_6.to_string(),
        Some(v) if v < (0, 18, 0) => GTS_0_7.to_string(),
        Some(_) => gotosocial(default_stats_mode),
    }
}

/// Whether GoToSocial `version`'s robots.txt on `domain` refuses every crawler its NodeInfo
/// (always before 0.18.0; from it, in the default stats mode).
pub(crate) fn gotosocial_refuses_nodeinfo(seed: u64, domain: &str, version: &str) -> bool {
    match gotosocial_release(version) {
        Some(v) if v >= (0, 18, 0) => {
            super::trait_hash(seed, domain, "gts-stats-mode") % 100 < GTS_DEFAULT_STATS_MODE_PERCENT
        }
        _ => true,
    }
}

/// GoToSocial's robots.txt from 0.18.0 (internal/api/util/robots.go), shortened AI-bot list.
fn gotosocial(default_stats_mode: bool) -> String {
    let mut out = String::from(
        "# GoToSocial robots.txt -- to edit, see https://github.com/superseriousbusiness/gotosocial/blob/main/internal/api/util/robots.go\n\
# More info @ https://developers.google.com/search/docs/crawling-indexing/robots/intro\n\n\
# AI scrapers and the like.\n\
User-agent: anthropic-ai\nUser-agent: Applebot-Extended\nUser-agent: Bytespider\nUser-agent: CCBot\n\
User-agent: ChatGPT-User\nUser-agent: ClaudeBot\nUser-agent: GPTBot\nUser-agent: Google-Extended\n\
User-agent: omgili\nUser-agent: PerplexityBot\nDisallow: /\n\n\
# Marketing/SEO \"intelligence\" data scrapers\n\
User-agent: AhrefsBot\nUser-agent: SemrushBot\nUser-agent: DotBot\nDisallow: /\n\n\
# Rules for everything else.\n\
User-agent: *\nCrawl-delay: 500\n\n\
# API endpoints.\nDisallow: /api/\n\n\
# Auth/Sign in endpoints.\nDisallow: /auth/\nDisallow: /oauth/\nDisallow: /check_your_email\nDisallow: /wait_for_approval\nDisallow: /account_disabled\nDisallow: /signup\n\n\
# Fileserver/media.\nDisallow: /fileserver/\n\n\
# Fedi S2S API endpoints.\nDisallow: /users/\nDisallow: /emoji/\n\n\
# Settings panels.\nDisallow: /admin\nDisallow: /user\nDisallow: /settings/\n\n\
# Domain blocklist.\nDisallow: /about/suspended\n\n\
# Webfinger endpoint.\nDisallow: /.well-known/webfinger\n",
    );
    if default_stats_mode {
        out.push_str(
            "\n# Disallow nodeinfo\nDisallow: /.well-known/nodeinfo\nDisallow: /nodeinfo/\n",
        );
    }
    out
}
