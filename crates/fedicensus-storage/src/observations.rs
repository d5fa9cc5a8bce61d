//! Recording what the crawler saw: one transaction per [`Observation`].
//!
//! Recording is idempotent: the observation's key is (server, observed_at), so a retried or
//! resumed write finds its row and changes nothing. Everything a visit implies is written with
//! it, atomically: the server row (created if needed), the observation and every measurement with
//! its source, the weekly activity (upserted: the latest report of a week wins), the peer edges,
//! the servers its peer list revealed (with the provenance), the quality flags, and the server's
//! scheduling state.

use crate::bulk::placeholders;
use crate::db::{count_of, stored_count, stored_instant, Conn, Sql, Storage, Transaction};
use crate::error::Result;
use crate::methodology::{confirms, DEATH_AFTER};
use crate::peers::record_peer_list;
use crate::plausibility::{self, Claim};
use crate::quality::{self, metric_column, Previous, QualityFlag};
use crate::servers::{insert_servers, record_sibling, ServerStatus, SEED};
use chrono::{DateTime, Duration, Utc};
use fedicensus_core::{Metric, Observation, Outcome};

/// After a successful visit, a server is next due this much later (unless the crawler says).
pub const DEFAULT_RECHECK_ALIVE: Duration = Duration::days(1);
/// After the first failure in a row, a server is retried this much later; each further failure
/// doubles it, up to [`DEFAULT_RETRY_MAX`].
pub const DEFAULT_RETRY_FIRST: Duration = Duration::hours(1);
/// The longest wait between two visits of a failing server (dead servers are still rechecked).
pub const DEFAULT_RETRY_MAX: Duration = Duration::days(7);
/// A server that said it is gone, moved or opted out is rechecked this much later.
pub const DEFAULT_RECHECK_GONE: Duration = Duration::days(30);

/// A crawl run's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub i64);

/// What recording an observation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The stored observation's id (the existing one if it was already stored).
    pub observation_id: i64,
    /// False when the same observation (server, observed_at) was already stored: nothing changed.
    pub newly_stored: bool,
    /// Servers first learnt of through this observation's peer list or move.
    pub servers_discovered: u64,
    /// The quality flags attached to it.
    pub flags: Vec<QualityFlag>,
}

#[derive(sqlx::FromRow)]
struct ServerState {
    id: i64,
    first_seen: DateTime<Utc>,
    status: String,
    last_observed_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    last_answered_at: Option<DateTime<Utc>>,
    consecutive_failures: i64,
}

#[derive(sqlx::FromRow)]
struct PreviousRow {
    observed_at: DateTime<Utc>,
    users_total: Option<i64>,
    users_active_month: Option<i64>,
    local_posts: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: i64,
}

/// The status a visit implies, given the server's history: `last_answered_at` is its latest
/// answer before this visit (a success, or a robots.txt refusal: either says it is running).
/// `None` for an `inconclusive` visit, which says nothing about the server (its status stays).
pub(crate) fn status_after(
    outcome: &Outcome,
    observed_at: DateTime<Utc>,
    first_seen: DateTime<Utc>,
    last_answered_at: Option<DateTime<Utc>>,
) -> Option<ServerStatus> {
    Some(match outcome {
        // A robots.txt refusal is an answer: the server is up and has opted out of being read
        // (never unreachable, never dead; it is not listed by name).
        Outcome::Ok | Outcome::RobotsDisallowed => ServerStatus::Alive,
        Outcome::Inconclusive => return None,
        Outcome::Moved => ServerStatus::Moved,
        Outcome::OptedOut => ServerStatus::OptedOut,
        Outcome::HttpStatus(410) => ServerStatus::Gone,
        _ => {
            let since = last_answered_at.unwrap_or(first_seen);
            if observed_at - since >= DEATH_AFTER {
                ServerStatus::Dead
            } else {
                ServerStatus::Unreachable
            }
        }
    })
}

