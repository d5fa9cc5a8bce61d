//! Conditional and cached requests: the documents a crawl read, kept (within bounds) with their
//! validators and freshness, so the next visit asks "has it changed?" instead of reading it again.
//!
//! A document answered with an `ETag` or a `Last-Modified` is kept; the next request for it
//! carries `If-None-Match` / `If-Modified-Since`, and a `304 Not Modified` is read as the same
//! document read again: the visit parses the kept body (or, for a peer list, takes the kept
//! parsed list) and records its figures at the visit's own instant, exactly as a full answer
//! would have. `Cache-Control: no-store` keeps nothing (and drops what was kept), `no-cache` keeps
//! the document but never reuses it without asking, and `max-age` (else `Expires` minus `Date`,
//! so the server's clock does not matter) says how long it is fresh, capped at
//! [`MAX_FRESHNESS`]. `Age` is taken off; `s-maxage` is for shared caches and ignored.
//!
//! **What may be reused without asking.** A census must record deaths and changes, and a server
//! that does not answer is not alive. Every document a visit reads is either one that decides
//! its outcome (robots.txt, which is also the visit's first request and shows the server answers
//! now; `/.well-known/nodeinfo`, where a move, an opt-out or the end of NodeInfo shows; NodeInfo,
//! with the figures, software and version) or one whose figures, peers and flags are recorded at
//! the visit's instant (the instance documents, weekly activity, the peer list). A `max-age` is
//! no promise that the server's next answer is the same: Mastodon's own cached copy
//! (`render_with_cache`) started before our read and expires before our copy would, and other
//! software (the simulator's worlds too) changes its figures at any moment. Reusing any of them
//! unasked could record a figure the server no longer gives, or miss a move. So every one of
//! them is asked on every visit, conditionally when kept, and only the server's own 304 lets the
//! kept copy stand for it: the census is then exactly what full reads give.
//!
//! The one reuse without a request is another host's robots.txt, reached through a cross-host
//! redirect (a CDN, the apex domain): the visited host has answered its redirect at this
//! instant, the file is not the server's own document, and RFC 9309 §2.4 lets a crawler keep
//! a robots.txt as HTTP caching allows (up to a day). A request that fails never falls back on
//! the cache: a timeout is a timeout.
//!
//! **Bounds.** The cache holds at most [`CacheLimits::entries`] documents and
//! [`CacheLimits::bytes`] bytes (bodies and parsed peer names, counted with their overhead), in
//! shards so visits do not queue on one lock. A document larger than a shard's share of the
//! bytes over [`LARGEST_SHARE`] is not kept (the largest peer lists are read in full each time).
//! When a shard is full, entries are evicted at random, not least-recently-used: a crawl visits
//! its hosts in a cycle, and when the cycle is longer than the cache an LRU cache evicts every
//! entry just before it is needed again (no hit at all), while random eviction keeps about the
//! share of the documents that fits. Several worker processes each keep their own cache: a
//! document kept by another worker is a miss here, which only means a full read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use fedicensus_core::{Host, Measurement};
use indexmap::IndexMap;
use reqwest::header::{HeaderMap, HeaderValue};

/// Documents kept at most, by default.
pub const DEFAULT_CACHE_ENTRIES: usize = 200_000;
/// Bytes kept at most, by default.
pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// The longest a document is taken as fresh, whatever it says (an adversary's `max-age` of ten
/// years).
pub const MAX_FRESHNESS: Duration = Duration::from_secs(24 * 3600);
/// A document larger than a shard's bytes over this is not kept.
pub const LARGEST_SHARE: u64 = 4;
/// How many shards the cache is cut into.
const SHARDS: usize = 8;
/// What an entry costs besides its content: key, validators, map slot, allocation.
const ENTRY_OVERHEAD: usize = 160;
/// What one kept peer name costs besides its bytes (the boxed string and the vector's slot).
const HOST_OVERHEAD: usize = 24;

/// How large the cache may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    pub entries: usize,
    pub bytes: u64,
}

impl Default for CacheLimits {
    fn default() -> CacheLimits {
        CacheLimits {
            entries: DEFAULT_CACHE_ENTRIES,
            bytes: DEFAULT_CACHE_BYTES,
        }
    }
}

