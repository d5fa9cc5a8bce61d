//! Exports for researchers, as CSV or Parquet, streamed, with a manifest that makes them citable.
//!
//! No other census exports its history; researchers scrape JSON into git to get CSV. Each export
//! describes its columns once ([`table`]: name, type, whether it can be empty) and hands its rows,
//! as typed cells, to a writer of the chosen [`ExportFormat`]:
//! - CSV ([`csv_file`]): RFC 4180 with ISO 8601 UTC instants and empty cells for nulls. Text that
//!   came from a crawled server is neutralised against spreadsheet formula injection (a cell
//!   starting with `=`, `+`, `-` or `@` gets a leading `'`).
//! - Parquet ([`parquet_file`]): the same columns, of the same names, typed (INT64, DOUBLE,
//!   BOOLEAN, TIMESTAMP in microseconds UTC, DATE, UTF-8 strings), OPTIONAL and null where CSV is
//!   empty, text as it came, Snappy-compressed, in row groups of at most 65,536 rows. Instants
//!   keep microseconds (PostgreSQL's precision); a SQLite census's instants can carry
//!   nanoseconds, which its CSV shows and its Parquet truncates.
//!
//! Either way the file is written as it is read (observations, activity and peer edges are
//! streamed from the database, never held in memory; a Parquet writer holds one row group) and
//! hashed while written: the [`Manifest`] lists each file with its row count and SHA-256, the
//! fedicensus and methodology versions and the time range, so a figure in a paper can be traced
//! to the exact file. Servers that asked not to be listed (private, noindex, opted out) are left
//! out of per-server exports in both formats; they remain in the aggregates.

mod csv_file;
mod parquet_file;
mod table;

use crate::coverage::CoverageQuery;
use crate::db::{Backend, Sql, Storage, Value};
use crate::downsample::Downsampling;
use crate::error::{Error, Result};
use crate::methodology::METHODOLOGY_VERSION;
use crate::series::{midnight, SeriesMetric, SeriesQuery};
use crate::snapshot::{EdgeRow, EDGES_SQL};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use csv_file::CsvOut;
use fedicensus_core::Host;
use futures_util::future::join;
use parquet_file::{ParquetOut, ROW_GROUP_ROWS};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use table::{nullable, required, Cell, Column, Kind, TableSink};

/// The version of fedicensus that wrote an export.
pub const FEDICENSUS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// One series: date, value, servers_reporting, flagged.
    Series(SeriesQuery),
    /// One series split by declared language (servers up, users, monthly actives): a row per
    /// date and language, with the language's share of the total.
    LanguageSeries(SeriesQuery),
    /// One series split by the country of each server's address (servers up, users, monthly
    /// actives): a row per date and country, `unknown` included, with the country's share.
    CountrySeries(SeriesQuery),
    /// The same split by network (autonomous system), with each date's share of the
    /// [`crate::TOP_NETWORKS`] largest networks.
    NetworkSeries(SeriesQuery),
    /// Servers known and the estimated total with its 95 % interval (the coverage series,
    /// [`crate::coverage`]).
    Coverage(CoverageQuery),
    /// Other censuses' published figures imported for comparison (`fedicensus
    /// import-reference`), dated `from..=to`: every stored row with the import it came from.
    References { from: NaiveDate, to: NaiveDate },
    /// Every listable server as of a date.
    Snapshot(NaiveDate),
    /// Every visit of listable servers in `from..=to`, with its headline figures.
    Observations { from: NaiveDate, to: NaiveDate },
    /// Weekly activity of listable servers for weeks starting in `from..=to`.
    Activity { from: NaiveDate, to: NaiveDate },
    /// Every peer edge between listable servers.
    PeerEdges,
    /// Every block edge of a listable blocker (an unlisted server is never named as blocked).
    BlockEdges,
    /// The domains the most servers block now, ranked by blockers (with their users).
    MostBlocked,
    /// Blocks added and removed per week.
    BlocksPerWeek,
    /// Every visit of one listable server, with every number as each source reported it and
    /// the quality flags (the file an operator or a researcher asks for when one server's
    /// figures look wrong).
    ServerHistory(Host),
}

impl Export {
    /// The CSV file name of the export (`series-users_total-day.csv`, `snapshot-2022-11-01.csv`,
    /// ...).
    pub fn file_name(&self) -> String {
        self.file_name_as(ExportFormat::Csv)
    }

    /// The file name of the export in `format`: one stem, the format's extension
    /// (`observations.csv`, `observations.parquet`).
    pub fn file_name_as(&self, format: ExportFormat) -> String {
        format!("{}.{}", self.file_stem(), format.extension())
    }

    fn file_stem(&self) -> String {
        match self {
            Export::Series(q) => format!(
                "series-{}-{}{}{}",
                q.metric.as_str(),
                q.granularity.as_str(),
                q.software
                    .as_ref()
                    .map(|s| format!("-{}", s.as_str()))
                    .unwrap_or_default(),
                if q.cleaned { "-cleaned" } else { "" }
            ),
            Export::LanguageSeries(q) => format!(
                "languages-{}-{}{}",
                q.metric.as_str(),
                q.granularity.as_str(),
                if q.cleaned { "-cleaned" } else { "" }
            ),
            Export::CountrySeries(q) | Export::NetworkSeries(q) => format!(
                "{}-{}-{}{}",
                if matches!(self, Export::CountrySeries(_)) {
                    "countries"
                } else {
                    "networks"
                },
                q.metric.as_str(),
                q.granularity.as_str(),
                if q.cleaned { "-cleaned" } else { "" }
            ),
            Export::Coverage(q) => format!("coverage-{}", q.granularity.as_str()),
            Export::References { .. } => "reference_figures".into(),
            Export::Snapshot(date) => format!("snapshot-{date}"),
            Export::Observations { .. } => "observations".into(),
            Export::Activity { .. } => "activity".into(),
            Export::PeerEdges => "peer_edges".into(),
            Export::BlockEdges => "block_edges".into(),
            Export::MostBlocked => "most_blocked".into(),
            Export::BlocksPerWeek => "blocks_per_week".into(),
            // A stored domain is normalised: lowercase letters, digits, `-` and `.` only.
            Export::ServerHistory(host) => format!("server-{}", host.as_str()),
        }
    }

