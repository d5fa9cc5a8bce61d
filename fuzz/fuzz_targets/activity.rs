//! Mastodon's `/api/v1/instance/activity` (twelve weeks of statuses, logins, registrations).
#![no_main]
use fedicensus_core::parse::parse_activity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = parse_activity(data) {
        let _ = doc.measurements();
    }
});
