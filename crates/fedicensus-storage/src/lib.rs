//! fedicensus storage: everything the crawler observed, kept as a survivorship-free history, and
//! the answers the dashboard, the exports and researchers ask of it. All SQL lives in this crate.
//!
//! Three promises shape it. The history is **survivorship-free**: a past date's totals still
//! count servers that died later, because series are computed from the observations of that time,
//! never from today's list of servers. Every number is **traceable**: each figure keeps its
//! observation, its source document and its crawl run. Every aggregate says **how many servers it
//! rests on** (`servers_reporting`), and a figure a server does not report is absent, never zero.
//! The definitions are in `docs/METHODOLOGY.md` and in [`methodology`].
//!
//! It runs on SQLite (the embedded default, one file) and PostgreSQL (several crawler workers),
//! with the same behaviour, checked by one conformance suite run on both. It depends on
//! `fedicensus-core` only: it never knows the crawler.
//!
//! Modules:
//! - [`db`]: [`Storage`] (the two backends behind one type), [`Transaction`], migrations.
//! - [`location`]: what a person gives as the database, as the URL [`Storage`] opens.
//! - [`servers`]: server rows, seeds, statuses, aliases, and the crawl schedule (due hosts,
//!   leases for several workers).
//! - [`observations`]: recording an [`Observation`](fedicensus_core::Observation) and all it
//!   implies, idempotently.
//! - [`peers`]: peer lists, recorded when they change (edges as intervals).
//! - [`blocks`]: the block lists servers publish, as edges over time; obfuscated entries matched
//!   to known servers by digest; the most-blocked servers and blocks added per week.
//! - [`bulk`]: many visits recorded with a few multi-row statements (imports, benchmarks).
//! - [`runs`]: crawl runs.
//! - [`requests`]: "start a crawl now", asked on the dashboard and honoured by crawl daemons.
//! - [`quality`]: data-quality flags attached at record time.
//! - [`plausibility`]: the flags that read the rest of the census (many large claims under one
//!   registrable domain, a claim far beyond the census' total).
//! - [`series`]: time series by day, week or month, with their denominators.
//! - [`coverage`]: how many servers the census has not found: a capture-recapture estimate
//!   from the overlap of peer lists, with its interval.
//! - [`geo`]: servers, users and monthly actives by the country and network of their address.
//! - [`languages`]: servers, users and monthly actives by the language servers declare.
//! - [`rollup`]: the daily rollup the most-read series are served from, refreshed lazily.
//! - [`snapshot`]: every server's state as of a date, and one server's full history.
//! - [`downsample`]: optional thinning of old raw observations to the visits every published
//!   figure rests on, recorded for provenance.
//! - [`annotations`]: chart markers where the world or a method changed.
//! - [`reference`]: other censuses' published figures, imported from files, for comparison.
//! - [`export`]: streaming CSV and Parquet exports with a manifest.
//! - [`transfer`]: the whole database out as table files and back in, or copied straight into
//!   another database (SQLite to PostgreSQL).
//! - [`methodology`]: the definitions, as constants, and their version.

pub mod annotations;
pub mod blocks;
pub mod bulk;
pub mod coverage;
pub mod db;
pub mod downsample;
pub mod error;
pub mod export;
pub mod geo;
pub mod languages;
pub mod location;
pub mod methodology;
pub mod observations;
pub mod peers;
pub mod plausibility;
pub mod quality;
pub mod reference;
pub mod requests;
pub mod rollup;
pub mod runs;
pub mod series;
pub mod servers;
pub mod snapshot;
pub mod transfer;
pub mod version;

pub use annotations::{Annotation, AnnotationKind};
pub use blocks::{BlockEdge, BlockFilter, BlockRanking, BlocksWeek, MostBlocked, MostBlockedList};
pub use coverage::{CoveragePoint, CoverageQuery, CoverageSeries, Estimate, Estimator};
pub use db::{Backend, Storage, Transaction, LAST_DATE};
pub use downsample::{Downsampled, Downsampling};
pub use error::{Error, Result};
pub use export::{Export, ExportFormat, ExportedFile, Manifest, FEDICENSUS_VERSION};
pub use geo::{GeoLine, GeoSeries, TOP_NETWORKS, UNKNOWN};
pub use languages::{LanguageLine, LanguageSeries, LANGUAGE_METRICS, NONE_DECLARED};
pub use methodology::METHODOLOGY_VERSION;
pub use observations::{Recorded, RunId};
pub use quality::{QualityFlag, QualityKind};
pub use reference::{ReferenceImport, ReferenceImported, ReferenceLine, ReferenceValue};
pub use requests::CrawlRequest;
pub use runs::{Run, RunHealth, RunStart};
pub use series::{Granularity, Series, SeriesMetric, SeriesPoint, SeriesQuery};
pub use servers::{DueHost, ServerStatus, StatusSchedule, Unlisted};
pub use snapshot::{
    PeerEdge, ServerHistory, ServerSnapshot, StoredAlias, StoredObservation, StoredSibling,
    StoredWeek,
};
pub use transfer::{Moved, MANIFEST_FILE};
pub use version::DataVersion;
