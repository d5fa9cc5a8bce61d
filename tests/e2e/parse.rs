//! `fedicensus parse`: the real binary on real fixtures agrees with the core crate's own tests, and
//! it (like `simulate --truth`) ends quietly when its reader stops early (`| head`).

use crate::fedicensus;
use serde_json::Value;
use std::process::Output;

fn fixture(path: &str) -> String {
    format!("{}/../fixtures/real/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn parse(kind: &str, arg: &str) -> Output {
    fedicensus()
        .args(["parse", kind, arg])
        .output()
        .expect("the binary runs")
}

fn json_of(kind: &str, path: &str) -> Value {
    let out = parse(kind, &fixture(path));
    assert!(
        out.status.success(),
        "{kind} {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn measurement(json: &Value, metric: &str) -> Option<u64> {
    json["measurements"]
        .as_array()?
        .iter()
        .find(|m| m["metric"] == metric)
        .and_then(|m| m["value"].as_u64())
}

#[test]
fn parse_nodeinfo_reads_pixelfed_string_numbers() {
    let json = json_of(
        "nodeinfo",
        "pixelfed/nodeinfo-2.0-pixelfed-0.11.2-string-numbers.json",
    );
    assert_eq!(json["document"]["usage"]["users_total"], 16);
    assert_eq!(json["document"]["software"]["family"], "pixelfed");
    assert_eq!(measurement(&json, "users_total"), Some(16));
    assert_eq!(measurement(&json, "local_posts"), Some(60));
    assert_eq!(json["measurements"][0]["source"], "nodeinfo");
}

#[test]
fn parse_nodeinfo_leaves_a_missing_count_absent() {
    let json = json_of(
        "nodeinfo",
        "lemmy/nodeinfo-2.0-lemmy-0.18.5-missing-services-metadata.json",
    );
    assert_eq!(json["document"]["usage"]["users_active_week"], Value::Null);
    assert_eq!(measurement(&json, "users_active_week"), None);
    assert_eq!(measurement(&json, "users_total"), Some(149_738));
}

#[test]
fn parse_well_known_resolves_a_schemeless_href() {
    let out = fedicensus()
        .args([
            "parse",
            "well-known",
            &fixture("misc/well-known-nodeinfo-movary-dev-rel-self-schemeless-href.json"),
            "--url",
            "https://movary.test/.well-known/nodeinfo",
        ])
        .output()
        .expect("the binary runs");
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["chosen"]["version"], "2.1");
    assert_eq!(json["chosen"]["href"], "https://movary.test/nodeinfo/2.1");
}

#[test]
fn parse_peers_reports_normalisation_of_the_mastodon_social_list() {
    let json = json_of(
        "peers",
        "mastodon/api-v1-instance-peers-mastodon.social-2026-08-full.json",
    );
    assert_eq!(measurement(&json, "peer_count"), Some(121_644));
    assert_eq!(json["normalised"]["hosts"], 121_621);
    assert_eq!(json["normalised"]["duplicates"], 6);
    assert_eq!(json["normalised"]["rejected"]["ip_literal"], 8);
}

#[test]
fn parse_instance_v1_sniffs_pleroma() {
    let json = json_of("instance-v1", "pleroma/api-v1-instance-pleroma-2.0.7.json");
    assert_eq!(json["document"]["software"], "pleroma");
    assert_eq!(json["document"]["version"], "2.0.7");
    assert_eq!(measurement(&json, "domain_count"), Some(9302));
}

#[test]
fn parse_host_normalises_unicode_and_refuses_ips() {
    let out = parse("host", "https://user@Social.λ.zone:443/x");
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["host"], "social.xn--wxa.zone");
    assert_eq!(json["crawlable"], true);
    let out = parse("host", "8.8.8.8");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ip_literal"));
}

#[test]
fn parse_fails_with_exit_1_naming_the_path_or_the_reason() {
    let out = parse("nodeinfo", "/nonexistent/nodeinfo.json");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/nodeinfo.json"));

    let out = parse(
        "nodeinfo",
        &fixture("nodeinfo2/x-nodeinfo2-1.0-example.json"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("software"));

    let out = parse("no-such-kind", &fixture("spec/nodeinfo-2.0-example.json"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("well-known") && stderr.contains("peertube-stats"),
        "{stderr}"
    );
}

/// Runs `fedicensus ARGS` with standard output a pipe whose reader takes `keep` bytes and then
/// closes it, as `| head -c KEEP` does; returns the exit status and standard error.
fn with_stdout_closed_after(args: &[&str], keep: usize) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = fedicensus()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdout = child.stdout.take().expect("a piped stdout");
    let mut first = vec![0; keep];
    stdout
        .read_exact(&mut first)
        .expect("the first bytes arrive");
    drop(stdout);
    let out = child.wait_with_output().expect("the binary ends");
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn parse_into_a_pipe_closed_early_exits_quietly_with_status_0() {
    // The full mastodon.social peer list prints as megabytes of JSON: far more than a pipe holds.
    let peers = fixture("mastodon/api-v1-instance-peers-mastodon.social-2026-08-full.json");
    let (status, stderr) = with_stdout_closed_after(&["parse", "peers", &peers], 100);
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "stderr: {stderr}");
    assert_eq!(stderr.trim(), "");
}

#[test]
fn simulate_truth_into_a_pipe_closed_early_exits_quietly_with_status_0() {
    // Two thousand servers' rows are far more than a pipe holds.
    let (status, stderr) = with_stdout_closed_after(
        &[
            "simulate",
            "--servers",
            "2000",
            "--seed",
            "3",
            "--truth",
            "2022-11-01",
        ],
        100,
    );
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}
