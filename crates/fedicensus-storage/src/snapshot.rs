//! Every server's state as of a date, and one server's full history.
//!
//! A snapshot answers "what did the fediverse look like on date D?" from the observations made on
//! or before D only, with the same windows as the series, so its sums agree with the series'
//! point for D. A history answers "where does this number come from?": every visit of one server
//! with every measurement, its source, its crawl run and its quality flags.

use crate::db::{count_of, Conn, Sql, Storage};
use crate::error::{Error, Result};
use crate::methodology::{CARRY_FORWARD, DEATH_AFTER, UP_WINDOW};
use crate::observations::status_after;
use crate::series::midnight;
use crate::servers::{server_id, ServerStatus};
use chrono::{DateTime, NaiveDate, Utc};
use fedicensus_core::{Host, Outcome};
use std::collections::HashMap;

/// One server as it stood at the end of a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSnapshot {
    pub host: Host,
    pub first_seen: DateTime<Utc>,
    /// The server whose peer list revealed it, or `seed`.
    pub revealed_by: String,
    /// Its status as of the date, from its visits up to then (an operator's opt-out always
    /// applies).
    pub status: ServerStatus,
    /// Whether it answered (a success, or a robots.txt refusal) in the [`UP_WINDOW`] ending with
    /// the date.
    pub up: bool,
    /// Whether its latest answer as of the date was a robots.txt refusal: it is up and has opted
    /// out of being read (no figures, never listed).
    pub robots_opted_out: bool,
    pub software: Option<String>,
    pub software_version: Option<String>,
    pub last_observed_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// Figures carried forward at most [`CARRY_FORWARD`]; `None` is "not reported".
    pub users_total: Option<u64>,
    pub users_active_month: Option<u64>,
    pub local_posts: Option<u64>,
    pub open_registrations: Option<bool>,
    /// False for servers that asked not to be listed (private, noindex, opted out): they count
    /// in aggregates but are never named in listings or exports.
    pub listable: bool,
}

#[derive(sqlx::FromRow)]
struct SnapshotRow {
    domain: String,
    first_seen: DateTime<Utc>,
    revealed_by: String,
    status: String,
    last_observed: Option<DateTime<Utc>>,
    last_ok: Option<DateTime<Utc>>,
    last_refusal: Option<DateTime<Utc>>,
    last_answered_now: Option<DateTime<Utc>>,
    last_success_now: Option<DateTime<Utc>>,
    last_outcome: Option<String>,
    software_family: Option<String>,
    software_version: Option<String>,
    open_registrations: Option<bool>,
    flag_private: Option<bool>,
    flag_noindex: Option<bool>,
    users_total: Option<i64>,
    users_active_month: Option<i64>,
    local_posts: Option<i64>,
}

