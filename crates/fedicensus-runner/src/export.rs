//! Exports: the census as CSV or Parquet files with a manifest, for researchers.
//!
//! Storage streams each file in the chosen format and hashes it while writing
//! ([`Storage::export`]); this module decides which files a request means, writes them into one
//! directory (each under a temporary name renamed when complete), and writes `manifest.json`
//! beside them (row counts, SHA-256, fedicensus and methodology versions, the dates covered), so
//! a figure in a paper can be traced to the exact files it came from.

use crate::error::{Context, Error, Result};
use chrono::{NaiveDate, Utc};
use fedicensus_core::{Host, Software};
use fedicensus_storage::{
    CoverageQuery, Export, ExportFormat, Granularity, Manifest, SeriesMetric, SeriesQuery, Storage,
    LANGUAGE_METRICS,
};
use sha2::{Digest, Sha256};
use std::io::BufWriter;
use std::path::PathBuf;

/// The manifest's file name in the output directory.
pub const MANIFEST: &str = "manifest.json";

/// Which files to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// Time series (one file per metric).
    Series,
    /// Every listable server as of a date.
    Snapshot,
    /// Every visit in the range, with its headline figures.
    Observations,
    /// Weekly activity for weeks starting in the range.
    Activity,
    /// Every peer edge.
    Peers,
    /// Block lists: every block edge, the most-blocked domains, blocks added per week.
    Blocks,
    /// One server's every visit (not part of `All`).
    Server,
    /// All of the above except `Server`.
    All,
}

/// What to export, and where: the request `fedicensus export` makes of its flags.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The database as the user named it (for messages).
    pub database: String,
    /// The directory to write into (created if missing; files of the same names are replaced).
    pub out: PathBuf,
    /// The first date; `None`: the first crawl's.
    pub from: Option<NaiveDate>,
    /// The last date, included; `None`: the last crawl's.
    pub to: Option<NaiveDate>,
    pub what: What,
    pub format: ExportFormat,
    /// Compress each CSV file with gzip (`NAME.csv.gz`).
    pub gzip: bool,
    /// The series to write; empty: every metric.
    pub metrics: Vec<SeriesMetric>,
    pub granularity: Granularity,
    /// Only servers of this software.
    pub software: Option<Software>,
    /// Leave values with quality flags out of the series.
    pub cleaned: bool,
    /// The date of the snapshot; `None`: the last date.
    pub at: Option<NaiveDate>,
    /// The server of [`What::Server`].
    pub server: Option<Host>,
}

impl ExportRequest {
    /// Whether the request holds together, before any database is opened: a range that ends
    /// before it starts, a flag that belongs to a file not asked for, a daily weekly series.
    /// The message names the flags of `fedicensus export`.
    pub fn check(&self) -> std::result::Result<(), String> {
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from > to {
                return Err(format!(
                    "--from {from} is after --to {to}: give a range whose start is on or before \
                     its end"
                ));
            }
        }
        let wants = |w: What| self.what == w || (self.what == What::All && w != What::Server);
        match (self.what, &self.server) {
            (What::Server, None) => {
                return Err(
                    "--what server needs --server HOST: the server whose history to write".into(),
                )
            }
            (what, Some(_)) if what != What::Server => {
                return Err("--server names the server of --what server: use them together".into())
            }
            _ => {}
        }
        if self.at.is_some() && !wants(What::Snapshot) {
            return Err(
                "--at is the date of a snapshot: use it with --what snapshot or all".into(),
            );
        }
        if self.gzip && self.format == ExportFormat::Parquet {
            return Err(
                "--gzip compresses CSV files; Parquet files are compressed already (Snappy)".into(),
            );
        }
        if !self.metrics.is_empty() && !wants(What::Series) {
            return Err("--metric chooses series: use it with --what series or all".into());
        }
        if self.granularity == Granularity::Day {
            if let Some(weekly) = self.metrics.iter().find(|m| is_weekly(**m)) {
                return Err(format!(
                    "{} is reported weekly: give --granularity week or month",
                    weekly.as_str()
                ));
            }
        }
        Ok(())
    }
}

