//! Chart definitions as data: one TOML file per chart in `dashboards/`.
//!
//! Charts are data rather than code so that whoever runs a census can add, reword or reorder
//! charts without rebuilding, and so that every chart states its defaults (range, granularity,
//! software, markers) in one readable place. A definition is validated when the server starts:
//! a bad file stops it with a message naming the file, the key and the accepted values, because
//! a chart that silently shows something else is worse than no chart.
//!
//! The defaults shipped with fedicensus are embedded in the binary ([`ChartSet::embedded`]), so
//! the single binary works anywhere; `--dashboards DIR` loads another set ([`ChartSet::load_dir`]).

use crate::error::{Error, Result};
use crate::series::{accepted_metrics, parse_metric, Granularity, SeriesMetric};
use chrono::NaiveDate;
use serde::Serialize;
use std::path::Path;

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChartKind {
    Line,
    StackedArea,
    Bars,
    /// Lines, the last two series drawn as a band (a low and a high edge) around the series
    /// before them, not as lines: the coverage chart's estimate and its interval.
    Band,
}

impl ChartKind {
    const ACCEPTED: &'static str = "line, stacked-area, bars, band";

    fn parse(name: &str) -> Option<ChartKind> {
        Some(match name {
            "line" => ChartKind::Line,
            "band" => ChartKind::Band,
            "stacked-area" => ChartKind::StackedArea,
            "bars" => ChartKind::Bars,
            _ => return None,
        })
    }
}

/// The dashboard page a chart appears on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartPage {
    Overview,
    Growth,
    Software,
    Concentration,
    Languages,
    /// fedicensus beside other censuses' imported figures.
    Comparison,
    /// Where servers are hosted: countries and networks.
    Where,
}

impl ChartPage {
    const ACCEPTED: &'static str =
        "overview, growth, software, concentration, languages, comparison, where";

    fn parse(name: &str) -> Option<ChartPage> {
        Some(match name {
            "overview" => ChartPage::Overview,
            "growth" => ChartPage::Growth,
            "software" => ChartPage::Software,
            "concentration" => ChartPage::Concentration,
            "languages" => ChartPage::Languages,
            "comparison" => ChartPage::Comparison,
            "where" => ChartPage::Where,
            _ => return None,
        })
    }
}

/// One end of a default range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeEnd {
    /// A fixed date.
    Date(NaiveDate),
    /// The first date with data (for `from`).
    Start,
    /// The last date with data (for `to`).
    Latest,
}

impl RangeEnd {
    /// The date this end stands for, given the dates the data covers.
    pub fn resolve(&self, data: (NaiveDate, NaiveDate)) -> NaiveDate {
        match self {
            RangeEnd::Date(d) => *d,
            RangeEnd::Start => data.0,
            RangeEnd::Latest => data.1,
        }
    }
}

/// How a chart splits its metric into several series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    /// One series per software family (the largest ones, the rest as "other").
    Software,
    /// One series per version (major.minor) of the chart's software among its servers up (the
    /// most common ones, the rest as "other versions", and "version unknown").
    Version,
    /// One series per primary language servers declare (the largest ones, the rest as "other
    /// languages", and "none declared"), for servers_up, users_total or users_active_month.
    Language,
    /// One series per country of the servers' addresses (the largest ones, the rest as "other
    /// countries", and "unknown"), for servers_up, users_total or users_active_month.
    Country,
    /// One series per network (autonomous system) of the servers' addresses, likewise.
    Network,
    /// Servers known and the estimated total of servers with its 95 % interval, from the
    /// overlap of peer lists (`fedicensus_storage::coverage`): metrics = ["servers_known"],
    /// kind = "band".
    Coverage,
    /// fedicensus's series beside the same figure as other censuses published it (imported
    /// with `fedicensus import-reference`): one of servers_up, users_total, users_active_month;
    /// with `software`, the sources' figures for that software, without it their totals over
    /// every software.
    Reference,
}

