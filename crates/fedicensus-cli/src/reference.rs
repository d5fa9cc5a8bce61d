//! `fedicensus import-reference`: records another census's published figures from a file the
//! operator downloaded, for the dashboard's comparison page. fedicensus never asks those services
//! itself: the file is read from disk, checked by fedicensus-core, and stored with its SHA-256.

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use fedicensus_core::reference::{parse_reference, ReferenceSource, MAX_REFERENCE_BYTES};
use fedicensus_storage::Storage;
use std::io::Read;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SourceArg {
    /// api.joinmastodon.org/statistics: a JSON array of days (Mastodon only).
    Joinmastodon,
    /// FediDB: api.fedidb.org/v1/stats, or /v1/software entities (need --as-of).
    Fedidb,
    /// the-federation.info/graphql answers (node_count_per_date, thefederation_stat, ...).
    #[value(name = "the-federation")]
    TheFederation,
    /// instances.social's list API answer (instances.json).
    #[value(name = "instances-social")]
    InstancesSocial,
}

impl From<SourceArg> for ReferenceSource {
    fn from(s: SourceArg) -> ReferenceSource {
        match s {
            SourceArg::Joinmastodon => ReferenceSource::JoinMastodon,
            SourceArg::Fedidb => ReferenceSource::FediDb,
            SourceArg::TheFederation => ReferenceSource::TheFederation,
            SourceArg::InstancesSocial => ReferenceSource::InstancesSocial,
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Download the file yourself (fedicensus never contacts these services), then import it: \
`curl -o statistics.json https://api.joinmastodon.org/statistics` and \
`fedicensus import-reference --source joinmastodon statistics.json`. Importing the same file \
(as of the same date) again changes nothing. Answers that carry no date (a FediDB software \
entity, the-federation.info's statsGlobalToday) need --as-of. The dashboard's Comparison page \
charts the figures beside fedicensus's own; docs/METHODOLOGY.md (\"Why the numbers differ\") \
says how each source defines a server, a user and an active user.")]
pub struct Args {
    /// The database: a SQLite path, `sqlite://PATH` or `postgres://...`.
    #[arg(long, value_name = "URL")]
    db: String,
    /// Which census the file comes from.
    #[arg(long, value_enum)]
    source: SourceArg,
    /// The date the figures are as of, for answers that carry none (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    as_of: Option<NaiveDate>,
    /// The downloaded file (JSON).
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// Runs `fedicensus import-reference`.
pub fn run(args: Args) -> Result<()> {
    let source = ReferenceSource::from(args.source);
    if let Some(date) = args.as_of {
        if date > Utc::now().date_naive() {
            crate::usage_error(format!("--as-of {date} is in the future"));
        }
    }
    let url = crate::settings::existing_database(&args.db);
    let bytes = read_capped(&args.file)?;
    let file = parse_reference(source, &bytes, args.as_of)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.file.display().to_string());
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let storage = Storage::connect(&url)
            .await
            .with_context(|| format!("opening the database {}", args.db))?;
        let done = storage
            .import_reference(&file, &bytes, &name, Utc::now())
            .await
            .with_context(|| format!("recording {} in {}", args.file.display(), args.db));
        storage.close().await;
        let done = done?;
        let first = file.points.first().map(|p| p.date);
        let last = file.points.last().map(|p| p.date);
        if done.new {
            outln!(
                "imported {} figures of {} ({} to {}, as of {}) and {} server names from {} \
                 (sha256 {})",
                done.points,
                source.title(),
                first.map(|d| d.to_string()).unwrap_or_default(),
                last.map(|d| d.to_string()).unwrap_or_default(),
                file.as_of,
                done.domains,
                name,
                done.sha256
            )?;
        } else {
            outln!(
                "{name} (sha256 {}) was already imported as of {} (import {}): nothing changed",
                done.sha256,
                file.as_of,
                done.id
            )?;
        }
        for note in &file.notes {
            outln!("note: {note}")?;
        }
        Ok(())
    })
}

/// Reads the file, refusing one larger than core reads before holding it all.
fn read_capped(path: &PathBuf) -> Result<Vec<u8>> {
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut bytes = Vec::new();
    f.take(MAX_REFERENCE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    // One byte over the cap is enough for core to refuse it by size.
    Ok(bytes)
}
