//! The crawler's own health: how late its runtime runs, and how many visits it can carry.
//!
//! A request that times out because our process was not scheduled says nothing about the
//! server; a census that records it as the server's failure publishes outages that never
//! happened, and more of them the busier its own machine is. So the crawler measures itself while
//! it crawls:
//!
//! - **Scheduling lag.** A ticker task sleeps [`TICK`] again and again and notes how late each
//!   sleep wakes. Its lateness is the time any task of the runtime waits before it runs: a
//!   response that has arrived waits that long before it is read (the time between a response's
//!   bytes being available and being read is not measured on its own; this is its cause), a
//!   timer that has fired waits that long before it is seen. The lateness beyond the timer's own
//!   slack is summed into a running total, the **stall**: the stall between two instants is how
//!   much of that time the crawler was not running when it should have been.
//! - **CPU.** The process's CPU time against wall time (`/proc/self/stat`), as a share of the
//!   machine's cores, for each run's record.
//! - **Visits in flight** and the writer's backlog, which the caller reports.
//!
//! What it is used for:
//! - **Time that means the server's time** ([`Health::stall_since`]): a request's deadline is
//!   pushed back by the stall that happened while it ran (up to twice its timeout), so a server
//!   gets its whole timeout of our running time, and a deadline that expired while we were
//!   starved is checked against the lag before it counts as the server's: stalled longer than
//!   can be given back, the request is `inconclusive`.
//! - **Whose fault** ([`Health::overloaded`]): a visit that ends in another timeout (DNS, the
//!   visit's deadline) or a broken connection while our stall during it reached
//!   [`OVERLOAD_STALL`] and [`OVERLOAD_SHARE`] of its time is `inconclusive`, not the server's
//!   failure.
//! - **Adaptive concurrency** ([`Health::visit_limit`]): the number of visits in flight starts at
//!   [`INITIAL_VISITS`], doubles while the lag stays under [`LAG_LOW`] and the limit is in use
//!   (slow start), then grows by a [`GROWTH_SHARE`] of the cap each [`CONTROL_EVERY`], and halves
//!   when the lag of a control period exceeds [`LAG_HIGH`] (AIMD, as TCP does), within
//!   [`MIN_VISITS`] and the configured cap. On a small or busy machine the crawl slows down
//!   instead of lying.
//!
//! The ticker holds only a weak reference: it stops when the last [`Health`] handle is dropped.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use fedicensus_core::Outcome;

/// How often the ticker wakes.
pub const TICK: Duration = Duration::from_millis(10);
/// Lateness of a tick that is the timer's own rounding (tokio's timer has a millisecond
/// resolution), not a stall.
pub const TIMER_SLACK: Duration = Duration::from_millis(2);
/// How often the visit limit is adjusted.
pub const CONTROL_EVERY: Duration = Duration::from_millis(250);
/// A control period whose worst lag stays under this lets the limit grow.
pub const LAG_LOW: Duration = Duration::from_millis(15);
/// A control period whose worst lag exceeds this halves the limit.
pub const LAG_HIGH: Duration = Duration::from_millis(60);
/// The visit limit a crawl starts with (or the cap, if lower).
pub const INITIAL_VISITS: usize = 64;
/// The visit limit never goes below this (or the cap, if lower).
pub const MIN_VISITS: usize = 8;
/// After the first halving, the limit grows by this share of the cap a control period.
pub const GROWTH_SHARE: usize = 64;
/// The least stall during a failed visit that makes its failure ours.
pub const OVERLOAD_STALL: Duration = Duration::from_millis(100);
/// The least share of a failed visit's time we were stalled for its failure to be ours. On the
/// 2-core machine kept busy by four spinning processes and other builds (load average 12), the
/// crawler was stalled for about half of each pass: such a crawl still tells a server's own
/// request timeout (given back our stall, see [`crate::http`]) from ours.
pub const OVERLOAD_SHARE: f64 = 0.25;
/// Lateness histogram: one bucket per millisecond up to this, and one above.
const HISTOGRAM_MS: usize = 2_000;

/// The crawler's view of itself. Cheap to clone; every clone is the same monitor.
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("stalled", &self.stalled())
            .field("visit_limit", &self.visit_limit())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

#[derive(Debug)]
struct Inner {
    base: Instant,
    /// Lateness summed over every tick, beyond [`TIMER_SLACK`], in microseconds.
    stalled_us: AtomicU64,
    /// When the ticker is due to wake next, in microseconds after `base` (0: not running).
    due_us: AtomicU64,
    started: AtomicBool,
    limit: AtomicUsize,
    cap: usize,
    in_flight: AtomicUsize,
    /// The writer's backlog, in percent of its queue.
    backlog: AtomicU32,
    stats: Mutex<Stats>,
}

