//! The fedicensus dashboard: server-rendered pages, charts and the JSON/CSV API.
//!
//! It reads through `fedicensus-storage` and `fedicensus-core`, never the crawler (checked in
//! CI). Modules:
//! - [`charts`]: chart definitions as data (`dashboards/*.toml`), loaded and validated at start.
//! - [`series`]: the numbers a chart plots, with their denominators.
//! - [`render`]: [`render::render_svg`], a pure function from a chart and its series to SVG.
//! - [`error`]: the one error type and how it answers over HTTP.

pub mod charts;
pub mod error;
pub mod render;
pub mod series;

pub use charts::{ChartDef, ChartKind, ChartPage, ChartSet};
pub use error::{Error, Result};
pub use render::render_svg;
pub use series::{Granularity, Point, Series, SeriesMetric, SeriesQuery, View};
