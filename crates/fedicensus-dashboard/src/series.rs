//! The numbers a chart plots: [`Series`] of dated [`Point`]s, each with its denominator.
//!
//! These types are the contract between data access ([`crate::data`]) and everything that shows
//! numbers (charts, CSV, JSON). A point's value is `None` when nothing was reported for that
//! period, never zero, and every point says how many servers it rests on
//! (`servers_reporting`), because a census that hides its denominator misleads.

use crate::error::{Error, Result};
use chrono::{Datelike, Duration, NaiveDate};
use fedicensus_storage::LAST_DATE;
use serde::Serialize;

pub use fedicensus_storage::SeriesMetric;

/// A short human label for legends.
pub fn metric_label(metric: SeriesMetric) -> &'static str {
    match metric {
        SeriesMetric::ServersKnown => "servers known",
        SeriesMetric::ServersMentioned => "servers mentioned",
        SeriesMetric::ServersUp => "servers up",
        SeriesMetric::ServersNew => "new servers",
        SeriesMetric::ServersDied => "dead servers",
        SeriesMetric::UsersTotal => "registered users",
        SeriesMetric::UsersActiveMonth => "monthly active users",
        SeriesMetric::LocalPosts => "local posts",
        SeriesMetric::WeeklyRegistrations => "registrations",
        SeriesMetric::WeeklyLogins => "logins",
        SeriesMetric::WeeklyStatuses => "posts written",
        SeriesMetric::ConcentrationTopPercent => "share of users on the largest 1 %",
        SeriesMetric::ConcentrationTopTen => "share of users on the 10 largest",
    }
}

/// The metric names accepted, for error messages.
pub fn accepted_metrics() -> String {
    SeriesMetric::ALL.map(|m| m.as_str()).join(", ")
}

/// Parses a metric's stable name; the error names the parameter and the accepted names.
pub fn parse_metric(param: &str, name: &str) -> Result<SeriesMetric> {
    SeriesMetric::ALL
        .into_iter()
        .find(|m| m.as_str() == name)
        .ok_or_else(|| {
            Error::bad(
                param,
                format!("unknown metric {name:?}"),
                accepted_metrics(),
            )
        })
}

/// Whether values are shares (0..=1), shown as percentages.
pub fn is_share(metric: SeriesMetric) -> bool {
    matches!(
        metric,
        SeriesMetric::ConcentrationTopPercent | SeriesMetric::ConcentrationTopTen
    )
}

/// The period one point covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    pub const ALL: [Granularity; 3] = [Granularity::Day, Granularity::Week, Granularity::Month];

    /// Storage's name for the same period.
    pub fn to_storage(self) -> fedicensus_storage::Granularity {
        match self {
            Granularity::Day => fedicensus_storage::Granularity::Day,
            Granularity::Week => fedicensus_storage::Granularity::Week,
            Granularity::Month => fedicensus_storage::Granularity::Month,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    /// Parses `day`, `week` or `month`.
    pub fn parse(param: &str, name: &str) -> Result<Granularity> {
        Granularity::ALL
            .into_iter()
            .find(|g| g.as_str() == name)
            .ok_or_else(|| {
                Error::bad(
                    param,
                    format!("unknown granularity {name:?}"),
                    "day, week, month",
                )
            })
    }

    /// The start of the period containing `date` (weeks start on Monday, as ISO weeks do).
    pub fn period_start(&self, date: NaiveDate) -> NaiveDate {
        match self {
            Granularity::Day => date,
            Granularity::Week => {
                date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
            }
            Granularity::Month => date.with_day(1).unwrap_or(date),
        }
    }

    /// The start of the period after the one starting at `start`.
    pub fn next(&self, start: NaiveDate) -> NaiveDate {
        match self {
            Granularity::Day => start + Duration::days(1),
            Granularity::Week => start + Duration::days(7),
            Granularity::Month => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(start + Duration::days(31)),
        }
    }

    /// The period starts that cover `from..=to`.
    pub fn periods(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut d = self.period_start(from);
        while d <= to {
            out.push(d);
            d = self.next(d);
        }
        out
    }
}

/// Whether figures that quality checks doubt are kept (`raw`) or left out (`cleaned`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum View {
    Raw,
    #[default]
    Cleaned,
}

impl View {
    pub fn as_str(&self) -> &'static str {
        match self {
            View::Raw => "raw",
            View::Cleaned => "cleaned",
        }
    }

    pub fn parse(param: &str, name: &str) -> Result<View> {
        match name {
            "raw" => Ok(View::Raw),
            "cleaned" => Ok(View::Cleaned),
            other => Err(Error::bad(
                param,
                format!("unknown view {other:?}"),
                "raw, cleaned",
            )),
        }
    }
}