    /// The export's columns, in order: the CSV header and the Parquet schema.
    pub(crate) fn columns(&self) -> &'static [Column] {
        match self {
            Export::Series(query) if is_share(query.metric) => SHARE_SERIES_COLUMNS,
            Export::Series(_) => COUNT_SERIES_COLUMNS,
            Export::LanguageSeries(_) => LANGUAGE_SERIES_COLUMNS,
            Export::CountrySeries(_) => COUNTRY_SERIES_COLUMNS,
            Export::NetworkSeries(_) => NETWORK_SERIES_COLUMNS,
            Export::Coverage(_) => COVERAGE_COLUMNS,
            Export::References { .. } => REFERENCE_COLUMNS,
            Export::Snapshot(_) => SNAPSHOT_COLUMNS,
            Export::Observations { .. } => OBSERVATIONS_COLUMNS,
            Export::Activity { .. } => ACTIVITY_COLUMNS,
            Export::PeerEdges => PEER_EDGES_COLUMNS,
            Export::BlockEdges => BLOCK_EDGES_COLUMNS,
            Export::MostBlocked => MOST_BLOCKED_COLUMNS,
            Export::BlocksPerWeek => BLOCKS_PER_WEEK_COLUMNS,
            Export::ServerHistory(_) => SERVER_HISTORY_COLUMNS,
        }
    }

    /// The names of the export's columns, in order (the same in every format).
    pub fn column_names(&self) -> Vec<&'static str> {
        self.columns().iter().map(|c| c.name).collect()
    }

    /// The date range the export covers, if it has one.
    pub fn range(&self) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            Export::Series(q)
            | Export::LanguageSeries(q)
            | Export::CountrySeries(q)
            | Export::NetworkSeries(q) => Some((q.from, q.to)),
            Export::Coverage(q) => Some((q.from, q.to)),
            Export::Snapshot(date) => Some((*date, *date)),
            Export::Observations { from, to }
            | Export::Activity { from, to }
            | Export::References { from, to } => Some((*from, *to)),
            Export::PeerEdges
            | Export::BlockEdges
            | Export::MostBlocked
            | Export::BlocksPerWeek
            | Export::ServerHistory(_) => None,
        }
    }
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExportFormat {
    /// RFC 4180 CSV: text cells, empty for null, formula-like server text neutralised.
    #[default]
    Csv,
    /// Apache Parquet: typed, nullable columns, Snappy-compressed.
    Parquet,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 2] = [ExportFormat::Csv, ExportFormat::Parquet];

    /// The format's name, as the CLI takes it: `csv` or `parquet`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Parquet => "parquet",
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
}

/// The columns of a series of a share (the concentration metrics): `value` is a real number.
const SHARE_SERIES_COLUMNS: &[Column] = &[
    required("date", Kind::Date),
    required("as_of", Kind::Instant),
    required("metric", Kind::Text),
    nullable("value", Kind::Float),
    required("servers_reporting", Kind::Integer),
    required("flagged", Kind::Integer),
    required("cleaned", Kind::Boolean),
    // A NodeInfo software name, chosen by servers: neutralised in CSV like other server text.
    nullable("software", Kind::ServerText),
    required("methodology_version", Kind::Text),
];

/// The columns of a series of a count (servers, users, posts, weekly figures): `value` is an
/// integer (Parquet INT64), as the data dictionary says.
const COUNT_SERIES_COLUMNS: &[Column] = &[
    required("date", Kind::Date),
    required("as_of", Kind::Instant),
    required("metric", Kind::Text),
    nullable("value", Kind::Integer),
    required("servers_reporting", Kind::Integer),
    required("flagged", Kind::Integer),
    required("cleaned", Kind::Boolean),
    nullable("software", Kind::ServerText),
    required("methodology_version", Kind::Text),
];

/// The columns of a series split by declared language: one row per date and language
/// (`language` is a lowercase BCP 47 primary tag, or `none declared`), `share` the language's
/// part of `total` (the metric over every language), empty when the total is.
const LANGUAGE_SERIES_COLUMNS: &[Column] = &[
    required("date", Kind::Date),
    required("as_of", Kind::Instant),
    required("metric", Kind::Text),
    required("language", Kind::Text),
    nullable("value", Kind::Integer),
    required("servers_reporting", Kind::Integer),
    nullable("total", Kind::Integer),
    nullable("share", Kind::Float),
    required("flagged", Kind::Integer),
    required("cleaned", Kind::Boolean),
    required("methodology_version", Kind::Text),
];

