//! Block lists as edges over time (migration 0033): intervals that open, stay and close with the
//! lists read, severities and comments kept, obfuscated entries matched to known servers by
//! digest only, the most-blocked domains and blocks added per week, on both paths and both
//! backends, and through export and transfer.

use crate::support::*;
use fedicensus_core::blocks::{Block, BlockList, BlockSource};
use fedicensus_core::{Observation, Software};
use fedicensus_storage::blocks::{domain_digest, week_start};
use fedicensus_storage::{BlockFilter, BlockRanking, Export, Storage};

crate::conformance!(
    a_block_is_an_interval_from_the_read_that_first_listed_it_to_the_last,
    obfuscated_blocks_are_matched_to_known_servers_by_digest_only,
    the_most_blocked_count_current_blockers_and_their_users,
    blocks_per_week_count_additions_after_the_first_read,
    the_bulk_path_stores_block_lists_as_one_by_one_does,
    a_replayed_or_older_list_changes_nothing,
    block_edges_export_and_move_with_the_database,
);

fn block(domain: &str, severity: &str, comment: Option<&str>) -> Block {
    Block {
        domain: domain.to_owned(),
        obfuscated: domain.contains('*'),
        digest: None,
        severity: severity.to_owned(),
        comment: comment.map(str::to_owned),
    }
}

/// A successful visit of `name` publishing `blocks`.
fn blocking(
    name: &str,
    at: chrono::DateTime<chrono::Utc>,
    users: u64,
    blocks: Vec<Block>,
) -> Observation {
    let mut o = ok(name, at, Software::Mastodon, users, None);
    o.blocks = Some(BlockList {
        source: BlockSource::DomainBlocks,
        blocks,
        skipped: 0,
    });
    o
}

async fn a_block_is_an_interval_from_the_read_that_first_listed_it_to_the_last(
    s: Storage,
) -> anyhow::Result<()> {
    let a = |d| {
        blocking(
            "a.example",
            day(11, d),
            10,
            vec![block("bad.example", "suspend", Some("spam"))],
        )
    };
    s.record_observation(&a(1), None).await?;
    s.record_observation(&a(2), None).await?;
    // The 3rd adds a silence and changes the comment; the 4th lifts the suspension and turns
    // the silence into a suspension; the 6th suspends bad.example again.
    s.record_observation(
        &blocking(
            "a.example",
            day(11, 3),
            10,
            vec![
                block("bad.example", "suspend", Some("spam, lots")),
                block("meh.example", "silence", None),
            ],
        ),
        None,
    )
    .await?;
    s.record_observation(
        &blocking(
            "a.example",
            day(11, 4),
            10,
            vec![block("meh.example", "suspend", None)],
        ),
        None,
    )
    .await?;
    // A visit that read no list (None) says nothing.
    s.record_observation(
        &ok("a.example", day(11, 5), Software::Mastodon, 10, None),
        None,
    )
    .await?;
    s.record_observation(
        &blocking(
            "a.example",
            day(11, 6),
            10,
            vec![
                block("meh.example", "suspend", None),
                block("bad.example", "suspend", None),
            ],
        ),
        None,
    )
    .await?;
    let edges = s
        .block_edges(&BlockFilter::Blocker("a.example".into()))
        .await?;
    let got: Vec<_> = edges
        .iter()
        .map(|e| {
            (
                e.published.as_str(),
                e.severity.as_str(),
                e.first_seen,
                e.last_seen,
                e.current,
                e.comment.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "bad.example",
                "suspend",
                day(11, 1),
                day(11, 3),
                false,
                Some("spam, lots")
            ),
            (
                "meh.example",
                "silence",
                day(11, 3),
                day(11, 3),
                false,
                None
            ),
            ("meh.example", "suspend", day(11, 4), day(11, 6), true, None),
            ("bad.example", "suspend", day(11, 6), day(11, 6), true, None),
        ]
    );
    assert!(edges
        .iter()
        .all(|e| e.blocker == "a.example" && e.source == "domain_blocks"));
    assert_eq!(edges[0].blocked.as_deref(), Some("bad.example"));
    assert_eq!(
        edges[0].digest.as_deref(),
        Some(domain_digest("bad.example").as_str())
    );
    let blocked = s
        .block_edges(&BlockFilter::Blocked("bad.example".into()))
        .await?;
    assert_eq!(blocked.len(), 2);
    // An empty list ends every block.
    s.record_observation(&blocking("a.example", day(11, 7), 10, vec![]), None)
        .await?;
    let edges = s.block_edges(&BlockFilter::All).await?;
    assert!(edges.iter().all(|e| !e.current), "{edges:?}");
    Ok(())
}