/// One chart, as defined in its file.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartDef {
    /// The file's stem; used in URLs.
    pub id: String,
    pub title: String,
    pub description: String,
    pub metrics: Vec<SeriesMetric>,
    pub kind: ChartKind,
    pub from: RangeEnd,
    pub to: RangeEnd,
    pub granularity: Granularity,
    pub software: Option<String>,
    pub breakdown: Option<Breakdown>,
    /// Whether annotations (events, method changes) are drawn as markers.
    pub annotations: bool,
    pub page: ChartPage,
    /// Position on its page (lower first; then by id).
    pub order: i64,
}

const KEYS: &[&str] = &[
    "title",
    "description",
    "metrics",
    "kind",
    "from",
    "to",
    "granularity",
    "software",
    "breakdown",
    "annotations",
    "page",
    "order",
];

impl ChartDef {
    /// Parses and validates one definition; `file` names it in errors, and its stem is the id.
    pub fn parse(file: &str, text: &str) -> Result<ChartDef> {
        let bad = |key: &str, problem: String| Error::ChartDefinition {
            file: file.to_owned(),
            key: key.to_owned(),
            problem,
        };
        let id = Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(file)
            .to_owned();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(bad(
                "(file name)",
                format!("{id:?} cannot be a chart id (accepted: a-z, 0-9, '-' and '_')"),
            ));
        }
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| bad("(syntax)", e.message().to_owned()))?;
        if let Some(unknown) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(bad(
                unknown,
                format!("unknown key (accepted keys: {})", KEYS.join(", ")),
            ));
        }
        let string = |key: &str, required: bool| -> Result<Option<String>> {
            match table.get(key) {
                None if required => Err(bad(key, "missing (a string is required)".into())),
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(bad(
                    key,
                    format!("expected a string, found {}", other.type_str()),
                )),
            }
        };
        let title = string("title", true)?.unwrap_or_default();
        if title.trim().is_empty() {
            return Err(bad("title", "must not be empty".into()));
        }
        let description = string("description", true)?.unwrap_or_default();

        let metrics = match table.get("metrics") {
            None => {
                return Err(bad(
                    "metrics",
                    format!(
                        "missing (a list of metric names; accepted: {})",
                        accepted_metrics()
                    ),
                ))
            }
            Some(toml::Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|item| match item {
                    toml::Value::String(name) => parse_metric("metrics", name).map_err(|_| {
                        bad(
                            "metrics",
                            format!("unknown metric {name:?} (accepted: {})", accepted_metrics()),
                        )
                    }),
                    other => Err(bad(
                        "metrics",
                        format!("expected metric names, found {}", other.type_str()),
                    )),
                })
                .collect::<Result<Vec<_>>>()?,
            Some(_) => {
                return Err(bad(
                    "metrics",
                    format!(
                        "expected a non-empty list of metric names (accepted: {})",
                        accepted_metrics()
                    ),
                ))
            }
        };

        let kind_name = string("kind", true)?.unwrap_or_default();
        let kind = ChartKind::parse(&kind_name).ok_or_else(|| {
            bad(
                "kind",
                format!(
                    "unknown kind {kind_name:?} (accepted: {})",
                    ChartKind::ACCEPTED
                ),
            )
        })?;
        let page_name = string("page", true)?.unwrap_or_default();
        let page = ChartPage::parse(&page_name).ok_or_else(|| {
            bad(
                "page",
                format!(
                    "unknown page {page_name:?} (accepted: {})",
                    ChartPage::ACCEPTED
                ),
            )
        })?;
        let granularity = match string("granularity", false)? {
            None => Granularity::Week,
            Some(name) => Granularity::parse("granularity", &name).map_err(|_| {
                bad(
                    "granularity",
                    format!("unknown granularity {name:?} (accepted: day, week, month)"),
                )
            })?,
        };
        let range_end = |key: &str, word: &str, default: RangeEnd| -> Result<RangeEnd> {
            match string(key, false)? {
                None => Ok(default),
                Some(s) if s == word => Ok(default),
                Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map(RangeEnd::Date)
                    .map_err(|_| {
                        bad(
                            key,
                            format!("{s:?} is neither a date nor {word:?} (accepted: YYYY-MM-DD or \"{word}\")"),
                        )
                    }),
            }
        };
        let from = range_end("from", "start", RangeEnd::Start)?;
        let to = range_end("to", "latest", RangeEnd::Latest)?;
        if let (RangeEnd::Date(f), RangeEnd::Date(t)) = (from, to) {
            if f > t {
                return Err(bad("from", format!("{f} is after `to` ({t})")));
            }
        }
        let software = string("software", false)?.map(|s| s.trim().to_lowercase());
        if software.as_deref() == Some("") {
            return Err(bad(
                "software",
                "must not be empty (leave the key out for every software)".into(),
            ));
        }
        let breakdown = match string("breakdown", false)?.as_deref() {
            None => None,
            Some("software") => Some(Breakdown::Software),
            Some("version") => Some(Breakdown::Version),
            Some("language") => Some(Breakdown::Language),
            Some("country") => Some(Breakdown::Country),
            Some("network") => Some(Breakdown::Network),
            Some("coverage") => Some(Breakdown::Coverage),
            Some("reference") => Some(Breakdown::Reference),
            Some(other) => {
                return Err(bad(
                    "breakdown",
                    format!(
                        "unknown breakdown {other:?} (accepted: software, version, language, \
                         country, network, coverage, reference)"
                    ),
                ))
            }
        };
        if breakdown == Some(Breakdown::Reference)
            && (metrics.len() != 1 || !crate::data::REFERENCE_METRICS.contains(&metrics[0]))
        {
            return Err(bad(
                "breakdown",
                "a reference breakdown compares one of servers_up, users_total, \
                 users_active_month with other censuses: list one of them in `metrics`"
                    .into(),
            ));
        }
        if (breakdown == Some(Breakdown::Coverage)) != (kind == ChartKind::Band)
            || (breakdown == Some(Breakdown::Coverage)
                && (software.is_some() || metrics != [SeriesMetric::ServersKnown]))
        {
            return Err(bad(
                "breakdown",
                "a coverage chart draws servers known and the estimated total as a band: set \
                 breakdown = \"coverage\", kind = \"band\", metrics = [\"servers_known\"] and no \
                 `software` (kind \"band\" is for the coverage breakdown only)"
                    .into(),
            ));
        }
        if matches!(
            breakdown,
            Some(Breakdown::Language | Breakdown::Country | Breakdown::Network)
        ) && (software.is_some()
            || metrics.len() != 1
            || !fedicensus_storage::LANGUAGE_METRICS.contains(&metrics[0]))
        {
            return Err(bad(
                "breakdown",
                "a language, country or network breakdown splits one of servers_up, users_total, \
                 users_active_month over every software: list one of them in `metrics` and no \
                 `software`"
                    .into(),
            ));
        }
        if breakdown == Some(Breakdown::Version)
            && (software.is_none() || metrics != [SeriesMetric::ServersUp])
        {
            return Err(bad(
                "breakdown",
                "a version breakdown splits servers_up of one software: set `software` and \
                 metrics = [\"servers_up\"]"
                    .into(),
            ));
        }
        if breakdown.is_some() && metrics.len() != 1 {
            return Err(bad(
                "breakdown",
                "a breakdown splits exactly one metric (list one in `metrics`)".into(),
            ));
        }
        if kind == ChartKind::StackedArea && breakdown.is_none() && metrics.len() < 2 {
            return Err(bad(
                "kind",
                "stacked-area needs several series: list several metrics or set breakdown = \"software\"".into(),
            ));
        }
        let annotations = match table.get("annotations") {
            None => true,
            Some(toml::Value::Boolean(b)) => *b,
            Some(other) => {
                return Err(bad(
                    "annotations",
                    format!("expected true or false, found {}", other.type_str()),
                ))
            }
        };
        let order = match table.get("order") {
            None => 0,
            Some(toml::Value::Integer(i)) => *i,
            Some(other) => {
                return Err(bad(
                    "order",
                    format!("expected an integer, found {}", other.type_str()),
                ))
            }
        };
        Ok(ChartDef {
            id,
            title,
            description,
            metrics,
            kind,
            from,
            to,
            granularity,
            software,
            breakdown,
            annotations,
            page,
            order,
        })
    }
}