/// The columns of the coverage series: per date, servers known, the confirmed servers the peer
/// lists name (`servers_listed`), the lists that name one (`reporters`), and the estimated total
/// with its 95 % interval (empty where no list names a confirmed server), the estimator and its
/// number of reporter groups. Dates after the last crawled day have empty counts (not crawled is
/// not zero).
const COVERAGE_COLUMNS: &[Column] = &[
    required("date", Kind::Date),
    required("as_of", Kind::Instant),
    nullable("servers_known", Kind::Integer),
    nullable("servers_listed", Kind::Integer),
    nullable("reporters", Kind::Integer),
    nullable("estimate", Kind::Float),
    nullable("low", Kind::Float),
    nullable("high", Kind::Float),
    required("estimator", Kind::Text),
    required("groups", Kind::Integer),
    required("methodology_version", Kind::Text),
];

/// The columns of other censuses' figures: one row per import, date and scope (`all` or a
/// software's NodeInfo name), each figure empty where the source did not publish it, with the
/// import it came from (the file's SHA-256, name, import time and as-of date). Where imports
/// overlap, the dashboard's line takes the latest import's figure; the file keeps every row.
const REFERENCE_COLUMNS: &[Column] = &[
    required("source", Kind::Text),
    required("date", Kind::Date),
    required("scope", Kind::ServerText),
    nullable("servers", Kind::Integer),
    nullable("users", Kind::Integer),
    nullable("active_month", Kind::Integer),
    nullable("active_week", Kind::Integer),
    required("import_id", Kind::Integer),
    required("file_sha256", Kind::Text),
    // The name the operator's file had: outside text, neutralised in CSV.
    required("file_name", Kind::ServerText),
    required("imported_at", Kind::Instant),
    required("file_as_of", Kind::Date),
];

/// The columns of a series split by the country of each server's address: one row per date and
/// country (`country` an ISO 3166-1 alpha-2 code, or `unknown`), `share` its part of `total`
/// (the metric over every country, unknown included), empty when the total is.
const COUNTRY_SERIES_COLUMNS: &[Column] = &[
    required("date", Kind::Date),
    required("as_of", Kind::Instant),
    required("metric", Kind::Text),
    required("country", Kind::Text),
    nullable("value", Kind::Integer),
    required("servers_reporting", Kind::Integer),
    nullable("total", Kind::Integer),
    nullable("share", Kind::Float),
    required("flagged", Kind::Integer),
    required("cleaned", Kind::Boolean),
    required("methodology_version", Kind::Text),
];

/// The columns of a series split by network: one row per date and autonomous system (`asn` a
/// number, or `unknown`), its organisation as the geolocation database names it, its share of
/// `total`, and the date's share of the three largest networks among servers of a known network
/// (`top_3_share`, the same on every row of a date).
const NETWORK_SERIES_COLUMNS: &[Column] = &[
    required("date", Kind::Date),
    required("as_of", Kind::Instant),
    required("metric", Kind::Text),
    required("asn", Kind::Text),
    nullable("organization", Kind::Text),
    nullable("value", Kind::Integer),
    required("servers_reporting", Kind::Integer),
    nullable("total", Kind::Integer),
    nullable("share", Kind::Float),
    nullable("top_3_share", Kind::Float),
    required("flagged", Kind::Integer),
    required("cleaned", Kind::Boolean),
    required("methodology_version", Kind::Text),
];

/// Whether a metric's values are shares (real numbers) rather than counts.
fn is_share(metric: SeriesMetric) -> bool {
    matches!(
        metric,
        SeriesMetric::ConcentrationTopPercent | SeriesMetric::ConcentrationTopTen
    )
}

const SNAPSHOT_COLUMNS: &[Column] = &[
    required("domain", Kind::ServerText),
    required("first_seen", Kind::Instant),
    required("revealed_by", Kind::ServerText),
    required("status", Kind::Text),
    required("up", Kind::Boolean),
    nullable("software", Kind::ServerText),
    nullable("software_version", Kind::ServerText),
    nullable("last_observed_at", Kind::Instant),
    nullable("last_success_at", Kind::Instant),
    nullable("users_total", Kind::Integer),
    nullable("users_active_month", Kind::Integer),
    nullable("local_posts", Kind::Integer),
    nullable("open_registrations", Kind::Boolean),
];

const OBSERVATIONS_COLUMNS: &[Column] = &[
    required("observation_id", Kind::Integer),
    required("domain", Kind::ServerText),
    required("observed_at", Kind::Instant),
    required("outcome", Kind::Text),
    required("duration_ms", Kind::Integer),
    nullable("nodeinfo_version", Kind::ServerText),
    nullable("software_raw_name", Kind::ServerText),
    nullable("software_raw_version", Kind::ServerText),
    nullable("software", Kind::ServerText),
    nullable("software_version", Kind::ServerText),
    nullable("open_registrations", Kind::Boolean),
    nullable("users_total", Kind::Integer),
    nullable("users_active_month", Kind::Integer),
    nullable("local_posts", Kind::Integer),
    nullable("peer_count", Kind::Integer),
    nullable("crawl_run", Kind::Integer),
];

const ACTIVITY_COLUMNS: &[Column] = &[
    required("domain", Kind::ServerText),
    required("week_start", Kind::Date),
    required("statuses", Kind::Integer),
    required("logins", Kind::Integer),
    required("registrations", Kind::Integer),
    required("observation_id", Kind::Integer),
    required("reported_at", Kind::Instant),
];

const PEER_EDGES_COLUMNS: &[Column] = &[
    required("from", Kind::ServerText),
    required("to", Kind::ServerText),
    required("first_seen", Kind::Instant),
    required("last_seen", Kind::Instant),
];

