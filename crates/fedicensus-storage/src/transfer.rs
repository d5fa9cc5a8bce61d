//! Moving house: the whole database out as CSV and back in, and straight from one database into
//! another (SQLite to PostgreSQL when a census outgrows one file).
//!
//! The researcher exports in [`export`](crate::export) are for reading: they join names in, leave
//! unlisted servers out and neutralise spreadsheet formulas, so they cannot rebuild a database.
//! The table exports here are for moving: one file per table (`table-servers.csv`, ...), every
//! column and every row, ids kept, in primary-key order, written from one consistent read. What
//! must survive a move is everything a query can see: servers with their provenance and schedule,
//! aliases, crawl runs and their outcome counts, observations with their flags, every measurement
//! with its source, activity, peer edges, annotations, quality flags, the record of any
//! downsampling, and other censuses' figures imported for comparison. The file format is CSV with one escape, because CSV has no NULL: a NULL cell is
//! `\N`, and a text that starts with a backslash gets one more in front. Instants are RFC 3339
//! UTC to the microsecond (what both backends store), so export → import into an empty database
//! → export gives the same bytes, whichever backend either side runs on; the conformance suite
//! holds that.
//!
//! [`Storage::import_tables`] checks every file's SHA-256 against the manifest before it reads a
//! row, refuses a database that already holds a census, and writes everything in one transaction
//! (a failed import leaves the database as it was). [`Storage::copy_to`] streams every table in
//! key order from this database into another, empty one, in one transaction on the target, with
//! constant memory; it is the documented way from SQLite to PostgreSQL.
//!
//! Both load a table through a bulk path: the table's plain indexes (the `CREATE INDEX`es of the
//! migrations, not those of a primary key or unique constraint) are dropped first and built again
//! from the loaded rows, in the same transaction, so each is built once from sorted data rather
//! than updated a row at a time; rows go to PostgreSQL through `COPY`, to SQLite through
//! multi-row INSERTs.

use crate::db::{Backend, Conn, Kind, Sql, Storage, Value};
use crate::error::{Context, Error, Result};
use crate::export::{ExportedFile, Manifest, FEDICENSUS_VERSION};
use crate::methodology::METHODOLOGY_VERSION;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

/// The name of the manifest written next to the table files.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The NULL marker in table files.
const NULL: &str = "\\N";

/// Rows per multi-row INSERT: kept under SQLite's 32,766 parameters for the widest table.
const BATCH_PARAMETERS: usize = 30_000;
const MAX_BATCH_ROWS: usize = 1_000;

/// Rows per `COPY` on PostgreSQL, which has no parameter limit: about a megabyte of the widest
/// table's rows, so memory stays bounded.
const COPY_ROWS: usize = 8_192;

/// One table of the schema, as moved: its columns (in file order) and its key.
struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    kinds: &'static [Kind],
    /// The primary key, in order; rows are written and copied in this order.
    key: &'static [&'static str],
    /// Whether `id` is an identity column whose sequence must follow the imported ids.
    identity: bool,
    /// How many trailing columns were added by later migrations: a file written before them
    /// lacks them, and they import as NULL.
    added_later: usize,
}

use Kind::{Bool as B, Date as D, Text as T, Time as Tm, I64 as I};

