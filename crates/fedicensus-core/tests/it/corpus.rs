//! Every document in `fixtures/corpus` (real documents from other projects' test recordings and
//! docs; see its README and SOURCES.tsv), parsed by the parser `fedicensus parse` uses for its
//! folder, with the values a careful reader of the document expects written down: one row per
//! file. A file without a row fails [`every_corpus_file_has_a_row`], so a new document cannot go
//! untested.
//!
//! The cases the corpus was collected for have a test of their own below the table.

use fedicensus_core::parse::peers::PeerListShape;
use fedicensus_core::parse::*;
use fedicensus_core::{Measurement, Metric, Metric::*, ParseError, Software, Source};
use std::collections::BTreeSet;

/// The bytes of a document under `fixtures/corpus`.
fn corpus(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/../../fixtures/corpus/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read corpus document {full}: {e}"))
}

/// The base a `/.well-known/nodeinfo` is resolved against (every href in the corpus is absolute).
const BASE: &str = "https://example.com/.well-known/nodeinfo";

struct Row {
    file: &'static str,
    expect: Expect,
}

const fn row(file: &'static str, expect: Expect) -> Row {
    Row { file, expect }
}

/// What a document holds, by the folder's parser.
enum Expect {
    NodeInfo(Ni),
    InstanceV1(V1),
    InstanceV2(V2),
    Activity(Act),
    Peers(Pl),
    WellKnown(Wk),
    MisskeyMeta(Mm),
    /// An error object: message and code.
    ErrorBody(&'static str, Option<&'static str>),
    /// Not JSON at all (an HTML error page saved as the body).
    NotJson,
}
use Expect::*;

/// `metrics` are the measurements, all from the parser's own source.
type Metrics = &'static [(Metric, u64)];

struct Ni {
    schema: Option<&'static str>,
    name: &'static str,
    /// The family's name ([`Software::from_nodeinfo_name`]).
    family: &'static str,
    raw_version: &'static str,
    version: Option<&'static str>,
    open: Option<bool>,
    node_name: Option<&'static str>,
    private: bool,
    protocols: &'static [&'static str],
    ms: Metrics,
}

struct V1 {
    uri: Option<&'static str>,
    domain: Option<&'static str>,
    title: Option<&'static str>,
    raw_version: Option<&'static str>,
    software: Option<&'static str>,
    software_name: Option<&'static str>,
    software_version: Option<&'static str>,
    version: Option<&'static str>,
    registrations: Option<bool>,
    approval_required: Option<bool>,
    ms: Metrics,
}

struct V2 {
    raw_domain: Option<&'static str>,
    domain: Option<&'static str>,
    title: Option<&'static str>,
    raw_version: Option<&'static str>,
    software: Option<&'static str>,
    software_name: Option<&'static str>,
    software_version: Option<&'static str>,
    version: Option<&'static str>,
    users_active_month: Option<u64>,
    registrations_enabled: Option<bool>,
    approval_required: Option<bool>,
    limited_federation: Option<bool>,
    ms: Metrics,
}

struct Act {
    weeks: usize,
    skipped: usize,
    /// The newest week: start (Unix seconds), statuses, logins, registrations.
    newest: (i64, u64, u64, u64),
    ms: Metrics,
}

struct Pl {
    shape: PeerListShape,
    entries: &'static [&'static str],
    /// Valid distinct hosts after normalisation.
    hosts: usize,
    ms: Metrics,
}