/// Block edges ([`crate::blocks`]): `published` as the list gave it (a name or an obfuscated
/// pattern), `blocked` the name (plain, or the known server whose digest matched; empty when
/// none does), `current` whether the blocker's latest read lists it.
const BLOCK_EDGES_COLUMNS: &[Column] = &[
    required("blocker", Kind::ServerText),
    required("published", Kind::ServerText),
    nullable("digest", Kind::Text),
    nullable("blocked", Kind::ServerText),
    required("severity", Kind::ServerText),
    nullable("comment", Kind::ServerText),
    required("source", Kind::Text),
    required("first_seen", Kind::Instant),
    required("last_seen", Kind::Instant),
    required("current", Kind::Boolean),
];

/// The most-blocked domains now: blockers (servers whose latest read lists it), those that
/// suspend it, the blockers' users, whether the census knows it as a server, and the block
/// lists read (the denominator).
const MOST_BLOCKED_COLUMNS: &[Column] = &[
    required("rank", Kind::Integer),
    required("domain", Kind::ServerText),
    required("blockers", Kind::Integer),
    required("suspending", Kind::Integer),
    required("blockers_users", Kind::Integer),
    required("known", Kind::Boolean),
    required("lists_read", Kind::Integer),
];

/// Blocks added and removed per week (Monday, UTC), and those found at a blocker's first read.
const BLOCKS_PER_WEEK_COLUMNS: &[Column] = &[
    required("week_start", Kind::Date),
    required("added", Kind::Integer),
    required("removed", Kind::Integer),
    required("at_first_read", Kind::Integer),
    required("methodology_version", Kind::Text),
];

const SERVER_HISTORY_COLUMNS: &[Column] = &[
    required("observation_id", Kind::Integer),
    required("domain", Kind::ServerText),
    required("observed_at", Kind::Instant),
    required("outcome", Kind::Text),
    required("duration_ms", Kind::Integer),
    nullable("nodeinfo_version", Kind::ServerText),
    nullable("software_raw_name", Kind::ServerText),
    nullable("software_raw_version", Kind::ServerText),
    nullable("software", Kind::ServerText),
    nullable("software_version", Kind::ServerText),
    nullable("open_registrations", Kind::Boolean),
    required("private", Kind::Boolean),
    required("noindex", Kind::Boolean),
    required("limited_federation", Kind::Boolean),
    required("peers_hidden", Kind::Boolean),
    nullable("moved_to", Kind::ServerText),
    nullable("peer_count", Kind::Integer),
    nullable("users_total", Kind::Integer),
    nullable("users_active_month", Kind::Integer),
    nullable("local_posts", Kind::Integer),
    nullable("crawl_run", Kind::Integer),
    // Every number as reported, `metric/source=value` separated by spaces
    // (`users_total/nodeinfo=120 users_total/instance_v1=121`): names are ours, not the server's.
    // Empty (null) when the visit reported none.
    nullable("measurements", Kind::Text),
    // Quality flags, `kind/metric: reason` separated by `; ` (reasons are ours); empty when none.
    nullable("quality_flags", Kind::Text),
];

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
    /// The downsamplings of the raw observations, oldest first: visits before their dates were
    /// thinned (series are unaffected; see the methodology). Absent when every visit is kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub downsampled: Vec<Downsampling>,
    /// Servers counted in the series but left out of every per-server file, by why (opted out
    /// by robots.txt or by the operator). Absent when not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlisted: Option<crate::servers::Unlisted>,
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
            downsampled: Vec::new(),
            unlisted: None,
        }
    }

    /// The manifest, saying how many servers the per-server files leave out, and why.
    pub fn with_unlisted(mut self, unlisted: crate::servers::Unlisted) -> Manifest {
        self.unlisted = Some(unlisted);
        self
    }

    /// The manifest, saying which downsamplings the database has had.
    pub fn with_downsamplings(mut self, downsampled: Vec<Downsampling>) -> Manifest {
        self.downsampled = downsampled;
        self
    }

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
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

/// SQL condition: the server aliased `s` may be named (not opted out, by an operator or by its
/// robots.txt: its latest answer is not a refusal; and its latest successful visit was neither
/// private nor noindex: a failed visit reports no flags, so a private server that is down stays
/// private). The same rule as the snapshot's and [`crate::ServerHistory::listable`]. `s` is one of our own fixed aliases.
///
/// The servers that may not be named are found once, by a subquery that does not depend on the
/// row (the database evaluates it once per statement and looks every row's server up in it),
/// not by a correlated subquery per exported row: a full export reads millions of rows but
/// only one latest visit per server.
pub(crate) fn listable(s: &str) -> String {
    format!(
        "{s}.id NOT IN (SELECT u.id FROM servers u WHERE u.status = 'opted_out' \
         OR (u.last_answered_at IS NOT NULL \
             AND (u.last_success_at IS NULL OR u.last_answered_at > u.last_success_at)) \
         OR EXISTS \
         (SELECT 1 FROM observations p WHERE p.server_id = u.id \
          AND (p.flag_private OR p.flag_noindex) \
          AND p.observed_at = (SELECT MAX(observed_at) FROM observations \
          WHERE server_id = u.id AND outcome = 'ok')))"
    )
}

impl Storage {
    /// Writes `what` as CSV to `writer`, streaming, and returns its manifest entry.
    pub async fn export_csv<W: Write>(&self, what: &Export, writer: W) -> Result<ExportedFile> {
        self.export_csv_in_pages(what, OBSERVATION_PAGE_ROWS, writer)
            .await
    }

