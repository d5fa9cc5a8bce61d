//! Parquet exports: each export read back with the `parquet` crate's own reader holds the same
//! rows and values as its CSV (nulls where CSV is empty, typed columns of the same names), leaves
//! out the same unlisted servers, and is listed in the manifest with its true rows and SHA-256.

use crate::support::*;
use bytes::Bytes;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat};
use fedicensus_core::Software;
use fedicensus_storage::{
    Export, ExportFormat, Granularity, Manifest, SeriesMetric, SeriesQuery, Storage,
};
use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use sha2::{Digest, Sha256};

crate::conformance!(
    every_export_in_parquet_holds_the_rows_and_typed_values_of_its_csv,
    a_parquet_export_leaves_unlisted_servers_out_and_keeps_server_text_raw,
);

/// Two listable servers (one also failed a visit: a row of nulls), one private and one noindex,
/// with activity and peer edges between all of them.
async fn fill(s: &Storage) -> anyhow::Result<()> {
    let mut a = ok("a.example", day(11, 1), Software::Mastodon, 100, Some(40));
    a.peers = Some(vec![
        host("b.example"),
        host("p.example"),
        host("n.example"),
    ]);
    a.activity = vec![
        week(day(10, 31) - Duration::hours(12), 3, 30),
        week(day(10, 24) - Duration::hours(12), 2, 20),
    ];
    a.software.as_mut().expect("software").raw_version = "=cmd|' /C calc'!A0".into();
    s.record_observation(&a, None).await?;
    let mut b = ok("b.example", day(11, 2), Software::Misskey, 7, None);
    b.peers = Some(vec![host("a.example"), host("p.example")]);
    s.record_observation(&b, None).await?;
    s.record_observation(&failed("b.example", day(11, 3)), None)
        .await?;
    let mut private = ok("p.example", day(11, 1), Software::Pleroma, 1, Some(1));
    private.flags.private = true;
    private.peers = Some(vec![host("a.example")]);
    private.activity = vec![week(day(10, 31) - Duration::hours(12), 1, 1)];
    s.record_observation(&private, None).await?;
    let mut noindex = ok("n.example", day(11, 2), Software::Mastodon, 5, Some(2));
    noindex.flags.noindex = true;
    s.record_observation(&noindex, None).await?;
    Ok(())
}

fn exports() -> Vec<Export> {
    vec![
        Export::Series(SeriesQuery::new(
            SeriesMetric::ConcentrationTopTen,
            Granularity::Day,
            date(10, 31),
            date(11, 4),
        )),
        Export::Series(SeriesQuery::new(
            SeriesMetric::UsersActiveMonth,
            Granularity::Day,
            date(10, 31),
            date(11, 4),
        )),
        Export::Series(SeriesQuery {
            software: Some(Software::Mastodon),
            cleaned: true,
            ..SeriesQuery::new(
                SeriesMetric::ServersUp,
                Granularity::Week,
                date(10, 31),
                date(11, 13),
            )
        }),
        Export::Snapshot(date(11, 3)),
        Export::Observations {
            from: date(11, 1),
            to: date(11, 3),
        },
        Export::Activity {
            from: date(10, 20),
            to: date(11, 6),
        },
        Export::PeerEdges,
        Export::ServerHistory(host("a.example")),
        Export::ServerHistory(host("b.example")),
    ]
}

/// The Parquet type every column of the file `name` must have: physical and logical type, `?`
/// when OPTIONAL (docs/exports.md, the data dictionary: counts INT64, shares DOUBLE, dates DATE).
fn expected_type(name: &str, column: &str) -> &'static str {
    match column {
        "date" | "week_start" => "DATE",
        "as_of" | "first_seen" | "observed_at" | "reported_at" | "last_seen" => "TIMESTAMP",
        "last_observed_at" | "last_success_at" => "TIMESTAMP?",
        "metric"
        | "methodology_version"
        | "domain"
        | "revealed_by"
        | "status"
        | "outcome"
        | "from"
        | "to" => "STRING",
        "software"
        | "software_version"
        | "nodeinfo_version"
        | "software_raw_name"
        | "software_raw_version" => "STRING?",
        "value" if name.contains("concentration") => "DOUBLE?",
        "value" => "INT64?",
        "servers_reporting" | "flagged" | "observation_id" | "duration_ms" | "statuses"
        | "logins" | "registrations" => "INT64",
        "users_total" | "users_active_month" | "local_posts" | "peer_count" | "crawl_run" => {
            "INT64?"
        }
        "cleaned" | "up" | "private" | "noindex" | "limited_federation" | "peers_hidden" => {
            "BOOLEAN"
        }
        "measurements" | "quality_flags" | "moved_to" => "STRING?",
        "open_registrations" => "BOOLEAN?",
        other => panic!("a column with no expected type: {other}"),
    }
}

