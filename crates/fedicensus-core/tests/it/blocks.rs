//! Block lists in every real document of `fixtures/` that publishes one: Mastodon's DomainBlock
//! entity (obfuscated, with its digest), GoToSocial's suspended-domain objects, Pleroma's and
//! Akkoma's `mrf_simple` (in NodeInfo metadata and in the instance API's `pleroma.metadata`),
//! and Lemmy's blocked instances in each version's shape; then hostile lists.

use fedicensus_core::blocks::{
    lemmy_blocks, mrf_simple_blocks, parse_domain_blocks, BlockSource, MAX_BLOCKS,
    MAX_COMMENT_CHARS,
};
use fedicensus_core::parse::parse_peers;
use serde_json::Value;

fn read(path: &str) -> Vec<u8> {
    let full = format!("{}/../../fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read fixture {full}: {e}"))
}

fn json(path: &str) -> Value {
    serde_json::from_slice(&read(path)).expect("the fixture is JSON")
}

#[test]
fn mastodons_obfuscated_domain_block_keeps_its_pattern_and_digest() {
    // The entity as the docs show it, inside the array the endpoint answers.
    let entity = String::from_utf8(read(
        "real/mastodon/domain-block-entity-obfuscated-docs-example.json",
    ))
    .expect("UTF-8");
    let list = parse_domain_blocks(format!("[{entity}]").as_bytes()).expect("parses");
    assert_eq!(list.source, BlockSource::DomainBlocks);
    assert_eq!(list.skipped, 0);
    assert_eq!(list.blocks.len(), 1);
    let block = &list.blocks[0];
    assert_eq!(block.domain, "daji******.com");
    assert!(block.obfuscated);
    assert_eq!(
        block.digest.as_deref(),
        Some("3752f63a7079d60c2de5dceb8bd7608e86a15544eb78a494a482041c3684b37f")
    );
    assert_eq!(block.severity, "suspend");
    assert_eq!(block.comment.as_deref(), Some("Inappropriate content"));
}

#[test]
fn gotosocials_suspended_domains_are_read_with_their_comments() {
    let list = parse_domain_blocks(&read(
        "real/gotosocial/api-v1-instance-peers-filter-objects-with-obfuscated.json",
    ))
    .expect("parses");
    let blocks: Vec<(&str, bool, &str, Option<&str>)> = list
        .blocks
        .iter()
        .map(|b| {
            (
                b.domain.as_str(),
                b.obfuscated,
                b.severity.as_str(),
                b.comment.as_deref(),
            )
        })
        .collect();
    // The first two are open peers of the filtered peer list (no severity, no suspension): the
    // domain_blocks endpoint lists suspensions only, so a missing severity reads as `suspend`.
    assert_eq!(
        blocks,
        vec![
            ("example.org", false, "suspend", None),
            ("fossbros-anonymous.io", false, "suspend", None),
            (
                "o*g.*u**.t**.*or*t.*r**ev**",
                true,
                "suspend",
                Some("just absolutely the worst, wowza")
            ),
            (
                "replyguys.com",
                false,
                "suspend",
                Some("reply-guying to tech posts")
            ),
        ]
    );
    assert!(list.blocks.iter().all(|b| b.digest.is_none()));
}

/// (fixture, where the metadata is, blocks kept, obfuscated among them, with a comment)
const MRF: &[(&str, &[&str], usize, usize, usize)] = &[
    (
        "corpus/nodeinfo/tootsdk-nodeinfo_akkoma.json",
        &["metadata"],
        178,
        41,
        178,
    ),
    (
        "corpus/nodeinfo/aoderelay-hynet_nodeinfo.json",
        &["metadata"],
        52,
        0,
        0,
    ),
    (
        "corpus/nodeinfo/aoderelay-new_hynet_nodeinfo.json",
        &["metadata"],
        241,
        1,
        11,
    ),
    (
        "corpus/instance-v1/tootsdk-pleroma-2.json",
        &["pleroma", "metadata"],
        70,
        7,
        0,
    ),
    (
        "corpus/instance-v1/aoderelay-hynet_instance.json",
        &["pleroma", "metadata"],
        241,
        1,
        11,
    ),
    (
        "corpus/instance-v1/tootsdk-fork-instancev1_akkoma_miraiverse.json",
        &["pleroma", "metadata"],
        0,
        0,
        0,
    ),
];