    /// [`Storage::export_csv`] reading observations `page_rows` at a time: for tests of the
    /// paging (a page is thousands of rows otherwise).
    #[doc(hidden)]
    pub async fn export_csv_in_pages<W: Write>(
        &self,
        what: &Export,
        page_rows: i64,
        writer: W,
    ) -> Result<ExportedFile> {
        let mut out = CsvOut::new(what.file_name_as(ExportFormat::Csv), what.columns(), writer)?;
        self.export_rows(what, page_rows, &mut out).await?;
        out.finish()
    }

    /// Writes `what` as Parquet to `writer`, streaming in row groups of a bounded size, and
    /// returns its manifest entry (rows, bytes and SHA-256 of the bytes written).
    pub async fn export_parquet<W: Write + Send>(
        &self,
        what: &Export,
        writer: W,
    ) -> Result<ExportedFile> {
        let mut out = ParquetOut::new(
            what.file_name_as(ExportFormat::Parquet),
            what.columns(),
            writer,
            ROW_GROUP_ROWS,
        )?;
        self.export_rows(what, OBSERVATION_PAGE_ROWS, &mut out)
            .await?;
        out.finish()
    }

    /// Writes `what` in `format` to `writer` ([`Storage::export_csv`] or
    /// [`Storage::export_parquet`]).
    pub async fn export<W: Write + Send>(
        &self,
        what: &Export,
        format: ExportFormat,
        writer: W,
    ) -> Result<ExportedFile> {
        match format {
            ExportFormat::Csv => self.export_csv(what, writer).await,
            ExportFormat::Parquet => self.export_parquet(what, writer).await,
        }
    }

