//! The consumer conformance suite: every document the simulator's Lemmy servers serve is read by
//! the types a real client of that Lemmy release used (`lemmy_api_common` and the crates under
//! it, the same types lemmy-stats-crawler and other Rust clients deserialize into), not by
//! fedicensus's lenient parser.
//!
//! Lemmy writes its answers by serializing those very types, so the check is strict both ways:
//! the document must deserialize (no missing field, no wrong type, no timestamp the era could
//! not read), and writing the parsed value back with the same types must give the same JSON (no
//! field the era did not have, no `null` where it skipped `None`s, nothing lost). Where a type is
//! vendored rather than depended on, its module says why and where it was copied from.
//! docs/LEMMY-VERSIONS.md lists what differs between the eras.

mod lemmy_0_15;
mod lemmy_0_17;
mod lemmy_0_17_1;
mod lemmy_0_18;
mod lemmy_0_18_0;
mod lemmy_nodeinfo;

use chrono::{DateTime, TimeZone, Utc};
use fedicensus_core::Software;
use fedicensus_sim::endpoints::Handler;
use fedicensus_sim::{
    FailureMix, Scenario, Server, SimBody, SimClock, SimRequest, World, WorldConfig,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `my_user` for a client that sends no login token, as a crawler: always `None`. Uninhabited,
/// so a logged-in user's data in a public answer is rejected.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum LoggedOut {}

/// A release line of Lemmy, whose site answer has one set of types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Era {
    V015,
    V016,
    /// 0.17.0 and 0.17.1: their `LocalSite` differs from 0.17.4's.
    V0170,
    V017,
    /// 0.18.0 alone: its `LocalSite` and `Person` differ from 0.18.1's.
    V0180,
    V018,
}

fn era(version: &str) -> Option<Era> {
    let mut parts = version
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    match (parts.next(), parts.next()) {
        (Some(0), Some(15)) => Some(Era::V015),
        (Some(0), Some(16)) => Some(Era::V016),
        (Some(0), Some(17)) if version.starts_with("0.17.0") || version.starts_with("0.17.1") => {
            Some(Era::V0170)
        }
        (Some(0), Some(17)) => Some(Era::V017),
        (Some(0), Some(18)) if version.starts_with("0.18.0") => Some(Era::V0180),
        (Some(0), Some(18)) => Some(Era::V018),
        _ => None,
    }
}

fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// Where two JSON values differ, as paths (at most a few), for a message a person can act on.
fn differences(path: &str, served: &Value, written: &Value, out: &mut Vec<String>) {
    if out.len() >= 8 || served == written {
        return;
    }
    match (served, written) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => differences(&format!("{path}.{k}"), v, w, out),
                    None => out.push(format!("{path}.{k}: served, but not a field of the type")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!(
                    "{path}.{k}: the type writes it, the server left it out"
                ));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}[{i}]"), v, w, out);
            }
        }
        _ => out.push(format!(
            "{path}: served {served}, the type writes {written}"
        )),
    }
}

/// Reads `body` with `T` and writes it back: `Err` says what a real client rejects, or what the
/// real server would have written differently.
fn conforms<T: DeserializeOwned + Serialize>(body: &[u8]) -> Result<(), String> {
    let parsed: T =
        serde_json::from_slice(body).map_err(|e| format!("a real client rejects it: {e}"))?;
    let served: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let written = serde_json::to_value(&parsed).map_err(|e| format!("cannot write back: {e}"))?;
    let mut out = Vec::new();
    differences("$", &served, &written, &mut out);
    if out.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "not what the real server writes: {}",
            out.join("; ")
        ))
    }
}

fn get(handler: &Handler, server: &Server, path: &str) -> (u16, Vec<u8>) {
    let response = handler.respond(&SimRequest {
        method: "GET".into(),
        host: server.domain.clone(),
        path: path.into(),
        query: None,
        https: true,
        user_agent: Some("lemmy-stats-crawler".into()),
        accept: Some("application/json".into()),
        if_none_match: None,
        if_modified_since: None,
    });
    let body = match &response.body {
        SimBody::Full(b) => b.to_vec(),
        other => panic!(
            "{} {path}: expected a complete body, got {other:?}",
            server.domain
        ),
    };
    (response.status, body)
}

