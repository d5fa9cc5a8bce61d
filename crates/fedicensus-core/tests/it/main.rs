//! Integration tests of fedicensus-core against the real fixtures.