    /// Reads the rows of `what` and hands each to `out`, one cell per column of
    /// [`Export::columns`]: the one place that says what an export holds, whatever its format.
    async fn export_rows(
        &self,
        what: &Export,
        page_rows: i64,
        out: &mut impl TableSink,
    ) -> Result<()> {
        match what {
            Export::Series(query) => {
                let series = self.series(query).await?;
                let software = query.software.as_ref().map(|s| s.as_str());
                for p in &series.points {
                    out.row(&[
                        Cell::Date(p.date),
                        Cell::Instant(p.as_of),
                        Cell::Text(query.metric.as_str()),
                        if is_share(query.metric) {
                            Cell::or_null(p.value, Cell::Float)
                        } else {
                            // A count is a whole number, held as f64 by the series.
                            Cell::or_null(p.value, |v| Cell::Integer(v.round() as i64))
                        },
                        Cell::unsigned(p.servers_reporting),
                        Cell::unsigned(p.flagged),
                        Cell::Boolean(query.cleaned),
                        Cell::or_null(software, Cell::Text),
                        Cell::Text(METHODOLOGY_VERSION),
                    ])?;
                }
            }
            Export::LanguageSeries(query) => {
                let series = self.language_series(query).await?;
                for (i, total) in series.total.iter().enumerate() {
                    for line in &series.languages {
                        let p = &line.points[i];
                        let share = match (p.value, total.value) {
                            (Some(v), Some(t)) if t > 0.0 => Some(v / t),
                            _ => None,
                        };
                        out.row(&[
                            Cell::Date(p.date),
                            Cell::Instant(p.as_of),
                            Cell::Text(query.metric.as_str()),
                            Cell::Text(line.name()),
                            Cell::or_null(p.value, |v| Cell::Integer(v.round() as i64)),
                            Cell::unsigned(p.servers_reporting),
                            Cell::or_null(total.value, |v| Cell::Integer(v.round() as i64)),
                            Cell::or_null(share, Cell::Float),
                            Cell::unsigned(p.flagged),
                            Cell::Boolean(query.cleaned),
                            Cell::Text(METHODOLOGY_VERSION),
                        ])?;
                    }
                }
            }
            Export::CountrySeries(query) | Export::NetworkSeries(query) => {
                let network = matches!(what, Export::NetworkSeries(_));
                let series = if network {
                    self.network_series(query).await?
                } else {
                    self.country_series(query).await?
                };
                for (i, total) in series.total.iter().enumerate() {
                    for line in &series.lines {
                        let p = &line.points[i];
                        let share = match (p.value, total.value) {
                            (Some(v), Some(t)) if t > 0.0 => Some(v / t),
                            _ => None,
                        };
                        let mut cells = vec![
                            Cell::Date(p.date),
                            Cell::Instant(p.as_of),
                            Cell::Text(query.metric.as_str()),
                            Cell::Text(line.code()),
                        ];
                        if network {
                            cells.push(Cell::or_null(line.name.as_deref(), Cell::Text));
                        }
                        cells.extend([
                            Cell::or_null(p.value, |v| Cell::Integer(v.round() as i64)),
                            Cell::unsigned(p.servers_reporting),
                            Cell::or_null(total.value, |v| Cell::Integer(v.round() as i64)),
                            Cell::or_null(share, Cell::Float),
                        ]);
                        if network {
                            cells.push(Cell::or_null(series.top_share[i], Cell::Float));
                        }
                        cells.extend([
                            Cell::unsigned(p.flagged),
                            Cell::Boolean(query.cleaned),
                            Cell::Text(METHODOLOGY_VERSION),
                        ]);
                        out.row(&cells)?;
                    }
                }
            }
            Export::Coverage(query) => {
                let series = self.coverage(query).await?;
                for p in &series.points {
                    out.row(&[
                        Cell::Date(p.date),
                        Cell::Instant(p.as_of),
                        Cell::or_null(p.crawled.then_some(p.servers_known), Cell::unsigned),
                        Cell::or_null(p.crawled.then_some(p.servers_listed), Cell::unsigned),
                        Cell::or_null(p.crawled.then_some(p.reporters), Cell::unsigned),
                        Cell::or_null(p.estimate, Cell::Float),
                        Cell::or_null(p.low, Cell::Float),
                        Cell::or_null(p.high, Cell::Float),
                        Cell::Text(series.estimator.name()),
                        Cell::unsigned(u64::from(series.estimator.groups())),
                        Cell::Text(METHODOLOGY_VERSION),
                    ])?;
                }
            }
            Export::References { from, to } => {
                let mut conn = self.acquire().await?;
                let rows = conn
                    .conn()
                    .fetch_all::<crate::reference::FigureRow>(
                        Sql::new(format!(
                            "{} ORDER BY i.source, f.date, f.scope, f.import_id",
                            crate::reference::FIGURES_SQL
                        ))
                        .bind(*from)
                        .bind(*to),
                        "exporting reference figures",
                    )
                    .await?;
                drop(conn);
                for r in &rows {
                    out.row(&[
                        Cell::Text(&r.source),
                        Cell::Date(r.date),
                        Cell::Text(&r.scope),
                        Cell::or_null(r.servers, Cell::Integer),
                        Cell::or_null(r.users, Cell::Integer),
                        Cell::or_null(r.active_month, Cell::Integer),
                        Cell::or_null(r.active_week, Cell::Integer),
                        Cell::Integer(r.import_id),
                        Cell::Text(&r.sha256),
                        Cell::Text(&r.file_name),
                        Cell::Instant(r.imported_at),
                        Cell::Date(r.as_of),
                    ])?;
                }
            }
            Export::Snapshot(date) => {
                let rows = self.snapshot(*date).await?;
                for r in rows.iter().filter(|r| r.listable) {
                    out.row(&[
                        Cell::Text(r.host.as_str()),
                        Cell::Instant(r.first_seen),
                        Cell::Text(&r.revealed_by),
                        Cell::Text(r.status.as_str()),
                        Cell::Boolean(r.up),
                        Cell::or_null(r.software.as_deref(), Cell::Text),
                        Cell::or_null(r.software_version.as_deref(), Cell::Text),
                        Cell::or_null(r.last_observed_at, Cell::Instant),
                        Cell::or_null(r.last_success_at, Cell::Instant),
                        Cell::or_null(r.users_total, Cell::unsigned),
                        Cell::or_null(r.users_active_month, Cell::unsigned),
                        Cell::or_null(r.local_posts, Cell::unsigned),
                        Cell::or_null(r.open_registrations, Cell::Boolean),
                    ])?;
                }
            }
            Export::Observations { from, to } => {
                self.export_observations(*from, *to, page_rows.max(1), out)
                    .await?;
            }
            Export::Activity { from, to } => {
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
                            Cell::Text(&r.domain),
                            Cell::Date(r.week_start.date_naive()),
                            Cell::count(r.statuses),
                            Cell::count(r.logins),
                            Cell::count(r.registrations),
                            Cell::Integer(r.observation_id),
                            Cell::Instant(r.reported_at),
                        ])
                    })
                    .await??;
            }
            Export::PeerEdges => {
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
                            Cell::Text(e.from.as_str()),
                            Cell::Text(e.to.as_str()),
                            Cell::Instant(e.first_seen),
                            Cell::Instant(e.last_seen),
                        ])
                    })
                    .await??;
            }
            Export::BlockEdges => {
                for e in self.block_edges(&crate::blocks::BlockFilter::All).await? {
                    out.row(&[
                        Cell::Text(&e.blocker),
                        Cell::Text(&e.published),
                        Cell::or_null(e.digest.as_deref(), Cell::Text),
                        Cell::or_null(e.blocked.as_deref(), Cell::Text),
                        Cell::Text(&e.severity),
                        Cell::or_null(e.comment.as_deref(), Cell::Text),
                        Cell::Text(&e.source),
                        Cell::Instant(e.first_seen),
                        Cell::Instant(e.last_seen),
                        Cell::Boolean(e.current),
                    ])?;
                }
            }
            Export::MostBlocked => {
                let list = self
                    .most_blocked(crate::blocks::BlockRanking::Servers, usize::MAX)
                    .await?;
                for (i, d) in list.domains.iter().enumerate() {
                    out.row(&[
                        Cell::Integer(i as i64 + 1),
                        Cell::Text(&d.domain),
                        Cell::unsigned(d.blockers),
                        Cell::unsigned(d.suspending),
                        Cell::unsigned(d.blockers_users),
                        Cell::Boolean(d.known),
                        Cell::unsigned(list.lists_read),
                    ])?;
                }
            }
            Export::BlocksPerWeek => {
                for w in self.blocks_per_week().await? {
                    out.row(&[
                        Cell::Date(w.week_start),
                        Cell::unsigned(w.added),
                        Cell::unsigned(w.removed),
                        Cell::unsigned(w.at_first_read),
                        Cell::Text(METHODOLOGY_VERSION),
                    ])?;
                }
            }
            Export::ServerHistory(host) => {
                // One server's visits are bounded (four a day for years is thousands of rows):
                // read whole, through the same history the dashboard shows.
                let history = self.server_history(host).await?;
                if !history.listable {
                    return Err(Error::InvalidQuery(format!(
                        "{host} asked not to be listed (opted out, or its latest visit was \
                         private or noindex): it counts in aggregates but is not exported on its own"
                    )));
                }
                for o in &history.observations {
                    let measurements = o
                        .measurements
                        .iter()
                        .map(|(metric, source, value)| format!("{metric}/{source}={value}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    let flags = o
                        .quality_flags
                        .iter()
                        .map(|(kind, metric, reason)| format!("{kind}/{metric}: {reason}"))
                        .collect::<Vec<_>>()
                        .join("; ");
                    out.row(&[
                        Cell::Integer(o.id),
                        Cell::Text(history.host.as_str()),
                        Cell::Instant(o.observed_at),
                        Cell::Text(&o.outcome),
                        Cell::unsigned(o.duration_ms),
                        Cell::or_null(o.nodeinfo_version.as_deref(), Cell::Text),
                        Cell::or_null(o.software_raw_name.as_deref(), Cell::Text),
                        Cell::or_null(o.software_raw_version.as_deref(), Cell::Text),
                        Cell::or_null(o.software_family.as_deref(), Cell::Text),
                        Cell::or_null(o.software_version.as_deref(), Cell::Text),
                        Cell::or_null(o.open_registrations, Cell::Boolean),
                        Cell::Boolean(o.private),
                        Cell::Boolean(o.noindex),
                        Cell::Boolean(o.limited_federation),
                        Cell::Boolean(o.peers_hidden),
                        Cell::or_null(o.moved_to.as_deref(), Cell::Text),
                        Cell::or_null(o.peer_count, Cell::unsigned),
                        Cell::or_null(o.users_total, Cell::unsigned),
                        Cell::or_null(o.users_active_month, Cell::unsigned),
                        Cell::or_null(o.local_posts, Cell::unsigned),
                        Cell::or_null(o.crawl_run, Cell::Integer),
                        text_or_null(&measurements),
                        text_or_null(&flags),
                    ])?;
                }
            }
        }
        Ok(())
    }
}

