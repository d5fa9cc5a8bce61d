//! Block lists servers publish, stored as edges over time (migration 0033).
//!
//! Each server whose block list was read has a `block_lists` row: its first and latest read. An
//! edge is one (blocker, domain as published, severity) over an interval of reads: `first_seen`
//! the read that first listed it, `last_seen` the latest read that did. It is **current** while
//! its `last_seen` is its blocker's latest read; a read that no longer lists it leaves it where
//! it was (the last time it was seen), and a block that comes back later opens a new edge, so
//! "who blocked whom, when" keeps every interval. A comment that changes is updated in place (the
//! latest wins); a changed severity is a new edge (the old one ends).
//!
//! An obfuscated entry (`daji******.com`) is matched to a known server, never guessed from its
//! pattern: [`Storage::match_block_digests`] hashes the domain of every server the census knows
//! and fills `blocked` where the SHA-256 equals the published digest; a new edge of a digest
//! matched before takes that match at once. An entry without a digest (Pleroma's obfuscation)
//! stays unmatched.
//!
//! A list older than the server's latest read (a replayed or out-of-order write) changes nothing:
//! intervals only grow forward, and a retried write of the latest read is a no-op.

use crate::db::{count_of, stored_count, stored_instant, Conn, Sql, Storage};
use crate::error::Result;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use fedicensus_core::blocks::BlockList;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The SHA-256 of a domain, in lowercase hex (Mastodon's `DomainBlock#digest`).
pub fn domain_digest(domain: &str) -> String {
    format!("{:x}", Sha256::digest(domain.as_bytes()))
}

#[derive(sqlx::FromRow)]
struct ListRow {
    last_read: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct OpenRow {
    id: i64,
    published: String,
    digest: Option<String>,
    severity: String,
    comment: Option<String>,
}

impl OpenRow {
    /// What identifies the block in its list: the domain as published, the severity, and for an
    /// obfuscated entry its digest (two may share a pattern).
    fn key(&self) -> (&str, &str, Option<&str>) {
        let digest = if self.published.contains('*') {
            self.digest.as_deref()
        } else {
            None
        };
        (self.published.as_str(), self.severity.as_str(), digest)
    }
}

#[derive(sqlx::FromRow)]
struct MatchRow {
    blocked: Option<String>,
}

/// Records that server `blocker_id` published `list` at `at` (a stored instant).
pub(crate) async fn record_block_list(
    conn: &mut Conn<'_>,
    blocker_id: i64,
    list: &BlockList,
    at: DateTime<Utc>,
) -> Result<()> {
    let at = stored_instant(at);
    let state = conn
        .fetch_optional::<ListRow>(
            Sql::new("SELECT last_read FROM block_lists WHERE server_id = $1").bind(blocker_id),
            "reading a server's latest block list",
        )
        .await?;
    if state.as_ref().is_some_and(|s| at <= s.last_read) {
        // The same read again (a retried write) or an older one: intervals only grow forward.
        return Ok(());
    }
    let open: Vec<OpenRow> = match &state {
        Some(s) => {
            conn.fetch_all::<OpenRow>(
                Sql::new(
                    "SELECT id, published, digest, severity, comment FROM block_edges \
                     WHERE blocker_id = $1 AND last_seen = $2",
                )
                .bind(blocker_id)
                .bind(s.last_read),
                "reading a server's current blocks",
            )
            .await?
        }
        None => Vec::new(),
    };
    let open: HashMap<(&str, &str, Option<&str>), &OpenRow> =
        open.iter().map(|r| (r.key(), r)).collect();
    let mut still: Vec<i64> = Vec::new();
    let mut seen: HashSet<(&str, &str, Option<&str>)> = HashSet::new();
    for block in &list.blocks {
        let digest = if block.obfuscated {
            block.digest.as_deref()
        } else {
            None
        };
        let key = (block.domain.as_str(), block.severity.as_str(), digest);
        if !seen.insert(key) {
            continue;
        }
        if let Some(row) = open.get(&key) {
            still.push(row.id);
            if row.comment != block.comment {
                conn.execute(
                    Sql::new("UPDATE block_edges SET comment = $1 WHERE id = $2")
                        .bind(block.comment.clone())
                        .bind(row.id),
                    "updating a block's comment",
                )
                .await?;
            }
            continue;
        }
        let (digest, blocked) = if block.obfuscated {
            let matched = match &block.digest {
                Some(digest) => conn
                    .fetch_optional::<MatchRow>(
                        Sql::new(
                            "SELECT blocked FROM block_edges \
                             WHERE digest = $1 AND blocked IS NOT NULL AND blocked <> published \
                             LIMIT 1",
                        )
                        .bind(digest.clone()),
                        "looking up a matched digest",
                    )
                    .await?
                    .and_then(|r| r.blocked),
                None => None,
            };
            (block.digest.clone(), matched)
        } else {
            (
                Some(domain_digest(&block.domain)),
                Some(block.domain.clone()),
            )
        };
        conn.execute(
            Sql::new(
                "INSERT INTO block_edges (blocker_id, published, digest, blocked, severity, \
                 comment, source, first_seen, last_seen) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(blocker_id)
            .bind(block.domain.clone())
            .bind(digest)
            .bind(blocked)
            .bind(block.severity.clone())
            .bind(block.comment.clone())
            .bind(list.source.as_str())
            .bind(at),
            "opening a block edge",
        )
        .await?;
    }
    for chunk in still.chunks(500) {
        let ids = serde_json::to_string(chunk).expect("a list of integers serialises");
        let list_sql = match conn.backend() {
            crate::Backend::Sqlite => "SELECT j.value FROM json_each($2) AS j".to_owned(),
            crate::Backend::Postgres => {
                "SELECT j.value::bigint FROM json_array_elements_text($2::json) AS j(value)"
                    .to_owned()
            }
        };
        conn.execute(
            Sql::new(format!(
                "UPDATE block_edges SET last_seen = $1 WHERE id IN ({list_sql})"
            ))
            .bind(at)
            .bind(ids),
            "confirming block edges",
        )
        .await?;
    }
    conn.execute(
        Sql::new(
            "INSERT INTO block_lists (server_id, source, first_read, last_read, blocks) \
             VALUES ($1, $2, $3, $3, $4) ON CONFLICT (server_id) DO UPDATE SET \
             source = excluded.source, last_read = excluded.last_read, blocks = excluded.blocks",
        )
        .bind(blocker_id)
        .bind(list.source.as_str())
        .bind(at)
        .bind(stored_count(list.blocks.len() as u64)),
        "remembering a server's block list",
    )
    .await?;
    Ok(())
}

/// Which edges to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockFilter {
    /// Every edge.
    All,
    /// The edges of one blocker (its published list over time).
    Blocker(String),
    /// The edges naming one blocked domain (plain, or an obfuscated entry matched to it).
    Blocked(String),
}

/// One block edge, with its blocker's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockEdge {
    pub blocker: String,
    /// The domain as the list published it (a name, or an obfuscated pattern).
    pub published: String,
    /// The SHA-256 of the blocked name (published, or of the plain name).
    pub digest: Option<String>,
    /// The blocked name: the plain name, or the known server whose digest matched; `None` for an
    /// obfuscated entry no known server matches.
    pub blocked: Option<String>,
    pub severity: String,
    pub comment: Option<String>,
    /// The document: `domain_blocks`, `lemmy_blocked` or `mrf_simple`.
    pub source: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Whether the blocker's latest read listed it.
    pub current: bool,
}

#[derive(sqlx::FromRow)]
struct EdgeRow {
    blocker: String,
    published: String,
    digest: Option<String>,
    blocked: Option<String>,
    severity: String,
    comment: Option<String>,
    source: String,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    last_read: DateTime<Utc>,
}

/// A blocked domain and who blocks it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MostBlocked {
    pub domain: String,
    /// Servers whose latest read lists it (any severity).
    pub blockers: u64,
    /// Of those, the ones that suspend it (`suspend`).
    pub suspending: u64,
    /// The blockers' users: each blocker's latest reported total, summed (a blocker that
    /// reported none adds nothing).
    pub blockers_users: u64,
    /// Whether the census knows it as a server.
    pub known: bool,
}