#[test]
fn every_real_mrf_simple_is_read_policy_by_policy() {
    for (path, at, kept, obfuscated, commented) in MRF {
        let mut metadata = json(path);
        for key in *at {
            metadata = metadata[*key].take();
        }
        let list = mrf_simple_blocks(&metadata).unwrap_or_else(|| panic!("{path}: no mrf_simple"));
        assert_eq!(list.source, BlockSource::MrfSimple, "{path}");
        assert_eq!(list.blocks.len(), *kept, "{path}: blocks");
        assert_eq!(list.skipped, 0, "{path}: skipped");
        let obf = list.blocks.iter().filter(|b| b.obfuscated).count();
        assert_eq!(obf, *obfuscated, "{path}: obfuscated");
        let com = list.blocks.iter().filter(|b| b.comment.is_some()).count();
        assert_eq!(com, *commented, "{path}: comments");
        // Pleroma publishes no digests: an obfuscated entry there can never be matched.
        assert!(list.blocks.iter().all(|b| b.digest.is_none()), "{path}");
        assert!(list.blocks.iter().all(|b| b.severity != "accept"), "{path}");
    }
}

#[test]
fn mrf_policies_map_to_severities_and_akkoma_reasons_to_comments() {
    let metadata = json("corpus/nodeinfo/tootsdk-nodeinfo_akkoma.json")["metadata"].take();
    let list = mrf_simple_blocks(&metadata).expect("published");
    let find = |domain: &str, severity: &str| {
        list.blocks
            .iter()
            .find(|b| b.domain == domain && b.severity == severity)
            .unwrap_or_else(|| panic!("{domain} {severity} missing"))
    };
    assert_eq!(
        find("honkwerx.tech", "suspend").comment.as_deref(),
        Some("Spam")
    );
    let obfuscated = find("you**.*ove", "suspend");
    assert!(obfuscated.obfuscated);
    let hynet = json("corpus/nodeinfo/aoderelay-hynet_nodeinfo.json")["metadata"].take();
    let hynet = mrf_simple_blocks(&hynet).expect("published");
    let severities = |domain: &str| -> Vec<&str> {
        hynet
            .blocks
            .iter()
            .filter(|b| b.domain == domain)
            .map(|b| b.severity.as_str())
            .collect()
    };
    // One domain under two policies is two blocks.
    assert_eq!(severities("humblr.social"), vec!["silence", "media_nsfw"]);
    assert_eq!(severities("gab.com"), vec!["suspend"]);
}

#[test]
fn nodeinfo_without_mrf_simple_publishes_no_block_list() {
    for path in [
        "real/akkoma/nodeinfo-2.1-docs-example.json",
        "real/mastodon/nodeinfo-2.0-mastodon.social-4.3.0-nightly.json",
        "real/lemmy/nodeinfo-2.0-lemmy-0.18.5-missing-services-metadata.json",
    ] {
        let metadata = json(path)["metadata"].take();
        assert_eq!(mrf_simple_blocks(&metadata), None, "{path}");
    }
}