/// Writes the files `args` asks for and their manifest, and returns the manifest. A range that
/// the database makes empty is [`Error::BadInput`].
pub async fn write(storage: &Storage, args: &ExportRequest) -> Result<Manifest> {
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
        // The metrics split by declared language, over every software (languages are not
        // filtered by software).
        if args.software.is_none() {
            for metric in LANGUAGE_METRICS {
                if args.metrics.is_empty() || args.metrics.contains(&metric) {
                    exports.push(Export::LanguageSeries(SeriesQuery {
                        cleaned: args.cleaned,
                        ..SeriesQuery::new(metric, args.granularity, from, to)
                    }));
                }
            }
            // The same metrics by the country and by the network of each server's address
            // (every server counted; `unknown` where no geolocation database placed it).
            for metric in LANGUAGE_METRICS {
                if args.metrics.is_empty() || args.metrics.contains(&metric) {
                    let query = SeriesQuery {
                        cleaned: args.cleaned,
                        ..SeriesQuery::new(metric, args.granularity, from, to)
                    };
                    exports.push(Export::CountrySeries(query.clone()));
                    exports.push(Export::NetworkSeries(query));
                }
            }
            // Servers known and the estimated total (not split by software, nor cleaned: it
            // counts servers, not their figures).
            if args.metrics.is_empty() || args.metrics.contains(&SeriesMetric::ServersKnown) {
                exports.push(Export::Coverage(CoverageQuery {
                    granularity: args.granularity,
                    from,
                    to,
                }));
            }
            // Other censuses' figures imported for comparison, beside the series they are
            // compared with (empty, with its header, when none was imported).
            if args.metrics.is_empty() {
                exports.push(Export::References { from, to });
            }
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
    if wants(What::Blocks) {
        exports.push(Export::BlockEdges);
        exports.push(Export::MostBlocked);
        exports.push(Export::BlocksPerWeek);
    }
    write_all(storage, args, &exports).await
}

/// Writes `exports` into the output directory, each under a temporary name renamed when
/// complete, then the manifest.
async fn write_all(
    storage: &Storage,
    args: &ExportRequest,
    exports: &[Export],
) -> Result<Manifest> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating the output directory {}", args.out.display()))?;
    let format = args.format;
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
                return Err(e).context(format!("exporting {name}"));
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

/// Whether `metric` is reported weekly (it has no daily values).
pub fn is_weekly(metric: SeriesMetric) -> bool {
    matches!(
        metric,
        SeriesMetric::WeeklyRegistrations
            | SeriesMetric::WeeklyLogins
            | SeriesMetric::WeeklyStatuses
    )
}

/// The date range: the flags, or else the first and last crawl of the database.
async fn range(storage: &Storage, args: &ExportRequest) -> Result<(NaiveDate, NaiveDate)> {
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
        return Err(Error::Refused(format!(
            "the database {} holds no crawl yet, so there is no default range: give --from and \
             --to, or crawl first",
            args.database
        )));
    };
    let from = args.from.unwrap_or(first.date_naive());
    let to = args.to.unwrap_or(last.date_naive());
    if from > to {
        return Err(Error::BadInput(format!(
            "the range {from} to {to} is empty (the database's crawls run from {} to {}): give \
             --from on or before --to",
            first.date_naive(),
            last.date_naive()
        )));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ExportRequest {
        ExportRequest {
            database: "census.db".into(),
            out: PathBuf::from("out"),
            from: None,
            to: None,
            what: What::All,
            format: ExportFormat::Csv,
            gzip: false,
            metrics: Vec::new(),
            granularity: Granularity::Day,
            software: None,
            cleaned: false,
            at: None,
            server: None,
        }
    }

    #[test]
    fn a_request_that_does_not_hold_together_is_refused_naming_the_flags() {
        assert_eq!(request().check(), Ok(()));
        let day = |d: u32| NaiveDate::from_ymd_opt(2022, 11, d);
        let refused = |r: ExportRequest, flag: &str| {
            let message = r.check().expect_err("refused");
            assert!(message.contains(flag), "{message}");
        };
        refused(
            ExportRequest {
                from: day(20),
                to: day(10),
                ..request()
            },
            "--from",
        );
        refused(
            ExportRequest {
                what: What::Server,
                ..request()
            },
            "--server HOST",
        );
        let host = Some(Host::from_normalised("a.example"));
        refused(
            ExportRequest {
                server: host.clone(),
                ..request()
            },
            "--what server",
        );
        assert_eq!(
            ExportRequest {
                what: What::Server,
                server: host,
                ..request()
            }
            .check(),
            Ok(())
        );
        refused(
            ExportRequest {
                what: What::Peers,
                at: day(1),
                ..request()
            },
            "--at",
        );
        let parquet = ExportRequest {
            gzip: true,
            format: ExportFormat::Parquet,
            ..request()
        };
        refused(parquet, "--gzip");
        let metrics = vec![SeriesMetric::ServersUp];
        refused(
            ExportRequest {
                what: What::Peers,
                metrics,
                ..request()
            },
            "--metric",
        );
        let weekly = SeriesMetric::ALL
            .iter()
            .copied()
            .find(|m| is_weekly(*m))
            .expect("one");
        refused(
            ExportRequest {
                metrics: vec![weekly],
                ..request()
            },
            "--granularity week",
        );
        let by_week = ExportRequest {
            metrics: vec![weekly],
            granularity: Granularity::Week,
            ..request()
        };
        assert_eq!(by_week.check(), Ok(()));
    }

    /// The series export writes the country and network splits beside the others, each listed
    /// in the manifest with its rows and digest.
    #[tokio::test]
    async fn a_series_export_writes_countries_and_networks_with_the_manifest(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        use fedicensus_core::{Location, Observation, Outcome};
        let dir =
            std::env::temp_dir().join(format!("fedicensus-geo-export-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}?mode=rwc", dir.join("census.db").display());
        let storage = Storage::connect(&url).await?;
        for (host, country) in [("a.example", Some("DE")), ("b.example", None)] {
            for d in 1..=3 {
                let at = chrono::NaiveDate::from_ymd_opt(2022, 11, d)
                    .and_then(|d| d.and_hms_opt(12, 0, 0))
                    .ok_or("a date")?
                    .and_utc();
                let mut o = Observation::failed(Host::from_normalised(host), at, Outcome::Ok, 5);
                o.location = Some(Location {
                    country: country.map(str::to_owned),
                    asn: country.map(|_| 24940),
                    as_organization: None,
                    database: "test".into(),
                });
                storage.record_observation(&o, None).await?;
            }
        }
        let out = dir.join("out");
        let manifest = write(
            &storage,
            &ExportRequest {
                out: out.clone(),
                from: chrono::NaiveDate::from_ymd_opt(2022, 11, 1),
                to: chrono::NaiveDate::from_ymd_opt(2022, 11, 3),
                what: What::Series,
                metrics: vec![SeriesMetric::ServersUp],
                ..request()
            },
        )
        .await?;
        storage.close().await;
        for (name, unknown) in [
            (
                "countries-servers_up-day.csv",
                ",servers_up,unknown,1,1,2,0.5,",
            ),
            (
                "networks-servers_up-day.csv",
                ",servers_up,unknown,,1,1,2,0.5,1,",
            ),
        ] {
            let file = manifest
                .files
                .iter()
                .find(|f| f.name == name)
                .ok_or_else(|| format!("{name} is not in the manifest: {manifest:?}"))?;
            // Three days, two groups (DE or AS24940, and unknown).
            assert_eq!(file.rows, 6, "{name}");
            let text = std::fs::read_to_string(out.join(name))?;
            assert!(text.contains(unknown), "{name}: {text}");
            let digest: String = Sha256::digest(text.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(digest, file.sha256, "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
