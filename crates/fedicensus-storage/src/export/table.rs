//! The one description of an export's columns and rows that every file format writes.
//!
//! Each export says once what its columns are ([`Column`]: a name, a [`Kind`], whether it can be
//! empty) and hands each row to a [`TableSink`] as typed [`Cell`]s; the CSV writer turns them into
//! text, the Parquet writer into typed columns. A new column or a new format is one change in one
//! place, and the two formats cannot drift apart.

use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use std::io::Write;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A whole number (Parquet INT64).
    Integer,
    /// A real number (Parquet DOUBLE).
    Float,
    /// `true` or `false` (Parquet BOOLEAN).
    Boolean,
    /// An instant, ISO 8601 UTC in CSV (Parquet INT64 TIMESTAMP(MICROS, adjusted to UTC)).
    Instant,
    /// A calendar date, YYYY-MM-DD in CSV (Parquet INT32 DATE).
    Date,
    /// Text of our own making: names of metrics, outcomes, statuses (Parquet BYTE_ARRAY STRING).
    Text,
    /// Text that came from a crawled server. CSV neutralises it against formula injection;
    /// Parquet stores it as it came (a spreadsheet never opens Parquet).
    ServerText,
}

/// One column of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Column {
    /// The CSV header and the Parquet field name (the same in both).
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    /// Whether the column can be empty (a Parquet OPTIONAL field, null where CSV is empty).
    pub(crate) nullable: bool,
}

/// A column that always has a value.
pub(crate) const fn required(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: false,
    }
}

/// A column that can be empty ("not reported" is not zero).
pub(crate) const fn nullable(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: true,
    }
}

/// One value of a row, of its column's [`Kind`] (`Text` for both kinds of text).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Instant(DateTime<Utc>),
    Date(NaiveDate),
    Text(&'a str),
}

impl Cell<'_> {
    /// A count read back from the database as `i64` (never negative; see `db::count_of`).
    pub(crate) fn count(v: i64) -> Cell<'static> {
        Cell::Integer(v.max(0))
    }

    /// A count held as `u64` (stored as `i64`, so it fits).
    pub(crate) fn unsigned(v: u64) -> Cell<'static> {
        Cell::Integer(i64::try_from(v).unwrap_or(i64::MAX))
    }

    /// `Null` for `None`.
    pub(crate) fn or_null<'a, T>(v: Option<T>, cell: impl FnOnce(T) -> Cell<'a>) -> Cell<'a> {
        v.map_or(Cell::Null, cell)
    }

    /// Whether the cell can go in a column of `column`'s kind and nullability.
    pub(crate) fn fits(&self, column: &Column) -> bool {
        match (self, column.kind) {
            (Cell::Null, _) => column.nullable,
            (Cell::Integer(_), Kind::Integer)
            | (Cell::Float(_), Kind::Float)
            | (Cell::Boolean(_), Kind::Boolean)
            | (Cell::Instant(_), Kind::Instant)
            | (Cell::Date(_), Kind::Date)
            | (Cell::Text(_), Kind::Text | Kind::ServerText) => true,
            _ => false,
        }
    }
}

/// Where an export's rows go: a CSV or a Parquet file being written.
pub(crate) trait TableSink {
    /// Writes one row: one cell per column, in the columns' order.
    fn row(&mut self, cells: &[Cell<'_>]) -> Result<()>;
}

/// The error for a row that does not match its export's columns: a bug in the export, reported
/// rather than written as a wrong file.
pub(crate) fn mismatch(file: &str, columns: &[Column], cells: &[Cell<'_>]) -> Option<Error> {
    if cells.len() != columns.len() {
        return Some(Error::Export {
            what: file.to_owned(),
            source: std::io::Error::other(format!(
                "a row of {} cells for {} columns",
                cells.len(),
                columns.len()
            )),
        });
    }
    let (column, cell) = columns
        .iter()
        .zip(cells)
        .find(|(column, cell)| !cell.fits(column))?;
    Some(Error::Export {
        what: file.to_owned(),
        source: std::io::Error::other(format!(
            "{cell:?} does not fit the column {} ({:?}{})",
            column.name,
            column.kind,
            if column.nullable { ", nullable" } else { "" }
        )),
    })
}

/// Counts and hashes the bytes on their way to the caller's writer, so the manifest's size and
/// SHA-256 are those of the bytes written, whatever the format.
#[derive(Debug)]
pub(crate) struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    pub(crate) fn new(inner: W) -> Hashing<W> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The number of bytes written and their SHA-256, lowercase hex.
    pub(crate) fn finish(self) -> (u64, String) {
        let digest = self.hasher.finalize();
        (
            self.bytes,
            digest.iter().map(|b| format!("{b:02x}")).collect(),
        )
    }
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