#[test]
fn lemmys_blocked_instances_in_every_versions_shape() {
    // 0.17 and older: strings inside the site document; `null` when none is configured.
    let old = br#"{"site_view":{},"federated_instances":{"linked":["a.example.com"],"allowed":null,"blocked":["bad.example.com","Worse.Example.com"]}}"#;
    // 0.18: objects with a domain.
    let v18 = br#"{"federated_instances":{"linked":[{"id":1,"domain":"a.example.com","published":"2023-06-01T00:00:00"}],"allowed":[],"blocked":[{"id":2,"domain":"bad.example.com","published":"2023-06-01T00:00:00"},{"id":3,"domain":"worse.example.com","published":"2023-06-01T00:00:00","software":"lemmy"}]}}"#;
    // 0.19: federation state flattened in.
    let v19 = br#"{"federated_instances":{"linked":[],"allowed":[],"blocked":[{"id":2,"domain":"bad.example.com","published":"2023-06-01T00:00:00Z","federation_state":{"instance_id":2,"fail_count":0}},{"id":3,"domain":"worse.example.com","published":"2023-06-01T00:00:00Z"}]}}"#;
    for doc in [&old[..], &v18[..], &v19[..]] {
        let peers = parse_peers(doc).expect("parses");
        let list = lemmy_blocks(&peers).expect("a Lemmy list");
        let domains: Vec<&str> = list.blocks.iter().map(|b| b.domain.as_str()).collect();
        assert_eq!(domains, vec!["bad.example.com", "worse.example.com"]);
        assert!(list
            .blocks
            .iter()
            .all(|b| b.severity == "suspend" && b.comment.is_none()));
    }
    let none =
        parse_peers(br#"{"federated_instances":{"linked":[],"allowed":null,"blocked":null}}"#)
            .expect("parses");
    assert_eq!(lemmy_blocks(&none).map(|l| l.blocks.len()), Some(0));
    // A Mastodon peer list is no Lemmy block list.
    let mastodon = parse_peers(br#"["a.example.com"]"#).expect("parses");
    assert_eq!(lemmy_blocks(&mastodon), None);
}

#[test]
fn a_hostile_block_list_is_capped_and_never_panics() {
    let huge: Vec<Value> = (0..MAX_BLOCKS + 50)
        .map(|i| serde_json::json!({"domain": format!("d{i}.example.com"), "severity": "silence"}))
        .collect();
    let list = parse_domain_blocks(serde_json::to_string(&huge).expect("json").as_bytes())
        .expect("parses");
    assert_eq!(list.blocks.len(), MAX_BLOCKS);
    assert_eq!(list.skipped, 50);

    let comment = "x".repeat(100_000);
    let doc = serde_json::json!([
        {"domain": "a.example.com", "severity": "suspend", "comment": comment, "digest": "zz"},
        {"domain": "<script>alert(1)</script>", "severity": "suspend"},
        {"domain": "b.example.com", "severity": "x".repeat(1000)},
        {"domain": 5, "severity": "suspend"},
        "c.example.com",
        null,
        {"domain": "a.example.com", "severity": "suspend"},
    ]);
    let list = parse_domain_blocks(doc.to_string().as_bytes()).expect("parses");
    assert_eq!(list.blocks.len(), 1, "{list:?}");
    assert_eq!(list.skipped, 5);
    assert_eq!(
        list.blocks[0].comment.as_ref().map(|c| c.chars().count()),
        Some(MAX_COMMENT_CHARS)
    );
    assert_eq!(list.blocks[0].digest, None);

    // Two obfuscated entries with one pattern and two digests are two blocks; a true repeat is
    // one.
    let twins = serde_json::json!([
        {"domain": "ab**.com", "severity": "suspend", "digest": "a".repeat(64)},
        {"domain": "ab**.com", "severity": "suspend", "digest": "b".repeat(64)},
        {"domain": "ab**.com", "severity": "suspend", "digest": "b".repeat(64)},
    ]);
    let list = parse_domain_blocks(twins.to_string().as_bytes()).expect("parses");
    assert_eq!(list.blocks.len(), 2);

    for garbage in [
        &b""[..],
        b"{}",
        b"{\"error\":\"nope\"}",
        b"42",
        b"\xff\xfe",
        b"[[[[[]]]]]",
    ] {
        let _ = parse_domain_blocks(garbage);
    }
    for metadata in [
        serde_json::json!(null),
        serde_json::json!({"federation": []}),
        serde_json::json!({"federation": {"mrf_simple": {"reject": "a.example.com"}}}),
        serde_json::json!({"federation": {"mrf_simple": {"reject": [1, null, {}]}, "mrf_simple_info": []}}),
    ] {
        let _ = mrf_simple_blocks(&metadata);
    }
}
