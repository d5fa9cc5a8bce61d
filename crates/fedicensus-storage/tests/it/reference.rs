//! Other censuses' published figures (migration 0035): imported once per file and date, merged
//! per date with the latest import winning, exported with their imports, moved with the
//! database, and counted in the data's version. The files are the real answers of
//! `crates/fedicensus-core/tests/fixtures/reference` (see its SOURCES.tsv).

use crate::support::*;
use chrono::NaiveDate;
use fedicensus_core::reference::{parse_reference, ReferenceFile, ReferenceSource};
use fedicensus_storage::{Export, Storage};

crate::conformance!(
    importing_the_same_file_again_changes_nothing,
    a_later_import_wins_for_the_dates_and_figures_it_gives,
    the_reference_export_lists_every_row_with_its_import,
    reference_figures_move_with_the_database,
    an_instances_list_keeps_its_server_names,
);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../fedicensus-core/tests/fixtures/reference/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

const JOINMASTODON: &str = "joinmastodon-statistics-2022-09-30-to-2023-01-22.json";

fn read(source: ReferenceSource, bytes: &[u8], as_of: Option<NaiveDate>) -> ReferenceFile {
    parse_reference(source, bytes, as_of).expect("the file parses")
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

async fn importing_the_same_file_again_changes_nothing(s: Storage) -> anyhow::Result<()> {
    let before = s.data_version().await?;
    let bytes = fixture(JOINMASTODON);
    let file = read(ReferenceSource::JoinMastodon, &bytes, None);
    let first = s
        .import_reference(&file, &bytes, JOINMASTODON, day(12, 1))
        .await?;
    assert!(first.new);
    assert_eq!(first.points, 113);
    assert_eq!(first.sha256.len(), 64);
    let after = s.data_version().await?;
    assert_ne!(before, after, "an import changes the data's version");
    let again = s
        .import_reference(&file, &bytes, "renamed.json", day(12, 2))
        .await?;
    assert!(!again.new);
    assert_eq!(again.id, first.id);
    assert_eq!(s.data_version().await?, after);
    let imports = s.reference_imports().await?;
    assert_eq!(imports.len(), 1);
    let i = &imports[0];
    assert_eq!(i.source, ReferenceSource::JoinMastodon);
    assert_eq!(i.file_name, JOINMASTODON);
    assert_eq!(i.imported_at, day(12, 1));
    assert_eq!(i.as_of, ymd(2023, 1, 22));
    assert_eq!(
        (i.first_date, i.last_date),
        (ymd(2022, 9, 30), ymd(2023, 1, 22))
    );
    assert_eq!(i.points, 113);
    assert_eq!(
        i.notes,
        ["1 day(s) listed more than once; each is counted once"]
    );
    let lines = s
        .reference_lines(ymd(2022, 11, 1), ymd(2022, 11, 30))
        .await?;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].scope, "mastodon");
    assert_eq!(lines[0].values.len(), 30);
    let nov27 = lines[0].values[26];
    assert_eq!(nov27.date, ymd(2022, 11, 27));
    assert_eq!(nov27.servers, Some(8174));
    assert_eq!(nov27.users, Some(5_339_334));
    assert_eq!(nov27.active_month, Some(2_608_633));
    assert_eq!(nov27.active_week, None);
    // The same bytes as of another date are another import.
    let later = read(ReferenceSource::JoinMastodon, &bytes, Some(ymd(2023, 2, 1)));
    assert!(
        s.import_reference(&later, &bytes, JOINMASTODON, day(12, 3))
            .await?
            .new
    );
    Ok(())
}

async fn a_later_import_wins_for_the_dates_and_figures_it_gives(s: Storage) -> anyhow::Result<()> {
    let old = br#"[
        {"period":"2022-11-01","server_count":"10","user_count":"100","active_user_count":"50"},
        {"period":"2022-11-02","server_count":"11","user_count":"110","active_user_count":"55"}]"#;
    let new = br#"[
        {"period":"2022-11-02","server_count":"12","user_count":null,"active_user_count":"56"},
        {"period":"2022-11-03","server_count":"13","user_count":"130","active_user_count":"57"}]"#;
    for (bytes, at) in [(&old[..], day(11, 5)), (&new[..], day(11, 6))] {
        let file = read(ReferenceSource::JoinMastodon, bytes, None);
        s.import_reference(&file, bytes, "statistics.json", at)
            .await?;
    }
    let lines = s
        .reference_lines(ymd(2022, 11, 1), ymd(2022, 11, 3))
        .await?;
    let v = &lines[0].values;
    assert_eq!(v.len(), 3);
    assert_eq!((v[0].servers, v[0].users), (Some(10), Some(100)));
    // The 2nd: servers and actives from the later import, users (null there) from the earlier.
    assert_eq!(
        (v[1].servers, v[1].users, v[1].active_month),
        (Some(12), Some(110), Some(56))
    );
    assert_eq!(v[2].servers, Some(13));
    // A range outside every date has no line.
    assert!(s
        .reference_lines(ymd(2021, 1, 1), ymd(2021, 1, 31))
        .await?
        .is_empty());
    Ok(())
}