pub(crate) async fn snapshot(conn: &mut Conn<'_>, date: NaiveDate) -> Result<Vec<ServerSnapshot>> {
    let end = date
        .succ_opt()
        .map(midnight)
        .ok_or_else(|| Error::InvalidQuery(format!("no day follows {date}")))?;
    // Per server: its latest visit before the end of the date and its latest successful one,
    // each one probe down an index from the date backwards (the latest success through the
    // partial index of successful visits, migration 0006, so a dead server's long run of
    // failures is never walked), rather than grouping every observation ever made: the cost
    // follows the number of servers, not the length of the history. A figure is the latest
    // success's own when it reported one within the carry-forward window (COALESCE evaluates
    // the walk only when it did not); otherwise a walk of the successes in the window, inside
    // the same index, finds the latest value reported.
    //
    // The latest robots.txt refusal comes from its own partial index (migration 0009): no figure
    // is carried past it, and a server whose latest answer is one has opted out. The latest
    // visit is the latest conclusive one (an `inconclusive` visit says nothing of the server).
    let figure = |column: &str| {
        format!(
            "CASE WHEN ok.observed_at >= $2 \
             AND (rb.observed_at IS NULL OR ok.observed_at > rb.observed_at) \
             THEN COALESCE(ok.{column}, \
             (SELECT o.{column} FROM observations o WHERE o.server_id = s.id \
              AND o.observed_at >= $2 AND o.observed_at < $1 AND o.outcome = 'ok' \
              AND o.{column} IS NOT NULL \
              AND (rb.observed_at IS NULL OR o.observed_at > rb.observed_at) \
              ORDER BY o.server_id DESC, o.observed_at DESC LIMIT 1)) END AS {column}"
        )
    };
    let rows = conn
        .fetch_all::<SnapshotRow>(
            Sql::new(format!(
                "SELECT s.domain, s.first_seen, s.revealed_by, s.status, \
                 lo.observed_at AS last_observed, ok.observed_at AS last_ok, \
                 rb.observed_at AS last_refusal, s.last_answered_at AS last_answered_now, \
                 s.last_success_at AS last_success_now, \
                 lo.outcome AS last_outcome, ok.software_family, ok.software_version, \
                 ok.open_registrations, ok.flag_private, ok.flag_noindex, {}, {}, {} \
                 FROM (SELECT s.id, s.domain, s.first_seen, s.revealed_by, s.status, \
                         s.last_answered_at, s.last_success_at, \
                         (SELECT o.id FROM observations o WHERE o.server_id = s.id \
                          AND o.observed_at < $1 AND o.outcome <> 'inconclusive' \
                          ORDER BY o.server_id DESC, o.observed_at DESC LIMIT 1) AS last_id, \
                         (SELECT o.id FROM observations o WHERE o.server_id = s.id \
                          AND o.observed_at < $1 AND o.outcome = 'ok' \
                          ORDER BY o.server_id DESC, o.observed_at DESC LIMIT 1) AS ok_id, \
                         (SELECT o.id FROM observations o WHERE o.server_id = s.id \
                          AND o.observed_at < $1 AND o.outcome = 'robots_disallowed' \
                          ORDER BY o.server_id DESC, o.observed_at DESC LIMIT 1) AS rb_id \
                       FROM servers s WHERE s.first_seen < $1) s \
                 LEFT JOIN observations lo ON lo.id = s.last_id \
                 LEFT JOIN observations ok ON ok.id = s.ok_id \
                 LEFT JOIN observations rb ON rb.id = s.rb_id \
                 ORDER BY s.domain",
                figure("users_total"),
                figure("users_active_month"),
                figure("local_posts"),
            ))
            .bind(end)
            .bind(end - CARRY_FORWARD),
            "reading a snapshot",
        )
        .await?;

    rows.into_iter()
        .map(|r| {
            let current = ServerStatus::parse(&r.status)?;
            // Its latest answer as of the date: a success or a refusal, whichever is later.
            let last_answer = r.last_ok.max(r.last_refusal);
            let robots_opted_out = r.last_refusal.is_some() && r.last_refusal > r.last_ok;
            // Opted out now (its latest answer ever is a refusal): never named, on any date.
            let opted_out_now = r.last_answered_now > r.last_success_now;
            let status = if current == ServerStatus::OptedOut {
                current
            } else {
                match (&r.last_outcome, r.last_observed) {
                    (Some(outcome), Some(at)) => {
                        let outcome =
                            Outcome::from_name(outcome).ok_or_else(|| Error::Corrupt {
                                column: "observations.outcome",
                                value: outcome.clone(),
                            })?;
                        // The latest visit is conclusive, so it implies a status.
                        status_after(&outcome, at, r.first_seen, last_answer)
                            .unwrap_or(ServerStatus::Unreachable)
                    }
                    _ => ServerStatus::New,
                }
            };
            // Dead as of the date only if tried since the threshold passed: a server not yet
            // retried keeps its last known status.
            let status = match (status, last_answer, r.last_observed) {
                (ServerStatus::Dead, Some(ok), Some(seen)) if seen - ok < DEATH_AFTER => {
                    ServerStatus::Unreachable
                }
                (s, _, _) => s,
            };
            Ok(ServerSnapshot {
                host: Host::from_normalised(r.domain),
                first_seen: r.first_seen,
                revealed_by: r.revealed_by,
                status,
                up: last_answer.is_some_and(|t| t >= end - UP_WINDOW),
                robots_opted_out,
                software: r.software_family,
                software_version: r.software_version,
                last_observed_at: r.last_observed,
                last_success_at: r.last_ok,
                users_total: r.users_total.map(count_of),
                users_active_month: r.users_active_month.map(count_of),
                local_posts: r.local_posts.map(count_of),
                open_registrations: r.open_registrations,
                listable: !(r.flag_private.unwrap_or(false)
                    || r.flag_noindex.unwrap_or(false)
                    || current == ServerStatus::OptedOut
                    || robots_opted_out
                    || opted_out_now),
            })
        })
        .collect()
}