/// A peer list as the visit made it: the normalised names and the list's measurements.
#[derive(Debug)]
pub struct PeerDigest {
    pub hosts: Vec<Host>,
    pub measurements: Vec<Measurement>,
    /// Lemmy's blocked instances from the same document, when block lists are read.
    pub blocks: Option<fedicensus_core::BlockList>,
}

/// What is kept of a document.
#[derive(Debug)]
pub enum Content {
    /// The body, parsed again when reused (small documents: parsing is cheap).
    Body(Bytes),
    /// A peer list, kept parsed: an unchanged list is not parsed again.
    Peers(Arc<PeerDigest>),
}

/// One kept document.
#[derive(Debug)]
pub struct CacheEntry {
    pub(crate) etag: Option<HeaderValue>,
    pub(crate) last_modified: Option<HeaderValue>,
    /// The headers the visit reads from a document besides its body (`Content-Type`,
    /// `X-Robots-Tag`), kept so a reused document reads as the original did.
    pub(crate) headers: HeaderMap,
    /// Until when it may be reused without asking (the crawler's clock); `None`: never.
    pub(crate) fresh_until: Option<DateTime<Utc>>,
    pub(crate) content: Content,
    /// The body's length as it was read (what a 304 or a reuse saved).
    pub(crate) body_len: usize,
}

impl CacheEntry {
    /// Bytes it holds, overhead included.
    fn size(&self) -> usize {
        let content = match &self.content {
            Content::Body(body) => body.len(),
            Content::Peers(digest) => {
                digest
                    .hosts
                    .iter()
                    .map(|h| h.as_str().len() + HOST_OVERHEAD)
                    .sum::<usize>()
                    + digest.measurements.len() * std::mem::size_of::<Measurement>()
            }
        };
        let header = |v: &Option<HeaderValue>| v.as_ref().map_or(0, HeaderValue::len);
        let kept: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 16)
            .sum();
        content + header(&self.etag) + header(&self.last_modified) + kept + ENTRY_OVERHEAD
    }

    /// Whether it may be reused at `now` without asking.
    pub(crate) fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        self.fresh_until.is_some_and(|until| now < until)
    }

    /// The body to parse again, when the body was kept.
    pub(crate) fn body(&self) -> Option<&Bytes> {
        match &self.content {
            Content::Body(body) => Some(body),
            Content::Peers(_) => None,
        }
    }

    /// The parsed peer list, when one was kept.
    pub fn peers(&self) -> Option<&Arc<PeerDigest>> {
        match &self.content {
            Content::Peers(digest) => Some(digest),
            Content::Body(_) => None,
        }
    }

    /// The headers a conditional request for it carries.
    pub(crate) fn conditional_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(etag) = &self.etag {
            headers.insert(reqwest::header::IF_NONE_MATCH, etag.clone());
        }
        if let Some(at) = &self.last_modified {
            headers.insert(reqwest::header::IF_MODIFIED_SINCE, at.clone());
        }
        headers
    }

    /// The headers a document read from the cache has: the server's (a 304's), and each kept
    /// header the server did not send again.
    pub(crate) fn merged_headers(&self, mut from_server: HeaderMap) -> HeaderMap {
        for name in self.headers.keys() {
            if !from_server.contains_key(name) {
                for value in self.headers.get_all(name) {
                    from_server.append(name.clone(), value.clone());
                }
            }
        }
        from_server
    }

    /// Whether a request for it can be conditional.
    pub(crate) fn has_validator(&self) -> bool {
        self.etag.is_some() || self.last_modified.is_some()
    }

    /// The same content with the validators and freshness a 304 gave (RFC 9111 §4.3.4: the
    /// stored headers are updated from the 304's).
    pub(crate) fn refreshed(&self, policy: &Policy) -> CacheEntry {
        let content = match &self.content {
            Content::Body(body) => Content::Body(body.clone()),
            Content::Peers(digest) => Content::Peers(digest.clone()),
        };
        CacheEntry {
            etag: policy.etag.clone().or_else(|| self.etag.clone()),
            last_modified: policy
                .last_modified
                .clone()
                .or_else(|| self.last_modified.clone()),
            headers: self.headers.clone(),
            fresh_until: policy.fresh_until,
            content,
            body_len: self.body_len,
        }
    }
}

