//! Integration tests of the simulated fediverse.
mod support;
mod transport;
mod truth; mod world;
