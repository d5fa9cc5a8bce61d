//! robots.txt: read once per host, obeyed for every path, with our token `fedicensus` and `*`.
//!
//! Consent comes first (PROTOCOL.md §4.4): FediDB was blocked across the fediverse for ignoring
//! robots.txt, and GoToSocial's default file disallows its API and, often, NodeInfo. The rules
//! follow RFC 9309 as the `texting_robots` crate implements it (longest match wins, `Allow`
//! beats `Disallow` on a tie, a group for our token replaces `*`). What an unreadable file
//! means is decided by the visit: a missing file (4xx) allows everything, a failing server (5xx)
//! allows nothing for this visit.

use std::sync::Arc;
use std::time::Duration;

use texting_robots::Robot;

use crate::config::ROBOTS_TOKEN;

/// How much of a robots.txt is read and parsed; the rest is ignored (RFC 9309 §2.5 asks for at
/// least 500 KiB). A longer file is obeyed on its first part, never counted as missing.
pub const ROBOTS_READ_CAP: u64 = 512 * 1024;

/// How many redirects of robots.txt are followed, to any host (RFC 9309 §2.3.1.2 asks for at
/// least five); more count as an unavailable file, which allows everything.
pub const ROBOTS_MIN_REDIRECTS: usize = 5;

/// The rules of one host, for our token.
#[derive(Debug, Clone)]
pub enum RobotsPolicy {
    /// No usable robots.txt (missing, or not a robots file): everything is allowed.
    AllowAll,
    /// Nothing may be fetched (the server failed to say what is allowed).
    DisallowAll,
    /// The file's rules for `fedicensus` (or `*`).
    Rules(Arc<Robot>),
}

impl RobotsPolicy {
    /// The rules in a robots.txt body. A body the parser cannot read allows everything, as a
    /// missing file does (parked domains answer HTML for every path).
    pub fn from_body(body: &[u8]) -> RobotsPolicy {
        match Robot::new(ROBOTS_TOKEN, body) {
            Ok(robot) => RobotsPolicy::Rules(Arc::new(robot)),
            Err(err) => {
                tracing::debug!(error = %err, "unreadable robots.txt, treated as absent");
                RobotsPolicy::AllowAll
            }
        }
    }

    /// Whether `path` (with its query, if any) may be fetched.
    pub fn allows(&self, path: &str) -> bool {
        match self {
            RobotsPolicy::AllowAll => true,
            RobotsPolicy::DisallowAll => false,
            RobotsPolicy::Rules(robot) => robot.allowed(path),
        }
    }

    /// The `Crawl-delay` the file asks of us, if any (and if sane).
    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            RobotsPolicy::Rules(robot) => robot
                .delay
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| Duration::from_secs_f32(d.min(86_400.0))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_for_our_token_overrides_the_wildcard() {
        let robots = RobotsPolicy::from_body(
            b"User-agent: fedicensus\nDisallow: /\n\nUser-agent: *\nDisallow:\n",
        );
        assert!(!robots.allows("/.well-known/nodeinfo"));
        let others = RobotsPolicy::from_body(b"User-agent: otherbot\nDisallow: /\n");
        assert!(others.allows("/.well-known/nodeinfo"));
    }

    #[test]
    fn gotosocial_default_rules_forbid_the_api_and_nodeinfo() {
        let robots = RobotsPolicy::from_body(
            b"User-agent: *\nCrawl-delay: 500\nDisallow: /api/\n\
              Disallow: /.well-known/nodeinfo\nDisallow: /nodeinfo/\n",
        );
        assert!(!robots.allows("/api/v1/instance"));
        assert!(!robots.allows("/.well-known/nodeinfo"));
        assert!(!robots.allows("/nodeinfo/2.0"));
        assert!(robots.allows("/robots.txt"));
        assert_eq!(robots.crawl_delay(), Some(Duration::from_secs(500)));
    }

    #[test]
    fn mastodon_default_rules_allow_the_census_paths() {
        let robots = RobotsPolicy::from_body(
            b"User-agent: *\nDisallow: /media_proxy/\nDisallow: /interact/\n",
        );
        for path in [
            "/.well-known/nodeinfo",
            "/nodeinfo/2.0",
            "/api/v2/instance",
            "/api/v1/instance/peers",
        ] {
            assert!(robots.allows(path), "{path}");
        }
    }

    #[test]
    fn html_instead_of_robots_allows_everything() {
        let robots = RobotsPolicy::from_body(b"<!DOCTYPE html><html><body>parked</body></html>");
        assert!(robots.allows("/.well-known/nodeinfo"));
    }
}
