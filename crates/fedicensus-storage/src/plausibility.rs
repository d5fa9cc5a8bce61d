//! Plausibility against the rest of the census: the checks of [`crate::quality`] that need more
//! than one server's own history.
//!
//! One party can claim as many users as it likes, on as many names as it can make up: 24
//! subdomains of one domain each claiming tens of millions of users would add more than the whole
//! fediverse. No list of bad domains can keep up with that, so two rules look at a claim beside
//! what the census already holds. A registrable domain (Public Suffix List) with more than
//! [`SIBLINGS_MAX_LARGE`](crate::quality::SIBLINGS_MAX_LARGE) hosts claiming large user counts
//! has every such claim flagged (`sibling_claims`, the earlier claims of its siblings included).
//! A user count far beyond the rest of the census together is flagged (`beyond_census_total`); a
//! claim recorded while the census knew too few servers to measure it is checked again at the
//! end of each crawl pass ([`Storage::recheck_claims`]). Flagged figures stay in the raw data
//! with their flag; cleaned series leave them out. Both rules read only claims of at least
//! [`SIBLING_LARGE_USERS`] users, a few servers in a hundred, so recording an ordinary visit
//! costs nothing more.

use crate::db::{count_of, stored_instant, Conn, Sql, Storage};
use crate::error::Result;
use crate::methodology::CARRY_FORWARD;
use crate::observations::RunId;
use crate::quality::{
    check_beyond_total, check_siblings, metric_column, CensusTotal, QualityFlag,
    BEYOND_TOTAL_MIN_USERS, SIBLING_LARGE_USERS,
};
use chrono::{DateTime, Utc};
use fedicensus_core::Host;
use std::collections::HashMap;

/// A stored successful visit claiming a user count.
#[derive(Debug, Clone)]
pub(crate) struct Claim<'a> {
    pub(crate) observation_id: i64,
    pub(crate) host: &'a str,
    pub(crate) observed_at: DateTime<Utc>,
    pub(crate) users_total: u64,
    /// The crawl run recording it: only claims of the same run are flagged after the fact.
    pub(crate) run: Option<i64>,
}

/// Whether a claim is large enough for the census-wide checks to read anything.
pub(crate) fn is_large(users_total: Option<u64>) -> bool {
    users_total.is_some_and(|u| u >= SIBLING_LARGE_USERS)
}

#[derive(sqlx::FromRow)]
struct SiblingRow {
    domain: String,
    id: i64,
    crawl_run_id: Option<i64>,
    observed_at: DateTime<Utc>,
    users_total: i64,
}

/// A server's latest unflagged user count in the carry-forward window.
#[derive(sqlx::FromRow)]
struct LatestRow {
    id: i64,
    domain: String,
    users_total: i64,
    crawl_run_id: Option<i64>,
}

/// Every confirmed server's latest successful visit with an unflagged user count in the
/// carry-forward window ending at `at`: the figures the cleaned series would sum. One probe per
/// confirmed server along the visits' index.
async fn latest_claims(conn: &mut Conn<'_>, at: DateTime<Utc>) -> Result<Vec<LatestRow>> {
    let since = stored_instant(at - CARRY_FORWARD);
    let at = stored_instant(at);
    conn.fetch_all::<LatestRow>(
        Sql::new(
            "SELECT o.id, s.domain, o.users_total, o.crawl_run_id FROM servers s \
             JOIN observations o ON o.id = ( \
               SELECT p.id FROM observations p \
               WHERE p.server_id = s.id AND p.outcome = 'ok' AND p.users_total IS NOT NULL \
               AND p.observed_at <= $1 AND p.observed_at > $2 \
               AND NOT EXISTS (SELECT 1 FROM quality_flags q \
                 WHERE q.observation_id = p.id AND q.metric IN ('users_total', '*')) \
               ORDER BY p.observed_at DESC LIMIT 1) \
             WHERE s.first_confirmed_at IS NOT NULL AND s.first_confirmed_at <= $1",
        )
        .bind(at)
        .bind(since),
        "reading the census' latest user counts",
    )
    .await
}