async fn the_reference_export_lists_every_row_with_its_import(s: Storage) -> anyhow::Result<()> {
    let empty = Export::References {
        from: ymd(2022, 1, 1),
        to: ymd(2023, 12, 31),
    };
    let mut buffer = Vec::new();
    let file = s.export_csv(&empty, &mut buffer).await?;
    assert_eq!(file.rows, 0);
    assert_eq!(
        String::from_utf8(buffer)?.lines().next(),
        Some(
            "source,date,scope,servers,users,active_month,active_week,import_id,file_sha256,\
             file_name,imported_at,file_as_of"
        )
    );
    let stats = fixture("fedidb-v1-stats-docs-example.json");
    let file = read(ReferenceSource::FediDb, &stats, None);
    s.import_reference(&file, &stats, "=stats.json", day(11, 1))
        .await?;
    let mut buffer = Vec::new();
    let written = s.export_csv(&empty, &mut buffer).await?;
    let text = String::from_utf8(buffer)?;
    assert_eq!(written.rows, 1, "{text}");
    let row = text.lines().nth(1).expect("a row");
    assert!(
        row.starts_with("fedidb,2023-07-09,all,23815,10001240,1898279,,1,"),
        "{row}"
    );
    // The operator's file name is outside text: neutralised like a server's.
    assert!(
        row.contains(",'=stats.json,2022-11-01T12:00:00Z,2023-07-09"),
        "{row}"
    );
    assert_eq!(written.name, "reference_figures.csv");
    Ok(())
}

async fn reference_figures_move_with_the_database(s: Storage) -> anyhow::Result<()> {
    for (name, source) in [
        (JOINMASTODON, ReferenceSource::JoinMastodon),
        (
            "instances-social-list-count-1.json",
            ReferenceSource::InstancesSocial,
        ),
    ] {
        let bytes = fixture(name);
        let file = read(source, &bytes, None);
        s.import_reference(&file, &bytes, name, day(12, 1)).await?;
    }
    let dir = crate::transfer::temp_dir("reference-move");
    s.export_tables(&dir).await?;
    let text = std::fs::read_to_string(dir.join("table-reference_figures.csv"))?;
    assert_eq!(
        text.lines().next(),
        Some("import_id,date,scope,servers,users,active_month,active_week")
    );
    let target = crate::transfer::temp_dir("reference-target");
    std::fs::create_dir_all(&target)?;
    let other = Storage::connect(&format!(
        "sqlite://{}?mode=rwc",
        target.join("c.db").display()
    ))
    .await?;
    other.import_tables(&dir).await?;
    let _ = std::fs::remove_dir_all(&dir);
    let (from, to) = (ymd(2022, 1, 1), ymd(2023, 12, 31));
    let moved = (
        other.reference_imports().await?,
        other.reference_lines(from, to).await?,
        other.reference_domains().await?,
    );
    // A new import in the target follows the imported ids.
    let bytes = fixture("fedidb-v1-stats-docs-example.json");
    let file = read(ReferenceSource::FediDb, &bytes, None);
    let next = other
        .import_reference(&file, &bytes, "stats.json", day(12, 2))
        .await?;
    other.close().await;
    let _ = std::fs::remove_dir_all(&target);
    assert_eq!(moved.0, s.reference_imports().await?);
    assert_eq!(moved.1, s.reference_lines(from, to).await?);
    assert_eq!(moved.2, ["mastodon.xyz"]);
    assert_eq!(next.id, 3);
    Ok(())
}

async fn an_instances_list_keeps_its_server_names(s: Storage) -> anyhow::Result<()> {
    for name in [
        "instances-social-list-count-1.json",
        "instances-social-search-mastodon-social.json",
    ] {
        let bytes = fixture(name);
        let file = read(ReferenceSource::InstancesSocial, &bytes, None);
        s.import_reference(&file, &bytes, name, day(12, 1)).await?;
    }
    assert_eq!(
        s.reference_domains().await?,
        ["mastodon.social", "mastodon.xyz"]
    );
    let imports = s.reference_imports().await?;
    assert_eq!(
        imports.iter().map(|i| i.domains).collect::<Vec<_>>(),
        [1, 1]
    );
    // Both were checked on 2022-11-15: one date, the later import's sums.
    let lines = s
        .reference_lines(ymd(2022, 11, 15), ymd(2022, 11, 15))
        .await?;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].source, ReferenceSource::InstancesSocial);
    assert_eq!(lines[0].values[0].users, Some(835_911));
    assert_eq!(lines[0].values[0].active_week, Some(127_276));
    Ok(())
}