/// When a server is next due after a visit, unless the crawler decides otherwise.
pub fn default_next_due(
    outcome: &Outcome,
    observed_at: DateTime<Utc>,
    consecutive_failures: u32,
) -> DateTime<Utc> {
    let wait = match outcome {
        Outcome::Ok => DEFAULT_RECHECK_ALIVE,
        Outcome::Moved | Outcome::OptedOut | Outcome::HttpStatus(410) => DEFAULT_RECHECK_GONE,
        Outcome::RobotsDisallowed => DEFAULT_RECHECK_ALIVE,
        Outcome::Inconclusive => DEFAULT_RETRY_FIRST,
        _ => {
            let doublings = consecutive_failures.saturating_sub(1).min(16);
            (DEFAULT_RETRY_FIRST * 2_i32.pow(doublings)).min(DEFAULT_RETRY_MAX)
        }
    };
    observed_at + wait
}

pub(crate) async fn record_observation(
    conn: &mut Conn<'_>,
    obs: &Observation,
    run: Option<RunId>,
) -> Result<Recorded> {
    let at = stored_instant(obs.observed_at);
    let host = obs.host.as_str();

    // The server row: created if this is the first we hear of it, and first_seen moved back if
    // an older observation is replayed.
    insert_servers(conn, &[host], at, SEED).await?;
    let server = conn
        .fetch_one::<ServerState>(
            Sql::new(
                "SELECT id, first_seen, status, last_observed_at, last_success_at, \
                 last_answered_at, consecutive_failures FROM servers WHERE domain = $1",
            )
            .bind(host),
            "reading a server's state",
        )
        .await?;
    if at < server.first_seen {
        conn.execute(
            Sql::new("UPDATE servers SET first_seen = $1 WHERE id = $2")
                .bind(at)
                .bind(server.id),
            "moving first_seen back",
        )
        .await?;
    }

    let previous = conn
        .fetch_optional::<PreviousRow>(
            Sql::new(
                "SELECT observed_at, users_total, users_active_month, local_posts \
                 FROM observations WHERE server_id = $1 AND outcome = 'ok' AND observed_at < $2 \
                 ORDER BY observed_at DESC LIMIT 1",
            )
            .bind(server.id)
            .bind(at),
            "reading the previous observation",
        )
        .await?
        .map(|p| Previous {
            observed_at: Some(p.observed_at),
            users_total: p.users_total.map(count_of),
            users_active_month: p.users_active_month.map(count_of),
            local_posts: p.local_posts.map(count_of),
        })
        .unwrap_or_default();

    let software = obs.software.as_ref();
    let figure = |m: Metric| obs.best(m).map(stored_count);
    let inserted = conn
        .fetch_optional::<IdRow>(
            Sql::new(
                "INSERT INTO observations (server_id, observed_at, outcome, duration_ms, \
                 nodeinfo_version, software_raw_name, software_raw_version, software_family, \
                 software_version, open_registrations, flag_private, flag_noindex, \
                 flag_limited_federation, flag_peers_hidden, moved_to, peer_count, users_total, \
                 users_active_month, local_posts, crawl_run_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, $18, $19, $20) \
                 ON CONFLICT (server_id, observed_at) DO NOTHING RETURNING id",
            )
            .bind(server.id)
            .bind(at)
            .bind(obs.outcome.as_str())
            .bind(stored_count(obs.duration_ms))
            .bind(obs.nodeinfo_version.clone())
            .bind(software.map(|s| s.raw_name.clone()))
            .bind(software.map(|s| s.raw_version.clone()))
            .bind(software.map(|s| s.family.as_str().to_owned()))
            .bind(software.and_then(|s| s.version.clone()))
            .bind(obs.open_registrations)
            .bind(obs.flags.private)
            .bind(obs.flags.noindex)
            .bind(obs.flags.limited_federation)
            .bind(obs.flags.peers_hidden)
            .bind(obs.moved_to.as_ref().map(|h| h.as_str().to_owned()))
            .bind(obs.peers.as_ref().map(|p| stored_count(p.len() as u64)))
            .bind(figure(Metric::UsersTotal))
            .bind(figure(Metric::UsersActiveMonth))
            .bind(figure(Metric::LocalPosts))
            .bind(run.map(|r| r.0)),
            "inserting an observation",
        )
        .await?;
    let Some(IdRow { id: observation_id }) = inserted else {
        // Already stored: a retried write. Change nothing.
        let existing = conn
            .fetch_one::<IdRow>(
                Sql::new("SELECT id FROM observations WHERE server_id = $1 AND observed_at = $2")
                    .bind(server.id)
                    .bind(at),
                "finding an existing observation",
            )
            .await?;
        return Ok(Recorded {
            observation_id: existing.id,
            newly_stored: false,
            servers_discovered: 0,
            flags: Vec::new(),
        });
    };

    insert_measurements(conn, observation_id, obs).await?;
    insert_languages(conn, observation_id, obs).await?;
    insert_location(conn, observation_id, obs).await?;

    for week in &obs.activity {
        conn.execute(
            Sql::new(
                "INSERT INTO activity (server_id, week_start, statuses, logins, registrations, \
                 observation_id, reported_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (server_id, week_start) DO UPDATE SET statuses = excluded.statuses, \
                 logins = excluded.logins, registrations = excluded.registrations, \
                 observation_id = excluded.observation_id, reported_at = excluded.reported_at \
                 WHERE excluded.reported_at >= activity.reported_at",
            )
            .bind(server.id)
            .bind(stored_instant(week.week_start))
            .bind(stored_count(week.statuses))
            .bind(stored_count(week.logins))
            .bind(stored_count(week.registrations))
            .bind(observation_id)
            .bind(at),
            "upserting weekly activity",
        )
        .await?;
    }

    let mut discovered = 0;
    if let Some(moved_to) = &obs.moved_to {
        discovered += insert_servers(conn, &[moved_to.as_str()], at, host).await?;
    }
    // The main domain of a server of several domains, named by this host's NodeInfo link: a
    // server in its own right, revealed by this one.
    if let Some(other) = &obs.nodeinfo_elsewhere {
        discovered += insert_servers(conn, &[other.as_str()], at, host).await?;
        record_sibling(conn, server.id, other, at).await?;
    }
    if let Some(peers) = &obs.peers {
        discovered += record_peer_list(conn, server.id, host, peers, at).await?;
    }
    if let Some(blocks) = &obs.blocks {
        crate::blocks::record_block_list(conn, server.id, blocks, at).await?;
    }

    let mut flags = quality::check(obs, &previous);
    let mut flag_rows: Vec<(i64, QualityFlag)> =
        flags.iter().map(|f| (observation_id, f.clone())).collect();
    // The census-wide rules: this claim beside its registrable domain's other hosts and the rest
    // of the census (they may also flag a sibling's earlier claim).
    let users_total = obs.best(Metric::UsersTotal);
    if obs.outcome.is_ok() && plausibility::is_large(users_total) {
        let claim = Claim {
            observation_id,
            host,
            observed_at: obs.observed_at,
            users_total: users_total.unwrap_or(0),
            run: run.map(|r| r.0),
        };
        for (id, flag) in plausibility::check_claims(conn, &[claim]).await? {
            if id == observation_id {
                flags.push(flag.clone());
            }
            flag_rows.push((id, flag));
        }
    }
    for (id, flag) in &flag_rows {
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

    update_server(conn, &server, obs, at).await?;

    Ok(Recorded {
        observation_id,
        newly_stored: true,
        servers_discovered: discovered,
        flags,
    })
}

async fn insert_measurements(
    conn: &mut Conn<'_>,
    observation_id: i64,
    obs: &Observation,
) -> Result<()> {
    for chunk in obs.measurements.chunks(200) {
        let mut text = String::from(
            "INSERT INTO measurements (observation_id, metric, source, value) VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                text.push_str(", ");
            }
            let n = 3 * i;
            text.push_str(&format!("($1, ${}, ${}, ${})", n + 2, n + 3, n + 4));
        }
        text.push_str(" ON CONFLICT DO NOTHING");
        let mut sql = Sql::new(text).bind(observation_id);
        for m in chunk {
            sql = sql
                .bind(m.metric.as_str())
                .bind(m.source.as_str())
                .bind(stored_count(m.value));
        }
        conn.execute(sql, "inserting measurements").await?;
    }
    Ok(())
}

