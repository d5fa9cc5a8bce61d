//! `fedicensus export`: the census as CSV or Parquet files with a manifest, for researchers.
//!
//! Storage streams each file in the chosen format and hashes it while writing
//! ([`Storage::export`]); this command only decides which files a request means, writes them
//! into one directory, and writes `manifest.json` beside them (row counts, SHA-256, fedicensus
//! and methodology versions, the dates covered), so a figure in a paper can be traced to the
//! exact files it came from.
//!
//! `fedicensus migrate` lives here too: it is the other command that only opens a database.

use crate::usage_error;
use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use fedicensus_core::{Host, Software};
use fedicensus_storage::{
    Export, ExportFormat, Granularity, Manifest, SeriesMetric, SeriesQuery, Storage,
};
use sha2::{Digest, Sha256};
use std::io::BufWriter;
use std::path::PathBuf;

/// The manifest's file name in the output directory.
pub const MANIFEST: &str = "manifest.json";

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
    /// One server's every visit, with each number as each source reported it and its quality
    /// flags (`--server HOST`; not part of `all`).
    Server,
    /// All of the above except `server`.
    All,
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
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from > to {
            usage_error(format!(
                "--from {from} is after --to {to}: give a range whose start is on or before its end"
            ));
        }
    }
    let wants = |w: What| args.what == w || (args.what == What::All && w != What::Server);
    match (args.what, &args.server) {
        (What::Server, None) => usage_error(
            "--what server needs --server HOST: the server whose history to write".into(),
        ),
        (what, Some(_)) if what != What::Server => {
            usage_error("--server names the server of --what server: use them together".into())
        }
        _ => {}
    }
    if args.at.is_some() && !wants(What::Snapshot) {
        usage_error("--at is the date of a snapshot: use it with --what snapshot or all".into());
    }
    if args.gzip && args.format == Format::Parquet {
        usage_error(
            "--gzip compresses CSV files; Parquet files are compressed already (Snappy)".into(),
        );
    }
    if !args.metrics.is_empty() && !wants(What::Series) {
        usage_error("--metric chooses series: use it with --what series or all".into());
    }
    if args.granularity == Granularity::Day {
        if let Some(weekly) = args.metrics.iter().find(|m| is_weekly(**m)) {
            usage_error(format!(
                "{} is reported weekly: give --granularity week or month",
                weekly.as_str()
            ));
        }
    }
    let url = crate::settings::existing_database(&args.db);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let storage = Storage::connect(&url)
            .await
            .with_context(|| format!("opening the database {}", args.db))?;
        let result = export(&storage, &args).await;
        storage.close().await;
        let manifest = result?;
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

async fn export(storage: &Storage, args: &Args) -> Result<Manifest> {
    let mut exports = Vec::new();
    if let (What::Server, Some(host)) = (args.what, &args.server) {
        // A history has no range: it is every visit ever made.
        exports.push(Export::ServerHistory(host.clone()));
        return write_all(storage, args, &exports).await;
    }
    let (from, to) = range(storage, args).await?;
    let wants = |w: What| args.what == w || args.what == What::All;
    if wants(What::Series) {
        let metrics = if args.metrics.is_empty() {
            SeriesMetric::ALL.to_vec()
        } else {
            args.metrics.clone()
        };
        for metric in metrics {
            // Weekly activity has no daily values: by default those series come by week.
            let granularity = if is_weekly(metric)
                && args.granularity == Granularity::Day
                && args.metrics.is_empty()
            {
                Granularity::Week
            } else {
                args.granularity
            };
            exports.push(Export::Series(SeriesQuery {
                software: args.software.clone(),
                cleaned: args.cleaned,
                ..SeriesQuery::new(metric, granularity, from, to)
            }));
        }
    }
    if wants(What::Snapshot) {
        exports.push(Export::Snapshot(args.at.unwrap_or(to)));
    }
    if wants(What::Observations) {
        exports.push(Export::Observations { from, to });
    }
    if wants(What::Activity) {
        exports.push(Export::Activity { from, to });
    }
    if wants(What::Peers) {
        exports.push(Export::PeerEdges);
    }
    write_all(storage, args, &exports).await
}

