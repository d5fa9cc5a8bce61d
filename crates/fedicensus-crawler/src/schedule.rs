//! When to visit a host again: a pure function of its last outcome and its history.
//!
//! Users of the existing services ask two things of a scheduler (FIELD.md): stop hammering dead
//! servers (fedidb/issues#47), and notice quickly when a live one changes. So live servers are
//! visited every 6 hours, and failures back off by class, as vmcrawl does: a flaky 5xx is retried
//! in hours, a missing domain in half a day, a robots.txt refusal in a month, a server that said
//! "gone" (410, 451, an operator's opt-out) in three months. Transient failures double their wait
//! with every consecutive failure (fediverse.space), capped at a week. A host unreachable for 14
//! days is dead (instances.social's rule) and re-checked weekly, so a comeback is still seen.
//!
//! Every wait is jittered by ±10 % (Minoru uses odd, jittered periods) so that hosts first seen
//! together do not stay in lockstep for ever. The jitter is an argument, not a random draw, so
//! the function is pure and its tests exact.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use fedicensus_core::Outcome;

/// How often a live server is visited.
pub const ALIVE_EVERY: Duration = Duration::from_secs(6 * 3600);
/// The longest wait after a transient failure.
pub const BACKOFF_CAP: Duration = Duration::from_secs(7 * 86_400);
/// How long a host must have been unreachable to count as dead.
pub const DEAD_AFTER: Duration = Duration::from_secs(14 * 86_400);
/// How often a dead host is re-checked.
pub const DEAD_RECHECK_EVERY: Duration = Duration::from_secs(7 * 86_400);
/// The jitter, as a share of the wait, either way.
pub const JITTER: f64 = 0.10;

const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

/// The classes of outcomes that share a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutcomeClass {
    /// NodeInfo was read.
    Alive,
    /// 429: asked to come back later.
    RateLimited,
    /// A 5xx answer.
    ServerError,
    /// Refused, reset, timed out, TLS failure: the machine is there but not answering well.
    Transport,
    /// The name does not resolve.
    Dns,
    /// Answers, but not with a usable NodeInfo (HTML, invalid JSON, 4xx, redirects, too large).
    Broken,
    /// robots.txt forbids us.
    Robots,
    /// 410, 451 or the operator's deny list: it asked not to be counted.
    OptedOut,
    /// It moved to another domain (which is crawled in its own right).
    Moved,
    /// It resolves to an address we refuse.
    Forbidden,
    /// The crawler was overloaded when the visit failed: nothing is known; try again soon.
    Inconclusive,
}

impl OutcomeClass {
    /// The class of `outcome`.
    pub fn of(outcome: &Outcome) -> OutcomeClass {
        match outcome {
            Outcome::Ok => OutcomeClass::Alive,
            Outcome::RateLimited => OutcomeClass::RateLimited,
            Outcome::HttpStatus(code) if *code >= 500 => OutcomeClass::ServerError,
            Outcome::HttpStatus(410 | 451) | Outcome::OptedOut => OutcomeClass::OptedOut,
            Outcome::Refused | Outcome::Timeout | Outcome::Tls | Outcome::Connection => {
                OutcomeClass::Transport
            }
            Outcome::NoSuchDomain => OutcomeClass::Dns,
            Outcome::RobotsDisallowed => OutcomeClass::Robots,
            Outcome::Moved => OutcomeClass::Moved,
            Outcome::ForbiddenAddress => OutcomeClass::Forbidden,
            Outcome::Inconclusive => OutcomeClass::Inconclusive,
            Outcome::HttpStatus(_)
            | Outcome::NotJson
            | Outcome::Invalid
            | Outcome::TooLarge
            | Outcome::RedirectLoop
            | Outcome::NoNodeInfo => OutcomeClass::Broken,
        }
    }