/// The `beyond_census_total` flags among `latest`: each count of at least
/// [`BEYOND_TOTAL_MIN_USERS`] against the counts of every other registrable domain. The large
/// counts are taken smallest first, and one that is flagged does not count towards the next: two
/// parties claiming tens of millions each cannot vouch for each other.
fn beyond_total_flags(latest: &[LatestRow]) -> Vec<(i64, QualityFlag)> {
    let registrable = |row: &LatestRow| {
        Host::from_normalised(row.domain.as_str())
            .registrable_domain()
            .to_owned()
    };
    let mut by_domain: HashMap<String, (u64, u64)> = HashMap::new();
    let (mut users, mut servers) = (0u64, 0u64);
    let mut large: Vec<&LatestRow> = Vec::new();
    for row in latest {
        let value = count_of(row.users_total);
        if value >= BEYOND_TOTAL_MIN_USERS {
            large.push(row);
            continue;
        }
        let entry = by_domain.entry(registrable(row)).or_default();
        entry.0 = entry.0.saturating_add(value);
        entry.1 += 1;
        users = users.saturating_add(value);
        servers += 1;
    }
    large.sort_by_key(|r| (r.users_total, r.id));
    let mut flags = Vec::new();
    for row in large {
        let value = count_of(row.users_total);
        let domain = registrable(row);
        let own = by_domain.get(&domain).copied().unwrap_or_default();
        let others = CensusTotal {
            users: users.saturating_sub(own.0),
            servers: servers.saturating_sub(own.1),
        };
        match check_beyond_total(value, others) {
            Some(flag) => flags.push((row.id, flag)),
            None => {
                let entry = by_domain.entry(domain).or_default();
                entry.0 = entry.0.saturating_add(value);
                entry.1 += 1;
                users = users.saturating_add(value);
                servers += 1;
            }
        }
    }
    flags
}

/// A `LIKE` pattern matching every subdomain of `domain` (`%` and `_` taken literally).
fn subdomains_pattern(domain: &str) -> String {
    let mut pattern = String::from("%.");
    for c in domain.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern
}

