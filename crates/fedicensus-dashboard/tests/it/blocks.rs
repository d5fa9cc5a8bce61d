//! The Blocks page, a server's blocks, and the API and exports under them: the most-blocked
//! servers (by servers and by the blockers' users), blocks added per week, who blocks a server
//! and whom it blocks, with server text escaped in HTML and neutralised in CSV.

use crate::{at, ok, spawn_app, HOSTILE};
use anyhow::Result;
use fedicensus_core::blocks::{Block, BlockList, BlockSource};
use fedicensus_core::Software;

fn block(domain: &str, severity: &str, comment: Option<&str>, digest: Option<String>) -> Block {
    Block {
        domain: domain.to_owned(),
        obfuscated: domain.contains('*'),
        digest,
        severity: severity.to_owned(),
        comment: comment.map(str::to_owned),
    }
}

/// big.example (1,500 users) blocks evil.example (with a hostile comment), misskey.example and
/// an obfuscated name nobody knows; misskey.example (200 users) blocks evil.example, first on
/// 2022-11-13 (its list was read before, on the 6th), and big.example as an obfuscated entry
/// whose digest is big.example's.
pub async fn add_blocks(app: &crate::App) -> Result<()> {
    let listing = |host: &str, day: u32, users: u64, blocks: Vec<Block>| {
        let family = if host == "big.example" {
            Software::Mastodon
        } else {
            Software::Misskey
        };
        let mut o = ok(host, at(11, day), family, host, users, None);
        o.blocks = Some(BlockList {
            source: BlockSource::DomainBlocks,
            blocks,
            skipped: 0,
        });
        o
    };
    let big_digest = fedicensus_storage::blocks::domain_digest("big.example");
    let visits = vec![
        listing(
            "big.example",
            6,
            1_500,
            vec![
                block("evil.example", "suspend", Some(HOSTILE), None),
                block("misskey.example", "silence", None, None),
                block("no*****.com", "suspend", None, Some("ab".repeat(32))),
            ],
        ),
        listing("misskey.example", 6, 200, vec![]),
        listing(
            "misskey.example",
            13,
            200,
            vec![
                block("evil.example", "suspend", None, None),
                block("big*****le", "silence", Some("too big"), Some(big_digest)),
            ],
        ),
    ];
    for v in &visits {
        app.storage.record_observation(v, None).await?;
    }
    app.storage.match_block_digests().await?;
    Ok(())
}

#[tokio::test]
async fn the_most_blocked_servers_have_their_json_and_csv() -> Result<()> {
    let app = spawn_app(false).await?;
    add_blocks(&app).await?;
    let r = app.get("/api/v1/blocks/most-blocked").await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body)?;
    assert_eq!(v["lists_read"], 2);
    assert_eq!(v["unmatched"], 1, "no*****.com matches no known server");
    let domains = v["domains"].as_array().expect("domains");
    let row = |i: usize| {
        (
            domains[i]["domain"].as_str().unwrap_or_default().to_owned(),
            domains[i]["blockers"].as_u64(),
            domains[i]["blockers_users"].as_u64(),
        )
    };
    assert_eq!(row(0), ("evil.example".into(), Some(2), Some(1_700)));
    // big.example is blocked by misskey.example through the digest it published.
    assert_eq!(domains.len(), 3, "{}", r.body);
    let by_users = app
        .get("/api/v1/blocks/most-blocked?by=users&limit=2")
        .await?;
    let v: serde_json::Value = serde_json::from_str(&by_users.body)?;
    let names: Vec<&str> = v["domains"]
        .as_array()
        .expect("domains")
        .iter()
        .filter_map(|d| d["domain"].as_str())
        .collect();
    assert_eq!(names, vec!["evil.example", "misskey.example"]);

    let csv = app.get("/api/v1/blocks/most-blocked?format=csv").await?;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body
            .starts_with("rank,domain,blockers,suspending,blockers_users,known,lists_read"),
        "{}",
        csv.body
    );
    assert!(
        csv.body.contains("1,evil.example,2,2,1700,true,2"),
        "{}",
        csv.body
    );

    let bad = app.get("/api/v1/blocks/most-blocked?by=mood").await?;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let bad = app.get("/api/v1/blocks/most-blocked?limit=100000").await?;
    assert_eq!(bad.status, 400, "{}", bad.body);

    let weekly = app.get("/api/v1/blocks/weekly?format=csv").await?;
    assert_eq!(weekly.status, 200);
    assert!(weekly
        .body
        .starts_with("week_start,added,removed,at_first_read"));
    // Week of Monday 31 October: big's three at its first read; week of 7 November:
    // misskey's two added after its first (empty) read.
    assert!(weekly.body.contains("2022-10-31,0,0,3"), "{}", weekly.body);
    assert!(weekly.body.contains("2022-11-07,2,0,0"), "{}", weekly.body);
    let json = app.get("/api/v1/blocks/weekly").await?;
    let v: serde_json::Value = serde_json::from_str(&json.body)?;
    assert_eq!(
        v["weeks"].as_array().map(Vec::len),
        Some(2),
        "{}",
        json.body
    );
    Ok(())
}

#[tokio::test]
async fn a_servers_blocks_are_listed_both_ways_and_escaped() -> Result<()> {
    let app = spawn_app(false).await?;
    add_blocks(&app).await?;
    let r = app.get("/api/v1/servers/big.example/blocks").await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body)?;
    let blocked_by = v["blocked_by"].as_array().expect("blocked_by");
    assert_eq!(blocked_by.len(), 1);
    assert_eq!(blocked_by[0]["blocker"], "misskey.example");
    assert_eq!(blocked_by[0]["published"], "big*****le");
    assert_eq!(blocked_by[0]["current"], true);
    assert_eq!(v["blocks"].as_array().map(Vec::len), Some(3));

    let csv = app
        .get("/api/v1/servers/big.example/blocks?format=csv")
        .await?;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body.starts_with("relation,blocker,published,"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("blocked_by,misskey.example,big*****le,"));
    assert!(
        !csv.body.contains(",=HYPERLINK"),
        "neutralised: {}",
        csv.body
    );
    assert_eq!(
        app.get("/api/v1/servers/nobody.example/blocks")
            .await?
            .status,
        404
    );

    let page = app.get("/servers/big.example").await?;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Blocked by"), "{}", page.body);
    assert!(page.body.contains("misskey.example</a> (as big*****le)"));
    assert!(!page.body.contains("<script>alert(1)"), "escaped");

    let blocks = app.get("/blocks").await?;
    assert_eq!(blocks.status, 200, "{}", blocks.body);
    assert!(
        blocks.body.contains("evil.example\">evil.example</a>"),
        "{}",
        blocks.body
    );
    assert!(
        blocks.body.contains("id=\"lists-read\">2<"),
        "{}",
        blocks.body
    );
    assert!(blocks.body.contains("2022-11-07"));
    let by_users = app.get("/blocks?by=users").await?;
    assert!(by_users.body.contains("by the blockers' users"));
    assert_eq!(app.get("/blocks?by=mood").await?.status, 400);

    for file in ["block_edges.csv", "most_blocked.csv", "blocks_per_week.csv"] {
        let r = app.get(&format!("/api/v1/exports/{file}")).await?;
        assert_eq!(r.status, 200, "{file}: {}", r.body);
    }
    let edges = app.get("/api/v1/exports/block_edges.csv").await?;
    assert!(edges
        .body
        .contains("blocker,published,digest,blocked,severity,comment"));
    assert!(edges.body.contains("misskey.example,big*****le,"));
    Ok(())
}
