//! fedicensus storage: the survivorship-free time series of the fediverse, in SQLite by default
//! and PostgreSQL at scale. All SQL lives in this crate.
//!
//! Not written yet (its issue follows the simulator's). Its boundaries are already fixed and
//! checked in CI: it depends on `fedicensus-core` and never on the crawler.
