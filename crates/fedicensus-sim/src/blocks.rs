//! Who blocks whom in the simulated world, and which block lists are published.
//!
//! What real software publishes (PROTOCOL.md §2.5, fixtures in `fixtures/real` and
//! `fixtures/corpus`): Mastodon 4.0 and later serves `/api/v1/instance/domain_blocks` when the
//! admin shows blocks to everyone (about 60 % of 4.x servers here, an assumption), each entry with
//! a severity (`silence`, `suspend`), the public comment when the admin shows rationales, and
//! some names obfuscated with asterisks beside the SHA-256 digest of the real name. Lemmy lists
//! the instances it blocks in `federated_instances.blocked` (strings up to 0.17, `null` when
//! none, objects from 0.18), public whenever its peer list is. Pleroma and Akkoma publish their
//! MRF simple policy in NodeInfo `metadata.federation.mrf_simple` (one list per policy; Akkoma
//! adds reasons in `mrf_simple_info`); every simulated Pleroma and Akkoma has MRF transparency on.
//!
//! How many blocks, of whom and when: **an assumption** (FIELD.md has no block figures). A
//! server's blocks are a function of the world's seed and its domain (a hash, not the world's
//! random stream, so adding blocks changed no earlier trait of any server): a few blocks each,
//! of other servers of the world born by then (and sometimes of a name outside it), about half
//! in place from the later of the two servers' births and the rest added during the scenario, a
//! third of them lifted again some weeks later. A block exists whether or not it is published;
//! [`published`] says what a crawler can read on a date, and the truth ([`write_csv`]) says who
//! blocked whom, when and how.

use crate::endpoints::{trait_hash, version_triple};
use crate::failure::Quirk;
use crate::world::{Server, World};
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use fedicensus_core::blocks::BlockSource;
use fedicensus_core::Software;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Share (percent) of Mastodon 4.x servers that show their domain blocks to everyone.
pub const SHOW_DOMAIN_BLOCKS_PERCENT: u64 = 60;
/// Share (percent) of Lemmy servers that block any instance (assumed).
const LEMMY_BLOCKING_PERCENT: u64 = 40;
/// Share (percent) of Pleroma and Akkoma servers whose MRF simple policy lists any domain
/// (assumed).
const PLEROMA_BLOCKING_PERCENT: u64 = 50;

/// Public comments, as admins write them.
const COMMENTS: &[&str] = &[
    "Spam and harassment",
    "Hate speech",
    "Unmoderated",
    "Harassment of our members",
    "Spam",
];

/// One block: `blocker` blocks `target` from `from` until `until` (never lifted: `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimBlock {
    /// The blocking server's domain.
    pub blocker: String,
    /// The blocked domain (a server of the world, or a name outside it).
    pub target: String,
    /// The severity as fedicensus records it: `suspend`, `silence`, or a Pleroma policy name.
    pub severity: &'static str,
    /// Pleroma's and Akkoma's MRF policy (`reject`, ...); `None` for other software.
    pub policy: Option<&'static str>,
    /// The public comment, when the server publishes one.
    pub comment: Option<&'static str>,
    /// Whether the published entry hides the name behind asterisks (Mastodon; its digest is
    /// published beside it).
    pub obfuscated: bool,
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

impl SimBlock {
    /// Whether the block is in place at `at`.
    pub fn active(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && self.until.is_none_or(|u| at < u)
    }

    /// The domain as the list publishes it: the name, or its obfuscated pattern.
    pub fn published_domain(&self) -> String {
        if self.obfuscated {
            obfuscate(&self.target)
        } else {
            self.target.clone()
        }
    }

