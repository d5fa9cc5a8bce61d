//! The census pipeline: what connects the crawler to storage (`fedicensus crawl` and the demo
//! run it).
//!
//! The crawler and storage do not know each other (an architecture invariant); this module is the
//! channel between them. The database is the frontier: hosts are leased from it in batches as
//! visit slots free up (`FOR NO KEY UPDATE SKIP LOCKED` on PostgreSQL, so several workers on several
//! machines share one crawl), visited by the crawler, and the observations are written back by
//! one writer task in batched transactions that also record the peers they revealed as new, due
//! servers and release the hosts' leases with their next-due times. A crawl killed at any moment therefore
//! resumes where it stopped: finished visits are stored (idempotently), unfinished ones come due
//! again when their lease expires.

mod progress;
mod reconnect;
mod summary;
mod writer;

pub use progress::Progress;
use reconnect::*;
pub use summary::PassSummary;
use summary::*;
use writer::*;

use crate::error::{Context, Error, Result};
use chrono::{DateTime, TimeDelta, Utc};
use fedicensus_core::{Host, Observation, Outcome};
use fedicensus_crawler::cache::DocumentCache;
use fedicensus_crawler::schedule::{self, HostHistory};
use fedicensus_crawler::{CacheReport, Clock, Crawler, CrawlerConfig, HealthReport, VisitReport};
use fedicensus_storage::{DueHost, RunHealth, RunId, RunStart, Storage};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Large servers of several kinds of software, from which a real crawl discovers the rest.
pub const DEFAULT_SEEDS: &[&str] = &[
    "mastodon.social",
    "mstdn.jp",
    "pawoo.net",
    "misskey.io",
    "lemmy.world",
    "pixelfed.social",
    "framatube.org",
    "mastodon.online",
    "fosstodon.org",
    "akko.wtf",
];

/// How long a leased host stays reserved for one worker; a worker killed mid-visit loses its
/// hosts to the others after this.
pub const LEASE_FOR: Duration = Duration::from_secs(10 * 60);
/// Hosts leased at once.
pub const DEFAULT_BATCH: u32 = 500;
/// Peer-list names that finished visits may hold before the writer has stored them (about 70
/// bytes each, so about 35 MB). While more are held no new visit starts; those under way
/// finish, so a pass can overshoot by what they read (a 30,000-server crawl peaked at 1.1
/// million names with a limit of 50,000), but a writer that falls behind slows the visits down
/// instead of queueing their lists without bound.
pub const HELD_PEERS: usize = 500_000;
/// Database connections a crawl process keeps: the leasing loop's and the writer's. More buy
/// nothing (each task uses one at a time) and cost memory: every SQLite connection keeps its own
/// page cache (up to 32 MiB), and a pool hands the tasks whichever connection is idle, so over a
/// long crawl each of the default 8 filled its own (30,000 servers: 561 MB peak with 8, 276 MB
/// with 2).
pub const CRAWL_CONNECTIONS: u32 = 2;
/// SQLite page cache per crawl connection, in KiB (storage's default is 32 MiB, for bulk loads
/// and dashboard reads). Two full default caches were a fifth of the crawler's peak: 30,000
/// servers peaked at 312 MB with 32 MiB and 234 MB with 8 MiB, for about 10 % more CPU and wall
/// time (BENCHMARKS.md, "Crawler").
pub const CRAWL_SQLITE_CACHE_KIB: u32 = 8 * 1024;
/// How often a daemon (`--every`) looks for crawls asked for on the dashboard's admin API between
/// its scheduled passes.
pub const REQUEST_POLL: Duration = Duration::from_secs(5);
/// How long the pipeline waits for a database it cannot reach (PostgreSQL restarting, a dropped
/// connection) before the crawl gives up; visits keep running meanwhile and queue for the writer.
pub const RECONNECT_FOR: Duration = Duration::from_secs(10 * 60);