/// The flags the census-wide rules give each claim, as (observation id, flag): a claim's own, and
/// for a registrable domain with too many large claims, each sibling's latest claim too. Claims
/// must already be stored (siblings recorded in the same batch see each other), and their
/// servers' `first_confirmed_at` set.
pub(crate) async fn check_claims(
    conn: &mut Conn<'_>,
    claims: &[Claim<'_>],
) -> Result<Vec<(i64, QualityFlag)>> {
    let mut flags: Vec<(i64, QualityFlag)> = Vec::new();
    for claim in claims {
        if claim.users_total < SIBLING_LARGE_USERS {
            continue;
        }
        let at = stored_instant(claim.observed_at);
        let since = stored_instant(claim.observed_at - CARRY_FORWARD);
        let registrable = Host::from_normalised(claim.host)
            .registrable_domain()
            .to_owned();
        let pattern = subdomains_pattern(&registrable);

        // Each host of the registrable domain's latest successful visit with a user count in the
        // carry-forward window, as the cleaned series would read it.
        let rows = conn
            .fetch_all::<SiblingRow>(
                Sql::new(
                    "SELECT s.domain, o.id, o.crawl_run_id, o.observed_at, o.users_total FROM servers s \
                     JOIN observations o ON o.server_id = s.id \
                     WHERE (s.domain = $1 OR s.domain LIKE $2 ESCAPE '\\') \
                     AND o.outcome = 'ok' AND o.users_total IS NOT NULL \
                     AND o.observed_at <= $3 AND o.observed_at > $4",
                )
                .bind(registrable.as_str())
                .bind(pattern.as_str())
                .bind(at)
                .bind(since),
                "reading the claims of a registrable domain's hosts",
            )
            .await?;
        let mut latest: HashMap<String, (DateTime<Utc>, i64, u64, Option<i64>)> = HashMap::new();
        for row in rows {
            let value = (
                row.observed_at,
                row.id,
                count_of(row.users_total),
                row.crawl_run_id,
            );
            let entry = latest.entry(row.domain).or_insert(value);
            if row.observed_at > entry.0 {
                *entry = value;
            }
        }
        let large: Vec<(i64, Option<i64>)> = latest
            .values()
            .filter(|(_, _, users, _)| *users >= SIBLING_LARGE_USERS)
            .map(|(_, id, _, run)| (*id, *run))
            .collect();
        if let Some(flag) = check_siblings(&registrable, claim.users_total, large.len()) {
            // The claim, and its siblings' latest claims recorded by the same crawl run: a pass
            // is final when it ends, and recording later visits never changes an earlier pass's
            // figures (their next visits are flagged instead).
            let same_run = large
                .iter()
                .filter(|(_, run)| run.is_some() && *run == claim.run)
                .map(|(id, _)| *id);
            for id in same_run.chain([claim.observation_id]) {
                if !flags.iter().any(|(i, f)| *i == id && f.kind == flag.kind) {
                    flags.push((id, flag.clone()));
                }
            }
        }

        if claim.users_total >= BEYOND_TOTAL_MIN_USERS {
            let mut latest = latest_claims(conn, claim.observed_at).await?;
            // The claim itself, whether or not an earlier visit of its server is the latest.
            latest.retain(|r| r.domain != claim.host);
            latest.push(LatestRow {
                id: claim.observation_id,
                domain: claim.host.to_owned(),
                users_total: i64::try_from(claim.users_total).unwrap_or(i64::MAX),
                crawl_run_id: claim.run,
            });
            // Only the claim itself: while a first pass is under way the census is young, and a
            // large server it has measured against few others is checked again at the pass's
            // end (Storage::recheck_claims), not flagged now for an earlier visit.
            for (id, flag) in beyond_total_flags(&latest) {
                if id == claim.observation_id {
                    flags.push((id, flag));
                }
            }
        }
    }
    Ok(flags)
}

impl Storage {
    /// Checks every server's latest user count of the carry-forward window ending at `at`
    /// against the rest of the census as it stands, flagging (`beyond_census_total`) the counts
    /// far beyond it that crawl run `run` recorded. A claim recorded while the census knew too
    /// few servers to measure it (the first batches of a first pass) is checked here, so the
    /// crawl calls this at the end of each pass; claims of earlier passes are left as they were
    /// (an earlier pass's figures never change). Returns how many flags were added.
    pub async fn recheck_claims(&self, at: DateTime<Utc>, run: RunId) -> Result<u64> {
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let latest = latest_claims(&mut conn, at).await?;
        let flags: Vec<(i64, QualityFlag)> = beyond_total_flags(&latest)
            .into_iter()
            .filter(|(id, _)| {
                latest
                    .iter()
                    .any(|r| r.id == *id && r.crawl_run_id == Some(run.0))
            })
            .collect();
        for (id, flag) in &flags {
            conn.execute(
                Sql::new(
                    "INSERT INTO quality_flags (observation_id, kind, metric, reason) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(*id)
                .bind(flag.kind.as_str())
                .bind(metric_column(flag.metric))
                .bind(flag.reason.clone()),
                "inserting a quality flag",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(flags.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, domain: &str, users_total: i64) -> LatestRow {
        LatestRow {
            id,
            domain: domain.to_owned(),
            users_total,
            crawl_run_id: None,
        }
    }

    #[test]
    fn two_parties_claiming_tens_of_millions_cannot_vouch_for_each_other() {
        let mut latest: Vec<LatestRow> = (0..200)
            .map(|i| row(i, &format!("s{i}.example"), 40_000))
            .collect();
        latest.push(row(1_000, "mastodon.social", 2_000_000));
        latest.push(row(1_001, "one.example", 40_000_000));
        latest.push(row(1_002, "other.example", 45_000_000));
        let flagged: Vec<i64> = beyond_total_flags(&latest)
            .iter()
            .map(|(id, _)| *id)
            .collect();
        // 8 million users on 200 servers: mastodon.social is a quarter of them, the two claims
        // five times all of them.
        assert_eq!(flagged, [1_001, 1_002]);
    }

    #[test]
    fn the_subdomain_pattern_takes_wildcards_literally() {
        assert_eq!(subdomains_pattern("example.com"), "%.example.com");
        assert_eq!(subdomains_pattern("a_b%.c"), "%.a\\_b\\%.c");
    }
}
