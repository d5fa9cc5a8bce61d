//! Block lists end to end: `fedicensus demo` (which reads block lists) builds a census of a small
//! simulated world over the whole scenario, and its stored block edges, read with plain SQL so
//! that nothing of the storage crate's logic is trusted, are checked against the simulator's
//! truth: every edge is a block the truth has, in place at its first and last sighting, with its
//! severity and comment; every block in place at a blocker's first and latest read is an edge
//! from that read; and obfuscated entries name the server their digest is, when the census knows
//! it, and nothing otherwise.

use crate::fedicensus;
use crate::support::block_on;
use chrono::{DateTime, Utc};
use fedicensus_sim::blocks::{blocks_of, published, SimBlock};
use fedicensus_sim::{LatencyModel, Scenario, World, WorldConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;

const SERVERS: u32 = 400;
const SEED: u64 = 11;

/// How long after its recorded instant (the start of its visit) a block list may have been
/// read: a visit's requests follow each other, on a busy machine by seconds.
fn read_within() -> chrono::TimeDelta {
    chrono::TimeDelta::minutes(15)
}

/// (blocker, published, digest, blocked, severity, comment, first_seen, last_seen)
type Edge = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
);

#[test]
fn the_demos_block_edges_are_the_simulators_blocks_with_their_dates() {
    let dir = std::env::temp_dir().join(format!("fedicensus-e2e-blocks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let db = dir.join("demo.db");
    let out = fedicensus()
        .args(["demo", "--no-serve", "--servers", &SERVERS.to_string()])
        .args(["--seed", &SEED.to_string(), "--db"])
        .arg(&db)
        .stderr(Stdio::null())
        .output()
        .expect("the demo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (lists, edges, known) = block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("the database opens");
        let lists: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT s.domain, l.first_read, l.last_read FROM block_lists l \
             JOIN servers s ON s.id = l.server_id",
        )
        .fetch_all(&pool)
        .await
        .expect("block lists");
        let edges: Vec<Edge> = sqlx::query_as(
            "SELECT s.domain, e.published, e.digest, e.blocked, e.severity, e.comment, \
             e.first_seen, e.last_seen FROM block_edges e JOIN servers s ON s.id = e.blocker_id",
        )
        .fetch_all(&pool)
        .await
        .expect("block edges");
        let known: Vec<(String,)> = sqlx::query_as("SELECT domain FROM servers")
            .fetch_all(&pool)
            .await
            .expect("servers");
        pool.close().await;
        (lists, edges, known)
    });
    let _ = std::fs::remove_dir_all(&dir);
    let known: BTreeSet<String> = known.into_iter().map(|(d,)| d).collect();
    let world = World::generate(WorldConfig {
        servers: Some(SERVERS as usize),
        latency: LatencyModel::ZERO,
        ..WorldConfig::new(Scenario::Migration2022, SEED)
    });
    let truth: BTreeMap<&str, Vec<SimBlock>> = world
        .servers()
        .iter()
        .map(|s| (s.domain.as_str(), blocks_of(&world, s)))
        .collect();
    // Two obfuscated names may share a pattern: their digests tell them apart.
    let find = |blocker: &str, published: &str, severity: &str, digest: Option<&str>| {
        truth.get(blocker)?.iter().find(|b| {
            b.published_domain() == published
                && b.severity == severity
                && (!b.obfuscated || digest == Some(b.digest().as_str()))
        })
    };
    // Mastodon publishes from 4.0 (mid-November 2022 in this world), so most lists come late.
    assert!(lists.len() > 10, "only {} block lists read", lists.len());
    assert!(edges.len() > 30, "only {} block edges", edges.len());

    let mut matched = 0;
    let mut wrong: Vec<String> = Vec::new();
    for e in &edges {
        let (blocker, published, digest, blocked, severity, comment, first, last) = e;
        let Some(b) = find(blocker, published, severity, digest.as_deref()) else {
            wrong.push(format!("{e:?}: no such block in the truth"));
            continue;
        };
        // In place when the list was read: from before the end of the first read's visit,
        // until after the last read's start.
        if b.from > *first + read_within() || b.until.is_some_and(|u| u <= *last) {
            wrong.push(format!("{e:?}: not in place then: {b:?}"));
        }
        if comment.as_deref() != b.comment {
            wrong.push(format!("{e:?}: comment, truth {:?}", b.comment));
        }
        // Matched by digest to a server the census knows, and only then.
        let want_blocked = if !b.obfuscated || known.contains(&b.target) {
            Some(b.target.as_str())
        } else {
            None
        };
        if blocked.as_deref() != want_blocked {
            wrong.push(format!("{e:?}: blocked, truth {want_blocked:?}"));
        }
        if b.obfuscated {
            if digest.as_deref() != Some(b.digest().as_str()) {
                wrong.push(format!("{e:?}: digest"));
            }
            if want_blocked.is_some() {
                matched += 1;
            }
        }
    }
    // At each blocker's first and latest read, its list was the truth's published list.
    let mut lifted = 0;
    for (blocker, first_read, last_read) in &lists {
        let server = world.lookup(blocker).expect("a server of the world");
        for (read, field) in [(first_read, "first"), (last_read, "last")] {
            let Some(want) = published(&world, server, *read) else {
                wrong.push(format!("{blocker}: read at {read} but not published"));
                continue;
            };
            // The blocks in place through the whole visit.
            for b in want.iter().filter(|b| b.active(*read + read_within())) {
                let found = edges.iter().any(|e| {
                    &e.0 == blocker
                        && e.1 == b.published_domain()
                        && e.4 == b.severity
                        && (!b.obfuscated || e.2.as_deref() == Some(b.digest().as_str()))
                        && if field == "first" {
                            e.6 == *read
                        } else {
                            e.7 == *read
                        }
                });
                if !found {
                    wrong.push(format!(
                        "{blocker} at its {field} read {read}: {b:?} missing"
                    ));
                }
            }
        }
        lifted += edges
            .iter()
            .filter(|e| &e.0 == blocker && e.7 < *last_read)
            .count();
    }
    println!(
        "{} lists read, {} edges, {lifted} no longer listed, {matched} obfuscated matched",
        lists.len(),
        edges.len()
    );
    assert!(
        wrong.is_empty(),
        "{} disagreements with the truth: {:#?}",
        wrong.len(),
        &wrong[..wrong.len().min(20)]
    );
    assert!(lifted > 0 && matched > 0);
}