impl Pipeline {
    /// Passes until done: one, or (with `every`) a pass, a wait of `every` (cut short when a
    /// crawl is asked for on the dashboard) and another, until cancelled. Each pass's summary
    /// is given to `say`, as are the crawl requests that cut a wait short. A pass whose every
    /// visit failed its TLS handshake ends the crawl with an error: the crawler's own trust is
    /// wrong, which is not data about the servers.
    pub async fn run(
        &self,
        seeds: &[Host],
        every: Option<Duration>,
        mut say: impl FnMut(&str),
    ) -> Result<()> {
        loop {
            // Crawl requests are compared in wall-clock time whatever the crawl's clock reads.
            let pass_began = Utc::now();
            let taken = self
                .storage
                .start_crawl_requests(pass_began, &self.worker)
                .await
                .context("marking crawl requests started")?;
            if taken > 0 {
                tracing::info!(
                    taken,
                    "this pass takes the crawl asked for on the dashboard"
                );
            }
            let summary = self.pass(seeds).await?;
            say(&summary.to_string());
            if let Some(why) = every_visit_failed_tls(&summary) {
                // A CA file from an earlier run of the simulator, say. Saying nothing and
                // exiting 0 hid it.
                return Err(Error::Refused(why));
            }
            let Some(every) = every else { break };
            if !wait_for_next_pass(&self.storage, &self.cancel, every, pass_began, &mut say).await {
                break;
            }
        }
        Ok(())
    }
}

/// Why a pass whose every visit failed its TLS handshake says the crawler is misconfigured.
fn every_visit_failed_tls(summary: &PassSummary) -> Option<String> {
    let visits: u64 = summary.by_outcome.values().sum();
    let tls = summary.by_outcome.get("tls").copied().unwrap_or(0);
    (visits > 0 && tls == visits).then(|| {
        format!(
            "every one of the {visits} visits of this pass failed its TLS handshake (outcome \
             `tls`): the crawler does not trust the servers' certificates. Crawling the \
             simulator, --ca-file must be the certificate the running `fedicensus simulate` \
             wrote (each start writes a new one); otherwise check the system's CA certificates"
        )
    })
}

/// Waits `every` after a pass (which began at `pass_began`, wall-clock time), or less when a
/// crawl is asked for on the dashboard in the meantime (looked for every [`REQUEST_POLL`]).
/// False when the crawl is told to stop.
async fn wait_for_next_pass(
    storage: &Storage,
    cancel: &CancellationToken,
    every: Duration,
    pass_began: DateTime<Utc>,
    say: &mut impl FnMut(&str),
) -> bool {
    let due = Instant::now() + every;
    loop {
        let left = due.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return !cancel.is_cancelled();
        }
        tokio::select! {
            _ = cancel.cancelled() => return false,
            _ = tokio::time::sleep(left.min(REQUEST_POLL)) => {}
        }
        match storage.crawl_requested_since(pass_began).await {
            Ok(Some(request)) => {
                tracing::info!(
                    requested_at = %request.requested_at,
                    by = %request.requested_by,
                    "a crawl was asked for: starting a pass now"
                );
                say(&format!(
                    "A crawl was asked for at {} by {}: starting a pass now.",
                    request
                        .requested_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    request.requested_by
                ));
                return !cancel.is_cancelled();
            }
            Ok(None) => {}
            // The database may be restarting; the next look, or the next pass, will tell.
            Err(e) => tracing::warn!(error = %e, "could not look for crawl requests"),
        }
    }
}

