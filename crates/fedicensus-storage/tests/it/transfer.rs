//! Moving house: table exports read back, and a database copied from SQLite to PostgreSQL,
//! without losing a row or changing an answer.

use crate::support::*;
use chrono::{Duration, NaiveDate};
use fedicensus_core::{Measurement, Metric, Outcome, Software, Source};
use fedicensus_storage::{
    Backend, Export, Granularity, RunStart, SeriesMetric, SeriesQuery, ServerStatus, Storage,
};
use std::path::{Path, PathBuf};

crate::conformance!(
    exporting_importing_into_an_empty_database_and_exporting_again_gives_the_same_bytes,
    an_import_refuses_a_file_that_does_not_match_its_manifest,
    an_import_refuses_a_database_that_already_holds_a_census,
);

/// A census with every kind of row: several servers and software, a death, Misskey without
/// monthly actives, quality flags, activity, peer edges, runs with outcomes, an alias, a status
/// set by hand, an operator annotation, and text that needs escaping.
pub async fn fill(s: &Storage) -> anyhow::Result<()> {
    let run = s
        .start_run(&RunStart {
            started_at: day(11, 1) - Duration::hours(1),
            crawler_version: "0.1.0".into(),
            config_hash: "abc".into(),
            seeds: vec![host("a.example"), host("b.example")],
        })
        .await?;
    for (i, at) in days(day(11, 1), day(11, 30)).enumerate() {
        let i = i as u64;
        let mut a = ok("a.example", at, Software::Mastodon, 100 + i, Some(40));
        a.peers = Some(vec![
            host("b.example"),
            host("m.example"),
            host("p.example"),
        ]);
        a.activity = vec![week(at - Duration::days(3), 3 + i, 30)];
        a.measurements.push(Measurement {
            metric: Metric::UsersTotal,
            source: Source::InstanceV1,
            value: 99 + i,
        });
        if i == 20 {
            // A jump the quality rules doubt.
            a.measurements.retain(|m| m.metric != Metric::UsersTotal);
            a.measurements.push(Measurement {
                metric: Metric::UsersTotal,
                source: Source::NodeInfo,
                value: 5_000_000,
            });
        }
        // Declared languages, two documents (migration 0032).
        a.declare_languages(fedicensus_core::language::declared(
            Source::InstanceV2,
            &["en".to_owned()],
        ));
        a.declare_languages(fedicensus_core::language::declared(
            Source::InstanceV1,
            &["en".to_owned(), "de".to_owned()],
        ));
        s.record_observation(&a, Some(run)).await?;
        let mut m = ok("m.example", at, Software::Misskey, 50, None);
        m.software.as_mut().expect("software").raw_version = "\\N =cmd".into();
        s.record_observation(&m, Some(run)).await?;
        if at <= day(11, 10) {
            s.record_observation(&ok("b.example", at, Software::Pleroma, 20, Some(25)), None)
                .await?;
        } else {
            s.record_observation(&failed("b.example", at), None).await?;
        }
    }
    let mut private = ok("p.example", day(11, 2), Software::Pleroma, 1, Some(1));
    private.flags.private = true;
    private.open_registrations = None;
    s.record_observation(&private, None).await?;
    let gone = fedicensus_core::Observation::failed(
        host("g.example"),
        day(11, 3),
        Outcome::HttpStatus(410),
        5,
    );
    s.record_observation(&gone, None).await?;
    s.finish_run(run, day(12, 1)).await?;
    s.add_alias(
        &host("www.a.example"),
        &host("a.example"),
        "www",
        day(11, 2),
    )
    .await?;
    s.set_status(&host("p.example"), ServerStatus::OptedOut, None)
        .await?;
    s.add_annotation(
        date(11, 15),
        "Our crawler restarted",
        "Config\nchange, \"quoted\".",
        None,
    )
    .await?;
    Ok(())
}

pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fedicensus_transfer_{name}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub(crate) fn files(dir: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for name in Storage::table_files() {
        out.push((name.clone(), std::fs::read(dir.join(&name))?));
    }
    Ok(out)
}

/// A fresh SQLite database in `dir`.
pub(crate) async fn fresh_sqlite(dir: &Path) -> anyhow::Result<Storage> {
    std::fs::create_dir_all(dir)?;
    Ok(Storage::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.join("census.db").display()
    ))
    .await?)
}

