//! The Parquet writer of exports: typed columns, nulls where CSV is empty, Snappy-compressed,
//! in row groups of a bounded size so that memory stays constant however large the export.
//!
//! Rows arrive one by one (the same [`Cell`]s the CSV writer gets) and are buffered column by
//! column; every [`ROW_GROUP_ROWS`] rows (or sooner, when the buffered text reaches
//! [`ROW_GROUP_TEXT_BYTES`]) the buffers are written out as one row group and emptied. Only the
//! low-level column writer of the `parquet` crate is used: no Arrow, whose build would cost more
//! than the rest of this crate.

use super::table::{mismatch, Cell, Column, Hashing, Kind, TableSink};
use crate::error::{Error, Result};
use crate::export::{ExportedFile, FEDICENSUS_VERSION};
use crate::methodology::METHODOLOGY_VERSION;
use bytes::Bytes;
use chrono::NaiveDate;
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use std::io::Write;
use std::sync::Arc;

/// Rows per row group: large enough for good compression and fast scans, small enough that a
/// row group of the widest export (observations, 16 columns) stays within a few tens of MB.
pub(crate) const ROW_GROUP_ROWS: usize = 65_536;

/// A row group is written early once its text reaches this many bytes, so that unusually long
/// text (a server's version string is whatever it says) cannot grow the buffers without bound.
pub(crate) const ROW_GROUP_TEXT_BYTES: usize = 32 << 20;

/// The values of one column buffered for the current row group (nulls are only levels).
#[derive(Debug)]
enum Values {
    Int64(Vec<i64>),
    Int32(Vec<i32>),
    Boolean(Vec<bool>),
    Double(Vec<f64>),
    /// All the texts end to end, and where each one ends: one allocation per row group, not per
    /// cell; the row group's `ByteArray`s are slices of it.
    Text {
        bytes: Vec<u8>,
        ends: Vec<usize>,
    },
}

#[derive(Debug)]
struct Buffer {
    values: Values,
    /// Definition levels (1 present, 0 null), kept for nullable columns only.
    levels: Vec<i16>,
    nullable: bool,
}

impl Buffer {
    fn new(column: &Column) -> Buffer {
        Buffer {
            values: match column.kind {
                Kind::Integer | Kind::Instant => Values::Int64(Vec::new()),
                Kind::Date => Values::Int32(Vec::new()),
                Kind::Boolean => Values::Boolean(Vec::new()),
                Kind::Float => Values::Double(Vec::new()),
                Kind::Text | Kind::ServerText => Values::Text {
                    bytes: Vec::new(),
                    ends: Vec::new(),
                },
            },
            levels: Vec::new(),
            nullable: column.nullable,
        }
    }

    fn clear(&mut self) {
        self.levels.clear();
        match &mut self.values {
            Values::Int64(v) => v.clear(),
            Values::Int32(v) => v.clear(),
            Values::Boolean(v) => v.clear(),
            Values::Double(v) => v.clear(),
            Values::Text { bytes, ends } => {
                bytes.clear();
                ends.clear();
            }
        }
    }
}

/// The Parquet field of a column: its physical and logical type, OPTIONAL when it can be empty.
fn field(column: &Column) -> std::result::Result<Arc<Type>, ParquetError> {
    let (physical, logical) = match column.kind {
        Kind::Integer => (PhysicalType::INT64, None),
        Kind::Float => (PhysicalType::DOUBLE, None),
        Kind::Boolean => (PhysicalType::BOOLEAN, None),
        Kind::Instant => (
            PhysicalType::INT64,
            Some(LogicalType::timestamp(true, TimeUnit::MICROS)),
        ),
        Kind::Date => (PhysicalType::INT32, Some(LogicalType::Date)),
        Kind::Text | Kind::ServerText => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
    };
    let repetition = if column.nullable {
        Repetition::OPTIONAL
    } else {
        Repetition::REQUIRED
    };
    Ok(Arc::new(
        Type::primitive_type_builder(column.name, physical)
            .with_repetition(repetition)
            .with_logical_type(logical)
            .build()?,
    ))
}

/// Days since 1970-01-01, Parquet's DATE.
fn epoch_days(date: NaiveDate) -> i32 {
    let days = date.signed_duration_since(NaiveDate::default()).num_days();
    // chrono's dates span about ±262,000 years: always within i32 days.
    i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX })
}

fn failed(name: &str, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::Export {
        what: name.to_owned(),
        source: std::io::Error::other(e),
    }
}

/// One export being written as Parquet.
pub(crate) struct ParquetOut<W: Write + Send> {
    writer: SerializedFileWriter<Hashing<W>>,
    columns: &'static [Column],
    buffers: Vec<Buffer>,
    /// Rows in the buffers, and the text bytes among them.
    buffered: usize,
    text_bytes: usize,
    row_group_rows: usize,
    rows: u64,
    name: String,
}

