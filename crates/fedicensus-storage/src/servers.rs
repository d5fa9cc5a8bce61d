//! The servers table: what we know of each server, and the crawler's schedule over it.
//!
//! A server row is never deleted (the history must keep servers that died). Its `status` is a
//! cache of its latest visit for the crawler and listings; the published series are computed from
//! the observations themselves (see `docs/METHODOLOGY.md`). Scheduling lives here too because it
//! is state about a server: when it is next due, how often it failed, and, for several crawler
//! workers on PostgreSQL, which worker holds a lease on it.

use crate::db::{Backend, Conn, Sql, Storage, Transaction};
use crate::error::{Error, Result};
use chrono::{DateTime, Duration, Utc};
use fedicensus_core::{Host, Outcome};

/// The provenance of a server given to us directly rather than found in a peer list.
pub const SEED: &str = "seed";

/// What we currently believe about a server, from its latest visit (or an operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerStatus {
    /// Known, never visited.
    New,
    /// Its latest visit succeeded.
    Alive,
    /// Its latest visit failed, and it answered less than the death threshold ago.
    Unreachable,
    /// It has not answered for the death threshold (14 days, see the methodology).
    Dead,
    /// It answered 410 Gone.
    Gone,
    /// It asked not to be counted (451, an opt-out, or an operator's deny list). Not crawled again
    /// until an operator sets another status.
    OptedOut,
    /// It moved to another domain (`moved_to`).
    Moved,
}

impl ServerStatus {
    /// Every status, in a stable order.
    pub const ALL: [ServerStatus; 7] = [
        ServerStatus::New,
        ServerStatus::Alive,
        ServerStatus::Unreachable,
        ServerStatus::Dead,
        ServerStatus::Gone,
        ServerStatus::OptedOut,
        ServerStatus::Moved,
    ];

    /// The stable name stored and exported.
    pub fn as_str(&self) -> &'static str {
        match self {
            ServerStatus::New => "new",
            ServerStatus::Alive => "alive",
            ServerStatus::Unreachable => "unreachable",
            ServerStatus::Dead => "dead",
            ServerStatus::Gone => "gone",
            ServerStatus::OptedOut => "opted_out",
            ServerStatus::Moved => "moved",
        }
    }

    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<ServerStatus> {
        ServerStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub(crate) fn parse(name: &str) -> Result<ServerStatus> {
        ServerStatus::from_name(name).ok_or_else(|| Error::Corrupt {
            column: "servers.status",
            value: name.to_owned(),
        })
    }
}

