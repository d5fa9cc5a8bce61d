//! The fedicensus crawler: discovery through peer lists, polite HTTP, and one
//! [`Observation`](fedicensus_core::Observation) per server visit.
//!
//! It turns host names into observations and nothing else: it parses nothing itself (every
//! document goes through `fedicensus_core::parse`), stores nothing (the binary carries its
//! observations to storage through a channel; crawler and storage do not know each other) and
//! reads no environment or file (its [`CrawlerConfig`] comes from the binary).
//!
//! Module map:
//! - [`config`]: [`CrawlerConfig`] and its `DEFAULT_*` values.
//! - [`address`]: the address policy (no private, loopback, link-local ... addresses).
//! - [`resolve`]: hickory-resolver with the policy and the port override, also used by reqwest.
//! - [`health`]: the crawler's own health: its runtime's lag, the stall that makes a failure
//!   ours (`inconclusive`), and the adaptive limit on visits in flight.
//! - [`cache`]: the documents kept for conditional requests (`ETag`, `Last-Modified`, 304) and
//!   reuse while fresh, bounded in entries and bytes.
//! - [`http`]: the one `reqwest::Client` of a crawl; capped, timed requests; errors as outcomes.
//! - [`robots`]: robots.txt rules for our token.
//! - [`politeness`]: per-host turns and intervals, per-IP and global caps, request rates
//!   (governor), rate-limit holds.
//! - [`visit`]: one visit of one host, from its name to an `Observation` (the outcome table).
//! - [`discovery`]: the [`Frontier`] trait and [`MemoryFrontier`]: queue, provenance, peer edges,
//!   per-domain budgets.
//! - [`crawl`]: the [`Crawler`] and one crawl cycle ([`Crawler::crawl_once`]).
//! - [`schedule`]: when to visit a host again ([`schedule::next_due`], pure).
//! - [`geo`]: the country and network of a visit's address, from the operator's MaxMind-format
//!   databases.
//! - [`error`]: the crawler's own failures (a failed server is an `Outcome`, not an error).

pub mod address;
pub mod cache;
pub mod config;
pub mod crawl;
pub mod discovery;
pub mod error;
pub mod geo;
pub mod health;
pub mod http;
pub mod politeness;
pub mod resolve;
pub mod robots;
pub mod schedule;
pub mod visit;

pub use cache::{CacheLimits, CacheReport};
pub use config::{CrawlerConfig, NetworkConfig, VisitPlan};
pub use crawl::{CrawlRun, CrawlSummary, Crawler};
pub use discovery::{Admission, Frontier, MemoryFrontier, Provenance};
pub use error::{Error, Result};
pub use geo::{GeoDatabases, GeoError};
pub use health::{Health, HealthReport};
pub use visit::{Clock, RequestRecord, VisitReport};