/// Writes `exports` into the output directory, each under a temporary name renamed when
/// complete, then the manifest.
async fn write_all(storage: &Storage, args: &Args, exports: &[Export]) -> Result<Manifest> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating the output directory {}", args.out.display()))?;
    let format = ExportFormat::from(args.format);
    let mut files = Vec::new();
    for what in exports {
        let mut name = what.file_name_as(format);
        if args.gzip {
            name.push_str(".gz");
        }
        let path = args.out.join(&name);
        // Written under a temporary name and renamed when complete, so that an export killed
        // mid-file never leaves a partial file under the final name.
        let partial = partial_path(&path);
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("creating {}", partial.display()))?;
        let bar = progress_bar(&name);
        let counted = Counted {
            inner: file,
            bar: bar.clone(),
            bytes: 0,
            sha256: Sha256::new(),
        };
        let mut writer = BufWriter::new(if args.gzip {
            Sink::Gzip(flate2::write::GzEncoder::new(
                counted,
                flate2::Compression::default(),
            ))
        } else {
            Sink::Plain(counted)
        });
        let exported = storage.export(what, format, &mut writer).await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        let mut exported = match exported {
            Ok(exported) => exported,
            Err(e) => {
                // A refused or failed export leaves nothing behind (a kill still can: the
                // partial file's name says what it is).
                drop(writer);
                let _ = std::fs::remove_file(&partial);
                return Err(anyhow::Error::new(e).context(format!("exporting {name}")));
            }
        };
        let counted = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(Sink::finish)
            .with_context(|| format!("writing {}", partial.display()))?;
        // The manifest describes the file as written (compressed or not).
        exported.name = name.clone();
        exported.bytes = counted.bytes;
        exported.sha256 = counted
            .sha256
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let file = counted.inner;
        file.sync_all()
            .with_context(|| format!("writing {}", partial.display()))?;
        std::fs::rename(&partial, &path)
            .with_context(|| format!("renaming {} to {}", partial.display(), path.display()))?;
        files.push(exported);
    }
    let downsampled = storage
        .downsamplings()
        .await
        .context("reading which downsamplings the database has had")?;
    let unlisted = storage
        .unlisted()
        .await
        .context("counting the servers exports leave out")?;
    let manifest = Manifest::new(Utc::now(), exports.iter().filter_map(Export::range), files)
        .with_downsamplings(downsampled)
        .with_unlisted(unlisted);
    let path = args.out.join(MANIFEST);
    let partial = partial_path(&path);
    std::fs::write(&partial, manifest.to_json() + "\n")
        .with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, &path)
        .with_context(|| format!("renaming {} to {}", partial.display(), path.display()))?;
    Ok(manifest)
}

/// A spinner that counts the bytes of the file being written, on a terminal: a whole-census
/// export takes minutes, and an export that prints nothing looks hung.
fn progress_bar(name: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg}: {binary_bytes} written, {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("exporting {name}"));
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    })
}

/// A file that counts and hashes what is written to it, and shows the count on a progress bar.
struct Counted {
    inner: std::fs::File,
    bar: Option<indicatif::ProgressBar>,
    bytes: u64,
    sha256: Sha256,
}

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        self.sha256.update(&buf[..n]);
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Where an export's bytes go: straight to the file, or through gzip (`--gzip`).
enum Sink {
    Plain(Counted),
    Gzip(flate2::write::GzEncoder<Counted>),
}

impl Sink {
    /// Ends the stream (gzip's trailer) and gives the file back.
    fn finish(self) -> std::io::Result<Counted> {
        match self {
            Sink::Plain(counted) => Ok(counted),
            Sink::Gzip(encoder) => encoder.finish(),
        }
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
        }
    }
}

/// Where a file is written before it is complete: `.NAME.partial` beside it.
fn partial_path(path: &std::path::Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

fn is_weekly(metric: SeriesMetric) -> bool {
    matches!(
        metric,
        SeriesMetric::WeeklyRegistrations
            | SeriesMetric::WeeklyLogins
            | SeriesMetric::WeeklyStatuses
    )
}

/// The date range: the flags, or else the first and last crawl of the database.
async fn range(storage: &Storage, args: &Args) -> Result<(NaiveDate, NaiveDate)> {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        return Ok((from, to));
    }
    let runs = storage.runs().await.context("reading the crawl runs")?;
    let first = runs.iter().map(|r| r.started_at).min();
    let last = runs
        .iter()
        .map(|r| r.finished_at.unwrap_or(r.started_at))
        .max();
    let (Some(first), Some(last)) = (first, last) else {
        anyhow::bail!(
            "the database {} holds no crawl yet, so there is no default range: give --from and \
             --to, or crawl first",
            args.db
        );
    };
    let from = args.from.unwrap_or(first.date_naive());
    let to = args.to.unwrap_or(last.date_naive());
    if from > to {
        usage_error(format!(
            "the range {from} to {to} is empty (the database's crawls run from {} to {}): give \
             --from on or before --to",
            first.date_naive(),
            last.date_naive()
        ));
    }
    Ok((from, to))
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
    let url = crate::settings::database_url(&args.db);
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