impl std::fmt::Display for ServerStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A server the crawler should visit now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueHost {
    pub host: Host,
    pub next_due: DateTime<Utc>,
    pub status: ServerStatus,
    pub consecutive_failures: u32,
    pub last_outcome: Option<Outcome>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// Its latest answer: a successful visit or a robots.txt refusal (either says it runs).
    pub last_answered_at: Option<DateTime<Utc>>,
    /// When its peer list was last read (the latest observation with a peer count), if ever:
    /// the crawler reads peer lists less often than it visits.
    pub peers_read_at: Option<DateTime<Utc>>,
    /// When its weekly activity was last reported, if ever.
    pub activity_read_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct DueRow {
    domain: String,
    next_due: DateTime<Utc>,
    status: String,
    consecutive_failures: i64,
    last_outcome: Option<String>,
    last_success_at: Option<DateTime<Utc>>,
    last_answered_at: Option<DateTime<Utc>>,
    peers_read_at: Option<DateTime<Utc>>,
    activity_read_at: Option<DateTime<Utc>>,
}

impl DueRow {
    fn into_due(self) -> Result<DueHost> {
        Ok(DueHost {
            host: Host::from_normalised(self.domain),
            next_due: self.next_due,
            status: ServerStatus::parse(&self.status)?,
            consecutive_failures: u32::try_from(self.consecutive_failures).unwrap_or(u32::MAX),
            last_outcome: self.last_outcome.as_deref().and_then(Outcome::from_name),
            last_success_at: self.last_success_at,
            last_answered_at: self.last_answered_at,
            peers_read_at: self.peers_read_at,
            activity_read_at: self.activity_read_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct IdRow {
    pub(crate) id: i64,
}

/// Inserts servers that are not known yet (`ON CONFLICT DO NOTHING`), due at once. Returns how
/// many were new. Rows go in in domain order: two PostgreSQL transactions inserting some of the
/// same names (two workers adding their seeds together) then wait for each other in one order
/// instead of deadlocking, each holding a name the other needs.
///
/// The names travel as one JSON array parameter, unpacked by the database (`json_each` on
/// SQLite, `json_array_elements_text` on PostgreSQL): a peer list can hold 100,000 names, and
/// binding each as its own parameter made preparing and binding the statements cost more than
/// the inserts themselves (sqlx looks every parameter up by name).
pub(crate) async fn insert_servers(
    conn: &mut Conn<'_>,
    domains: &[&str],
    seen_at: DateTime<Utc>,
    revealed_by: &str,
) -> Result<u64> {
    if domains.is_empty() {
        return Ok(0);
    }
    let names = serde_json::to_string(domains).expect("a list of strings serialises");
    let sql = Sql::new(format!(
        "INSERT INTO servers (domain, first_seen, revealed_by, next_due) \
         SELECT DISTINCT j.value, $1, $2, $1 FROM {} WHERE true ORDER BY 1 \
         ON CONFLICT (domain) DO NOTHING",
        json_names(conn.backend(), "$3")
    ))
    .bind(seen_at)
    .bind(revealed_by)
    .bind(names);
    conn.execute(sql, "inserting servers").await
}

/// A table expression `j(value)` of the strings in the JSON array parameter `param`.
pub(crate) fn json_names(backend: Backend, param: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_each({param}) AS j"),
        Backend::Postgres => format!("json_array_elements_text({param}::json) AS j(value)"),
    }
}

/// The id of a known server.
pub(crate) async fn server_id(conn: &mut Conn<'_>, host: &Host) -> Result<Option<i64>> {
    Ok(conn
        .fetch_optional::<IdRow>(
            Sql::new("SELECT id FROM servers WHERE domain = $1").bind(host.as_str()),
            "looking up a server",
        )
        .await?
        .map(|r| r.id))
}

pub(crate) async fn add_seeds(
    conn: &mut Conn<'_>,
    hosts: &[Host],
    at: DateTime<Utc>,
) -> Result<u64> {
    let domains: Vec<&str> = hosts.iter().map(Host::as_str).collect();
    insert_servers(conn, &domains, crate::db::stored_instant(at), SEED).await
}

pub(crate) async fn set_status(
    conn: &mut Conn<'_>,
    host: &Host,
    status: ServerStatus,
    moved_to: Option<&Host>,
) -> Result<()> {
    let changed = conn
        .execute(
            Sql::new("UPDATE servers SET status = $1, moved_to = $2 WHERE domain = $3")
                .bind(status.as_str())
                .bind(moved_to.map(Host::as_str))
                .bind(host.as_str()),
            "setting a server's status",
        )
        .await?;
    if changed == 0 {
        return Err(Error::UnknownServer {
            host: host.to_string(),
        });
    }
    Ok(())
}

/// Servers a crawler may take: due, not opted out, and not under someone else's live lease.
const DUE_CONDITION: &str = "next_due <= $1 AND status <> 'opted_out' \
     AND (lease_expires IS NULL OR lease_expires <= $1)";

/// The columns of a [`DueHost`]. The two read times are looked up per due server (an index walk
/// from its newest observation back to the first with a peer count; the activity rows of one
/// server), so they cost nothing on the servers that are not due.
const DUE_COLUMNS: &str = "domain, next_due, status, consecutive_failures, last_outcome, \
     last_success_at, last_answered_at, \
     (SELECT o.observed_at FROM observations o WHERE o.server_id = servers.id \
      AND o.peer_count IS NOT NULL ORDER BY o.observed_at DESC LIMIT 1) AS peers_read_at, \
     (SELECT MAX(a.reported_at) FROM activity a WHERE a.server_id = servers.id) \
      AS activity_read_at";

pub(crate) async fn due_hosts(
    conn: &mut Conn<'_>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<DueHost>> {
    let sql = Sql::new(format!(
        "SELECT {DUE_COLUMNS} FROM servers WHERE {DUE_CONDITION} ORDER BY next_due, id LIMIT $2"
    ))
    .bind(now)
    .bind(i64::from(limit));
    conn.fetch_all::<DueRow>(sql, "listing due servers")
        .await?
        .into_iter()
        .map(DueRow::into_due)
        .collect()
}

pub(crate) async fn lease_due_hosts(
    conn: &mut Conn<'_>,
    worker: &str,
    now: DateTime<Utc>,
    limit: u32,
    lease_for: Duration,
) -> Result<Vec<DueHost>> {
    // PostgreSQL: rows another worker is leasing right now are skipped, not waited for. SQLite
    // has one writer at a time (our transactions begin IMMEDIATE), which gives the same guarantee.
    // The lock is NO KEY UPDATE, the one the UPDATE itself takes: FOR UPDATE would also skip
    // every row an open write merely refers to (a peer edge's foreign key holds KEY SHARE on
    // the server it names until commit), so a lease came back empty while servers were due and
    // the worker ended its pass early.
    let lock = match conn.backend() {
        Backend::Postgres => " FOR NO KEY UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = Sql::new(format!(
        "UPDATE servers SET lease_owner = $3, lease_expires = $4 \
         WHERE id IN (SELECT id FROM servers WHERE {DUE_CONDITION} \
                      ORDER BY next_due, id LIMIT $2{lock}) \
         RETURNING {DUE_COLUMNS}"
    ))
    .bind(now)
    .bind(i64::from(limit))
    .bind(worker)
    .bind(crate::db::stored_instant(now + lease_for));
    let mut due = conn
        .fetch_all::<DueRow>(sql, "leasing due servers")
        .await?
        .into_iter()
        .map(DueRow::into_due)
        .collect::<Result<Vec<_>>>()?;
    due.sort_by(|a, b| (a.next_due, &a.host).cmp(&(b.next_due, &b.host)));
    Ok(due)
}

pub(crate) async fn release(
    conn: &mut Conn<'_>,
    host: &Host,
    worker: &str,
    next_due: Option<DateTime<Utc>>,
) -> Result<bool> {
    let released = conn
        .execute(
            Sql::new(
                "UPDATE servers SET lease_owner = NULL, lease_expires = NULL, \
                 next_due = COALESCE($1, next_due) \
                 WHERE domain = $2 AND (lease_owner = $3 OR lease_owner IS NULL)",
            )
            .bind(next_due.map(crate::db::stored_instant))
            .bind(host.as_str())
            .bind(worker),
            "releasing a lease",
        )
        .await?;
    Ok(released > 0)
}

pub(crate) async fn release_many(
    conn: &mut Conn<'_>,
    hosts: &[(Host, Option<DateTime<Utc>>)],
    worker: &str,
) -> Result<u64> {
    let mut released = 0;
    for (host, next_due) in hosts {
        released += u64::from(release(conn, host, worker, *next_due).await?);
    }
    Ok(released)
}

/// Ends every lease `worker` holds, leaving when each host is due unchanged.
pub(crate) async fn release_all(conn: &mut Conn<'_>, worker: &str) -> Result<u64> {
    conn.execute(
        Sql::new(
            "UPDATE servers SET lease_owner = NULL, lease_expires = NULL WHERE lease_owner = $1",
        )
        .bind(worker),
        "releasing a worker's leases",
    )
    .await
}

pub(crate) async fn add_alias(
    conn: &mut Conn<'_>,
    alias: &Host,
    canonical: &Host,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let id = server_id(conn, canonical)
        .await?
        .ok_or_else(|| Error::UnknownServer {
            host: canonical.to_string(),
        })?;
    conn.execute(
        Sql::new(
            "INSERT INTO aliases (alias, server_id, reason, first_seen) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (alias) DO NOTHING",
        )
        .bind(alias.as_str())
        .bind(id)
        .bind(reason)
        .bind(crate::db::stored_instant(at)),
        "adding an alias",
    )
    .await?;
    Ok(())
}

/// Records that the server `server_id` is a sibling of `main` (its NodeInfo link names `main`'s
/// document; see migration 0030): both stay servers in their own right. `main` must be stored.
/// Widens the relation's first and last sighting to `at`.
pub(crate) async fn record_sibling(
    conn: &mut Conn<'_>,
    server_id: i64,
    main: &Host,
    at: DateTime<Utc>,
) -> Result<()> {
    let Some(main_id) = self::server_id(conn, main).await? else {
        return Err(Error::UnknownServer {
            host: main.to_string(),
        });
    };
    if main_id == server_id {
        return Ok(());
    }
    let at = crate::db::stored_instant(at);
    conn.execute(
        Sql::new(
            "INSERT INTO siblings (server_id, main_id, first_seen, last_seen) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (server_id, main_id) DO UPDATE SET \
             first_seen = CASE WHEN excluded.first_seen < siblings.first_seen \
                 THEN excluded.first_seen ELSE siblings.first_seen END, \
             last_seen = CASE WHEN excluded.last_seen > siblings.last_seen \
                 THEN excluded.last_seen ELSE siblings.last_seen END",
        )
        .bind(server_id)
        .bind(main_id)
        .bind(at)
        .bind(at),
        "recording a sibling",
    )
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct DomainRow {
    domain: String,
}

pub(crate) async fn canonical(conn: &mut Conn<'_>, name: &Host) -> Result<Option<Host>> {
    let row = conn
        .fetch_optional::<DomainRow>(
            Sql::new(
                "SELECT s.domain FROM aliases a JOIN servers s ON s.id = a.server_id \
                 WHERE a.alias = $1",
            )
            .bind(name.as_str()),
            "resolving an alias",
        )
        .await?;
    Ok(row.map(|r| Host::from_normalised(r.domain)))
}

impl Transaction {
    /// Adds servers given to us directly (provenance `seed`), due at once. Known ones are left
    /// alone. Returns how many were new.
    pub async fn add_seeds(&mut self, hosts: &[Host], at: DateTime<Utc>) -> Result<u64> {
        add_seeds(&mut self.conn(), hosts, at).await
    }

    /// Sets a server's status by hand (an operator's opt-out, say). `moved_to` is kept only for
    /// [`ServerStatus::Moved`] by convention; it is stored as given.
    pub async fn set_status(
        &mut self,
        host: &Host,
        status: ServerStatus,
        moved_to: Option<&Host>,
    ) -> Result<()> {
        set_status(&mut self.conn(), host, status, moved_to).await
    }

    /// Leases up to `limit` due servers to `worker` until `now + lease_for`: no other worker gets
    /// them until the lease is released, the visit is recorded, or the lease expires.
    pub async fn lease_due_hosts(
        &mut self,
        worker: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease_for: Duration,
    ) -> Result<Vec<DueHost>> {
        lease_due_hosts(&mut self.conn(), worker, now, limit, lease_for).await
    }

    /// Ends `worker`'s lease on `host`, optionally setting when it is next due. A host under
    /// no lease (recording a visit already ended it) is rescheduled too; a host leased by another
    /// worker is left alone. Returns whether anything changed.
    pub async fn release(
        &mut self,
        host: &Host,
        worker: &str,
        next_due: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        release(&mut self.conn(), host, worker, next_due).await
    }

    /// Records that `alias` is another name of the known server `canonical`.
    pub async fn add_alias(
        &mut self,
        alias: &Host,
        canonical: &Host,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        add_alias(&mut self.conn(), alias, canonical, reason, at).await
    }
}

impl Storage {
    /// [`Transaction::add_seeds`] in its own transaction.
    pub async fn add_seeds(&self, hosts: &[Host], at: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.begin().await?;
        let added = tx.add_seeds(hosts, at).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// [`Transaction::set_status`] in its own transaction.
    pub async fn set_status(
        &self,
        host: &Host,
        status: ServerStatus,
        moved_to: Option<&Host>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.set_status(host, status, moved_to).await?;
        tx.commit().await
    }

    /// Servers due at `now` (and not leased), soonest first. For a single crawler; several
    /// workers should use [`Storage::lease_due_hosts`].
    pub async fn due_hosts(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<DueHost>> {
        let mut conn = self.acquire().await?;
        due_hosts(&mut conn.conn(), now, limit).await
    }

    /// How many servers are due at `now` and under no live lease: what the workers still have to
    /// share in this pass.
    pub async fn count_due_hosts(&self, now: DateTime<Utc>) -> Result<u64> {
        #[derive(sqlx::FromRow)]
        struct Due {
            n: i64,
        }
        let mut conn = self.acquire().await?;
        let due = conn
            .conn()
            .fetch_one::<Due>(
                Sql::new(format!(
                    "SELECT COUNT(*) AS n FROM servers WHERE {DUE_CONDITION}"
                ))
                .bind(now),
                "counting due servers",
            )
            .await?;
        Ok(u64::try_from(due.n).unwrap_or(0))
    }

    /// How many servers other workers than `worker` hold under a live lease at `now`: visits
    /// under way elsewhere, whose peer lists may yet reveal servers for this worker.
    pub async fn leased_by_others(&self, worker: &str, now: DateTime<Utc>) -> Result<u64> {
        #[derive(sqlx::FromRow)]
        struct Leased {
            n: i64,
        }
        let mut conn = self.acquire().await?;
        let leased = conn
            .conn()
            .fetch_one::<Leased>(
                Sql::new(
                    "SELECT COUNT(*) AS n FROM servers \
                     WHERE lease_expires > $1 AND lease_owner <> $2",
                )
                .bind(now)
                .bind(worker),
                "counting other workers' leases",
            )
            .await?;
        Ok(u64::try_from(leased.n).unwrap_or(0))
    }

    /// [`Transaction::lease_due_hosts`] in its own transaction. Two workers never get the same
    /// server: on PostgreSQL through `FOR NO KEY UPDATE SKIP LOCKED`, on SQLite through its single
    /// writer.
    pub async fn lease_due_hosts(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease_for: Duration,
    ) -> Result<Vec<DueHost>> {
        let mut tx = self.begin().await?;
        let due = tx.lease_due_hosts(worker, now, limit, lease_for).await?;
        tx.commit().await?;
        Ok(due)
    }

    /// Ends every lease `worker` holds. A worker restarted under its old name after a crash
    /// calls this first: nothing of its old leases is in flight any more, so its hosts are due
    /// again at once instead of when the leases would have expired. Returns how many it held.
    pub async fn release_all(&self, worker: &str) -> Result<u64> {
        let mut tx = self.begin().await?;
        let released = release_all(&mut tx.conn(), worker).await?;
        tx.commit().await?;
        Ok(released)
    }

    /// [`Transaction::release`] in its own transaction.
    pub async fn release(
        &self,
        host: &Host,
        worker: &str,
        next_due: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let released = tx.release(host, worker, next_due).await?;
        tx.commit().await?;
        Ok(released)
    }

    /// [`Transaction::release`] for many hosts in one transaction (one commit): each host with
    /// when it is next due (`None`: unchanged). Returns how many leases changed.
    pub async fn release_many(
        &self,
        hosts: &[(Host, Option<DateTime<Utc>>)],
        worker: &str,
    ) -> Result<u64> {
        if hosts.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let released = release_many(&mut tx.conn(), hosts, worker).await?;
        tx.commit().await?;
        Ok(released)
    }

    /// [`Transaction::add_alias`] in its own transaction.
    pub async fn add_alias(
        &self,
        alias: &Host,
        canonical: &Host,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.add_alias(alias, canonical, reason, at).await?;
        tx.commit().await
    }

    /// The server `name` is an alias of, if it is one.
    pub async fn canonical(&self, name: &Host) -> Result<Option<Host>> {
        let mut conn = self.acquire().await?;
        canonical(&mut conn.conn(), name).await
    }

    /// How many servers are counted but never named, by why ([`Unlisted`]).
    pub async fn unlisted(&self) -> Result<Unlisted> {
        let mut conn = self.acquire().await?;
        let row = conn
            .conn()
            .fetch_one::<UnlistedRow>(
                Sql::new(
                    "SELECT CAST(COALESCE(SUM(CASE WHEN status <> 'opted_out' \
                     AND last_answered_at IS NOT NULL \
                     AND (last_success_at IS NULL OR last_answered_at > last_success_at) \
                     THEN 1 ELSE 0 END), 0) AS BIGINT) AS robots, \
                     CAST(COALESCE(SUM(CASE WHEN status = 'opted_out' THEN 1 ELSE 0 END), 0) \
                     AS BIGINT) AS operator FROM servers",
                ),
                "counting unlisted servers",
            )
            .await?;
        Ok(Unlisted {
            robots_opted_out: crate::db::count_of(row.robots),
            operator_opted_out: crate::db::count_of(row.operator),
        })
    }

    /// The crawl's schedule and coverage at `now`, by status: how many servers, how many are
    /// due now or within the hour or the day, leased, visited in the last day or week, and never
    /// visited. What the Crawl health page shows as "coverage" and "what is due".
    pub async fn schedule(&self, now: DateTime<Utc>) -> Result<Vec<StatusSchedule>> {
        let mut conn = self.acquire().await?;
        let now = crate::db::stored_instant(now);
        let rows = conn
            .conn()
            .fetch_all::<ScheduleRow>(
                Sql::new(
                    "SELECT status, \
                     CAST(COUNT(*) AS BIGINT) AS servers, \
                     CAST(SUM(CASE WHEN next_due <= $1 THEN 1 ELSE 0 END) AS BIGINT) AS due_now, \
                     CAST(SUM(CASE WHEN next_due <= $2 THEN 1 ELSE 0 END) AS BIGINT) AS due_hour, \
                     CAST(SUM(CASE WHEN next_due <= $3 THEN 1 ELSE 0 END) AS BIGINT) AS due_day, \
                     CAST(SUM(CASE WHEN lease_expires > $1 THEN 1 ELSE 0 END) AS BIGINT) AS leased, \
                     CAST(SUM(CASE WHEN last_observed_at > $4 THEN 1 ELSE 0 END) AS BIGINT) \
                      AS visited_day, \
                     CAST(SUM(CASE WHEN last_observed_at > $5 THEN 1 ELSE 0 END) AS BIGINT) \
                      AS visited_week, \
                     CAST(SUM(CASE WHEN last_observed_at IS NULL THEN 1 ELSE 0 END) AS BIGINT) \
                      AS never_visited \
                     FROM servers GROUP BY status ORDER BY status",
                )
                .bind(now)
                .bind(now + Duration::hours(1))
                .bind(now + Duration::days(1))
                .bind(now - Duration::days(1))
                .bind(now - Duration::days(7)),
                "reading the crawl's schedule",
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(StatusSchedule {
                    status: ServerStatus::parse(&r.status)?,
                    servers: crate::db::count_of(r.servers),
                    due_now: crate::db::count_of(r.due_now),
                    due_within_hour: crate::db::count_of(r.due_hour),
                    due_within_day: crate::db::count_of(r.due_day),
                    leased: crate::db::count_of(r.leased),
                    visited_last_day: crate::db::count_of(r.visited_day),
                    visited_last_week: crate::db::count_of(r.visited_week),
                    never_visited: crate::db::count_of(r.never_visited),
                })
            })
            .collect()
    }
}

/// Servers counted but never named, by why (see docs/METHODOLOGY.md): shown on the Crawl health
/// page and written into every export's manifest, so a reader of per-server files knows how many
/// servers they leave out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unlisted {
    /// Servers whose latest answer is a robots.txt that forbids fedicensus: alive, opted out.
    pub robots_opted_out: u64,
    /// Servers the operator marked opted out (451, the deny list, the admin API).
    pub operator_opted_out: u64,
}

#[derive(sqlx::FromRow)]
struct UnlistedRow {
    robots: i64,
    operator: i64,
}

/// The crawl's schedule and coverage for the servers of one status (see [`Storage::schedule`]).
/// "Due" counts servers whose next visit time has come, leased or not; opted-out servers are
/// never visited whatever their time says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSchedule {
    pub status: ServerStatus,
    pub servers: u64,
    pub due_now: u64,
    pub due_within_hour: u64,
    pub due_within_day: u64,
    /// Under a live lease: a worker is visiting them now.
    pub leased: u64,
    pub visited_last_day: u64,
    pub visited_last_week: u64,
    pub never_visited: u64,
}

#[derive(sqlx::FromRow)]
struct ScheduleRow {
    status: String,
    servers: i64,
    due_now: i64,
    due_hour: i64,
    due_day: i64,
    leased: i64,
    visited_day: i64,
    visited_week: i64,
    never_visited: i64,
}
