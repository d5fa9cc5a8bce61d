//! `fedicensus simulate`: the truth CSV, bad arguments, and serving a world.

use crate::fedicensus;

#[test]
fn simulate_truth_writes_one_csv_row_per_server_born_by_the_date() {
    let out = fedicensus()
        .args([
            "simulate",
            "--servers",
            "300",
            "--seed",
            "3",
            "--truth",
            "2022-11-01",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = reader.headers().expect("a header row").clone();
    for column in [
        "domain",
        "alive",
        "reachable",
        "software",
        "users",
        "failure",
    ] {
        assert!(
            headers.iter().any(|h| h == column),
            "no {column} column in {headers:?}"
        );
    }
    let flood = headers
        .iter()
        .position(|h| h == "flood")
        .expect("a flood column");
    let rows: Vec<_> = reader.records().map(|r| r.expect("a CSV row")).collect();
    // The flood (fake subdomains) comes on top of the requested size, scaled with it.
    let real = rows.iter().filter(|r| &r[flood] == "false").count();
    assert!(
        real > 100 && real <= 300,
        "{real} servers in a 300-server world"
    );
    assert!(rows.len() - real <= 5, "{} flood hosts", rows.len() - real);
}

#[test]
fn simulate_truth_is_the_same_for_the_same_seed() {
    let run = |seed: &str| {
        fedicensus()
            .args([
                "simulate",
                "--servers",
                "200",
                "--seed",
                seed,
                "--truth",
                "2022-12-01",
            ])
            .output()
            .expect("runs")
            .stdout
    };
    assert_eq!(run("11"), run("11"));
    assert_ne!(run("11"), run("12"));
}

#[test]
fn simulate_rejects_a_date_outside_the_scenario_and_says_why() {
    let out = fedicensus()
        .args(["simulate", "--truth", "2023-05-01"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("outside the scenario migration-2022 (2022-09-01 to 2022-12-31)"),
        "{stderr}"
    );
}

#[test]
fn simulate_rejects_malformed_arguments_with_usage_errors() {
    for args in [
        &["simulate", "--scenario", "nope"][..],
        &["simulate", "--truth", "yesterday"],
        &["simulate", "--servers", "0"],
        &["simulate", "--listen", "not-an-address"],
        &["simulate", "--failures", "some"],
    ] {
        let out = fedicensus().args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error:"), "{args:?}: {stderr}");
    }
    let out = fedicensus()
        .args(["simulate", "--scenario", "nope"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&out.stderr).contains("known scenarios: migration-2022"));
}