/// Every chart the dashboard shows.
#[derive(Debug, Clone, Default)]
pub struct ChartSet {
    charts: Vec<ChartDef>,
}

/// The definitions shipped with fedicensus (the files in `dashboards/`), embedded at build time.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "overview-mastodon.toml",
        include_str!("../../../dashboards/overview-mastodon.toml"),
    ),
    (
        "overview-servers.toml",
        include_str!("../../../dashboards/overview-servers.toml"),
    ),
    (
        "overview-users.toml",
        include_str!("../../../dashboards/overview-users.toml"),
    ),
    (
        "growth-servers.toml",
        include_str!("../../../dashboards/growth-servers.toml"),
    ),
    (
        "growth-activity.toml",
        include_str!("../../../dashboards/growth-activity.toml"),
    ),
    (
        "migration-2022-servers.toml",
        include_str!("../../../dashboards/migration-2022-servers.toml"),
    ),
    (
        "migration-2022-users.toml",
        include_str!("../../../dashboards/migration-2022-users.toml"),
    ),
    (
        "software-share.toml",
        include_str!("../../../dashboards/software-share.toml"),
    ),
    (
        "software-versions.toml",
        include_str!("../../../dashboards/software-versions.toml"),
    ),
    (
        "concentration.toml",
        include_str!("../../../dashboards/concentration.toml"),
    ),
    (
        "languages-servers.toml",
        include_str!("../../../dashboards/languages-servers.toml"),
    ),
    (
        "languages-users.toml",
        include_str!("../../../dashboards/languages-users.toml"),
    ),
    (
        "languages-registered.toml",
        include_str!("../../../dashboards/languages-registered.toml"),
    ),
    (
        "coverage.toml",
        include_str!("../../../dashboards/coverage.toml"),
    ),
    (
        "comparison-mastodon-servers.toml",
        include_str!("../../../dashboards/comparison-mastodon-servers.toml"),
    ),
    (
        "comparison-mastodon-users.toml",
        include_str!("../../../dashboards/comparison-mastodon-users.toml"),
    ),
    (
        "comparison-mastodon-active.toml",
        include_str!("../../../dashboards/comparison-mastodon-active.toml"),
    ),
    (
        "comparison-all-servers.toml",
        include_str!("../../../dashboards/comparison-all-servers.toml"),
    ),
    (
        "comparison-all-users.toml",
        include_str!("../../../dashboards/comparison-all-users.toml"),
    ),
    (
        "countries-servers.toml",
        include_str!("../../../dashboards/countries-servers.toml"),
    ),
    (
        "countries-users.toml",
        include_str!("../../../dashboards/countries-users.toml"),
    ),
    (
        "countries-registered.toml",
        include_str!("../../../dashboards/countries-registered.toml"),
    ),
    (
        "networks-servers.toml",
        include_str!("../../../dashboards/networks-servers.toml"),
    ),
    (
        "networks-registered.toml",
        include_str!("../../../dashboards/networks-registered.toml"),
    ),
];

