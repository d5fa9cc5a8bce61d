//! Integration tests of the crawler against the simulated fediverse.
