//! The other software's own documents: Lemmy's site API, Misskey's meta and stats, PeerTube's
//! stats, statistics.json, and servers' JSON error objects.
#![no_main]
use fedicensus_core::parse::{
    parse_error_body, parse_lemmy_site, parse_misskey_meta, parse_misskey_stats,
    parse_peertube_stats, parse_statistics_json,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = parse_lemmy_site(data) {
        let _ = doc.measurements();
    }
    if let Ok(doc) = parse_misskey_meta(data) {
        let _ = doc.measurements();
        let _ = doc.open_registrations();
    }
    if let Ok(doc) = parse_misskey_stats(data) {
        let _ = doc.measurements();
    }
    if let Ok(doc) = parse_peertube_stats(data) {
        let _ = doc.measurements();
    }
    if let Ok(doc) = parse_statistics_json(data) {
        let _ = doc.measurements();
    }
    let _ = parse_error_body(data);
});
