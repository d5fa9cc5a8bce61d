//! robots.txt as the crawler reads it (`RobotsPolicy::from_body`), then asked about the paths
//! a visit fetches.
#![no_main]
use fedicensus_crawler::robots::RobotsPolicy;
use libfuzzer_sys::fuzz_target;

const PATHS: &[&str] = &[
    "/robots.txt",
    "/.well-known/nodeinfo",
    "/nodeinfo/2.1",
    "/api/v1/instance",
    "/api/v2/instance",
    "/api/v1/instance/peers",
    "/api/v1/instance/activity",
    "/api/v3/site",
    "/api/meta",
    "/api/v1/config?x=%2F",
];

fuzz_target!(|data: &[u8]| {
    let policy = RobotsPolicy::from_body(data);
    for path in PATHS {
        let _ = policy.allows(path);
    }
    let _ = policy.crawl_delay();
});
