//! NodeInfo 1.0–2.2 and NodeInfo2 documents, their numbers and their software version.
#![no_main]
use fedicensus_core::parse::{normalise_version, parse_nodeinfo, parse_nodeinfo2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for parsed in [parse_nodeinfo(data), parse_nodeinfo2(data)] {
        if let Ok(doc) = parsed {
            let _ = doc.measurements();
            let report = doc.software_report();
            let _ = normalise_version(&report.raw_version);
        }
    }
});
