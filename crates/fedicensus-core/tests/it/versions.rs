//! The version normaliser on every version Fediverse Observer has seen.

use fedicensus_core::parse::normalise_version;
use std::collections::BTreeMap;

fn observer() -> BTreeMap<String, Vec<String>> {
    let text = String::from_utf8(super::fixture(
        "observer/server-versions-seen-by-fediverse-observer.json5",
    ))
    .expect("UTF-8");
    // JSON5 only in its comment lines; the rest is JSON.
    let json: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&json).expect("the observer dataset is JSON after its comments")
}

#[test]
fn every_observed_version_normalises_without_panic_to_digits_and_dots() {
    let data = observer();
    let mut total = 0;
    let mut some = 0;
    for (name, versions) in &data {
        for raw in versions {
            total += 1;
            if let Some(v) = normalise_version(raw) {
                some += 1;
                assert!(
                    v.split('.')
                        .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit())),
                    "{name} {raw:?} -> {v:?}"
                );
                assert!(v.split('.').count() <= 3, "{name} {raw:?} -> {v:?}");
            }
        }
    }
    assert_eq!(total, 2269);
    // Nearly every real version carries a number; the rest are `unknown`, hashes and the like.
    assert!(some * 100 / total >= 95, "{some} of {total}");
}

#[test]
fn observed_oddities_normalise_sensibly() {
    let data = observer();
    let all: Vec<&String> = data.values().flatten().collect();
    let check = |raw: &str, want: Option<&str>| {
        if all.iter().any(|v| v.as_str() == raw) {
            assert_eq!(normalise_version(raw).as_deref(), want, "{raw:?}");
        }
    };
    check("3.15.2-2033-gf2c562cc-akkoma", Some("3.15.2"));
    check("v0.13.0 git-31e37d2", Some("0.13.0"));
    check("unknown", None);
    check("n/a", None);
    check("", None);
    check("2025.6.26-samhou+gf77371c5d6", Some("2025.6.26"));
    check("4.0.13+hometown-1.1.1", Some("4.0.13"));
    check("20240504", Some("20240504"));
    assert!(all.iter().any(|v| v.as_str() == "v0.13.0 git-31e37d2"));
}
