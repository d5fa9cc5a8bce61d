//! Domain types and pure parsing for fedicensus.
//!
//! This crate names the things the rest of the project talks about, in the fediverse's own words.
//! It is shared by the crawler, storage, the dashboard and the simulator, so it stays small and
//! does no I/O: no tokio, no HTTP client, no database (an architecture invariant, checked in CI).
//!
//! Modules:
//! - [`host`]: [`Host`], a normalised server name.
//! - [`observation`]: [`Observation`], what one visit to one server found, and its [`Outcome`].
//! - [`software`]: the server software families fedicensus knows, and how a raw NodeInfo
//!   `software.name` maps onto them.

pub mod host;
pub mod observation;
pub mod software;

pub use host::Host;
pub use observation::{
    Flags, Measurement, Metric, Observation, Outcome, SoftwareReport, Source, WeekActivity,
};
pub use software::Software;
