//! Per-host and per-address politeness, in one place (lychee's `HostPool`).
//!
//! A census must never be the reason a small server struggles. So every request to a host goes
//! through that host's [`HostSlot`]: one request in flight at a time, the next one started no
//! sooner than the host's interval after the previous one **ended** (the interval is the
//! configured minimum, or the host's `Crawl-delay` up to a cap), and not before a rate limit the
//! host announced has passed. Shared hosting puts many names on one address, so requests also
//! take a permit of their address (a per-IP cap), and one of the crawl (the global cap). The
//! slot also caches the host's robots.txt and remembers until when the host asked to be left
//! alone (429), which the scheduler reads.
//!
//! **Rates are governor's; the rest is ours.** The operator's request rates, for the whole crawl
//! and per address ([`CrawlerConfig::requests_per_second`] and
//! [`CrawlerConfig::requests_per_second_per_address`], off by default), are GCRA limiters of the
//! `governor` crate, one direct and one keyed by address, each allowing one request every
//! `1/N` s (no bursts, so no window of a second ever holds more than N starts). They are checked
//! together, as the last step before a request is sent (its permits held), and a request starts
//! only when both let it through at the same instant: a request that passes its address's limit
//! but not the crawl's spends that address's cell and waits again, so an address may be asked
//! a little less often than its limit, never more. Time spent on these two limits is the
//! crawler's own restraint, not the host's slowness, so it is given back to the visit's
//! deadline ([`Turn::pace`]). governor cannot express the rest, which stays hand-written: one
//! request in flight per host (a lock, not a rate), the host's interval counted from the end of
//! its previous request (GCRA counts from starts, so a slow answer would shorten the pause a
//! server gets), an interval that changes per host after robots.txt is read (`Crawl-delay`) or
//! a 429 (a reset instant, not a rate), and the caps on requests in flight per address and for
//! the crawl (semaphores: concurrency, not rate).
//!
//! [`CrawlerConfig::requests_per_second`]: crate::CrawlerConfig::requests_per_second
//! [`CrawlerConfig::requests_per_second_per_address`]: crate::CrawlerConfig::requests_per_second_per_address

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fedicensus_core::Host;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::robots::RobotsPolicy;

/// How long a host's robots.txt is trusted before it is read again.
pub const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);

/// Every host's and every address's politeness state for one crawler.
#[derive(Debug)]
pub struct HostPool {
    hosts: Mutex<HashMap<Host, Arc<HostSlot>>>,
    addresses: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
    global: Semaphore,
    per_ip: usize,
    min_interval: Duration,
    max_crawl_delay: Duration,
    rates: Rates,
}

/// governor's clock on tokio's time: paused in tests like every other wait here, and the time
/// the limiters count in is the time the waits sleep in.
#[derive(Debug, Clone)]
struct TokioClock {
    start: tokio::time::Instant,
}

impl governor::clock::Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

type CrawlLimiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;
type AddressLimiter =
    RateLimiter<IpAddr, HashMapStateStore<IpAddr>, TokioClock, NoOpMiddleware<Duration>>;

/// How many requests pass between two sweeps of the per-address limiter's idle addresses (a
/// crawl meets tens of thousands of addresses; a sweep is linear in them).
const SWEEP_EVERY: usize = 16_384;

/// The crawl's request rates (governor): for the whole crawl and per address.
#[derive(Debug)]
struct Rates {
    clock: TokioClock,
    crawl: Option<CrawlLimiter>,
    address: Option<AddressLimiter>,
    checked: AtomicUsize,
}

/// One request every `1/n` s, without bursts.
fn quota(n: NonZeroU32) -> Quota {
    Quota::per_second(n).allow_burst(NonZeroU32::MIN)
}

impl Rates {
    fn new(crawl: Option<NonZeroU32>, address: Option<NonZeroU32>) -> Rates {
        let clock = TokioClock {
            start: tokio::time::Instant::now(),
        };
        Rates {
            crawl: crawl.map(|n| RateLimiter::direct_with_clock(quota(n), clock.clone())),
            address: address.map(|n| RateLimiter::hashmap_with_clock(quota(n), clock.clone())),
            clock,
            checked: AtomicUsize::new(0),
        }
    }

