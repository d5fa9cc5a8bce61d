//! What a command does with a database that is not there: only `migrate`, `crawl` and `demo`
//! create one; every other command refuses a missing SQLite file by name (exit status 2) and
//! leaves nothing behind, and a PostgreSQL server that is down or lacks the database says so at
//! once, in an operator's words.

use crate::fedicensus;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fedicensus-e2e-db-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

#[test]
fn commands_that_read_a_census_refuse_a_missing_sqlite_file_and_create_nothing() {
    let dir = scratch("missing");
    let typo = dir.join("typo.db");
    let typo_arg = typo.display().to_string();
    let out = dir.join("out");
    let out_arg = out.display().to_string();
    let existing = dir.join("census.db");
    let existing_arg = existing.display().to_string();
    let migrated = fedicensus()
        .args(["migrate", "--db", &existing_arg])
        .output()
        .expect("migrate runs");
    assert!(migrated.status.success(), "{migrated:?}");
    let commands: Vec<Vec<&str>> = vec![
        vec!["serve", "--listen", "127.0.0.1:0", "--db", &typo_arg],
        vec!["export", "--out", &out_arg, "--db", &typo_arg],
        vec!["export-tables", "--out", &out_arg, "--db", &typo_arg],
        vec!["import", "--dir", &out_arg, "--db", &typo_arg],
        vec!["copy", "--to", &existing_arg, "--from", &typo_arg],
        vec!["copy", "--from", &existing_arg, "--to", &typo_arg],
        vec!["downsample", "--before", "2022-11-01", "--db", &typo_arg],
        vec![
            "import-reference",
            "--source",
            "joinmastodon",
            "statistics.json",
            "--db",
            &typo_arg,
        ],
    ];
    for args in commands {
        let output = fedicensus().args(&args).output().expect("the binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{typo_arg} does not exist")),
            "{args:?} names the missing file: {stderr}"
        );
        assert!(
            stderr.contains("fedicensus migrate"),
            "{args:?} says how to create one: {stderr}"
        );
        let left: Vec<_> = std::fs::read_dir(&dir)
            .expect("the dir")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.starts_with("typo"))
            .collect();
        assert!(left.is_empty(), "{args:?} left {left:?} behind");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_postgres_server_that_is_down_is_named_at_once() {
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    // Built (when out of date) before the clock starts.
    let mut command = fedicensus();
    let started = Instant::now();
    let output = command
        .args(["export", "--out", "/nonexistent", "--db"])
        .arg("postgres://census@127.0.0.1:1/fedicensus")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}: {stderr}",
        started.elapsed()
    );
    assert!(
        stderr.contains("PostgreSQL server at 127.0.0.1:1 refused the connection"),
        "{stderr}"
    );
    assert!(!stderr.contains("timed out"), "{stderr}");
}

#[test]
fn a_postgres_database_that_does_not_exist_says_createdb() {
    let Ok(url) = std::env::var("FEDICENSUS_TEST_POSTGRES_URL") else {
        crate::skipped("FEDICENSUS_TEST_POSTGRES_URL not set");
        return;
    };
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    let missing = format!("{base}/fedicensus_no_such_db_{}", std::process::id());
    let output = fedicensus()
        .args(["export", "--out", "/nonexistent", "--db", &missing])
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("createdb"), "{stderr}");
    // Each part of the message once: no cause repeated after its parent.
    let first = stderr.lines().next().unwrap_or_default();
    // (The leading `error` label is a word the driver's own text may also use.)
    for part in first.split(": ").skip(1) {
        assert_eq!(
            first.matches(part).count(),
            1,
            "{part:?} repeats in {first}"
        );
    }
}