/// A clock that reads `start` now and runs forward at wall-clock speed.
pub fn offset_clock(start: DateTime<Utc>) -> Clock {
    let anchor = Instant::now();
    Arc::new(move || start + TimeDelta::from_std(anchor.elapsed()).unwrap_or(TimeDelta::zero()))
}
/// The crawler, storage and the leasing loop between them.
pub struct Pipeline {
    pub storage: Storage,
    pub config: CrawlerConfig,
    pub clock: Clock,
    pub worker: String,
    pub batch: u32,
    pub cancel: CancellationToken,
    pub progress: Progress,
    /// Read each host's peer list once per [`CrawlerConfig::peers_every`] period at a phase of
    /// its own (see [`staggered_peers_due`]) instead of whenever the last read is older than
    /// that. `fedicensus crawl` leaves it off; the demo, whose passes are days apart, turns it
    /// on so that each pass reads a share of the lists rather than all of them or none.
    pub staggered_peers: bool,
    /// Peer-list names finished visits may hold before the writer has stored them; while more
    /// are held, no new visit starts. [`HELD_PEERS`] unless a test wants it tight.
    pub held_peers: usize,
    /// The documents kept for conditional requests, shared by every pass of this pipeline
    /// ([`DocumentCache::for_config`]); `None` when conditional requests are off. Each worker
    /// process keeps its own: another worker's document is a full read here, nothing worse.
    pub documents: Option<Arc<DocumentCache>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("worker", &self.worker)
            .field("batch", &self.batch)
            .field("staggered_peers", &self.staggered_peers)
            .field("held_peers", &self.held_peers)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// One pass: seeds are added, then due hosts are leased, visited and recorded until nothing
    /// is due (or the pass is cancelled).
    ///
    /// Leasing is continuous: visits run in a [`JoinSet`] up to the crawler's visit limit, and
    /// whenever fewer than a batch of leased hosts wait to start, the next batch is leased, so
    /// a slow host holds up nobody. Finished visits go down a channel to one writer task that
    /// records them in batches (one transaction each: the observations and the release of their
    /// leases with the crawler's next-due time). The pass ends when no visit is under way, every
    /// finished one is written, and a lease taken after the last write found nothing due: the
    /// peers the last visits revealed are due at once, so they are still visited in this pass.
    pub async fn pass(&self, seeds: &[Host]) -> Result<PassSummary> {
        let started = Instant::now();
        let now = (self.clock)();
        // Leases this worker name still holds are from a run that died (kill -9, a crash):
        // nothing of them is in flight, so they are due again now.
        let reclaimed = self
            .storage
            .release_all(&self.worker)
            .await
            .context("releasing this worker's leases from an earlier run")?;
        if reclaimed > 0 {
            tracing::info!(reclaimed, worker = %self.worker, "took back leases of an earlier run");
        }
        // Workers started together add the same seeds at once. The insert is idempotent and in
        // one order, but PostgreSQL may still abort one as a deadlock with another worker's
        // writes: that one tries again.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.storage.add_seeds(seeds, now).await {
                Ok(_) => break,
                Err(err) if write_conflict(&err) && attempt < 5 => {
                    tracing::debug!(error = %err, attempt, "adding the seeds met another worker's write; again");
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                Err(err) => return Err(err).context("adding the seeds"),
            }
        }
        let run = self
            .storage
            .start_run(&RunStart {
                started_at: now,
                crawler_version: env!("CARGO_PKG_VERSION").to_string(),
                config_hash: config_hash(&self.config),
                seeds: seeds.to_vec(),
            })
            .await
            .context("starting a crawl run")?;
        let crawler = Crawler::new(self.config.clone())
            .context("setting up the crawler")?
            .with_clock(self.clock.clone())
            .with_cache(self.documents.clone());
        let summary = Arc::new(std::sync::Mutex::new(PassSummary::default()));
        let (to_writer, from_visits) = mpsc::channel::<Finished>(WRITE_BATCH * 4);
        let (written_tx, mut written) = watch::channel(0u64);
        let held_peers = Arc::new(AtomicUsize::new(0));
        let writer = tokio::spawn(write_visits(
            Writer {
                storage: self.storage.clone(),
                run,
                worker: self.worker.clone(),
                written: written_tx,
                held_peers: held_peers.clone(),
                summary: summary.clone(),
                progress: self.progress.clone(),
            },
            from_visits,
        ));
        let leasing = self
            .lease_and_visit(
                &crawler,
                now,
                Handoff {
                    to_writer: &to_writer,
                    written: &mut written,
                    held_peers: &held_peers,
                },
                &summary,
            )
            .await;
        drop(to_writer);
        let health = crawler.health().report();
        tracing::info!(
            lag_p99_ms = health.lag_p99.as_millis() as u64,
            lag_max_ms = health.lag_max.as_millis() as u64,
            stalled_ms = health.stalled.as_millis() as u64,
            cpu_share = health.cpu_share.unwrap_or(-1.0),
            visit_limit_min = health.visit_limit_min,
            visit_limit_max = health.visit_limit_max,
            halvings = health.halvings,
            "the crawler's own health during the pass"
        );
        let written_ok = writer.await.context("the writer task failed")?;
        // The writer's own error says what failed (a full disk, a lost database); the leasing
        // loop only knows that the writer stopped.
        written_ok?;
        leasing?;
        let mut summary = summary.lock().unwrap_or_else(|e| e.into_inner()).clone();
        summary.cancelled = self.cancel.is_cancelled();
        summary.elapsed = started.elapsed();
        let finished_at = (self.clock)();
        // Claims recorded while the census was too young to measure them (its first batches)
        // are checked against the census the pass built (docs/METHODOLOGY.md, "Data quality").
        let rechecked = reconnecting("checking large claims against the census", || {
            self.storage.recheck_claims(finished_at, run)
        })
        .await
        .context("checking large claims against the census")?;
        if rechecked > 0 {
            tracing::info!(flags = rechecked, "claims far beyond the census flagged");
        }
        // Obfuscated block-list entries matched to the servers the census now knows, by digest
        // (docs/METHODOLOGY.md, "Block lists").
        let matched = reconnecting("matching obfuscated blocks", || {
            self.storage.match_block_digests()
        })
        .await
        .context("matching obfuscated blocks")?;
        if matched > 0 {
            tracing::info!(
                edges = matched,
                "obfuscated blocks matched to known servers"
            );
        }
        let counts = reconnecting("finishing the crawl run", || {
            self.storage.finish_run(run, finished_at)
        })
        .await
        .context("finishing the crawl run")?;
        summary.by_outcome = counts;
        let record = run_health(&health);
        reconnecting("recording the crawler's health", || {
            self.storage.record_run_health(run, &record)
        })
        .await
        .context("recording the crawler's health")?;
        summary.health = Some(health);
        summary.body_bytes = crawler.body_bytes();
        summary.cache = crawler.cache_report();
        self.progress.finish(&summary);
        Ok(summary)
    }

    /// How many hosts to lease now, holding `held` (visits under way and leased hosts waiting to
    /// start). On PostgreSQL, where several workers share a pass, a worker holds at most half of
    /// what is left (what is due and unleased, plus what it holds), and at least `concurrency`:
    /// the first of two workers started together no longer leases the whole pass while the other
    /// finds nothing due and sleeps until the next one. A lone worker is slowed only where the
    /// due hosts are fewer than twice its visits in flight, that is on small passes. SQLite has
    /// one writer and one worker: it leases a batch.
    async fn lease_size(&self, held: usize, concurrency: usize) -> Result<u32> {
        if self.storage.backend() != fedicensus_storage::Backend::Postgres {
            return Ok(self.batch);
        }
        let due = reconnecting("counting due hosts", || {
            self.storage.count_due_hosts((self.clock)())
        })
        .await
        .context("counting due hosts")?;
        if due == 0 {
            // A lease that comes back empty is how the loop learns that nothing is due.
            return Ok(self.batch);
        }
        Ok(fair_share(due, held, concurrency, self.batch))
    }

    /// Whether other workers hold live leases on this PostgreSQL database (SQLite: one worker).
    async fn others_leasing(&self) -> Result<bool> {
        if self.storage.backend() != fedicensus_storage::Backend::Postgres {
            return Ok(false);
        }
        let leased = reconnecting("counting other workers' leases", || {
            self.storage.leased_by_others(&self.worker, (self.clock)())
        })
        .await
        .context("counting other workers' leases")?;
        Ok(leased > 0)
    }

    /// The leasing loop of [`Pipeline::pass`]: keeps the visits running and the writer fed.
    async fn lease_and_visit(
        &self,
        crawler: &Crawler,
        pass_start: DateTime<Utc>,
        handoff: Handoff<'_>,
        summary: &std::sync::Mutex<PassSummary>,
    ) -> Result<()> {
        let Handoff {
            to_writer,
            written,
            held_peers,
        } = handoff;
        // Visits in flight follow the crawler's own lag (adaptive, within
        // `concurrency × VISITS_PER_SLOT`): a busy machine slows the crawl down instead of
        // timing its requests out.
        let health = crawler.health().clone();
        health.start();
        let batch = self.batch as usize;
        // The per-registrable-domain budget holds for the whole pass, across leases.
        let mut per_domain: HashMap<String, usize> = HashMap::new();
        let mut waiting: VecDeque<DueHost> = VecDeque::new();
        let mut visits: JoinSet<Finished> = JoinSet::new();
        // Hosts leased and not yet handed to the writer (to release them if the pass stops).
        let mut held: HashSet<Host> = HashSet::new();
        let mut sent: u64 = 0;
        // Whether a lease came back empty, and how many visits were written when it was taken:
        // only writes after it can make more hosts due.
        let mut dry_at: Option<u64> = None;
        loop {
            if self.cancel.is_cancelled() {
                break;
            }
            let written_now = *written.borrow();
            if dry_at.is_some_and(|at| written_now > at) {
                dry_at = None;
            }
            let limit = if waiting.len() < batch && dry_at.is_none() {
                self.lease_size(visits.len() + waiting.len(), crawler.config().concurrency)
                    .await?
            } else {
                0
            };
            if limit > 0 {
                let leased = reconnecting("leasing due hosts", || {
                    self.storage.lease_due_hosts(
                        &self.worker,
                        (self.clock)(),
                        limit,
                        chrono_duration(LEASE_FOR),
                    )
                })
                .await
                .context("leasing due hosts")?;
                if leased.is_empty() {
                    dry_at = Some(written_now);
                }
                let mut over_budget = Vec::new();
                for due in leased {
                    let domain = due.host.registrable_domain().to_string();
                    let used = per_domain.entry(domain).or_default();
                    if *used >= self.config.domain_budget {
                        // Over budget this pass: due again after the pass, not now.
                        over_budget.push((due.host, Some(pass_start + TimeDelta::hours(6))));
                        continue;
                    }
                    *used += 1;
                    held.insert(due.host.clone());
                    waiting.push_back(due);
                }
                if !over_budget.is_empty() {
                    summary
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .over_budget += over_budget.len() as u64;
                    reconnecting("releasing hosts over budget", || {
                        self.storage.release_many(&over_budget, &self.worker)
                    })
                    .await
                    .context("releasing hosts over their domain's budget")?;
                }
            }
            // Too many peer names wait for the writer: visits under way finish, none start.
            let held_full = held_peers.load(Ordering::Relaxed) >= self.held_peers;
            health.note_writer_backlog(
                1.0 - to_writer.capacity() as f64 / to_writer.max_capacity().max(1) as f64,
            );
            while visits.len() < health.visit_limit() && !held_full {
                let Some(due) = waiting.pop_front() else {
                    break;
                };
                let crawler = crawler.clone();
                let now = (self.clock)();
                let mut plan = crawler
                    .config()
                    .plan(now, due.peers_read_at, due.activity_read_at);
                if self.staggered_peers && crawler.config().fetch_peers {
                    plan.peers = staggered_peers_due(
                        &due.host,
                        now,
                        due.peers_read_at,
                        crawler.config().peers_every,
                    );
                }
                let alive_every = crawler.config().alive_every;
                let held_peers = held_peers.clone();
                visits.spawn(async move {
                    let report = crawler.visit_planned(&due.host, plan).await;
                    let next = next_due(&report, Some(&due), alive_every);
                    let peers = report.observation.peers.as_ref().map_or(0, Vec::len);
                    held_peers.fetch_add(peers, Ordering::Relaxed);
                    Finished {
                        due,
                        report,
                        next,
                        peers,
                    }
                });
            }
            // Whether the visit limit, rather than a lack of hosts, keeps visits from starting.
            let limited = !waiting.is_empty() && visits.len() >= health.visit_limit();
            if visits.is_empty() {
                if !waiting.is_empty() && !held_full {
                    continue;
                }
                if waiting.is_empty()
                    && sent == *written.borrow()
                    && dry_at.is_some_and(|at| at == sent)
                {
                    if sent == 0 && self.others_leasing().await? {
                        // Nothing was due when this pass began, but other workers are visiting:
                        // workers started together find only the seeds due, and the first takes
                        // them. What their visits reveal is this pass's work too, so look again.
                        tokio::select! {
                            _ = self.cancel.cancelled() => break,
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                        dry_at = None;
                        continue;
                    }
                    // Nothing running, everything written, and nothing due since: done.
                    break;
                }
                // Waiting for the writer: its next batch may reveal due hosts, or free room for
                // the visits waiting.
                tokio::select! {
                    _ = self.cancel.cancelled() => break,
                    changed = written.changed() => {
                        if changed.is_err() {
                            return Err(Error::Refused("the writer stopped".into()));
                        }
                    }
                }
                continue;
            }
            let joined = tokio::select! {
                _ = self.cancel.cancelled() => break,
                joined = visits.join_next() => joined,
                // The writer stored a batch: room for new visits, if that was what stopped them.
                changed = written.changed(), if held_full => {
                    if changed.is_err() {
                        return Err(Error::Refused("the writer stopped".into()));
                    }
                    continue;
                }
                // The visit limit may grow with the crawler's lag low: look again for room.
                _ = tokio::time::sleep(fedicensus_crawler::health::CONTROL_EVERY),
                    if limited && !held_full => continue,
            };
            match joined {
                Some(Ok(finished)) => {
                    held.remove(&finished.due.host);
                    sent += 1;
                    if to_writer.send(finished).await.is_err() {
                        return Err(Error::Refused("the writer stopped".into()));
                    }
                }
                // A visit never panics by design; if one did, its lease expires.
                Some(Err(err)) => tracing::error!(error = %err, "a visit task failed"),
                None => {}
            }
        }
        if self.cancel.is_cancelled() {
            // Stopping: visits under way are abandoned and every host leased but not visited is
            // released unchanged, so it is due at once for the next run (or another worker).
            visits.abort_all();
            while visits.join_next().await.is_some() {}
            let unvisited: Vec<(Host, Option<DateTime<Utc>>)> =
                held.into_iter().map(|h| (h, None)).collect();
            self.storage
                .release_many(&unvisited, &self.worker)
                .await
                .context("releasing the hosts not visited")?;
        }
        Ok(())
    }
}

