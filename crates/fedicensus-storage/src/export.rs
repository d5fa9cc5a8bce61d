//! CSV exports for researchers, streamed, with a manifest that makes them citable.
//!
//! No other census exports its history; researchers scrape JSON into git to get CSV. Every
//! export here is RFC 4180 CSV (the `csv` crate) with ISO 8601 UTC instants, written as it is read
//! (observations are streamed from the database, never held in memory), and hashed while written:
//! the [`Manifest`] lists each file with its row count and SHA-256, the fedicensus and methodology
//! versions and the time range, so a figure in a paper can be traced to the exact file. Text that
//! came from a crawled server is neutralised against spreadsheet formula injection (a cell starting
//! with `=`, `+`, `-` or `@` gets a leading `'`). Servers that asked not to be listed (private,
//! noindex, opted out) are left out of per-server exports; they remain in the aggregates.
//! Parquet is not written yet.

use crate::db::{count_of, Sql, Storage};
use crate::error::{Error, Result};
use crate::methodology::METHODOLOGY_VERSION;
use crate::series::{midnight, SeriesQuery};
use crate::snapshot::{EdgeRow, ObservationRow, EDGES_SQL, OBSERVATION_COLUMNS};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;

/// The version of fedicensus that wrote an export.
pub const FEDICENSUS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// One series: date, value, servers_reporting, flagged.
    Series(SeriesQuery),
    /// Every listable server as of a date.
    Snapshot(NaiveDate),
    /// Every visit of listable servers in `from..=to`, with its headline figures.
    Observations { from: NaiveDate, to: NaiveDate },
    /// Weekly activity of listable servers for weeks starting in `from..=to`.
    Activity { from: NaiveDate, to: NaiveDate },
    /// Every peer edge between listable servers.
    PeerEdges,
}

impl Export {
    /// A file name for the export (`series-users_total-day.csv`, `snapshot-2022-11-01.csv`, ...).
    pub fn file_name(&self) -> String {
        match self {
            Export::Series(q) => format!(
                "series-{}-{}{}{}.csv",
                q.metric.as_str(),
                q.granularity.as_str(),
                q.software
                    .as_ref()
                    .map(|s| format!("-{}", s.as_str()))
                    .unwrap_or_default(),
                if q.cleaned { "-cleaned" } else { "" }
            ),
            Export::Snapshot(date) => format!("snapshot-{date}.csv"),
            Export::Observations { .. } => "observations.csv".into(),
            Export::Activity { .. } => "activity.csv".into(),
            Export::PeerEdges => "peer_edges.csv".into(),
        }
    }

    /// The date range the export covers, if it has one.
    pub fn range(&self) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            Export::Series(q) => Some((q.from, q.to)),
            Export::Snapshot(date) => Some((*date, *date)),
            Export::Observations { from, to } | Export::Activity { from, to } => Some((*from, *to)),
            Export::PeerEdges => None,
        }
    }
}

/// One exported file, as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    pub name: String,
    /// Data rows (the header not counted).
    pub rows: u64,
    pub bytes: u64,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
}

/// The description of a set of exported files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub fedicensus_version: String,
    pub methodology_version: String,
    /// When the export was made (ISO 8601 UTC).
    pub generated_at: String,
    /// The earliest and latest dates the files cover (ISO 8601), when they have a range.
    pub from: Option<String>,
    pub to: Option<String>,
    pub files: Vec<ExportedFile>,
}

impl Manifest {
    /// A manifest for `files`, made at `generated_at`, covering the union of `ranges`.
    pub fn new(
        generated_at: DateTime<Utc>,
        ranges: impl IntoIterator<Item = (NaiveDate, NaiveDate)>,
        files: Vec<ExportedFile>,
    ) -> Manifest {
        let (mut from, mut to) = (None::<NaiveDate>, None::<NaiveDate>);
        for (f, t) in ranges {
            from = Some(from.map_or(f, |x| x.min(f)));
            to = Some(to.map_or(t, |x| x.max(t)));
        }
        Manifest {
            fedicensus_version: FEDICENSUS_VERSION.into(),
            methodology_version: METHODOLOGY_VERSION.into(),
            generated_at: iso(generated_at),
            from: from.map(|d| d.to_string()),
            to: to.map(|d| d.to_string()),
            files,
        }
    }

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Text from a crawled server, made safe to open in a spreadsheet.
fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Counts and hashes the bytes on their way to the caller's writer.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

struct CsvOut<W: Write> {
    writer: csv::Writer<Hashing<W>>,
    rows: u64,
    name: String,
}

impl<W: Write> CsvOut<W> {
    fn new(name: String, writer: W) -> CsvOut<W> {
        CsvOut {
            writer: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Hashing {
                    inner: writer,
                    hasher: Sha256::new(),
                    bytes: 0,
                }),
            rows: 0,
            name,
        }
    }

