//! `fedicensus export`: checks the flags, then has the census runner write the files
//! ([`fedicensus_runner::export`]: CSV or Parquet with a manifest of row counts and SHA-256).
//!
//! `fedicensus migrate` lives here too: it is the other command that only opens a database.

use crate::usage_error;
use anyhow::{Context, Result};
use chrono::NaiveDate;
use fedicensus_core::{Host, Software};
use fedicensus_runner::export::{self, ExportRequest, MANIFEST};
use fedicensus_storage::{ExportFormat, Granularity, SeriesMetric, Storage};
use std::path::PathBuf;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    /// Time series (one file per metric: date, value, servers_reporting, flagged, ...).
    Series,
    /// Every listable server as of `--at`.
    Snapshot,
    /// Every visit in the range, with its headline figures.
    Observations,
    /// Weekly activity (statuses, logins, registrations) for weeks starting in the range.
    Activity,
    /// Every peer edge (who listed whom, first and last seen).
    Peers,
    /// Block lists read with `[crawler] read_blocklists`: every block edge (who blocked whom,
    /// severity, comment, first and last seen), the most-blocked domains, blocks added per week.
    Blocks,
    /// One server's every visit, with each number as each source reported it and its quality
    /// flags (`--server HOST`; not part of `all`).
    Server,
    /// All of the above except `server`.
    All,
}

impl From<What> for export::What {
    fn from(what: What) -> export::What {
        match what {
            What::Series => export::What::Series,
            What::Snapshot => export::What::Snapshot,
            What::Observations => export::What::Observations,
            What::Activity => export::What::Activity,
            What::Peers => export::What::Peers,
            What::Blocks => export::What::Blocks,
            What::Server => export::What::Server,
            What::All => export::What::All,
        }
    }
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// RFC 4180 CSV: ISO 8601 UTC instants, empty cells for missing values, a leading ' on
    /// server text that would start a spreadsheet formula.
    Csv,
    /// Apache Parquet (Snappy): the same columns, typed (integers, booleans, UTC timestamps in
    /// microseconds, dates, strings), null for missing values, text as the servers sent it.
    Parquet,
}

impl From<Format> for ExportFormat {
    fn from(format: Format) -> ExportFormat {
        match format {
            Format::Csv => ExportFormat::Csv,
            Format::Parquet => ExportFormat::Parquet,
        }
    }
}

/// Export the census as CSV or Parquet files plus manifest.json.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fedicensus export --db fedicensus-demo.db --out export/
      Everything (every series by day, the snapshot of the last day, observations, activity,
      peer edges) over the whole crawled period.
  fedicensus export --db census.db --out nov/ --what series --metric servers_up \\
      --software mastodon --from 2022-11-01 --to 2022-11-30
      One series.
  fedicensus export --db census.db --out snap/ --what snapshot --at 2022-11-27
  fedicensus export --db census.db --out parquet/ --format parquet
      Everything, as .parquet files (same names and columns as the CSV, typed).
  fedicensus export --db census.db --out one/ --what server --server mastodon.social
      One server's history (server-mastodon.social.csv): every visit, every number with its
      source, quality flags.

Exit codes: 0 written; 1 it could not run; 2 bad arguments.")]
pub struct Args {
    /// The database: a SQLite path, `sqlite://PATH` or `postgres://...`.
    #[arg(long, value_name = "URL")]
    db: String,
    /// The directory to write into (created if missing; files of the same names are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The first date (YYYY-MM-DD); default: the first crawl's.
    #[arg(long, value_parser = parse_date, value_name = "DATE")]
    from: Option<NaiveDate>,
    /// The last date, included (YYYY-MM-DD); default: the last crawl's.
    #[arg(long, value_parser = parse_date, value_name = "DATE")]
    to: Option<NaiveDate>,
    /// Which files to write.
    #[arg(long, value_enum, default_value = "all")]
    what: What,
    /// The file format: csv or parquet (one file per export either way, same names and columns).
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Compress each CSV file with gzip (`NAME.csv.gz`; the manifest lists and hashes the files
    /// as written). `peer_edges.csv` is most of a whole-census export and shrinks several-fold.
    #[arg(long)]
    gzip: bool,
    /// The series to write (repeatable); default: every metric.
    #[arg(long = "metric", value_parser = parse_metric, value_name = "METRIC")]
    metrics: Vec<SeriesMetric>,
    /// The width of series buckets: day, week or month.
    #[arg(long, default_value = "day", value_parser = parse_granularity)]
    granularity: Granularity,
    /// Only servers of this software (its NodeInfo name, e.g. mastodon, misskey, lemmy).
    #[arg(long, value_parser = parse_software, value_name = "SOFTWARE")]
    software: Option<Software>,
    /// Leave values with quality flags out of the series.
    #[arg(long)]
    cleaned: bool,
    /// The date of the snapshot (YYYY-MM-DD); default: --to.
    #[arg(long, value_parser = parse_date, value_name = "DATE")]
    at: Option<NaiveDate>,
    /// The server of `--what server` (its domain, in any form: Unicode, punycode, a URL).
    #[arg(long, value_parser = parse_server, value_name = "HOST")]
    server: Option<Host>,
}

/// A server name as the crawler normalises it (Unicode or punycode, a URL); a name that is
/// already in stored form is taken as it is, so that servers of a simulated world (`.example`,
/// outside the Public Suffix List) can be asked for too: the database says whether it knows it.
fn parse_server(text: &str) -> Result<Host, String> {
    Host::parse(text).or_else(|e| {
        let name = text.trim().trim_end_matches('.').to_ascii_lowercase();
        let stored_form = !name.is_empty()
            && name.contains('.')
            && name.parse::<std::net::IpAddr>().is_err()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if stored_form {
            Ok(Host::from_normalised(name))
        } else {
            Err(format!("`{text}` is not a server name: {e}"))
        }
    })
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        crate::simulate::missing_day(text)
            .unwrap_or_else(|| format!("`{text}` is not a date: use YYYY-MM-DD, e.g. 2022-11-27"))
    })?;
    let last = fedicensus_storage::LAST_DATE;
    if date > last {
        return Err(format!(
            "`{text}` is past the last date the census answers for, {last}"
        ));
    }
    Ok(date)
}