impl<W: Write + Send> ParquetOut<W> {
    /// Starts the file `name` with the schema of `columns`, in row groups of `row_group_rows`.
    pub(crate) fn new(
        name: String,
        columns: &'static [Column],
        writer: W,
        row_group_rows: usize,
    ) -> Result<ParquetOut<W>> {
        let fields = columns
            .iter()
            .map(field)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| failed(&name, e))?;
        let schema = Type::group_type_builder("fedicensus_export")
            .with_fields(fields)
            .build()
            .map_err(|e| failed(&name, e))?;
        // No timestamp goes into the file: the same data gives the same bytes and hash.
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_key_value_metadata(Some(vec![
                KeyValue::new(
                    "fedicensus_version".to_owned(),
                    FEDICENSUS_VERSION.to_owned(),
                ),
                KeyValue::new(
                    "methodology_version".to_owned(),
                    METHODOLOGY_VERSION.to_owned(),
                ),
            ]))
            .build();
        let writer =
            SerializedFileWriter::new(Hashing::new(writer), Arc::new(schema), Arc::new(properties))
                .map_err(|e| failed(&name, e))?;
        Ok(ParquetOut {
            writer,
            columns,
            buffers: columns.iter().map(Buffer::new).collect(),
            buffered: 0,
            text_bytes: 0,
            row_group_rows: row_group_rows.max(1),
            rows: 0,
            name,
        })
    }

    /// Writes the buffered rows as one row group and empties the buffers.
    fn flush(&mut self) -> Result<()> {
        if self.buffered == 0 {
            return Ok(());
        }
        let name = &self.name;
        let mut group = self.writer.next_row_group().map_err(|e| failed(name, e))?;
        for buffer in &mut self.buffers {
            let mut column = group
                .next_column()
                .map_err(|e| failed(name, e))?
                .ok_or_else(|| failed(name, "the schema has fewer columns than the rows"))?;
            let levels = buffer.nullable.then_some(&buffer.levels[..]);
            let written = match &mut buffer.values {
                Values::Int64(v) => column.typed::<Int64Type>().write_batch(v, levels, None),
                Values::Int32(v) => column.typed::<Int32Type>().write_batch(v, levels, None),
                Values::Boolean(v) => column.typed::<BoolType>().write_batch(v, levels, None),
                Values::Double(v) => column.typed::<DoubleType>().write_batch(v, levels, None),
                Values::Text { bytes, ends } => {
                    let all = Bytes::from(std::mem::take(bytes));
                    let mut start = 0;
                    let texts: Vec<ByteArray> = ends
                        .iter()
                        .map(|&end| {
                            let text = ByteArray::from(all.slice(start..end));
                            start = end;
                            text
                        })
                        .collect();
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&texts, levels, None)
                }
            };
            written.map_err(|e| failed(name, e))?;
            column.close().map_err(|e| failed(name, e))?;
            buffer.clear();
        }
        group.close().map_err(|e| failed(name, e))?;
        self.buffered = 0;
        self.text_bytes = 0;
        Ok(())
    }

    /// Writes the last row group and the footer, and gives the file's manifest entry.
    pub(crate) fn finish(mut self) -> Result<ExportedFile> {
        self.flush()?;
        let name = self.name;
        let mut hashing = self.writer.into_inner().map_err(|e| failed(&name, e))?;
        hashing.flush().map_err(|e| failed(&name, e))?;
        let (bytes, sha256) = hashing.finish();
        Ok(ExportedFile {
            name,
            rows: self.rows,
            bytes,
            sha256,
        })
    }
}