/// The most-blocked domains now, and what could not be counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MostBlockedList {
    pub domains: Vec<MostBlocked>,
    /// Servers whose block list was read.
    pub lists_read: u64,
    /// Current obfuscated entries no known server matches (not counted under any domain).
    pub unmatched: u64,
}

/// How [`Storage::most_blocked`] ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockRanking {
    /// By how many servers block the domain.
    Servers,
    /// By the users of the servers that block it.
    Users,
}

/// Blocks added and removed in one week (Monday to Sunday, UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlocksWeek {
    pub week_start: NaiveDate,
    /// Edges first seen this week on a blocker whose list had been read before (a block that
    /// appeared between two reads).
    pub added: u64,
    /// Edges last seen this week and not listed by their blocker's latest read (the next read
    /// no longer listed them).
    pub removed: u64,
    /// Edges first seen at their blocker's first read this week: already there when fedicensus
    /// first read the list, so of unknown age and not counted as added.
    pub at_first_read: u64,
}

#[derive(sqlx::FromRow)]
struct WeekRow {
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    first_read: DateTime<Utc>,
    last_read: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct CurrentRow {
    blocker_id: i64,
    blocked: Option<String>,
    severity: String,
    users: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    n: i64,
}

#[derive(sqlx::FromRow)]
struct DigestRow {
    digest: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DomainRow {
    domain: String,
}

/// The domains of servers that asked not to be listed (opted out, or private or noindex at their
/// latest answer): never named in a per-server list, as blocker or blocked.
async fn unlisted_domains(conn: &mut Conn<'_>) -> Result<HashSet<String>> {
    let sql = Sql::new(format!(
        "SELECT s.domain FROM servers s WHERE NOT ({})",
        crate::export::listable("s")
    ));
    Ok(conn
        .fetch_all::<DomainRow>(sql, "reading unlisted servers")
        .await?
        .into_iter()
        .map(|r| r.domain)
        .collect())
}

/// One blocked domain's blockers: each blocker once, the suspending ones, each blocker's users.
type Blockers = (HashSet<i64>, HashSet<i64>, HashMap<i64, u64>);

/// The Monday that starts `day`'s week.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday()))
}

impl Storage {
    /// Matches obfuscated entries to the servers the census knows, by digest only: every known
    /// domain is hashed and each unmatched edge whose published digest equals one takes that
    /// domain. Returns how many edges were matched. The crawl calls it at the end of each pass.
    pub async fn match_block_digests(&self) -> Result<u64> {
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let wanted: HashSet<String> = conn
            .fetch_all::<DigestRow>(
                Sql::new(
                    "SELECT DISTINCT digest FROM block_edges \
                     WHERE blocked IS NULL AND digest IS NOT NULL",
                ),
                "reading unmatched block digests",
            )
            .await?
            .into_iter()
            .filter_map(|r| r.digest)
            .collect();
        if wanted.is_empty() {
            return Ok(0);
        }
        let mut found: BTreeMap<String, String> = BTreeMap::new();
        conn.for_each::<DomainRow, std::convert::Infallible>(
            Sql::new("SELECT domain FROM servers"),
            "hashing known domains",
            |row| {
                let digest = domain_digest(&row.domain);
                if wanted.contains(&digest) {
                    found.entry(digest).or_insert(row.domain);
                }
                Ok(())
            },
        )
        .await?
        .unwrap_or_else(|never| match never {});
        let mut matched = 0;
        for (digest, domain) in found {
            matched += conn
                .execute(
                    Sql::new(
                        "UPDATE block_edges SET blocked = $1 WHERE digest = $2 AND blocked IS NULL",
                    )
                    .bind(domain)
                    .bind(digest),
                    "matching obfuscated blocks",
                )
                .await?;
        }
        tx.commit().await?;
        Ok(matched)
    }

