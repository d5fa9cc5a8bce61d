//! Discovery: which hosts a crawl cycle visits, and what it learnt about who knows whom.
//!
//! A crawl starts from seeds and grows through peer lists. The [`Frontier`] trait is the whole
//! interface the crawl engine needs, so the binary can later back it with storage (crawler and
//! storage must not know each other); [`MemoryFrontier`] keeps everything in memory for one
//! cycle, which is all tests and `crawl_once` need today.
//!
//! Rules every frontier follows:
//! - Names arrive already normalised by core ([`fedicensus_core::parse::normalise_peers`]); the
//!   frontier never parses.
//! - The first host that revealed a name is its provenance; later mentions only add edges.
//! - `.onion` and `.i2p` names are recorded, never queued (the crawler has no way there).
//! - Each registrable domain gets a budget of hosts per cycle ([`DEFAULT_DOMAIN_BUDGET`]), so a
//!   flood of fake subdomains (tens of thousands of `*.gab.best` in 2019) costs a few visits, not
//!   a day. Names over budget are recorded and counted, not visited.
//!
//! [`DEFAULT_DOMAIN_BUDGET`]: crate::config::DEFAULT_DOMAIN_BUDGET

use std::collections::{BTreeMap, HashMap, VecDeque};

use fedicensus_core::Host;

/// How a host became known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// Given on the command line (or by the scheduler).
    Seed,
    /// Listed in this host's peer list.
    PeerOf(Host),
    /// This host moved here (a permanent redirect).
    MovedFrom(Host),
}

/// What a frontier did with a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// New, and queued for a visit.
    Queued,
    /// Already known this cycle.
    Known,
    /// New, but its registrable domain has used its budget: recorded, not queued.
    OverBudget,
    /// New, but not reachable by the crawler (`.onion`, `.i2p`): recorded, not queued.
    NotCrawlable,
}

/// The hosts of a crawl cycle: what to visit next and what was learnt.
pub trait Frontier: Send {
    /// Offers a host; the frontier decides whether to queue it.
    fn offer(&mut self, host: &Host, provenance: Provenance) -> Admission;
    /// Records that `from` listed `peers` (normalised, valid names).
    fn record_peers(&mut self, from: &Host, peers: &[Host]);
    /// The next host to visit, if any is queued.
    fn next(&mut self) -> Option<Host>;
}

/// A frontier in memory, for one cycle.
#[derive(Debug, Default)]
pub struct MemoryFrontier {
    budget: usize,
    /// Every name seen, by id.
    names: Vec<Host>,
    ids: HashMap<Host, u32>,
    /// Provenance by id (`None` for ids only seen as edge targets... never: every offered name
    /// has one).
    provenance: Vec<Provenance>,
    /// Peer edges: who listed whom, as ids.
    edges: HashMap<u32, Vec<u32>>,
    queue: VecDeque<u32>,
    per_domain: HashMap<String, usize>,
    over_budget: BTreeMap<String, usize>,
    not_crawlable: Vec<u32>,
    queued_total: usize,
}

impl MemoryFrontier {
    /// An empty frontier allowing `budget` hosts per registrable domain.
    pub fn new(budget: usize) -> MemoryFrontier {
        MemoryFrontier {
            budget: budget.max(1),
            ..MemoryFrontier::default()
        }
    }

    fn id(&self, host: &Host) -> Option<u32> {
        self.ids.get(host).copied()
    }

