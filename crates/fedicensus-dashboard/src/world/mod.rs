//! The world map: servers, users or monthly actives by country, drawn as an SVG on the server
//! from Natural Earth's 1:110m country outlines (public domain; `countries.tsv` beside this file,
//! made by `scripts/world-map/convert.py`, see `README.md` there).
//!
//! Each country is filled by the class of its value on a logarithmic scale (five classes up to
//! the largest country), countries with none in grey; every outline carries its name and value
//! as a tooltip, and the page lists the same numbers as a table with its CSV.

use crate::render::{escape_xml, thousands};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

/// The outlines, one line per country (comments start with `#`).
const COUNTRIES: &str = include_str!("countries.tsv");

/// The map's view box: 1000 wide, down to about 58 degrees south.
pub const WIDTH: f64 = 1000.0;
pub const HEIGHT: f64 = 440.0;

/// The fill of each class, lightest first, and of a country with nothing.
pub const CLASSES: [&str; 5] = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
pub const EMPTY: &str = "#e4e4e4";

/// One country outline.
#[derive(Debug, Clone, Copy)]
pub struct Outline {
    pub code: &'static str,
    pub name: &'static str,
    pub path: &'static str,
}

static OUTLINES: LazyLock<Vec<Outline>> = LazyLock::new(|| {
    COUNTRIES
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cells = l.splitn(3, '\t');
            Some(Outline {
                code: cells.next()?,
                name: cells.next()?,
                path: cells.next()?,
            })
        })
        .collect()
});

/// Every outline (a country may have several lines: Natural Earth's N. Cyprus is drawn as `CY`).
pub fn outlines() -> &'static [Outline] {
    &OUTLINES
}

/// The name of country `code` on the map, if the map has it.
pub fn name_of(code: &str) -> Option<&'static str> {
    outlines().iter().find(|o| o.code == code).map(|o| o.name)
}

/// The class (0 to 4) of `value` on the log scale up to `max`, `None` for nothing.
pub fn class_of(value: f64, max: f64) -> Option<usize> {
    if value <= 0.0 || max <= 0.0 {
        return None;
    }
    let t = (1.0 + value).ln() / (1.0 + max).ln();
    Some(((t * CLASSES.len() as f64).ceil() as usize).clamp(1, CLASSES.len()) - 1)
}

/// The lowest value of each class, for the legend.
fn class_floors(max: f64) -> Vec<f64> {
    (0..CLASSES.len())
        .map(|k| ((1.0 + max).powf(k as f64 / CLASSES.len() as f64) - 1.0).ceil())
        .collect()
}

/// The map of `values` by country code (`unit` names what they count: "servers up"). `total` is
/// the denominator of the shares in the tooltips (every server, unknown included).
pub fn map_svg(values: &BTreeMap<String, f64>, unit: &str, total: f64, label: &str) -> String {
    let max = values.values().copied().fold(0.0, f64::max);
    let mut out = String::with_capacity(100_000);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"world-map\" viewBox=\"0 0 {WIDTH} \
         {height}\" role=\"img\" aria-label=\"{label}\" preserveAspectRatio=\"xMidYMid meet\">\
         <title>{label}</title><rect width=\"{WIDTH}\" height=\"{height}\" fill=\"#f7fbff\"/>",
        height = HEIGHT + 40.0,
        label = escape_xml(label),
    );
    for o in outlines() {
        let value = values.get(o.code).copied().unwrap_or(0.0);
        let fill = class_of(value, max).map_or(EMPTY, |k| CLASSES[k]);
        let share = if total > 0.0 {
            format!(" ({:.1} %)", 100.0 * value / total)
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<path d=\"{}\" fill=\"{fill}\" stroke=\"#ffffff\" stroke-width=\"0.4\" \
             data-country=\"{}\" data-value=\"{value}\"><title>{} ({}): {} {}{share}</title></path>",
            o.path,
            escape_xml(o.code),
            escape_xml(o.name),
            escape_xml(o.code),
            thousands(value),
            escape_xml(unit),
        );
    }
    // The legend: one box per class, labelled with its lowest value, then "none".
    let y = HEIGHT + 12.0;
    let floors = class_floors(max);
    for (k, fill) in CLASSES.iter().enumerate() {
        let x = 20.0 + k as f64 * 120.0;
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"{y}\" width=\"18\" height=\"14\" fill=\"{fill}\"/><text x=\"{}\" \
             y=\"{}\" font-size=\"12\" font-family=\"sans-serif\">{} or more</text>",
            x + 24.0,
            y + 12.0,
            thousands(floors[k].max(1.0)),
        );
    }
    let x = 20.0 + CLASSES.len() as f64 * 120.0;
    let _ = write!(
        out,
        "<rect x=\"{x}\" y=\"{y}\" width=\"18\" height=\"14\" fill=\"{EMPTY}\"/><text x=\"{}\" \
         y=\"{}\" font-size=\"12\" font-family=\"sans-serif\">none</text></svg>",
        x + 24.0,
        y + 12.0,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outlines_cover_the_large_countries_once_each_at_most_twice() {
        for code in ["DE", "US", "FR", "JP", "FI", "BR", "AU", "RU", "XK"] {
            assert!(name_of(code).is_some(), "{code} is on the map");
        }
        assert!(name_of("AQ").is_none(), "Antarctica is left out");
        assert!(outlines().len() > 170);
        assert!(COUNTRIES.len() < 300_000);
    }

    #[test]
    fn classes_grow_with_the_value_and_nothing_is_grey() {
        assert_eq!(class_of(0.0, 100.0), None);
        assert_eq!(class_of(100.0, 100.0), Some(4));
        assert!(class_of(2.0, 100.0) < class_of(50.0, 100.0));
        let svg = map_svg(
            &BTreeMap::from([("DE".to_owned(), 10.0), ("JP".to_owned(), 1.0)]),
            "servers up",
            12.0,
            "Servers <up>",
        );
        assert!(
            svg.contains("data-country=\"DE\" data-value=\"10\""),
            "{svg:.300}"
        );
        assert!(svg.contains(&format!(
            "fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"0.4\" data-country=\"DE\"",
            CLASSES[4]
        )));
        assert!(svg.contains(&format!(
            "fill=\"{EMPTY}\" stroke=\"#ffffff\" stroke-width=\"0.4\" data-country=\"FR\""
        )));
        assert!(svg.contains("Germany (DE): 10 servers up (83.3 %)"));
        assert!(svg.contains("Servers &lt;up&gt;"), "labels are escaped");
    }
}