/// Checks every document of every answering Lemmy server of `world` at `at` against its era's
/// types; returns the failures and how many servers of each version were checked.
fn check_world(world: World, at: DateTime<Utc>) -> (Vec<String>, BTreeMap<String, usize>) {
    let world = std::sync::Arc::new(world);
    let handler = Handler::new(world.clone(), SimClock::starting_at(at));
    let mut failures = Vec::new();
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    for server in world.servers() {
        if server.software != Software::Lemmy
            || server.failure.is_some()
            || server.flood
            || !world.state(server.id, at).alive
            || world.robots_refuses_us(server.id, at)
        {
            continue;
        }
        let version = world.version_at(server.id, at).to_string();
        let Some(era) = era(&version) else {
            failures.push(format!(
                "{}: Lemmy {version} has no era here",
                server.domain
            ));
            continue;
        };
        let mut fail = |what: &str, result: Result<(), String>| {
            if let Err(e) = result {
                failures.push(format!("{} (Lemmy {version}) {what}: {e}", server.domain));
            }
        };
        let (status, site) = get(&handler, server, "/api/v3/site");
        if status != 200 {
            fail("/api/v3/site", Err(format!("status {status}")));
            continue;
        }
        let result = match era {
            Era::V015 => conforms::<lemmy_0_15::GetSiteResponse>(&site),
            Era::V016 => conforms::<lemmy_api_common_0_16::site::GetSiteResponse>(&site),
            Era::V0170 => conforms::<lemmy_0_17_1::GetSiteResponse>(&site),
            Era::V017 => conforms::<lemmy_0_17::GetSiteResponse>(&site),
            Era::V0180 => conforms::<lemmy_0_18_0::GetSiteResponse>(&site),
            Era::V018 => conforms::<lemmy_0_18::GetSiteResponse>(&site),
        };
        fail("/api/v3/site", result);
        if era == Era::V0180 {
            // The real 0.18.0 wrote no `inbox_url` and its own `Person` required one.
            let doc: Value = serde_json::from_slice(&site).unwrap_or_default();
            let person = doc["admins"][0]["person"].clone();
            if serde_json::from_value::<lemmy_0_18_0::Person>(person).is_ok() {
                fail(
                    "/api/v3/site",
                    Err("0.18.0's own Person reads it: 0.18.0 wrote no inbox_url".into()),
                );
            }
        }
        let (status, federated) = get(&handler, server, "/api/v3/federated_instances");
        if era >= Era::V0180 {
            let result = conforms::<lemmy_0_18::GetFederatedInstancesResponse>(&federated);
            fail("/api/v3/federated_instances", result);
        } else if status != 404 {
            fail(
                "/api/v3/federated_instances",
                Err(format!("{status}, but it came with 0.18")),
            );
        }
        // NodeInfo quirks are real servers' deviations from their own types (Lemmy#4762 and
        // the like): only servers without a quirk are held to the types.
        if server.quirks.is_empty() {
            let (_, well_known) = get(&handler, server, "/.well-known/nodeinfo");
            fail(
                "/.well-known/nodeinfo",
                conforms::<lemmy_nodeinfo::NodeInfoWellKnown>(&well_known),
            );
            let (status, nodeinfo) = get(&handler, server, "/nodeinfo/2.0.json");
            if status != 200 {
                fail("/nodeinfo/2.0.json", Err(format!("status {status}")));
            } else {
                fail(
                    "/nodeinfo/2.0.json",
                    conforms::<lemmy_nodeinfo::NodeInfo>(&nodeinfo),
                );
            }
            let (status, _) = get(&handler, server, "/nodeinfo/2.1");
            if status != 404 {
                fail(
                    "/nodeinfo/2.1",
                    Err(format!("{status}, but it came with 0.19.4")),
                );
            }
        }
        *checked.entry(version).or_default() += 1;
    }
    (failures, checked)
}