#[derive(Debug)]
struct Stats {
    /// The worst lateness since the last control step.
    window_max: Duration,
    /// The worst lateness of the last completed control period.
    last_window_max: Duration,
    /// Whether the limit still doubles (no halving yet).
    slow_start: bool,
    /// Ticks by lateness in milliseconds (the last bucket: more).
    histogram: Vec<u64>,
    ticks: u64,
    worst: Duration,
    limit_min: usize,
    limit_max: usize,
    halvings: u64,
    started_at: Instant,
    cpu_at_start: Option<Duration>,
}

/// What the crawler measured of itself over a crawl, for the run's record and the logs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthReport {
    /// Wall time measured.
    pub elapsed: Duration,
    /// The stall summed over that time (see the module's documentation).
    pub stalled: Duration,
    /// The 99th percentile of the ticker's lateness (millisecond resolution).
    pub lag_p99: Duration,
    /// The worst lateness.
    pub lag_max: Duration,
    /// The process's CPU time over wall time and cores, 0 to 1 (`None` where not measured).
    pub cpu_share: Option<f64>,
    /// The least and the greatest visit limit the crawl ran with.
    pub visit_limit_min: usize,
    pub visit_limit_max: usize,
    /// How often the limit was halved.
    pub halvings: u64,
}

impl Health {
    /// A monitor for a crawl that may run up to `cap` visits at once. The ticker starts with
    /// the first call made inside a tokio runtime ([`Health::start`]).
    pub fn new(cap: usize) -> Health {
        let cap = cap.max(1);
        let initial = INITIAL_VISITS.min(cap);
        let now = Instant::now();
        Health {
            inner: Arc::new(Inner {
                base: now,
                stalled_us: AtomicU64::new(0),
                due_us: AtomicU64::new(0),
                started: AtomicBool::new(false),
                limit: AtomicUsize::new(initial),
                cap,
                in_flight: AtomicUsize::new(0),
                backlog: AtomicU32::new(0),
                stats: Mutex::new(Stats {
                    window_max: Duration::ZERO,
                    last_window_max: Duration::ZERO,
                    slow_start: true,
                    histogram: vec![0; HISTOGRAM_MS + 1],
                    ticks: 0,
                    worst: Duration::ZERO,
                    limit_min: initial,
                    limit_max: initial,
                    halvings: 0,
                    started_at: now,
                    cpu_at_start: process_cpu_time(),
                }),
            }),
        }
    }

    /// Starts the ticker on the current tokio runtime, once; does nothing outside a runtime.
    pub fn start(&self) {
        if self.inner.started.load(Ordering::Relaxed) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.inner.started.swap(true, Ordering::AcqRel) {
            return;
        }
        runtime.spawn(tick(Arc::downgrade(&self.inner)));
    }

    /// Our stall summed since the monitor began, the stall of a tick now overdue included.
    pub fn stalled(&self) -> Duration {
        let inner = &self.inner;
        let summed = inner.stalled_us.load(Ordering::Acquire);
        let due = inner.due_us.load(Ordering::Acquire);
        // A ticker that should have woken and has not is late right now: that counts at once,
        // so a request judged in the middle of a stall sees it.
        let pending = if due == 0 {
            0
        } else {
            inner
                .micros_now()
                .saturating_sub(due)
                .saturating_sub(micros(TIMER_SLACK))
        };
        Duration::from_micros(summed + pending)
    }

    /// Our stall since `mark` (an earlier [`Health::stalled`]).
    pub fn stall_since(&self, mark: Duration) -> Duration {
        self.stalled().saturating_sub(mark)
    }

    /// Whether a visit that ended in `outcome` after `took`, while we were stalled for
    /// `stalled` of it, failed because of us: a timeout or a broken connection, with a stall of
    /// at least [`OVERLOAD_STALL`] and [`OVERLOAD_SHARE`] of its time.
    pub fn overloaded(outcome: &Outcome, took: Duration, stalled: Duration) -> bool {
        matches!(outcome, Outcome::Timeout | Outcome::Connection)
            && stalled >= OVERLOAD_STALL
            && stalled.as_secs_f64() >= took.as_secs_f64() * OVERLOAD_SHARE
    }

    /// The worst lag of the last control period (or of the current one, if worse).
    pub fn recent_lag(&self) -> Duration {
        let stats = self.inner.lock();
        stats.window_max.max(stats.last_window_max)
    }

    /// How many visits may be in flight now.
    pub fn visit_limit(&self) -> usize {
        self.inner.limit.load(Ordering::Relaxed)
    }