/// What an answer's headers say about keeping it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `no-store`: keep nothing.
    pub no_store: bool,
    pub etag: Option<HeaderValue>,
    pub last_modified: Option<HeaderValue>,
    /// Until when it is fresh; `None` when it must be asked for every time.
    pub fresh_until: Option<DateTime<Utc>>,
}

impl Policy {
    /// Reads `Cache-Control`, `Expires`, `Date`, `Age`, `ETag` and `Last-Modified` at `now`
    /// (the crawler's clock). Unreadable values count as absent; nothing here can fail.
    pub fn from_headers(headers: &HeaderMap, now: DateTime<Utc>) -> Policy {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let mut no_store = false;
        let mut no_cache = false;
        let mut max_age: Option<i64> = None;
        for value in headers.get_all(reqwest::header::CACHE_CONTROL) {
            let Ok(value) = value.to_str() else { continue };
            for directive in value.split(',') {
                let directive = directive.trim();
                let (name, arg) = match directive.split_once('=') {
                    Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
                    None => (directive, None),
                };
                match name.to_ascii_lowercase().as_str() {
                    "no-store" => no_store = true,
                    "no-cache" => no_cache = true,
                    "max-age" => {
                        // RFC 9111 §1.2.2: a delta too large to read is read as the largest.
                        let seconds = arg.and_then(|a| {
                            a.chars().all(|c| c.is_ascii_digit()).then(|| {
                                a.parse::<i64>()
                                    .unwrap_or(i64::MAX)
                                    .min(i64::from(u32::MAX))
                            })
                        });
                        // The first max-age counts; an unreadable one makes it stale.
                        max_age = max_age.or(Some(seconds.unwrap_or(0)));
                    }
                    _ => {}
                }
            }
        }
        let lifetime = match max_age {
            Some(seconds) => Some(TimeDelta::seconds(seconds)),
            None => text("expires").map(|expires| {
                let expires = DateTime::parse_from_rfc2822(expires).map(|d| d.to_utc());
                let date = text("date")
                    .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
                    .map(|d| d.to_utc());
                match (expires, date) {
                    (Ok(expires), Some(date)) => expires - date,
                    // No `Date`: the crawler's clock stands in; an unreadable `Expires` (often
                    // `0`) means already expired.
                    (Ok(expires), None) => expires - now,
                    (Err(_), _) => TimeDelta::zero(),
                }
            }),
        };
        let age = text("age")
            .and_then(|a| a.parse::<u32>().ok())
            .map_or(TimeDelta::zero(), |a| TimeDelta::seconds(i64::from(a)));
        let most = TimeDelta::from_std(MAX_FRESHNESS).unwrap_or(TimeDelta::MAX);
        let fresh_until = lifetime
            .filter(|_| !no_cache)
            .map(|l| (l - age).min(most))
            .filter(|l| *l > TimeDelta::zero())
            .map(|l| now + l);
        let validator = |name| {
            headers
                .get(name)
                .filter(|v| !v.is_empty() && v.len() <= 256)
                .cloned()
        };
        Policy {
            no_store,
            etag: validator(reqwest::header::ETAG),
            last_modified: validator(reqwest::header::LAST_MODIFIED),
            fresh_until,
        }
    }

    /// Whether keeping the document is of any use: it can be asked for conditionally, or
    /// (`reusable`) reused while fresh.
    pub fn worth_keeping(&self, reusable: bool) -> bool {
        !self.no_store
            && (self.etag.is_some()
                || self.last_modified.is_some()
                || (reusable && self.fresh_until.is_some()))
    }

    /// An entry holding `content`, keeping of `headers` those a visit reads.
    pub(crate) fn entry(
        &self,
        content: Content,
        headers: &HeaderMap,
        body_len: usize,
    ) -> CacheEntry {
        let mut kept = HeaderMap::new();
        for name in [reqwest::header::CONTENT_TYPE.as_str(), "x-robots-tag"] {
            for value in headers.get_all(name) {
                if let Ok(name) = reqwest::header::HeaderName::from_bytes(name.as_bytes()) {
                    kept.append(name, value.clone());
                }
            }
        }
        CacheEntry {
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone(),
            headers: kept,
            fresh_until: self.fresh_until,
            content,
            body_len,
        }
    }
}