    /// Block edges, oldest first (then by blocker and published name), leaving out those that
    /// would name a server that asked not to be listed (as blocker or as blocked).
    pub async fn block_edges(&self, filter: &BlockFilter) -> Result<Vec<BlockEdge>> {
        let mut conn = self.acquire().await?;
        let mut conn = conn.conn();
        let base = "SELECT s.domain AS blocker, e.published, e.digest, e.blocked, e.severity, \
                    e.comment, e.source, e.first_seen, e.last_seen, l.last_read \
                    FROM block_edges e JOIN servers s ON s.id = e.blocker_id \
                    JOIN block_lists l ON l.server_id = e.blocker_id";
        let order = "ORDER BY e.first_seen, s.domain, e.published, e.severity, e.id";
        let sql = match filter {
            BlockFilter::All => Sql::new(format!("{base} {order}")),
            BlockFilter::Blocker(domain) => {
                Sql::new(format!("{base} WHERE s.domain = $1 {order}")).bind(domain.clone())
            }
            BlockFilter::Blocked(domain) => {
                Sql::new(format!("{base} WHERE e.blocked = $1 {order}")).bind(domain.clone())
            }
        };
        let rows = conn
            .fetch_all::<EdgeRow>(sql, "reading block edges")
            .await?;
        let unlisted = unlisted_domains(&mut conn).await?;
        Ok(rows
            .into_iter()
            .filter(|r| {
                !unlisted.contains(&r.blocker)
                    && !r.blocked.as_ref().is_some_and(|b| unlisted.contains(b))
            })
            .map(|r| BlockEdge {
                current: r.last_seen == r.last_read,
                blocker: r.blocker,
                published: r.published,
                digest: r.digest,
                blocked: r.blocked,
                severity: r.severity,
                comment: r.comment,
                source: r.source,
                first_seen: r.first_seen,
                last_seen: r.last_seen,
            })
            .collect())
    }

