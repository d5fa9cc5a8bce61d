//! Integration tests of the simulated fediverse.