    /// The configured cap the limit stays within.
    pub fn cap(&self) -> usize {
        self.inner.cap
    }

    /// Visits in flight now (those counted with [`Health::visit_started`]).
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Relaxed)
    }

    /// Counts a visit in flight until the guard is dropped.
    pub fn visit_started(&self) -> InFlight {
        self.start();
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight {
            inner: self.inner.clone(),
        }
    }

    /// The share of the writer's queue that is full (0 to 1): while it is over half full the
    /// limit does not grow (finished visits would only wait longer for it).
    pub fn note_writer_backlog(&self, share: f64) {
        let percent = (share.clamp(0.0, 1.0) * 100.0).round() as u32;
        self.inner.backlog.store(percent, Ordering::Relaxed);
    }

    /// Waits until the lag of a control period is under [`LAG_LOW`] or `longest` has passed,
    /// and at least a control period: before a visit that was inconclusive is made again.
    pub async fn calm(&self, longest: Duration) {
        self.start();
        let began = Instant::now();
        loop {
            tokio::time::sleep(CONTROL_EVERY).await;
            if self.recent_lag() < LAG_LOW || began.elapsed() >= longest {
                return;
            }
        }
    }

    /// What was measured since the monitor began.
    pub fn report(&self) -> HealthReport {
        let stats = self.inner.lock();
        let elapsed = stats.started_at.elapsed();
        let threshold = stats.ticks.saturating_sub(stats.ticks / 100);
        let mut seen = 0;
        let mut p99 = 0;
        for (ms, n) in stats.histogram.iter().enumerate() {
            seen += n;
            if seen > threshold {
                p99 = ms;
                break;
            }
        }
        let cpu_share = match (stats.cpu_at_start, process_cpu_time()) {
            (Some(a), Some(b)) if elapsed > Duration::ZERO => {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
                Some(((b.saturating_sub(a)).as_secs_f64() / elapsed.as_secs_f64() / cores).min(1.0))
            }
            _ => None,
        };
        HealthReport {
            elapsed,
            stalled: self.stalled(),
            lag_p99: if stats.ticks == 0 {
                Duration::ZERO
            } else {
                Duration::from_millis(p99 as u64)
            },
            lag_max: stats.worst,
            cpu_share,
            visit_limit_min: stats.limit_min,
            visit_limit_max: stats.limit_max,
            halvings: stats.halvings,
        }
    }
}

/// A visit counted in flight (see [`Health::visit_started`]).
#[derive(Debug)]
pub struct InFlight {
    inner: Arc<Inner>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.inner.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn micros_now(&self) -> u64 {
        micros(self.base.elapsed())
    }

    /// Records one tick that woke `late` after it was due.
    fn tick(&self, late: Duration) {
        let stall = late.saturating_sub(TIMER_SLACK);
        self.stalled_us.fetch_add(micros(stall), Ordering::AcqRel);
        let mut stats = self.lock();
        stats.ticks += 1;
        let ms = (late.as_millis() as usize).min(HISTOGRAM_MS);
        stats.histogram[ms] += 1;
        stats.worst = stats.worst.max(late);
        stats.window_max = stats.window_max.max(late);
    }