    fn intern(&mut self, host: &Host, provenance: Provenance) -> (u32, bool) {
        if let Some(id) = self.id(host) {
            return (id, false);
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(host.clone());
        self.provenance.push(provenance);
        self.ids.insert(host.clone(), id);
        (id, true)
    }

    /// Every name seen this cycle (queued, over budget or not crawlable).
    pub fn known(&self) -> &[Host] {
        &self.names
    }

    /// Whether `host` was seen.
    pub fn contains(&self, host: &Host) -> bool {
        self.ids.contains_key(host)
    }

    /// Who revealed `host` first.
    pub fn provenance(&self, host: &Host) -> Option<&Provenance> {
        self.id(host).map(|id| &self.provenance[id as usize])
    }

    /// The peers `host` listed.
    pub fn peers_of(&self, host: &Host) -> Vec<&Host> {
        self.id(host)
            .and_then(|id| self.edges.get(&id))
            .map(|to| to.iter().map(|t| &self.names[*t as usize]).collect())
            .unwrap_or_default()
    }

    /// Peer edges recorded in all.
    pub fn edge_count(&self) -> usize {
        self.edges.values().map(Vec::len).sum()
    }

    /// Names not queued because their registrable domain had used its budget, by domain.
    pub fn over_budget(&self) -> &BTreeMap<String, usize> {
        &self.over_budget
    }

    /// `.onion` and `.i2p` names seen.
    pub fn not_crawlable(&self) -> Vec<&Host> {
        self.not_crawlable
            .iter()
            .map(|id| &self.names[*id as usize])
            .collect()
    }

    /// Hosts queued in all this cycle.
    pub fn queued_total(&self) -> usize {
        self.queued_total
    }
}

impl Frontier for MemoryFrontier {
    fn offer(&mut self, host: &Host, provenance: Provenance) -> Admission {
        let (id, new) = self.intern(host, provenance);
        if !new {
            return Admission::Known;
        }
        if !host.is_crawlable() {
            self.not_crawlable.push(id);
            return Admission::NotCrawlable;
        }
        let domain = host.registrable_domain().to_string();
        let used = self.per_domain.entry(domain.clone()).or_default();
        if *used >= self.budget {
            *self.over_budget.entry(domain).or_default() += 1;
            return Admission::OverBudget;
        }
        *used += 1;
        self.queue.push_back(id);
        self.queued_total += 1;
        Admission::Queued
    }

    fn record_peers(&mut self, from: &Host, peers: &[Host]) {
        let (from_id, _) = self.intern(from, Provenance::Seed);
        let mut targets = Vec::with_capacity(peers.len());
        for peer in peers {
            self.offer(peer, Provenance::PeerOf(from.clone()));
            if let Some(id) = self.id(peer) {
                targets.push(id);
            }
        }
        self.edges.insert(from_id, targets);
    }

    fn next(&mut self) -> Option<Host> {
        self.queue
            .pop_front()
            .map(|id| self.names[id as usize].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str) -> Host {
        Host::parse(name).expect("a valid test name")
    }

    #[test]
    fn the_first_host_to_list_a_name_is_its_provenance() {
        let mut frontier = MemoryFrontier::new(10);
        frontier.offer(&host("a.example.org"), Provenance::Seed);
        frontier.record_peers(&host("a.example.org"), &[host("c.example.org")]);
        frontier.record_peers(&host("b.example.org"), &[host("c.example.org")]);
        assert_eq!(
            frontier.provenance(&host("c.example.org")),
            Some(&Provenance::PeerOf(host("a.example.org")))
        );
        assert_eq!(
            frontier.peers_of(&host("b.example.org")),
            vec![&host("c.example.org")]
        );
        assert_eq!(frontier.edge_count(), 2);
        assert_eq!(frontier.next(), Some(host("a.example.org")));
        assert_eq!(frontier.next(), Some(host("c.example.org")));
        assert_eq!(frontier.next(), None, "a name is queued once");
    }

    #[test]
    fn onion_and_i2p_names_are_recorded_but_never_queued() {
        let mut frontier = MemoryFrontier::new(10);
        let onion = host("abcdefghijklmnop.onion");
        assert_eq!(
            frontier.offer(&onion, Provenance::Seed),
            Admission::NotCrawlable
        );
        assert!(frontier.contains(&onion));
        assert_eq!(frontier.not_crawlable(), vec![&onion]);
        assert_eq!(frontier.next(), None);
    }

    #[test]
    fn a_subdomain_flood_is_held_to_the_domain_budget() {
        let mut frontier = MemoryFrontier::new(3);
        let flood: Vec<Host> = (0..1000).map(|i| host(&format!("x{i}.gab.best"))).collect();
        frontier.record_peers(&host("big.example.org"), &flood);
        assert_eq!(frontier.queued_total(), 3);
        assert_eq!(frontier.over_budget().get("gab.best"), Some(&997));
        assert_eq!(frontier.known().len(), 1001);
    }
}
