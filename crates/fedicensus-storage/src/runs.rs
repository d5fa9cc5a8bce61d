//! Crawl runs: when a crawl started and ended, with which crawler and configuration, from which
//! seeds, and how its visits ended. Every observation names its run, so any number can be traced
//! to the crawl that produced it. A run also keeps what the crawler measured of its own health
//! while it ran ([`RunHealth`], migration 0026): a census on a busy machine must be able to show
//! that its own lag, not the servers, explains its `inconclusive` visits.

use crate::db::{count_of, stored_instant, Conn, Sql, Storage, Transaction};
use crate::error::{Error, Result};
use crate::observations::RunId;
use chrono::{DateTime, Utc};
use fedicensus_core::Host;
use std::collections::BTreeMap;

/// What a crawler says about itself when a run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    pub started_at: DateTime<Utc>,
    /// The crawler's version (`CARGO_PKG_VERSION` of the binary, say).
    pub crawler_version: String,
    /// A hash of the crawl's configuration, so runs with different settings can be told apart.
    pub config_hash: String,
    pub seeds: Vec<Host>,
}

/// A stored crawl run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub id: RunId,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub crawler_version: String,
    pub config_hash: String,
    pub seeds: Vec<Host>,
    /// Observations by outcome name (filled when the run finishes).
    pub outcomes: BTreeMap<String, u64>,
    /// What the crawler measured of itself during the run, if it said.
    pub health: Option<RunHealth>,
}

/// What a crawler measured of its own health during a run: how late its runtime ran (a ticker's
/// lateness), how much of the run it was stalled, its CPU use, and the range of its adaptive
/// limit on visits in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunHealth {
    /// The 99th percentile of the runtime's lateness, in milliseconds.
    pub lag_p99_ms: u64,
    /// The worst lateness, in milliseconds.
    pub lag_max_ms: u64,
    /// The lateness summed over the run, in milliseconds.
    pub stalled_ms: u64,
    /// The process's CPU time over wall time and cores, in thousandths (`None`: not measured).
    pub cpu_permille: Option<u64>,
    /// The least and the greatest limit on visits in flight the run used.
    pub visit_limit_min: u64,
    pub visit_limit_max: u64,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    crawler_version: String,
    config_hash: String,
    seeds: String,
    lag_p99_ms: Option<i64>,
    lag_max_ms: Option<i64>,
    stalled_ms: Option<i64>,
    cpu_permille: Option<i64>,
    visit_limit_min: Option<i64>,
    visit_limit_max: Option<i64>,
}

