//! End-to-end tests: the real `fedicensus` binary, run as a user would run it.

mod blocks;
mod crawl;
mod dashboard;
mod databases;
mod demo;
mod faults;
mod inflation;
mod live;
mod overload;
mod parse;
mod reference;
mod simulate;
mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The `fedicensus` binary, built once per test run from the current sources (this package cannot
/// depend on a binary, so it asks cargo, which does nothing when the binary is up to date).
pub fn fedicensus() -> Command {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    let path = BINARY.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "fedicensus-cli",
                "--bin",
                "fedicensus",
            ])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the fedicensus binary failed");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
        target.join("debug").join("fedicensus")
    });
    Command::new(path)
}

/// Says that a test did not run and why, visibly: on standard error, and as a line in the file
/// `FEDICENSUS_SKIPPED_LOG` names when set, which `.ci/run` counts as skipped rather than passed.
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