struct Wk {
    links: usize,
    chosen: Option<(NodeInfoVersion, &'static str)>,
}

struct Mm {
    name: Option<&'static str>,
    uri: Option<&'static str>,
    raw_version: Option<&'static str>,
    version: Option<&'static str>,
    open_registrations: Option<bool>,
    maintainer_name: Option<&'static str>,
}

#[rustfmt::skip]
const ROWS: &[Row] = &[
    row("activity/bigbone-instance_activity_success.json", Activity(Act {
        weeks: 12, skipped: 0,
        newest: (1574640000, 37125, 14239, 542),
        ms: &[(UsersActiveWeek, 28820)],
    })),
    row("activity/mastodon.py-activity-x-2019-04-27.json", Activity(Act {
        weeks: 12, skipped: 0,
        newest: (1555884000, 221, 2, 0),
        ms: &[(UsersActiveWeek, 0)],
    })),
    row("activity/mastodon.py-activity-x-2023-04-23.json", Activity(Act {
        weeks: 12, skipped: 0,
        newest: (1682272620, 18, 4, 3),
        ms: &[(UsersActiveWeek, 0)],
    })),
    row("activity/mastodon.py-activity-x-2025-02-14.json", Activity(Act {
        weeks: 12, skipped: 0,
        newest: (1739505899, 22612, 10470, 329),
        ms: &[(UsersActiveWeek, 202236)],
    })),
    row("activity/mastodon.py-activity-x-2025-11-06.json", Activity(Act {
        weeks: 12, skipped: 0,
        newest: (1762434122, 79442, 35634, 793),
        ms: &[(UsersActiveWeek, 142091)],
    })),
    row("activity/mastodon.py-activity-x-2026-04-12-2.json", Activity(Act {
        weeks: 12, skipped: 0,
        newest: (1775930822, 107105, 57575, 1397),
        ms: &[(UsersActiveWeek, 162367)],
    })),
    row("activity/mastodon.py-activity-x-2026-04-12.json", Activity(Act {
        weeks: 12, skipped: 0,
        newest: (1775949325, 96, 4, 4),
        ms: &[(UsersActiveWeek, 0)],
    })),
    row("activity/tootsdk-activity.json", Activity(Act {
        weeks: 1, skipped: 0,
        newest: (1574640000, 37125, 14239, 542),
        ms: &[],
    })),
    row("error-body/gts-instancepatch_test-error-body-L515.json", ErrorBody("Bad Request: empty form submitted", None)),
    row("error-body/gts-instancepatch_test-error-body-L549.json", ErrorBody("Forbidden: token has insufficient scope permission", None)),
    row("error-body/gts-instancepatch_test-error-body-L710.json", ErrorBody("Bad Request: mail: missing '@' or angle-addr", None)),
    row("error-body/gts-instancepeersget_test-error-body-L162.json", ErrorBody("Unauthorized: peers blocked query requires an authenticated account/user", None)),
    row("error-body/gts-instancepeersget_test-error-body-L354.json", ErrorBody("Bad Request: filter aaaaaaaaaaaaaaaaa not recognized; accepted values are 'open', 'blocked', 'allowed', and 'suspended' (deprecated)", None)),
    row("error-body/mastodon.py-error-body-x-2020-02-22.json", NotJson),
    row("instance-v1/aoderelay-asonix_instance.json", InstanceV1(V1 {
        uri: Some("masto.asonix.dog"), domain: Some("masto.asonix.dog"), title: Some("asonix.dog"), raw_version: Some("4.0.0rc2-asonix-changes"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.0.0rc2-asonix-changes"), version: Some("4.0.0"),
        registrations: Some(false), approval_required: Some(false),
        ms: &[(UsersTotal, 7), (LocalPosts, 12328), (DomainCount, 5146)],
    })),
    row("instance-v1/aoderelay-hynet_instance.json", InstanceV1(V1 {
        uri: Some("https://soc.hyena.network"), domain: Some("soc.hyena.network"), title: Some("HyNET Social"), raw_version: Some("2.7.2 (compatible; Akkoma 3.0.0)"),
        software: Some("akkoma"), software_name: Some("Akkoma"), software_version: Some("3.0.0"), version: Some("3.0.0"),
        registrations: Some(false), approval_required: Some(false),
        ms: &[(UsersTotal, 1), (LocalPosts, 7), (DomainCount, 1035)],
    })),
    row("instance-v1/bigbone-instance-2.json", InstanceV1(V1 {
        uri: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("3.5.3"),
        software: Some("mastodon"), software_name: None, software_version: Some("3.5.3"), version: Some("3.5.3"),
        registrations: Some(false), approval_required: Some(false),
        ms: &[(UsersTotal, 812303), (LocalPosts, 38151616), (DomainCount, 25255)],
    })),
    row("instance-v1/bigbone-instance-3.json", InstanceV1(V1 {
        uri: Some("test.com"), domain: Some("test.com"), title: Some("test.com"), raw_version: Some("1.3.2"),
        software: None, software_name: None, software_version: None, version: Some("1.3.2"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 123456), (LocalPosts, 512023), (DomainCount, 13002)],
    })),
    row("instance-v1/bigbone-instance_extended-2.json", InstanceV1(V1 {
        uri: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("3.5.3"),
        software: Some("mastodon"), software_name: None, software_version: Some("3.5.3"), version: Some("3.5.3"),
        registrations: Some(false), approval_required: Some(false),
        ms: &[(UsersTotal, 812303), (LocalPosts, 38151616), (DomainCount, 25255)],
    })),
    row("instance-v1/bigbone-instance_v1_extended.json", InstanceV1(V1 {
        uri: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("3.5.3"),
        software: Some("mastodon"), software_name: None, software_version: Some("3.5.3"), version: Some("3.5.3"),
        registrations: Some(false), approval_required: Some(false),
        ms: &[(UsersTotal, 812303), (LocalPosts, 38151616), (DomainCount, 25255)],
    })),
    row("instance-v1/bigbone-mastodon_client_v1_instance_response.json", InstanceV1(V1 {
        uri: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.0.0rc1"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.0.0rc1"), version: Some("4.0.0"),
        registrations: Some(false), approval_required: Some(false),
        ms: &[(UsersTotal, 921487), (LocalPosts, 48629230), (DomainCount, 48722)],
    })),
    row("instance-v1/mastodon.py-instance-v1-2.0.0-2017-11-27.json", InstanceV1(V1 {
        uri: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("2.0.0"),
        software: Some("mastodon"), software_name: None, software_version: Some("2.0.0"), version: Some("2.0.0"),
        registrations: None, approval_required: None,
        ms: &[(UsersTotal, 2), (LocalPosts, 22), (DomainCount, 1)],
    })),
    row("instance-v1/mastodon.py-instance-v1-2.3.3-2018-04-18.json", InstanceV1(V1 {
        uri: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("2.3.3"),
        software: Some("mastodon"), software_name: None, software_version: Some("2.3.3"), version: Some("2.3.3"),
        registrations: None, approval_required: None,
        ms: &[(UsersTotal, 2), (LocalPosts, 40), (DomainCount, 0)],
    })),
    row("instance-v1/mastodon.py-instance-v1-2.4.3-2018-07-14.json", InstanceV1(V1 {
        uri: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("2.4.3"),
        software: Some("mastodon"), software_name: None, software_version: Some("2.4.3"), version: Some("2.4.3"),
        registrations: None, approval_required: None,
        ms: &[(UsersTotal, 2), (LocalPosts, 38), (DomainCount, 0)],
    })),
    row("instance-v1/mastodon.py-instance-v1-2.8.0-2019-04-27.json", InstanceV1(V1 {
        uri: Some("localhost"), domain: None, title: Some("Mastodon"), raw_version: Some("2.8.0"),
        software: Some("mastodon"), software_name: None, software_version: Some("2.8.0"), version: Some("2.8.0"),
        registrations: Some(true), approval_required: None,
        ms: &[(UsersTotal, 2), (LocalPosts, 45), (DomainCount, 0)],
    })),
    row("instance-v1/mastodon.py-instance-v1-3.0.1-2019-10-11.json", InstanceV1(V1 {
        uri: Some("localhost"), domain: None, title: Some("Mastodon"), raw_version: Some("3.0.1"),
        software: Some("mastodon"), software_name: None, software_version: Some("3.0.1"), version: Some("3.0.1"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 3), (LocalPosts, 28), (DomainCount, 0)],
    })),
    row("instance-v1/mastodon.py-instance-v1-3.1.1-2020-02-22.json", InstanceV1(V1 {
        uri: Some("localhost"), domain: None, title: Some("Mastodon"), raw_version: Some("3.1.1"),
        software: Some("mastodon"), software_name: None, software_version: Some("3.1.1"), version: Some("3.1.1"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 3), (LocalPosts, 1), (DomainCount, 0)],
    })),
    row("instance-v1/mastodon.py-instance-v1-4.0.0rc1-2022-11-07.json", InstanceV1(V1 {
        uri: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.0.0rc1"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.0.0rc1"), version: Some("4.0.0"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 4), (LocalPosts, 5), (DomainCount, 0)],
    })),
    row("instance-v1/mastodon.py-instance-v1-4.0.0rc2-2022-11-19.json", InstanceV1(V1 {
        uri: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.0.0rc2"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.0.0rc2"), version: Some("4.0.0"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 4), (LocalPosts, 7), (DomainCount, 0)],
    })),
    row("instance-v1/mastodon.py-instance-v1-4.0.2-2022-12-01.json", InstanceV1(V1 {
        uri: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.0.2"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.0.2"), version: Some("4.0.2"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 4), (LocalPosts, 7), (DomainCount, 1)],
    })),
    row("instance-v1/mastodon.py-instance-v1-4.1.2-2023-04-23.json", InstanceV1(V1 {
        uri: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.1.2"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.1.2"), version: Some("4.1.2"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 4), (LocalPosts, 5), (DomainCount, 1)],
    })),
    row("instance-v1/mastodon.py-instance-v1-4.3.0-2025-02-13.json", InstanceV1(V1 {
        uri: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.3.0"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.3.0"), version: Some("4.3.0"),
        registrations: Some(false), approval_required: Some(false),
        ms: &[(UsersTotal, 4), (LocalPosts, 7), (DomainCount, 0)],
    })),
    row("instance-v1/mastodon.py-instance-v1-4.5.0-2025-11-06.json", InstanceV1(V1 {
        uri: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.5.0"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.5.0"), version: Some("4.5.0"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 4), (LocalPosts, 6), (DomainCount, 1)],
    })),
    row("instance-v1/mastodon.py-instance-v1-4.5.0-nightly.2025-08-06-security-2025-08-16.json", InstanceV1(V1 {
        uri: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.5.0-nightly.2025-08-06-security"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.5.0-nightly.2025-08-06-security"), version: Some("4.5.0"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 2846404), (LocalPosts, 142311105), (DomainCount, 93500)],
    })),
    row("instance-v1/mastodon.py-instance-v1-4.6.0-nightly.2026-04-09-2026-04-12.json", InstanceV1(V1 {
        uri: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.6.0-nightly.2026-04-09"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.6.0-nightly.2026-04-09"), version: Some("4.6.0"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 3227352), (LocalPosts, 170416131), (DomainCount, 114357)],
    })),
    row("instance-v1/tootsdk-fork-instancev1_akkoma_miraiverse.json", InstanceV1(V1 {
        uri: Some("https://miraiverse.xyz"), domain: Some("miraiverse.xyz"), title: Some("miraiverse"), raw_version: Some("2.7.2 (compatible; Akkoma 3.13.2-0-g050bc74)"),
        software: Some("akkoma"), software_name: Some("Akkoma"), software_version: Some("3.13.2-0-g050bc74"), version: Some("3.13.2"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 743), (LocalPosts, 52454), (DomainCount, 18983)],
    })),
    row("instance-v1/tootsdk-fork-instancev1_bookwyrm-2.json", InstanceV1(V1 {
        uri: Some("bookwyrm.social"), domain: Some("bookwyrm.social"), title: Some("BookWyrm"), raw_version: Some("0.7.4"),
        software: None, software_name: None, software_version: None, version: Some("0.7.4"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 17429), (LocalPosts, 875357)],
    })),
    row("instance-v1/tootsdk-fork-instancev1_bookwyrm.json", InstanceV1(V1 {
        uri: Some("bookwyrm.social"), domain: Some("bookwyrm.social"), title: Some("BookWyrm"), raw_version: Some("0.7.4"),
        software: None, software_name: None, software_version: None, version: Some("0.7.4"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 17429), (LocalPosts, 875357)],
    })),
    row("instance-v1/tootsdk-fork-instancev1_friendica_venera.json", InstanceV1(V1 {
        uri: Some("venera.social"), domain: Some("venera.social"), title: Some("venera.social 🍀"), raw_version: Some("2.8.0 (compatible; Friendica 2024.06-rc)"),
        software: Some("friendica"), software_name: Some("Friendica"), software_version: Some("2024.06-rc"), version: Some("2024.06"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 2203), (LocalPosts, 133041), (DomainCount, 22354)],
    })),
    row("instance-v1/tootsdk-fork-instancev1_microdotblog.json", InstanceV1(V1 {
        uri: Some("micro.blog"), domain: Some("micro.blog"), title: Some("Micro.blog"), raw_version: Some("2.1"),
        software: None, software_name: None, software_version: None, version: Some("2.1"),
        registrations: None, approval_required: None,
        ms: &[],
    })),
    row("instance-v1/tootsdk-fork-instancev1_pixelfed_tokyo.json", InstanceV1(V1 {
        uri: Some("pixelfed.tokyo"), domain: Some("pixelfed.tokyo"), title: Some("Pixelfed.Tokyo"), raw_version: Some("3.5.3 (compatible; Pixelfed 0.12.1)"),
        software: Some("pixelfed"), software_name: Some("Pixelfed"), software_version: Some("0.12.1"), version: Some("0.12.1"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 4271), (LocalPosts, 384710), (DomainCount, 5701)],
    })),
    row("instance-v1/tootsdk-fork-instancev1_pleroma.json", InstanceV1(V1 {
        uri: Some("wienermobile.rentals"), domain: Some("wienermobile.rentals"), title: Some("Wienermobile Rentals"), raw_version: Some("2.7.2 (compatible; Pleroma 2.6.52-725-g987f44d8-2-6-2)"),
        software: Some("pleroma"), software_name: Some("Pleroma"), software_version: Some("2.6.52-725-g987f44d8-2-6-2"), version: Some("2.6.52"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 20), (LocalPosts, 627), (DomainCount, 5366)],
    })),
    row("instance-v1/tootsdk-fork-instancev1_pleroma_wienermobile.json", InstanceV1(V1 {
        uri: Some("wienermobile.rentals"), domain: Some("wienermobile.rentals"), title: Some("Wienermobile Rentals"), raw_version: Some("2.7.2 (compatible; Pleroma 2.6.52-725-g987f44d8-2-6-2)"),
        software: Some("pleroma"), software_name: Some("Pleroma"), software_version: Some("2.6.52-725-g987f44d8-2-6-2"), version: Some("2.6.52"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 20), (LocalPosts, 627), (DomainCount, 5366)],
    })),
    row("instance-v1/tootsdk-fork-instancev1_smithereen.json", InstanceV1(V1 {
        uri: Some("friends.grishka.me"), domain: Some("friends.grishka.me"), title: Some("Gregory's Instance"), raw_version: Some("Smithereen 0.0.1-pre-alpha"),
        software: Some("smithereen"), software_name: Some("Smithereen"), software_version: Some("0.0.1-pre-alpha"), version: Some("0.0.1"),
        registrations: Some(false), approval_required: Some(false),
        ms: &[(UsersTotal, 100), (LocalPosts, 346), (DomainCount, 1248)],
    })),
    row("instance-v1/tootsdk-instance_akkoma.json", InstanceV1(V1 {
        uri: Some("https://social.thisworksonmycomputer.local"), domain: None, title: Some("Social"), raw_version: Some("2.7.2 (compatible; Akkoma 3.10.4-0-gebfb617)"),
        software: Some("akkoma"), software_name: Some("Akkoma"), software_version: Some("3.10.4-0-gebfb617"), version: Some("3.10.4"),
        registrations: Some(true), approval_required: Some(true),
        ms: &[(UsersTotal, 5), (LocalPosts, 16), (DomainCount, 5844)],
    })),
    row("instance-v1/tootsdk-instance_catodon_contact_removed.json", InstanceV1(V1 {
        uri: Some("catodon.social"), domain: Some("catodon.social"), title: Some("Catodon Social"), raw_version: Some("4.2.1 (compatible; Catodon 24.01-dev)"),
        software: Some("catodon"), software_name: Some("Catodon"), software_version: Some("24.01-dev"), version: Some("24.01"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 255), (LocalPosts, 16179), (DomainCount, 13102)],
    })),
    row("instance-v1/tootsdk-instance_firefish_contact_removed.json", InstanceV1(V1 {
        uri: Some("https://social.thisworksonmycomputer.local"), domain: None, title: Some("Calckey.world"), raw_version: Some("3.0.0 (compatible; Firefish 1.0.5-dev20)"),
        software: Some("firefish"), software_name: Some("Firefish"), software_version: Some("1.0.5-dev20"), version: Some("1.0.5"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 413642), (LocalPosts, 21920403), (DomainCount, 14891)],
    })),
    row("instance-v1/tootsdk-instance_iceshrimpnet.json", InstanceV1(V1 {
        uri: Some("example.com"), domain: Some("example.com"), title: Some("example.com"), raw_version: Some("4.2.1 (compatible; Iceshrimp.NET/2024.1-beta2.security3+e1d25a9231)"),
        software: Some("iceshrimp.net"), software_name: Some("Iceshrimp.NET"), software_version: Some("2024.1-beta2.security3+e1d25a9231"), version: Some("2024.1"),
        registrations: Some(false), approval_required: Some(true),
        ms: &[(UsersTotal, 2), (LocalPosts, 45), (DomainCount, 1521)],
    })),
    row("instance-v1/tootsdk-instance_sharkey_contact_removed.json", InstanceV1(V1 {
        uri: Some("https://plasmatrap.com"), domain: Some("plasmatrap.com"), title: Some("Social"), raw_version: Some("3.0.0 (compatible; Sharkey 2024.1.0.beta1)"),
        software: Some("sharkey"), software_name: Some("Sharkey"), software_version: Some("2024.1.0.beta1"), version: Some("2024.1.0"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 179), (LocalPosts, 46109), (DomainCount, 229440)],
    })),
    row("instance-v1/tootsdk-mastodon-2.json", InstanceV1(V1 {
        uri: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.1.0rc3"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.1.0rc3"), version: Some("4.1.0"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 929919), (LocalPosts, 50272420), (DomainCount, 50676)],
    })),
    row("instance-v1/tootsdk-pixelfed.json", InstanceV1(V1 {
        uri: Some("pixelfed.social"), domain: Some("pixelfed.social"), title: Some("pixelfed"), raw_version: Some("2.7.2 (compatible; Pixelfed 0.11.4)"),
        software: Some("pixelfed"), software_name: Some("Pixelfed"), software_version: Some("0.11.4"), version: Some("0.11.4"),
        registrations: Some(true), approval_required: Some(false),
        ms: &[(UsersTotal, 71742), (LocalPosts, 672678), (DomainCount, 12725)],
    })),
    row("instance-v1/tootsdk-pleroma-2.json", InstanceV1(V1 {
        uri: Some("https://m.iamkonstantin.eu"), domain: Some("m.iamkonstantin.eu"), title: Some("House of Konstantin"), raw_version: Some("2.7.2 (compatible; Pleroma 2.5.0)"),
        software: Some("pleroma"), software_name: Some("Pleroma"), software_version: Some("2.5.0"), version: Some("2.5.0"),
        registrations: Some(false), approval_required: Some(true),
        ms: &[(UsersTotal, 1), (LocalPosts, 971), (DomainCount, 10014)],
    })),
    row("instance-v2/bigbone-instance.json", InstanceV2(V2 {
        raw_domain: Some("test.com"), domain: Some("test.com"), title: Some("test.com"), raw_version: Some("1.3.2"),
        software: Some("mastodon"), software_name: None, software_version: Some("1.3.2"), version: Some("1.3.2"),
        users_active_month: Some(123456), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 123456)],
    })),
    row("instance-v2/bigbone-instance_extended.json", InstanceV2(V2 {
        raw_domain: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.0.0rc1"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.0.0rc1"), version: Some("4.0.0"),
        users_active_month: Some(123122), registrations_enabled: Some(false), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 123122)],
    })),
    row("instance-v2/bigbone-mastodon_client_v2_instance_response.json", InstanceV2(V2 {
        raw_domain: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.0.0rc1"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.0.0rc1"), version: Some("4.0.0"),
        users_active_month: Some(148401), registrations_enabled: Some(false), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 148401)],
    })),
    row("instance-v2/mastodon.py-instance-v2-4.3.0-2025-02-13.json", InstanceV2(V2 {
        raw_domain: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.3.0"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.3.0"), version: Some("4.3.0"),
        users_active_month: Some(0), registrations_enabled: Some(false), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 0)],
    })),
    row("instance-v2/mastodon.py-instance-v2-4.3.0-2025-02-14.json", InstanceV2(V2 {
        raw_domain: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.3.0"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.3.0"), version: Some("4.3.0"),
        users_active_month: Some(0), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 0)],
    })),
    row("instance-v2/mastodon.py-instance-v2-4.3.0-2025-08-16-2.json", InstanceV2(V2 {
        raw_domain: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.3.0"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.3.0"), version: Some("4.3.0"),
        users_active_month: Some(0), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 0)],
    })),
    row("instance-v2/mastodon.py-instance-v2-4.4.0-nightly.2025-02-07-2025-02-14.json", InstanceV2(V2 {
        raw_domain: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.4.0-nightly.2025-02-07"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.4.0-nightly.2025-02-07"), version: Some("4.4.0"),
        users_active_month: Some(303515), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 303515)],
    })),
    row("instance-v2/mastodon.py-instance-v2-4.4.3-2025-08-17.json", InstanceV2(V2 {
        raw_domain: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.4.3"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.4.3"), version: Some("4.4.3"),
        users_active_month: Some(0), registrations_enabled: Some(true), approval_required: Some(true),
        limited_federation: Some(false),
        ms: &[(UsersActiveMonth, 0)],
    })),
    row("instance-v2/mastodon.py-instance-v2-4.5.0-2026-04-12.json", InstanceV2(V2 {
        raw_domain: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.5.0"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.5.0"), version: Some("4.5.0"),
        users_active_month: Some(0), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: Some(false),
        ms: &[(UsersActiveMonth, 0)],
    })),
    row("instance-v2/mastodon.py-instance-v2-4.5.0-nightly.2025-08-06-security-2025-08-16.json", InstanceV2(V2 {
        raw_domain: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.5.0-nightly.2025-08-06-security"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.5.0-nightly.2025-08-06-security"), version: Some("4.5.0"),
        users_active_month: Some(272627), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: Some(false),
        ms: &[(UsersActiveMonth, 272627)],
    })),
    row("instance-v2/mastodon.py-instance-v2-4.6.0-nightly.2025-11-06-2025-11-06.json", InstanceV2(V2 {
        raw_domain: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.6.0-nightly.2025-11-06"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.6.0-nightly.2025-11-06"), version: Some("4.6.0"),
        users_active_month: Some(257831), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: Some(false),
        ms: &[(UsersActiveMonth, 257831)],
    })),
    row("instance-v2/mastodon.py-instance-v2-4.6.4-2026-08-01.json", InstanceV2(V2 {
        raw_domain: Some("localhost:3000"), domain: None, title: Some("Mastodon"), raw_version: Some("4.6.4"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.6.4"), version: Some("4.6.4"),
        users_active_month: Some(0), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: Some(false),
        ms: &[(UsersActiveMonth, 0)],
    })),
    row("instance-v2/tootsdk-fork-instancev2_mastodon.json", InstanceV2(V2 {
        raw_domain: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.3.0-nightly.2024-05-13"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.3.0-nightly.2024-05-13"), version: Some("4.3.0"),
        users_active_month: Some(229924), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 229924)],
    })),
    row("instance-v2/tootsdk-fork-instancev2_universeodon-2.json", InstanceV2(V2 {
        raw_domain: Some("universeodon.com"), domain: Some("universeodon.com"), title: Some("Universeodon Social Media"), raw_version: Some("4.2.7"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.2.7"), version: Some("4.2.7"),
        users_active_month: Some(6132), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 6132)],
    })),
    row("instance-v2/tootsdk-fork-instancev2_universeodon.json", InstanceV2(V2 {
        raw_domain: Some("universeodon.com"), domain: Some("universeodon.com"), title: Some("Universeodon Social Media"), raw_version: Some("4.2.7"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.2.7"), version: Some("4.2.7"),
        users_active_month: Some(6132), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 6132)],
    })),
    row("instance-v2/tootsdk-instancev2_friendica.json", InstanceV2(V2 {
        raw_domain: Some("friendica.me"), domain: Some("friendica.me"), title: Some("Friendica.me"), raw_version: Some("2.8.0 (compatible; Friendica 2024.08)"),
        software: Some("friendica"), software_name: Some("Friendica"), software_version: Some("2024.08"), version: Some("2024.08"),
        users_active_month: Some(19), registrations_enabled: Some(false), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 19)],
    })),
    row("instance-v2/tootsdk-instancev2_mastodon.json", InstanceV2(V2 {
        raw_domain: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.3.0+pr-32577-ba659d5"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.3.0+pr-32577-ba659d5"), version: Some("4.3.0"),
        users_active_month: Some(234394), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 234394)],
    })),
    row("instance-v2/tootsdk-instancev2_mastodon_4.5.json", InstanceV2(V2 {
        raw_domain: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.5.0-nightly.2025-10-30"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.5.0-nightly.2025-10-30"), version: Some("4.5.0"),
        users_active_month: Some(259022), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: Some(false),
        ms: &[(UsersActiveMonth, 259022)],
    })),
    row("instance-v2/tootsdk-instancev2_missing_thumbnail_url.json", InstanceV2(V2 {
        raw_domain: Some("mastodon.social"), domain: Some("mastodon.social"), title: Some("Mastodon"), raw_version: Some("4.3.0+pr-32577-ba659d5"),
        software: Some("mastodon"), software_name: None, software_version: Some("4.3.0+pr-32577-ba659d5"), version: Some("4.3.0"),
        users_active_month: Some(234394), registrations_enabled: Some(true), approval_required: Some(false),
        limited_federation: None,
        ms: &[(UsersActiveMonth, 234394)],
    })),
    row("misskey-meta/aoderelay-misskey_bare_meta.json", MisskeyMeta(Mm {
        name: None, uri: Some("https://msky-lab-01.arewesecureyet.org"), raw_version: Some("12.119.2"), version: Some("12.119.2"),
        open_registrations: Some(true), maintainer_name: None,
    })),
    row("misskey-meta/aoderelay-misskey_stella_meta.json", MisskeyMeta(Mm {
        name: Some("Stella"), uri: Some("https://stella.place"), raw_version: Some("12.120.0-alpha.8+cs"), version: Some("12.120.0"),
        open_registrations: Some(true), maintainer_name: Some("Caipira"),
    })),
    row("nodeinfo/akkoma-docs-nodeinfo-2.0-example.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "pleroma", family: "pleroma", raw_version: "2.4.1", version: Some("2.4.1"),
        open: Some(true), node_name: Some("Example"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 235), (UsersActiveMonth, 70), (UsersActiveHalfyear, 129), (LocalPosts, 27)],
    })),
    row("nodeinfo/aoderelay-asonix_dog_4_nodeinfo.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.0.0rc2-asonix-changes", version: Some("4.0.0"),
        open: Some(false), node_name: None, private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 7), (UsersActiveMonth, 4), (UsersActiveHalfyear, 7), (LocalPosts, 12359)],
    })),
    row("nodeinfo/aoderelay-asonix_dog_nodeinfo.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "3.1.3-asonix-changes", version: Some("3.1.3"),
        open: Some(false), node_name: None, private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 19), (UsersActiveMonth, 5), (UsersActiveHalfyear, 5), (LocalPosts, 43036)],
    })),
    row("nodeinfo/aoderelay-banana_dog_nodeinfo.json", NodeInfo(Ni {
        schema: Some("2.1"), name: "corgidon", family: "corgidon", raw_version: "3.1.3+corgi", version: Some("3.1.3"),
        open: Some(true), node_name: Some("Banana.dog"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 203), (UsersActiveMonth, 115), (UsersActiveHalfyear, 224), (LocalPosts, 28856)],
    })),
    row("nodeinfo/aoderelay-hynet_nodeinfo.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "pleroma", family: "pleroma", raw_version: "2.2.50-724-gf917285b-develop+HyNET-prod", version: Some("2.2.50"),
        open: Some(true), node_name: Some("HyNET Social"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 19), (LocalPosts, 3444)],
    })),
    row("nodeinfo/aoderelay-new_hynet_nodeinfo.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "akkoma", family: "akkoma", raw_version: "3.0.0", version: Some("3.0.0"),
        open: Some(false), node_name: Some("HyNET Social"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 1), (LocalPosts, 7)],
    })),
    row("nodeinfo/bigbone-nodeinfo_server_info.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.1.2+nightly-20230523", version: Some("4.1.2"),
        open: Some(true), node_name: None, private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 1159186), (UsersActiveMonth, 217235), (UsersActiveHalfyear, 468099), (LocalPosts, 56694261)],
    })),
    row("nodeinfo/fedify-docs-fosstodon-4.4.2.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.4.2", version: Some("4.4.2"),
        open: Some(false), node_name: Some("Fosstodon"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 62444), (UsersActiveMonth, 8788), (UsersActiveHalfyear, 14000), (LocalPosts, 4335412)],
    })),
    row("nodeinfo/go-nodeinfo-test-mastodon-4.0.2.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.0.2", version: Some("4.0.2"),
        open: Some(true), node_name: None, private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 255), (UsersActiveMonth, 163), (UsersActiveHalfyear, 166), (LocalPosts, 12107)],
    })),
    row("nodeinfo/mastodon.py-nodeinfo-3.1.1-2020-02-22.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "3.1.1", version: Some("3.1.1"),
        open: Some(true), node_name: None, private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 3), (UsersActiveMonth, 3), (UsersActiveHalfyear, 3), (LocalPosts, 1)],
    })),
    row("nodeinfo/mastodon.py-nodeinfo-4.1.2-2023-04-23.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.1.2", version: Some("4.1.2"),
        open: Some(true), node_name: None, private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 4), (UsersActiveMonth, 0), (UsersActiveHalfyear, 0), (LocalPosts, 4)],
    })),
    row("nodeinfo/mastodon.py-nodeinfo-4.3.0-2025-02-13.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.3.0", version: Some("4.3.0"),
        open: Some(false), node_name: Some("Mastodon"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 4), (UsersActiveMonth, 0), (UsersActiveHalfyear, 0), (LocalPosts, 6)],
    })),
    row("nodeinfo/mastodon.py-nodeinfo-4.4.0-nightly.2025-02-07-2025-02-14.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.4.0-nightly.2025-02-07", version: Some("4.4.0"),
        open: Some(true), node_name: Some("Mastodon"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 2521598), (UsersActiveMonth, 303515), (UsersActiveHalfyear, 303515), (LocalPosts, 120124594)],
    })),
    row("nodeinfo/mastodon.py-nodeinfo-4.4.3-2025-08-17.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.4.3", version: Some("4.4.3"),
        open: Some(true), node_name: Some("Mastodon"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 4), (UsersActiveMonth, 0), (UsersActiveHalfyear, 0), (LocalPosts, 5)],
    })),
    row("nodeinfo/mastodon.py-nodeinfo-4.5.0-nightly.2025-08-06-security-2025-08-16.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.5.0-nightly.2025-08-06-security", version: Some("4.5.0"),
        open: Some(true), node_name: Some("Mastodon"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 2846379), (UsersActiveMonth, 272779), (UsersActiveHalfyear, 763426), (LocalPosts, 142308335)],
    })),
    row("nodeinfo/mastodon.py-nodeinfo-4.6.0-nightly.2025-11-06-2025-11-06.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.6.0-nightly.2025-11-06", version: Some("4.6.0"),
        open: Some(true), node_name: Some("Mastodon"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 2947775), (UsersActiveMonth, 257831), (UsersActiveHalfyear, 675089), (LocalPosts, 152377949)],
    })),
    row("nodeinfo/mastodon.py-nodeinfo-4.6.0-nightly.2026-04-09-2026-04-12.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.6.0-nightly.2026-04-09", version: Some("4.6.0"),
        open: Some(true), node_name: Some("Mastodon"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 3227352), (UsersActiveMonth, 286109), (UsersActiveHalfyear, 722982), (LocalPosts, 170416131)],
    })),
    row("nodeinfo/mobilizon-5.1.0-mobilizon.fr.json", NodeInfo(Ni {
        schema: Some("2.1"), name: "Mobilizon", family: "mobilizon", raw_version: "5.1.0", version: Some("5.1.0"),
        open: Some(true), node_name: Some("Mobilizon"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 9204), (LocalPosts, 7545), (LocalComments, 3253)],
    })),
    row("nodeinfo/swift-nodeinfo-test-mastodon.social-4.5.0-nightly-0711.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.5.0-nightly.2025-07-11", version: Some("4.5.0"),
        open: Some(true), node_name: Some("Mastodon"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 2805128), (UsersActiveMonth, 278110), (UsersActiveHalfyear, 811772), (LocalPosts, 138439181)],
    })),
    row("nodeinfo/tootsdk-fork-nodeinfo_microdotblog.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "microdotblog", family: "microdotblog", raw_version: "2.1", version: Some("2.1"),
        open: Some(true), node_name: None, private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 167066), (UsersActiveMonth, 4082), (UsersActiveHalfyear, 37040), (LocalPosts, 7853386), (LocalComments, 870273)],
    })),
    row("nodeinfo/tootsdk-fork-nodeinfo_smithereen.json", NodeInfo(Ni {
        schema: Some("2.1"), name: "smithereen", family: "smithereen", raw_version: "0.8.1-dev.8.dirty+dd0249ed", version: Some("0.8.1"),
        open: Some(false), node_name: Some("Gregory's Server"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 253), (UsersActiveMonth, 33), (UsersActiveHalfyear, 56), (LocalPosts, 1790), (LocalComments, 8141)],
    })),
    row("nodeinfo/tootsdk-nodeinfo_akkoma.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "akkoma", family: "akkoma", raw_version: "3.12.2-0-g26a91d5", version: Some("3.12.2"),
        open: Some(true), node_name: Some("Coral Castle"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 117), (UsersActiveMonth, 27), (UsersActiveHalfyear, 36), (LocalPosts, 26780)],
    })),
    row("nodeinfo/tootsdk-nodeinfo_catodon.json", NodeInfo(Ni {
        schema: Some("2.1"), name: "catodon", family: "catodon", raw_version: "24.04-dev.2", version: Some("24.04"),
        open: Some(true), node_name: Some("Catodon Social"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 298), (UsersActiveMonth, 105), (UsersActiveHalfyear, 266), (LocalPosts, 26893), (LocalComments, 0)],
    })),
    row("nodeinfo/tootsdk-nodeinfo_friendica.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "friendica", family: "friendica", raw_version: "2024.03-1557", version: Some("2024.03"),
        open: Some(true), node_name: Some("Social Gibiris (The #Friendica Edition)"), private: false, protocols: &["dfrn", "activitypub", "diaspora", "ostatus"],
        ms: &[],
    })),
    row("nodeinfo/tootsdk-nodeinfo_gotosocial.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "gotosocial", family: "gotosocial", raw_version: "0.16.0+git-f1cbf6f", version: Some("0.16.0"),
        open: Some(false), node_name: None, private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 5), (LocalPosts, 3010)],
    })),
    row("nodeinfo/tootsdk-nodeinfo_iceshrimp.json", NodeInfo(Ni {
        schema: Some("2.1"), name: "iceshrimp", family: "iceshrimp", raw_version: "2023.12.7", version: Some("2023.12.7"),
        open: Some(true), node_name: Some("Iceshrimp.social"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 185), (UsersActiveMonth, 62), (UsersActiveHalfyear, 140), (LocalPosts, 13748), (LocalComments, 0)],
    })),
    row("nodeinfo/tootsdk-nodeinfo_iceshrimpnet.json", NodeInfo(Ni {
        schema: Some("2.1"), name: "Iceshrimp.NET", family: "iceshrimp.net", raw_version: "2024.1-beta2.security3+e1d25a9231", version: Some("2024.1"),
        open: Some(false), node_name: Some("Iceshrimp.NET"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 2), (UsersActiveMonth, 2), (UsersActiveHalfyear, 2), (LocalPosts, 45), (LocalComments, 0)],
    })),
    row("nodeinfo/tootsdk-nodeinfo_mastodon.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "mastodon", family: "mastodon", raw_version: "4.3.0-nightly.2024-07-05-security", version: Some("4.3.0"),
        open: Some(true), node_name: Some("Mastodon"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 2001387), (UsersActiveMonth, 229393), (UsersActiveHalfyear, 586512), (LocalPosts, 96286820)],
    })),
    row("nodeinfo/tootsdk-nodeinfo_sharkey.json", NodeInfo(Ni {
        schema: Some("2.1"), name: "sharkey", family: "sharkey", raw_version: "2024.2.0-beta.12", version: Some("2024.2.0"),
        open: Some(true), node_name: Some("Blåhaj Zone"), private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 1912), (LocalPosts, 209466), (LocalComments, 0)],
    })),
    row("nodeinfo/wordpress-6.4.2-event-federation.json", NodeInfo(Ni {
        schema: Some("2.0"), name: "wordpress", family: "wordpress", raw_version: "6.4.2", version: Some("6.4.2"),
        open: Some(false), node_name: None, private: false, protocols: &["activitypub"],
        ms: &[(UsersTotal, 1), (UsersActiveMonth, 1), (UsersActiveHalfyear, 1), (LocalPosts, 3), (LocalComments, 3)],
    })),
    row("peers/gts-instancepeersget_test-peers-L134.json", Peers(Pl {
        shape: PeerListShape::Objects, entries: &["replyguys.com"], hosts: 1,
        ms: &[(PeerCount, 1)],
    })),
    row("peers/gts-instancepeersget_test-peers-L63.json", Peers(Pl {
        shape: PeerListShape::Strings, entries: &["example.org", "fossbros-anonymous.io"], hosts: 2,
        ms: &[(PeerCount, 2)],
    })),
    row("wellknown/aoderelay-asonix_dog.json", WellKnown(Wk {
        links: 1, chosen: Some((NodeInfoVersion::V2_0, "https://asonix.dog/nodeinfo/2.0")),
    })),
    row("wellknown/aoderelay-banana_dog.json", WellKnown(Wk {
        links: 2, chosen: Some((NodeInfoVersion::V2_1, "https://banana.dog/nodeinfo/2.1")),
    })),
    row("wellknown/aoderelay-hynet.json", WellKnown(Wk {
        links: 2, chosen: Some((NodeInfoVersion::V2_1, "https://soc.hyena.network/nodeinfo/2.1.json")),
    })),
    row("wellknown/aoderelay-relay_asonix_dog.json", WellKnown(Wk {
        links: 1, chosen: Some((NodeInfoVersion::V2_0, "https://relay.asonix.dog/nodeinfo/2.0.json")),
    })),
    row("wellknown/mastodon.py-wellknown-x-2026-04-12.json", WellKnown(Wk {
        links: 1, chosen: Some((NodeInfoVersion::V2_0, "https://mastodon.social/nodeinfo/2.0")),
    })),
    row("wellknown/mastodon.py-wellknown-x-2026-08-01.json", WellKnown(Wk {
        links: 1, chosen: Some((NodeInfoVersion::V2_0, "http://localhost:3000/nodeinfo/2.0")),
    })),
    row("wellknown/mobilizon-test-older-versions.json", WellKnown(Wk {
        links: 1, chosen: Some((NodeInfoVersion::V1_1, "https://mobilizon.fr/.well-known/nodeinfo/1.1")),
    })),
    row("wellknown/mobilizon-test-regular.json", WellKnown(Wk {
        links: 1, chosen: Some((NodeInfoVersion::V2_0, "https://event-federation.eu/wp-json/activitypub/1.0/nodeinfo")),
    })),
    row("wellknown/tootsdk-fork-nodeinfo_hollo.json", WellKnown(Wk {
        links: 1, chosen: Some((NodeInfoVersion::V2_1, "https://hollo.social/nodeinfo/2.1")),
    })),
    row("wellknown/tootsdk-fork-nodeinfo_mastodon_jrd_pccafe.json", WellKnown(Wk {
        links: 1, chosen: Some((NodeInfoVersion::V2_0, "https://pc.cafe/nodeinfo/2.0")),
    })),
    row("wellknown/tootsdk-fork-nodeinfo_microdotblog_jrd_missing_array.json", WellKnown(Wk {
        links: 1, chosen: Some((NodeInfoVersion::V2_0, "https://micro.blog/mastodon/nodeinfo/2.0")),
    })),
];

