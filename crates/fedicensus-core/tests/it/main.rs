//! Integration tests of fedicensus-core: every real fixture parsed (one test each), the host
//! normalisation rules, the version normaliser on real-world versions, and parsers fed garbage.
//!
//! Fixtures are read in place from the repository's `fixtures/real` (see its SOURCES.tsv); the
//! documents of `fixtures/corpus` are checked against their expected values, one row each
//! (`corpus.rs`).

mod blocks;
mod corpus;
mod fixtures;
mod host;
mod languages;
mod no_panic;
mod quirks;
mod reference;
mod versions;

/// The bytes of a fixture under `fixtures/real`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/../../fixtures/real/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read fixture {full}: {e}"))
}