    /// The SHA-256 of the blocked name, in lowercase hex.
    pub fn digest(&self) -> String {
        Sha256::digest(self.target.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Mastodon's `DomainBlock#public_domain` obfuscation: the middle of the name starred out, dots
/// kept.
pub fn obfuscate(domain: &str) -> String {
    let chars: Vec<char> = domain.chars().collect();
    let length = chars.len();
    let visible = length / 4;
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i > visible && i < length - visible && *c != '.' {
                '*'
            } else {
                *c
            }
        })
        .collect()
}

/// The document `server`'s software publishes its block list in, if any.
pub fn source_of(server: &Server) -> Option<BlockSource> {
    match server.software {
        Software::Mastodon => Some(BlockSource::DomainBlocks),
        Software::Lemmy => Some(BlockSource::LemmyBlocked),
        Software::Pleroma | Software::Akkoma => Some(BlockSource::MrfSimple),
        _ => None,
    }
}

/// Every block `server` ever has in the world (in the order its list shows them), whether or not
/// published. Servers of software without a block list have none.
pub fn blocks_of(world: &World, server: &Server) -> Vec<SimBlock> {
    let Some(source) = source_of(server) else {
        return Vec::new();
    };
    let seed = world.config().seed;
    let roll = |salt: &str| trait_hash(seed, &server.domain, salt);
    let count = match source {
        BlockSource::DomainBlocks => roll("block-count") % 9,
        BlockSource::LemmyBlocked if roll("lemmy-blocks") % 100 < LEMMY_BLOCKING_PERCENT => {
            1 + roll("block-count") % 6
        }
        BlockSource::MrfSimple if roll("mrf-blocks") % 100 < PLEROMA_BLOCKING_PERCENT => {
            1 + roll("block-count") % 8
        }
        _ => 0,
    };
    let servers = world.servers();
    if servers.len() < 2 {
        return Vec::new();
    }
    let start = world.config().scenario.start();
    let end = world.config().scenario.end();
    let show_comment = roll("block-rationale") % 100 < 50;
    let akkoma_info = server.software == Software::Akkoma && roll("mrf-info") % 100 < 50;
    let mut out: Vec<SimBlock> = Vec::new();
    for i in 0..count {
        let r = |what: &str| roll(&format!("block-{what}-{i}"));
        // A tenth of the blocks name a domain outside the world (a spam network nobody crawls).
        let (target, target_born) = if r("outside") % 10 == 0 {
            (
                format!("spam-{}.example.net", r("outside-name") % 1000),
                start,
            )
        } else {
            let pick = &servers[(r("target") % servers.len() as u64) as usize];
            (pick.domain.clone(), pick.born)
        };
        if target == server.domain || out.iter().any(|b| b.target == target) {
            continue;
        }
        let base = server.born.max(target_born);
        if base > end {
            continue;
        }
        let span = (end - base).num_days().max(1) as u64;
        let day = if r("old") % 2 == 0 {
            base
        } else {
            base + TimeDelta::days((r("day") % span) as i64)
        };
        let from = day.and_time(NaiveTime::MIN).and_utc()
            + TimeDelta::seconds((r("second") % 86_400) as i64);
        let until = (r("lifted") % 3 == 0)
            .then(|| from + TimeDelta::days(7 + (r("lifted-after") % 60) as i64));
        let (severity, policy, comment, obfuscated) = match source {
            BlockSource::DomainBlocks => (
                if r("sev") % 100 < 60 {
                    "suspend"
                } else {
                    "silence"
                },
                None,
                show_comment.then(|| COMMENTS[(r("comment") % COMMENTS.len() as u64) as usize]),
                r("obfuscate") % 100 < 30,
            ),
            BlockSource::LemmyBlocked => ("suspend", None, None, false),
            BlockSource::MrfSimple => {
                let (severity, policy) = match r("policy") % 10 {
                    0..=5 => ("suspend", "reject"),
                    6 | 7 => ("silence", "federated_timeline_removal"),
                    _ => ("media_removal", "media_removal"),
                };
                let comment =
                    akkoma_info.then(|| COMMENTS[(r("comment") % COMMENTS.len() as u64) as usize]);
                (severity, Some(policy), comment, false)
            }
        };
        out.push(SimBlock {
            blocker: server.domain.clone(),
            target,
            severity,
            policy,
            comment,
            obfuscated,
            from,
            until,
        });
    }
    out
}

/// Whether `server` publishes its block list at `at` (in the document [`source_of`] names), as
/// its endpoints answer then: Mastodon from 4.0 when the admin shows blocks and the server is
/// not in limited-federation mode; Lemmy whenever its peer list is public; Pleroma and Akkoma
/// whenever NodeInfo carries its metadata (MRF transparency). A server that is down or refuses the crawler publishes nothing
/// that day, which this does not say: ask [`World::state`] and robots.txt.
pub fn publishes(world: &World, server: &Server, at: DateTime<Utc>) -> bool {
    let seed = world.config().seed;
    match server.software {
        Software::Mastodon => {
            version_triple(world.version_at(server.id, at)) >= (4, 0, 0)
                && !server.quirks.has(Quirk::LimitedFederation)
                && trait_hash(seed, &server.domain, "show-domain-blocks") % 100
                    < SHOW_DOMAIN_BLOCKS_PERCENT
        }
        Software::Lemmy => {
            !server.quirks.has(Quirk::PeersDisabled) && !server.quirks.has(Quirk::LimitedFederation)
        }
        // A NodeInfo whose `metadata` the WrongTypes quirk turned into `[]` (Lemmy#4762's
        // shape) carries no policy.
        Software::Pleroma | Software::Akkoma => {
            !(server.quirks.has(Quirk::WrongTypes)
                && trait_hash(seed, &server.domain, "wrong-types") % 3 == 2)
        }
        _ => false,
    }
}

/// The blocks `server`'s list shows at `at`, when it publishes one ([`publishes`]).
pub fn published(world: &World, server: &Server, at: DateTime<Utc>) -> Option<Vec<SimBlock>> {
    publishes(world, server, at).then(|| {
        blocks_of(world, server)
            .into_iter()
            .filter(|b| b.active(at))
            .collect()
    })
}

/// The blocks in place at `at`, published or not (Mastodon counts them in `domain_count`).
pub fn active(world: &World, server: &Server, at: DateTime<Utc>) -> Vec<SimBlock> {
    blocks_of(world, server)
        .into_iter()
        .filter(|b| b.active(at))
        .collect()
}

/// The truth's block columns, in order.
pub const COLUMNS: &[&str] = &[
    "blocker",
    "blocked",
    "published_as",
    "digest",
    "severity",
    "policy",
    "comment",
    "source",
    "from",
    "until",
    "published_now",
];

/// Writes one row per block begun by `at` of a server born by `at` (servers in id order, each
/// server's blocks in its list's order): who blocks whom, from when until when (`until` empty
/// while the block stands or when it is lifted after `at`), how, and whether the blocker's list
/// is published at `at`.
pub fn write_csv<W: std::io::Write>(
    world: &World,
    at: DateTime<Utc>,
    out: W,
) -> Result<(), crate::truth::Error> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(COLUMNS)?;
    for server in world.servers() {
        if !world.is_born(server.id, at) {
            continue;
        }
        let Some(source) = source_of(server) else {
            continue;
        };
        let publishing = publishes(world, server, at);
        for block in blocks_of(world, server) {
            if block.from > at {
                continue;
            }
            let until = block
                .until
                .filter(|u| *u <= at)
                .map(|u| u.to_rfc3339())
                .unwrap_or_default();
            writer.write_record([
                block.blocker.as_str(),
                block.target.as_str(),
                &block.published_domain(),
                &block.digest(),
                block.severity,
                block.policy.unwrap_or(""),
                block.comment.unwrap_or(""),
                source.as_str(),
                &block.from.to_rfc3339(),
                &until,
                if publishing { "true" } else { "false" },
            ])?;
        }
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obfuscation_keeps_the_ends_and_the_dots() {
        // The DomainBlock entity of Mastodon's documentation shows this very pattern.
        assert_eq!(obfuscate("dajiaweibo.com"), "daji******.com");
        assert_eq!(obfuscate("mastodon.social"), "mast****.***ial");
    }
}