    /// The domains the most servers block now (their latest read lists them), at most `limit`,
    /// ranked as `ranking` says (ties by name). Every blocker counts; a domain that is a server
    /// that asked not to be listed is not named.
    pub async fn most_blocked(
        &self,
        ranking: BlockRanking,
        limit: usize,
    ) -> Result<MostBlockedList> {
        let mut conn = self.acquire().await?;
        let mut conn = conn.conn();
        let rows = conn
            .fetch_all::<CurrentRow>(
                Sql::new(
                    "SELECT e.blocker_id, e.blocked, e.severity, \
                     (SELECT o.users_total FROM observations o \
                      WHERE o.server_id = e.blocker_id AND o.outcome = 'ok' \
                      AND o.users_total IS NOT NULL \
                      ORDER BY o.observed_at DESC LIMIT 1) AS users \
                     FROM block_edges e JOIN block_lists l ON l.server_id = e.blocker_id \
                     WHERE e.last_seen = l.last_read",
                ),
                "reading current blocks",
            )
            .await?;
        let lists_read = conn
            .fetch_one::<CountRow>(
                Sql::new("SELECT count(*) AS n FROM block_lists"),
                "counting block lists",
            )
            .await?
            .n;
        let known: HashSet<String> = {
            let names: Vec<String> = rows.iter().filter_map(|r| r.blocked.clone()).collect();
            let mut known = HashSet::new();
            for chunk in names.chunks(500) {
                let list = serde_json::to_string(chunk).expect("a list of strings serialises");
                let sql = Sql::new(format!(
                    "SELECT s.domain FROM {} JOIN servers s ON s.domain = j.value",
                    crate::servers::json_names(conn.backend(), "$1")
                ))
                .bind(list);
                for row in conn
                    .fetch_all::<DomainRow>(sql, "naming known servers")
                    .await?
                {
                    known.insert(row.domain);
                }
            }
            known
        };
        let unlisted = unlisted_domains(&mut conn).await?;
        let mut unmatched = 0;
        // Per domain: blockers (each once), suspending blockers, blockers' users.
        let mut by_domain: HashMap<String, Blockers> = HashMap::new();
        for row in rows {
            let Some(domain) = row.blocked else {
                unmatched += 1;
                continue;
            };
            let entry = by_domain.entry(domain).or_default();
            entry.0.insert(row.blocker_id);
            if row.severity == "suspend" {
                entry.1.insert(row.blocker_id);
            }
            entry
                .2
                .insert(row.blocker_id, row.users.map(count_of).unwrap_or(0));
        }
        let mut domains: Vec<MostBlocked> = by_domain
            .into_iter()
            .filter(|(domain, _)| !unlisted.contains(domain))
            .map(|(domain, (blockers, suspending, users))| MostBlocked {
                known: known.contains(&domain),
                domain,
                blockers: blockers.len() as u64,
                suspending: suspending.len() as u64,
                blockers_users: users.values().sum(),
            })
            .collect();
        domains.sort_by(|a, b| {
            let (ka, kb) = match ranking {
                BlockRanking::Servers => (
                    (a.blockers, a.blockers_users),
                    (b.blockers, b.blockers_users),
                ),
                BlockRanking::Users => (
                    (a.blockers_users, a.blockers),
                    (b.blockers_users, b.blockers),
                ),
            };
            kb.cmp(&ka).then_with(|| a.domain.cmp(&b.domain))
        });
        domains.truncate(limit);
        Ok(MostBlockedList {
            domains,
            lists_read: count_of(lists_read),
            unmatched,
        })
    }