/// One stored visit, with everything needed to trace its numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObservation {
    pub id: i64,
    pub observed_at: DateTime<Utc>,
    /// The outcome's stable name (see [`Outcome::as_str`]).
    pub outcome: String,
    pub duration_ms: u64,
    pub nodeinfo_version: Option<String>,
    pub software_raw_name: Option<String>,
    pub software_raw_version: Option<String>,
    pub software_family: Option<String>,
    pub software_version: Option<String>,
    pub open_registrations: Option<bool>,
    pub private: bool,
    pub noindex: bool,
    pub limited_federation: bool,
    pub peers_hidden: bool,
    pub moved_to: Option<String>,
    pub peer_count: Option<u64>,
    /// The headline figures chosen from the measurements (`Observation::best`).
    pub users_total: Option<u64>,
    pub users_active_month: Option<u64>,
    pub local_posts: Option<u64>,
    pub crawl_run: Option<i64>,
    /// Every number as reported: (metric, source, value).
    pub measurements: Vec<(String, String, u64)>,
    /// Quality flags: (kind, metric or `*`, reason).
    pub quality_flags: Vec<(String, String, String)>,
    /// Declared languages as each document declared them: (language, source), the primary
    /// language first (see `fedicensus_core::language::ordered`).
    pub languages: Vec<(String, String)>,
    /// Where the visit's address was, when the crawler had a geolocation database.
    pub location: Option<fedicensus_core::Location>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ObservationRow {
    pub(crate) id: i64,
    pub(crate) observed_at: DateTime<Utc>,
    pub(crate) outcome: String,
    pub(crate) duration_ms: i64,
    pub(crate) nodeinfo_version: Option<String>,
    pub(crate) software_raw_name: Option<String>,
    pub(crate) software_raw_version: Option<String>,
    pub(crate) software_family: Option<String>,
    pub(crate) software_version: Option<String>,
    pub(crate) open_registrations: Option<bool>,
    pub(crate) flag_private: bool,
    pub(crate) flag_noindex: bool,
    pub(crate) flag_limited_federation: bool,
    pub(crate) flag_peers_hidden: bool,
    pub(crate) moved_to: Option<String>,
    pub(crate) peer_count: Option<i64>,
    pub(crate) users_total: Option<i64>,
    pub(crate) users_active_month: Option<i64>,
    pub(crate) local_posts: Option<i64>,
    pub(crate) crawl_run_id: Option<i64>,
}

pub(crate) const OBSERVATION_COLUMNS: &str =
    "o.id, o.observed_at, o.outcome, o.duration_ms, o.nodeinfo_version, \
     o.software_raw_name, o.software_raw_version, o.software_family, o.software_version, \
     o.open_registrations, o.flag_private, o.flag_noindex, o.flag_limited_federation, \
     o.flag_peers_hidden, o.moved_to, o.peer_count, o.users_total, o.users_active_month, \
     o.local_posts, o.crawl_run_id";

