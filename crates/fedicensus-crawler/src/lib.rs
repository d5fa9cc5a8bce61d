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
//! - [`http`]: the one `reqwest::Client` of a crawl; capped, timed requests; errors as outcomes.
//! - [`robots`]: robots.txt rules for our token.
//! - [`politeness`]: per-host turns and intervals, per-IP and global caps, rate-limit holds.
//! - [`error`]: the crawler's own failures (a failed server is an `Outcome`, not an error).

pub mod address;
pub mod config;
pub mod error;
pub mod http;
pub mod politeness;
pub mod resolve;
pub mod robots;

pub use config::{CrawlerConfig, NetworkConfig};
pub use error::{Error, Result};