    /// Blocks added and removed per week, from the first week a list was read to the latest,
    /// every week present (zeros included).
    pub async fn blocks_per_week(&self) -> Result<Vec<BlocksWeek>> {
        let mut conn = self.acquire().await?;
        let mut conn = conn.conn();
        let rows = conn
            .fetch_all::<WeekRow>(
                Sql::new(
                    "SELECT e.first_seen, e.last_seen, l.first_read, l.last_read \
                     FROM block_edges e JOIN block_lists l ON l.server_id = e.blocker_id",
                ),
                "reading block edges by week",
            )
            .await?;
        let reads = conn
            .fetch_all::<WeekRow>(
                Sql::new(
                    "SELECT first_read AS first_seen, last_read AS last_seen, first_read, \
                     last_read FROM block_lists",
                ),
                "reading block list reads",
            )
            .await?;
        let (Some(first), Some(last)) = (
            reads.iter().map(|r| r.first_read).min(),
            reads.iter().map(|r| r.last_read).max(),
        ) else {
            return Ok(Vec::new());
        };
        let mut weeks: BTreeMap<NaiveDate, BlocksWeek> = BTreeMap::new();
        let mut week = week_start(first.date_naive());
        while week <= last.date_naive() {
            weeks.insert(
                week,
                BlocksWeek {
                    week_start: week,
                    added: 0,
                    removed: 0,
                    at_first_read: 0,
                },
            );
            week += TimeDelta::days(7);
        }
        for row in rows {
            let start = week_start(row.first_seen.date_naive());
            if let Some(w) = weeks.get_mut(&start) {
                if row.first_seen > row.first_read {
                    w.added += 1;
                } else {
                    w.at_first_read += 1;
                }
            }
            if row.last_seen < row.last_read {
                if let Some(w) = weeks.get_mut(&week_start(row.last_seen.date_naive())) {
                    w.removed += 1;
                }
            }
        }
        Ok(weeks.into_values().collect())
    }
}
