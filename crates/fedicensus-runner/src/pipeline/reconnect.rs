//! Riding out the database: retrying what failed because PostgreSQL or SQLite could not be
//! reached (for up to [`RECONNECT_FOR`]), and telling such failures and write conflicts from the
//! errors that must stop the crawl.

use super::*;

/// Runs `attempt` again, after growing pauses, while it fails because the database cannot be
/// reached, for up to [`RECONNECT_FOR`]; any other error (a full disk, a refused query) is
/// returned at once. What the pipeline retries is idempotent (recording is an upsert, a lease or
/// release sets a row's state), so a write whose commit went through before its answer was lost
/// does no harm when it runs again.
pub(super) async fn reconnecting<T, F, Fut>(
    what: &str,
    mut attempt: F,
) -> fedicensus_storage::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = fedicensus_storage::Result<T>>,
{
    let began = Instant::now();
    let mut pause = Duration::from_millis(100);
    let mut waited = false;
    loop {
        match attempt().await {
            Err(err) if connection_lost(&err) && began.elapsed() < RECONNECT_FOR => {
                if !waited {
                    let cause = std::error::Error::source(&err)
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                    tracing::warn!(
                        %cause,
                        "{what}: the database cannot be reached; waiting for it (up to {} s)",
                        RECONNECT_FOR.as_secs()
                    );
                    waited = true;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            result => {
                if waited && result.is_ok() {
                    tracing::warn!(
                        "{what}: the database is back after {:.1} s; resuming",
                        began.elapsed().as_secs_f64()
                    );
                }
                return result;
            }
        }
    }
}

/// Whether `err` says the database could not be reached rather than that it refused what was
/// asked: the connection broke or was refused (I/O), no connection could be had in time, or
/// PostgreSQL said it is shutting down, starting up or recovering (SQLSTATE classes 08, 57P).
pub(super) fn connection_lost(err: &fedicensus_storage::Error) -> bool {
    let fedicensus_storage::Error::Database { source, .. } = err else {
        return false;
    };
    match source {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Whether `err` is a write that lost a race with another transaction and may succeed when run
/// again: a PostgreSQL deadlock or serialization failure (SQLSTATE 40P01, 40001), or SQLite's
/// busy or locked database (codes 5 and 6, with their extended codes).
pub(super) fn write_conflict(err: &fedicensus_storage::Error) -> bool {
    let fedicensus_storage::Error::Database {
        source: sqlx::Error::Database(db),
        ..
    } = err
    else {
        return false;
    };
    db.code().is_some_and(|code| {
        matches!(code.as_ref(), "40P01" | "40001")
            || code.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
    })
}