/// The hosts a worker holding `held` may lease when `due` are due and unleased: its holding
/// grows to at most half of what is left (at least `concurrency`), a lease to at most `batch`.
fn fair_share(due: u64, held: usize, concurrency: usize, batch: u32) -> u32 {
    let held = held as u64;
    let share = (due + held).div_ceil(2).max(concurrency as u64);
    let room = share.saturating_sub(held).min(due);
    u32::try_from(room).unwrap_or(u32::MAX).min(batch)
}

/// When to visit a host again, from this visit and what the database knew of it.
fn next_due(report: &VisitReport, due: Option<&DueHost>, alive_every: Duration) -> DateTime<Utc> {
    let observation = &report.observation;
    let history = if observation.outcome.answered() {
        HostHistory::alive()
    } else {
        let failures = due.map_or(0, |d| d.consecutive_failures) + 1;
        HostHistory {
            consecutive_failures: failures,
            // The failing run began after the last answer (a success or a robots.txt refusal); a
            // host that never answered has been failing since this visit as far as we know.
            failing_since: Some(
                due.and_then(|d| d.last_answered_at)
                    .unwrap_or(observation.observed_at),
            ),
            postponed_until: report.postponed_until,
        }
    };
    schedule::next_due(
        &observation.outcome,
        &history,
        observation.observed_at,
        alive_every,
        schedule::jitter_draw(observation.host.as_str(), observation.observed_at),
    )
}

