//! Who knows whom: the peer lists servers serve, built on demand from the world's lives (two
//! servers know each other while both are alive, with junk and invented names where a server's
//! profile says so), and what a crawler can discover from a set of seeds.

use super::*;

impl World {
    /// The invented names in an [`Adversary::InventedPeers`] server's peer list: random labels
    /// under random words and top-level domains, none of them a server of the world.
    fn invented_peers(&self, id: ServerId) -> Vec<String> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ TAG_ADVERSARIES ^ u64::from(id));
        let vocabulary = names::vocabulary();
        (0..self.config.failures.adversaries.invented_peers)
            .map(|_| {
                format!(
                    "{}.{}{}.{}",
                    names::random_label(&mut rng),
                    vocabulary.word(&mut rng),
                    rng.random_range(10..1000),
                    vocabulary.tld(&mut rng)
                )
            })
            .filter(|name| self.lookup(name).is_none())
            .collect()
    }

    /// Whether server `i` knows server `j` at fractional day `day` (both born, their lives
    /// overlapping; flood hosts only for the servers that list the flood).
    pub(super) fn knows(&self, i: usize, j: usize, day: f64) -> bool {
        (self.profiles[j].born_day as f64) <= day && self.knows_if_born(i, j)
    }

    /// Whether server `i` knows server `j` apart from `j`'s birth: everything [`World::knows`]
    /// asks except the one date-dependent condition.
    fn knows_if_born(&self, i: usize, j: usize) -> bool {
        if i == j {
            return false;
        }
        let (pi, pj) = (&self.profiles[i], &self.profiles[j]);
        if pj.died_day < pi.born_day {
            return false;
        }
        if self.servers[j].flood || self.servers[j].adversary.is_some() {
            return pi.lists_flood;
        }
        unit(hash3(self.config.seed, i as u64, j as u64)) < pi.reach * pj.visibility
    }

    /// The servers `i` knows at fractional day `day`, in id order: [`World::knows`], through the
    /// per-server cache of knowable servers.
    pub(super) fn known_at(&self, i: usize, day: f64) -> impl Iterator<Item = usize> + '_ {
        let knowable = self.knowable[i].get_or_init(|| {
            (0..self.servers.len())
                .filter(|j| self.knows_if_born(i, *j))
                .map(|j| j as ServerId)
                .collect()
        });
        knowable
            .iter()
            .map(|j| *j as usize)
            .filter(move |j| (self.profiles[*j].born_day as f64) <= day)
    }

    /// How many junk entries `id`'s peer list carries when it knows `known` servers.
    fn junk_count(&self, id: ServerId, known: usize) -> usize {
        let seed = self.config.seed ^ TAG_JUNK;
        let expected = self.config.failures.peer_junk.max(0.0) * known as f64;
        let extra = unit(hash3(seed, u64::from(id), u64::MAX)) < expected - expected.floor();
        expected.floor() as usize + usize::from(extra)
    }

    /// The length of [`World::peers`]`(id, at)`, without building the list (the instance APIs
    /// report it as their domain count).
    pub fn peer_count(&self, id: ServerId, at: DateTime<Utc>) -> usize {
        let i = id as usize;
        let day = day_of(at);
        if day < self.profiles[i].born_day as f64 {
            return 0;
        }
        let known = self.known_at(i, day).count();
        let invented = if self.servers[i].adversary == Some(Adversary::InventedPeers) {
            self.invented_peers(id).len()
        } else {
            0
        };
        known + self.junk_count(id, known) + invented
    }

    /// The peer list `id` serves at `at`, junk included.
    ///
    /// The servers it knows (dead ones included, as real lists keep them), in id order, with
    /// `failures.peer_junk` of junk entries mixed in: junk of the real mastodon.social list and
    /// uppercase and trailing-dot duplicates of real members.
    pub fn peers(&self, id: ServerId, at: DateTime<Utc>) -> Vec<String> {
        let i = id as usize;
        let day = day_of(at);
        if day < self.profiles[i].born_day as f64 {
            return Vec::new();
        }
        let mut peers: Vec<String> = self
            .known_at(i, day)
            .map(|j| self.servers[j].domain.clone())
            .collect();
        let seed = self.config.seed ^ TAG_JUNK;
        let count = self.junk_count(id, peers.len());
        let junk = &names::vocabulary().junk;
        for k in 0..count as u64 {
            let h = hash3(seed, u64::from(id), k);
            let entry = match h % 10 {
                7 | 8 if !peers.is_empty() => {
                    let member = &peers[(mix(h) % peers.len() as u64) as usize];
                    if h % 10 == 7 {
                        uppercase_some(member, mix(h ^ 5))
                    } else {
                        format!("{member}.")
                    }
                }
                // Junk of the real list in rotation from a per-server offset, so a long list
                // carries every kind rather than a random few.
                _ if !junk.is_empty() => {
                    let offset = mix(hash3(seed, u64::from(id), u64::MAX - 1));
                    junk[(offset.wrapping_add(k) % junk.len() as u64) as usize].clone()
                }
                _ => continue,
            };
            let position = (mix(h ^ 9) % (peers.len() as u64 + 1)) as usize;
            peers.insert(position, entry);
        }
        if self.servers[i].adversary == Some(Adversary::InventedPeers) {
            peers.extend(self.invented_peers(id));
        }
        peers
    }

    /// Whether `id` serves a readable peer list at `at`: alive, without a failure that stops a
    /// polite crawler, of software that has one ([`software_serves_peers`]) and without
    /// `PeersDisabled` or `LimitedFederation`.
    pub fn serves_peers(&self, id: ServerId, at: DateTime<Utc>) -> bool {
        let s = &self.servers[id as usize];
        self.reachable_at(id as usize, day_of(at))
            && software_serves_peers_at(&s.software, self.version_at(id, at))
            && !s.quirks.has(Quirk::PeersDisabled)
            && !s.quirks.has(Quirk::LimitedFederation)
    }

    /// The world servers a crawler finds at `at` by following peer lists from `seeds`
    /// (breadth first, expanding only servers that [`World::serves_peers`]). Seeds are
    /// included. Junk entries are ignored (their normalised forms are members anyway).
    pub fn discoverable_from(&self, seeds: &[ServerId], at: DateTime<Utc>) -> BTreeSet<ServerId> {
        let day = day_of(at);
        let mut found = vec![false; self.servers.len()];
        let mut queue = std::collections::VecDeque::new();
        for seed in seeds {
            if (*seed as usize) < self.servers.len() && !found[*seed as usize] {
                found[*seed as usize] = true;
                queue.push_back(*seed);
            }
        }
        // Scanning only the servers not found yet keeps this near-linear: the first big
        // server finds most of the world.
        let mut unfound: Vec<usize> = (0..self.servers.len()).filter(|j| !found[*j]).collect();
        while let Some(id) = queue.pop_front() {
            if !self.serves_peers(id, at) {
                continue;
            }
            let i = id as usize;
            unfound.retain(|j| {
                if self.knows(i, *j, day) {
                    found[*j] = true;
                    queue.push_back(*j as ServerId);
                    false
                } else {
                    true
                }
            });
        }
        (0..self.servers.len())
            .filter(|j| found[*j])
            .map(|j| j as ServerId)
            .collect()
    }
}

/// Uppercases some letters of `name` (`Mastodon.Social`, `MSTDN.jp`), as real lists carry.
fn uppercase_some(name: &str, h: u64) -> String {
    match h % 3 {
        0 => name.to_ascii_uppercase(),
        1 => name
            .split('.')
            .map(|label| {
                let mut chars = label.chars();
                chars.next().map_or(String::new(), |c| {
                    c.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect::<Vec<_>>()
            .join("."),
        _ => {
            let mut chars: Vec<char> = name.chars().collect();
            if let Some(c) = chars.first_mut() {
                *c = c.to_ascii_uppercase();
            }
            chars.into_iter().collect()
        }
    }
}
