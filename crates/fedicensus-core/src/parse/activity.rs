//! Mastodon's `/api/v1/instance/activity`: twelve weekly buckets, newest first, every value a
//! string (`{"week":"1574640000","statuses":"37125","logins":"14239","registrations":"542"}`).
//!
//! Values are read leniently (strings or numbers); a bucket whose week or counts cannot be read is
//! skipped and counted, not guessed. Weeks are returned newest first whatever the order sent. A
//! single week sent as an object instead of an array is read as a list of one.

use super::instance_v1::measurements;
use super::{lenient, read_json, ParseError};
use crate::observation::{Measurement, Metric, Source, WeekActivity};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// A parsed activity document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// The weeks, newest first (the first is the current, partial week).
    pub weeks: Vec<WeekActivity>,
    /// Buckets that could not be read.
    pub skipped: usize,
}

impl Activity {
    /// Logins in the newest complete week (the second bucket), as a weekly-active figure, tagged
    /// [`Source::Activity`] — the estimate the-federation uses.
    pub fn measurements(&self) -> Vec<Measurement> {
        let logins = self.weeks.get(1).map(|w| w.logins);
        measurements(Source::Activity, &[(Metric::UsersActiveWeek, logins)])
    }
}

/// Parses `/api/v1/instance/activity`.
pub fn parse_activity(bytes: &[u8]) -> Result<Activity, ParseError> {
    let items = match read_json(bytes)? {
        Value::Array(items) => items,
        Value::Object(map) => {
            if let Some(error) = super::error_body::error_in(&map) {
                return Err(ParseError::ErrorBody(error));
            }
            // One week sent as a bare object (TootSDK's captured `activity`): a list of one.
            if lenient::get(&map, &["week"]).is_none() {
                return Err(ParseError::Invalid(
                    "activity must be an array of weeks, found an object without \"week\"".into(),
                ));
            }
            vec![Value::Object(map)]
        }
        other => {
            return Err(ParseError::Invalid(format!(
                "activity must be an array, found {}",
                lenient::type_name(&other)
            )))
        }
    };
    let mut weeks = Vec::with_capacity(items.len());
    let mut skipped = 0;
    for item in &items {
        match item.as_object().and_then(week) {
            Some(w) => weeks.push(w),
            None => skipped += 1,
        }
    }
    weeks.sort_by_key(|w| std::cmp::Reverse(w.week_start));
    Ok(Activity { weeks, skipped })
}

fn week(map: &serde_json::Map<String, Value>) -> Option<WeekActivity> {
    let start = lenient::count_at(map, &["week"])?;
    let week_start: DateTime<Utc> = DateTime::from_timestamp(i64::try_from(start).ok()?, 0)?;
    Some(WeekActivity {
        week_start,
        statuses: lenient::count_at(map, &["statuses"])?,
        logins: lenient::count_at(map, &["logins"])?,
        registrations: lenient::count_at(map, &["registrations"])?,
    })
}
