//! A census still being built, as every page shows it: the demo crawls while the dashboard
//! serves, and a banner on each page says how far the crawl has come (the simulated date
//! reached, the pass, the visits so far, the time left) and, at the end, how the census compares
//! with the simulator's truth.
//!
//! Only a process that builds a census while serving it sets one ([`AppState::with_live`]);
//! `fedicensus serve` of a real census never does, so its pages carry no banner. The banner's
//! text is escaped by the templates like every other value. Each change bumps a revision that
//! the response cache adds to the data's version, so a cached page never shows an older banner
//! than the one current when it was computed.
//!
//! [`AppState::with_live`]: crate::state::AppState::with_live

use crate::render::thousands;
use chrono::NaiveDate;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// How far a census being built has come.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CensusProgress {
    /// The simulated date the crawl has reached (the date of the pass under way, or the last).
    pub reached: Option<NaiveDate>,
    /// The pass under way (or the last one, when complete), counted from 1; 0 before the first.
    pub pass: usize,
    /// The passes in all.
    pub passes: usize,
    /// Visits made so far, all passes together.
    pub visits: u64,
    /// The estimated time left, in seconds (`None` until it can be estimated).
    pub seconds_left: Option<u64>,
    /// What the crawl is doing when it is not visiting (generating the world, say).
    pub activity: Option<String>,
    /// Every pass is done.
    pub complete: bool,
    /// How long the whole crawl took, in seconds (when complete).
    pub seconds_taken: Option<u64>,
    /// The census's figures beside the truth, at the headline dates (when complete).
    pub truth: Vec<TruthCheck>,
}

/// One figure of the census beside the truth it estimates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TruthCheck {
    pub date: NaiveDate,
    /// What is compared, in words ("reachable Mastodon servers").
    pub what: String,
    /// The census's figure (`None`: it has no value for that date).
    pub census: Option<f64>,
    /// The simulator's truth.
    pub truth: u64,
}

/// The progress of a census being built, shared by the process that builds it and the
/// dashboard.
#[derive(Debug, Default)]
pub struct LiveCensus {
    progress: Mutex<CensusProgress>,
    revision: AtomicU64,
}

impl LiveCensus {
    /// A census about to be built, in `passes` passes.
    pub fn new(passes: usize) -> LiveCensus {
        LiveCensus {
            progress: Mutex::new(CensusProgress {
                passes,
                ..CensusProgress::default()
            }),
            revision: AtomicU64::new(0),
        }
    }

    /// Changes the progress; the revision moves only when something changed.
    pub fn update(&self, change: impl FnOnce(&mut CensusProgress)) {
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        let before = progress.clone();
        change(&mut progress);
        if *progress != before {
            self.revision.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The progress now.
    pub fn progress(&self) -> CensusProgress {
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A number that changes whenever the progress does (part of the cache's version).
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Relaxed)
    }
}

/// The banner as the templates show it: every text already written out (and escaped by the
/// templates), the numbers also as attributes for scripts and tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Banner {
    pub complete: bool,
    pub pass: usize,
    pub passes: usize,
    pub visits: u64,
    /// "Census in progress" or "Census complete".
    pub title: String,
    /// The sentence after the title.
    pub text: String,
    /// The comparisons with the truth, one a line (when complete).
    pub truth: Vec<TruthLine>,
}

/// One comparison with the truth, as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TruthLine {
    pub date: String,
    /// The census's figure as a plain number ("" when it has none), for scripts and tests.
    pub census: String,
    pub truth: u64,
    pub text: String,
}