fn family(name: Option<&str>) -> Option<Software> {
    name.map(Software::from_nodeinfo_name)
}

/// Checks that `got` are exactly `want`, every one from `source`.
fn check_measurements(file: &str, got: &[Measurement], source: Source, want: Metrics) {
    for m in got {
        assert_eq!(m.source, source, "{file}: {m:?} has the wrong source");
    }
    let got: BTreeSet<(Metric, u64)> = got.iter().map(|m| (m.metric, m.value)).collect();
    let want: BTreeSet<(Metric, u64)> = want.iter().copied().collect();
    assert_eq!(got, want, "{file}: measurements");
}

fn check(row: &Row) {
    let file = row.file;
    let bytes = corpus(file);
    let fail = |e: ParseError| -> ! { panic!("{file}: {e}") };
    match &row.expect {
        NodeInfo(x) => {
            let ni = parse_nodeinfo(&bytes).unwrap_or_else(|e| fail(e));
            assert_eq!(ni.schema_version.as_deref(), x.schema, "{file}: schema");
            assert_eq!(ni.software.raw_name, x.name, "{file}: name");
            assert_eq!(
                ni.software.family,
                Software::from_nodeinfo_name(x.family),
                "{file}"
            );
            assert_eq!(ni.software.family.as_str(), x.family, "{file}: family");
            assert_eq!(
                ni.software.raw_version, x.raw_version,
                "{file}: raw version"
            );
            assert_eq!(ni.software.version.as_deref(), x.version, "{file}: version");
            assert_eq!(ni.open_registrations, x.open, "{file}: registrations");
            assert_eq!(ni.node_name.as_deref(), x.node_name, "{file}: node name");
            assert_eq!(ni.private, x.private, "{file}: private");
            assert_eq!(ni.protocols, x.protocols, "{file}: protocols");
            check_measurements(file, &ni.measurements(), Source::NodeInfo, x.ms);
        }
        InstanceV1(x) => {
            let i = parse_instance_v1(&bytes).unwrap_or_else(|e| fail(e));
            assert_eq!(i.uri.as_deref(), x.uri, "{file}: uri");
            assert_eq!(
                i.domain.as_ref().map(|h| h.as_str()),
                x.domain,
                "{file}: domain"
            );
            assert_eq!(i.title.as_deref(), x.title, "{file}: title");
            assert_eq!(
                i.raw_version.as_deref(),
                x.raw_version,
                "{file}: raw version"
            );
            assert_eq!(i.software, family(x.software), "{file}: software");
            assert_eq!(
                i.software_name.as_deref(),
                x.software_name,
                "{file}: software name"
            );
            assert_eq!(
                i.software_version.as_deref(),
                x.software_version,
                "{file}: software version"
            );
            assert_eq!(i.version.as_deref(), x.version, "{file}: version");
            assert_eq!(i.registrations, x.registrations, "{file}: registrations");
            assert_eq!(i.approval_required, x.approval_required, "{file}: approval");
            check_measurements(file, &i.measurements(), Source::InstanceV1, x.ms);
        }
        InstanceV2(x) => {
            let i = parse_instance_v2(&bytes).unwrap_or_else(|e| fail(e));
            assert_eq!(i.raw_domain.as_deref(), x.raw_domain, "{file}: raw domain");
            assert_eq!(
                i.domain.as_ref().map(|h| h.as_str()),
                x.domain,
                "{file}: domain"
            );
            assert_eq!(i.title.as_deref(), x.title, "{file}: title");
            assert_eq!(
                i.raw_version.as_deref(),
                x.raw_version,
                "{file}: raw version"
            );
            assert_eq!(i.software, family(x.software), "{file}: software");
            assert_eq!(
                i.software_name.as_deref(),
                x.software_name,
                "{file}: software name"
            );
            assert_eq!(
                i.software_version.as_deref(),
                x.software_version,
                "{file}: software version"
            );
            assert_eq!(i.version.as_deref(), x.version, "{file}: version");
            assert_eq!(
                i.users_active_month, x.users_active_month,
                "{file}: active month"
            );
            assert_eq!(
                i.registrations_enabled, x.registrations_enabled,
                "{file}: registrations"
            );
            assert_eq!(i.approval_required, x.approval_required, "{file}: approval");
            assert_eq!(
                i.limited_federation, x.limited_federation,
                "{file}: limited"
            );
            check_measurements(file, &i.measurements(), Source::InstanceV2, x.ms);
        }
        Activity(x) => {
            let a = parse_activity(&bytes).unwrap_or_else(|e| fail(e));
            assert_eq!(a.weeks.len(), x.weeks, "{file}: weeks");
            assert_eq!(a.skipped, x.skipped, "{file}: skipped");
            let w = a.weeks.first().unwrap_or_else(|| panic!("{file}: no week"));
            let newest = (
                w.week_start.timestamp(),
                w.statuses,
                w.logins,
                w.registrations,
            );
            assert_eq!(newest, x.newest, "{file}: newest week");
            check_measurements(file, &a.measurements(), Source::Activity, x.ms);
        }
        Peers(x) => {
            let p = parse_peers(&bytes).unwrap_or_else(|e| fail(e));
            assert_eq!(p.shape, x.shape, "{file}: shape");
            assert_eq!(p.entries, x.entries, "{file}: entries");
            assert_eq!(p.skipped, 0, "{file}: skipped");
            assert_eq!(
                normalise_peers(&p.entries).hosts.len(),
                x.hosts,
                "{file}: hosts"
            );
            check_measurements(file, &p.measurements(), Source::PeerList, x.ms);
        }
        WellKnown(x) => {
            let wk = parse_well_known(&bytes).unwrap_or_else(|e| fail(e));
            assert!(!wk.is_nodeinfo_document, "{file}: a JRD, not NodeInfo");
            assert_eq!(wk.links.len(), x.links, "{file}: links");
            let chosen = wk.choose(BASE);
            let want = x.chosen.map(|(v, href)| (v, href.to_owned()));
            assert_eq!(chosen, want, "{file}: chosen link");
        }
        MisskeyMeta(x) => {
            let m = parse_misskey_meta(&bytes).unwrap_or_else(|e| fail(e));
            assert_eq!(m.name.as_deref(), x.name, "{file}: name");
            assert_eq!(m.uri.as_deref(), x.uri, "{file}: uri");
            assert_eq!(
                m.raw_version.as_deref(),
                x.raw_version,
                "{file}: raw version"
            );
            assert_eq!(m.version.as_deref(), x.version, "{file}: version");
            assert_eq!(
                m.open_registrations(),
                x.open_registrations,
                "{file}: registrations"
            );
            assert_eq!(
                m.maintainer_name.as_deref(),
                x.maintainer_name,
                "{file}: maintainer"
            );
            assert!(
                m.measurements().is_empty(),
                "{file}: /api/meta has no counts"
            );
        }
        ErrorBody(message, code) => {
            let e = parse_error_body(&bytes).unwrap_or_else(|e| fail(e));
            assert_eq!(e.message, *message, "{file}: message");
            assert_eq!(e.code.as_deref(), *code, "{file}: code");
        }
        NotJson => {
            let e = parse_error_body(&bytes).expect_err("an HTML page is not an error object");
            assert_eq!(e.as_str(), "json", "{file}: {e}");
        }
    }
}