    /// The first wait after this outcome, and whether it doubles with repeated failures
    /// (`alive_every` for a host that answered).
    fn base(self, alive_every: Duration) -> (Duration, bool) {
        let secs = |s| Duration::from_secs(s);
        match self {
            OutcomeClass::Alive => (alive_every, false),
            OutcomeClass::RateLimited => (secs(HOUR), true),
            OutcomeClass::ServerError => (secs(3 * HOUR), true),
            OutcomeClass::Transport => (secs(6 * HOUR), true),
            OutcomeClass::Dns => (secs(12 * HOUR), true),
            OutcomeClass::Broken => (secs(12 * HOUR), true),
            OutcomeClass::Forbidden => (secs(7 * DAY), false),
            // Its robots.txt answered: the server is up and has opted out. robots.txt is read
            // again daily (as search engines do), so the census sees it alive and sees the
            // opt-out end.
            OutcomeClass::Robots => (secs(DAY), false),
            OutcomeClass::Moved => (secs(30 * DAY), false),
            OutcomeClass::OptedOut => (secs(90 * DAY), false),
            OutcomeClass::Inconclusive => (secs(15 * 60), false),
        }
    }
}

/// What the scheduler knows of a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostHistory {
    /// Consecutive visits without NodeInfo, the last one included (0 after a success).
    pub consecutive_failures: u32,
    /// When the current run of failures began (`None` while alive).
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the host asked to be left alone (429), if it did.
    pub postponed_until: Option<DateTime<Utc>>,
}

impl HostHistory {
    /// The history of a host that just answered.
    pub fn alive() -> HostHistory {
        HostHistory {
            consecutive_failures: 0,
            failing_since: None,
            postponed_until: None,
        }
    }
}

/// Whether a host with this history counts as dead at `now`: failing for [`DEAD_AFTER`] or
/// longer (rate limits and opt-outs are not failures of the host).
pub fn is_dead(history: &HostHistory, now: DateTime<Utc>) -> bool {
    history
        .failing_since
        .is_some_and(|since| now - since >= delta(DEAD_AFTER))
}

/// When to visit a host again, after a visit at `now` that ended with `outcome`; a host that
/// answered is due `alive_every` later ([`ALIVE_EVERY`] by default). `jitter` is a number in
/// `[0, 1)` (a draw by the caller, such as [`jitter_draw`]; 0.5 means no jitter).
pub fn next_due(
    outcome: &Outcome,
    history: &HostHistory,
    now: DateTime<Utc>,
    alive_every: Duration,
    jitter: f64,
) -> DateTime<Utc> {
    let class = OutcomeClass::of(outcome);
    let (base, doubles) = class.base(alive_every);
    let wait = if class == OutcomeClass::Alive {
        base
    } else if matches!(class, OutcomeClass::Transport | OutcomeClass::Dns) && is_dead(history, now)
    {
        DEAD_RECHECK_EVERY
    } else if doubles {
        let exponent = history.consecutive_failures.saturating_sub(1).min(16);
        base.saturating_mul(1u32 << exponent).min(BACKOFF_CAP)
    } else {
        base
    };
    let factor = 1.0 + JITTER * (2.0 * jitter.clamp(0.0, 1.0) - 1.0);
    let due = now + delta(wait.mul_f64(factor));
    match history.postponed_until {
        Some(until) if until > due => until,
        _ => due,
    }
}