/// Every table, parents before children (the order rows can be inserted in).
const TABLES: &[Table] = &[
    Table {
        name: "servers",
        columns: &[
            "id",
            "domain",
            "first_seen",
            "revealed_by",
            "status",
            "moved_to",
            "software",
            "last_observed_at",
            "last_success_at",
            "last_outcome",
            "consecutive_failures",
            "next_due",
            "lease_owner",
            "lease_expires",
            "peers_read_at",
            "peers_hash",
            "last_answered_at",
            "first_confirmed_at",
        ],
        kinds: &[I, T, Tm, T, T, T, T, Tm, Tm, T, I, Tm, T, Tm, Tm, T, Tm, Tm],
        key: &["id"],
        identity: true,
        // Migration 0005: peer lists recorded when they change; 0009: the latest answer; 0031:
        // when the server was first confirmed.
        added_later: 4,
    },
    Table {
        name: "aliases",
        columns: &["alias", "server_id", "reason", "first_seen"],
        kinds: &[T, I, T, Tm],
        key: &["alias"],
        identity: false,
        added_later: 0,
    },
    Table {
        name: "crawl_runs",
        columns: &[
            "id",
            "started_at",
            "finished_at",
            "crawler_version",
            "config_hash",
            "seeds",
            "lag_p99_ms",
            "lag_max_ms",
            "stalled_ms",
            "cpu_permille",
            "visit_limit_min",
            "visit_limit_max",
        ],
        kinds: &[I, Tm, Tm, T, T, T, I, I, I, I, I, I],
        key: &["id"],
        identity: true,
        // Migration 0026: the crawler's own health during the run.
        added_later: 6,
    },
    Table {
        name: "crawl_run_outcomes",
        columns: &["run_id", "outcome", "count"],
        kinds: &[I, T, I],
        key: &["run_id", "outcome"],
        identity: false,
        added_later: 0,
    },
    Table {
        name: "observations",
        columns: &[
            "id",
            "server_id",
            "observed_at",
            "outcome",
            "duration_ms",
            "nodeinfo_version",
            "software_raw_name",
            "software_raw_version",
            "software_family",
            "software_version",
            "open_registrations",
            "flag_private",
            "flag_noindex",
            "flag_limited_federation",
            "flag_peers_hidden",
            "moved_to",
            "peer_count",
            "users_total",
            "users_active_month",
            "local_posts",
            "crawl_run_id",
        ],
        kinds: &[
            I, I, Tm, T, I, T, T, T, T, T, B, B, B, B, B, T, I, I, I, I, I,
        ],
        key: &["id"],
        identity: true,
        added_later: 0,
    },
    Table {
        name: "measurements",
        columns: &["observation_id", "metric", "source", "value"],
        kinds: &[I, T, T, I],
        key: &["observation_id", "metric", "source"],
        identity: false,
        added_later: 0,
    },
    Table {
        name: "activity",
        columns: &[
            "server_id",
            "week_start",
            "statuses",
            "logins",
            "registrations",
            "observation_id",
            "reported_at",
        ],
        kinds: &[I, Tm, I, I, I, I, Tm],
        key: &["server_id", "week_start"],
        identity: false,
        added_later: 0,
    },
    Table {
        name: "peer_edges",
        columns: &["from_id", "to_id", "first_seen", "last_seen"],
        kinds: &[I, I, Tm, Tm],
        key: &["from_id", "to_id"],
        identity: false,
        added_later: 0,
    },
    Table {
        name: "annotations",
        columns: &["id", "date", "title", "description", "kind", "source_url"],
        kinds: &[I, D, T, T, T, T],
        key: &["id"],
        identity: true,
        added_later: 0,
    },
    Table {
        name: "quality_flags",
        columns: &["observation_id", "kind", "metric", "reason"],
        kinds: &[I, T, T, T],
        key: &["observation_id", "kind", "metric"],
        identity: false,
        added_later: 0,
    },
    Table {
        name: "downsamplings",
        columns: &[
            "id",
            "before_date",
            "started_at",
            "finished_at",
            "observations_removed",
            "rule",
        ],
        kinds: &[I, D, Tm, Tm, I, T],
        key: &["id"],
        identity: true,
        added_later: 0,
    },
    Table {
        name: "crawl_requests",
        columns: &[
            "id",
            "requested_at",
            "requested_by",
            "started_at",
            "started_by",
        ],
        kinds: &[I, Tm, T, Tm, T],
        key: &["id"],
        identity: true,
        added_later: 0,
    },
    Table {
        name: "siblings",
        columns: &["server_id", "main_id", "first_seen", "last_seen"],
        kinds: &[I, I, Tm, Tm],
        key: &["server_id", "main_id"],
        identity: false,
        added_later: 0,
    },
    Table {
        name: "observation_languages",
        columns: &["observation_id", "source", "language", "position"],
        kinds: &[I, T, T, I],
        key: &["observation_id", "source", "language"],
        identity: false,
        added_later: 0,
    },
    Table {
        name: "block_lists",
        columns: &["server_id", "source", "first_read", "last_read", "blocks"],
        kinds: &[I, T, Tm, Tm, I],
        key: &["server_id"],
        identity: false,
        added_later: 0,
    },
    Table {
        name: "block_edges",
        columns: &[
            "id",
            "blocker_id",
            "published",
            "digest",
            "blocked",
            "severity",
            "comment",
            "source",
            "first_seen",
            "last_seen",
        ],
        kinds: &[I, I, T, T, T, T, T, T, Tm, Tm],
        key: &["id"],
        identity: true,
        added_later: 0,
    },
    Table {
        name: "reference_imports",
        columns: &[
            "id",
            "source",
            "sha256",
            "file_name",
            "imported_at",
            "as_of",
            "first_date",
            "last_date",
            "notes",
        ],
        kinds: &[I, T, T, T, Tm, D, D, D, T],
        key: &["id"],
        identity: true,
        added_later: 0,
    },
    Table {
        name: "reference_figures",
        columns: &[
            "import_id",
            "date",
            "scope",
            "servers",
            "users",
            "active_month",
            "active_week",
        ],
        kinds: &[I, D, T, I, I, I, I],
        key: &["import_id", "date", "scope"],
        identity: false,
        added_later: 0,
    },
    Table {
        name: "reference_domains",
        columns: &["import_id", "domain"],
        kinds: &[I, T],
        key: &["import_id", "domain"],
        identity: false,
        added_later: 0,
    },
    Table {
        name: "observation_geo",
        columns: &[
            "observation_id",
            "country",
            "asn",
            "as_organization",
            "database",
        ],
        kinds: &[I, T, I, T, T],
        key: &["observation_id"],
        identity: false,
        added_later: 0,
    },
];