/// What the cache did, in numbers (since the crawler started).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheReport {
    /// Documents kept now.
    pub entries: usize,
    /// Bytes kept now, overhead included.
    pub bytes: u64,
    /// Conditional requests sent.
    pub conditional: u64,
    /// `304 Not Modified` answers taken as the kept document.
    pub not_modified: u64,
    /// Documents reused while fresh, without a request.
    pub reused: u64,
    /// Body bytes not transferred thanks to a 304 or a reuse.
    pub bytes_saved: u64,
    /// Entries evicted to stay within the bounds.
    pub evicted: u64,
    /// Documents not kept because they were too large.
    pub too_large: u64,
}

#[derive(Debug, Default)]
struct Shard {
    map: IndexMap<Box<str>, Arc<CacheEntry>>,
    bytes: usize,
    /// State of the generator that picks the entry to evict (xorshift).
    rng: u64,
}

impl Shard {
    fn remove(&mut self, key: &str) -> Option<Arc<CacheEntry>> {
        let old = self.map.swap_remove(key)?;
        self.bytes -= old.size();
        Some(old)
    }

    fn evict_one(&mut self) {
        let len = self.map.len();
        if len == 0 {
            return;
        }
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let index = (self.rng % len as u64) as usize;
        if let Some((_, old)) = self.map.swap_remove_index(index) {
            self.bytes -= old.size();
        }
    }
}

/// The crawl's bounded store of documents (see the module's doc).
#[derive(Debug)]
pub struct DocumentCache {
    shards: Vec<Mutex<Shard>>,
    /// Each shard's share of the limits.
    entries_per_shard: usize,
    bytes_per_shard: usize,
    conditional: AtomicU64,
    not_modified: AtomicU64,
    reused: AtomicU64,
    bytes_saved: AtomicU64,
    evicted: AtomicU64,
    too_large: AtomicU64,
}