/// One period's figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// The first day of the period.
    pub date: NaiveDate,
    /// The figure, or `None` when no server reported it for this period.
    pub value: Option<f64>,
    /// How many servers the figure rests on.
    pub servers_reporting: u64,
    /// Whether the data reaches the end of the period. `false` for the period still in progress
    /// at the last crawled day (the current week or month): its flows count only part of the
    /// period, so it must not be read as a drop (see "Incomplete periods" in
    /// `docs/METHODOLOGY.md`). Charts draw such a point apart; CSV and JSON carry this flag.
    pub complete: bool,
    /// The last day the figure's data covers: the period's last day when `complete`, else the
    /// last crawled day. Charts name it in their "incomplete" note.
    #[serde(skip)]
    pub as_of_day: NaiveDate,
}

/// Whether a period starting at `date` is complete when its data is taken at `as_of` (storage's
/// [`fedicensus_storage::SeriesPoint::as_of`]: the end, exclusive, of the last day covered), and
/// the last day it covers.
pub fn completeness(
    granularity: Granularity,
    date: NaiveDate,
    as_of: chrono::DateTime<chrono::Utc>,
) -> (bool, NaiveDate) {
    let end = granularity.next(date);
    // `as_of` is a midnight: the day before it is the last one covered.
    let covered_to = as_of.date_naive().pred_opt().unwrap_or(date);
    (
        as_of.date_naive() >= end,
        covered_to.min(end - Duration::days(1)),
    )
}

/// A named line on a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend label (a metric's label, or a software name in a breakdown).
    pub name: String,
    pub metric: SeriesMetric,
    pub granularity: Granularity,
    pub points: Vec<Point>,
}

impl Series {
    /// The latest point that has a value.
    pub fn latest(&self) -> Option<&Point> {
        self.points.iter().rev().find(|p| p.value.is_some())
    }
}

/// Parses an ISO date (`YYYY-MM-DD`) from a query parameter.
pub fn parse_date(param: &str, text: &str) -> Result<NaiveDate> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        Error::bad(
            param,
            format!("{text:?} is not a date"),
            "an ISO date, YYYY-MM-DD",
        )
    })?;
    if date > LAST_DATE {
        return Err(Error::bad(
            param,
            format!("{date} is past the last date the census answers for, {LAST_DATE}"),
            format!("an ISO date, YYYY-MM-DD, up to {LAST_DATE}"),
        ));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date("d", s).expect("a valid date in the test")
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        assert_eq!(
            Granularity::Week.period_start(d("2022-10-27")),
            d("2022-10-24")
        );
        assert_eq!(
            Granularity::Month.period_start(d("2022-10-27")),
            d("2022-10-01")
        );
        assert_eq!(
            Granularity::Month.periods(d("2022-10-27"), d("2022-12-01")),
            [d("2022-10-01"), d("2022-11-01"), d("2022-12-01")]
        );
    }

    fn midnight(s: &str) -> chrono::DateTime<chrono::Utc> {
        d(s).and_time(chrono::NaiveTime::MIN).and_utc()
    }

    #[test]
    fn a_period_is_complete_only_when_its_data_reaches_its_end() {
        // Crawled up to Wednesday 2022-11-23: that week (from Monday 21) is in progress.
        assert_eq!(
            completeness(Granularity::Week, d("2022-11-21"), midnight("2022-11-24")),
            (false, d("2022-11-23"))
        );
        // The week before ended on Sunday 20: complete, as of its last day.
        assert_eq!(
            completeness(Granularity::Week, d("2022-11-14"), midnight("2022-11-21")),
            (true, d("2022-11-20"))
        );
        assert_eq!(
            completeness(Granularity::Month, d("2022-11-01"), midnight("2022-11-21")),
            (false, d("2022-11-20"))
        );
        assert!(completeness(Granularity::Month, d("2022-11-01"), midnight("2022-12-01")).0);
        // A day taken at its own end is whole.
        assert!(completeness(Granularity::Day, d("2022-11-23"), midnight("2022-11-24")).0);
    }

    #[test]
    fn unknown_names_say_what_is_accepted() {
        let err = parse_metric("metric", "users").expect_err("not a metric");
        assert!(err.to_string().contains("servers_known"), "{err}");
        let err = Granularity::parse("granularity", "year").expect_err("not a granularity");
        assert!(err.to_string().contains("day, week, month"), "{err}");
        assert!(parse_date("from", "2022-13-01").is_err());
    }
}
