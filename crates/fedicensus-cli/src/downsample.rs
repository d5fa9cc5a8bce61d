//! `fedicensus downsample`: thins raw observations older than a date to the visits every
//! published figure rests on (storage's `downsample` module says which), for an operator short of
//! disk. Raw observations are kept unless this is run.

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};

use fedicensus_storage::Storage;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Keeps, per server and UTC day before --before: the latest visit, the latest successful one, and \
for each figure the latest successful visit reporting it (flagged or not). No series, snapshot or \
series export changes (docs/METHODOLOGY.md, \"Downsampling\"); the other visits of those days \
(their outcomes, response times and earlier figures) are deleted for good. Each run is recorded \
and named in the manifest of every later export. Run it with --dry-run first; an interrupted run \
is finished by running it again.")]
pub struct Args {
    /// The database: a SQLite path, `sqlite://PATH` or `postgres://...`.
    #[arg(long, value_name = "URL")]
    db: String,
    /// Thin the visits made before this UTC date (YYYY-MM-DD), at most today.
    #[arg(long, value_name = "DATE")]
    before: NaiveDate,
    /// Count what would be removed and change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Runs `fedicensus downsample`.
pub fn run(args: Args) -> Result<()> {
    let url = crate::settings::existing_database(&args.db);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let storage = Storage::connect(&url)
            .await
            .with_context(|| format!("opening the database {}", args.db))?;
        let done = storage
            .downsample(args.before, Utc::now(), args.dry_run)
            .await
            .with_context(|| format!("downsampling {}", args.db));
        storage.close().await;
        let done = done?;
        let verb = if args.dry_run {
            "would remove"
        } else {
            "removed"
        };
        println!(
            "{} visits before {} on {} servers: {verb} {} and kept {}{}",
            done.observations_before,
            args.before,
            done.servers,
            done.observations_removed,
            done.observations_before - done.observations_removed,
            if args.dry_run {
                " (dry run: nothing changed)"
            } else {
                ""
            }
        );
        Ok(())
    })
}
