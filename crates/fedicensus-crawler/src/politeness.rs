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

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fedicensus_core::Host;
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
        }
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
    /// permit of `ip` and a global one.
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
