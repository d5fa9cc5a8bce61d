//! Mastodon's `/api/v1/instance`.
#![no_main]
use fedicensus_core::parse::instance_v1::sniff_software;
use fedicensus_core::parse::parse_instance_v1;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = parse_instance_v1(data) {
        let _ = doc.measurements();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sniff_software(text);
    }
});