fn assert_conforms(failures: &[String], checked: &BTreeMap<String, usize>) {
    assert!(
        failures.is_empty(),
        "{} documents that real clients of their era reject or that their servers did not \
         write (of {checked:?}):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_lemmy_document_of_the_migration_world_reads_with_its_releases_types() {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (seed, failures_mix, at) in [
        (11, FailureMix::default(), utc(2022, 9, 2)),
        (11, FailureMix::default(), utc(2022, 11, 15)),
        (12, FailureMix::none(), utc(2022, 12, 20)),
    ] {
        let config = WorldConfig {
            servers: Some(6_000),
            failures: failures_mix,
            ..WorldConfig::new(Scenario::Migration2022, seed)
        };
        let (failures, checked) = check_world(World::generate(config), at);
        assert_conforms(&failures, &checked);
        for (version, n) in checked {
            *seen.entry(version).or_default() += n;
        }
    }
    eprintln!("Lemmy servers checked, by release: {seen:?}");
    // Every release the scenario runs was checked, each by more than a handful of servers.
    for version in ["0.15.2", "0.16.4", "0.16.6", "0.16.7"] {
        assert!(
            seen.get(version).copied().unwrap_or(0) >= 3,
            "Lemmy {version} was hardly checked: {seen:?}"
        );
    }
}

/// The releases no scenario runs, on the migration world's Lemmy servers: each server runs one
/// of them for the test. 0.17.0 and 0.17.1 (January and February 2023) were out of date before
/// the lemmy-2023 world starts on 2023-05-01.
#[test]
fn every_lemmy_document_of_the_releases_no_scenario_runs_reads_with_its_releases_types() {
    const RELEASES: &[&str] = &["0.17.0", "0.17.1"];
    let config = WorldConfig {
        servers: Some(8_000),
        failures: FailureMix::none(),
        ..WorldConfig::new(Scenario::Migration2022, 12)
    };
    let mut world = World::generate(config);
    let lemmy: Vec<_> = world
        .servers()
        .iter()
        .filter(|s| s.software == Software::Lemmy)
        .map(|s| s.id)
        .collect();
    for (k, id) in lemmy.into_iter().enumerate() {
        world = world.with_version(id, RELEASES[k % RELEASES.len()]);
    }
    let (failures, checked) = check_world(world, utc(2022, 11, 15));
    assert_conforms(&failures, &checked);
    eprintln!("Lemmy servers checked, by release: {checked:?}");
    for version in RELEASES {
        assert!(
            checked.get(*version).copied().unwrap_or(0) >= 2,
            "Lemmy {version} was hardly checked: {checked:?}"
        );
    }
}

/// The lemmy-2023 world (the Lemmy growth of June 2023) through the year: every Lemmy release
/// it runs, read with that release's types, before, during and after the wave.
#[test]
fn every_lemmy_document_of_the_lemmy_2023_world_reads_with_its_releases_types() {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (seed, failures_mix, at) in [
        (21, FailureMix::default(), utc(2023, 5, 2)),
        (21, FailureMix::default(), utc(2023, 6, 20)),
        (22, FailureMix::none(), utc(2023, 7, 10)),
        (22, FailureMix::none(), utc(2023, 8, 20)),
        (21, FailureMix::default(), utc(2023, 12, 31)),
    ] {
        let config = WorldConfig {
            servers: Some(3_000),
            failures: failures_mix,
            ..WorldConfig::new(Scenario::Lemmy2023, seed)
        };
        let (failures, checked) = check_world(World::generate(config), at);
        assert_conforms(&failures, &checked);
        for (version, n) in checked {
            *seen.entry(version).or_default() += n;
        }
    }
    eprintln!("Lemmy servers checked, by release: {seen:?}");
    // Every release the world runs in 2023 was checked.
    for version in [
        "0.16.7", "0.17.2", "0.17.3", "0.17.4", "0.18.0", "0.18.1", "0.18.2", "0.18.3", "0.18.4",
        "0.18.5",
    ] {
        assert!(
            seen.get(version).copied().unwrap_or(0) >= 2,
            "Lemmy {version} was hardly checked: {seen:?}"
        );
    }
}
