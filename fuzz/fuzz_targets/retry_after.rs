//! Rate-limit headers (`Retry-After`, `X-RateLimit-Reset`) as a 429 answer may send them.
#![no_main]
use chrono::{TimeZone, Utc};
use fedicensus_crawler::visit::retry_at;
use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderValue};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (first, rest) = data.split_at(split);
    let rest = rest.get(1..).unwrap_or_default();
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(first) {
        headers.insert("retry-after", value);
    }
    if let Ok(value) = HeaderValue::from_bytes(rest) {
        headers.insert("x-ratelimit-reset", value);
    }
    let now = Utc.with_ymd_and_hms(2022, 11, 1, 12, 0, 0).single().expect("a valid date");
    let _ = retry_at(&headers, now);
});
