//! Integration tests of the simulated fediverse.
mod caching;
mod conformance;
mod documents;
mod failures;
mod learned;
mod lemmy_world;
mod support;
mod transport;
mod truth;
mod world;
