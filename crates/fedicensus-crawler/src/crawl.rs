//! The crawl engine: a [`Crawler`] visits hosts concurrently and streams [`Observation`]s.
//!
//! One `Crawler` holds one HTTP client, one resolver and one [`HostPool`] for its whole life, so
//! politeness and robots.txt caches span every visit and cycle. [`Crawler::crawl_once`] runs one
//! cycle: it visits the seeds, feeds every peer list back into the [`Frontier`], and sends each
//! observation down a channel as soon as it is made (the binary writes them to storage; the
//! crawler does not know storage). The cycle ends when the frontier is empty and no visit is
//! under way, or when its cancellation token fires; either way the summary comes back with the
//! frontier.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fedicensus_core::{Host, Observation, Outcome};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::cache::{CacheReport, DocumentCache};
use crate::config::{CrawlerConfig, VisitPlan};
use crate::discovery::{Frontier, Provenance};
use crate::error::Result;
use crate::health::Health;
use crate::http::HttpClient;
use crate::politeness::HostPool;
use crate::resolve::Resolver;
use crate::visit::{self, system_clock, Clock, Context, VisitReport};

/// How many visits may be under way per unit of [`CrawlerConfig::concurrency`]: visits spend
/// most of their time waiting out per-host intervals, which hold no request slot. A healthy
/// Mastodon server's visit is seven requests of about one round trip (80 ms typical) each
/// followed by the 1 s interval, so it holds a request slot less than a tenth of its time: about
/// ten visits per slot keep the slots busy. With 2 (the old value) a crawl of 3,000 simulated
/// servers took 7.3 times the simulator's lower bound, the slots mostly idle (BENCHMARKS.md,
/// "Crawler"). Visits waiting for their turn cost a small task each; the global cap on requests
/// in flight (`concurrency`) still holds.
pub const VISITS_PER_SLOT: usize = 16;

/// How many times a visit that came back `inconclusive` (our own overload) is made again within
/// the pass, each after the crawler's lag has calmed down (or [`CALM_FOR`] times its number).
pub const INCONCLUSIVE_RETRIES: u32 = 2;
/// The longest wait for calm before a visit is made again, per attempt.
pub const CALM_FOR: Duration = Duration::from_secs(3);

/// The crawl engine.
#[derive(Debug, Clone)]
pub struct Crawler {
    ctx: Arc<Context>,
}

/// What a cycle did, in numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrawlSummary {
    /// Hosts visited.
    pub visited: usize,
    /// Visits by outcome name (`ok`, `timeout`, `http_503`, ...).
    pub by_outcome: BTreeMap<String, usize>,
    /// Requests made in all.
    pub requests: usize,
    /// Hosts that asked to be left alone, and until when.
    pub postponed: Vec<(Host, DateTime<Utc>)>,
    /// Wall time of the cycle.
    pub elapsed: Duration,
    /// Whether the cycle was cancelled before it finished.
    pub cancelled: bool,
}

/// A running cycle: observations arrive on `observations`; `finished` gives the summary and the
/// frontier back; `cancel` stops it (visits under way are abandoned).
#[derive(Debug)]
pub struct CrawlRun<F> {
    pub observations: mpsc::Receiver<Observation>,
    pub finished: JoinHandle<(CrawlSummary, F)>,
    pub cancel: CancellationToken,
}

impl Crawler {
    /// A crawler for `config`. Refuses to start without a contact URL or with impossible limits.
    pub fn new(config: CrawlerConfig) -> Result<Crawler> {
        config.validate()?;
        let resolver = Arc::new(Resolver::new(&config.network)?);
        let health = Health::new(config.concurrency.saturating_mul(VISITS_PER_SLOT));
        let http = HttpClient::new(&config, resolver)?.with_health(health.clone());
        let pool = HostPool::new(
            config.concurrency,
            config.per_ip_concurrency,
            config.min_interval,
            config.max_crawl_delay,
        )
        .with_rates(
            config.requests_per_second,
            config.requests_per_second_per_address,
        );
        let deny = config
            .deny
            .iter()
            .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        let cache = DocumentCache::for_config(&config);
        Ok(Crawler {
            ctx: Arc::new(Context {
                config,
                http,
                pool,
                clock: system_clock(),
                deny,
                health,
                cache,
                body_bytes: Arc::default(),
            }),
        })
    }

