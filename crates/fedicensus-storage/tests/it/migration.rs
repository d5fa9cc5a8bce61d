//! Migration 0005 (peer lists recorded when they change) converts a database written before it:
//! each server's latest peer-list read is found, the edges seen at that read are opened, and
//! every reader sees the same first and last sightings as before. Run on SQLite and, when
//! `FEDICENSUS_TEST_POSTGRES_URL` is set, on PostgreSQL.

use crate::harness::{admin_connection, admin_execute, unique_suffix, with_database};
use crate::support::*;
use fedicensus_core::Software;
use fedicensus_storage::Storage;
use std::path::{Path, PathBuf};

/// A census as the code before 0005 wrote it: a.example read its peer list twice (b and c on
/// 1 November, b alone on 3 November); every edge closed, last_seen the last read that named it.
/// Ids are left to the database (1, 2, 3 in a fresh one), so PostgreSQL's identities follow.
const BEFORE_0005: &[&str] = &[
    "INSERT INTO servers (domain, first_seen, revealed_by, status, next_due) VALUES \
     ('a.example', '2022-11-01T12:00:00+00:00', 'seed', 'alive', '2022-11-04T12:00:00+00:00'), \
     ('b.example', '2022-11-01T12:00:00+00:00', 'a.example', 'new', '2022-11-01T12:00:00+00:00'), \
     ('c.example', '2022-11-01T12:00:00+00:00', 'a.example', 'new', '2022-11-01T12:00:00+00:00')",
    "INSERT INTO observations (server_id, observed_at, outcome, duration_ms, flag_private, \
     flag_noindex, flag_limited_federation, flag_peers_hidden, peer_count) VALUES \
     (1, '2022-11-01T12:00:00+00:00', 'ok', 100, false, false, false, false, 2), \
     (1, '2022-11-03T12:00:00+00:00', 'ok', 100, false, false, false, false, 1), \
     (1, '2022-11-04T12:00:00+00:00', 'timeout', 100, false, false, false, false, NULL)",
    "INSERT INTO peer_edges (from_id, to_id, first_seen, last_seen) VALUES \
     (1, 2, '2022-11-01T12:00:00+00:00', '2022-11-03T12:00:00+00:00'), \
     (1, 3, '2022-11-01T12:00:00+00:00', '2022-11-01T12:00:00+00:00')",
];

/// A copy of `backend`'s migrations without 0005 and those after it.
fn migrations_before_0005(backend: &str, into: &Path) -> anyhow::Result<()> {
    let source =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../migrations/{backend}"));
    std::fs::create_dir_all(into)?;
    for entry in std::fs::read_dir(source)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name < "20260101000005" {
            std::fs::copy(&path, into.join(name))?;
        }
    }
    Ok(())
}

/// After 0005 (and the rest) ran on the old database: the conversion, then new reads on top.
async fn check_converted(s: Storage) -> anyhow::Result<()> {
    let a = host("a.example");
    let seen = |edges: Vec<fedicensus_storage::PeerEdge>| {
        edges
            .into_iter()
            .map(|e| (e.to.as_str().to_owned(), e.first_seen, e.last_seen))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        seen(s.peers_of(&a).await?),
        vec![
            ("b.example".to_owned(), day(11, 1), day(11, 3)),
            ("c.example".to_owned(), day(11, 1), day(11, 1)),
        ]
    );
    // The same list read again carries b on; c stays where it was.
    let mut o = ok("a.example", day(11, 5), Software::Mastodon, 10, None);
    o.peers = Some(vec![host("b.example")]);
    s.record_observation(&o, None).await?;
    // Then b leaves: closed at the previous read.
    let mut o = ok("a.example", day(11, 6), Software::Mastodon, 10, None);
    o.peers = Some(vec![host("c.example")]);
    s.record_observation(&o, None).await?;
    assert_eq!(
        seen(s.peers_of(&a).await?),
        vec![
            ("b.example".to_owned(), day(11, 1), day(11, 5)),
            ("c.example".to_owned(), day(11, 1), day(11, 6)),
        ]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0005_converts_a_sqlite_census_written_before_it() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("fedicensus_migration_{}", unique_suffix()));
    migrations_before_0005("sqlite", &dir.join("migrations"))?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("census.db").display());
    let old = sqlx::SqlitePool::connect(&url).await?;
    sqlx::migrate::Migrator::new(dir.join("migrations").as_path())
        .await?
        .run(&old)
        .await?;
    for sql in BEFORE_0005 {
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&old)
            .await?;
    }
    old.close().await;

    let storage = Storage::connect(&url).await?;
    let open: (i64, Option<String>) = {
        let pool = sqlx::SqlitePool::connect(&url).await?;
        let open = sqlx::query_as(
            "SELECT (SELECT count(*) FROM peer_edges WHERE last_seen IS NULL), \
             (SELECT peers_read_at FROM servers WHERE id = 1)",
        )
        .fetch_one(&pool)
        .await?;
        pool.close().await;
        open
    };
    assert_eq!(open, (1, Some("2022-11-03T12:00:00+00:00".to_owned())));
    let result = check_converted(storage.clone()).await;
    storage.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0005_converts_a_postgresql_census_written_before_it() -> anyhow::Result<()> {
    let Ok(url) = std::env::var("FEDICENSUS_TEST_POSTGRES_URL") else {
        crate::skipped("FEDICENSUS_TEST_POSTGRES_URL not set");
        return Ok(());
    };
    let dir = std::env::temp_dir().join(format!("fedicensus_migration_{}", unique_suffix()));
    migrations_before_0005("postgres", &dir)?;
    let name = format!("fedicensus_migration_{}", unique_suffix());
    let admin = admin_connection(&url).await?;
    admin_execute(&admin, &format!("CREATE DATABASE {name}")).await?;
    let db_url = with_database(&url, &name);
    let result = async {
        let old = sqlx::PgPool::connect(&db_url).await?;
        sqlx::migrate::Migrator::new(dir.as_path())
            .await?
            .run(&old)
            .await?;
        for sql in BEFORE_0005 {
            sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
                .execute(&old)
                .await?;
        }
        let storage = Storage::connect(&db_url).await?;
        let open: (i64,) =
            sqlx::query_as("SELECT count(*) FROM peer_edges WHERE last_seen IS NULL")
                .fetch_one(&old)
                .await?;
        assert_eq!(open.0, 1);
        old.close().await;
        let result = check_converted(storage.clone()).await;
        storage.close().await;
        result
    }
    .await;
    admin_execute(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await?;
    let _ = std::fs::remove_dir_all(&dir);
    result
}
