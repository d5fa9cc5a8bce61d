//! The bulk path stores exactly what recording the same visits one by one stores: the same
//! workload is written both ways into one database under two names per server (`NAME.seq` one by
//! one, `NAME.bulk` in bulk), then every server's history, state, schedule and peers are compared.

use crate::support::*;
use chrono::{DateTime, Duration, Utc};
use fedicensus_core::{Host, Measurement, Metric, Observation, Outcome, Software, Source};
use fedicensus_storage::{ServerHistory, Storage};

crate::conformance!(
    bulk_ingest_stores_what_recording_one_by_one_stores,
    bulk_ingest_of_a_visit_already_stored_changes_nothing,
);

fn renamed(name: &str, suffix: &str) -> Host {
    host(&format!("{name}.{suffix}"))
}

/// The observation with every server name (its own, its peers, its move) under `suffix`.
fn under(o: &Observation, suffix: &str) -> Observation {
    let mut o = o.clone();
    o.host = renamed(o.host.as_str(), suffix);
    o.peers = o
        .peers
        .map(|peers| peers.iter().map(|p| renamed(p.as_str(), suffix)).collect());
    o.moved_to = o.moved_to.map(|m| renamed(m.as_str(), suffix));
    o
}

/// Batches of visits covering what the bulk path must reproduce: new and known servers,
/// failures into death, a tenfold jump (a quality flag, checked against the previous visit in
/// the batch and in the database), activity reported twice for one week, peer lists naming known
/// and new servers, a move, an opted-out server, replays of older visits and duplicates in one
/// batch (the one-by-one fallback), and a server first named as a peer in the batch that visits
/// it.
fn workload() -> Vec<Vec<Observation>> {
    let t0 = day(10, 1);
    let at = |h: i64| t0 + Duration::hours(h);
    let mut batches = Vec::new();

    // 1: three new servers, two visits each, one jump within the batch.
    let mut b = Vec::new();
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        let users = 100 + i as u64 * 50;
        let mut first = ok(
            name,
            at(i as i64),
            Software::Mastodon,
            users,
            Some(users / 2),
        );
        first.activity.push(week(day(9, 26), 3, 40));
        first.peers = Some(vec![host("p1"), host("p2")]);
        b.push(first);
        let later = if *name == "c" { users * 20 } else { users + 1 };
        let mut second = ok(
            name,
            at(6 + i as i64),
            Software::Mastodon,
            later,
            Some(users / 2),
        );
        second.activity.push(week(day(9, 26), 5, 45));
        b.push(second);
    }
    b.push(ok("m", at(2), Software::Misskey, 70, None));
    batches.push(b);

    // 2: the next pass: failures, a flagged jump against the stored previous visit, a move,
    // an opt-out, and a visit with two sources that disagree.
    let mut b = vec![
        failed("a", at(30)),
        ok("b", at(31), Software::Mastodon, 1_600, Some(80)),
        ok("c", at(32), Software::Mastodon, 3_001, Some(75)),
    ];
    let mut moved = Observation::failed(host("m"), at(33), Outcome::Moved, 50);
    moved.moved_to = Some(host("m2"));
    b.push(moved);
    let mut disagree = ok("p1", at(34), Software::Mastodon, 1_000, Some(10));
    disagree.measurements.push(Measurement {
        metric: Metric::UsersTotal,
        source: Source::InstanceV1,
        value: 2_000,
    });
    b.push(disagree);
    b.push(Observation::failed(
        host("p2"),
        at(35),
        Outcome::OptedOut,
        20,
    ));
    batches.push(b);

    // 3: a long outage (a death), a replay of an older visit and a duplicate (one by one).
    let mut b: Vec<Observation> = (0..4)
        .map(|k| failed("a", at(30 + 24 * 5 * (k + 1))))
        .collect();
    b.push(ok("b", at(12), Software::Mastodon, 130, Some(60)));
    b.push(ok("c", at(100), Software::Mastodon, 3_002, Some(75)));
    b.push(ok("c", at(100), Software::Mastodon, 3_002, Some(75)));
    batches.push(b);

    // 4: a server first named as a peer in the batch that also visits it.
    let mut first = ok("b", at(600), Software::Mastodon, 1_700, Some(90));
    first.peers = Some(vec![host("n1"), host("a")]);
    batches.push(vec![first, ok("n1", at(601), Software::Akkoma, 5, Some(1))]);

    // 5: an empty batch and one whose only visit is stored already.
    batches.push(Vec::new());
    batches.push(vec![ok("n1", at(601), Software::Akkoma, 5, Some(1))]);
    batches
}