    fn io_error(&self, e: csv::Error) -> Error {
        Error::Export {
            what: self.name.clone(),
            source: std::io::Error::other(e),
        }
    }

    fn header(&mut self, columns: &[&str]) -> Result<()> {
        self.writer
            .write_record(columns)
            .map_err(|e| self.io_error(e))
    }

    fn row(&mut self, cells: &[String]) -> Result<()> {
        self.writer
            .write_record(cells)
            .map_err(|e| self.io_error(e))?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self) -> Result<ExportedFile> {
        let name = self.name.clone();
        let hashing = self.writer.into_inner().map_err(|e| Error::Export {
            what: name.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let digest = hashing.hasher.finalize();
        Ok(ExportedFile {
            name,
            rows: self.rows,
            bytes: hashing.bytes,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }
}

#[derive(sqlx::FromRow)]
struct ActivityExportRow {
    domain: String,
    week_start: DateTime<Utc>,
    statuses: i64,
    logins: i64,
    registrations: i64,
    observation_id: i64,
    reported_at: DateTime<Utc>,
}

/// SQL condition: the server aliased `s` may be named (not opted out, and its latest visit was
/// neither private nor noindex). `s` is one of our own fixed aliases.
fn listable(s: &str) -> String {
    format!(
        "{s}.status <> 'opted_out' AND NOT EXISTS (SELECT 1 FROM observations p \
         WHERE p.server_id = {s}.id AND (p.flag_private OR p.flag_noindex) \
         AND p.observed_at = (SELECT MAX(observed_at) FROM observations WHERE server_id = {s}.id))"
    )
}

impl Storage {
    /// Writes `what` as CSV to `writer`, streaming, and returns its manifest entry.
    pub async fn export_csv<W: Write>(&self, what: &Export, writer: W) -> Result<ExportedFile> {
        let mut out = CsvOut::new(what.file_name(), writer);
        match what {
            Export::Series(query) => {
                let series = self.series(query).await?;
                out.header(&[
                    "date",
                    "as_of",
                    "metric",
                    "value",
                    "servers_reporting",
                    "flagged",
                    "cleaned",
                    "software",
                    "methodology_version",
                ])?;
                for p in &series.points {
                    out.row(&[
                        p.date.to_string(),
                        iso(p.as_of),
                        query.metric.as_str().into(),
                        opt(p.value),
                        p.servers_reporting.to_string(),
                        p.flagged.to_string(),
                        query.cleaned.to_string(),
                        opt(query.software.as_ref().map(|s| s.as_str().to_owned())),
                        METHODOLOGY_VERSION.into(),
                    ])?;
                }
            }
            Export::Snapshot(date) => {
                let rows = self.snapshot(*date).await?;
                out.header(&[
                    "domain",
                    "first_seen",
                    "revealed_by",
                    "status",
                    "up",
                    "software",
                    "software_version",
                    "last_observed_at",
                    "last_success_at",
                    "users_total",
                    "users_active_month",
                    "local_posts",
                    "open_registrations",
                ])?;
                for r in rows.iter().filter(|r| r.listable) {
                    out.row(&[
                        neutralise(r.host.as_str()),
                        iso(r.first_seen),
                        neutralise(&r.revealed_by),
                        r.status.as_str().into(),
                        r.up.to_string(),
                        r.software.as_deref().map(neutralise).unwrap_or_default(),
                        r.software_version
                            .as_deref()
                            .map(neutralise)
                            .unwrap_or_default(),
                        opt(r.last_observed_at.map(iso)),
                        opt(r.last_success_at.map(iso)),
                        opt(r.users_total),
                        opt(r.users_active_month),
                        opt(r.local_posts),
                        opt(r.open_registrations),
                    ])?;
                }
            }
            Export::Observations { from, to } => {
                out.header(&[
                    "observation_id",
                    "domain",
                    "observed_at",
                    "outcome",
                    "duration_ms",
                    "nodeinfo_version",
                    "software_raw_name",
                    "software_raw_version",
                    "software",
                    "software_version",
                    "open_registrations",
                    "users_total",
                    "users_active_month",
                    "local_posts",
                    "peer_count",
                    "crawl_run",
                ])?;
                let end = to.succ_opt().map(midnight).unwrap_or_else(|| midnight(*to));
                let sql = Sql::new(format!(
                    "SELECT {OBSERVATION_COLUMNS} FROM observations o \
                     JOIN servers s ON s.id = o.server_id \
                     WHERE o.observed_at >= $1 AND o.observed_at < $2 AND {} \
                     ORDER BY o.observed_at, s.domain",
                    listable("s")
                ))
                .bind(midnight(*from))
                .bind(end);
                let mut conn = self.acquire().await?;
                conn.conn()
                    .for_each::<ObservationRow, Error>(sql, "exporting observations", |r| {
                        let domain = neutralise(&r.domain);
                        let o = r.into_stored();
                        out.row(&[
                            o.id.to_string(),
                            domain,
                            iso(o.observed_at),
                            o.outcome,
                            o.duration_ms.to_string(),
                            o.nodeinfo_version
                                .as_deref()
                                .map(neutralise)
                                .unwrap_or_default(),
                            o.software_raw_name
                                .as_deref()
                                .map(neutralise)
                                .unwrap_or_default(),
                            o.software_raw_version
                                .as_deref()
                                .map(neutralise)
                                .unwrap_or_default(),
                            o.software_family
                                .as_deref()
                                .map(neutralise)
                                .unwrap_or_default(),
                            o.software_version
                                .as_deref()
                                .map(neutralise)
                                .unwrap_or_default(),
                            opt(o.open_registrations),
                            opt(o.users_total),
                            opt(o.users_active_month),
                            opt(o.local_posts),
                            opt(o.peer_count),
                            opt(o.crawl_run),
                        ])
                    })
                    .await??;
            }
            Export::Activity { from, to } => {
                out.header(&[
                    "domain",
                    "week_start",
                    "statuses",
                    "logins",
                    "registrations",
                    "observation_id",
                    "reported_at",
                ])?;
                let end = to.succ_opt().map(midnight).unwrap_or_else(|| midnight(*to));
                let sql = Sql::new(format!(
                    "SELECT s.domain, a.week_start, a.statuses, a.logins, a.registrations, \
                     a.observation_id, a.reported_at FROM activity a \
                     JOIN servers s ON s.id = a.server_id \
                     WHERE a.week_start >= $1 AND a.week_start < $2 AND {} \
                     ORDER BY a.week_start, s.domain",
                    listable("s")
                ))
                .bind(midnight(*from))
                .bind(end);
                let mut conn = self.acquire().await?;
                conn.conn()
                    .for_each::<ActivityExportRow, Error>(sql, "exporting activity", |r| {
                        out.row(&[
                            neutralise(&r.domain),
                            iso(r.week_start),
                            count_of(r.statuses).to_string(),
                            count_of(r.logins).to_string(),
                            count_of(r.registrations).to_string(),
                            r.observation_id.to_string(),
                            iso(r.reported_at),
                        ])
                    })
                    .await??;
            }
            Export::PeerEdges => {
                out.header(&["from", "to", "first_seen", "last_seen"])?;
                let sql = Sql::new(format!(
                    "{EDGES_SQL} WHERE {} AND {} ORDER BY f.domain, t.domain",
                    listable("f"),
                    listable("t")
                ));
                let mut conn = self.acquire().await?;
                conn.conn()
                    .for_each::<EdgeRow, Error>(sql, "exporting peer edges", |r| {
                        let e = r.into_edge();
                        out.row(&[
                            neutralise(e.from.as_str()),
                            neutralise(e.to.as_str()),
                            iso(e.first_seen),
                            iso(e.last_seen),
                        ])
                    })
                    .await??;
            }
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("-1+2"), "'-1+2");
        assert_eq!(neutralise("mastodon"), "mastodon");
    }

    #[test]
    fn a_manifest_spans_the_ranges_of_its_files() {
        let d = |day| NaiveDate::from_ymd_opt(2022, 11, day).expect("a valid date");
        let m = Manifest::new(Utc::now(), [(d(3), d(9)), (d(1), d(5))], Vec::new());
        assert_eq!(m.from.as_deref(), Some("2022-11-01"));
        assert_eq!(m.to.as_deref(), Some("2022-11-09"));
        assert_eq!(m.methodology_version, METHODOLOGY_VERSION);
    }
}