    /// Waits until a request to `ip` may start under both rates, and takes it; returns how long
    /// that took.
    async fn wait(&self, ip: IpAddr, mut before_hold: impl FnMut(Duration)) -> Duration {
        if self.crawl.is_none() && self.address.is_none() {
            return Duration::ZERO;
        }
        let start = tokio::time::Instant::now();
        if let Some(address) = &self.address {
            if self.checked.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
                address.retain_recent();
            }
        }
        loop {
            if let Some(address) = &self.address {
                if let Err(not_until) = address.check_key(&ip) {
                    let now = governor::clock::Clock::now(&self.clock);
                    let hold = not_until.wait_time_from(now);
                    before_hold(hold);
                    tokio::time::sleep(hold).await;
                    continue;
                }
            }
            match self.crawl.as_ref().map(RateLimiter::check) {
                None | Some(Ok(())) => return start.elapsed(),
                Some(Err(not_until)) => {
                    let now = governor::clock::Clock::now(&self.clock);
                    let hold = not_until.wait_time_from(now);
                    before_hold(hold);
                    tokio::time::sleep(hold).await;
                }
            }
        }
    }
}

/// One host's politeness state.
#[derive(Debug)]
pub struct HostSlot {
    /// Held for the whole of a request: one request in flight per host. Holds the earliest
    /// instant the next request may start.
    turn: tokio::sync::Mutex<Option<tokio::time::Instant>>,
    state: Mutex<SlotState>,
}

#[derive(Debug, Default)]
struct SlotState {
    interval: Duration,
    robots: Option<(RobotsPolicy, Instant)>,
    postponed_until: Option<DateTime<Utc>>,
}

/// Permission to send one request: the host's turn, its address's permit and a global permit.
/// Dropping it ends the request and starts the host's interval.
#[derive(Debug)]
pub struct Turn<'a> {
    slot: &'a HostSlot,
    rates: &'a Rates,
    ip: IpAddr,
    next: tokio::sync::MutexGuard<'a, Option<tokio::time::Instant>>,
    _address: tokio::sync::OwnedSemaphorePermit,
    _global: SemaphorePermit<'a>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let interval = self.slot.interval();
        let earliest = tokio::time::Instant::now() + interval;
        // A later instant (a rate limit's reset) set during the request is kept.
        *self.next = Some(match *self.next {
            Some(at) if at > earliest => at,
            _ => earliest,
        });
    }
}

impl HostPool {
    /// A pool allowing `global` requests in flight, `per_ip` per address, hosts asked at least
    /// `min_interval` apart and `Crawl-delay` honoured up to `max_crawl_delay`.
    pub fn new(
        global: usize,
        per_ip: usize,
        min_interval: Duration,
        max_crawl_delay: Duration,
    ) -> HostPool {
        HostPool {
            hosts: Mutex::new(HashMap::new()),
            addresses: Mutex::new(HashMap::new()),
            global: Semaphore::new(global.max(1)),
            per_ip: per_ip.max(1),
            min_interval,
            max_crawl_delay,
            rates: Rates::new(None, None),
        }
    }

    /// The same pool with the crawl's request rates: at most `crawl` requests a second in all
    /// and `per_address` to one IP address (`None`: no such limit).
    pub fn with_rates(
        mut self,
        crawl: Option<NonZeroU32>,
        per_address: Option<NonZeroU32>,
    ) -> HostPool {
        self.rates = Rates::new(crawl, per_address);
        self
    }

    /// The slot of `host` (created on first use).
    pub fn slot(&self, host: &Host) -> Arc<HostSlot> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts
            .entry(host.clone())
            .or_insert_with(|| {
                Arc::new(HostSlot {
                    turn: tokio::sync::Mutex::new(None),
                    state: Mutex::new(SlotState {
                        interval: self.min_interval,
                        ..SlotState::default()
                    }),
                })
            })
            .clone()
    }

    fn address(&self, ip: IpAddr) -> Arc<Semaphore> {
        let mut addresses = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        addresses
            .entry(ip)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_ip)))
            .clone()
    }

    /// Waits for `slot`'s turn (its previous request over and its interval passed), then for a
    /// permit of `ip` and a global one. The request rates come after, in [`Turn::pace`].
    pub async fn turn<'a>(&'a self, slot: &'a HostSlot, ip: IpAddr) -> Turn<'a> {
        let next = slot.turn.lock().await;
        if let Some(at) = *next {
            tokio::time::sleep_until(at).await;
        }
        let address = self
            .address(ip)
            .acquire_owned()
            .await
            .expect("address semaphores are never closed");
        let global = self
            .global
            .acquire()
            .await
            .expect("the global semaphore is never closed");
        Turn {
            slot,
            rates: &self.rates,
            ip,
            next,
            _address: address,
            _global: global,
        }
    }

    /// Sets the host's interval from its robots.txt: the minimum, or its `Crawl-delay` up to
    /// the cap.
    pub fn apply_robots(&self, slot: &HostSlot, robots: &RobotsPolicy) {
        let delay = robots
            .crawl_delay()
            .map(|d| d.min(self.max_crawl_delay))
            .unwrap_or_default();
        slot.lock().interval = self.min_interval.max(delay);
    }

    /// Until when `host` asked to be left alone, if it did.
    pub fn postponed_until(&self, host: &Host) -> Option<DateTime<Utc>> {
        let hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts.get(host).and_then(|slot| slot.lock().postponed_until)
    }

    /// Every host that asked to be left alone, and until when.
    pub fn postponed(&self) -> Vec<(Host, DateTime<Utc>)> {
        let hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(Host, DateTime<Utc>)> = hosts
            .iter()
            .filter_map(|(host, slot)| slot.lock().postponed_until.map(|t| (host.clone(), t)))
            .collect();
        out.sort();
        out
    }
}

