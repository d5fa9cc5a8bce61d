//! Integration tests of the simulated fediverse.
mod support;
mod transport;
mod documents; mod failures;
mod truth; mod world;