impl Storage {
    /// Every visit of listable servers in `from..=to`, ordered by time then domain, read
    /// `page_rows` at a time ([`OBSERVATION_PAGE_ROWS`] but in tests) inside one read-only
    /// snapshot.
    ///
    /// Each page comes back as one JSON array built by the database (`json_group_array` on
    /// SQLite, `json_agg` on PostgreSQL) and is parsed in place, instead of one driver row per
    /// visit: fetching a row through sqlx costs several microseconds (a hop from SQLite's
    /// worker thread and an owned copy of every value), the export's main cost before. Pages
    /// follow each other by the last (time, domain) written, so each starts with an index probe;
    /// the servers that may not be named are found once, not per page. Memory is one page.
    async fn export_observations(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        page_rows: i64,
        out: &mut impl TableSink,
    ) -> Result<()> {
        let end = to.succ_opt().map(midnight).unwrap_or_else(|| midnight(to));
        let mut tx = self.begin_read().await?;
        let mut conn = tx.conn();
        let backend = conn.backend();
        // Every server's name, or None for one that may not be named: read once, so a page is
        // read from `observations` alone (no join and no sort in the database; measured at
        // 2.5 x the cost of the rows themselves). This holds one entry a server, not a row.
        #[derive(sqlx::FromRow)]
        struct Name {
            id: i64,
            domain: String,
            listable: i32,
        }
        let names: HashMap<i64, Option<Box<str>>> = conn
            .fetch_all::<Name>(
                Sql::new(format!(
                    "SELECT s.id AS id, s.domain AS domain, \
                     CASE WHEN {} THEN 1 ELSE 0 END AS listable FROM servers s",
                    listable("s")
                )),
                "reading the names of the servers",
            )
            .await?
            .into_iter()
            .map(|n| (n.id, (n.listable != 0).then(|| n.domain.into_boxed_str())))
            .collect();
        let sql = observation_page_sql(backend);
        // The first page includes the range's start instant; later ones start after the last
        // instant of the page before.
        let page_query = |after: &Value, previous: Option<DateTime<Utc>>| {
            Sql::new(sql.clone())
                .bind(after.clone())
                .bind(end)
                .bind(previous.is_none())
                .bind(page_rows.max(1) - 1)
        };
        // A page holds every visit up to and including an instant (whole instants, so the
        // rows of one instant can be put in domain order here); the next starts after it. A
        // server has at most one visit an instant, so a page holds at most `page_rows` plus
        // one visit a server: memory stays bounded whatever the history's length.
        let mut after: Value = midnight(from).into();
        let mut previous: Option<DateTime<Utc>> = None;
        let mut page = conn
            .fetch_one::<JsonPage>(page_query(&after, None), "exporting observations")
            .await?;
        while let Some(text) = page.rows.take().filter(|_| page.n > 0) {
            let rows: Vec<JsonObservation<'_>> = serde_json::from_str(&text)
                .map_err(|e| Error::InvalidQuery(format!("reading a page of observations: {e}")))?;
            let mut named = Vec::with_capacity(rows.len());
            let mut last: Option<(DateTime<Utc>, &str)> = None;
            for r in &rows {
                let at = parse_instant(&r.2)?;
                if last.is_none_or(|(l, _)| at > l) {
                    last = Some((at, &r.2));
                }
                if let Some(Some(domain)) = names.get(&r.1) {
                    named.push((at, &**domain, r));
                }
            }
            let (last_at, last_text) = last.ok_or_else(|| {
                Error::InvalidQuery("a page of observations counted rows but held none".into())
            })?;
            // Each page must end past the previous one, or the export would never end.
            if previous.is_some_and(|p| p >= last_at) {
                return Err(Error::InvalidQuery(format!(
                    "exporting observations: a page ended at {last_at}, not after {previous:?}"
                )));
            }
            previous = Some(last_at);
            // The page ends where the next one starts: the last instant as stored (SQLite
            // compares text).
            after = match backend {
                Backend::Sqlite => last_text.to_string().into(),
                Backend::Postgres => last_at.into(),
            };
            let more = page.n >= page_rows;
            named.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            let mut write = || -> Result<()> {
                for (at, domain, r) in &named {
                    out.row(&[
                        Cell::Integer(r.0),
                        Cell::Text(domain),
                        Cell::Instant(*at),
                        Cell::Text(&r.3),
                        Cell::count(r.4),
                        Cell::or_null(r.5.as_deref(), Cell::Text),
                        Cell::or_null(r.6.as_deref(), Cell::Text),
                        Cell::or_null(r.7.as_deref(), Cell::Text),
                        Cell::or_null(r.8.as_deref(), Cell::Text),
                        Cell::or_null(r.9.as_deref(), Cell::Text),
                        Cell::or_null(r.10.map(|b| b.0), Cell::Boolean),
                        Cell::or_null(r.11, Cell::count),
                        Cell::or_null(r.12, Cell::count),
                        Cell::or_null(r.13, Cell::count),
                        Cell::or_null(r.14, Cell::count),
                        Cell::or_null(r.15, Cell::Integer),
                    ])?;
                }
                Ok(())
            };
            if !more {
                write()?;
                break;
            }
            // The database reads the next page while this one is written: the query is sent
            // on the first poll and runs on the driver's side (SQLite's worker thread, or the
            // PostgreSQL server) while the rows are formatted and hashed here.
            let (next, written) = join(
                conn.fetch_one::<JsonPage>(page_query(&after, previous), "exporting observations"),
                async { write() },
            )
            .await;
            written?;
            page = next?;
        }
        tx.commit().await
    }
}