async fn obfuscated_blocks_are_matched_to_known_servers_by_digest_only(
    s: Storage,
) -> anyhow::Result<()> {
    let known = "dajiaweibo.com";
    let mut hidden = block("daji******.com", "suspend", None);
    hidden.digest = Some(domain_digest(known));
    // A pattern that fits a known name but whose digest is another's: never matched.
    let mut lookalike = block("daji******.com", "silence", None);
    lookalike.digest = Some(domain_digest("dajiaweibo.org"));
    // No digest at all (Pleroma's obfuscation): never matched.
    let bare = block("ano****.com", "suspend", None);
    s.record_observation(
        &blocking(
            "a.example",
            day(11, 1),
            10,
            vec![hidden.clone(), lookalike, bare],
        ),
        None,
    )
    .await?;
    let unmatched = |edges: &[fedicensus_storage::BlockEdge]| {
        edges.iter().filter(|e| e.blocked.is_none()).count()
    };
    assert_eq!(unmatched(&s.block_edges(&BlockFilter::All).await?), 3);
    assert_eq!(
        s.match_block_digests().await?,
        0,
        "the census does not know it yet"
    );
    // The census learns of the server (a visit of it), then the pass matches.
    s.record_observation(&ok(known, day(11, 2), Software::Mastodon, 5, None), None)
        .await?;
    assert_eq!(s.match_block_digests().await?, 1);
    let edges = s.block_edges(&BlockFilter::Blocked(known.into())).await?;
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].published, "daji******.com");
    assert_eq!(edges[0].severity, "suspend");
    assert_eq!(unmatched(&s.block_edges(&BlockFilter::All).await?), 2);
    // Another blocker's entry of a digest matched before is matched as it is written.
    s.record_observation(&blocking("b.example", day(11, 3), 10, vec![hidden]), None)
        .await?;
    let edges = s.block_edges(&BlockFilter::Blocked(known.into())).await?;
    assert_eq!(edges.len(), 2, "{edges:?}");
    // One pattern, two digests: two blocks, kept apart from read to read.
    let mut twin = block("daji******.com", "suspend", None);
    twin.digest = Some(domain_digest("dajiaxxxxx.com"));
    let mut hidden_again = block("daji******.com", "suspend", None);
    hidden_again.digest = Some(domain_digest(known));
    for d in [4, 5] {
        s.record_observation(
            &blocking(
                "c.example",
                day(11, d),
                10,
                vec![hidden_again.clone(), twin.clone()],
            ),
            None,
        )
        .await?;
    }
    let c = s
        .block_edges(&BlockFilter::Blocker("c.example".into()))
        .await?;
    assert_eq!(c.len(), 2, "{c:?}");
    assert!(c.iter().all(|e| e.current && e.first_seen == day(11, 4)));
    assert_eq!(
        c.iter()
            .filter(|e| e.blocked.as_deref() == Some(known))
            .count(),
        1
    );
    let most = s.most_blocked(BlockRanking::Servers, 10).await?;
    assert_eq!(most.domains[0].domain, known);
    assert_eq!(most.domains[0].blockers, 3);
    assert!(most.domains[0].known);
    assert_eq!(most.unmatched, 3);
    Ok(())
}

