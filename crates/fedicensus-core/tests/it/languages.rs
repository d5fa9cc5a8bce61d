//! Declared languages in every real document of `fixtures/` (real, corpus and live): each
//! document that declares languages, by the parser of its kind, has a row saying what a careful
//! reader finds in it after normalisation; every other document of those kinds must declare none,
//! so a parser that starts to invent languages, or a new fixture that declares some, fails here.

use fedicensus_core::language::MAX_LANGUAGES;
use fedicensus_core::parse::*;
use fedicensus_core::Source;
use std::path::{Path, PathBuf};

/// Documents that declare languages, and what they declare (lowercase primary tags, in order).
const DECLARING: &[(&str, &[&str])] = &[
    // Mastodon and its imitators: `languages`, usually the default locale alone.
    ("real/mastodon/api-v1-instance-docs-example.json", &["en"]),
    ("real/mastodon/api-v1-instance-pawoo.net-3.3.3.json", &["en"]),
    ("real/mastodon/api-v2-instance-docs-example.json", &["en"]),
    // A Japanese server declaring Japanese; mstdn.jp's admin left the default (English).
    ("real/mastodon/api-v1-instance-fedibird.com-3.4.1-fork.json", &["ja"]),
    ("real/mastodon/api-v1-instance-mstdn.jp-3.5.1.json", &["en"]),
    ("real/mastodon/api-v1-instance-2.4.0-null-contact.json", &["en"]),
    ("real/mastodon/api-v1-instance-2.4.1rc1.json", &["en"]),
    ("real/mastodon/api-v1-instance-mastodon.social-fixture.json", &["en"]),
    ("real/mastodon/api-v1-instance-mastodon.social-4.0.2.json", &["en"]),
    ("real/pleroma/api-v1-instance-pleroma-2.0.7.json", &["en"]),
    ("real/friendica/api-v2-instance-loma.ml.json", &["de"]),
    // Misskey's meta `langs`: misskey.io declares six, Japanese first.
    ("real/misskey/api-meta-misskey-v12.json", &["ja", "en", "zh", "ko", "fr", "de"]),
    ("real/misskey/api-meta-misskey.io-13.12.2.json", &["ja", "en", "zh", "ko", "fr", "de"]),
    ("live/takahe-0.11.0/api_v1_instance.body", &["en"]),
    ("live/takahe-0.11.0/api_v2_instance.body", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-2.8.0-2019-04-27.json", &["en"]),
    ("corpus/instance-v1/tootsdk-fork-instancev1_bookwyrm.json", &["en"]),
    ("corpus/instance-v1/bigbone-instance-2.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-3.1.1-2020-02-22.json", &["en"]),
    ("corpus/instance-v1/tootsdk-pleroma-2.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-4.5.0-nightly.2025-08-06-security-2025-08-16.json", &["en"]),
    // `en-us`: the region is dropped.
    ("corpus/instance-v1/tootsdk-fork-instancev1_friendica_venera.json", &["en"]),
    ("corpus/instance-v1/bigbone-instance_extended-2.json", &["en"]),
    ("corpus/instance-v1/tootsdk-fork-instancev1_bookwyrm-2.json", &["en"]),
    ("corpus/instance-v1/bigbone-instance_v1_extended.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-2.4.3-2018-07-14.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-4.6.0-nightly.2026-04-09-2026-04-12.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-4.1.2-2023-04-23.json", &["en"]),
    ("corpus/instance-v1/tootsdk-mastodon-2.json", &["en"]),
    ("corpus/instance-v1/tootsdk-pixelfed.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-3.0.1-2019-10-11.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-2.3.3-2018-04-18.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-4.3.0-2025-02-13.json", &["en"]),
    ("corpus/instance-v1/tootsdk-fork-instancev1_akkoma_miraiverse.json", &["th", "en"]),
    ("corpus/instance-v1/tootsdk-fork-instancev1_pleroma.json", &["en"]),
    ("corpus/instance-v1/tootsdk-instance_akkoma.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-4.0.2-2022-12-01.json", &["en"]),
    ("corpus/instance-v1/bigbone-mastodon_client_v1_instance_response.json", &["en"]),
    ("corpus/instance-v1/tootsdk-fork-instancev1_pixelfed_tokyo.json", &["ja"]),
    ("corpus/instance-v1/tootsdk-fork-instancev1_pleroma_wienermobile.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-4.0.0rc2-2022-11-19.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-4.0.0rc1-2022-11-07.json", &["en"]),
    ("corpus/instance-v1/aoderelay-hynet_instance.json", &["en"]),
    ("corpus/instance-v1/mastodon.py-instance-v1-4.5.0-2025-11-06.json", &["en"]),
    ("corpus/instance-v2/mastodon.py-instance-v2-4.3.0-2025-02-13.json", &["en"]),
    ("corpus/instance-v2/mastodon.py-instance-v2-4.5.0-2026-04-12.json", &["en"]),
    ("corpus/instance-v2/mastodon.py-instance-v2-4.4.3-2025-08-17.json", &["en"]),
    ("corpus/instance-v2/mastodon.py-instance-v2-4.6.0-nightly.2025-11-06-2025-11-06.json", &["en"]),
    ("corpus/instance-v2/tootsdk-fork-instancev2_mastodon.json", &["en"]),
    ("corpus/instance-v2/mastodon.py-instance-v2-4.6.4-2026-08-01.json", &["en"]),
    ("corpus/instance-v2/mastodon.py-instance-v2-4.3.0-2025-02-14.json", &["en"]),
    ("corpus/instance-v2/tootsdk-instancev2_mastodon.json", &["en"]),
    ("corpus/instance-v2/tootsdk-instancev2_mastodon_4.5.json", &["en"]),
    ("corpus/instance-v2/tootsdk-fork-instancev2_universeodon.json", &["en"]),
    ("corpus/instance-v2/mastodon.py-instance-v2-4.4.0-nightly.2025-02-07-2025-02-14.json", &["en"]),
    ("corpus/instance-v2/bigbone-mastodon_client_v2_instance_response.json", &["en"]),
    ("corpus/instance-v2/mastodon.py-instance-v2-4.3.0-2025-08-16-2.json", &["en"]),
    ("corpus/instance-v2/tootsdk-instancev2_friendica.json", &["en"]),
    ("corpus/instance-v2/bigbone-instance_extended.json", &["en"]),
    ("corpus/instance-v2/mastodon.py-instance-v2-4.5.0-nightly.2025-08-06-security-2025-08-16.json", &["en"]),
    ("corpus/instance-v2/tootsdk-instancev2_missing_thumbnail_url.json", &["en"]),
    ("corpus/instance-v2/tootsdk-fork-instancev2_universeodon-2.json", &["en"]),
];

/// Documents that carry a languages key and declare nothing a reader can use: empty lists
/// (Misskey forks, GoToSocial 0.7) and a relay's joke tag `dog` (not a registered language).
const EMPTY_BUT_PRESENT: &[&str] = &[
    "corpus/instance-v1/aoderelay-asonix_instance.json",
    "corpus/instance-v1/tootsdk-instance_sharkey_contact_removed.json",
    "corpus/instance-v1/tootsdk-instance_catodon_contact_removed.json",
    "corpus/instance-v1/tootsdk-instance_firefish_contact_removed.json",
    "corpus/misskey-meta/aoderelay-misskey_stella_meta.json",
    "corpus/misskey-meta/aoderelay-misskey_bare_meta.json",
    "corpus/nodeinfo/tootsdk-nodeinfo_iceshrimpnet.json",
    "corpus/nodeinfo/tootsdk-nodeinfo_iceshrimp.json",
    "corpus/nodeinfo/tootsdk-nodeinfo_catodon.json",
    "corpus/nodeinfo/tootsdk-nodeinfo_sharkey.json",
    "real/misskey/api-meta-misskey-v10.json",
    "real/misskey-forks/nodeinfo-2.1-meisskey-10.102.json",
    "real/misskey-forks/nodeinfo-2.1-catodon-24.04-dev.json",
    "live/gotosocial-0.7.1/api_v2_instance.body",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// The document kinds that declare languages, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    V1,
    V2,
    MisskeyMeta,
    NodeInfo,
}

fn kind_of(relative: &str) -> Option<Kind> {
    let name = relative.to_ascii_lowercase();
    let document = name.ends_with(".json") || name.ends_with(".body");
    let other = [
        "peers",
        "activity",
        "well-known",
        "wellknown",
        "schema",
        "nodeinfo2",
    ];
    if !document || other.iter().any(|o| name.contains(o)) {
        return None;
    }
    if name.contains("instance") && (name.contains("v2") || name.contains("instance-v2")) {
        Some(Kind::V2)
    } else if name.contains("instance") {
        Some(Kind::V1)
    } else if name.contains("meta") && name.contains("misskey") {
        Some(Kind::MisskeyMeta)
    } else if name.contains("nodeinfo") {
        Some(Kind::NodeInfo)
    } else {
        None
    }
}

/// The languages a document declares, by its kind's parser, each checked to carry its source.
fn declared(kind: Kind, bytes: &[u8]) -> Vec<String> {
    let (declared, source) = match kind {
        Kind::V1 => (
            parse_instance_v1(bytes).map(|d| d.declared_languages()),
            Source::InstanceV1,
        ),
        Kind::V2 => (
            parse_instance_v2(bytes).map(|d| d.declared_languages()),
            Source::InstanceV2,
        ),
        Kind::MisskeyMeta => (
            parse_misskey_meta(bytes).map(|d| d.declared_languages()),
            Source::MisskeyMeta,
        ),
        Kind::NodeInfo => (
            parse_nodeinfo(bytes).map(|d| d.declared_languages()),
            Source::NodeInfo,
        ),
    };
    let declared = declared.unwrap_or_default();
    assert!(declared.iter().all(|l| l.source == source));
    declared.into_iter().map(|l| l.language).collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable fixtures folder") {
        let path = entry.expect("a readable entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_declares_the_languages_its_row_says_and_no_other() {
    let root = fixtures();
    let mut files = Vec::new();
    for folder in ["real", "corpus", "live"] {
        walk(&root.join(folder), &mut files);
    }
    let mut read = 0;
    let mut rows_seen = Vec::new();
    for path in files {
        let relative = path
            .strip_prefix(&root)
            .expect("under fixtures")
            .to_string_lossy()
            .replace('\\', "/");
        let Some(kind) = kind_of(&relative) else {
            continue;
        };
        let bytes = std::fs::read(&path).expect("a readable fixture");
        let got = declared(kind, &bytes);
        assert!(got.len() <= MAX_LANGUAGES, "{relative}: {got:?}");
        let want: Vec<String> = DECLARING
            .iter()
            .find(|(file, _)| *file == relative)
            .map(|(_, langs)| langs.iter().map(|l| l.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(got, want, "{relative} ({kind:?})");
        if DECLARING.iter().any(|(f, _)| *f == relative)
            || EMPTY_BUT_PRESENT.contains(&relative.as_str())
        {
            rows_seen.push(relative.clone());
        }
        read += 1;
    }
    assert!(
        read > 100,
        "only {read} documents read: is the fixtures folder there?"
    );
    for (file, _) in DECLARING {
        assert!(
            rows_seen.contains(&file.to_string()),
            "{file} was not read as its kind"
        );
    }
    for file in EMPTY_BUT_PRESENT {
        assert!(
            rows_seen.contains(&file.to_string()),
            "{file} was not read as its kind"
        );
    }
}

#[test]
fn lemmy_site_declares_its_discussion_languages_unless_it_allows_every_one() {
    let all = r#"[{"id":0,"code":"und","name":"Undetermined"},{"id":37,"code":"en","name":"English"},
        {"id":52,"code":"ja","name":"日本語"},{"id":39,"code":"de","name":"Deutsch"}]"#;
    let site = |chosen: &str| {
        let doc = format!(
            r#"{{"site_view":{{"site":{{"name":"x"}},"counts":{{"users":1}}}},"version":"0.19.3",
            "all_languages":{all},"discussion_languages":{chosen}}}"#
        );
        parse_lemmy_site(doc.as_bytes()).expect("a site document")
    };
    assert_eq!(site("[52, 37]").languages, ["ja", "en"]);
    assert_eq!(site("[0, 39]").languages, ["de"], "und declares nothing");
    assert!(
        site("[0, 37, 52, 39]").languages.is_empty(),
        "every language"
    );
    assert!(site("[]").languages.is_empty());
    assert!(site(r#""en""#).languages.is_empty());
    let declared = site("[39]").declared_languages();
    assert_eq!(declared[0].source, Source::LemmySite);
}

#[test]
fn nodeinfo_metadata_languages_are_read_and_hostile_lists_capped() {
    let doc = |languages: &str| {
        format!(
            r#"{{"version":"2.0","software":{{"name":"pleroma","version":"2.5.0"}},
            "usage":{{"users":{{"total":3}}}},"metadata":{{"languages":{languages}}}}}"#
        )
    };
    let ni = parse_nodeinfo(doc(r#"["pt-BR", "EN", 7, null, "<script>"]"#).as_bytes())
        .expect("a NodeInfo document");
    assert_eq!(ni.languages, ["pt", "en"]);
    let many: Vec<String> = (0..100_000)
        .map(|i| format!("\"{}\"", ["en", "de", "fr"][i % 3]))
        .collect();
    let many = format!("[{}]", many.join(","));
    let ni = parse_nodeinfo(doc(&many).as_bytes()).expect("a NodeInfo document");
    assert_eq!(ni.languages, ["en", "de", "fr"]);
    let codes = [
        "aa", "ab", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi",
        "bm", "bn", "bo", "br", "bs",
    ];
    let quoted: Vec<String> = codes.iter().map(|c| format!("\"{c}\"")).collect();
    let ni = parse_nodeinfo(doc(&format!("[{}]", quoted.join(","))).as_bytes())
        .expect("a NodeInfo document");
    assert_eq!(ni.languages.len(), MAX_LANGUAGES);
    assert_eq!(ni.languages[..], codes[..MAX_LANGUAGES]);
}

#[test]
fn an_observation_names_its_primary_language_from_the_most_trusted_document() {
    let host = fedicensus_core::Host::from_normalised("example.com");
    let mut obs = fedicensus_core::Observation::failed(
        host,
        chrono::Utc::now(),
        fedicensus_core::Outcome::Ok,
        0,
    );
    assert_eq!(obs.primary_language(), None);
    let misskey = parse_misskey_meta(br#"{"langs":["ko","ja"]}"#).expect("meta");
    obs.declare_languages(misskey.declared_languages());
    let v1 = parse_instance_v1(br#"{"languages":["ja"]}"#).expect("v1");
    obs.declare_languages(v1.declared_languages());
    assert_eq!(obs.primary_language(), Some("ja"));
    assert_eq!(obs.languages[0].source, Source::InstanceV1);
    assert_eq!(obs.languages.len(), 3);
}
