//! A simulated fediverse, for tests, benchmarks and the offline demo.
//!
//! No machine fedicensus is built on can reach the internet, so this crate stands in for it: a
//! world of virtual servers generated from a seed ([`world`]), calibrated to the real fediverse
//! ([`scenario`]), answering the endpoints real software answers in the shapes real documents have
//! ([`endpoints`]), and failing the ways real servers fail ([`failure`]). One process serves the
//! whole world on loopback over HTTP, HTTPS (certificates issued per name by a local CA) and DNS
//! ([`serve`]), so a crawler's production code paths run unchanged; only where names resolve,
//! which CA is trusted and which ports connect differ from a real crawl.
//!
//! The simulator knows the truth: it writes the ground truth of any date ([`truth`]; who
//! blocks whom in [`blocks`]), logs every
//! request it served, and computes the least time any crawler could take to crawl it
//! ([`lower_bound`]), so tests can say how right and how polite a crawler was, not only that it
//! ran.
//!
//! Architecture invariant: this crate depends on `fedicensus-core` only, never on the crawler. A
//! simulator that shared the crawler's parsing would hide the crawler's bugs.

pub mod blocks;
pub mod clock;
pub mod endpoints;
pub mod failure;
pub mod hosting;
pub mod languages;
pub mod lower_bound;
pub mod names;
pub mod response;
pub mod scenario;
pub mod serve;
pub mod truth;
pub mod world;

pub use clock::SimClock;
pub use failure::{Adversaries, Failure, FailureMix, Quirk, Quirks};
pub use response::{SimBody, SimRequest, SimResponse};
pub use world::{
    Adversary, Figures, LatencyModel, Scenario, Server, ServerId, ServerState, World, WorldConfig,
};
