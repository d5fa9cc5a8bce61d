//! Simulated time.
//!
//! The world answers as it was at the clock's current instant. The clock is set to a date (a crawl
//! "at" 2022-11-15) and then runs at wall-clock speed, so that rate-limit windows, `Retry-After`
//! and latencies mean real seconds while the fediverse stays on that day. The demo moves it from
//! date to date between crawls.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A shared, settable simulated clock. Cloning shares it.
#[derive(Debug, Clone)]
pub struct SimClock {
    inner: Arc<Mutex<Anchor>>,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    sim: DateTime<Utc>,
    wall: Instant,
}

impl SimClock {
    /// A clock that reads `at` now and runs forward at wall-clock speed.
    pub fn starting_at(at: DateTime<Utc>) -> SimClock {
        SimClock {
            inner: Arc::new(Mutex::new(Anchor {
                sim: at,
                wall: Instant::now(),
            })),
        }
    }

    /// The current simulated instant.
    pub fn now(&self) -> DateTime<Utc> {
        let anchor = *self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = TimeDelta::from_std(anchor.wall.elapsed()).unwrap_or(TimeDelta::zero());
        anchor.sim + elapsed
    }

    /// Moves the clock to `at`; it runs on from there.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = Anchor {
            sim: at,
            wall: Instant::now(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn clock_reads_the_date_it_was_set_to() {
        let at = Utc
            .with_ymd_and_hms(2022, 11, 15, 12, 0, 0)
            .single()
            .expect("valid");
        let clock = SimClock::starting_at(at);
        let drift = clock.now() - at;
        assert!(drift >= TimeDelta::zero() && drift < TimeDelta::seconds(5));
        let later = Utc
            .with_ymd_and_hms(2022, 12, 1, 0, 0, 0)
            .single()
            .expect("valid");
        clock.clone().set(later);
        assert!(clock.now() >= later && clock.now() - later < TimeDelta::seconds(5));
    }
}
