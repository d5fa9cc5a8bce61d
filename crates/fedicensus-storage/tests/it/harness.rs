//! Fresh databases for each test, and the macro that runs one test body on both backends.

use fedicensus_storage::Storage;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const POSTGRES_VAR: &str = "FEDICENSUS_TEST_POSTGRES_URL";

pub(crate) fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `body` on a fresh SQLite file, removed afterwards.
pub async fn on_sqlite<F, Fut>(body: F) -> anyhow::Result<()>
where
    F: FnOnce(Storage) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let dir = std::env::temp_dir().join(format!("fedicensus_test_{}", unique_suffix()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("census.db");
    let storage = Storage::connect(&format!("sqlite://{}?mode=rwc", path.display())).await?;
    let outcome = tokio::spawn(body(storage.clone())).await;
    storage.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    match outcome {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(e.into()),
    }
}

/// Runs `body` on a fresh PostgreSQL database created from `FEDICENSUS_TEST_POSTGRES_URL` and
/// dropped afterwards (even when the body panics). Says clearly when it is skipped.
pub async fn on_postgres<F, Fut>(body: F) -> anyhow::Result<()>
where
    F: FnOnce(Storage) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    on_postgres_with_url(|storage, _| body(storage)).await
}

/// [`on_postgres`] for a body that also opens its own connections: it gets the database's URL.
pub(crate) async fn on_postgres_with_url<F, Fut>(body: F) -> anyhow::Result<()>
where
    F: FnOnce(Storage, String) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let Ok(url) = std::env::var(POSTGRES_VAR) else {
        crate::skipped(&format!("{POSTGRES_VAR} not set"));
        return Ok(());
    };
    let name = format!("fedicensus_test_{}", unique_suffix());
    let admin = admin_connection(&url).await?;
    admin_execute(&admin, &format!("CREATE DATABASE {name}")).await?;
    let db_url = with_database(&url, &name);
    let result = async {
        let storage = Storage::connect(&db_url).await?;
        let outcome = tokio::spawn(body(storage.clone(), db_url.clone())).await;
        storage.close().await;
        anyhow::Ok(outcome)
    }
    .await;
    admin_execute(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await?;
    match result? {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn admin_connection(url: &str) -> anyhow::Result<sqlx::PgPool> {
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?)
}

pub(crate) async fn admin_execute(pool: &sqlx::PgPool, sql: &str) -> anyhow::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await?;
    Ok(())
}

/// `url` with its database (the path) replaced by `name`, keeping any query string.
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// Declares each listed test body (an `async fn(Storage) -> anyhow::Result<()>` in the calling
/// module) as `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    $crate::harness::on_sqlite(super::$name).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    $crate::harness::on_postgres(super::$name).await
                }
            )*
        }
    };
}

#[test]
fn the_database_name_replaces_the_path_of_the_url() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u@h/test?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}