/// Tables added by a later migration: a directory exported before them has no file for them,
/// and imports them empty.
const TABLES_ADDED_LATER: &[&str] = &[
    "downsamplings",
    "crawl_requests",
    "siblings",
    "observation_languages",
    "reference_imports",
    "reference_figures",
    "reference_domains",
    "observation_geo",
    "block_lists",
    "block_edges",
];

impl Table {
    fn file_name(&self) -> String {
        format!("table-{}.csv", self.name)
    }

    /// `SELECT every column ORDER BY the key`, text keys in byte order on both backends (a
    /// PostgreSQL database's default collation may sort by locale; SQLite sorts by bytes).
    fn select(&self, backend: Backend) -> Sql {
        let order: Vec<String> = self
            .key
            .iter()
            .map(|k| {
                let text = self
                    .columns
                    .iter()
                    .position(|c| c == k)
                    .is_some_and(|i| self.kinds[i] == Kind::Text);
                if text && backend == Backend::Postgres {
                    format!("{k} COLLATE \"C\"")
                } else {
                    (*k).to_owned()
                }
            })
            .collect();
        Sql::new(format!(
            "SELECT {} FROM {} ORDER BY {}",
            self.columns.join(", "),
            self.name,
            order.join(", ")
        ))
    }

    fn batch_rows(&self, backend: Backend) -> usize {
        match backend {
            Backend::Sqlite => (BATCH_PARAMETERS / self.columns.len()).min(MAX_BATCH_ROWS),
            Backend::Postgres => COPY_ROWS,
        }
    }

    /// `COPY` of every column from CSV, where an unquoted `\N` is NULL and a quoted one a text.
    fn copy_statement(&self) -> String {
        format!(
            "COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
            self.name,
            self.columns.join(", ")
        )
    }

