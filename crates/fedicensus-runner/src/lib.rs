//! The census runner: what turns the crawler, storage, the simulator and the dashboard into a
//! census. The crawler and storage do not know each other (an architecture invariant); this
//! crate connects them, and the `fedicensus` binary only parses arguments, reads the settings
//! and calls it, as lychee-bin calls lychee-lib. It never reads the environment: it takes config
//! structs.
//!
//! Modules:
//! - [`pipeline`]: [`Pipeline`], one pass or a daemon's passes: leasing due hosts from storage,
//!   visiting them with the crawler, one writer task recording the visits in batches,
//!   reconnecting to a lost database, the scheduling glue (next-due times, staggered peer
//!   lists), progress.
//! - [`demo`]: the offline demo: the simulated fediverse of autumn 2022 in-process, crawled by
//!   the pipeline at simulated dates into a SQLite file.
//! - [`serve`]: the dashboard over a database, served until a shutdown signal.
//! - [`export`]: which files an export request means, written with a manifest.
//! - [`geo`]: the operator's geolocation databases, read and checked before a crawl.
//! - [`error`]: the one error type.

pub mod demo;
pub mod error;
pub mod export;
pub mod geo;
pub mod pipeline;
pub mod serve;

pub use error::{Error, Result};
pub use pipeline::{PassSummary, Pipeline, Progress};
