//! `/robots.txt`: what a polite crawler reads before anything else.
//!
//! Most servers allow everything. GoToSocial's default file disallows `/api/` always and, in its
//! default stats mode, the NodeInfo paths too (PROTOCOL.md §3): a polite census never learns those
//! servers' numbers, and the truth must account for it. The two robots failures disallow the
//! fedicensus token only, or every crawler.

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
            Software::Gotosocial => gotosocial(gts_default_stats_mode(ctx)),
            Software::Mastodon => "# See http://www.robotstxt.org/robotstxt.html for documentation on how to use the robots.txt file\n\nUser-agent: *\nDisallow: /media_proxy/\nDisallow: /interact/\n".to_string(),
            Software::Lemmy | Software::Misskey | Software::Sharkey => "User-agent: *\nAllow: /\n".to_string(),
            _ => "User-agent: *\nDisallow:\n".to_string(),
        },
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
/// disallows NodeInfo, though NodeInfo itself answers).
pub(crate) fn gts_default_stats_mode(ctx: &Ctx<'_>) -> bool {
    ctx.server.software == Software::Gotosocial
        && ctx.has_trait("gts-stats-mode", GTS_DEFAULT_STATS_MODE_PERCENT)
}

/// GoToSocial's default robots.txt (internal/api/util/robots.go), shortened AI-bot list.
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
