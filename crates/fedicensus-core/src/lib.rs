//! Domain types and pure parsing for fedicensus.
//!
//! This crate names the things the rest of the project talks about, in the fediverse's own words.
//! It is shared by the crawler, storage, the dashboard and the simulator, so it stays small and
//! does no I/O: no tokio, no HTTP client, no database (an architecture invariant, checked in CI).
//!
//! Modules:
//! - [`blocks`]: the block lists servers publish (Mastodon's domain blocks, Lemmy's blocked
//!   instances, Pleroma's MRF simple policy), with obfuscated domains kept as published.
//! - [`host`]: [`Host`], a normalised server name, and [`HostError`], why a name was refused.
//! - [`geo`]: the country and network of the address a visit connected to.
//! - [`language`]: the languages a server declares, normalised to BCP 47 primary language tags.
//! - [`observation`]: [`Observation`], what one visit to one server found, and its [`Outcome`].
//! - [`parse`]: lenient parsers for every document a server serves (NodeInfo, its well-known
//!   pointer, the Mastodon instance API, peer lists, Lemmy, Misskey, PeerTube), and the version
//!   normaliser.
//! - [`reference`]: other censuses' published figures (joinmastodon.org, FediDB,
//!   the-federation.info, instances.social), read from files the operator downloaded.
//! - [`software`]: the server software families fedicensus knows, and how a raw NodeInfo
//!   `software.name` maps onto them.

pub mod blocks;
pub mod geo;
pub mod host;
pub mod language;
pub mod observation;
pub mod parse;
pub mod reference;
pub mod software;

pub use blocks::{Block, BlockList, BlockSource};
pub use geo::Location;
pub use host::{Host, HostError, HostKind};
pub use language::DeclaredLanguage;
pub use observation::{
    Flags, Measurement, Metric, Observation, Outcome, SoftwareReport, Source, WeekActivity,
};
pub use parse::ParseError;
pub use reference::{
    parse_reference, ReferenceError, ReferenceFile, ReferencePoint, ReferenceSource,
};
pub use software::Software;