async fn exporting_importing_into_an_empty_database_and_exporting_again_gives_the_same_bytes(
    s: Storage,
) -> anyhow::Result<()> {
    let backend = s.backend();
    fill(&s).await?;
    let first = temp_dir("first");
    let manifest = s.export_tables(&first).await?;
    let rows: u64 = manifest.files.iter().map(|f| f.rows).sum();
    assert!(rows > 300, "{manifest:?}");

    // Into an empty database of the same backend, then out again.
    let check = move |other: Storage| async move {
        let moved = other.import_tables(&first).await?;
        assert_eq!(moved.total(), rows);
        let second = temp_dir("second");
        other.export_tables(&second).await?;
        assert_eq!(files(&first)?, files(&second)?);
        assert_same_answers(&s, &other).await?;
        let _ = std::fs::remove_dir_all(first);
        let _ = std::fs::remove_dir_all(second);
        Ok(())
    };
    match backend {
        Backend::Sqlite => crate::harness::on_sqlite(check).await,
        Backend::Postgres => crate::harness::on_postgres(check).await,
    }
}

async fn an_import_refuses_a_file_that_does_not_match_its_manifest(
    s: Storage,
) -> anyhow::Result<()> {
    let source_dir = temp_dir("src");
    let source = fresh_sqlite(&source_dir).await?;
    fill(&source).await?;
    let dir = temp_dir("tampered");
    source.export_tables(&dir).await?;
    let path = dir.join("table-observations.csv");
    let text = std::fs::read_to_string(&path)?.replacen(",120,", ",121,", 1);
    std::fs::write(&path, text)?;
    let err = s.import_tables(&dir).await.expect_err("a changed file");
    assert!(format!("{err}: {:?}", err).contains("table-observations.csv"));
    // Nothing was written.
    assert!(s.snapshot(date(11, 30)).await?.is_empty());
    source.close().await;
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(source_dir);
    Ok(())
}