    /// A multi-row INSERT of `rows` (each as many values as columns), for SQLite.
    ///
    /// Its parameters are anonymous (`?`), bound in order: SQLite looks a numbered one (`$n`)
    /// up by a linear search of the statement's parameter names, both when it prepares the
    /// statement and when sqlx binds each value (`sqlite3_bind_parameter_name`), so a batch of
    /// 21,000 numbered parameters costs about 21,000² / 2 string comparisons, which held an
    /// import to about 600 rows a second (BENCHMARKS.md, "`import` and `copy` through a bulk
    /// path").
    fn insert(&self, rows: Vec<Vec<Value>>) -> Sql {
        let width = self.columns.len();
        let mut text = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.name,
            self.columns.join(", ")
        );
        for r in 0..rows.len() {
            if r > 0 {
                text.push_str(", ");
            }
            text.push('(');
            for c in 0..width {
                if c > 0 {
                    text.push_str(", ");
                }
                text.push('?');
            }
            text.push(')');
        }
        let mut sql = Sql::new(text);
        for row in rows {
            for value in row {
                sql = sql.bind(value);
            }
        }
        sql
    }
}

/// One cell of a table file.
fn encode(value: &Value) -> String {
    match value {
        Value::I64(None)
        | Value::Text(None)
        | Value::Time(None)
        | Value::Bool(None)
        | Value::Date(None)
        | Value::F64(None) => NULL.to_owned(),
        Value::I64(Some(v)) => v.to_string(),
        Value::Text(Some(t)) if t.starts_with('\\') => format!("\\{t}"),
        Value::Text(Some(t)) => t.clone(),
        Value::Time(Some(t)) => t.to_rfc3339_opts(SecondsFormat::Micros, true),
        Value::Bool(Some(b)) => b.to_string(),
        Value::Date(Some(d)) => d.to_string(),
        Value::F64(Some(v)) => v.to_string(),
    }
}

