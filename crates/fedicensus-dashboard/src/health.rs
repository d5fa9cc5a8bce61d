//! `/healthz` answers from the latest database check and never waits for a connection.
//!
//! A load balancer's probe must get its answer at once, also when every pooled connection is
//! held (whole-census exports streaming to slow readers, a burst of cold pages). So the check is
//! made by a task of its own, once a second (a connection and one small query, bounded by
//! [`CHECK_WAIT`]), and a request only reads its result: a check that failed, timed out, or is
//! older than [`STALE_AFTER`] (the checker itself stuck) answers 503. The one wait left is before
//! the very first check has finished, right after start, and it is bounded by [`CHECK_WAIT`].

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How often the database is checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long one check may take (a connection from the pool and the query) before it counts as
/// "database busy".
pub const CHECK_WAIT: Duration = Duration::from_millis(500);
/// A check older than this is not trusted: the checker has been waiting that long.
pub const STALE_AFTER: Duration = Duration::from_secs(3);

/// One check of the database: `Ok` when it answered.
pub type CheckFn =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// What `/healthz` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// The latest check, this long ago, got an answer.
    Ok { checked_ago: Duration },
    /// The latest check waited [`CHECK_WAIT`] without an answer, or no check has finished for
    /// [`STALE_AFTER`].
    Busy,
    /// The latest check got an error from the database.
    Failing,
    /// No check has finished yet.
    Starting,
}

impl Health {
    /// The text of the `error` field of a 503, `None` when healthy.
    pub fn error(self) -> Option<&'static str> {
        match self {
            Health::Ok { .. } => None,
            Health::Busy => Some("database busy"),
            Health::Failing => Some("database not answering"),
            Health::Starting => Some("starting"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Answered,
    TimedOut,
    Failed,
}

/// The latest check's result, kept for `/healthz`.
#[derive(Default)]
pub struct HealthProbe {
    latest: Mutex<Option<(Instant, Outcome)>>,
    started: AtomicBool,
    first: Notify,
}

impl std::fmt::Debug for HealthProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthProbe")
            .field("started", &self.started.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl HealthProbe {
    /// Starts the checking task, once (later calls do nothing); outside a tokio runtime it is
    /// left for a later call. The task ends when the probe is dropped.
    pub fn start(self: &Arc<Self>, check: CheckFn) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let probe = Arc::downgrade(self);
        runtime.spawn(async move {
            loop {
                let outcome = match tokio::time::timeout(CHECK_WAIT, check()).await {
                    Ok(Ok(())) => Outcome::Answered,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "health check: the database answered an error");
                        Outcome::Failed
                    }
                    Err(_) => {
                        tracing::warn!("health check: the database did not answer in time");
                        Outcome::TimedOut
                    }
                };
                let Some(probe) = probe.upgrade() else { break };
                probe.record(outcome);
                drop(probe);
                tokio::time::sleep(CHECK_EVERY).await;
            }
        });
    }

    fn record(&self, outcome: Outcome) {
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some((Instant::now(), outcome));
        }
        self.first.notify_waiters();
    }

    fn read(&self) -> Option<(Instant, Outcome)> {
        self.latest.lock().ok().and_then(|latest| *latest)
    }

    /// The health to report now: the latest check's result. Waits (at most [`CHECK_WAIT`])
    /// only while no check has finished yet.
    pub async fn status(&self) -> Health {
        let mut latest = self.read();
        if latest.is_none() {
            let first = self.first.notified();
            tokio::pin!(first);
            first.as_mut().enable();
            latest = self.read();
            if latest.is_none() {
                let _ = tokio::time::timeout(CHECK_WAIT + CHECK_WAIT / 5, first).await;
                latest = self.read();
            }
        }
        match latest {
            None => Health::Starting,
            Some((at, _)) if at.elapsed() > STALE_AFTER => Health::Busy,
            Some((at, Outcome::Answered)) => Health::Ok {
                checked_ago: at.elapsed(),
            },
            Some((_, Outcome::TimedOut)) => Health::Busy,
            Some((_, Outcome::Failed)) => Health::Failing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU8;

    /// A check that answers, hangs (a pool with no free connection) or fails, as `mode` says.
    fn check(mode: Arc<AtomicU8>) -> CheckFn {
        Arc::new(move || {
            let mode = mode.load(Ordering::SeqCst);
            Box::pin(async move {
                match mode {
                    0 => Ok(()),
                    1 => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        Ok(())
                    }
                    _ => Err("no such table".into()),
                }
            })
        })
    }

    #[tokio::test]
    async fn healthz_answers_at_once_while_the_database_check_waits() {
        let mode = Arc::new(AtomicU8::new(0));
        let probe = Arc::new(HealthProbe::default());
        probe.start(check(mode.clone()));
        assert!(matches!(probe.status().await, Health::Ok { .. }));

        // Every connection held: the checker waits, and the probe says so without waiting.
        mode.store(1, Ordering::SeqCst);
        tokio::time::sleep(CHECK_EVERY + CHECK_WAIT + Duration::from_millis(300)).await;
        let asked = Instant::now();
        assert_eq!(probe.status().await, Health::Busy);
        assert!(
            asked.elapsed() < Duration::from_millis(50),
            "waited {:?}",
            asked.elapsed()
        );

        // An error from the database, then health again.
        mode.store(2, Ordering::SeqCst);
        tokio::time::sleep(CHECK_EVERY + CHECK_WAIT + Duration::from_millis(300)).await;
        assert_eq!(probe.status().await, Health::Failing);
        mode.store(0, Ordering::SeqCst);
        tokio::time::sleep(CHECK_EVERY + Duration::from_millis(300)).await;
        assert!(matches!(probe.status().await, Health::Ok { .. }));
    }

    #[tokio::test]
    async fn a_checker_stuck_longer_than_its_own_bound_is_not_trusted() {
        let probe = HealthProbe::default();
        probe.record(Outcome::Answered);
        if let Ok(mut latest) = probe.latest.lock() {
            *latest = Some((Instant::now() - STALE_AFTER * 2, Outcome::Answered));
        }
        assert_eq!(probe.status().await, Health::Busy);
    }

    #[tokio::test]
    async fn before_the_first_check_has_finished_it_waits_at_most_one_check() {
        let probe = Arc::new(HealthProbe::default());
        let asked = Instant::now();
        // Not started: nothing will ever check, so it says so after the bounded wait.
        assert_eq!(probe.status().await, Health::Starting);
        assert!(asked.elapsed() < CHECK_WAIT * 2, "{:?}", asked.elapsed());
        // Started on a database that hangs: the first check times out, and says busy.
        probe.start(check(Arc::new(AtomicU8::new(1))));
        let asked = Instant::now();
        assert_eq!(probe.status().await, Health::Busy);
        assert!(asked.elapsed() < CHECK_WAIT * 2, "{:?}", asked.elapsed());
    }
}