impl ChartSet {
    /// Builds a set from (file name, contents) pairs; fails on the first bad definition or a
    /// duplicate id.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<ChartSet> {
        let mut charts: Vec<ChartDef> = Vec::new();
        for (file, text) in files {
            let def = ChartDef::parse(file, text)?;
            if charts.iter().any(|c| c.id == def.id) {
                return Err(Error::ChartDefinition {
                    file: file.to_owned(),
                    key: "(file name)".into(),
                    problem: format!("a chart with id {:?} is already defined", def.id),
                });
            }
            charts.push(def);
        }
        charts.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        Ok(ChartSet { charts })
    }

    /// The definitions shipped with fedicensus.
    pub fn embedded() -> Result<ChartSet> {
        ChartSet::from_files(EMBEDDED.iter().copied())
    }

    /// Loads every `*.toml` file in `dir`.
    pub fn load_dir(dir: &Path) -> Result<ChartSet> {
        let io = |source| Error::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?;
            files.push((path.display().to_string(), text));
        }
        files.sort();
        if files.is_empty() {
            return Err(Error::ChartDefinition {
                file: dir.display().to_string(),
                key: "(directory)".into(),
                problem: "no *.toml chart definitions found".into(),
            });
        }
        ChartSet::from_files(files.iter().map(|(f, t)| (f.as_str(), t.as_str())))
    }

    /// Every chart, in page order.
    pub fn all(&self) -> &[ChartDef] {
        &self.charts
    }

    /// The charts of one page, in order.
    pub fn page(&self, page: ChartPage) -> impl Iterator<Item = &ChartDef> {
        self.charts.iter().filter(move |c| c.page == page)
    }

    /// The chart with this id.
    pub fn get(&self, id: &str) -> Option<&ChartDef> {
        self.charts.iter().find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
title = "Servers"
description = "Known and up."
metrics = ["servers_known", "servers_up"]
kind = "line"
page = "overview"
"#;

    fn problem(text: &str) -> String {
        ChartDef::parse("dashboards/x.toml", text)
            .expect_err("the definition is bad")
            .to_string()
    }

    #[test]
    fn a_good_definition_gets_its_defaults() {
        let def = ChartDef::parse("dashboards/servers.toml", GOOD).expect("valid");
        assert_eq!(def.id, "servers");
        assert_eq!(def.granularity, Granularity::Week);
        assert_eq!((def.from, def.to), (RangeEnd::Start, RangeEnd::Latest));
        assert!(def.annotations);
    }

    #[test]
    fn an_unknown_kind_names_file_key_and_accepted_values() {
        let msg = problem(&GOOD.replace("\"line\"", "\"pie\""));
        assert!(msg.contains("dashboards/x.toml"), "{msg}");
        assert!(msg.contains("`kind`"), "{msg}");
        assert!(msg.contains("line, stacked-area, bars"), "{msg}");
    }

    #[test]
    fn an_unknown_metric_lists_the_metrics() {
        let msg = problem(&GOOD.replace("servers_up", "servers_happy"));
        assert!(
            msg.contains("`metrics`") && msg.contains("servers_happy"),
            "{msg}"
        );
        assert!(msg.contains("users_active_month"), "{msg}");
    }

    #[test]
    fn a_missing_title_or_a_misspelt_key_is_refused() {
        let msg = problem(&GOOD.replace("title = \"Servers\"", ""));
        assert!(msg.contains("`title`") && msg.contains("missing"), "{msg}");
        let msg = problem(&format!("{GOOD}granularty = \"day\"\n"));
        assert!(
            msg.contains("`granularty`") && msg.contains("accepted keys"),
            "{msg}"
        );
    }

    #[test]
    fn bad_values_of_every_kind_are_refused_precisely() {
        let msg = problem(&format!("{GOOD}granularity = \"year\"\n"));
        assert!(msg.contains("day, week, month"), "{msg}");
        let msg = problem(&format!("{GOOD}from = \"last week\"\n"));
        assert!(
            msg.contains("`from`") && msg.contains("YYYY-MM-DD"),
            "{msg}"
        );
        let msg = problem(&format!(
            "{GOOD}from = \"2023-01-01\"\nto = \"2022-01-01\"\n"
        ));
        assert!(msg.contains("after"), "{msg}");
        let msg = problem(&format!("{GOOD}annotations = \"yes\"\n"));
        assert!(
            msg.contains("`annotations`") && msg.contains("true or false"),
            "{msg}"
        );
        let msg = problem(&GOOD.replace("\"overview\"", "\"home\""));
        assert!(
            msg.contains("overview, growth, software, concentration, languages, comparison, where"),
            "{msg}"
        );
        let msg = problem("title = ");
        assert!(msg.contains("(syntax)"), "{msg}");
        let msg = problem(
            &GOOD
                .replace("\"line\"", "\"stacked-area\"")
                .replace(", \"servers_up\"", ""),
        );
        assert!(msg.contains("stacked-area needs several series"), "{msg}");
    }

    #[test]
    fn a_version_breakdown_needs_one_software_and_servers_up() {
        let versions = GOOD
            .replace(", \"servers_up\"", "")
            .replace("servers_known", "servers_up")
            .replace("\"line\"", "\"stacked-area\"");
        let def = ChartDef::parse(
            "dashboards/v.toml",
            &format!("{versions}breakdown = \"version\"\nsoftware = \"mastodon\"\n"),
        )
        .expect("valid");
        assert_eq!(def.breakdown, Some(Breakdown::Version));
        let msg = problem(&format!("{versions}breakdown = \"version\"\n"));
        assert!(msg.contains("set `software`"), "{msg}");
        let msg = problem(&format!(
            "{}breakdown = \"version\"\nsoftware = \"mastodon\"\n",
            versions.replace("servers_up", "users_total")
        ));
        assert!(msg.contains("servers_up"), "{msg}");
        let msg = problem(&format!("{versions}breakdown = \"release\"\n"));
        assert!(
            msg.contains("software, version, language, country, network, coverage"),
            "{msg}"
        );
    }

    #[test]
    fn a_coverage_chart_is_a_band_of_servers_known_over_every_software() {
        let coverage = GOOD
            .replace(", \"servers_up\"", "")
            .replace("\"line\"", "\"band\"");
        let def = ChartDef::parse(
            "dashboards/c.toml",
            &format!("{coverage}breakdown = \"coverage\"\n"),
        )
        .expect("valid");
        assert_eq!(
            (def.kind, def.breakdown),
            (ChartKind::Band, Some(Breakdown::Coverage))
        );
        let msg = problem(&coverage);
        assert!(
            msg.contains("kind = \"band\""),
            "a band without coverage: {msg}"
        );
        let msg = problem(&format!(
            "{}breakdown = \"coverage\"\n",
            GOOD.replace(", \"servers_up\"", "")
        ));
        assert!(msg.contains("kind = \"band\""), "coverage as lines: {msg}");
        let msg = problem(&format!(
            "{coverage}breakdown = \"coverage\"\nsoftware = \"mastodon\"\n"
        ));
        assert!(msg.contains("no `software`"), "{msg}");
    }

    #[test]
    fn a_reference_chart_compares_one_of_three_metrics() {
        let one = GOOD.replace(", \"servers_up\"", "");
        let def = ChartDef::parse(
            "dashboards/r.toml",
            &format!(
                "{}breakdown = \"reference\"\n",
                one.replace("servers_known", "users_active_month")
            ),
        )
        .expect("valid");
        assert_eq!(def.breakdown, Some(Breakdown::Reference));
        let msg = problem(&format!("{one}breakdown = \"reference\"\n"));
        assert!(
            msg.contains("servers_up, users_total, users_active_month"),
            "servers_known is not compared: {msg}"
        );
        let msg = problem(&format!("{one}breakdown = \"references\"\n"));
        assert!(msg.contains("coverage, reference"), "{msg}");
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let err = ChartSet::from_files([("a/s.toml", GOOD), ("b/s.toml", GOOD)])
            .expect_err("two charts named s");
        assert!(err.to_string().contains("already defined"), "{err}");
    }

    #[test]
    fn the_shipped_definitions_are_valid_and_cover_every_page() {
        let set = ChartSet::embedded().expect("the shipped charts are valid");
        for page in [
            ChartPage::Overview,
            ChartPage::Growth,
            ChartPage::Software,
            ChartPage::Concentration,
            ChartPage::Languages,
            ChartPage::Comparison,
            ChartPage::Where,
        ] {
            assert!(set.page(page).next().is_some(), "{page:?} has no chart");
        }
    }

    #[test]
    fn the_shipped_directory_loads_like_the_embedded_copy() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dashboards");
        let loaded = ChartSet::load_dir(&dir).expect("dashboards/ loads");
        let embedded = ChartSet::embedded().expect("embedded loads");
        assert_eq!(loaded.all(), embedded.all());
    }
}
