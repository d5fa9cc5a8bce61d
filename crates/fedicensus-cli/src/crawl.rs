//! `fedicensus crawl`: reads the settings and flags, then runs the census pipeline
//! ([`fedicensus_runner::Pipeline`]) once or as a daemon, stopping gracefully on SIGINT/SIGTERM.

use crate::network::NetworkArgs;
use crate::settings::Settings;
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use fedicensus_core::Host;
use fedicensus_crawler::cache::DocumentCache;
use fedicensus_runner::pipeline::{
    offset_clock, CRAWL_CONNECTIONS, CRAWL_SQLITE_CACHE_KIB, DEFAULT_BATCH, HELD_PEERS,
};
use fedicensus_runner::{Pipeline, Progress};
use fedicensus_storage::Storage;
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Crawl every server that is due, once or on a schedule.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fedicensus crawl --once --contact-url https://example.org/about-our-crawler
      One pass over everything due (seeds first), into fedicensus.db.
  fedicensus crawl --every 6h --db postgres://census@db/fedicensus --worker node-2
      A daemon; several of them on one PostgreSQL database share the work.
  fedicensus crawl --once --seed mastodon.social --dns 127.0.0.1:5353 --port 8443 \\
      --ca-file ca.pem --allow-address 127.0.0.1 --allow-address 127.0.0.2 --now 2022-11-15 \\
      --contact-url https://example.org/about-our-crawler --db sim.db
      Crawl the simulated fediverse of `fedicensus simulate` as of 15 November 2022 (README,
      \"Crawling the simulator\").

Exit codes: 0 the crawl finished (failed servers are data, not errors); 1 it could not run, or
every visit of a pass failed its TLS handshake (the crawler's CA certificates are wrong); 2 bad
arguments.")]
pub struct Args {
    /// The configuration file (default: fedicensus.toml if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The database: a SQLite path (created if missing) or a postgres:// URL (overrides
    /// [database] url). `--database` is accepted too.
    #[arg(long = "db", alias = "database", value_name = "URL")]
    database: Option<String>,
    /// One pass over everything due, then exit.
    #[arg(long, conflicts_with = "every")]
    once: bool,
    /// Run as a daemon: a pass, then wait this long (e.g. 6h, 30m) and pass again.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    every: Option<Duration>,
    /// Start discovery here (repeatable; overrides [crawler] seeds).
    #[arg(long = "seed", value_name = "HOST")]
    seeds: Vec<String>,
    /// The page that explains the crawler and how to opt out (overrides [crawler] contact_url).
    #[arg(long, value_name = "URL")]
    contact_url: Option<String>,
    /// This worker's name in leases (default: host name and process id).
    #[arg(long)]
    worker: Option<String>,
    /// Hosts leased at once.
    #[arg(long, default_value_t = DEFAULT_BATCH, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch: u32,
    /// Visits in flight at once (overrides [crawler] concurrency).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Start the crawler's clock at this time (YYYY-MM-DD or RFC 3339) and run it forward from
    /// there: for crawling the simulator "as of" a date. Default: the real time.
    #[arg(long, value_parser = crate::simulate::parse_instant, value_name = "TIME")]
    now: Option<DateTime<Utc>>,
    #[command(flatten)]
    network: NetworkArgs,
}

pub fn run(args: Args) -> Result<()> {
    if !args.once && args.every.is_none() {
        bail!("say how to crawl: --once (one pass, then exit) or --every DURATION (a daemon)");
    }
    let mut settings = Settings::load(args.config.as_deref())?;
    if let Some(url) = &args.database {
        settings.database.url = url.clone();
    }
    if let Some(contact) = &args.contact_url {
        settings.crawler.contact_url = Some(contact.clone());
    }
    if let Some(n) = args.concurrency {
        settings.crawler.concurrency = n;
    }
    if !args.seeds.is_empty() {
        settings.crawler.seeds = args.seeds.clone();
    }
    let mut config = settings.crawler_config()?;
    args.network.apply(&mut config.network)?;
    let seeds = settings
        .crawler
        .seeds
        .iter()
        .map(|s| {
            Host::parse(s).map_err(|e| anyhow::anyhow!("seed {s:?} is not a server name: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let worker = args.worker.clone().unwrap_or_else(default_worker_name);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let storage = Storage::connect_with_cache(
            &fedicensus_storage::location::database_url(&settings.database.url),
            CRAWL_CONNECTIONS,
            CRAWL_SQLITE_CACHE_KIB,
        )
        .await
        .with_context(|| format!("opening the database {}", settings.database.url))?;
        let clock = match args.now {
            Some(start) => offset_clock(start),
            None => fedicensus_crawler::visit::system_clock(),
        };
        let cancel = CancellationToken::new();
        spawn_signal_handler(cancel.clone());
        let pipeline = Pipeline {
            documents: DocumentCache::for_config(&config),
            storage,
            config,
            clock,
            worker,
            batch: args.batch,
            cancel,
            progress: Progress::new(),
            staggered_peers: false,
            held_peers: HELD_PEERS,
        };
        let result = pipeline
            .run(&seeds, args.every, |line| println!("{line}"))
            .await;
        pipeline.storage.close().await;
        Ok(result?)
    })
}

fn default_worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    format!("{host}-{}", std::process::id())
}

/// SIGINT and SIGTERM stop the crawl gracefully: visits under way are abandoned (their leases
/// expire), everything finished is already stored.
fn spawn_signal_handler(cancel: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = match signal(SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return,
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::warn!("stopping: finishing the writes under way");
        cancel.cancel();
    });
}
