//! Every parser survives truncated, garbled and retyped variants of every fixture: a stranger's
//! server must never crash the crawler.

use fedicensus_core::parse::*;
use serde_json::{json, Value};

type Parser = fn(&[u8]);

const PARSERS: &[(&str, Parser)] = &[
    ("well_known", |b| drop(parse_well_known(b))),
    ("nodeinfo", |b| drop(parse_nodeinfo(b))),
    ("nodeinfo2", |b| drop(parse_nodeinfo2(b))),
    ("instance_v1", |b| drop(parse_instance_v1(b))),
    ("instance_v2", |b| drop(parse_instance_v2(b))),
    ("peers", |b| {
        if let Ok(p) = parse_peers(b) {
            drop(normalise_peers(&p.entries));
        }
    }),
    ("activity", |b| drop(parse_activity(b))),
    ("lemmy_site", |b| drop(parse_lemmy_site(b))),
    ("misskey_meta", |b| drop(parse_misskey_meta(b))),
    ("misskey_stats", |b| drop(parse_misskey_stats(b))),
    ("peertube_stats", |b| drop(parse_peertube_stats(b))),
    ("statistics_json", |b| drop(parse_statistics_json(b))),
    ("error_body", |b| drop(parse_error_body(b))),
    ("well_known_choose", |b| {
        if let Ok(wk) = parse_well_known(b) {
            drop(wk.choose("https://example.com/.well-known/nodeinfo"));
        }
    }),
];

fn all_fixtures() -> Vec<(String, Vec<u8>)> {
    let root = format!("{}/../../fixtures/real", env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable fixture dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("readable fixture");
                out.push((path.display().to_string(), bytes));
            }
        }
    }
    out.sort();
    out
}

fn run_all(name: &str, bytes: &[u8]) {
    for (parser, f) in PARSERS {
        let result = std::panic::catch_unwind(|| f(bytes));
        assert!(result.is_ok(), "{parser} panicked on {name}");
    }
}

/// Byte-level variants: truncations, flipped bytes, the body doubled.
fn byte_variants(bytes: &[u8]) -> Vec<Vec<u8>> {
    let len = bytes.len();
    let mut cuts = vec![0, 1, 2, len / 3, len / 2, len.saturating_sub(1)];
    if len < 20_000 {
        cuts.extend((0..len).step_by((len / 40).max(1)));
    }
    let mut out: Vec<Vec<u8>> = cuts
        .into_iter()
        .map(|c| bytes[..c.min(len)].to_vec())
        .collect();
    if len < 20_000 {
        for i in (0..len).step_by((len / 20).max(1)) {
            for junk in [b'"', b'{', b']', 0xFF, b'-', b'9'] {
                let mut v = bytes.to_vec();
                v[i] = junk;
                out.push(v);
            }
        }
        out.push([bytes, bytes].concat());
    }
    out
}

/// Structural variants: every value at depth one and two replaced by each junk value.
fn json_variants(bytes: &[u8]) -> Vec<Vec<u8>> {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return Vec::new();
    };
    let junk = [
        json!(null),
        json!(-1),
        json!(1.5),
        json!("12"),
        json!("x"),
        json!([]),
        json!({}),
        json!([1, "a", null]),
        json!({"0": {"rel": 1, "href": []}}),
        json!(18_446_744_073_709_551_615_u64),
        json!(1e300),
    ];
    let mut out = Vec::new();
    let mut push = |v: &Value| out.push(serde_json::to_vec(v).expect("serialisable"));
    for j in &junk {
        push(j);
    }
    let paths = paths(&value);
    for path in paths {
        for j in &junk {
            let mut v = value.clone();
            if let Some(slot) = path.iter().try_fold(&mut v, |v, k| match v {
                Value::Object(m) => m.get_mut(k),
                Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
                _ => None,
            }) {
                *slot = j.clone();
            }
            push(&v);
        }
    }
    out
}

fn paths(value: &Value) -> Vec<Vec<String>> {
    let children = |v: &Value| -> Vec<(String, Value)> {
        match v {
            Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Value::Array(a) => a
                .iter()
                .take(3)
                .enumerate()
                .map(|(i, v)| (i.to_string(), v.clone()))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut out = Vec::new();
    for (k, child) in children(value) {
        out.push(vec![k.clone()]);
        for (k2, _) in children(&child) {
            out.push(vec![k.clone(), k2]);
        }
    }
    out
}

#[test]
fn no_parser_panics_on_any_variant_of_any_fixture() {
    let fixtures = all_fixtures();
    assert!(fixtures.len() >= 54);
    let mut fed = 0;
    for (name, bytes) in &fixtures {
        run_all(name, bytes);
        for v in byte_variants(bytes) {
            run_all(name, &v);
            fed += 1;
        }
        if bytes.len() < 100_000 {
            for v in json_variants(bytes) {
                run_all(name, &v);
                fed += 1;
            }
        }
    }
    assert!(fed > 1000, "{fed} variants");
}

#[test]
fn no_parser_panics_on_hostile_inputs() {
    let deep = "[".repeat(100_000);
    let inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\xEF\xBB\xBF{}".to_vec(),
        b"null".to_vec(),
        b"<html><body>Just a moment...</body></html>".to_vec(),
        deep.into_bytes(),
        vec![0xFF; 64],
        br#"{"links": {"0": {"0": {"0": {"0": {"0": {"rel": "x", "href": "y"}}}}}}}"#.to_vec(),
        br#"{"software": {"name": "x"}, "usage": {"users": []}, "metadata": []}"#.to_vec(),
        br#"[{"week": "-5", "statuses": 1, "logins": 1, "registrations": 1}]"#.to_vec(),
        br#"[{"week": "99999999999999999999", "statuses": 1, "logins": 1, "registrations": 1}]"#
            .to_vec(),
        br#"["\u0000", "..", ".", ":", "[", "@", "a@b@c", "xn--", "\u00e9.\u00e9"]"#.to_vec(),
    ];
    for input in &inputs {
        run_all("hostile input", input);
    }
}
