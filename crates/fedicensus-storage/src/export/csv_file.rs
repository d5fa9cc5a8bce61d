//! The CSV writer of exports: RFC 4180 (CRLF), ISO 8601 UTC instants, empty cells for nulls, and
//! text from crawled servers neutralised against spreadsheet formula injection.

use super::iso;
use super::table::{mismatch, Cell, Column, Hashing, Kind, TableSink};
use crate::error::{Error, Result};
use crate::export::ExportedFile;
use chrono::{DateTime, Datelike, Timelike, Utc};
use std::io::Write;

/// Whether text from a crawled server would start a formula in a spreadsheet.
pub(crate) fn needs_neutralising(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Appends what [`iso`] gives for `t`, without allocating: an export writes millions of these.
fn write_iso(out: &mut Vec<u8>, t: DateTime<Utc>) {
    let nanos = t.timestamp_subsec_nanos();
    let year = t.year();
    if nanos >= 1_000_000_000 || !(0..=9999).contains(&year) {
        out.extend_from_slice(iso(t).as_bytes());
        return;
    }
    // Digits pushed by hand: the formatting machinery was a tenth of a large export's time.
    push_digits(out, year as u32, 4);
    out.push(b'-');
    push_digits(out, t.month(), 2);
    out.push(b'-');
    push_digits(out, t.day(), 2);
    out.push(b'T');
    push_digits(out, t.hour(), 2);
    out.push(b':');
    push_digits(out, t.minute(), 2);
    out.push(b':');
    push_digits(out, t.second(), 2);
    if nanos == 0 {
    } else if nanos.is_multiple_of(1_000_000) {
        out.push(b'.');
        push_digits(out, nanos / 1_000_000, 3);
    } else if nanos.is_multiple_of(1_000) {
        out.push(b'.');
        push_digits(out, nanos / 1_000, 6);
    } else {
        out.push(b'.');
        push_digits(out, nanos, 9);
    }
    out.push(b'Z');
}

/// `value` in decimal, zero-padded to `width` digits (`value` has at most `width` digits).
fn push_digits(out: &mut Vec<u8>, value: u32, width: u32) {
    let mut divisor = 10u32.pow(width - 1);
    while divisor > 0 {
        out.push(b'0' + (value / divisor % 10) as u8);
        divisor /= 10;
    }
}

pub(crate) struct CsvOut<W: Write> {
    writer: csv::Writer<Hashing<W>>,
    columns: &'static [Column],
    rows: u64,
    name: String,
    /// Reused for formatting one cell, so writing a row allocates nothing.
    cell: Vec<u8>,
}

impl<W: Write> CsvOut<W> {
    /// Starts the file `name` with the header of `columns`.
    pub(crate) fn new(name: String, columns: &'static [Column], writer: W) -> Result<CsvOut<W>> {
        let mut out = CsvOut {
            writer: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Hashing::new(writer)),
            columns,
            rows: 0,
            name,
            cell: Vec::with_capacity(64),
        };
        out.writer
            .write_record(columns.iter().map(|c| c.name))
            .map_err(|e| out.io_error(e))?;
        Ok(out)
    }

    fn io_error(&self, e: csv::Error) -> Error {
        Error::Export {
            what: self.name.clone(),
            source: std::io::Error::other(e),
        }
    }

    /// Flushes the file and gives its manifest entry.
    pub(crate) fn finish(self) -> Result<ExportedFile> {
        let name = self.name;
        let hashing = self.writer.into_inner().map_err(|e| Error::Export {
            what: name.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let (bytes, sha256) = hashing.finish();
        Ok(ExportedFile {
            name,
            rows: self.rows,
            bytes,
            sha256,
        })
    }
}

impl<W: Write> TableSink for CsvOut<W> {
    fn row(&mut self, cells: &[Cell<'_>]) -> Result<()> {
        if let Some(e) = mismatch(&self.name, self.columns, cells) {
            return Err(e);
        }
        for (column, cell) in self.columns.iter().zip(cells) {
            self.cell.clear();
            match *cell {
                Cell::Null => {}
                Cell::Integer(v) => self
                    .cell
                    .extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
                Cell::Float(v) => write!(self.cell, "{v}").expect("writing to a Vec cannot fail"),
                Cell::Boolean(v) => {
                    self.cell
                        .extend_from_slice(if v { b"true" } else { b"false" });
                }
                Cell::Instant(t) => write_iso(&mut self.cell, t),
                Cell::Date(d) => write!(self.cell, "{d}").expect("writing to a Vec cannot fail"),
                Cell::Text(text) => {
                    if column.kind == Kind::ServerText && needs_neutralising(text) {
                        self.cell.push(b'\'');
                    }
                    self.cell.extend_from_slice(text.as_bytes());
                }
            }
            if let Err(e) = self.writer.write_field(&self.cell) {
                return Err(self.io_error(e));
            }
        }
        self.writer
            .write_record(None::<&[u8]>)
            .map_err(|e| self.io_error(e))?;
        self.rows += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::table::{nullable, required};
    use chrono::TimeZone;

    /// Text from a crawled server, made safe to open in a spreadsheet.
    fn neutralise(text: &str) -> String {
        if needs_neutralising(text) {
            format!("'{text}")
        } else {
            text.to_owned()
        }
    }

    #[test]
    fn formula_like_cells_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("-1+2"), "'-1+2");
        assert_eq!(neutralise("mastodon"), "mastodon");
    }

    #[test]
    fn only_text_from_servers_is_neutralised_and_nulls_are_empty() {
        const COLUMNS: &[Column] = &[
            required("ours", Kind::Text),
            required("theirs", Kind::ServerText),
            nullable("n", Kind::Integer),
            nullable("up", Kind::Boolean),
        ];
        let mut buffer = Vec::new();
        let mut out = CsvOut::new("t.csv".into(), COLUMNS, &mut buffer).expect("a header");
        out.row(&[
            Cell::Text("-x"),
            Cell::Text("=1+1"),
            Cell::Null,
            Cell::Boolean(true),
        ])
        .expect("a row");
        assert!(
            out.row(&[Cell::Null; 4]).is_err(),
            "null in a required column"
        );
        assert!(out.row(&[Cell::Text("x")]).is_err(), "too few cells");
        let file = out.finish().expect("finished");
        assert_eq!(file.rows, 1);
        assert_eq!(
            String::from_utf8(buffer).expect("UTF-8"),
            "ours,theirs,n,up\r\n-x,'=1+1,,true\r\n"
        );
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
}