async fn an_import_refuses_a_database_that_already_holds_a_census(
    s: Storage,
) -> anyhow::Result<()> {
    fill(&s).await?;
    let dir = temp_dir("full");
    s.export_tables(&dir).await?;
    let before = s.snapshot(date(11, 30)).await?;
    let err = s.import_tables(&dir).await.expect_err("not empty");
    assert!(err.to_string().contains("empty"), "{err}");
    assert_eq!(s.snapshot(date(11, 30)).await?, before);
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// Every query the dashboard and the exports ask, asked of both databases.
pub async fn assert_same_answers(a: &Storage, b: &Storage) -> anyhow::Result<()> {
    let (from, to) = (date(10, 25), date(12, 5));
    for metric in SeriesMetric::ALL {
        for granularity in [Granularity::Day, Granularity::Week, Granularity::Month] {
            for (software, cleaned) in [
                (None, false),
                (None, true),
                (Some(Software::Mastodon), false),
            ] {
                let mut q = SeriesQuery::new(metric, granularity, from, to);
                q.software = software;
                q.cleaned = cleaned;
                // A granularity a metric refuses is refused by both, with the same words.
                let (x, y) = (a.series(&q).await, b.series(&q).await);
                match (x, y) {
                    (Ok(x), Ok(y)) => assert_eq!(x, y, "{q:?}"),
                    (x, y) => assert_eq!(
                        x.map_err(|e| e.to_string()),
                        y.map_err(|e| e.to_string()),
                        "{q:?}"
                    ),
                }
            }
        }
    }
    for d in [date(11, 1), date(11, 10), date(11, 30), date(12, 31)] {
        assert_eq!(a.snapshot(d).await?, b.snapshot(d).await?, "snapshot {d}");
    }
    for name in [
        "a.example",
        "b.example",
        "m.example",
        "p.example",
        "g.example",
    ] {
        assert_eq!(
            a.server_history(&host(name)).await?,
            b.server_history(&host(name)).await?,
            "history of {name}"
        );
        assert_eq!(
            a.peers_of(&host(name)).await?,
            b.peers_of(&host(name)).await?
        );
    }
    assert_eq!(a.runs().await?, b.runs().await?);
    let everything = (
        NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date"),
        NaiveDate::from_ymd_opt(2100, 1, 1).expect("a date"),
    );
    assert_eq!(
        a.annotations(everything.0, everything.1).await?,
        b.annotations(everything.0, everything.1).await?
    );
    assert_eq!(
        a.canonical(&host("www.a.example")).await?,
        b.canonical(&host("www.a.example")).await?
    );
    assert_eq!(
        a.due_hosts(day(12, 31), 100).await?,
        b.due_hosts(day(12, 31), 100).await?
    );
    for what in [
        Export::Series(SeriesQuery::new(
            SeriesMetric::UsersTotal,
            Granularity::Day,
            from,
            to,
        )),
        Export::Snapshot(date(11, 20)),
        Export::Observations { from, to },
        Export::Activity { from, to },
        Export::PeerEdges,
    ] {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        a.export_csv(&what, &mut x).await?;
        b.export_csv(&what, &mut y).await?;
        assert_eq!(String::from_utf8(x)?, String::from_utf8(y)?, "{what:?}");
    }
    Ok(())
}

/// The documented move: fill SQLite through the public API, copy it into a fresh PostgreSQL
/// database, and ask both everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_census_copied_to_postgresql_answers_every_query_identically() -> anyhow::Result<()>
{
    crate::harness::on_sqlite(|sqlite| async move {
        fill(&sqlite).await?;
        crate::harness::on_postgres(move |pg| async move {
            let moved = sqlite.copy_to(&pg).await?;
            assert!(moved.total() > 300, "{moved:?}");
            assert_same_answers(&sqlite, &pg).await?;
            let (x, y) = (temp_dir("copy_sqlite"), temp_dir("copy_pg"));
            sqlite.export_tables(&x).await?;
            pg.export_tables(&y).await?;
            assert_eq!(files(&x)?, files(&y)?);
            // New rows get new ids on PostgreSQL after the copy.
            pg.record_observation(
                &ok("new.example", day(12, 2), Software::Mastodon, 1, None),
                None,
            )
            .await?;
            let _ = std::fs::remove_dir_all(x);
            let _ = std::fs::remove_dir_all(y);
            Ok(())
        })
        .await
    })
    .await
}

/// And back: a PostgreSQL census copied into SQLite answers the same (the copy is symmetric).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_census_copied_to_sqlite_answers_every_query_identically() -> anyhow::Result<()>
{
    crate::harness::on_postgres(|pg| async move {
        fill(&pg).await?;
        crate::harness::on_sqlite(move |sqlite| async move {
            pg.copy_to(&sqlite).await?;
            assert_same_answers(&pg, &sqlite).await?;
            Ok(())
        })
        .await
    })
    .await
}

/// The indexes of a SQLite file: name and the statement that made each, in name order.
async fn sqlite_indexes(path: &Path) -> anyhow::Result<Vec<(String, Option<String>)>> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await?;
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
            .fetch_all(&pool)
            .await?;
    pool.close().await;
    Ok(rows)
}

/// An import and a copy drop a table's plain indexes for the load and build them again: every
/// index the migrations make is there afterwards, defined exactly as in a fresh database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_and_a_copy_build_every_index_again() -> anyhow::Result<()> {
    let root = temp_dir("indexes");
    let fresh = fresh_sqlite(&root.join("fresh")).await?;
    fresh.close().await;
    let expected = sqlite_indexes(&root.join("fresh").join("census.db")).await?;
    assert!(
        expected.iter().any(|(name, _)| name == "observations_ok"),
        "{expected:?}"
    );

    let source = fresh_sqlite(&root.join("source")).await?;
    fill(&source).await?;
    let files = root.join("files");
    source.export_tables(&files).await?;
    let imported = fresh_sqlite(&root.join("imported")).await?;
    imported.import_tables(&files).await?;
    imported.close().await;
    let copied = fresh_sqlite(&root.join("copied")).await?;
    source.copy_to(&copied).await?;
    copied.close().await;
    source.close().await;

    for target in ["imported", "copied"] {
        let found = sqlite_indexes(&root.join(target).join("census.db")).await?;
        assert_eq!(found, expected, "{target}");
    }
    let _ = std::fs::remove_dir_all(root);
    Ok(())
}