/// One row as a line of `COPY ... (FORMAT csv, NULL '\N')`: a NULL is an unquoted `\N`, every
/// text is quoted with its quotes doubled (so an empty text, a text `\N`, commas and line breaks
/// all stay the text they were).
fn copy_line(row: &[Value], out: &mut Vec<u8>) {
    for (i, value) in row.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match value {
            Value::I64(None)
            | Value::Text(None)
            | Value::Time(None)
            | Value::Bool(None)
            | Value::Date(None)
            | Value::F64(None) => out.extend_from_slice(NULL.as_bytes()),
            Value::I64(Some(v)) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
            Value::Text(Some(t)) => {
                out.push(b'"');
                for part in t.split_inclusive('"') {
                    out.extend_from_slice(part.as_bytes());
                    if part.ends_with('"') {
                        out.push(b'"');
                    }
                }
                out.push(b'"');
            }
            Value::Time(Some(t)) => {
                out.extend_from_slice(t.to_rfc3339_opts(SecondsFormat::Micros, true).as_bytes())
            }
            Value::Bool(Some(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Date(Some(d)) => out.extend_from_slice(d.to_string().as_bytes()),
            Value::F64(Some(v)) => out.extend_from_slice(v.to_string().as_bytes()),
        }
    }
    out.push(b'\n');
}

/// A cell of a table file back to its value.
fn decode(cell: &str, kind: Kind, table: &'static str) -> Result<Value> {
    let corrupt = || Error::Corrupt {
        column: table,
        value: cell.to_owned(),
    };
    if cell == NULL {
        return Ok(match kind {
            Kind::I64 => Value::I64(None),
            Kind::Text => Value::Text(None),
            Kind::Time => Value::Time(None),
            Kind::Bool => Value::Bool(None),
            Kind::Date => Value::Date(None),
        });
    }
    Ok(match kind {
        Kind::I64 => Value::I64(Some(cell.parse().map_err(|_| corrupt())?)),
        Kind::Text => Value::Text(Some(cell.strip_prefix('\\').unwrap_or(cell).to_owned())),
        Kind::Time => Value::Time(Some(
            DateTime::parse_from_rfc3339(cell)
                .map_err(|_| corrupt())?
                .with_timezone(&Utc),
        )),
        Kind::Bool => Value::Bool(Some(match cell {
            "true" => true,
            "false" => false,
            _ => return Err(corrupt()),
        })),
        Kind::Date => Value::Date(Some(
            NaiveDate::parse_from_str(cell, "%Y-%m-%d").map_err(|_| corrupt())?,
        )),
    })
}

fn io_error(
    what: impl Into<String>,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> Error {
    Error::Export {
        what: what.into(),
        source: std::io::Error::other(e),
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Counts and hashes bytes on their way to a writer.
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

/// Starts a read of a consistent state: on PostgreSQL a repeatable-read snapshot; on SQLite the
/// transaction itself (which holds the write lock, so nothing changes under the read).
async fn consistent_read(storage: &Storage) -> Result<crate::db::Transaction> {
    let mut tx = storage.begin().await?;
    if tx.backend() == Backend::Postgres {
        tx.conn()
            .execute(
                Sql::new("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
                "starting a consistent read",
            )
            .await?;
    }
    Ok(tx)
}

async fn write_table<W: Write>(
    conn: &mut Conn<'_>,
    table: &Table,
    writer: W,
) -> Result<ExportedFile> {
    let name = table.file_name();
    let mut csv = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Hashing {
            inner: writer,
            hasher: Sha256::new(),
            bytes: 0,
        });
    csv.write_record(table.columns)
        .map_err(|e| io_error(&name, e))?;
    let mut rows = 0u64;
    let backend = conn.backend();
    let mut stream = conn.fetch_values(table.select(backend), table.kinds, "exporting a table");
    let mut cells: Vec<String> = Vec::with_capacity(table.columns.len());
    while let Some(row) = stream.try_next().await? {
        cells.clear();
        cells.extend(row.iter().map(encode));
        csv.write_record(&cells).map_err(|e| io_error(&name, e))?;
        rows += 1;
    }
    let hashing = csv
        .into_inner()
        .map_err(|e| io_error(&name, e.to_string()))?;
    Ok(ExportedFile {
        name,
        rows,
        bytes: hashing.bytes,
        sha256: hex(&hashing.hasher.finalize()),
    })
}

/// Refuses a target that already holds a census (only the built-in annotations may be there).
async fn ensure_empty(conn: &mut Conn<'_>) -> Result<()> {
    #[derive(sqlx::FromRow)]
    struct N {
        n: i64,
    }
    let n = conn
        .fetch_one::<N>(
            Sql::new(
                "SELECT (SELECT COUNT(*) FROM servers) + (SELECT COUNT(*) FROM crawl_runs) \
                 + (SELECT COUNT(*) FROM observations) + (SELECT COUNT(*) FROM annotations \
                 WHERE kind <> 'built_in') AS n",
            ),
            "checking that the target is empty",
        )
        .await?;
    if n.n > 0 {
        return Err(Error::InvalidQuery(
            "the target database already holds servers, runs, observations or operator \
             annotations; import and copy write only into a freshly created, empty database"
                .into(),
        ));
    }
    // The migrations insert the built-in annotations; the source's own rows (with their ids)
    // replace them.
    conn.execute(
        Sql::new("DELETE FROM annotations"),
        "clearing the built-in annotations",
    )
    .await?;
    Ok(())
}

/// After explicit ids, PostgreSQL's identity sequences must continue past them.
async fn reset_sequences(conn: &mut Conn<'_>) -> Result<()> {
    if conn.backend() != Backend::Postgres {
        return Ok(());
    }
    for table in TABLES.iter().filter(|t| t.identity) {
        conn.execute(
            Sql::new(format!(
                "SELECT setval(pg_get_serial_sequence('{0}', 'id'), \
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM {0}), false)",
                table.name
            )),
            "moving an id sequence past the imported ids",
        )
        .await?;
    }
    Ok(())
}

/// An index a bulk load drops and builds again: its name and the statement that builds it.
#[derive(sqlx::FromRow)]
struct PlainIndex {
    name: String,
    definition: String,
}

/// Drops `table`'s plain indexes (those no primary key or unique constraint owns) and returns
/// how to build them again. Constraint indexes stay: they are what makes a duplicate row fail.
async fn drop_plain_indexes(conn: &mut Conn<'_>, table: &Table) -> Result<Vec<PlainIndex>> {
    let sql = match conn.backend() {
        // An index SQLite makes for a constraint has no SQL text.
        Backend::Sqlite => {
            "SELECT name, sql AS definition FROM sqlite_master WHERE type = 'index' \
             AND tbl_name = $1 AND sql IS NOT NULL ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT i.relname::text AS name, pg_get_indexdef(i.oid) AS definition \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             WHERE x.indrelid = to_regclass($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
             WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid) ORDER BY 1"
        }
    };
    let indexes = conn
        .fetch_all::<PlainIndex>(
            Sql::new(sql).bind(table.name),
            "reading a table's indexes before a bulk load",
        )
        .await?;
    for index in &indexes {
        conn.execute(
            Sql::new(format!(
                "DROP INDEX \"{}\"",
                index.name.replace('"', "\"\"")
            )),
            "dropping an index before a bulk load",
        )
        .await?;
    }
    Ok(indexes)
}

/// Builds again the indexes [`drop_plain_indexes`] dropped, exactly as they were defined.
async fn build_indexes(conn: &mut Conn<'_>, indexes: Vec<PlainIndex>) -> Result<()> {
    for index in indexes {
        conn.execute(
            Sql::new(index.definition),
            "building an index after a bulk load",
        )
        .await?;
    }
    Ok(())
}

/// Loads one table's rows in batches as they come: its plain indexes dropped on creation and
/// built again by [`Inserter::finish`].
struct Inserter<'t> {
    table: &'t Table,
    batch: Vec<Vec<Value>>,
    batch_rows: usize,
    rows: u64,
    indexes: Vec<PlainIndex>,
}

impl<'t> Inserter<'t> {
    async fn new(conn: &mut Conn<'_>, table: &'t Table) -> Result<Inserter<'t>> {
        let batch_rows = table.batch_rows(conn.backend());
        let indexes = drop_plain_indexes(conn, table).await?;
        Ok(Inserter {
            table,
            batch: Vec::with_capacity(batch_rows),
            batch_rows,
            rows: 0,
            indexes,
        })
    }

    async fn push(&mut self, conn: &mut Conn<'_>, row: Vec<Value>) -> Result<()> {
        self.batch.push(row);
        self.rows += 1;
        if self.batch.len() >= self.batch_rows {
            self.flush(conn).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, conn: &mut Conn<'_>) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.batch);
        match conn {
            Conn::Sqlite(_) => {
                conn.execute(self.table.insert(rows), "importing rows")
                    .await?;
            }
            Conn::Postgres(c) => {
                let mut data = Vec::with_capacity(rows.len() * 16 * self.table.columns.len());
                for row in &rows {
                    copy_line(row, &mut data);
                }
                let mut copy = c
                    .copy_in_raw(&self.table.copy_statement())
                    .await
                    .context("starting a COPY of imported rows")?;
                copy.send(data)
                    .await
                    .context("sending imported rows to COPY")?;
                copy.finish()
                    .await
                    .context("finishing a COPY of imported rows")?;
            }
        }
        self.batch = Vec::with_capacity(self.batch_rows);
        Ok(())
    }

    /// Writes the last rows and builds the table's indexes again; returns the rows loaded.
    async fn finish(mut self, conn: &mut Conn<'_>) -> Result<u64> {
        self.flush(conn).await?;
        build_indexes(conn, self.indexes).await?;
        Ok(self.rows)
    }
}

/// What an import or a copy moved: rows per table, in insertion order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub tables: Vec<(String, u64)>,
}

impl Moved {
    /// Every row moved.
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

impl Storage {
    /// Names of the table files [`Storage::export_tables`] writes, in import order.
    pub fn table_files() -> Vec<String> {
        TABLES.iter().map(Table::file_name).collect()
    }

    /// Writes every table as `table-NAME.csv` plus [`MANIFEST_FILE`] into `dir` (created if
    /// missing), from one consistent read, and returns the manifest.
    pub async fn export_tables(&self, dir: &Path) -> Result<Manifest> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Export {
            what: dir.display().to_string(),
            source: e,
        })?;
        let mut tx = consistent_read(self).await?;
        let mut files = Vec::new();
        for table in TABLES {
            let path = dir.join(table.file_name());
            let file = std::fs::File::create(&path).map_err(|e| Error::Export {
                what: path.display().to_string(),
                source: e,
            })?;
            let mut writer = std::io::BufWriter::with_capacity(1 << 16, file);
            let entry = write_table(&mut tx.conn(), table, &mut writer).await?;
            writer.flush().map_err(|e| Error::Export {
                what: path.display().to_string(),
                source: e,
            })?;
            files.push(entry);
        }
        tx.rollback().await?;
        let manifest = Manifest {
            fedicensus_version: FEDICENSUS_VERSION.into(),
            methodology_version: METHODOLOGY_VERSION.into(),
            generated_at: Utc::now().to_rfc3339_opts(SecondsFormat::AutoSi, true),
            from: None,
            to: None,
            files,
            // The table files hold the downsamplings themselves, and every server (these
            // files are the whole database, for `import` and `copy`).
            downsampled: Vec::new(),
            unlisted: None,
        };
        let path = dir.join(MANIFEST_FILE);
        std::fs::write(&path, manifest.to_json()).map_err(|e| Error::Export {
            what: path.display().to_string(),
            source: e,
        })?;
        Ok(manifest)
    }

    /// Reads a directory written by [`Storage::export_tables`] into this database, which must be
    /// empty (freshly migrated). Every file's size and SHA-256 are checked against the manifest
    /// before any row is read; all rows go in one transaction.
    pub async fn import_tables(&self, dir: &Path) -> Result<Moved> {
        let read_error = |path: &Path, e: std::io::Error| Error::Export {
            what: path.display().to_string(),
            source: e,
        };
        let manifest_path = dir.join(MANIFEST_FILE);
        let text =
            std::fs::read_to_string(&manifest_path).map_err(|e| read_error(&manifest_path, e))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| io_error(manifest_path.display().to_string(), e))?;
        let mut entries = Vec::new();
        for table in TABLES {
            let name = table.file_name();
            let Some(entry) = manifest.files.iter().find(|f| f.name == name) else {
                if TABLES_ADDED_LATER.contains(&table.name) {
                    continue;
                }
                return Err(io_error(
                    manifest_path.display().to_string(),
                    format!("the manifest does not list {name}"),
                ));
            };
            let path = dir.join(&name);
            let mut file = std::fs::File::open(&path).map_err(|e| read_error(&path, e))?;
            let mut hasher = Sha256::new();
            let mut buffer = vec![0u8; 1 << 16];
            let mut bytes = 0u64;
            loop {
                let n = file.read(&mut buffer).map_err(|e| read_error(&path, e))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
                bytes += n as u64;
            }
            let sha256 = hex(&hasher.finalize());
            if sha256 != entry.sha256 || bytes != entry.bytes {
                return Err(io_error(
                    path.display().to_string(),
                    format!(
                        "does not match the manifest (SHA-256 {sha256}, {bytes} bytes; the \
                         manifest says {}, {} bytes): refusing to import a changed or \
                         truncated file",
                        entry.sha256, entry.bytes
                    ),
                ));
            }
            entries.push((table, path, entry.rows));
        }

        let mut tx = self.begin().await?;
        ensure_empty(&mut tx.conn()).await?;
        let mut moved = Vec::new();
        for (table, path, expected) in entries {
            let file = std::fs::File::open(&path).map_err(|e| read_error(&path, e))?;
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .from_reader(std::io::BufReader::with_capacity(1 << 16, file));
            let header = reader
                .headers()
                .map_err(|e| io_error(path.display().to_string(), e))?
                .clone();
            let oldest = table.columns.len() - table.added_later;
            if header.len() < oldest
                || header.len() > table.columns.len()
                || header
                    .iter()
                    .ne(table.columns[..header.len()].iter().copied())
            {
                return Err(io_error(
                    path.display().to_string(),
                    format!(
                        "has columns {:?}, expected {:?}",
                        header.iter().collect::<Vec<_>>(),
                        table.columns
                    ),
                ));
            }
            let mut inserter = Inserter::new(&mut tx.conn(), table).await?;
            let mut record = csv::StringRecord::new();
            while reader
                .read_record(&mut record)
                .map_err(|e| io_error(path.display().to_string(), e))?
            {
                // Columns a file from before a later migration lacks are NULL.
                let row = record
                    .iter()
                    .chain(std::iter::repeat(NULL))
                    .zip(table.kinds)
                    .map(|(cell, kind)| decode(cell, *kind, table.name))
                    .collect::<Result<Vec<Value>>>()?;
                inserter.push(&mut tx.conn(), row).await?;
            }
            let rows = inserter.finish(&mut tx.conn()).await?;
            if rows != expected {
                return Err(io_error(
                    path.display().to_string(),
                    format!("has {rows} rows, the manifest says {expected}"),
                ));
            }
            moved.push((table.name.to_owned(), rows));
        }
        reset_sequences(&mut tx.conn()).await?;
        tx.commit().await?;
        self.analyze().await?;
        Ok(Moved { tables: moved })
    }

    /// Copies every row of every table from this database into `target`, which must be empty
    /// (freshly migrated), streaming each table in key order. The target is written in one
    /// transaction, so a failed copy leaves it empty; this database is read from one consistent
    /// state. Memory stays constant whatever the size.
    pub async fn copy_to(&self, target: &Storage) -> Result<Moved> {
        self.copy_to_reporting(target, |_, _| {}).await
    }

    /// [`Storage::copy_to`], calling `progress` with a table's name and the rows copied of it so
    /// far after each batch (a copy of a large census takes minutes).
    pub async fn copy_to_reporting(
        &self,
        target: &Storage,
        mut progress: impl FnMut(&str, u64) + Send,
    ) -> Result<Moved> {
        let mut source = consistent_read(self).await?;
        let mut tx = target.begin().await?;
        ensure_empty(&mut tx.conn()).await?;
        let mut moved = Vec::new();
        for table in TABLES {
            let mut inserter = Inserter::new(&mut tx.conn(), table).await?;
            let mut conn = source.conn();
            let backend = conn.backend();
            let mut rows = conn.fetch_values(table.select(backend), table.kinds, "copying a table");
            while let Some(row) = rows.try_next().await? {
                inserter.push(&mut tx.conn(), row).await?;
                if inserter.rows.is_multiple_of(10_000) {
                    progress(table.name, inserter.rows);
                }
            }
            let rows = inserter.finish(&mut tx.conn()).await?;
            progress(table.name, rows);
            moved.push((table.name.to_owned(), rows));
        }
        reset_sequences(&mut tx.conn()).await?;
        tx.commit().await?;
        source.rollback().await?;
        target.analyze().await?;
        Ok(Moved { tables: moved })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_backslashes_survive_a_cell() {
        for value in [
            None,
            Some(""),
            Some("\\N"),
            Some("\\"),
            Some("a\\b"),
            Some("plain"),
        ] {
            let cell = encode(&Value::Text(value.map(str::to_owned)));
            match decode(&cell, Kind::Text, "t") {
                Ok(Value::Text(back)) => assert_eq!(back.as_deref(), value, "cell {cell:?}"),
                other => panic!("decoded {other:?}"),
            }
        }
    }

    #[test]
    fn every_table_fits_a_batch_in_the_parameter_limit() {
        for t in TABLES {
            assert_eq!(t.columns.len(), t.kinds.len(), "{}", t.name);
            assert!(t.batch_rows(Backend::Sqlite) * t.columns.len() <= 32_766);
        }
    }
}
