//! Mastodon's `/api/v2/instance`.
#![no_main]
use fedicensus_core::parse::parse_instance_v2;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = parse_instance_v2(data) {
        let _ = doc.measurements();
    }
});