/// The visit's declared languages, in core's order: position 0 is its primary language. Core
/// keeps at most a few documents' worth (each capped), so one statement holds them.
async fn insert_languages(
    conn: &mut Conn<'_>,
    observation_id: i64,
    obs: &Observation,
) -> Result<()> {
    let ordered = fedicensus_core::language::ordered(&obs.languages);
    if ordered.is_empty() {
        return Ok(());
    }
    let text = format!(
        "INSERT INTO observation_languages (observation_id, source, language, position) \
         VALUES {} ON CONFLICT DO NOTHING",
        placeholders(conn.backend(), ordered.len(), 4)
    );
    let mut sql = Sql::new(text);
    for (position, l) in ordered.into_iter().enumerate() {
        sql = sql
            .bind(observation_id)
            .bind(l.source.as_str())
            .bind(l.language)
            .bind(position as i64);
    }
    conn.execute(sql, "inserting declared languages")
        .await
        .map(|_| ())
}

/// The country and network of the visit's address, when the crawler had a geolocation database.
async fn insert_location(
    conn: &mut Conn<'_>,
    observation_id: i64,
    obs: &Observation,
) -> Result<()> {
    let Some(l) = &obs.location else {
        return Ok(());
    };
    let sql = Sql::new(
        "INSERT INTO observation_geo (observation_id, country, asn, as_organization, database) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(observation_id)
    .bind(l.country.clone())
    .bind(l.asn.map(i64::from))
    .bind(l.as_organization.clone())
    .bind(l.database.clone());
    conn.execute(sql, "inserting the visit's location")
        .await
        .map(|_| ())
}

/// Updates the server's cached state and schedule, if this visit is its newest (a replayed older
/// visit must not roll the state back; it may still be the latest success or answer). An
/// `inconclusive` visit changes only when the server is due (soon) and releases its lease: it
/// says nothing about the server.
async fn update_server(
    conn: &mut Conn<'_>,
    server: &ServerState,
    obs: &Observation,
    at: DateTime<Utc>,
) -> Result<()> {
    let ok = obs.outcome.is_ok();
    let answered = obs.outcome.answered();
    let newest = server.last_observed_at.is_none_or(|last| at >= last);
    if confirms(&obs.outcome) {
        // The earliest confirming visit, whatever order visits are recorded in.
        conn.execute(
            Sql::new(
                "UPDATE servers SET first_confirmed_at = $1 WHERE id = $2 \
                 AND (first_confirmed_at IS NULL OR first_confirmed_at > $1)",
            )
            .bind(at)
            .bind(server.id),
            "recording when a server was confirmed",
        )
        .await?;
    }
    if !obs.outcome.is_conclusive() {
        if newest {
            let next_due = stored_instant(default_next_due(&obs.outcome, at, 0));
            conn.execute(
                Sql::new(
                    "UPDATE servers SET next_due = $1, lease_owner = NULL, lease_expires = NULL \
                     WHERE id = $2",
                )
                .bind(next_due)
                .bind(server.id),
                "rescheduling a server after an inconclusive visit",
            )
            .await?;
        }
        return Ok(());
    }
    if !newest {
        if ok && server.last_success_at.is_none_or(|last| at > last) {
            conn.execute(
                Sql::new("UPDATE servers SET last_success_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(server.id),
                "updating a server's last success",
            )
            .await?;
        }
        if answered && server.last_answered_at.is_none_or(|last| at > last) {
            conn.execute(
                Sql::new("UPDATE servers SET last_answered_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(server.id),
                "updating a server's last answer",
            )
            .await?;
        }
        return Ok(());
    }
    let failures = if answered {
        0
    } else {
        u32::try_from(server.consecutive_failures)
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    };
    let last_success = if ok { Some(at) } else { server.last_success_at };
    let last_answered = if answered {
        Some(at)
    } else {
        server.last_answered_at
    };
    let current = ServerStatus::parse(&server.status)?;
    // An opt-out is final until an operator says otherwise.
    let status = if current == ServerStatus::OptedOut {
        current
    } else {
        status_after(&obs.outcome, at, server.first_seen, server.last_answered_at)
            .unwrap_or(current)
    };
    let next_due = stored_instant(default_next_due(&obs.outcome, at, failures));
    let family = obs
        .software
        .as_ref()
        .filter(|_| ok)
        .map(|s| s.family.as_str().to_owned());
    conn.execute(
        Sql::new(
            "UPDATE servers SET status = $1, moved_to = COALESCE($2, moved_to), \
             software = COALESCE($3, software), last_observed_at = $4, last_success_at = $5, \
             last_outcome = $6, consecutive_failures = $7, next_due = $8, \
             lease_owner = NULL, lease_expires = NULL, last_answered_at = $9 WHERE id = $10",
        )
        .bind(status.as_str())
        .bind(obs.moved_to.as_ref().map(|h| h.as_str().to_owned()))
        .bind(family)
        .bind(at)
        .bind(last_success)
        .bind(obs.outcome.as_str())
        .bind(i64::from(failures))
        .bind(next_due)
        .bind(last_answered)
        .bind(server.id),
        "updating a server's state",
    )
    .await
    .map(|_| ())
}

impl Transaction {
    /// Records one visit and everything it implies (see the module docs). Idempotent: recording
    /// the same (host, observed_at) again changes nothing and says so in
    /// [`Recorded::newly_stored`].
    pub async fn record_observation(
        &mut self,
        obs: &Observation,
        run: Option<RunId>,
    ) -> Result<Recorded> {
        record_observation(&mut self.conn(), obs, run).await
    }
}

impl Storage {
    /// [`Transaction::record_observation`] in its own transaction.
    pub async fn record_observation(
        &self,
        obs: &Observation,
        run: Option<RunId>,
    ) -> Result<Recorded> {
        let mut tx = self.begin().await?;
        let recorded = tx.record_observation(obs, run).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Records a crawler's finished visits in one transaction (one commit, one fsync) through
    /// the bulk path ([`Transaction::ingest_bulk`]: what recording them one by one in time order
    /// stores, in a few statements a table instead of about seven a visit), and ends `worker`'s
    /// lease on each host, setting when it is next due (the crawler's schedule, which overrides
    /// the default one recording sets). What each recording did, in
    /// the same order. A failed write loses the whole batch, which a resumed crawl visits again
    /// (its leases expire or are released on restart); a replayed visit changes nothing.
    pub async fn record_visits(
        &self,
        visits: &[(Observation, DateTime<Utc>)],
        run: Option<RunId>,
        worker: &str,
    ) -> Result<Vec<Recorded>> {
        let mut tx = self.begin().await?;
        let observations: Vec<&Observation> = visits.iter().map(|(obs, _)| obs).collect();
        let recorded = crate::bulk::ingest_bulk(&mut tx.conn(), &observations, run).await?;
        let due: Vec<(&str, DateTime<Utc>)> = visits
            .iter()
            .map(|(obs, next_due)| (obs.host.as_str(), *next_due))
            .collect();
        crate::bulk::release_due(&mut tx.conn(), &due, worker).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Records many visits in one transaction (one commit, one fsync), in order; what each
    /// recording did, in the same order. For bulk loads and benchmarks: a crawler that wants a
    /// failed write to lose only one visit records them one by one.
    pub async fn record_observations(
        &self,
        observations: &[Observation],
        run: Option<RunId>,
    ) -> Result<Vec<Recorded>> {
        let mut tx = self.begin().await?;
        let mut recorded = Vec::with_capacity(observations.len());
        for obs in observations {
            recorded.push(tx.record_observation(obs, run).await?);
        }
        tx.commit().await?;
        Ok(recorded)
    }
}
