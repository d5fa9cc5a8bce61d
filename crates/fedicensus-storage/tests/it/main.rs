//! The storage conformance suite: every test runs on SQLite (a fresh file each) and, when
//! `FEDICENSUS_TEST_POSTGRES_URL` is set, on PostgreSQL (a fresh database each, dropped after).
//! The same assertions on both backends are what "same behaviour" means.
//!
//! Test names are sentences; each appears as `sqlite::NAME` and `postgres::NAME`.

mod harness;
mod support;

mod blocks;
mod bulk;
mod conformance;
mod coverage;
mod downsample;
mod geo;
mod horizon;
mod inflation;
mod languages;
mod migration;
mod opt_outs;
mod parquet;
mod peers;
mod reference;
mod requests;
mod rollup;
mod siblings;
mod transfer;

/// Says that a test (or its PostgreSQL half) did not run and why, visibly: on standard error,
/// and as a line in the file `FEDICENSUS_SKIPPED_LOG` names when set, which `.ci/run` counts as
/// skipped rather than passed.
pub fn skipped(why: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    eprintln!("SKIPPED {test}: {why}");
    if let Ok(log) = std::env::var("FEDICENSUS_SKIPPED_LOG") {
        use std::io::Write;
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(file, "{test}: {why}");
        }
    }
}