impl RunRow {
    fn health(&self) -> Option<RunHealth> {
        let n = |v: Option<i64>| v.map(count_of);
        Some(RunHealth {
            lag_p99_ms: n(self.lag_p99_ms)?,
            lag_max_ms: n(self.lag_max_ms)?,
            stalled_ms: n(self.stalled_ms)?,
            cpu_permille: n(self.cpu_permille),
            visit_limit_min: n(self.visit_limit_min)?,
            visit_limit_max: n(self.visit_limit_max)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct OutcomeCount {
    outcome: String,
    count: i64,
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: i64,
}

pub(crate) async fn start_run(conn: &mut Conn<'_>, start: &RunStart) -> Result<RunId> {
    let seeds: Vec<&str> = start.seeds.iter().map(Host::as_str).collect();
    let row = conn
        .fetch_one::<IdRow>(
            Sql::new(
                "INSERT INTO crawl_runs (started_at, crawler_version, config_hash, seeds) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(stored_instant(start.started_at))
            .bind(start.crawler_version.as_str())
            .bind(start.config_hash.as_str())
            .bind(seeds.join("\n")),
            "starting a crawl run",
        )
        .await?;
    Ok(RunId(row.id))
}

pub(crate) async fn finish_run(
    conn: &mut Conn<'_>,
    run: RunId,
    finished_at: DateTime<Utc>,
) -> Result<BTreeMap<String, u64>> {
    let changed = conn
        .execute(
            Sql::new("UPDATE crawl_runs SET finished_at = $1 WHERE id = $2")
                .bind(stored_instant(finished_at))
                .bind(run.0),
            "finishing a crawl run",
        )
        .await?;
    if changed == 0 {
        return Err(Error::UnknownRun(run.0));
    }
    let counts = conn
        .fetch_all::<OutcomeCount>(
            Sql::new(
                "SELECT outcome, COUNT(*) AS count FROM observations WHERE crawl_run_id = $1 \
                 GROUP BY outcome",
            )
            .bind(run.0),
            "counting a run's outcomes",
        )
        .await?;
    // Finishing twice (a retry) rewrites the same counts.
    conn.execute(
        Sql::new("DELETE FROM crawl_run_outcomes WHERE run_id = $1").bind(run.0),
        "clearing a run's counts",
    )
    .await?;
    for c in &counts {
        conn.execute(
            Sql::new("INSERT INTO crawl_run_outcomes (run_id, outcome, count) VALUES ($1, $2, $3)")
                .bind(run.0)
                .bind(c.outcome.as_str())
                .bind(c.count),
            "storing a run's counts",
        )
        .await?;
    }
    Ok(counts
        .into_iter()
        .map(|c| (c.outcome, count_of(c.count)))
        .collect())
}

pub(crate) async fn record_run_health(
    conn: &mut Conn<'_>,
    run: RunId,
    health: &RunHealth,
) -> Result<()> {
    let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let changed = conn
        .execute(
            Sql::new(
                "UPDATE crawl_runs SET lag_p99_ms = $1, lag_max_ms = $2, stalled_ms = $3, \
                 cpu_permille = $4, visit_limit_min = $5, visit_limit_max = $6 WHERE id = $7",
            )
            .bind(signed(health.lag_p99_ms))
            .bind(signed(health.lag_max_ms))
            .bind(signed(health.stalled_ms))
            .bind(health.cpu_permille.map(signed))
            .bind(signed(health.visit_limit_min))
            .bind(signed(health.visit_limit_max))
            .bind(run.0),
            "recording a run's health",
        )
        .await?;
    if changed == 0 {
        return Err(Error::UnknownRun(run.0));
    }
    Ok(())
}

pub(crate) async fn runs(conn: &mut Conn<'_>) -> Result<Vec<Run>> {
    let rows = conn
        .fetch_all::<RunRow>(
            Sql::new(
                "SELECT id, started_at, finished_at, crawler_version, config_hash, seeds, \
                 lag_p99_ms, lag_max_ms, stalled_ms, cpu_permille, visit_limit_min, \
                 visit_limit_max FROM crawl_runs ORDER BY id",
            ),
            "listing crawl runs",
        )
        .await?;
    let mut runs = Vec::with_capacity(rows.len());
    for row in rows {
        let counts = conn
            .fetch_all::<OutcomeCount>(
                Sql::new("SELECT outcome, count FROM crawl_run_outcomes WHERE run_id = $1")
                    .bind(row.id),
                "reading a run's counts",
            )
            .await?;
        let health = row.health();
        runs.push(Run {
            health,
            id: RunId(row.id),
            started_at: row.started_at,
            finished_at: row.finished_at,
            crawler_version: row.crawler_version,
            config_hash: row.config_hash,
            seeds: row
                .seeds
                .lines()
                .filter(|l| !l.is_empty())
                .map(Host::from_normalised)
                .collect(),
            outcomes: counts
                .into_iter()
                .map(|c| (c.outcome, count_of(c.count)))
                .collect(),
        });
    }
    Ok(runs)
}

impl Transaction {
    /// Starts a crawl run; pass its id to every observation recorded during it.
    pub async fn start_run(&mut self, start: &RunStart) -> Result<RunId> {
        start_run(&mut self.conn(), start).await
    }

    /// Marks a run finished and stores its counts by outcome (returned too).
    pub async fn finish_run(
        &mut self,
        run: RunId,
        finished_at: DateTime<Utc>,
    ) -> Result<BTreeMap<String, u64>> {
        finish_run(&mut self.conn(), run, finished_at).await
    }
}

impl Storage {
    /// [`Transaction::start_run`] in its own transaction.
    pub async fn start_run(&self, start: &RunStart) -> Result<RunId> {
        let mut tx = self.begin().await?;
        let id = tx.start_run(start).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// [`Transaction::finish_run`] in its own transaction.
    pub async fn finish_run(
        &self,
        run: RunId,
        finished_at: DateTime<Utc>,
    ) -> Result<BTreeMap<String, u64>> {
        let mut tx = self.begin().await?;
        let counts = tx.finish_run(run, finished_at).await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Records what the crawler measured of its own health during `run` (written again, the
    /// same, if repeated).
    pub async fn record_run_health(&self, run: RunId, health: &RunHealth) -> Result<()> {
        let mut conn = self.acquire().await?;
        record_run_health(&mut conn.conn(), run, health).await
    }

    /// Every crawl run, oldest first.
    pub async fn runs(&self) -> Result<Vec<Run>> {
        let mut conn = self.acquire().await?;
        runs(&mut conn.conn()).await
    }
}