impl ObservationRow {
    pub(crate) fn into_stored(self) -> StoredObservation {
        StoredObservation {
            id: self.id,
            observed_at: self.observed_at,
            outcome: self.outcome,
            duration_ms: count_of(self.duration_ms),
            nodeinfo_version: self.nodeinfo_version,
            software_raw_name: self.software_raw_name,
            software_raw_version: self.software_raw_version,
            software_family: self.software_family,
            software_version: self.software_version,
            open_registrations: self.open_registrations,
            private: self.flag_private,
            noindex: self.flag_noindex,
            limited_federation: self.flag_limited_federation,
            peers_hidden: self.flag_peers_hidden,
            moved_to: self.moved_to,
            peer_count: self.peer_count.map(count_of),
            users_total: self.users_total.map(count_of),
            users_active_month: self.users_active_month.map(count_of),
            local_posts: self.local_posts.map(count_of),
            crawl_run: self.crawl_run_id,
            measurements: Vec::new(),
            quality_flags: Vec::new(),
            languages: Vec::new(),
            location: None,
        }
    }
}

/// A week of activity as stored, with the visit that reported it last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWeek {
    pub week_start: DateTime<Utc>,
    pub statuses: u64,
    pub logins: u64,
    pub registrations: u64,
    pub observation_id: i64,
    pub reported_at: DateTime<Utc>,
}

/// Everything stored about one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHistory {
    pub host: Host,
    pub first_seen: DateTime<Utc>,
    pub revealed_by: String,
    /// The current status (from the latest visit or an operator).
    pub status: ServerStatus,
    pub moved_to: Option<String>,
    /// Oldest first.
    pub observations: Vec<StoredObservation>,
    /// Oldest week first.
    pub activity: Vec<StoredWeek>,
    /// Other names of this server (case or `www.` variants, an old name after a move), oldest
    /// first.
    pub aliases: Vec<StoredAlias>,
    /// Other servers of the same installation (see migration 0030), oldest sighting first. Only
    /// servers that may be named are listed.
    pub siblings: Vec<StoredSibling>,
    /// Whether the server may be named on its own (not opted out, by an operator or by its
    /// robots.txt, and its latest successful visit neither private nor noindex): the rule the
    /// exports apply, read by the same SQL.
    pub listable: bool,
}

#[derive(sqlx::FromRow)]
struct ListableRow {
    listable: i32,
}

/// Another server of the same installation: each has its own figures, nothing is merged.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredSibling {
    pub domain: String,
    /// True when this server's NodeInfo link names `domain` (the installation's main domain);
    /// false when `domain`'s link names this server.
    pub is_main: bool,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// Another name of a server, and why it is one.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredAlias {
    pub alias: String,
    pub reason: String,
    pub first_seen: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ServerRow {
    first_seen: DateTime<Utc>,
    revealed_by: String,
    status: String,
    moved_to: Option<String>,
}

#[derive(sqlx::FromRow)]
struct LocationRow {
    observation_id: i64,
    country: Option<String>,
    asn: Option<i64>,
    as_organization: Option<String>,
    database: String,
}

#[derive(sqlx::FromRow)]
struct LanguageRow {
    observation_id: i64,
    language: String,
    source: String,
}

#[derive(sqlx::FromRow)]
struct MeasurementRow {
    observation_id: i64,
    metric: String,
    source: String,
    value: i64,
}

#[derive(sqlx::FromRow)]
struct QualityRow {
    observation_id: i64,
    kind: String,
    metric: String,
    reason: String,
}

#[derive(sqlx::FromRow)]
struct WeekRow {
    week_start: DateTime<Utc>,
    statuses: i64,
    logins: i64,
    registrations: i64,
    observation_id: i64,
    reported_at: DateTime<Utc>,
}