impl HostSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn interval(&self) -> Duration {
        self.lock().interval
    }

    /// The cached robots.txt, if read less than [`ROBOTS_TTL`] ago.
    pub fn robots(&self) -> Option<RobotsPolicy> {
        self.lock()
            .robots
            .as_ref()
            .filter(|(_, at)| at.elapsed() < ROBOTS_TTL)
            .map(|(robots, _)| robots.clone())
    }

    /// Caches the host's robots.txt.
    pub fn set_robots(&self, robots: RobotsPolicy) {
        self.lock().robots = Some((robots, Instant::now()));
    }

    /// Records that the host asked not to be asked again before `until` (a 429).
    pub fn postpone(&self, until: DateTime<Utc>) {
        let mut state = self.lock();
        state.postponed_until = Some(match state.postponed_until {
            Some(t) if t > until => t,
            _ => until,
        });
    }
}

impl Turn<'_> {
    /// Waits until the crawl's request rates let this request start (see the module comment),
    /// the last step before sending it; returns how long that took, which the visit adds to its
    /// deadline: the crawler's own restraint is not the host's slowness. `before_hold` is told
    /// each hold before it starts.
    pub async fn pace(&mut self, before_hold: impl FnMut(Duration)) -> Duration {
        self.rates.wait(self.ip, before_hold).await
    }

    /// Makes the host's next request wait at least `wait` after now (a rate limit's reset).
    pub fn hold_for(&mut self, wait: Duration) {
        let at = tokio::time::Instant::now() + wait;
        *self.next = Some(match *self.next {
            Some(t) if t > at => t,
            _ => at,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn host(name: &str) -> Host {
        Host::from_normalised(name)
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_is_asked_no_sooner_than_its_interval_after_the_last_answer() {
        let pool = HostPool::new(8, 8, Duration::from_secs(1), Duration::from_secs(20));
        let slot = pool.slot(&host("a.example"));
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let start = tokio::time::Instant::now();
        drop(pool.turn(&slot, ip).await);
        let second = pool.turn(&slot, ip).await;
        assert!(start.elapsed() >= Duration::from_secs(1));
        drop(second);
        let other = pool.slot(&host("b.example"));
        let before = tokio::time::Instant::now();
        drop(pool.turn(&other, ip).await);
        assert_eq!(before.elapsed(), Duration::ZERO, "other hosts do not wait");
    }

    #[tokio::test(start_paused = true)]
    async fn crawl_delay_lengthens_the_interval_up_to_the_cap() {
        let pool = HostPool::new(8, 8, Duration::from_secs(1), Duration::from_secs(20));
        let slot = pool.slot(&host("gts.example"));
        pool.apply_robots(
            &slot,
            &RobotsPolicy::from_body(b"User-agent: *\nCrawl-delay: 500\n"),
        );
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let start = tokio::time::Instant::now();
        drop(pool.turn(&slot, ip).await);
        drop(pool.turn(&slot, ip).await);
        assert_eq!(start.elapsed(), Duration::from_secs(20));
    }

    /// Starts `requests` requests to each `(host, ip)` as fast as `pool` lets them (no host
    /// interval), all hosts at once; gives each request's start, by address, in order.
    async fn starts(
        pool: HostPool,
        hosts: &[(&str, IpAddr)],
        requests: usize,
    ) -> HashMap<IpAddr, Vec<Duration>> {
        let pool = Arc::new(pool);
        let start = tokio::time::Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for &(name, ip) in hosts {
            let pool = pool.clone();
            let host = host(name);
            tasks.spawn(async move {
                let slot = pool.slot(&host);
                let mut at = Vec::new();
                for _ in 0..requests {
                    let mut turn = pool.turn(&slot, ip).await;
                    turn.pace(|_| ()).await;
                    at.push(start.elapsed());
                    drop(turn);
                }
                (ip, at)
            });
        }
        let mut by_address: HashMap<IpAddr, Vec<Duration>> = HashMap::new();
        while let Some(done) = tasks.join_next().await {
            let (ip, at) = done.expect("no task panics");
            by_address.entry(ip).or_default().extend(at);
        }
        for at in by_address.values_mut() {
            at.sort();
        }
        by_address
    }

    /// No window of one second holds more than `n` of `starts` (sorted): any `n + 1` in a row
    /// span a second or more.
    fn at_most_per_second(starts: &[Duration], n: usize) -> bool {
        starts
            .windows(n + 1)
            .all(|w| w[n] - w[0] >= Duration::from_secs(1))
    }

    #[tokio::test(start_paused = true)]
    async fn the_crawl_rate_is_never_exceeded_over_any_second() {
        let pool = HostPool::new(64, 64, Duration::ZERO, Duration::from_secs(20))
            .with_rates(NonZeroU32::new(5), None);
        // Forty hosts on forty addresses, three requests each, all wanting to start at once.
        let names: Vec<String> = (0..40).map(|i| format!("h{i}.example")).collect();
        let hosts: Vec<(&str, IpAddr)> = names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_str(), IpAddr::V4(Ipv4Addr::new(192, 0, 2, i as u8))))
            .collect();
        let by_address = starts(pool, &hosts, 3).await;
        let mut all: Vec<Duration> = by_address.into_values().flatten().collect();
        all.sort();
        assert_eq!(all.len(), 120);
        assert!(at_most_per_second(&all, 5), "{all:?}");
        assert!(!at_most_per_second(&all, 4), "the rate is reached: {all:?}");
        // 120 requests at 5 a second: the last starts 119 / 5 s after the first, give or take
        // the timer's millisecond.
        let last = *all.last().expect("requests");
        assert!(
            last >= Duration::from_millis(23_800) && last <= Duration::from_millis(23_900),
            "{last:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_per_address_rate_spans_every_host_of_the_address() {
        let pool = HostPool::new(64, 64, Duration::ZERO, Duration::from_secs(20))
            .with_rates(None, NonZeroU32::new(2));
        let shared = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let alone = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        let hosts = [
            ("a.example", shared),
            ("b.example", shared),
            ("c.example", shared),
            ("d.example", alone),
        ];
        let by_address = starts(pool, &hosts, 4).await;
        let shared_starts = &by_address[&shared];
        assert_eq!(shared_starts.len(), 12);
        assert!(at_most_per_second(shared_starts, 2), "{shared_starts:?}");
        // Three hosts of one address share its two requests a second: the twelfth starts after
        // 5.5 s, where one host alone would have been done after 1.5 s.
        assert!(shared_starts[11] >= Duration::from_millis(5_500));
        let alone_starts = &by_address[&alone];
        assert!(at_most_per_second(alone_starts, 2), "{alone_starts:?}");
        assert!(
            alone_starts[3] <= Duration::from_millis(1_510),
            "another address is not held back: {alone_starts:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_reports_the_time_it_held_a_request_back() {
        let pool = HostPool::new(8, 8, Duration::ZERO, Duration::from_secs(20))
            .with_rates(NonZeroU32::new(1), None);
        let slot = pool.slot(&host("a.example"));
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let mut first = pool.turn(&slot, ip).await;
        assert_eq!(first.pace(|_| ()).await, Duration::ZERO);
        drop(first);
        let mut second = pool.turn(&slot, ip).await;
        let mut told = Duration::ZERO;
        let held = second.pace(|hold| told += hold).await;
        assert_eq!(
            told,
            Duration::from_secs(1),
            "the hold is told before it starts"
        );
        assert!(
            held >= Duration::from_secs(1) && held <= Duration::from_millis(1_001),
            "{held:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_holds_the_host_until_its_reset() {
        let pool = HostPool::new(8, 8, Duration::from_secs(1), Duration::from_secs(20));
        let slot = pool.slot(&host("busy.example"));
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let start = tokio::time::Instant::now();
        let mut turn = pool.turn(&slot, ip).await;
        turn.hold_for(Duration::from_secs(7));
        drop(turn);
        drop(pool.turn(&slot, ip).await);
        assert_eq!(start.elapsed(), Duration::from_secs(7));
    }
}