impl CensusProgress {
    /// What the banner says.
    pub fn banner(&self) -> Banner {
        let visits = thousands(self.visits as f64);
        let (title, text) = if self.complete {
            (
                "Census complete".to_owned(),
                format!(
                    "{} passes up to the simulated date {}, {visits} visits{}. Every figure \
                     below is what the crawler found.",
                    self.passes,
                    self.reached.map(|d| d.to_string()).unwrap_or_default(),
                    self.seconds_taken
                        .map(|s| format!(" in {}", duration_text(s)))
                        .unwrap_or_default(),
                ),
            )
        } else {
            let reached = match (self.reached, &self.activity) {
                (_, Some(activity)) => format!("{activity}; "),
                (Some(date), None) => format!("simulated date {date} reached, "),
                (None, None) => String::new(),
            };
            let left = match self.seconds_left {
                Some(s) => format!("about {} left", duration_text(s)),
                None => "time left not known before the first pass ends".to_owned(),
            };
            (
                "Census in progress".to_owned(),
                format!(
                    "{reached}pass {} of {}, {visits} visits so far, {left}. Charts and \
                     figures grow as each pass lands; this page reloads every {} s.",
                    self.pass, self.passes, RELOAD_EVERY_SECS
                ),
            )
        };
        let truth = self
            .truth
            .iter()
            .map(|t| {
                let census = t.census.map(|c| c.to_string()).unwrap_or_default();
                let off = match t.census {
                    Some(c) if t.truth > 0 => {
                        format!(" ({:+.2} %)", (c - t.truth as f64) * 100.0 / t.truth as f64)
                    }
                    _ => String::new(),
                };
                TruthLine {
                    date: t.date.to_string(),
                    census: census.clone(),
                    truth: t.truth,
                    text: format!(
                        "{} on {}: census {}, truth {}{off}",
                        t.what,
                        t.date,
                        t.census.map(thousands).unwrap_or_else(|| "none".into()),
                        thousands(t.truth as f64),
                    ),
                }
            })
            .collect();
        Banner {
            complete: self.complete,
            pass: self.pass,
            passes: self.passes,
            visits: self.visits,
            title,
            text,
            truth,
        }
    }
}

/// How often a page of a census in progress reloads itself.
pub const RELOAD_EVERY_SECS: u64 = 10;

/// A duration in seconds as the banner says it: `2m 05s`, `1h 03m`.
pub fn duration_text(seconds: u64) -> String {
    if seconds >= 3600 {
        format!("{}h {:02}m", seconds / 3600, seconds % 3600 / 60)
    } else {
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revision_moves_only_when_the_progress_changes() {
        let live = LiveCensus::new(28);
        let first = live.revision();
        live.update(|p| p.pass = 1);
        assert_ne!(live.revision(), first);
        let second = live.revision();
        live.update(|p| p.pass = 1);
        assert_eq!(live.revision(), second);
        assert_eq!(live.progress().passes, 28);
    }

    #[test]
    fn the_complete_banner_puts_the_census_beside_the_truth() {
        let progress = CensusProgress {
            reached: NaiveDate::from_ymd_opt(2022, 12, 31),
            pass: 28,
            passes: 28,
            visits: 311_718,
            complete: true,
            seconds_taken: Some(170),
            truth: vec![TruthCheck {
                date: NaiveDate::from_ymd_opt(2022, 11, 27).expect("a date"),
                what: "Reachable Mastodon servers".into(),
                census: Some(8_388.0),
                truth: 8_364,
            }],
            ..CensusProgress::default()
        };
        let banner = progress.banner();
        assert_eq!(banner.title, "Census complete");
        assert!(
            banner.text.contains("311,718 visits in 2m 50s"),
            "{}",
            banner.text
        );
        assert_eq!(banner.truth[0].census, "8388");
        assert_eq!(
            banner.truth[0].text,
            "Reachable Mastodon servers on 2022-11-27: census 8,388, truth 8,364 (+0.29 %)"
        );
    }

    #[test]
    fn a_banner_in_progress_says_the_date_the_pass_and_the_time_left() {
        let mut progress = LiveCensus::new(28).progress();
        progress.reached = NaiveDate::from_ymd_opt(2022, 10, 28);
        progress.pass = 11;
        progress.visits = 45_210;
        assert!(progress.banner().text.contains("time left not known"));
        progress.seconds_left = Some(130);
        let text = progress.banner().text;
        assert!(
            text.starts_with(
                "simulated date 2022-10-28 reached, pass 11 of 28, 45,210 visits so far, \
                 about 2m 10s left."
            ),
            "{text}"
        );
    }

    #[test]
    fn durations_read_as_minutes_or_hours() {
        assert_eq!(duration_text(125), "2m 05s");
        assert_eq!(duration_text(3_780), "1h 03m");
        assert_eq!(duration_text(0), "0m 00s");
    }
}
