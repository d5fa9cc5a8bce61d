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
        "robots_opted_out",
        "serves_peers",
        "sibling_of",
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

#[test]
fn simulate_serves_a_world_that_answers_by_host_name_on_the_printed_port() {
    use crate::support::{printed_after, simulator_get, wait_until_serving};
    use std::process::Stdio;

    let dir = std::env::temp_dir().join(format!("fedicensus-e2e-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let ca = dir.join("ca.pem");
    let mut child = fedicensus()
        .args([
            "simulate",
            "--servers",
            "60",
            "--failures",
            "none",
            "--latency-ms",
            "0",
        ])
        .args(["--at", "2022-11-15", "--ca-file"])
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let printed = wait_until_serving(child.stdout.take().expect("piped stdout"));
    let port: u16 = printed_after(&printed, "HTTP and HTTPS   port ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in:\n{printed}"));
    assert!(printed.contains("DNS server"), "{printed}");
    assert!(printed.contains(&ca.display().to_string()), "{printed}");
    assert!(std::fs::read_to_string(&ca)
        .expect("the CA file")
        .contains("BEGIN CERTIFICATE"));

    let get = |host: &str, path: &str| simulator_get(port, host, path);
    let truth = get("sim.control", "/truth.csv?at=2022-11-15");
    assert!(truth.starts_with("HTTP/1.1 200"), "{truth}");
    let domain = truth
        .lines()
        .skip_while(|l| !l.starts_with("domain,"))
        .nth(1)
        .and_then(|row| row.split(',').next())
        .expect("a server row")
        .to_string();
    let well_known = get(&domain, "/.well-known/nodeinfo");
    assert!(well_known.starts_with("HTTP/1.1 200"), "{well_known}");
    assert!(
        well_known.contains("nodeinfo.diaspora.software/ns/schema/"),
        "{well_known}"
    );
    let unknown = get("no-such-server.example", "/.well-known/nodeinfo");
    assert!(unknown.starts_with("HTTP/1.1 421"), "{unknown}");

    child.kill().expect("stops");
    child.wait().expect("exits");
    let _ = std::fs::remove_dir_all(&dir);
}