async fn the_most_blocked_count_current_blockers_and_their_users(s: Storage) -> anyhow::Result<()> {
    // big.example (1,000 users) and two small servers block spam.example; only big blocks
    // troll.example; small2 blocked troll.example once but lifted it.
    s.record_observation(
        &blocking(
            "big.example",
            day(11, 1),
            1000,
            vec![
                block("spam.example", "suspend", None),
                block("troll.example", "silence", None),
            ],
        ),
        None,
    )
    .await?;
    s.record_observation(
        &blocking(
            "small1.example",
            day(11, 1),
            10,
            vec![block("spam.example", "silence", None)],
        ),
        None,
    )
    .await?;
    s.record_observation(
        &blocking(
            "small2.example",
            day(11, 1),
            20,
            vec![
                block("spam.example", "suspend", None),
                block("troll.example", "suspend", None),
            ],
        ),
        None,
    )
    .await?;
    s.record_observation(
        &blocking(
            "small2.example",
            day(11, 2),
            30,
            vec![block("spam.example", "suspend", None)],
        ),
        None,
    )
    .await?;
    let by_servers = s.most_blocked(BlockRanking::Servers, 10).await?;
    assert_eq!(by_servers.lists_read, 3);
    let rows: Vec<(&str, u64, u64, u64, bool)> = by_servers
        .domains
        .iter()
        .map(|d| {
            (
                d.domain.as_str(),
                d.blockers,
                d.suspending,
                d.blockers_users,
                d.known,
            )
        })
        .collect();
    // small2's latest figure (30) counts.
    assert_eq!(
        rows,
        vec![
            ("spam.example", 3, 2, 1040, false),
            ("troll.example", 1, 0, 1000, false)
        ]
    );
    let limited = s.most_blocked(BlockRanking::Users, 1).await?;
    assert_eq!(limited.domains.len(), 1);
    assert_eq!(limited.domains[0].domain, "spam.example");
    Ok(())
}

async fn blocks_per_week_count_additions_after_the_first_read(s: Storage) -> anyhow::Result<()> {
    // Tuesday 1 November: the first read finds two blocks (not "added": of unknown age). Monday
    // 7 November: one added. Monday 14 November: one lifted (last seen the 7th).
    s.record_observation(
        &blocking(
            "a.example",
            day(11, 1),
            10,
            vec![
                block("x.example", "suspend", None),
                block("y.example", "suspend", None),
            ],
        ),
        None,
    )
    .await?;
    s.record_observation(
        &blocking(
            "a.example",
            day(11, 7),
            10,
            vec![
                block("x.example", "suspend", None),
                block("y.example", "suspend", None),
                block("z.example", "silence", None),
            ],
        ),
        None,
    )
    .await?;
    s.record_observation(
        &blocking(
            "a.example",
            day(11, 14),
            10,
            vec![
                block("x.example", "suspend", None),
                block("z.example", "silence", None),
            ],
        ),
        None,
    )
    .await?;
    let weeks = s.blocks_per_week().await?;
    let got: Vec<(chrono::NaiveDate, u64, u64, u64)> = weeks
        .iter()
        .map(|w| (w.week_start, w.added, w.removed, w.at_first_read))
        .collect();
    assert_eq!(
        got,
        vec![
            (date(10, 31), 0, 0, 2),
            (date(11, 7), 1, 1, 0),
            (date(11, 14), 0, 0, 0),
        ]
    );
    assert_eq!(week_start(date(11, 13)), date(11, 7));
    Ok(())
}