const NAMES: [&str; 9] = ["a", "b", "c", "m", "m2", "p1", "p2", "n1", "x"];

/// A history with ids (which follow the order rows were written in) left out and names mapped
/// back.
fn comparable(mut h: ServerHistory, suffix: &str) -> ServerHistory {
    let strip = |s: &str| {
        s.strip_suffix(&format!(".{suffix}"))
            .unwrap_or(s)
            .to_owned()
    };
    h.host = host(&strip(h.host.as_str()));
    h.revealed_by = strip(&h.revealed_by);
    h.moved_to = h.moved_to.as_deref().map(strip);
    for o in &mut h.observations {
        o.id = 0;
        o.moved_to = o.moved_to.as_deref().map(strip);
    }
    for w in &mut h.activity {
        w.observation_id = 0;
    }
    h
}

async fn bulk_ingest_stores_what_recording_one_by_one_stores(s: Storage) -> anyhow::Result<()> {
    for batch in workload() {
        let seq: Vec<Observation> = batch.iter().map(|o| under(o, "seq")).collect();
        let mut order: Vec<usize> = (0..seq.len()).collect();
        order.sort_by_key(|&i| seq[i].observed_at);
        let by_time: Vec<Observation> = order.iter().map(|&i| seq[i].clone()).collect();
        let one_by_one = s.record_observations(&by_time, None).await?;
        let bulk: Vec<Observation> = batch.iter().map(|o| under(o, "bulk")).collect();
        let in_bulk = s.ingest_bulk(&bulk, None).await?;
        assert_eq!(in_bulk.len(), bulk.len());
        // What each visit did (the one-by-one run recorded them in time order).
        for (k, &i) in order.iter().enumerate() {
            let (expected, got) = (&one_by_one[k], &in_bulk[i]);
            assert_eq!(got.newly_stored, expected.newly_stored, "{}", bulk[i].host);
            assert_eq!(
                got.flags, expected.flags,
                "{} at {}",
                bulk[i].host, bulk[i].observed_at
            );
            assert_eq!(
                got.servers_discovered, expected.servers_discovered,
                "{}",
                bulk[i].host
            );
        }
    }
    let far: DateTime<Utc> = day(12, 31);
    let due = s.due_hosts(far, 1_000).await?;
    for name in NAMES {
        let (seq, bulk) = (renamed(name, "seq"), renamed(name, "bulk"));
        let a = s.server_history(&seq).await;
        let b = s.server_history(&bulk).await;
        match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!(comparable(a, "seq"), comparable(b, "bulk"), "{name}"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{name}: one by one {a:?}, in bulk {b:?}"),
        }
        let due_of = |h: &Host| {
            due.iter().find(|d| &d.host == h).map(|d| {
                (
                    d.next_due,
                    d.status,
                    d.consecutive_failures,
                    d.last_outcome.clone(),
                    d.last_success_at,
                )
            })
        };
        assert_eq!(due_of(&seq), due_of(&bulk), "{name}'s schedule");
        let peers = |edges: Vec<fedicensus_storage::PeerEdge>, suffix: &str| {
            edges
                .into_iter()
                .map(|e| (e.to.as_str().replace(suffix, ""), e.first_seen, e.last_seen))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            peers(s.peers_of(&seq).await?, "seq"),
            peers(s.peers_of(&bulk).await?, "bulk"),
            "{name}'s peers"
        );
    }
    // The workload did exercise what it is meant to.
    let c = s.server_history(&renamed("c", "bulk")).await?;
    assert!(c.observations.iter().any(|o| !o.quality_flags.is_empty()));
    let n1 = s.server_history(&renamed("n1", "bulk")).await?;
    assert_eq!(n1.revealed_by, "b.bulk");
    Ok(())
}

async fn bulk_ingest_of_a_visit_already_stored_changes_nothing(s: Storage) -> anyhow::Result<()> {
    let batch = vec![
        ok("a", day(10, 1), Software::Mastodon, 10, Some(5)),
        ok("a", day(10, 2), Software::Mastodon, 11, Some(5)),
    ];
    let first = s.ingest_bulk(&batch, None).await?;
    assert!(first.iter().all(|r| r.newly_stored));
    let again = s.ingest_bulk(&batch, None).await?;
    assert!(again.iter().all(|r| !r.newly_stored));
    assert_eq!(
        first.iter().map(|r| r.observation_id).collect::<Vec<_>>(),
        again.iter().map(|r| r.observation_id).collect::<Vec<_>>()
    );
    assert_eq!(s.server_history(&host("a")).await?.observations.len(), 2);
    Ok(())
}
