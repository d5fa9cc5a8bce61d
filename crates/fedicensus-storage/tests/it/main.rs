//! The storage conformance suite: every test runs on SQLite (a fresh file each) and, when
//! `FEDICENSUS_TEST_POSTGRES_URL` is set, on PostgreSQL (a fresh database each, dropped after).
//! The same assertions on both backends are what "same behaviour" means.
//!
//! Test names are sentences; each appears as `sqlite::NAME` and `postgres::NAME`.

mod harness;
mod support;

mod bulk;
mod conformance;
mod downsample;
mod migration;
mod opt_outs;
mod parquet;
mod peers;
mod requests;
mod rollup;
mod transfer;
