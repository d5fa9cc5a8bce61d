//! The fedicensus crawler: discovery through peer lists, polite HTTP, and one `Observation` per
//! server visit.
//!
//! Not written yet (its issue builds on the simulated fediverse). Its boundaries are already
//! fixed and checked in CI: it depends on `fedicensus-core` and never on storage; the binary
//! carries its observations to storage through a channel.