    /// The same crawler reading time from `clock` (the simulator's, in a simulated crawl). Call
    /// before the first visit.
    pub fn with_clock(self, clock: Clock) -> Crawler {
        let ctx = match Arc::try_unwrap(self.ctx) {
            Ok(mut ctx) => {
                ctx.clock = clock;
                ctx
            }
            Err(shared) => {
                // Already shared: build a new context around the same client and settings;
                // politeness state starts afresh.
                Context {
                    config: shared.config.clone(),
                    http: shared.http.clone(),
                    pool: HostPool::new(
                        shared.config.concurrency,
                        shared.config.per_ip_concurrency,
                        shared.config.min_interval,
                        shared.config.max_crawl_delay,
                    )
                    .with_rates(
                        shared.config.requests_per_second,
                        shared.config.requests_per_second_per_address,
                    ),
                    clock,
                    deny: shared.deny.clone(),
                    health: shared.health.clone(),
                    cache: shared.cache.clone(),
                    body_bytes: shared.body_bytes.clone(),
                }
            }
        };
        Crawler { ctx: Arc::new(ctx) }
    }

    /// The same crawler keeping its documents in `cache` (one that outlives it: a crawl of
    /// several passes hands each pass's crawler the same cache). Without effect when conditional
    /// requests are off. Call before the first visit.
    pub fn with_cache(mut self, cache: Option<Arc<DocumentCache>>) -> Crawler {
        if !self.ctx.config.conditional_requests {
            return self;
        }
        let Some(cache) = cache else { return self };
        match Arc::get_mut(&mut self.ctx) {
            Some(ctx) => ctx.cache = Some(cache),
            // Already visiting: it keeps the cache it has.
            None => tracing::warn!("with_cache called on a crawler in use; its own cache stays"),
        }
        self
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &CrawlerConfig {
        &self.ctx.config
    }

    /// Visits one host, reading everything.
    pub async fn visit(&self, host: &Host) -> Observation {
        visit::visit(&self.ctx, host, VisitPlan::FULL)
            .await
            .observation
    }

    /// Visits one host and reports every request it made (for `fedicensus probe`).
    pub async fn visit_with_log(&self, host: &Host) -> VisitReport {
        visit::visit(&self.ctx, host, VisitPlan::FULL).await
    }

    /// Visits one host, reading the optional documents `plan` names (see
    /// [`CrawlerConfig::plan`]), and reports every request it made. A visit that comes back
    /// `inconclusive` (it failed while the crawler itself was stalled) is made again, up to
    /// [`INCONCLUSIVE_RETRIES`] times, once the crawler's lag has calmed down; the report is the
    /// last attempt's, with the stall of all of them.
    pub async fn visit_planned(&self, host: &Host, plan: VisitPlan) -> VisitReport {
        let mut report = visit::visit(&self.ctx, host, plan).await;
        let mut stalled = report.stalled;
        let mut attempts = 1;
        while report.observation.outcome == Outcome::Inconclusive
            && attempts <= INCONCLUSIVE_RETRIES
        {
            self.ctx.health.calm(CALM_FOR * attempts).await;
            report = visit::visit(&self.ctx, host, plan).await;
            stalled += report.stalled;
            attempts += 1;
        }
        report.stalled = stalled;
        report.attempts = attempts;
        report
    }

    /// What the cache of documents holds and did (`None` when conditional requests are off).
    pub fn cache_report(&self) -> Option<CacheReport> {
        self.ctx.cache.as_ref().map(|c| c.report())
    }

    /// Body bytes received so far (after decompression), by every visit of this crawler.
    pub fn body_bytes(&self) -> u64 {
        self.ctx
            .body_bytes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The crawler's own health: its lag, and how many visits it may run at once now.
    pub fn health(&self) -> &Health {
        &self.ctx.health
    }

    /// Until when `host` asked to be left alone (429), if it did.
    pub fn postponed_until(&self, host: &Host) -> Option<DateTime<Utc>> {
        self.ctx.pool.postponed_until(host)
    }

    /// Runs one crawl cycle from `seeds` over `frontier`. Observations are sent as they are
    /// made; the channel holds `buffer` of them before the crawl waits for the reader.
    pub fn crawl_once<F>(&self, seeds: Vec<Host>, frontier: F, buffer: usize) -> CrawlRun<F>
    where
        F: Frontier + 'static,
    {
        let (tx, rx) = mpsc::channel(buffer.max(1));
        let cancel = CancellationToken::new();
        let ctx = self.ctx.clone();
        let token = cancel.clone();
        let finished = tokio::spawn(drive(ctx, seeds, frontier, tx, token));
        CrawlRun {
            observations: rx,
            finished,
            cancel,
        }
    }
}

async fn drive<F: Frontier>(
    ctx: Arc<Context>,
    seeds: Vec<Host>,
    mut frontier: F,
    tx: mpsc::Sender<Observation>,
    cancel: CancellationToken,
) -> (CrawlSummary, F) {
    let started = Instant::now();
    let mut summary = CrawlSummary::default();
    for seed in &seeds {
        frontier.offer(seed, Provenance::Seed);
    }
    // The limit on visits in flight follows the crawler's own lag (see `crate::health`), within
    // `concurrency × VISITS_PER_SLOT`; the ticker that measures it runs while the cycle does.
    ctx.health.start();
    let crawler = Crawler { ctx: ctx.clone() };
    let mut visits: JoinSet<VisitReport> = JoinSet::new();
    let mut reader_gone = false;
    loop {
        // Whether the limit, not the frontier, stopped the visits from starting.
        let mut limited = false;
        loop {
            if visits.len() >= ctx.health.visit_limit() {
                limited = true;
                break;
            }
            let Some(host) = frontier.next() else { break };
            let crawler = crawler.clone();
            visits.spawn(async move { crawler.visit_planned(&host, VisitPlan::FULL).await });
        }
        if visits.is_empty() {
            break;
        }
        let joined = tokio::select! {
            _ = cancel.cancelled() => {
                summary.cancelled = true;
                visits.abort_all();
                break;
            }
            joined = visits.join_next() => joined,
            // The limit may grow: look again for room.
            _ = tokio::time::sleep(crate::health::CONTROL_EVERY), if limited => continue,
        };
        let report = match joined {
            Some(Ok(report)) => report,
            Some(Err(err)) => {
                // A visit never panics by design; if one did, the crawl goes on without it.
                tracing::error!(error = %err, "a visit task failed");
                continue;
            }
            None => continue,
        };
        let observation = report.observation;
        summary.visited += 1;
        summary.requests += report.requests.iter().filter(|r| r.sent).count();
        *summary
            .by_outcome
            .entry(observation.outcome.as_str())
            .or_default() += 1;
        if let Some(peers) = &observation.peers {
            frontier.record_peers(&observation.host, peers);
        }
        if let Some(to) = &observation.moved_to {
            frontier.offer(to, Provenance::MovedFrom(observation.host.clone()));
        }
        if !reader_gone && tx.send(observation).await.is_err() {
            tracing::warn!("the observation reader went away; crawling on without sending");
            reader_gone = true;
        }
    }
    summary.postponed = ctx.pool.postponed();
    summary.elapsed = started.elapsed();
    tracing::info!(
        visited = summary.visited,
        requests = summary.requests,
        elapsed_ms = summary.elapsed.as_millis() as u64,
        cancelled = summary.cancelled,
        "crawl cycle done"
    );
    (summary, frontier)
}