async fn the_bulk_path_stores_block_lists_as_one_by_one_does(s: Storage) -> anyhow::Result<()> {
    let list = |name: &str, d: u32| {
        let blocks = if d < 3 {
            vec![
                block("x.example", "suspend", Some("why")),
                block("y.example", "silence", None),
            ]
        } else {
            vec![block("y.example", "silence", None)]
        };
        blocking(name, day(11, d), 10, blocks)
    };
    for d in 1..=5 {
        s.record_observation(&list("seq.example", d), None).await?;
    }
    let bulk: Vec<Observation> = (1..=5).map(|d| list("bulk.example", d)).collect();
    for batch in bulk.chunks(2) {
        s.ingest_bulk(batch, None).await?;
    }
    let strip = |edges: Vec<fedicensus_storage::BlockEdge>| {
        edges
            .into_iter()
            .map(|e| {
                (
                    e.published,
                    e.severity,
                    e.comment,
                    e.first_seen,
                    e.last_seen,
                    e.current,
                )
            })
            .collect::<Vec<_>>()
    };
    let seq = strip(
        s.block_edges(&BlockFilter::Blocker("seq.example".into()))
            .await?,
    );
    let bulk = strip(
        s.block_edges(&BlockFilter::Blocker("bulk.example".into()))
            .await?,
    );
    assert_eq!(seq.len(), 2);
    assert_eq!(seq, bulk);
    Ok(())
}

async fn a_replayed_or_older_list_changes_nothing(s: Storage) -> anyhow::Result<()> {
    let v = blocking(
        "a.example",
        day(11, 5),
        10,
        vec![block("x.example", "suspend", None)],
    );
    s.record_observation(&v, None).await?;
    s.record_observation(&v, None).await?;
    s.record_observation(
        &blocking(
            "a.example",
            day(11, 2),
            10,
            vec![block("old.example", "suspend", None)],
        ),
        None,
    )
    .await?;
    let edges = s.block_edges(&BlockFilter::All).await?;
    assert_eq!(edges.len(), 1, "{edges:?}");
    assert_eq!(
        (edges[0].first_seen, edges[0].last_seen),
        (day(11, 5), day(11, 5))
    );
    Ok(())
}

async fn block_edges_export_and_move_with_the_database(s: Storage) -> anyhow::Result<()> {
    s.record_observation(
        &blocking(
            "a.example",
            day(11, 1),
            10,
            vec![block("x.example", "suspend", Some("=cmd|' /C calc'!A0"))],
        ),
        None,
    )
    .await?;
    s.record_observation(
        &blocking(
            "a.example",
            day(11, 8),
            10,
            vec![block("y.example", "silence", None)],
        ),
        None,
    )
    .await?;
    let mut buffer = Vec::new();
    s.export_csv(&Export::BlockEdges, &mut buffer).await?;
    let text = String::from_utf8(buffer)?;
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "blocker,published,digest,blocked,severity,comment,source,first_seen,last_seen,current"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{text}");
    // A comment is server text: neutralised against formula injection.
    assert!(rows[0].contains(",'=cmd"), "{text}");
    assert!(
        rows[0].ends_with(",false") && rows[1].ends_with(",true"),
        "{text}"
    );
    for what in [Export::MostBlocked, Export::BlocksPerWeek] {
        let mut buffer = Vec::new();
        let file = s.export_csv(&what, &mut buffer).await?;
        assert!(file.rows >= 1, "{}", what.file_name());
    }
    let dir = crate::transfer::temp_dir("blocks-move");
    s.export_tables(&dir).await?;
    let target = crate::transfer::temp_dir("blocks-target");
    std::fs::create_dir_all(&target)?;
    let other = Storage::connect(&format!(
        "sqlite://{}?mode=rwc",
        target.join("c.db").display()
    ))
    .await?;
    other.import_tables(&dir).await?;
    let _ = std::fs::remove_dir_all(&dir);
    let moved = other.block_edges(&BlockFilter::All).await?;
    let weeks = other.blocks_per_week().await?;
    other.close().await;
    let _ = std::fs::remove_dir_all(&target);
    assert_eq!(moved, s.block_edges(&BlockFilter::All).await?);
    assert_eq!(weeks, s.blocks_per_week().await?);
    Ok(())
}
