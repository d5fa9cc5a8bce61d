//! Peer lists are recorded when they change (migration 0005), and every reader still sees each
//! edge's first and last sighting as if every edge had been written at every read. Each history
//! is recorded both one visit at a time and in one bulk batch, under two names per server.

use crate::support::*;
use chrono::{DateTime, Utc};
use fedicensus_core::{Observation, Software};
use fedicensus_storage::{Export, Storage};

crate::conformance!(
    an_unchanged_peer_list_still_advances_each_edges_last_sighting,
    an_edge_that_leaves_closes_at_the_previous_read_and_reopens_when_it_returns,
    an_empty_list_closes_every_edge,
    an_older_list_replayed_widens_the_intervals_it_touches,
    the_peer_edge_export_shows_the_last_sighting_of_open_edges,
);

/// Visits of `from` (under `suffix`) listing the given peers.
fn visits(from: &str, suffix: &str, lists: &[(DateTime<Utc>, &[&str])]) -> Vec<Observation> {
    lists
        .iter()
        .map(|(at, peers)| {
            let mut o = ok(
                &format!("{from}.{suffix}"),
                *at,
                Software::Mastodon,
                100,
                Some(40),
            );
            o.peers = Some(
                peers
                    .iter()
                    .map(|p| host(&format!("{p}.{suffix}")))
                    .collect(),
            );
            o
        })
        .collect()
}

/// Records the lists one by one (`seq`) and in one batch (`bulk`), and returns each way's edges
/// of `from` as (peer, first seen, last seen), which must agree.
async fn edges_after(
    s: &Storage,
    from: &str,
    lists: &[(DateTime<Utc>, &[&str])],
) -> anyhow::Result<Vec<(String, DateTime<Utc>, DateTime<Utc>)>> {
    for o in visits(from, "seq", lists) {
        s.record_observation(&o, None).await?;
    }
    s.ingest_bulk(&visits(from, "bulk", lists), None).await?;
    let seq = sightings(s, from, "seq").await?;
    assert_eq!(
        seq,
        sightings(s, from, "bulk").await?,
        "one by one and in bulk disagree"
    );
    Ok(seq)
}

/// The edges of `from` under `suffix` as (peer without the suffix, first seen, last seen).
async fn sightings(
    s: &Storage,
    from: &str,
    suffix: &str,
) -> anyhow::Result<Vec<(String, DateTime<Utc>, DateTime<Utc>)>> {
    let tail = format!(".{suffix}");
    Ok(s.peers_of(&host(&format!("{from}{tail}")))
        .await?
        .into_iter()
        .map(|e| {
            edge(
                e.to.as_str().trim_end_matches(&tail),
                e.first_seen,
                e.last_seen,
            )
        })
        .collect())
}

fn edge(
    to: &str,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
) -> (String, DateTime<Utc>, DateTime<Utc>) {
    (to.to_owned(), first, last)
}

async fn an_unchanged_peer_list_still_advances_each_edges_last_sighting(
    s: Storage,
) -> anyhow::Result<()> {
    let list: &[&str] = &["b", "c"];
    let edges = edges_after(
        &s,
        "a",
        &[(day(11, 1), list), (day(11, 2), list), (day(11, 3), list)],
    )
    .await?;
    assert_eq!(
        edges,
        vec![
            edge("b", day(11, 1), day(11, 3)),
            edge("c", day(11, 1), day(11, 3))
        ]
    );
    Ok(())
}

async fn an_edge_that_leaves_closes_at_the_previous_read_and_reopens_when_it_returns(
    s: Storage,
) -> anyhow::Result<()> {
    let both: &[&str] = &["b", "c"];
    let only_b: &[&str] = &["b"];
    let gone = edges_after(
        &s,
        "a",
        &[
            (day(11, 1), both),
            (day(11, 2), both),
            (day(11, 3), only_b),
            (day(11, 4), only_b),
        ],
    )
    .await?;
    assert_eq!(
        gone,
        vec![
            edge("b", day(11, 1), day(11, 4)),
            edge("c", day(11, 1), day(11, 2))
        ]
    );
    // It comes back: one interval from the first to the last sighting.
    let back = edges_after(
        &s,
        "x",
        &[(day(11, 1), both), (day(11, 3), only_b), (day(11, 5), both)],
    )
    .await?;
    assert_eq!(
        back,
        vec![
            edge("b", day(11, 1), day(11, 5)),
            edge("c", day(11, 1), day(11, 5))
        ]
    );
    // A list that names a server for the first time still reveals it.
    let d = s.server_history(&host("d.seq")).await;
    assert!(d.is_err(), "d.seq is not known yet");
    edges_after(&s, "y", &[(day(11, 1), only_b), (day(11, 2), &["b", "d"])]).await?;
    let d = s.server_history(&host("d.seq")).await?;
    assert_eq!(
        (d.revealed_by.as_str(), d.first_seen),
        ("y.seq", day(11, 2))
    );
    Ok(())
}

async fn an_empty_list_closes_every_edge(s: Storage) -> anyhow::Result<()> {
    let edges = edges_after(
        &s,
        "a",
        &[
            (day(11, 1), &["b", "c"]),
            (day(11, 2), &[]),
            (day(11, 3), &[]),
        ],
    )
    .await?;
    assert_eq!(
        edges,
        vec![
            edge("b", day(11, 1), day(11, 1)),
            edge("c", day(11, 1), day(11, 1))
        ]
    );
    Ok(())
}

async fn an_older_list_replayed_widens_the_intervals_it_touches(s: Storage) -> anyhow::Result<()> {
    // The newest list first, then an older visit replayed (an import, a resumed write).
    s.record_observation(&visits("a", "seq", &[(day(11, 5), &["b"])])[0], None)
        .await?;
    s.record_observation(&visits("a", "seq", &[(day(11, 1), &["b", "c"])])[0], None)
        .await?;
    assert_eq!(
        sightings(&s, "a", "seq").await?,
        vec![
            edge("b", day(11, 1), day(11, 5)),
            edge("c", day(11, 1), day(11, 1))
        ]
    );
    // A newer read of the same list carries b on and leaves c where it was.
    s.record_observation(&visits("a", "seq", &[(day(11, 6), &["b"])])[0], None)
        .await?;
    assert_eq!(
        sightings(&s, "a", "seq").await?,
        vec![
            edge("b", day(11, 1), day(11, 6)),
            edge("c", day(11, 1), day(11, 1))
        ]
    );
    Ok(())
}

async fn the_peer_edge_export_shows_the_last_sighting_of_open_edges(
    s: Storage,
) -> anyhow::Result<()> {
    edges_after(
        &s,
        "a",
        &[
            (day(11, 1), &["b", "c"]),
            (day(11, 2), &["b"]),
            (day(11, 3), &["b"]),
        ],
    )
    .await?;
    let mut buffer = Vec::new();
    s.export_csv(&Export::PeerEdges, &mut buffer).await?;
    let text = String::from_utf8(buffer)?;
    assert!(
        text.contains("a.seq,b.seq,2022-11-01T12:00:00Z,2022-11-03T12:00:00Z"),
        "{text}"
    );
    assert!(
        text.contains("a.seq,c.seq,2022-11-01T12:00:00Z,2022-11-01T12:00:00Z"),
        "{text}"
    );
    Ok(())
}