/// The type a column was written with, in the form of [`expected_type`].
fn written_type(column: &parquet::schema::types::ColumnDescriptor) -> String {
    let base = match (column.physical_type(), column.logical_type_ref()) {
        (PhysicalType::INT32, Some(LogicalType::Date)) => "DATE",
        (PhysicalType::INT64, Some(LogicalType::Timestamp(t)))
            if t.is_adjusted_to_u_t_c && t.unit == TimeUnit::MICROS =>
        {
            "TIMESTAMP"
        }
        (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)) => "STRING",
        (PhysicalType::DOUBLE, None) => "DOUBLE",
        (PhysicalType::INT64, None) => "INT64",
        (PhysicalType::BOOLEAN, None) => "BOOLEAN",
        (physical, logical) => panic!("{}: unexpected {physical:?} {logical:?}", column.name()),
    };
    match column.self_type().get_basic_info().repetition() {
        Repetition::OPTIONAL => format!("{base}?"),
        Repetition::REQUIRED => base.to_owned(),
        Repetition::REPEATED => panic!("{}: a repeated column", column.name()),
    }
}

/// What the CSV export writes for a value read from the Parquet file.
fn as_csv(field: &Field) -> String {
    match field {
        Field::Null => String::new(),
        Field::Bool(v) => v.to_string(),
        Field::Long(v) => v.to_string(),
        Field::Double(v) => v.to_string(),
        // CSV neutralises formula-like server text; Parquet keeps it raw.
        Field::Str(text) if text.starts_with(['=', '+', '-', '@', '\t', '\r']) => {
            format!("'{text}")
        }
        Field::Str(text) => text.clone(),
        Field::Date(days) => (NaiveDate::default() + Duration::days(i64::from(*days))).to_string(),
        Field::TimestampMicros(micros) => DateTime::from_timestamp_micros(*micros)
            .expect("an instant in range")
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        other => panic!("a value of an unexpected type: {other:?}"),
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The rows of a Parquet file, each as its fields.
fn parquet_rows(bytes: &[u8], name: &str) -> anyhow::Result<(Vec<String>, Vec<Vec<Field>>)> {
    let reader = SerializedFileReader::new(Bytes::copy_from_slice(bytes))?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let names = schema
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    for column in schema.columns() {
        assert_eq!(
            written_type(column),
            expected_type(name, column.name()),
            "the type of {} in {name}",
            column.name()
        );
    }
    let mut rows = Vec::new();
    for row in reader.get_row_iter(None)? {
        rows.push(row?.get_column_iter().map(|(_, f)| f.clone()).collect());
    }
    Ok((names, rows))
}

async fn every_export_in_parquet_holds_the_rows_and_typed_values_of_its_csv(
    s: Storage,
) -> anyhow::Result<()> {
    fill(&s).await?;
    let mut files = Vec::new();
    let mut nulls = 0;
    for what in exports() {
        let mut csv_bytes = Vec::new();
        let csv_file = s.export_csv(&what, &mut csv_bytes).await?;
        let mut bytes = Vec::new();
        let file = s.export(&what, ExportFormat::Parquet, &mut bytes).await?;
        let name = what.file_name_as(ExportFormat::Parquet);
        assert_eq!(file.name, name);
        assert_eq!(
            name.strip_suffix(".parquet"),
            csv_file.name.strip_suffix(".csv"),
            "one stem for both formats"
        );
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
        assert_eq!(file.bytes, bytes.len() as u64);
        assert_eq!(
            file.sha256,
            sha256(&bytes),
            "{name}: the hash of the bytes written"
        );

        let mut csv = csv::Reader::from_reader(&csv_bytes[..]);
        let header: Vec<String> = csv.headers()?.iter().map(str::to_owned).collect();
        let csv_rows: Vec<Vec<String>> = csv
            .records()
            .map(|r| r.map(|r| r.iter().map(str::to_owned).collect()))
            .collect::<Result<_, _>>()?;
        let (columns, rows) = parquet_rows(&bytes, &name)?;
        assert_eq!(columns, header, "{name}: the CSV's column names");
        assert_eq!(columns, what.column_names());
        assert!(!rows.is_empty(), "{name} has rows to compare");
        assert_eq!(file.rows, rows.len() as u64, "{name}: the manifest's rows");
        assert_eq!(file.rows, csv_file.rows);
        let as_text: Vec<Vec<String>> = rows
            .iter()
            .map(|row| row.iter().map(as_csv).collect())
            .collect();
        assert_eq!(as_text, csv_rows, "{name}: the CSV's values");
        // Empty in CSV is null in Parquet, never 0 or "".
        for row in &rows {
            for field in row {
                assert!(
                    !matches!(field, Field::Str(t) if t.is_empty()),
                    "{name}: empty text"
                );
                nulls += usize::from(*field == Field::Null);
            }
        }
        files.push(file);
    }
    assert!(nulls > 0, "the data has missing values to export as null");
    let manifest = Manifest::new(
        day(12, 1),
        exports().iter().filter_map(Export::range),
        files,
    );
    let json = manifest.to_json();
    assert!(
        json.contains("\"name\": \"observations.parquet\""),
        "{json}"
    );
    assert!(json.contains("series-servers_up-week-mastodon-cleaned.parquet"));
    Ok(())
}

async fn a_parquet_export_leaves_unlisted_servers_out_and_keeps_server_text_raw(
    s: Storage,
) -> anyhow::Result<()> {
    fill(&s).await?;
    let mut texts = Vec::new();
    let mut observations = Vec::new();
    for what in exports() {
        let mut bytes = Vec::new();
        s.export_parquet(&what, &mut bytes).await?;
        let (_, rows) = parquet_rows(&bytes, &what.file_name_as(ExportFormat::Parquet))?;
        for row in rows {
            texts.extend(row.iter().filter_map(|f| match f {
                Field::Str(text) => Some(text.clone()),
                _ => None,
            }));
            if matches!(what, Export::Observations { .. }) {
                observations.push(row);
            }
        }
    }
    for unlisted in ["p.example", "n.example"] {
        assert!(
            !texts.iter().any(|t| t.contains(unlisted)),
            "{unlisted} is named in a Parquet export"
        );
    }
    assert!(texts.iter().any(|t| t == "a.example"));
    assert!(
        texts.iter().any(|t| t == "=cmd|' /C calc'!A0"),
        "server text is stored as it came"
    );
    // Spot checks of types: a's first visit, and b's failed one.
    let observation = |column: usize, wanted: Field| -> &Vec<Field> {
        let found: Vec<_> = observations
            .iter()
            .filter(|r| r[column] == wanted)
            .collect();
        assert_eq!(found.len(), 1, "one observation with {wanted:?}");
        found[0]
    };
    let a = observation(1, Field::Str("a.example".into()));
    assert_eq!(a[2], Field::TimestampMicros(day(11, 1).timestamp_micros()));
    assert_eq!(a[3], Field::Str("ok".into()));
    assert_eq!(a[4], Field::Long(120));
    assert_eq!(a[10], Field::Bool(true));
    assert_eq!(a[11], Field::Long(100));
    assert_eq!(a[12], Field::Long(40));
    assert!(matches!(a[15], Field::Null | Field::Long(_)));
    let failed_visit = observation(2, Field::TimestampMicros(day(11, 3).timestamp_micros()));
    assert_eq!(failed_visit[1], Field::Str("b.example".into()));
    assert_eq!(failed_visit[3], Field::Str("timeout".into()));
    assert!(
        failed_visit[5..15].iter().all(|v| *v == Field::Null),
        "a failed visit reports nothing: {failed_visit:?}"
    );
    Ok(())
}
