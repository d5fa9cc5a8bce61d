//! The `/.well-known/nodeinfo` link document, and the choice of the NodeInfo URL from it.
#![no_main]
use fedicensus_core::parse::{choose_nodeinfo, parse_nodeinfo, parse_well_known};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = parse_well_known(data) {
        let _ = doc.choose("https://example.com/.well-known/nodeinfo");
        let _ = choose_nodeinfo(&doc.links, "http://xn--wxa.example/.well-known/nodeinfo");
        for link in &doc.links {
            let _ = link.version();
        }
        if doc.is_nodeinfo_document {
            let _ = parse_nodeinfo(data);
        }
    }
});