    /// Adjusts the visit limit from the lag of the period that just ended.
    fn control(&self) {
        let mut stats = self.lock();
        let lag = stats.window_max;
        stats.last_window_max = lag;
        stats.window_max = Duration::ZERO;
        let limit = self.limit.load(Ordering::Relaxed);
        let floor = MIN_VISITS.min(self.cap);
        let next = if lag > LAG_HIGH {
            stats.slow_start = false;
            stats.halvings += 1;
            (limit / 2).max(floor)
        } else if lag < LAG_LOW
            // Grown only while in use: a limit that nobody reaches says nothing of what the
            // machine sustains, and would let a later burst start all at once.
            && self.in_flight.load(Ordering::Relaxed) * 4 >= limit * 3
            && self.backlog.load(Ordering::Relaxed) <= 50
        {
            if stats.slow_start {
                limit.saturating_mul(2)
            } else {
                limit + (self.cap / GROWTH_SHARE).max(1)
            }
        } else {
            limit
        }
        .clamp(floor, self.cap);
        if next != limit {
            tracing::debug!(
                lag_ms = lag.as_millis() as u64,
                from = limit,
                to = next,
                "visit limit"
            );
        }
        self.limit.store(next, Ordering::Relaxed);
        stats.limit_min = stats.limit_min.min(next);
        stats.limit_max = stats.limit_max.max(next);
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The ticker: sleeps [`TICK`], notes how late it woke, and adjusts the limit every
/// [`CONTROL_EVERY`]; ends when the monitor is dropped.
async fn tick(inner: Weak<Inner>) {
    let mut last_control = Instant::now();
    loop {
        let due = Instant::now() + TICK;
        {
            let Some(inner) = inner.upgrade() else { return };
            inner
                .due_us
                .store(micros(due - inner.base).max(1), Ordering::Release);
        }
        tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
        let woke = Instant::now();
        let Some(inner) = inner.upgrade() else { return };
        // The overdue time stops counting as pending before it is summed: never twice.
        inner
            .due_us
            .store(micros(woke - inner.base).max(1), Ordering::Release);
        inner.tick(woke.saturating_duration_since(due));
        if last_control.elapsed() >= CONTROL_EVERY {
            last_control = woke;
            inner.control();
        }
    }
}

/// The CPU time (user and system) this process has used, from `/proc/self/stat` (Linux; `None`
/// elsewhere). Its unit is the kernel's USER_HZ, 100 a second on every Linux architecture.
pub fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_timeout_or_a_broken_connection_during_our_own_stall_is_ours() {
        let took = Duration::from_secs(3);
        let stalled = Duration::from_millis(1_000);
        assert!(Health::overloaded(&Outcome::Timeout, took, stalled));
        assert!(Health::overloaded(&Outcome::Connection, took, stalled));
        assert!(!Health::overloaded(&Outcome::Refused, took, stalled));
        assert!(!Health::overloaded(
            &Outcome::HttpStatus(503),
            took,
            stalled
        ));
        assert!(!Health::overloaded(
            &Outcome::Timeout,
            took,
            Duration::from_millis(20)
        ));
        // A stall that is a sliver of a long visit is not why it failed.
        assert!(!Health::overloaded(
            &Outcome::Timeout,
            Duration::from_secs(120),
            Duration::from_millis(1_000)
        ));
    }

    #[test]
    fn the_limit_halves_on_lag_and_grows_again_only_while_in_use() {
        let health = Health::new(1_024);
        assert_eq!(health.visit_limit(), INITIAL_VISITS);
        let busy: Vec<InFlight> = (0..INITIAL_VISITS)
            .map(|_| {
                health.inner.in_flight.fetch_add(1, Ordering::Relaxed);
                InFlight {
                    inner: health.inner.clone(),
                }
            })
            .collect();
        health.inner.tick(Duration::from_millis(1));
        health.inner.control();
        assert_eq!(
            health.visit_limit(),
            2 * INITIAL_VISITS,
            "slow start doubles"
        );
        health.inner.tick(Duration::from_millis(500));
        health.inner.control();
        assert_eq!(health.visit_limit(), INITIAL_VISITS, "lag halves");
        // 64 in flight of a limit of 64: in use, so it grows, now by a 64th of the cap.
        health.inner.tick(Duration::from_millis(1));
        health.inner.control();
        assert_eq!(health.visit_limit(), INITIAL_VISITS + 16);
        drop(busy);
        health.inner.tick(Duration::from_millis(1));
        health.inner.control();
        assert_eq!(
            health.visit_limit(),
            INITIAL_VISITS + 16,
            "unused: not grown"
        );
        for _ in 0..20 {
            health.inner.tick(Duration::from_secs(1));
            health.inner.control();
        }
        assert_eq!(health.visit_limit(), MIN_VISITS);
        let report = health.report();
        assert_eq!(report.visit_limit_min, MIN_VISITS);
        assert_eq!(report.visit_limit_max, 2 * INITIAL_VISITS);
        assert_eq!(report.lag_max, Duration::from_secs(1));
        assert!(report.stalled >= Duration::from_secs(20));
    }

    #[test]
    fn a_small_cap_is_the_limit() {
        let health = Health::new(4);
        assert_eq!(health.visit_limit(), 4);
        health.inner.tick(Duration::from_secs(1));
        health.inner.control();
        assert_eq!(health.visit_limit(), 4);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_blocked_runtime_shows_as_stall_while_it_lasts_and_after() {
        let health = Health::new(64);
        health.start();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mark = health.stalled();
        // Block the runtime's only thread: the ticker cannot run.
        std::thread::sleep(Duration::from_millis(300));
        // The overdue tick counts already, before the ticker has run again.
        let during = health.stall_since(mark);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let after = health.stall_since(mark);
        assert!(during >= Duration::from_millis(250), "{during:?}");
        assert!(after >= Duration::from_millis(250), "{after:?}");
        assert!(health.report().lag_max >= Duration::from_millis(250));
    }

    #[test]
    fn the_process_cpu_time_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(process_cpu_time().is_some());
        }
    }
}