pub(crate) async fn server_history(conn: &mut Conn<'_>, host: &Host) -> Result<ServerHistory> {
    let unknown = || Error::UnknownServer {
        host: host.to_string(),
    };
    let id = server_id(conn, host).await?.ok_or_else(unknown)?;
    let server = conn
        .fetch_one::<ServerRow>(
            Sql::new("SELECT first_seen, revealed_by, status, moved_to FROM servers WHERE id = $1")
                .bind(id),
            "reading a server",
        )
        .await?;
    let mut observations: Vec<StoredObservation> = conn
        .fetch_all::<ObservationRow>(
            Sql::new(format!(
                "SELECT {OBSERVATION_COLUMNS} FROM observations o WHERE o.server_id = $1 \
                 ORDER BY o.observed_at"
            ))
            .bind(id),
            "reading a server's observations",
        )
        .await?
        .into_iter()
        .map(ObservationRow::into_stored)
        .collect();
    let index: HashMap<i64, usize> = observations
        .iter()
        .enumerate()
        .map(|(i, o)| (o.id, i))
        .collect();
    for m in conn
        .fetch_all::<MeasurementRow>(
            Sql::new(
                "SELECT m.observation_id, m.metric, m.source, m.value FROM measurements m \
                 JOIN observations o ON o.id = m.observation_id WHERE o.server_id = $1 \
                 ORDER BY m.observation_id, m.metric, m.source",
            )
            .bind(id),
            "reading a server's measurements",
        )
        .await?
    {
        if let Some(&i) = index.get(&m.observation_id) {
            observations[i]
                .measurements
                .push((m.metric, m.source, count_of(m.value)));
        }
    }
    for l in conn
        .fetch_all::<LanguageRow>(
            Sql::new(
                "SELECT l.observation_id, l.language, l.source FROM observation_languages l \
                 JOIN observations o ON o.id = l.observation_id WHERE o.server_id = $1 \
                 ORDER BY l.observation_id, l.position",
            )
            .bind(id),
            "reading a server's declared languages",
        )
        .await?
    {
        if let Some(&i) = index.get(&l.observation_id) {
            observations[i].languages.push((l.language, l.source));
        }
    }
    for g in conn
        .fetch_all::<LocationRow>(
            Sql::new(
                "SELECT g.observation_id, g.country, g.asn, g.as_organization, g.database \
                 FROM observation_geo g JOIN observations o ON o.id = g.observation_id \
                 WHERE o.server_id = $1 ORDER BY g.observation_id",
            )
            .bind(id),
            "reading a server's locations",
        )
        .await?
    {
        if let Some(&i) = index.get(&g.observation_id) {
            observations[i].location = Some(fedicensus_core::Location {
                country: g.country,
                asn: g.asn.and_then(|a| u32::try_from(a).ok()),
                as_organization: g.as_organization,
                database: g.database,
            });
        }
    }
    for q in conn
        .fetch_all::<QualityRow>(
            Sql::new(
                "SELECT q.observation_id, q.kind, q.metric, q.reason FROM quality_flags q \
                 JOIN observations o ON o.id = q.observation_id WHERE o.server_id = $1 \
                 ORDER BY q.observation_id, q.kind, q.metric",
            )
            .bind(id),
            "reading a server's quality flags",
        )
        .await?
    {
        if let Some(&i) = index.get(&q.observation_id) {
            observations[i]
                .quality_flags
                .push((q.kind, q.metric, q.reason));
        }
    }
    let activity = conn
        .fetch_all::<WeekRow>(
            Sql::new(
                "SELECT week_start, statuses, logins, registrations, observation_id, reported_at \
                 FROM activity WHERE server_id = $1 ORDER BY week_start",
            )
            .bind(id),
            "reading a server's activity",
        )
        .await?
        .into_iter()
        .map(|w| StoredWeek {
            week_start: w.week_start,
            statuses: count_of(w.statuses),
            logins: count_of(w.logins),
            registrations: count_of(w.registrations),
            observation_id: w.observation_id,
            reported_at: w.reported_at,
        })
        .collect();
    let aliases = conn
        .fetch_all::<StoredAlias>(
            Sql::new(
                "SELECT alias, reason, first_seen FROM aliases WHERE server_id = $1 \
                 ORDER BY first_seen, alias",
            )
            .bind(id),
            "reading a server's aliases",
        )
        .await?;
    let siblings = conn
        .fetch_all::<StoredSibling>(
            Sql::new(format!(
                "SELECT s.domain AS domain, TRUE AS is_main, x.first_seen AS first_seen, \
                 x.last_seen AS last_seen FROM siblings x JOIN servers s ON s.id = x.main_id WHERE x.server_id = $1 AND {listed} \
                 UNION ALL \
                 SELECT s.domain, FALSE AS is_main, x.first_seen, x.last_seen FROM siblings x \
                 JOIN servers s ON s.id = x.server_id WHERE x.main_id = $1 AND {listed} \
                 ORDER BY first_seen, domain",
                listed = crate::export::listable("s"),
            ))
            .bind(id),
            "reading a server's siblings",
        )
        .await?;
    let listable = conn
        .fetch_one::<ListableRow>(
            Sql::new(format!(
                "SELECT CASE WHEN {} THEN 1 ELSE 0 END AS listable FROM servers s WHERE s.id = $1",
                crate::export::listable("s"),
            ))
            .bind(id),
            "reading whether a server may be named",
        )
        .await?
        .listable
        != 0;
    Ok(ServerHistory {
        host: host.clone(),
        first_seen: server.first_seen,
        revealed_by: server.revealed_by,
        status: ServerStatus::parse(&server.status)?,
        moved_to: server.moved_to,
        observations,
        activity,
        aliases,
        siblings,
        listable,
    })
}