impl DocumentCache {
    /// An empty cache within `limits` (each at least one entry per shard).
    pub fn new(limits: CacheLimits) -> DocumentCache {
        let shards = (0..SHARDS)
            .map(|i| {
                Mutex::new(Shard {
                    rng: 0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1),
                    ..Shard::default()
                })
            })
            .collect();
        DocumentCache {
            shards,
            entries_per_shard: (limits.entries / SHARDS).max(1),
            bytes_per_shard: usize::try_from(limits.bytes / SHARDS as u64)
                .unwrap_or(usize::MAX)
                .max(1),
            conditional: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
            reused: AtomicU64::new(0),
            bytes_saved: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            too_large: AtomicU64::new(0),
        }
    }

    /// A cache for a crawl that `config` sets up: `None` when its conditional requests are off.
    /// Kept across passes (see [`crate::Crawler::with_cache`]), it lets each pass ask only
    /// whether what the last one read has changed.
    pub fn for_config(config: &crate::CrawlerConfig) -> Option<Arc<DocumentCache>> {
        config
            .conditional_requests
            .then(|| Arc::new(DocumentCache::new(config.cache)))
    }

    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, Shard> {
        // FNV-1a: cheap and spreads URLs well enough over a handful of shards.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let index = (h % SHARDS as u64) as usize;
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The entry kept for `key` (a URL), if any.
    pub fn get(&self, key: &str) -> Option<Arc<CacheEntry>> {
        self.shard(key).map.get(key).cloned()
    }

    /// Keeps `entry` for `key`, replacing what was kept, and evicts at random until the shard is
    /// within its share of the limits. An entry too large to keep drops the old one too.
    pub(crate) fn insert(&self, key: &str, entry: CacheEntry) {
        let size = entry.size();
        let mut shard = self.shard(key);
        shard.remove(key);
        if size as u64 > self.bytes_per_shard as u64 / LARGEST_SHARE {
            self.too_large.fetch_add(1, Ordering::Relaxed);
            return;
        }
        while !shard.map.is_empty()
            && (shard.map.len() >= self.entries_per_shard
                || shard.bytes + size > self.bytes_per_shard)
        {
            shard.evict_one();
            self.evicted.fetch_add(1, Ordering::Relaxed);
        }
        shard.bytes += size;
        shard.map.insert(key.into(), Arc::new(entry));
    }

    /// Forgets what was kept for `key`.
    pub fn remove(&self, key: &str) {
        self.shard(key).remove(key);
    }

    pub(crate) fn note_conditional(&self) {
        self.conditional.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn note_not_modified(&self, entry: &CacheEntry) {
        self.not_modified.fetch_add(1, Ordering::Relaxed);
        self.bytes_saved
            .fetch_add(entry.body_len as u64, Ordering::Relaxed);
    }

    pub(crate) fn note_reused(&self, entry: &CacheEntry) {
        self.reused.fetch_add(1, Ordering::Relaxed);
        self.bytes_saved
            .fetch_add(entry.body_len as u64, Ordering::Relaxed);
    }

    /// What it holds and what it did.
    pub fn report(&self) -> CacheReport {
        let (entries, bytes) = self.shards.iter().fold((0, 0u64), |(n, b), shard| {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            (n + shard.map.len(), b + shard.bytes as u64)
        });
        CacheReport {
            entries,
            bytes,
            conditional: self.conditional.load(Ordering::Relaxed),
            not_modified: self.not_modified.load(Ordering::Relaxed),
            reused: self.reused.load(Ordering::Relaxed),
            bytes_saved: self.bytes_saved.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
            too_large: self.too_large.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 11, 15, 12, 0, 0)
            .single()
            .expect("a valid date")
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    fn body_entry(len: usize) -> CacheEntry {
        Policy::from_headers(&headers(&[("etag", "W/\"x\"")]), now()).entry(
            Content::Body(Bytes::from(vec![b' '; len])),
            &HeaderMap::new(),
            len,
        )
    }

    #[test]
    fn max_age_makes_a_document_fresh_for_that_long_less_its_age() {
        let p = Policy::from_headers(
            &headers(&[("cache-control", "max-age=86400, public"), ("age", "400")]),
            now(),
        );
        assert_eq!(p.fresh_until, Some(now() + TimeDelta::seconds(86_000)));
        assert!(!p.no_store);
    }

    #[test]
    fn no_store_and_no_cache_are_obeyed() {
        let p = Policy::from_headers(&headers(&[("cache-control", "no-store")]), now());
        assert!(p.no_store);
        assert!(!p.worth_keeping(true));
        let p = Policy::from_headers(
            &headers(&[
                ("cache-control", "no-cache, max-age=600"),
                ("etag", "\"a\""),
            ]),
            now(),
        );
        assert_eq!(p.fresh_until, None);
        assert!(p.worth_keeping(false));
    }

    #[test]
    fn expires_counts_from_the_servers_date_not_our_clock() {
        let p = Policy::from_headers(
            &headers(&[
                ("date", "Mon, 07 Dec 2026 00:25:00 GMT"),
                ("expires", "Mon, 07 Dec 2026 00:35:00 GMT"),
            ]),
            now(),
        );
        assert_eq!(p.fresh_until, Some(now() + TimeDelta::minutes(10)));
        let p = Policy::from_headers(&headers(&[("expires", "0")]), now());
        assert_eq!(p.fresh_until, None);
    }

    #[test]
    fn an_absurd_max_age_is_capped() {
        let p = Policy::from_headers(
            &headers(&[("cache-control", "max-age=99999999999999999999999")]),
            now(),
        );
        assert_eq!(p.fresh_until, Some(now() + TimeDelta::hours(24)));
        let p = Policy::from_headers(&headers(&[("cache-control", "max-age=-5")]), now());
        assert_eq!(p.fresh_until, None);
    }

    #[test]
    fn the_cache_stays_within_its_entries_and_bytes() {
        let cache = DocumentCache::new(CacheLimits {
            entries: 80,
            bytes: 80 * 1024,
        });
        for i in 0..10_000 {
            cache.insert(&format!("https://h{i}.example/x"), body_entry(700));
            let report = cache.report();
            assert!(report.entries <= 80, "{report:?}");
            assert!(report.bytes <= 80 * 1024, "{report:?}");
        }
        let report = cache.report();
        assert!(report.evicted > 9_000, "{report:?}");
        // A document larger than a shard's share is not kept.
        cache.insert("https://big.example/peers", body_entry(20 * 1024));
        assert!(cache.get("https://big.example/peers").is_none());
        assert_eq!(cache.report().too_large, 1);
    }
}