/// Observations in one page of an export: a few MB of JSON.
const OBSERVATION_PAGE_ROWS: i64 = 8_192;

/// One page of rows as a JSON array of arrays, and how many rows it holds.
#[derive(sqlx::FromRow)]
struct JsonPage {
    rows: Option<String>,
    n: i64,
}

/// One observation of a page, in the order of [`observation_page_sql`]'s `json_array`.
#[derive(Deserialize)]
struct JsonObservation<'a>(
    i64,
    i64,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    i64,
    #[serde(borrow)] Option<Cow<'a, str>>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    Option<JsonBool>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// A boolean as a database writes it in JSON: `true`/`false` (PostgreSQL) or `1`/`0` (SQLite,
/// which stores booleans as integers).
#[derive(Clone, Copy)]
struct JsonBool(bool);

impl<'de> Deserialize<'de> for JsonBool {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = JsonBool;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a boolean, 0 or 1")
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<JsonBool, E> {
                Ok(JsonBool(v))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<JsonBool, E> {
                Ok(JsonBool(v != 0))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<JsonBool, E> {
                Ok(JsonBool(v != 0))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// An instant as a database writes it in JSON (RFC 3339: SQLite's stored text, PostgreSQL's
/// `timestamptz` rendering).
fn parse_instant(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::InvalidQuery(format!("a stored instant {text:?} is not RFC 3339: {e}")))
}

/// One page of observations: every visit after `$1` (or at it, when `$3` is true, for the first
/// page) up to and including the instant of the `$4`-th one after it (counting from 0), or to
/// the range's end `$2`, as one JSON array in no particular order. Whole instants make a page,
/// so a page can be put in time-then-domain order on its own. Both bounds are probes of the
/// `observed_at` index, and the rows are read in its order with no join: on a history written
/// in time order that is close to a scan of the table.
fn observation_page_sql(backend: Backend) -> String {
    let columns = "id, server_id, observed_at, outcome, duration_ms, nodeinfo_version, \
                   software_raw_name, software_raw_version, software_family, software_version, \
                   open_registrations, users_total, users_active_month, local_posts, peer_count, \
                   crawl_run_id";
    let (array, aggregate, cast) = match backend {
        Backend::Sqlite => ("json_array", "json_group_array", ""),
        Backend::Postgres => ("json_build_array", "json_agg", "::text"),
    };
    let after = "observed_at >= $1 AND (observed_at > $1 OR $3)";
    format!(
        "SELECT {aggregate}({array}({columns})){cast} AS rows, COUNT(*) AS n \
         FROM observations WHERE {after} AND observed_at <= (SELECT COALESCE(\
         (SELECT observed_at FROM observations WHERE {after} AND observed_at < $2 \
         ORDER BY observed_at LIMIT 1 OFFSET $4), \
         (SELECT MAX(observed_at) FROM observations WHERE observed_at < $2)))"
    )
}

/// A text cell, null when empty (so Parquet has a null where CSV has an empty cell, never "").
fn text_or_null(text: &str) -> Cell<'_> {
    if text.is_empty() {
        Cell::Null
    } else {
        Cell::Text(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_spans_the_ranges_of_its_files() {
        let d = |day| NaiveDate::from_ymd_opt(2022, 11, day).expect("a valid date");
        let m = Manifest::new(Utc::now(), [(d(3), d(9)), (d(1), d(5))], Vec::new());
        assert_eq!(m.from.as_deref(), Some("2022-11-01"));
        assert_eq!(m.to.as_deref(), Some("2022-11-09"));
        assert_eq!(m.methodology_version, METHODOLOGY_VERSION);
    }
}