/// Whether `host`'s peer list is due at `now` when lists are read once per `every` at a phase
/// of the host's own: time is cut into periods of `every`, shifted by a stable hash of the host,
/// and a list is read on the first visit of each period (and on the first visit ever). Reads of
/// different hosts thus spread evenly over the period, and a host visited every few days still
/// has its list read about once per `every`.
fn staggered_peers_due(
    host: &Host,
    now: DateTime<Utc>,
    read: Option<DateTime<Utc>>,
    every: Duration,
) -> bool {
    use std::hash::{Hash, Hasher};
    let Some(read) = read else {
        return true;
    };
    let period = i64::try_from(every.as_secs()).unwrap_or(i64::MAX).max(1);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    host.as_str().hash(&mut hasher);
    let phase = i64::try_from(hasher.finish() % period.unsigned_abs()).unwrap_or(0);
    let slot = |t: DateTime<Utc>| t.timestamp().saturating_add(phase).div_euclid(period);
    slot(now) > slot(read)
}

fn chrono_duration(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// A stable hash of what changes how a crawl behaves, stored with each run.
fn config_hash(config: &CrawlerConfig) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    config.user_agent().hash(&mut hasher);
    config.concurrency.hash(&mut hasher);
    config.per_ip_concurrency.hash(&mut hasher);
    config.min_interval.hash(&mut hasher);
    (config.requests_per_second).inspect(|n| n.hash(&mut hasher));
    (config.requests_per_second_per_address).inspect(|n| n.hash(&mut hasher));
    config.request_timeout.hash(&mut hasher);
    config.connect_timeout.hash(&mut hasher);
    config.visit_timeout.hash(&mut hasher);
    config.document_cap.hash(&mut hasher);
    config.peer_list_cap.hash(&mut hasher);
    config.max_redirects.hash(&mut hasher);
    config.domain_budget.hash(&mut hasher);
    config.deny.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_worker_leases_at_most_half_of_what_is_left() {
        use super::fair_share;
        // Two workers started together on a pass of 391 hosts, 64 visits each at least.
        assert_eq!(fair_share(391, 0, 64, 500), 196);
        assert_eq!(fair_share(195, 0, 64, 500), 98);
        // The first, holding its half, leases nothing more until its visits finish.
        assert_eq!(fair_share(97, 196, 64, 500), 0);
        // Never below the concurrency, never above what is due or the batch.
        assert_eq!(fair_share(10, 0, 64, 500), 10);
        assert_eq!(fair_share(100_000, 0, 64, 500), 500);
    }

    use super::*;

    /// A real SQLite error of each kind, as the storage crate wraps it.
    async fn sqlite_error(busy: bool) -> fedicensus_storage::Error {
        use sqlx::{Connection, Executor};
        let dir =
            std::env::temp_dir().join(format!("fedicensus_conflict_{}_{busy}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let mut a = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("a connection");
        a.execute("PRAGMA busy_timeout = 0; CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY); INSERT OR IGNORE INTO t VALUES (1)")
            .await
            .expect("a table");
        let source = if busy {
            let mut b = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("a connection");
            b.execute("PRAGMA busy_timeout = 0; BEGIN IMMEDIATE; INSERT INTO t VALUES (2)")
                .await
                .expect("a write lock");
            a.execute("INSERT INTO t VALUES (3)")
                .await
                .expect_err("busy")
        } else {
            a.execute("INSERT INTO t VALUES (1)")
                .await
                .expect_err("a duplicate key")
        };
        let _ = std::fs::remove_dir_all(&dir);
        fedicensus_storage::Error::Database {
            context: "recording visits",
            source,
        }
    }

    #[tokio::test]
    async fn only_a_write_that_lost_a_race_is_retried_one_visit_at_a_time() {
        assert!(write_conflict(&sqlite_error(true).await), "a busy database");
        assert!(
            !write_conflict(&sqlite_error(false).await),
            "a refused write"
        );
        assert!(!write_conflict(&fedicensus_storage::Error::UnknownRun(1)));
    }

    #[test]
    fn staggered_peer_lists_are_read_once_a_period_and_spread_over_it() {
        let every = Duration::from_secs(30 * 86_400);
        let start = DateTime::parse_from_rfc3339("2022-09-01T00:00:00Z")
            .expect("a date")
            .with_timezone(&Utc);
        let hosts: Vec<Host> = (0..1_000)
            .map(|i| Host::parse(&format!("server{i}.example.org")).expect("a host"))
            .collect();
        let mut last_read: Vec<Option<DateTime<Utc>>> = vec![None; hosts.len()];
        let mut reads = vec![0u32; hosts.len()];
        // Visits every 3 days for 120 days.
        for pass in 0..40 {
            let now = start + TimeDelta::days(3 * pass);
            let mut read_now = 0;
            for (i, host) in hosts.iter().enumerate() {
                if staggered_peers_due(host, now, last_read[i], every) {
                    last_read[i] = Some(now);
                    reads[i] += 1;
                    read_now += 1;
                }
            }
            if pass == 0 {
                assert_eq!(read_now, hosts.len(), "every list is read on a first visit");
            } else {
                // A tenth of the lists a pass, give or take.
                assert!((40..=200).contains(&read_now), "pass {pass}: {read_now}");
            }
        }
        // The first read, then one in each of the four 30-day periods the 117 days touch after it.
        assert!(reads.iter().all(|r| (4..=5).contains(r)), "{reads:?}");
    }
}
