//! The NodeInfo quirks of PROTOCOL.md §4.1 that no fixture captures, as inline documents.

use fedicensus_core::parse::*;
use fedicensus_core::ParseError;

fn ni(json: &str) -> NodeInfo {
    parse_nodeinfo(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"))
}

#[test]
fn misskey_null_active_counts_are_none_not_zero() {
    let n = ni(r#"{"software":{"name":"misskey","version":"2024.10.1"},
        "usage":{"users":{"total":10,"activeHalfyear":null,"activeMonth":null},"localPosts":5,"localComments":0}}"#);
    assert_eq!(n.usage.users_total, Some(10));
    assert_eq!(n.usage.users_active_halfyear, None);
    assert_eq!(n.usage.users_active_month, None);
    assert_eq!(n.usage.local_comments, Some(0));
}

#[test]
fn wrong_types_lose_only_their_field() {
    let n = ni(
        r#"{"software":{"name":"friendica","version":5},"usage":{"users":[]},"metadata":[],
        "openRegistrations":"yes","protocols":"activitypub"}"#,
    );
    assert_eq!(n.usage.users_total, None);
    assert_eq!(n.software.raw_version, "5");
    assert!(n.metadata.is_array());
    assert_eq!(n.open_registrations, Some(true));
    assert_eq!(n.protocols, ["activitypub"]);
    let n = ni(r#"{"software":{"name":"x"},"usage":"lots"}"#);
    assert_eq!(n.usage, Usage::default());
}

#[test]
fn negative_and_fractional_counts_are_not_reported() {
    let n = ni(
        r#"{"software":{"name":"x"},"usage":{"users":{"total":-1,"activeMonth":2.5,"activeHalfyear":"7.0"}}}"#,
    );
    assert_eq!(n.usage.users_total, None);
    assert_eq!(n.usage.users_active_month, None);
    assert_eq!(n.usage.users_active_halfyear, Some(7));
}

#[test]
fn misspelt_keys_are_accepted() {
    let n = ni(
        r#"{"Software":{"Name":"GoToSocial","version":"0.16.0"},"metaData":{"private":true,"nodeName":"x"},
        "usage":{"users":{"total":3,"activeHalfYear":2},"local_posts":4}}"#,
    );
    assert_eq!(n.software.family, fedicensus_core::Software::Gotosocial);
    assert_eq!(n.usage.users_active_halfyear, Some(2));
    assert_eq!(n.usage.local_posts, Some(4));
    assert!(n.private);
    let n = ni(r#"{"software":{"name":"x"},"usage":{"totalPosts":9}}"#);
    assert_eq!(n.usage.local_posts, Some(9));
}

#[test]
fn missing_software_name_is_invalid() {
    for doc in [
        r#"{"version":"2.0"}"#,
        r#"{"software":{"version":"1"}}"#,
        r#"{"software":{"name":"  "}}"#,
        r#"{"software":"mastodon"}"#,
    ] {
        assert!(
            matches!(parse_nodeinfo(doc.as_bytes()), Err(ParseError::Invalid(_))),
            "{doc}"
        );
    }
    assert!(matches!(
        parse_nodeinfo(b"<html>"),
        Err(ParseError::Json(_))
    ));
}

#[test]
fn well_known_hrefs_resolve_relative_schemeless_and_protocol_relative() {
    let links = |href: &str| {
        let doc = format!(
            r#"{{"links":[{{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"{href}"}}]}}"#
        );
        parse_well_known(doc.as_bytes())
            .expect("parses")
            .choose("https://a.example/.well-known/nodeinfo")
            .map(|(_, url)| url)
    };
    assert_eq!(
        links("/nodeinfo/2.0").as_deref(),
        Some("https://a.example/nodeinfo/2.0")
    );
    assert_eq!(
        links("nodeinfo.json").as_deref(),
        Some("https://a.example/.well-known/nodeinfo.json")
    );
    assert_eq!(
        links("b.example/ni").as_deref(),
        Some("https://b.example/ni")
    );
    assert_eq!(
        links("//b.example/ni").as_deref(),
        Some("https://b.example/ni")
    );
    assert_eq!(
        links("http://b.example/ni").as_deref(),
        Some("http://b.example/ni")
    );
    assert_eq!(links("ftp://b.example/ni"), None);
    assert_eq!(links(""), None);
}

#[test]
fn the_highest_known_version_wins_and_unknown_rels_are_ignored() {
    let doc = br#"{"links":[
        {"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"https://a.example/2.0"},
        {"rel":"https://www.w3.org/ns/activitystreams#Application","href":"https://a.example/actor"},
        {"rel":"https://example.com/incorrect/schema/2.0","href":"https://a.example/bad"},
        {"href":"https://a.example/2.2","rel":"http://nodeinfo.diaspora.software/ns/schema/2.2"},
        {"rel":"http://nodeinfo.diaspora.software/ns/schema/2.1","href":"https://a.example/2.1"}]}"#;
    let wk = parse_well_known(doc).expect("parses");
    assert_eq!(wk.links.len(), 5);
    assert_eq!(
        wk.choose("https://a.example/.well-known/nodeinfo"),
        Some((NodeInfoVersion::V2_2, "https://a.example/2.2".into()))
    );
}

