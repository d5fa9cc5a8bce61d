//! Every real fixture parses, one test each, with assertions on what it contains.

use super::fixture;
use fedicensus_core::parse::{self, *};
use fedicensus_core::{HostError, Metric, ParseError, Software, Source};

fn nodeinfo(path: &str) -> NodeInfo {
    parse_nodeinfo(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn v1(path: &str) -> InstanceV1 {
    parse_instance_v1(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn peers(path: &str) -> PeerList {
    parse_peers(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn chosen(path: &str, base: &str) -> Option<(NodeInfoVersion, String)> {
    let wk = parse_well_known(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    wk.choose(base)
}

fn has(ms: &[fedicensus_core::Measurement], metric: Metric, source: Source, value: u64) -> bool {
    ms.iter()
        .any(|m| m.metric == metric && m.source == source && m.value == value)
}

const BASE: &str = "https://example.com/.well-known/nodeinfo";

// --- spec examples -------------------------------------------------------------------------------

#[test]
fn spec_nodeinfo_1_0_reads_protocols_from_the_inbound_outbound_object() {
    let ni = nodeinfo("spec/nodeinfo-1.0-example.json");
    assert_eq!(ni.schema_version.as_deref(), Some("1.0"));
    assert_eq!(ni.protocols, ["diaspora"]);
    assert_eq!(ni.software.family, Software::Diaspora);
    assert_eq!(ni.usage.users_total, Some(123));
    assert_eq!(ni.usage.local_comments, Some(1000));
}

#[test]
fn spec_nodeinfo_1_1_parses_like_1_0() {
    let ni = nodeinfo("spec/nodeinfo-1.1-example.json");
    assert_eq!(ni.schema_version.as_deref(), Some("1.1"));
    assert_eq!(ni.protocols, ["diaspora"]);
    assert_eq!(ni.usage.users_active_month, Some(23));
}

#[test]
fn spec_nodeinfo_2_0_gives_all_six_counts_but_week() {
    let ni = nodeinfo("spec/nodeinfo-2.0-example.json");
    assert_eq!(ni.usage.users_active_halfyear, Some(42));
    assert_eq!(ni.usage.users_active_week, None);
    assert_eq!(ni.measurements().len(), 5);
    assert_eq!(ni.open_registrations, Some(true));
}

#[test]
fn spec_nodeinfo_2_1_reads_repository_and_homepage() {
    let ni = nodeinfo("spec/nodeinfo-2.1-example.json");
    assert_eq!(
        ni.software.repository.as_deref(),
        Some("https://github.com/diaspora/diaspora")
    );
    assert_eq!(ni.software.version.as_deref(), Some("0.5.0"));
}

#[test]
fn spec_nodeinfo_2_2_reads_active_week_and_instance_name() {
    let ni = nodeinfo("spec/nodeinfo-2.2-example.json");
    assert_eq!(ni.usage.users_active_week, Some(22));
    assert_eq!(ni.node_name.as_deref(), Some("FI𝑓F fediverse"));
    assert!(has(
        &ni.measurements(),
        Metric::UsersActiveWeek,
        Source::NodeInfo,
        22
    ));
}

// --- NodeInfo from real servers --------------------------------------------------------------------

#[test]
fn pixelfed_string_numbers_are_read_as_counts() {
    let ni = nodeinfo("pixelfed/nodeinfo-2.0-pixelfed-0.11.2-string-numbers.json");
    assert_eq!(ni.usage.users_total, Some(16));
    assert_eq!(ni.usage.local_posts, Some(60));
    assert_eq!(ni.usage.users_active_month, Some(2));
    assert_eq!(ni.software.family, Software::Pixelfed);
}

#[test]
fn pixelfed_social_integer_counts_parse_with_metadata_first() {
    let ni = nodeinfo("pixelfed/nodeinfo-2.0-pixelfed.social-0.12.0.json");
    assert_eq!(ni.usage.users_total, Some(112_832));
    assert_eq!(ni.usage.local_posts, Some(24_059_868));
    assert_eq!(ni.software.version.as_deref(), Some("0.12.0"));
}

#[test]
fn diaspora_nodeinfo_1_0_reads_its_pod_figures() {
    let ni = nodeinfo("diaspora/nodeinfo-1.0-diaspora-0.7.4.json");
    assert_eq!(ni.protocols, ["diaspora"]);
    assert_eq!(ni.usage.users_total, Some(348));
    assert_eq!(ni.software.raw_version, "0.7.4.0-pd0313756");
    assert_eq!(ni.software.version.as_deref(), Some("0.7.4"));
    assert_eq!(ni.node_name.as_deref(), Some("I Like Toast"));
}

#[test]
fn diaspora_nodeinfo_2_0_agrees_with_its_1_0() {
    let two = nodeinfo("diaspora/nodeinfo-2.0-diaspora-0.7.4.json");
    let one = nodeinfo("diaspora/nodeinfo-1.0-diaspora-0.7.4.json");
    assert_eq!(two.usage, one.usage);
    assert_eq!(two.usage.local_comments, Some(17_671));
}

#[test]
fn pleroma_local_posts_object_is_not_reported_but_the_rest_is() {
    let ni = nodeinfo("pleroma/nodeinfo-2.1-pleroma-localPosts-object.json");
    assert_eq!(ni.usage.local_posts, None);
    assert_eq!(ni.usage.users_total, Some(348));
    assert_eq!(ni.measurements().len(), 1);
}

#[test]
fn pleroma_fork_nodeinfo_keeps_its_federation_metadata() {
    let ni = nodeinfo("pleroma/nodeinfo-2.0-pleroma-2.5.51-shitposterclub.json");
    assert_eq!(ni.software.family, Software::Pleroma);
    assert_eq!(ni.software.version.as_deref(), Some("2.5.51"));
    assert_eq!(ni.usage.users_total, Some(3382));
    assert_eq!(ni.usage.local_comments, None);
    assert!(ni.metadata.get("federation").is_some());
    assert!(!ni.private);
}

#[test]
fn akkoma_docs_nodeinfo_keeps_the_upstream_name_and_reads_private_false() {
    let ni = nodeinfo("akkoma/nodeinfo-2.1-docs-example.json");
    assert_eq!(ni.software.family, Software::Pleroma);
    assert_eq!(
        ni.software.repository.as_deref(),
        Some("https://akkoma.dev/AkkomaGang/akkoma")
    );
    assert_eq!(ni.usage.users_total, Some(235));
    assert!(!ni.private);
}

#[test]
fn mastodon_social_nodeinfo_has_no_local_comments() {
    let ni = nodeinfo("mastodon/nodeinfo-2.0-mastodon.social-4.3.0-nightly.json");
    assert_eq!(ni.software.family, Software::Mastodon);
    assert_eq!(ni.software.version.as_deref(), Some("4.3.0"));
    assert_eq!(ni.usage.users_total, Some(1_935_016));
    assert_eq!(ni.usage.local_comments, None);
    assert_eq!(ni.node_name.as_deref(), Some("Mastodon"));
}

#[test]
fn peertube_nodeinfo_reports_videos_as_posts_and_a_real_zero() {
    let ni = nodeinfo("peertube/nodeinfo-2.0-peertube-5.0.0-blender.json");
    assert_eq!(ni.software.family, Software::Peertube);
    assert_eq!(ni.usage.local_posts, Some(1018));
    assert_eq!(ni.usage.users_active_month, Some(0));
    assert_eq!(ni.open_registrations, Some(false));
}

#[test]
fn catodon_is_another_software_with_misskey_metadata() {
    let ni = nodeinfo("misskey-forks/nodeinfo-2.1-catodon-24.04-dev.json");
    assert_eq!(ni.software.family, Software::Other("catodon".into()));
    assert_eq!(ni.usage.users_total, Some(294));
    assert_eq!(ni.usage.local_comments, Some(0));
    assert_eq!(ni.node_name.as_deref(), Some("Catodon Social"));
}

#[test]
fn meisskey_maps_to_its_family_and_normalises_its_version() {
    let ni = nodeinfo("misskey-forks/nodeinfo-2.1-meisskey-10.102.json");
    assert_eq!(ni.software.family, Software::Meisskey);
    assert_eq!(ni.software.version.as_deref(), Some("10.102.699"));
    assert_eq!(ni.usage.local_posts, Some(268_739));
}

#[test]
fn firefish_date_version_is_kept() {
    let ni = nodeinfo("firefish/nodeinfo-2.1-firefish-20240504.json");
    assert_eq!(ni.software.family, Software::Firefish);
    assert_eq!(ni.software.version.as_deref(), Some("20240504"));
    assert_eq!(ni.usage.local_comments, None);
    assert_eq!(ni.usage.users_total, Some(9));
}

#[test]
fn activity_relay_without_local_posts_parses() {
    let ni = nodeinfo("relay/nodeinfo-2.1-activity-relay-2.0.5.json");
    assert_eq!(ni.software.family, Software::Other("activity-relay".into()));
    assert_eq!(ni.usage.users_total, Some(1));
    assert_eq!(ni.usage.local_posts, None);
}

#[test]
fn lemmy_0_18_5_without_services_and_metadata_still_parses() {
    let ni = nodeinfo("lemmy/nodeinfo-2.0-lemmy-0.18.5-missing-services-metadata.json");
    assert_eq!(ni.software.family, Software::Lemmy);
    assert_eq!(ni.usage.users_total, Some(149_738));
    assert_eq!(ni.usage.local_comments, Some(1_912_053));
    assert!(ni.metadata.is_null());
    assert!(!ni.private);
}

#[test]
fn friendica_nodeinfo_reads_three_protocols_and_comments() {
    let ni = nodeinfo("friendica/nodeinfo-2.0-friendica-2023.05.json");
    assert_eq!(ni.protocols, ["dfrn", "activitypub", "diaspora"]);
    assert_eq!(ni.usage.users_total, Some(1926));
    assert_eq!(ni.usage.local_comments, Some(15_922));
    assert_eq!(ni.software.version.as_deref(), Some("2023.05"));
}

#[test]
fn movary_unknown_version_normalises_to_none() {
    let ni = nodeinfo("misc/nodeinfo-2.1-movary-dev-version-unknown.json");
    assert_eq!(ni.software.raw_version, "unknown");
    assert_eq!(ni.software.version, None);
    assert_eq!(ni.usage.users_total, Some(1));
    assert_eq!(ni.usage.local_posts, None);
}

#[test]
fn nodeinfo2_reads_server_software_and_active_week() {
    let ni = parse_nodeinfo2(&fixture("nodeinfo2/x-nodeinfo2-1.0-example.json")).expect("parses");
    assert_eq!(ni.software.raw_name, "example");
    assert_eq!(ni.software.version.as_deref(), Some("0.5.0"));
    assert_eq!(ni.usage.users_active_week, Some(10));
    assert_eq!(ni.node_name.as_deref(), Some("Example server"));
    // It is not a NodeInfo document: no `software` object.
    assert!(matches!(
        parse_nodeinfo(&fixture("nodeinfo2/x-nodeinfo2-1.0-example.json")),
        Err(ParseError::Invalid(_))
    ));
}

// --- well-known ----------------------------------------------------------------------------------

#[test]
fn hubzilla_links_object_with_stray_0_key_gives_both_links() {
    let path = "hubzilla/well-known-nodeinfo-buggy-links-object-with-0-key.json";
    let wk = parse_well_known(&fixture(path)).expect("parses");
    assert_eq!(wk.links.len(), 2);
    assert_eq!(
        chosen(path, BASE),
        Some((
            NodeInfoVersion::V2_0,
            "https://example.com/nodeinfo/2.0".into()
        ))
    );
}

#[test]
fn hubzilla_links_single_object_gives_its_link() {
    let path = "hubzilla/well-known-nodeinfo-buggy-links-object.json";
    assert_eq!(
        chosen(path, BASE),
        Some((
            NodeInfoVersion::V1_0,
            "https://example.com/nodeinfo/1.0".into()
        ))
    );
}

#[test]
fn akkoma_well_known_picks_2_1_with_json_suffix() {
    let path = "akkoma/well-known-nodeinfo-docs-example-json-suffix.json";
    assert_eq!(
        chosen(path, BASE),
        Some((
            NodeInfoVersion::V2_1,
            "https://example.com/nodeinfo/2.1.json".into()
        ))
    );
}

#[test]
fn movary_rel_self_with_schemeless_href_resolves_to_https() {
    let path = "misc/well-known-nodeinfo-movary-dev-rel-self-schemeless-href.json";
    assert_eq!(
        chosen(path, "https://movary.test/.well-known/nodeinfo"),
        Some((
            NodeInfoVersion::V2_1,
            "https://movary.test/nodeinfo/2.1".into()
        ))
    );
}

// --- Mastodon API --------------------------------------------------------------------------------

#[test]
fn pleroma_2_0_7_instance_is_sniffed_from_its_compatible_version() {
    let i = v1("pleroma/api-v1-instance-pleroma-2.0.7.json");
    assert_eq!(i.software, Some(Software::Pleroma));
    assert_eq!(i.version.as_deref(), Some("2.0.7"));
    assert_eq!(i.domain_count, Some(9302));
    assert_eq!(i.user_count, Some(1));
    assert_eq!(i.uri.as_deref(), Some("https://pleroma.shunderdo.me"));
    assert_eq!(
        i.domain.as_ref().map(|h| h.as_str()),
        Some("pleroma.shunderdo.me")
    );
}

#[test]
fn pleroma_0_9_0_instance_reads_the_inner_version_before_the_commit() {
    let i = v1("pleroma/api-v1-instance-pleroma-0.9.0.json");
    assert_eq!(i.software, Some(Software::Pleroma));
    assert_eq!(i.version.as_deref(), Some("0.9.0"));
    assert_eq!(i.user_count, Some(11));
    // `.local` is not a public suffix: the raw uri is kept, no domain.
    assert_eq!(i.uri.as_deref(), Some("https://pleroma.local"));
    assert_eq!(i.domain, None);
}

#[test]
fn mastodon_social_crawler_fixture_instance_parses() {
    let i = v1("mastodon/api-v1-instance-mastodon.social-fixture.json");
    assert_eq!(i.software, Some(Software::Mastodon));
    assert_eq!(i.domain_count, Some(55_958));
    assert_eq!(
        i.domain.as_ref().map(|h| h.as_str()),
        Some("mastodon.social")
    );
}

#[test]
fn mastodon_2_4_0_with_null_contact_parses() {
    let i = v1("mastodon/api-v1-instance-2.4.0-null-contact.json");
    assert_eq!(i.version.as_deref(), Some("2.4.0"));
    assert_eq!(i.user_count, Some(159_726));
    assert!(has(
        &i.measurements(),
        Metric::LocalPosts,
        Source::InstanceV1,
        6_059_606
    ));
}

#[test]
fn mastodon_2_4_1rc1_normalises_to_2_4_1() {
    let i = v1("mastodon/api-v1-instance-2.4.1rc1.json");
    assert_eq!(i.raw_version.as_deref(), Some("2.4.1rc1"));
    assert_eq!(i.version.as_deref(), Some("2.4.1"));
}

#[test]
fn mastodon_social_4_0_2_instance_reports_three_counts() {
    let i = v1("mastodon/api-v1-instance-mastodon.social-4.0.2.json");
    assert_eq!(i.registrations, Some(false));
    let ms = i.measurements();
    assert!(has(&ms, Metric::UsersTotal, Source::InstanceV1, 924_178));
    assert!(has(&ms, Metric::LocalPosts, Source::InstanceV1, 49_221_002));
    assert!(has(&ms, Metric::DomainCount, Source::InstanceV1, 49_536));
}

#[test]
fn mstdn_jp_instance_with_japanese_text_parses() {
    let i = v1("mastodon/api-v1-instance-mstdn.jp-3.5.1.json");
    assert_eq!(i.title.as_deref(), Some("mstdn.jp"));
    assert_eq!(i.user_count, Some(312_141));
    assert_eq!(i.domain_count, Some(50_265));
}

#[test]
fn pawoo_instance_with_empty_email_parses() {
    let i = v1("mastodon/api-v1-instance-pawoo.net-3.3.3.json");
    assert_eq!(i.version.as_deref(), Some("3.3.3"));
    assert_eq!(i.user_count, Some(814_479));
}

#[test]
fn fedibird_fork_reads_as_mastodon_3_4_1() {
    let i = v1("mastodon/api-v1-instance-fedibird.com-3.4.1-fork.json");
    assert_eq!(i.software, Some(Software::Mastodon));
    assert_eq!(i.version.as_deref(), Some("3.4.1"));
    assert_eq!(i.user_count, Some(26_299));
}

#[test]
fn mastodon_docs_v1_instance_parses() {
    let i = v1("mastodon/api-v1-instance-docs-example.json");
    assert_eq!(i.user_count, Some(812_303));
    assert_eq!(i.version.as_deref(), Some("3.5.3"));
    assert_eq!(i.approval_required, Some(false));
}

#[test]
fn mastodon_docs_v2_instance_reports_monthly_actives() {
    let i =
        parse_instance_v2(&fixture("mastodon/api-v2-instance-docs-example.json")).expect("parses");
    assert_eq!(
        i.domain.as_ref().map(|h| h.as_str()),
        Some("mastodon.social")
    );
    assert_eq!(i.users_active_month, Some(279_347));
    assert_eq!(i.registrations_enabled, Some(true));
    assert_eq!(i.version.as_deref(), Some("4.5.0"));
    assert!(has(
        &i.measurements(),
        Metric::UsersActiveMonth,
        Source::InstanceV2,
        279_347
    ));
}

#[test]
fn friendica_v2_instance_is_sniffed_as_friendica() {
    let i = parse_instance_v2(&fixture("friendica/api-v2-instance-loma.ml.json")).expect("parses");
    assert_eq!(i.software, Some(Software::Friendica));
    assert_eq!(i.version.as_deref(), Some("2023.05"));
    assert_eq!(i.users_active_month, Some(117));
    assert_eq!(i.domain.as_ref().map(|h| h.as_str()), Some("loma.ml"));
}

#[test]
fn activity_two_weeks_sent_oldest_first_come_back_newest_first() {
    let a =
        parse_activity(&fixture("mastodon/api-v1-instance-activity-2weeks.json")).expect("parses");
    assert_eq!(a.weeks.len(), 2);
    assert_eq!(a.weeks[0].week_start.timestamp(), 1_526_860_800);
    assert_eq!(a.weeks[1].logins, 10_034);
    assert!(has(
        &a.measurements(),
        Metric::UsersActiveWeek,
        Source::Activity,
        10_034
    ));
}

#[test]
fn activity_docs_example_has_twelve_string_weeks() {
    let a = parse_activity(&fixture(
        "mastodon/api-v1-instance-activity-docs-example-12weeks.json",
    ))
    .expect("parses");
    assert_eq!(a.weeks.len(), 12);
    assert_eq!(a.skipped, 0);
    assert_eq!(a.weeks[0].week_start.timestamp(), 1_574_640_000);
    assert_eq!(a.weeks[0].statuses, 37_125);
    assert_eq!(a.weeks[1].logins, 28_820);
}

#[test]
fn mastodon_whitelist_401_is_an_error_body_to_every_parser() {
    let bytes = fixture("mastodon/error-401-whitelist-mode-docs-example.json");
    let e = parse_error_body(&bytes).expect("an error body");
    assert_eq!(e.message, "This API requires an authenticated user");
    assert!(matches!(parse_peers(&bytes), Err(ParseError::ErrorBody(_))));
    assert!(matches!(
        parse_activity(&bytes),
        Err(ParseError::ErrorBody(_))
    ));
    assert!(matches!(
        parse_instance_v1(&bytes),
        Err(ParseError::ErrorBody(_))
    ));
}

#[test]
fn obfuscated_domain_block_entity_is_refused_as_a_host() {
    let bytes = fixture("mastodon/domain-block-entity-obfuscated-docs-example.json");
    let value: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    let domain = value["domain"].as_str().expect("a domain");
    assert_eq!(
        fedicensus_core::Host::parse(domain),
        Err(HostError::Obfuscated)
    );
    // A single block is neither a peer list nor an error.
    assert!(matches!(parse_peers(&bytes), Err(ParseError::Invalid(_))));
    assert!(matches!(
        parse_error_body(&bytes),
        Err(ParseError::Invalid(_))
    ));
}

// --- peers ---------------------------------------------------------------------------------------

#[test]
fn minimal_peer_list_has_one_peer() {
    let p = peers("mastodon/api-v1-instance-peers-minimal.json");
    assert_eq!(p.entries, ["other.com"]);
    assert!(has(
        &p.measurements(),
        Metric::PeerCount,
        Source::PeerList,
        1
    ));
}

#[test]
fn gotosocial_flat_peers_reject_the_obfuscated_entry() {
    let p = peers("gotosocial/api-v1-instance-peers-flat-with-obfuscated-domain.json");
    assert_eq!(p.entries.len(), 4);
    let n = normalise_peers(&p.entries);
    assert_eq!(n.hosts.len(), 3);
    assert_eq!(n.rejected.get(&HostError::Obfuscated), Some(&1));
}

#[test]
fn gotosocial_object_peers_read_their_domains() {
    let p = peers("gotosocial/api-v1-instance-peers-filter-objects-with-obfuscated.json");
    assert_eq!(p.shape, parse::peers::PeerListShape::Objects);
    assert_eq!(p.entries[0], "example.org");
    assert_eq!(p.entries.len(), 4);
    let n = normalise_peers(&p.entries);
    assert_eq!(n.hosts.len(), 3);
    assert_eq!(n.rejected_total(), 1);
}

#[test]
fn gotosocial_peers_401_is_an_error_body() {
    let bytes = fixture("gotosocial/error-401-peers-not-exposed.json");
    let e = parse_error_body(&bytes).expect("an error body");
    assert!(e.message.starts_with("Unauthorized"));
    assert!(matches!(parse_peers(&bytes), Err(ParseError::ErrorBody(_))));
}

#[test]
fn mastodon_social_full_peer_list_normalises_with_counted_rejections() {
    let p = peers("mastodon/api-v1-instance-peers-mastodon.social-2026-08-full.json");
    assert_eq!(p.entries.len(), 121_644);
    assert_eq!(p.skipped, 0);
    let n = normalise_peers(&p.entries);
    assert_eq!(n.rejected.get(&HostError::IpLiteral), Some(&8));
    assert_eq!(n.rejected.get(&HostError::Obfuscated), None);
    assert!(n.hosts.iter().any(|h| h.as_str() == "social.xn--wxa.zone"));
    assert!(n.hosts.iter().any(|h| h.as_str() == "mi_xfee.i-0.io"));
    assert!(n.hosts.iter().any(|h| h.as_str() == "soc.hopto.me"));
    assert!(!n.hosts.iter().any(|h| h.as_str().contains(':')));
    assert_eq!(
        n.hosts.len() + n.duplicates + n.rejected_total(),
        121_644,
        "every entry is accounted for"
    );
    assert_eq!(n.hosts.len(), 121_621);
    // Six spellings of names already listed: five `host:port` and `social.λ.zone`.
    assert_eq!(n.duplicates, 6);
    assert_eq!(n.rejected.get(&HostError::UnknownSuffix), Some(&8));
    assert_eq!(n.rejected.get(&HostError::Idna), Some(&1));
    assert_eq!(n.rejected_total(), 17);
    // The unknown suffixes are Friendica concatenation bugs (`tophattedcat.co.ukfriend`); the
    // IDNA refusal is a punycode label that decodes to a disallowed joiner.
    assert_eq!(
        fedicensus_core::Host::parse("tophattedcat.co.ukfriend"),
        Err(HostError::UnknownSuffix)
    );
}

#[test]
fn single_user_instance_peer_list_parses() {
    let p = peers("mastodon/api-v1-instance-peers-fedi.simonwillison.net-2026-08.json");
    assert_eq!(p.entries.len(), 33_477);
    let n = normalise_peers(&p.entries);
    assert!(n.hosts.len() > 33_000, "{} hosts", n.hosts.len());
}

// --- Misskey, statistics.json, observer --------------------------------------------------------------

#[test]
fn misskey_io_13_meta_reads_name_version_and_registration() {
    let m =
        parse_misskey_meta(&fixture("misskey/api-meta-misskey.io-13.12.2.json")).expect("parses");
    assert_eq!(m.name.as_deref(), Some("Misskey.io"));
    assert_eq!(m.version.as_deref(), Some("13.12.2"));
    assert_eq!(m.open_registrations(), Some(true));
    assert_eq!(m.maintainer_name.as_deref(), Some("MisskeyHQ"));
}

#[test]
fn misskey_v12_meta_of_369_kilobytes_parses() {
    let m = parse_misskey_meta(&fixture("misskey/api-meta-misskey-v12.json")).expect("parses");
    assert_eq!(m.version.as_deref(), Some("12.110.1"));
    assert_eq!(m.maintainer_name.as_deref(), Some("Misskey HQ"));
}

#[test]
fn misskey_v10_meta_reads_the_maintainer_object_and_closed_registration() {
    let m = parse_misskey_meta(&fixture("misskey/api-meta-misskey-v10.json")).expect("parses");
    assert_eq!(m.version.as_deref(), Some("10.102.584"));
    assert_eq!(m.disable_registration, Some(true));
    assert_eq!(m.open_registrations(), Some(false));
    assert_eq!(m.maintainer_name.as_deref(), Some(""));
}

#[test]
fn misskey_stats_report_local_users_notes_and_known_hosts() {
    let s = parse_misskey_stats(&fixture("misskey/api-stats-fixture.json")).expect("parses");
    assert_eq!(s.original_users_count, Some(20));
    assert_eq!(s.users_count, Some(10));
    let ms = s.measurements();
    assert!(has(&ms, Metric::UsersTotal, Source::MisskeyStats, 20));
    assert!(has(&ms, Metric::LocalPosts, Source::MisskeyStats, 20));
    assert!(has(&ms, Metric::DomainCount, Source::MisskeyStats, 21_184));
}

#[test]
fn diaspora_statistics_json_reads_network_and_version() {
    let s = parse_statistics_json(&fixture("diaspora/statistics.json-diaspora-0.5.7.json"))
        .expect("parses");
    assert_eq!(s.software, Some(Software::Diaspora));
    assert_eq!(s.version.as_deref(), Some("0.5.7"));
    assert_eq!(s.registrations_open, Some(true));
    assert!(s.measurements().is_empty(), "this pod published no counts");
}

#[test]
fn observer_dataset_lists_447_software_names() {
    let text = String::from_utf8(fixture(
        "observer/server-versions-seen-by-fediverse-observer.json5",
    ))
    .expect("UTF-8");
    let json: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let map: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_str(&json).expect("JSON after comments");
    assert_eq!(map.len(), 447);
    assert!(map.contains_key("agora of flancia"));
    assert_eq!(
        Software::from_nodeinfo_name("agora of flancia"),
        Software::Other("agora of flancia".into())
    );
}

#[test]
fn every_fixture_has_a_test() {
    // 54 documents plus SOURCES.tsv; a new fixture must get its own test above.
    let root = format!("{}/../../fixtures/real", env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    let mut dirs = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable fixture dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n != "SOURCES.tsv") {
                count += 1;
            }
        }
    }
    assert_eq!(count, 54);
}