/// A peer edge: `from` listed `to` as a peer between `first_seen` and `last_seen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerEdge {
    pub from: Host,
    pub to: Host,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct EdgeRow {
    pub(crate) from_domain: String,
    pub(crate) to_domain: String,
    pub(crate) first_seen: DateTime<Utc>,
    pub(crate) last_seen: DateTime<Utc>,
}

pub(crate) const EDGES_SQL: &str =
    "SELECT f.domain AS from_domain, t.domain AS to_domain, e.first_seen, \
     COALESCE(e.last_seen, f.peers_read_at, e.first_seen) AS last_seen \
     FROM peer_edges e JOIN servers f ON f.id = e.from_id JOIN servers t ON t.id = e.to_id";

impl EdgeRow {
    pub(crate) fn into_edge(self) -> PeerEdge {
        PeerEdge {
            from: Host::from_normalised(self.from_domain),
            to: Host::from_normalised(self.to_domain),
            first_seen: self.first_seen,
            last_seen: self.last_seen,
        }
    }
}

impl Storage {
    /// Every server known at the end of `date`, as it stood then, ordered by domain.
    pub async fn snapshot(&self, date: NaiveDate) -> Result<Vec<ServerSnapshot>> {
        let mut conn = self.acquire().await?;
        snapshot(&mut conn.conn(), date).await
    }

    /// Everything stored about one server.
    pub async fn server_history(&self, host: &Host) -> Result<ServerHistory> {
        let mut conn = self.acquire().await?;
        server_history(&mut conn.conn(), host).await
    }

    /// The peers `host` listed, ordered by domain.
    pub async fn peers_of(&self, host: &Host) -> Result<Vec<PeerEdge>> {
        let mut conn = self.acquire().await?;
        let rows = conn
            .conn()
            .fetch_all::<EdgeRow>(
                Sql::new(format!("{EDGES_SQL} WHERE f.domain = $1 ORDER BY t.domain"))
                    .bind(host.as_str()),
                "reading peer edges",
            )
            .await?;
        Ok(rows.into_iter().map(EdgeRow::into_edge).collect())
    }
}
