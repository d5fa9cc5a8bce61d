//! End-to-end tests of the real `fedicensus` binary live in `e2e/main.rs`; this library is empty.
