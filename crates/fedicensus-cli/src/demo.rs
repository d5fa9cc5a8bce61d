//! `fedicensus demo`: checks the flags, then runs the census runner's demo
//! ([`fedicensus_runner::demo`]): the dashboard served at once, and the simulated fediverse of
//! autumn 2022 crawled into a SQLite file under it.

use crate::simulate::parse_instant;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use fedicensus_dashboard::ChartSet;
use fedicensus_runner::demo::{self, Demo, DemoServe};
use fedicensus_runner::serve::ServeOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// Serve the dashboard at once while building a census of the simulated fediverse of 2022.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fedicensus demo
      The full-size world (20,200 servers): the dashboard on http://127.0.0.1:8080/ within
      seconds, filling in as the demo crawls September to December 2022; it keeps serving the
      complete census until Ctrl-C.
  fedicensus demo --servers 1500 --no-serve --db small.db
      A small world, database only (for tests and a quick look).

The database is replaced only if it is an earlier demo's; any other existing file is refused.
Exit codes: 0 done; 1 it could not run; 2 bad arguments.")]
pub struct Args {
    /// Seed of the simulated world (the same seed always gives the same world).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Number of servers in the world; default: the scenario's full size (20,200), at which the
    /// calibration (about 3,300 reachable Mastodon servers on 2022-10-27, 8,400 a month later)
    /// holds. Counts scale with it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(50..=200_000))]
    servers: Option<u32>,
    /// The SQLite file to write (replaced if it is an earlier demo's).
    #[arg(long, default_value = "fedicensus-demo.db", value_name = "FILE")]
    db: PathBuf,
    /// Build the database and exit, without serving the dashboard.
    #[arg(long)]
    no_serve: bool,
    /// Where the dashboard listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Crawl only up to this date (YYYY-MM-DD, within September to December 2022).
    #[arg(long, value_parser = parse_instant, value_name = "DATE")]
    until: Option<DateTime<Utc>>,
    /// Request slots (default 64). Visits in flight adapt to what the machine sustains, up to
    /// 16 a slot: a value far too high for the machine slows nothing down and falsifies nothing.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    concurrency: Option<u32>,
    /// Read every document in full on every visit: no `If-None-Match` / `If-Modified-Since`, no
    /// reuse while fresh (for measuring what conditional requests save).
    #[arg(long)]
    no_conditional_requests: bool,
}

/// Runs `fedicensus demo`.
pub fn run(args: Args) -> Result<()> {
    let scenario = demo::SCENARIO;
    let until = args.until.map(|until| until.date_naive());
    if let Some(day) = until {
        if day < scenario.start() || day > scenario.end() {
            crate::usage_error(format!(
                "--until {day} is outside the simulated period: give a date from {} to {}",
                scenario.start(),
                scenario.end()
            ));
        }
    }
    let demo = Demo {
        seed: args.seed,
        servers: args.servers,
        db: args.db.clone(),
        until,
        concurrency: args.concurrency,
        conditional_requests: !args.no_conditional_requests,
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        // Bound first: a taken address must say so before anything is crawled or replaced.
        let serve = if args.no_serve {
            None
        } else {
            let listener = tokio::net::TcpListener::bind(args.listen)
                .await
                .map_err(|err| {
                    anyhow::anyhow!(
                        "the dashboard cannot listen on {}: {err}. Give a free address with \
                         --listen (e.g. --listen 127.0.0.1:8081), or build the database only \
                         with --no-serve",
                        args.listen
                    )
                })?;
            let options = ServeOptions {
                charts: ChartSet::embedded().context("loading the built-in chart definitions")?,
                admin_token: None,
                contact_url: fedicensus_crawler::config::EXAMPLE_CONTACT_URL.into(),
                db_file: Some(args.db.clone()),
                limits: crate::serve::serve_limits(),
                public_url: listener
                    .local_addr()
                    .ok()
                    .and_then(|addr| crate::serve::public_url(None, addr).ok().flatten()),
            };
            Some(DemoServe { listener, options })
        };
        let cancel = CancellationToken::new();
        {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    tracing::warn!("Ctrl-C: stopping the demo");
                    cancel.cancel();
                }
            });
        }
        demo::prepare_database_file(&demo.db, |line| println!("{line}")).await?;
        demo::run(&demo, serve, cancel, |line| println!("{line}")).await?;
        anyhow::Ok(())
    })?;
    if args.no_serve {
        println!(
            "the demo database is {}; serve it with: fedicensus serve --db {}",
            args.db.display(),
            args.db.display()
        );
    }
    Ok(())
}
