//! `fedicensus export-tables`, `import` and `copy`: moving a census between databases.
//!
//! A census started on SQLite (one file, nothing to install) may outgrow it and want PostgreSQL
//! (several crawler workers, a real server). `copy` streams every table straight from one
//! database into a fresh, empty one, in key order and one transaction on the target, so an
//! interrupted copy leaves the target empty. `export-tables` and `import` do the same through a
//! directory of CSV files (one per table, every column, ids kept) and a manifest whose SHA-256
//! sums are checked before any row is read: the way to move a census between machines, or to
//! archive it. Export, import into an empty database and export again gives the same bytes on
//! either backend (held by the storage conformance suite). Both refuse a target that already
//! holds a census rather than merge two.

use anyhow::{Context, Result};
use fedicensus_storage::{Moved, Storage};
use std::path::PathBuf;

/// `fedicensus import`: read a directory written by `export-tables` into an empty database.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The database to fill (a SQLite path, `sqlite://...`, or `postgres://...`); it must exist
    /// and be empty (create it with `fedicensus migrate --db ...`).
    #[arg(long)]
    pub db: String,
    /// The directory written by `fedicensus export-tables` (table-*.csv and manifest.json).
    /// `--from` is accepted too.
    #[arg(long = "dir", alias = "from", value_name = "DIR")]
    pub from: PathBuf,
}

/// `fedicensus export-tables`: every table as CSV with a manifest, for `import`.
#[derive(Debug, clap::Args)]
pub struct ExportTablesArgs {
    /// The database to read (a SQLite path, `sqlite://...`, or `postgres://...`).
    #[arg(long)]
    pub db: String,
    /// The directory to write (created if missing; existing table files are replaced).
    #[arg(long)]
    pub out: PathBuf,
}

/// `fedicensus copy`: every row of one database into another, empty one.
#[derive(Debug, clap::Args)]
pub struct CopyArgs {
    /// The database to read (a SQLite path, `sqlite://...`, or `postgres://...`).
    #[arg(long)]
    pub from: String,
    /// The database to fill; it must exist and be empty (create it with `fedicensus migrate`).
    #[arg(long)]
    pub to: String,
}

/// Opens a census that exists already: only `migrate` and `crawl` create one, so a typo in a
/// path is refused (exit status 2) rather than read as an empty census or filled by mistake.
fn connect(runtime: &tokio::runtime::Runtime, given: &str) -> Result<Storage> {
    let url = crate::settings::existing_database(given);
    runtime
        .block_on(Storage::connect(&url))
        .with_context(|| format!("opening the database {given}"))
}

fn report(moved: &Moved) {
    for (table, rows) in &moved.tables {
        println!("{table:>20} {rows:>12} rows");
    }
    println!("{:>20} {:>12} rows", "total", moved.total());
}

pub fn run(args: Args) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let storage = connect(&runtime, &args.db)?;
    let moved = runtime
        .block_on(storage.import_tables(&args.from))
        .with_context(|| format!("importing {} into {}", args.from.display(), args.db))?;
    runtime.block_on(storage.close());
    report(&moved);
    Ok(())
}

pub fn export_tables(args: ExportTablesArgs) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let storage = connect(&runtime, &args.db)?;
    let manifest = runtime
        .block_on(storage.export_tables(&args.out))
        .with_context(|| {
            format!(
                "exporting the tables of {} to {}",
                args.db,
                args.out.display()
            )
        })?;
    runtime.block_on(storage.close());
    for file in &manifest.files {
        println!("{:>32} {:>12} rows  {}", file.name, file.rows, file.sha256);
    }
    println!(
        "wrote {}",
        args.out.join(fedicensus_storage::MANIFEST_FILE).display()
    );
    Ok(())
}

pub fn copy(args: CopyArgs) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let source = connect(&runtime, &args.from)?;
    let target = connect(&runtime, &args.to)?;
    // A copy of a large census takes minutes: on a terminal, a spinner says which table and how
    // many of its rows are done.
    let bar = {
        use std::io::IsTerminal;
        std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} copying {msg}, {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        })
    };
    let moved = runtime.block_on(source.copy_to_reporting(&target, |table, rows| {
        if let Some(bar) = &bar {
            bar.set_message(format!("{table}: {rows} rows"));
        }
    }));
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let moved = moved.with_context(|| format!("copying {} to {}", args.from, args.to))?;
    runtime.block_on(async {
        source.close().await;
        target.close().await;
    });
    report(&moved);
    Ok(())
}
