//! Integration tests of the simulated fediverse.
mod support;
mod transport;