/// A draw in `[0, 1)` for [`next_due`]'s jitter, spread evenly over hosts and visits but the
/// same for the same host and instant, so a replayed schedule is the same schedule.
pub fn jitter_draw(host: &str, at: DateTime<Utc>) -> f64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    host.hash(&mut hasher);
    at.timestamp_micros().hash(&mut hasher);
    // The top 53 bits, as a fraction.
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 11, 15, 12, 0, 0)
            .single()
            .expect("a valid date")
    }

    fn failing(failures: u32, days: i64) -> HostHistory {
        HostHistory {
            consecutive_failures: failures,
            failing_since: Some(now() - TimeDelta::days(days)),
            postponed_until: None,
        }
    }

    #[test]
    fn jitter_draws_spread_over_hosts_and_repeat_for_the_same_visit() {
        let draws: Vec<f64> = (0..10_000)
            .map(|i| jitter_draw(&format!("server{i}.example"), now()))
            .collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        // Each tenth of [0, 1) gets about a tenth of the draws.
        for decile in 0..10 {
            let lo = f64::from(decile) / 10.0;
            let n = draws.iter().filter(|d| (lo..lo + 0.1).contains(*d)).count();
            assert!((800..1200).contains(&n), "decile {decile}: {n}");
        }
        assert_eq!(
            jitter_draw("a.example", now()),
            jitter_draw("a.example", now())
        );
        assert_ne!(
            jitter_draw("a.example", now()),
            jitter_draw("a.example", now() + TimeDelta::seconds(1))
        );
    }

    #[test]
    fn a_live_server_is_visited_at_the_interval_asked_for() {
        let every = Duration::from_secs(5 * 86_400);
        let due = next_due(&Outcome::Ok, &HostHistory::alive(), now(), every, 0.5);
        assert_eq!(due - now(), TimeDelta::days(5));
    }

    #[test]
    fn a_live_server_is_visited_every_six_hours_within_the_jitter() {
        let alive = HostHistory::alive();
        assert_eq!(
            next_due(&Outcome::Ok, &alive, now(), ALIVE_EVERY, 0.5),
            now() + TimeDelta::hours(6)
        );
        let early = next_due(&Outcome::Ok, &alive, now(), ALIVE_EVERY, 0.0);
        let late = next_due(&Outcome::Ok, &alive, now(), ALIVE_EVERY, 0.999_999);
        assert_eq!(early, now() + TimeDelta::minutes(324));
        assert!(late > now() + TimeDelta::minutes(395) && late <= now() + TimeDelta::minutes(396));
    }

    #[test]
    fn transient_failures_back_off_by_class_doubling_up_to_a_week() {
        let due = |outcome: Outcome, failures| {
            next_due(&outcome, &failing(failures, 0), now(), ALIVE_EVERY, 0.5) - now()
        };
        assert_eq!(due(Outcome::HttpStatus(503), 1), TimeDelta::hours(3));
        assert_eq!(due(Outcome::HttpStatus(503), 2), TimeDelta::hours(6));
        assert_eq!(due(Outcome::Refused, 1), TimeDelta::hours(6));
        assert_eq!(due(Outcome::Timeout, 3), TimeDelta::hours(24));
        assert_eq!(due(Outcome::NoSuchDomain, 1), TimeDelta::hours(12));
        assert_eq!(due(Outcome::RateLimited, 1), TimeDelta::hours(1));
        assert_eq!(due(Outcome::NotJson, 30), TimeDelta::days(7), "capped");
    }

    #[test]
    fn consent_refusals_wait_long_and_do_not_double() {
        let due =
            |outcome: Outcome| next_due(&outcome, &failing(5, 1), now(), ALIVE_EVERY, 0.5) - now();
        assert_eq!(due(Outcome::RobotsDisallowed), TimeDelta::days(1));
        assert_eq!(due(Outcome::OptedOut), TimeDelta::days(90));
        assert_eq!(due(Outcome::HttpStatus(410)), TimeDelta::days(90));
        assert_eq!(due(Outcome::HttpStatus(451)), TimeDelta::days(90));
        assert_eq!(due(Outcome::Moved), TimeDelta::days(30));
    }

    #[test]
    fn a_host_unreachable_for_two_weeks_is_dead_and_rechecked_weekly() {
        let history = failing(3, 14);
        assert!(is_dead(&history, now()));
        assert!(!is_dead(&failing(3, 13), now()));
        assert!(!is_dead(&HostHistory::alive(), now()));
        assert_eq!(
            next_due(&Outcome::Refused, &history, now(), ALIVE_EVERY, 0.5) - now(),
            TimeDelta::days(7)
        );
        assert_eq!(
            next_due(&Outcome::NoSuchDomain, &history, now(), ALIVE_EVERY, 0.5) - now(),
            TimeDelta::days(7)
        );
    }

    #[test]
    fn a_rate_limit_reset_later_than_the_backoff_wins() {
        let history = HostHistory {
            postponed_until: Some(now() + TimeDelta::hours(5)),
            ..failing(1, 0)
        };
        assert_eq!(
            next_due(&Outcome::RateLimited, &history, now(), ALIVE_EVERY, 0.5),
            now() + TimeDelta::hours(5)
        );
    }
}
