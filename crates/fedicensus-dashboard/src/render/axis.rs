//! The date axis: where a chart's date labels go. Labels fall on calendar steps (days, Mondays,
//! month starts or month ends), the finest step whose labels fit side by side without overlapping
//! or running off the drawing, so a phone gets fewer dates than a wide screen rather than
//! smaller text.

use super::*;

pub(super) fn day_number(from: NaiveDate, date: NaiveDate) -> f64 {
    (date - from).num_days() as f64
}

/// The x axis: days after the first date, labelled at the dates [`date_ticks`] chose (plotters'
/// own ticks are round numbers of days, which gave as few as two labels and odd dates).
pub(super) struct DayAxis {
    pub(super) days: RangedCoordf64,
    pub(super) ticks: Vec<f64>,
}

impl Ranged for DayAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.days.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.days.range()
    }
}

/// A step between date labels: a number of days, or of calendar months.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    Days(i64),
    Months(u32),
}

/// The steps tried, finest first. Weeks start on a Monday (as the census' weeks do), months on
/// their first day, and steps of three months or more on a quarter, a half or a year.
pub(super) const STEPS: [Step; 14] = [
    Step::Days(1),
    Step::Days(2),
    Step::Days(7),
    Step::Days(14),
    Step::Days(21),
    Step::Months(1),
    Step::Days(42),
    Step::Months(2),
    Step::Months(3),
    Step::Months(6),
    Step::Months(12),
    Step::Months(24),
    Step::Months(60),
    Step::Months(120),
];

/// The dates of one step's labels from `first` to `last`.
pub(super) fn step_dates(step: Step, first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut date = match step {
        Step::Days(n) if n % 7 == 0 => {
            let to_monday = (7 - i64::from(first.weekday().num_days_from_monday())) % 7;
            first + chrono::Duration::days(to_monday)
        }
        Step::Days(_) => first,
        Step::Months(m) => {
            let mut d = first.with_day(1).unwrap_or(first);
            if d < first {
                d = d.checked_add_months(Months::new(1)).unwrap_or(d);
            }
            if m >= 3 {
                while (d.year() * 12 + d.month0() as i32).rem_euclid(m as i32) != 0 {
                    d = d.checked_add_months(Months::new(1)).unwrap_or(d);
                }
            }
            d
        }
    };
    while date <= last && out.len() <= 400 {
        out.push(date);
        date = match step {
            Step::Days(n) => date + chrono::Duration::days(n),
            Step::Months(m) => match date.checked_add_months(Months::new(m)) {
                Some(d) => d,
                None => break,
            },
        };
    }
    out
}

/// The x-axis label positions (days after `first`) for a plot `plot_w` pixels wide showing
/// `0..=x_max`, with date labels `label_w` wide: the finest calendar step that gives at least two
/// labels with `gap` pixels between them, less any label that would run off the drawing's
/// right edge. A range too short for two steps gets one label, and its first date if there is
/// room.
pub(super) fn date_ticks(
    first: NaiveDate,
    x_max: f64,
    plot_w: u32,
    label_w: u32,
    gap: u32,
    month_ends: bool,
) -> Vec<f64> {
    let last = first + chrono::Duration::days(x_max.floor() as i64);
    let px_per_day = f64::from(plot_w) / x_max.max(1.0);
    let needed = f64::from(label_w + gap);
    let right_edge = f64::from(plot_w + PLOT_MARGIN_RIGHT);
    let fits = |x: &f64| x * px_per_day + f64::from(label_w) / 2.0 <= right_edge;
    let mut single: Option<Vec<f64>> = None;
    for step in STEPS {
        // A month chart is labelled at months' last days (where its points are), by months.
        let dates = match step {
            Step::Days(_) if month_ends => continue,
            Step::Months(_) if month_ends => step_dates(
                step,
                first,
                last.checked_add_months(Months::new(1)).unwrap_or(last),
            )
            .into_iter()
            .filter_map(|d| d.pred_opt())
            .filter(|d| *d >= first && *d <= last)
            .collect(),
            _ => step_dates(step, first, last),
        };
        let xs: Vec<f64> = dates
            .into_iter()
            .map(|d| day_number(first, d))
            .filter(fits)
            .collect();
        if !xs.windows(2).all(|w| (w[1] - w[0]) * px_per_day >= needed) {
            continue;
        }
        if xs.len() >= 2 {
            return xs;
        }
        if single.is_none() {
            single = Some(xs);
        }
    }
    match single.unwrap_or_default().first() {
        Some(x) if *x * px_per_day < needed => vec![*x],
        Some(x) => vec![0.0, *x],
        None => vec![0.0],
    }
}