fn parse_metric(text: &str) -> Result<SeriesMetric, String> {
    SeriesMetric::parse(text).map_err(|e| e.to_string())
}

fn parse_granularity(text: &str) -> Result<Granularity, String> {
    Granularity::parse(text).map_err(|e| e.to_string())
}

fn parse_software(text: &str) -> Result<Software, String> {
    let name = text.trim();
    if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{text}` is not a software name: give a NodeInfo software name such as mastodon, \
             misskey, lemmy or pleroma"
        ));
    }
    Ok(Software::from_nodeinfo_name(name))
}

/// Runs `fedicensus export`.
pub fn run(args: Args) -> Result<()> {
    let request = ExportRequest {
        database: args.db.clone(),
        out: args.out.clone(),
        from: args.from,
        to: args.to,
        what: args.what.into(),
        format: args.format.into(),
        gzip: args.gzip,
        metrics: args.metrics.clone(),
        granularity: args.granularity,
        software: args.software.clone(),
        cleaned: args.cleaned,
        at: args.at,
        server: args.server.clone(),
    };
    if let Err(message) = request.check() {
        usage_error(message);
    }
    let url = crate::settings::existing_database(&args.db);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let storage = Storage::connect(&url)
            .await
            .with_context(|| format!("opening the database {}", args.db))?;
        let result = export::write(&storage, &request).await;
        storage.close().await;
        let manifest = match result {
            Err(fedicensus_runner::Error::BadInput(message)) => usage_error(message),
            other => other?,
        };
        for file in &manifest.files {
            println!("{}: {} rows, {} bytes", file.name, file.rows, file.bytes);
        }
        println!(
            "wrote {} files and {MANIFEST} to {}",
            manifest.files.len(),
            args.out.display()
        );
        Ok(())
    })
}

/// Run the database migrations and exit.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fedicensus migrate --db postgres://census@db/fedicensus
  fedicensus migrate --db fedicensus.db

Every command that opens a database migrates it first; this one only does that, for deployments
that migrate before starting workers.")]
pub struct MigrateArgs {
    /// The database: a SQLite path (created if missing), `sqlite://PATH` or `postgres://...`.
    #[arg(long, value_name = "URL")]
    db: String,
}

/// Runs `fedicensus migrate`.
pub fn migrate(args: MigrateArgs) -> Result<()> {
    let url = fedicensus_storage::location::database_url(&args.db);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let storage = Storage::connect(&url)
            .await
            .with_context(|| format!("migrating the database {}", args.db))?;
        storage.close().await;
        println!("the database {} is migrated", args.db);
        Ok(())
    })
}

#[cfg(test)]
mod horizon_tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn a_date_past_the_census_horizon_is_refused_with_exit_status_2_and_a_message() {
        let err = parse_date("9999-12-31").expect_err("past the horizon");
        assert!(err.contains("past the last date"), "{err}");
        assert!(err.contains("2999-12-31"), "{err}");
        assert_eq!(
            parse_date("2999-12-31").ok(),
            NaiveDate::from_ymd_opt(2999, 12, 31)
        );
        let parsed = crate::Cli::try_parse_from([
            "fedicensus",
            "export",
            "--db",
            "census.db",
            "--out",
            "export",
            "--to",
            "9999-12-31",
        ]);
        let Err(err) = parsed else {
            panic!("clap accepted a date past the horizon")
        };
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("past the last date"), "{err}");
    }
}