#[test]
fn a_nodeinfo_document_served_as_the_well_known_is_recognised() {
    let wk =
        parse_well_known(br#"{"version":"2.0","software":{"name":"skybridge"}}"#).expect("parses");
    assert!(wk.is_nodeinfo_document);
    assert!(wk.links.is_empty());
}

#[test]
fn lemmy_peer_lists_parse_in_all_three_shapes() {
    let v017 = br#"{"site_view":{},"federated_instances":{"linked":["a.example","b.example"],"allowed":null,"blocked":["c.example"]}}"#;
    let v018 = br#"{"federated_instances":{"linked":[{"id":1,"domain":"a.example","published":"2023-01-01T00:00:00"}],"allowed":[],"blocked":[]}}"#;
    let v019 = br#"{"federated_instances":{"linked":[{"id":1,"domain":"a.example","software":"lemmy","federation_state":{"fail_count":0}}],"allowed":[],"blocked":[{"id":2,"domain":"c.example"}]}}"#;
    let p = parse_peers(v017).expect("0.17");
    assert_eq!(p.entries, ["a.example", "b.example"]);
    assert_eq!(p.blocked, ["c.example"]);
    assert_eq!(parse_peers(v018).expect("0.18").entries, ["a.example"]);
    let p = parse_peers(v019).expect("0.19");
    assert_eq!(p.entries, ["a.example"]);
    assert_eq!(p.blocked, ["c.example"]);
    let p = parse_peers(br#"{"federated_instances":null}"#).expect("disabled");
    assert_eq!(
        p.shape,
        fedicensus_core::parse::peers::PeerListShape::LemmyDisabled
    );
}

#[test]
fn lemmy_site_reads_counts_and_version() {
    let s = parse_lemmy_site(br#"{"site_view":{"site":{"name":"Lemmy","actor_id":"https://lemmy.ml/"},
        "local_site":{"registration_mode":"RequireApplication"},
        "counts":{"users":100,"posts":"20","comments":30,"communities":4,"users_active_day":1,
        "users_active_week":2,"users_active_month":3,"users_active_half_year":5}},"version":"0.19.3"}"#)
        .expect("parses");
    assert_eq!(s.users, Some(100));
    assert_eq!(s.posts, Some(20));
    assert_eq!(s.users_active_half_year, Some(5));
    assert_eq!(s.version.as_deref(), Some("0.19.3"));
    assert_eq!(s.measurements().len(), 6);
}

#[test]
fn peertube_stats_read_users_and_videos() {
    let s = parse_peertube_stats(br#"{"totalUsers":5,"totalDailyActiveUsers":1,"totalWeeklyActiveUsers":2,
        "totalMonthlyActiveUsers":3,"totalLocalVideos":1018,"totalLocalVideoComments":1,"videosRedundancy":[]}"#)
        .expect("parses");
    assert_eq!(s.total_users, Some(5));
    assert_eq!(s.total_local_videos, Some(1018));
    assert_eq!(s.measurements().len(), 5);
}

#[test]
fn limited_federation_zero_is_not_a_measurement() {
    let i = parse_instance_v2(
        br#"{"domain":"a.example","version":"4.4.0","usage":{"users":{"active_month":0}},
        "configuration":{"limited_federation":true}}"#,
    )
    .expect("parses");
    assert_eq!(i.users_active_month, Some(0));
    assert_eq!(i.limited_federation, Some(true));
    assert!(i.measurements().is_empty());
}

#[test]
fn misskey_error_objects_are_error_bodies() {
    let e = parse_misskey_stats(br#"{"error":{"message":"Rate limit exceeded.","code":"RATE_LIMIT_EXCEEDED","id":"d5826d14","kind":"client"}}"#);
    assert_eq!(
        e,
        Err(ParseError::ErrorBody(
            "Rate limit exceeded. (RATE_LIMIT_EXCEEDED)".into()
        ))
    );
}
