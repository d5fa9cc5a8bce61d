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
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};
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

/// Whether text from a crawled server would start a formula in a spreadsheet.
fn needs_neutralising(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Text from a crawled server, made safe to open in a spreadsheet.
fn neutralise(text: &str) -> String {
    if needs_neutralising(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Appends what [`iso`] gives for `t`, without allocating: an export writes millions of these.
fn write_iso(out: &mut Vec<u8>, t: DateTime<Utc>) {
    let nanos = t.timestamp_subsec_nanos();
    let year = t.year();
    // A leap second (nanos past one second) or a year outside four digits: chrono's own form.
    if nanos >= 1_000_000_000 || !(0..=9999).contains(&year) {
        out.extend_from_slice(iso(t).as_bytes());
        return;
    }
    write!(
        out,
        "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
    .expect("writing to a Vec cannot fail");
    // SecondsFormat::AutoSi: as few of 3, 6 or 9 digits as the fraction needs.
    if nanos == 0 {
    } else if nanos.is_multiple_of(1_000_000) {
        write!(out, ".{:03}", nanos / 1_000_000).expect("writing to a Vec cannot fail");
    } else if nanos.is_multiple_of(1_000) {
        write!(out, ".{:06}", nanos / 1_000).expect("writing to a Vec cannot fail");
    } else {
        write!(out, ".{nanos:09}").expect("writing to a Vec cannot fail");
    }
    out.push(b'Z');
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
    /// Reused for formatting one cell, so writing a row allocates nothing.
    cell: Vec<u8>,
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
            cell: Vec::with_capacity(64),
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

    /// One cell of the row being written, as is.
    fn field(&mut self, value: &[u8]) -> Result<()> {
        self.writer.write_field(value).map_err(|e| Error::Export {
            what: self.name.clone(),
            source: std::io::Error::other(e),
        })
    }

    /// A cell of text that came from a crawled server (neutralised), or empty for NULL.
    fn untrusted(&mut self, value: Option<&str>) -> Result<()> {
        match value {
            Some(text) if needs_neutralising(text) => {
                self.cell.clear();
                self.cell.push(b'\'');
                self.cell.extend_from_slice(text.as_bytes());
                let cell = std::mem::take(&mut self.cell);
                let written = self.field(&cell);
                self.cell = cell;
                written
            }
            Some(text) => self.field(text.as_bytes()),
            None => self.field(b""),
        }
    }

    /// A number or flag, or empty for NULL.
    fn display(&mut self, value: Option<impl std::fmt::Display>) -> Result<()> {
        self.cell.clear();
        if let Some(v) = value {
            write!(self.cell, "{v}").expect("writing to a Vec cannot fail");
        }
        let cell = std::mem::take(&mut self.cell);
        let written = self.field(&cell);
        self.cell = cell;
        written
    }

    /// An instant as ISO 8601 UTC (the form [`iso`] writes), or empty for NULL.
    fn instant(&mut self, value: Option<DateTime<Utc>>) -> Result<()> {
        self.cell.clear();
        if let Some(t) = value {
            write_iso(&mut self.cell, t);
        }
        let cell = std::mem::take(&mut self.cell);
        let written = self.field(&cell);
        self.cell = cell;
        written
    }

    /// Ends the row whose cells were written one by one.
    fn end_row(&mut self) -> Result<()> {
        self.writer
            .write_record(None::<&[u8]>)
            .map_err(|e| self.io_error(e))?;
        self.rows += 1;
        Ok(())
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
///
/// The servers that may not be named are found once, by a subquery that does not depend on the
/// row (the database evaluates it once per statement and looks every row's server up in it),
/// not by a correlated subquery per exported row: a full export reads millions of rows but
/// only one latest visit per server.
fn listable(s: &str) -> String {
    format!(
        "{s}.id NOT IN (SELECT u.id FROM servers u WHERE u.status = 'opted_out' OR EXISTS \
         (SELECT 1 FROM observations p WHERE p.server_id = u.id \
          AND (p.flag_private OR p.flag_noindex) \
          AND p.observed_at = (SELECT MAX(observed_at) FROM observations WHERE server_id = u.id)))"
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
                    .for_each::<ObservationRow, Error>(sql, "exporting observations", |o| {
                        out.display(Some(o.id))?;
                        out.untrusted(Some(&o.domain))?;
                        out.instant(Some(o.observed_at))?;
                        out.field(o.outcome.as_bytes())?;
                        out.display(Some(count_of(o.duration_ms)))?;
                        out.untrusted(o.nodeinfo_version.as_deref())?;
                        out.untrusted(o.software_raw_name.as_deref())?;
                        out.untrusted(o.software_raw_version.as_deref())?;
                        out.untrusted(o.software_family.as_deref())?;
                        out.untrusted(o.software_version.as_deref())?;
                        out.display(o.open_registrations)?;
                        out.display(o.users_total.map(count_of))?;
                        out.display(o.users_active_month.map(count_of))?;
                        out.display(o.local_posts.map(count_of))?;
                        out.display(o.peer_count.map(count_of))?;
                        out.display(o.crawl_run_id)?;
                        out.end_row()
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
    use chrono::TimeZone;

    #[test]
    fn formula_like_cells_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("-1+2"), "'-1+2");
        assert_eq!(neutralise("mastodon"), "mastodon");
    }

    #[test]
    fn instants_are_written_as_chrono_writes_them() {
        let base = Utc
            .with_ymd_and_hms(2022, 11, 27, 23, 59, 58)
            .single()
            .expect("a valid instant");
        for nanos in [
            0,
            1,
            999,
            1_000,
            120_000,
            999_999,
            1_000_000,
            5_000_000,
            123_456_789,
            999_999_999,
        ] {
            for t in [
                base,
                Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0)
                    .single()
                    .expect("valid"),
            ] {
                let t = t + chrono::Duration::nanoseconds(nanos);
                let mut out = Vec::new();
                write_iso(&mut out, t);
                assert_eq!(String::from_utf8(out).expect("ASCII"), iso(t), "{nanos} ns");
            }
        }
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