#[test]
fn every_corpus_document_reads_as_its_row_says() {
    // Every row is checked, so one run names every document read wrong (each panic prints why).
    let wrong: Vec<&str> = ROWS
        .iter()
        .filter(|row| std::panic::catch_unwind(|| check(row)).is_err())
        .map(|row| row.file)
        .collect();
    assert!(wrong.is_empty(), "documents read wrong: {wrong:#?}");
}

// --- the cases the corpus was collected for ------------------------------------------------------

fn v1(path: &str) -> fedicensus_core::parse::InstanceV1 {
    parse_instance_v1(&corpus(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn iceshrimp_net_instance_is_iceshrimp_net_at_the_version_behind_the_slash() {
    let i = v1("instance-v1/tootsdk-instance_iceshrimpnet.json");
    // Iceshrimp.NET is a rewrite, not the Misskey fork Iceshrimp: the family its NodeInfo names.
    assert_eq!(i.software, Some(Software::Other("iceshrimp.net".into())));
    assert_ne!(i.software, Some(Software::Iceshrimp));
    assert_eq!(i.software_name.as_deref(), Some("Iceshrimp.NET"));
    assert_eq!(
        i.software_version.as_deref(),
        Some("2024.1-beta2.security3+e1d25a9231")
    );
    assert_eq!(i.version.as_deref(), Some("2024.1"));
    let ni =
        parse_nodeinfo(&corpus("nodeinfo/tootsdk-nodeinfo_iceshrimpnet.json")).expect("parses");
    assert_eq!(Some(ni.software.family), i.software);
    assert_eq!(ni.software.version, i.version);
}

#[test]
fn bookwyrm_instance_without_a_compatible_marker_is_not_mastodon() {
    for path in [
        "instance-v1/tootsdk-fork-instancev1_bookwyrm.json",
        "instance-v1/tootsdk-fork-instancev1_bookwyrm-2.json",
    ] {
        let i = v1(path);
        assert_eq!(i.software, None, "{path}");
        assert_eq!(i.version.as_deref(), Some("0.7.4"), "{path}");
        assert_eq!(i.user_count, Some(17_429), "{path}");
    }
}

#[test]
fn micro_blog_instance_without_a_compatible_marker_is_not_mastodon() {
    let i = v1("instance-v1/tootsdk-fork-instancev1_microdotblog.json");
    assert_eq!(i.software, None);
    assert_eq!(i.raw_version.as_deref(), Some("2.1"));
    assert!(i.measurements().is_empty());
}

#[test]
fn mastodon_instance_is_mastodon_by_its_version_and_streaming_url() {
    let i = v1("instance-v1/mastodon.py-instance-v1-4.1.2-2023-04-23.json");
    assert_eq!(i.software, Some(Software::Mastodon));
    // A fork that keeps Mastodon's version format is Mastodon, as its NodeInfo says.
    let i = v1("instance-v1/aoderelay-asonix_instance.json");
    assert_eq!(i.software, Some(Software::Mastodon));
    let ni =
        parse_nodeinfo(&corpus("nodeinfo/aoderelay-asonix_dog_4_nodeinfo.json")).expect("parses");
    assert_eq!(ni.software.family, Software::Mastodon);
}

#[test]
fn synthetic_instance_without_streaming_url_names_no_software() {
    // BigBone's made-up `test.com` v1 document: a bare version and no Mastodon marks.
    assert_eq!(v1("instance-v1/bigbone-instance-3.json").software, None);
}

#[test]
fn v2_instance_names_its_software_by_its_source_url() {
    let i = parse_instance_v2(&corpus(
        "instance-v2/tootsdk-fork-instancev2_universeodon.json",
    ))
    .expect("parses");
    assert_eq!(i.software, Some(Software::Mastodon));
    assert_eq!(i.software_version.as_deref(), Some("4.2.7"));
}

#[test]
fn smithereen_instance_names_itself_before_its_version() {
    let i = v1("instance-v1/tootsdk-fork-instancev1_smithereen.json");
    assert_eq!(i.software, Some(Software::Other("smithereen".into())));
    assert_eq!(i.software_name.as_deref(), Some("Smithereen"));
    assert_eq!(i.version.as_deref(), Some("0.0.1"));
}

#[test]
fn one_week_of_activity_sent_as_an_object_is_one_week() {
    let a = parse_activity(&corpus("activity/tootsdk-activity.json")).expect("parses");
    assert_eq!(a.weeks.len(), 1);
    assert_eq!(a.weeks[0].logins, 14_239);
    // One week is the current, partial one: no complete week to report.
    assert!(a.measurements().is_empty());
}

#[test]
fn nodeinfo_open_registrations_as_the_string_false_is_closed() {
    let ni = parse_nodeinfo(&corpus("nodeinfo/aoderelay-new_hynet_nodeinfo.json")).expect("parses");
    assert_eq!(ni.open_registrations, Some(false));
}

#[test]
fn micro_blog_well_known_with_links_as_an_object_chooses_its_one_link() {
    let wk = parse_well_known(&corpus(
        "wellknown/tootsdk-fork-nodeinfo_microdotblog_jrd_missing_array.json",
    ))
    .expect("parses");
    assert_eq!(
        wk.choose(BASE),
        Some((
            NodeInfoVersion::V2_0,
            "https://micro.blog/mastodon/nodeinfo/2.0".to_owned()
        ))
    );
}

#[test]
fn every_corpus_file_has_a_row() {
    let root = format!("{}/../../fixtures/corpus", env!("CARGO_MANIFEST_DIR"));
    let mut files = BTreeSet::new();
    for folder in std::fs::read_dir(&root).expect("fixtures/corpus exists") {
        let folder = folder.expect("a directory entry");
        if !folder.file_type().expect("a file type").is_dir() {
            continue;
        }
        for file in std::fs::read_dir(folder.path()).expect("a folder") {
            let file = file.expect("a directory entry");
            files.insert(format!(
                "{}/{}",
                folder.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            ));
        }
    }
    let rows: BTreeSet<String> = ROWS.iter().map(|r| r.file.to_owned()).collect();
    assert_eq!(rows.len(), ROWS.len(), "a file has two rows");
    let untested: Vec<&String> = files.difference(&rows).collect();
    let missing: Vec<&String> = rows.difference(&files).collect();
    assert!(
        untested.is_empty(),
        "corpus files without a row: {untested:?}"
    );
    assert!(missing.is_empty(), "rows without a file: {missing:?}");
    assert_eq!(files.len(), 116);
}