impl<W: Write + Send> TableSink for ParquetOut<W> {
    fn row(&mut self, cells: &[Cell<'_>]) -> Result<()> {
        if let Some(e) = mismatch(&self.name, self.columns, cells) {
            return Err(e);
        }
        for (buffer, cell) in self.buffers.iter_mut().zip(cells) {
            match (*cell, &mut buffer.values) {
                (Cell::Null, _) => {
                    buffer.levels.push(0);
                    continue;
                }
                (Cell::Integer(v), Values::Int64(values)) => values.push(v),
                (Cell::Instant(t), Values::Int64(values)) => values.push(t.timestamp_micros()),
                (Cell::Date(d), Values::Int32(values)) => values.push(epoch_days(d)),
                (Cell::Boolean(v), Values::Boolean(values)) => values.push(v),
                (Cell::Float(v), Values::Double(values)) => values.push(v),
                (Cell::Text(text), Values::Text { bytes, ends }) => {
                    bytes.extend_from_slice(text.as_bytes());
                    ends.push(bytes.len());
                    self.text_bytes += text.len();
                }
                (cell, _) => {
                    // `mismatch` has checked every cell against its column: not reached.
                    return Err(failed(
                        &self.name,
                        format!("{cell:?} does not fit its column"),
                    ));
                }
            }
            if buffer.nullable {
                buffer.levels.push(1);
            }
        }
        self.rows += 1;
        self.buffered += 1;
        if self.buffered >= self.row_group_rows || self.text_bytes >= ROW_GROUP_TEXT_BYTES {
            self.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::table::{nullable, required};
    use chrono::{DateTime, TimeZone, Utc};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    const COLUMNS: &[Column] = &[
        required("n", Kind::Integer),
        nullable("maybe", Kind::Integer),
        required("at", Kind::Instant),
        nullable("day", Kind::Date),
        nullable("text", Kind::ServerText),
        nullable("up", Kind::Boolean),
        nullable("share", Kind::Float),
    ];

    fn instant(i: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 11, 27, 12, 0, 0)
            .single()
            .expect("a valid instant")
            + chrono::Duration::microseconds(i)
    }

    fn write(rows: i64, row_group_rows: usize) -> (Vec<u8>, ExportedFile) {
        let mut buffer = Vec::new();
        let mut out = ParquetOut::new("t.parquet".into(), COLUMNS, &mut buffer, row_group_rows)
            .expect("a writer");
        for i in 0..rows {
            let text = format!("=host{i}");
            let odd = i % 2 == 1;
            out.row(&[
                Cell::Integer(i),
                if odd { Cell::Null } else { Cell::Integer(-i) },
                Cell::Instant(instant(i)),
                if odd {
                    Cell::Null
                } else {
                    Cell::Date(NaiveDate::from_ymd_opt(1970, 1, 2).expect("a date"))
                },
                if odd { Cell::Null } else { Cell::Text(&text) },
                Cell::Boolean(odd),
                if odd { Cell::Null } else { Cell::Float(0.5) },
            ])
            .expect("a row");
        }
        let file = out.finish().expect("finished");
        (buffer, file)
    }

    #[test]
    fn rows_come_back_typed_with_nulls_in_bounded_row_groups() {
        let (buffer, file) = write(10, 3);
        assert_eq!(file.rows, 10);
        assert_eq!(file.bytes, buffer.len() as u64);
        let reader = SerializedFileReader::new(Bytes::from(buffer)).expect("a Parquet file");
        assert_eq!(reader.metadata().num_row_groups(), 4, "3 + 3 + 3 + 1 rows");
        let rows: Vec<_> = reader
            .get_row_iter(None)
            .expect("rows")
            .collect::<std::result::Result<_, _>>()
            .expect("readable rows");
        assert_eq!(rows.len(), 10);
        let fields = |i: usize| -> Vec<Field> {
            rows[i].get_column_iter().map(|(_, f)| f.clone()).collect()
        };
        assert_eq!(
            fields(2),
            [
                Field::Long(2),
                Field::Long(-2),
                Field::TimestampMicros(instant(2).timestamp_micros()),
                Field::Date(1),
                Field::Str("=host2".into()),
                Field::Bool(false),
                Field::Double(0.5),
            ]
        );
        assert_eq!(
            fields(3),
            [
                Field::Long(3),
                Field::Null,
                Field::TimestampMicros(instant(3).timestamp_micros()),
                Field::Null,
                Field::Null,
                Field::Bool(true),
                Field::Null,
            ]
        );
    }

    #[test]
    fn a_large_export_is_cut_into_row_groups_of_the_default_size() {
        let rows = 2 * ROW_GROUP_ROWS as i64 + 5;
        let (buffer, file) = write(rows, ROW_GROUP_ROWS);
        assert_eq!(file.rows, rows as u64);
        let reader = SerializedFileReader::new(Bytes::from(buffer)).expect("a Parquet file");
        let groups: Vec<i64> = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, [ROW_GROUP_ROWS as i64, ROW_GROUP_ROWS as i64, 5]);
    }

    #[test]
    fn an_empty_export_is_a_valid_file_with_its_schema() {
        let (buffer, file) = write(0, 3);
        assert_eq!(file.rows, 0);
        let reader = SerializedFileReader::new(Bytes::from(buffer)).expect("a Parquet file");
        assert_eq!(reader.metadata().file_metadata().num_rows(), 0);
        assert_eq!(
            reader
                .metadata()
                .file_metadata()
                .schema_descr()
                .num_columns(),
            7
        );
    }

    #[test]
    fn the_same_rows_give_the_same_bytes() {
        assert_eq!(write(5, 2).1.sha256, write(5, 2).1.sha256);
    }

    #[test]
    fn dates_count_days_from_1970() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        assert_eq!(epoch_days(d(1970, 1, 1)), 0);
        assert_eq!(epoch_days(d(2022, 11, 27)), 19_323);
        assert_eq!(epoch_days(d(1969, 12, 31)), -1);
    }
}
