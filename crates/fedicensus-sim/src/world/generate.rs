//! Generating a world: servers of every software drawn from the scenario's calibration, their
//! sizes, names and lives, then the kinds added after calibration (flood hosts, second Takahē
//! domains, adversaries, opt-outs, failures and quirks), each from its own RNG stream so that
//! earlier servers stay as they were. Runs once per [`World`]; everything a server says later is
//! computed from what this leaves behind (`mod.rs`, `peers.rs`).

use super::*;

impl World {
    /// Generates the world for `config`. Deterministic: the same config gives the same world.
    ///
    /// `config.servers` counts real servers of every software, alive, dead and failing; the
    /// flood hosts ([`World::flood_size`]) come on top of them.
    pub fn generate(config: WorldConfig) -> World {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let shape = shape(config.scenario);
        let named = named(config.scenario);
        let full = config.scenario.default_servers();
        let n = config.servers.unwrap_or(full);
        let lambda = death_hazard_per_day();
        let blocking: f64 = config
            .failures
            .failures
            .iter()
            .filter(|(f, _)| !f.leaves_reachable())
            .map(|(_, r)| *r)
            .sum();
        let reachable_share = (1.0 - blocking).clamp(0.05, 1.0);

        // Births of the calibrated software (Mastodon in 2022): the cumulative births that keep
        // the target number alive under a constant death hazard are A(t) + λ·∫A (A = target
        // alive).
        let first = day_index(ymd(2016, 10, 1));
        let last = day_index(config.scenario.end());
        let mut births_cum = Vec::with_capacity((last - first + 1) as usize);
        let mut integral = 0.0;
        for day in first..=last {
            let alive = shape.reachable_target(day as f64) / reachable_share;
            births_cum.push(alive + lambda * integral);
            integral += alive;
        }
        let births_total = births_cum.last().copied().unwrap_or(0.0);
        let mastodon_share = (births_total / full as f64).min(0.95);
        let n_mastodon = if n == 0 {
            0
        } else {
            ((n as f64 * mastodon_share).round() as usize).clamp(1, n)
        };
        let mut protos = Vec::with_capacity(n);
        for i in 0..n_mastodon {
            let target = (i as f64 + rng.random::<f64>()) / n_mastodon as f64 * births_total;
            let offset = births_cum.partition_point(|c| *c < target) as i64;
            protos.push(Proto {
                software: shape.primary.clone(),
                born: (first + offset).min(last),
                died: None,
                size: 1.0,
                named: None,
            });
        }
        // The earliest Mastodon servers become the named big ones.
        protos.sort_by_key(|p| p.born);
        for (k, proto) in protos.iter_mut().take(named.len()).enumerate() {
            let (y, m, d) = named[k].born;
            proto.named = Some(k);
            proto.born = day_index(ymd(y, m, d));
        }
        Self::add_other_software(&mut rng, shape, &mut protos, n - n_mastodon, last);
        for proto in &mut protos {
            if proto.named.is_none() {
                let lifetime = -(1.0 - rng.random::<f64>()).ln() / lambda;
                let died = proto.born + 1 + lifetime as i64;
                proto.died = (died < CURVE_DAYS as i64 - 1).then_some(died);
            }
        }
        Self::assign_sizes(&mut rng, shape, named, &mut protos);
        protos.shuffle(&mut rng);

        let mut world = World {
            config: config.clone(),
            servers: Vec::with_capacity(n + World::flood_size(&config)),
            profiles: Vec::with_capacity(n + World::flood_size(&config)),
            by_domain: HashMap::with_capacity(n + World::flood_size(&config)),
            flood_parent: String::new(),
            kp: 1.0,
            kq: 1.0,
            knowable: Vec::new(),
            installations: HashMap::new(),
        };
        let mut used: HashSet<String> = named.iter().map(|n| n.domain.to_string()).collect();
        if World::flood_size(&config) > 0 {
            let vocabulary = names::vocabulary();
            loop {
                let parent = format!(
                    "{}{}.{}",
                    vocabulary.word(&mut rng),
                    rng.random_range(10..100),
                    vocabulary.tld(&mut rng)
                );
                if used.insert(parent.clone()) {
                    world.flood_parent = parent;
                    break;
                }
            }
        }
        for proto in protos {
            world.push_server(&mut rng, &mut used, proto);
        }
        world.add_flood(&mut rng, &mut used);
        world.assign_failures(&mut rng);
        world.assign_quirks(&mut rng);
        world.calibrate(n as f64 / full as f64);
        // Added after calibration, from their own streams: no earlier server changes.
        world.add_takahe_siblings(&mut used);
        world.assign_opt_outs();
        world.add_adversaries(&mut used);
        world.by_domain = world
            .servers
            .iter()
            .map(|s| (s.domain.clone(), s.id))
            .collect();
        world.knowable = (0..world.servers.len()).map(|_| OnceLock::new()).collect();
        for server in &world.servers {
            if let Some(main) = server.sibling_of {
                world
                    .installations
                    .entry(main)
                    .or_insert_with(|| vec![main])
                    .push(server.id);
            }
        }
        world
    }

    /// Adds `count` servers of the non-Mastodon families, by largest remainder of their weights,
    /// born evenly since each family's first release with three times the rate during the wave.
    fn add_other_software(
        rng: &mut ChaCha8Rng,
        shape: &Shape,
        protos: &mut Vec<Proto>,
        count: usize,
        last: i64,
    ) {
        let families = shape.families;
        let other_software = shape.other_software;
        let total_weight: f64 = families.iter().map(|f| f.weight).sum();
        let exact: Vec<f64> = families
            .iter()
            .map(|f| f.weight / total_weight * count as f64)
            .collect();
        let mut counts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
        let mut order: Vec<usize> = (0..families.len()).collect();
        order.sort_by(|a, b| {
            let ra = exact[*a] - exact[*a].floor();
            let rb = exact[*b] - exact[*b].floor();
            rb.total_cmp(&ra).then(a.cmp(b))
        });
        let assigned: usize = counts.iter().sum();
        for k in order.iter().take(count - assigned) {
            counts[*k] += 1;
        }
        let take = day_index(shape.before());
        for (family, family_count) in families.iter().zip(counts) {
            let (y, m, d) = family.since;
            let since = day_index(ymd(y, m, d));
            let mut cum = Vec::with_capacity((last - since + 1).max(1) as usize);
            let mut acc = 0.0;
            for day in since..=last {
                acc += if day >= take { 3.0 } else { 1.0 };
                cum.push(acc);
            }
            for i in 0..family_count {
                let target = (i as f64 + rng.random::<f64>()) / family_count as f64 * acc;
                let born = since + cum.partition_point(|c| *c < target) as i64;
                let mut software = (family.software)();
                if let Software::Other(name) = &mut software {
                    let (other, _) = other_software[rng.random_range(0..other_software.len())];
                    *name = other.to_string();
                }
                protos.push(Proto {
                    software,
                    born: born.min(last),
                    died: None,
                    size: 1.0,
                    named: None,
                });
            }
        }
    }

    /// Sizes in early December 2022. Mastodon: ranked by an age-weighted random score, then a
    /// size by percentile with a Zipf-like top 1 %, a power-law body and 13 % single-user
    /// servers (FIELD.md). Other software: log-normal around the family's median.
    fn assign_sizes(rng: &mut ChaCha8Rng, shape: &Shape, named: &[Named], protos: &mut [Proto]) {
        let take = day_index(shape.before());
        // 2022-06-01 in the migration-2022 scenario.
        let mid_2022 = take - 148;
        let mut ranked: Vec<(f64, usize)> = Vec::new();
        for (i, proto) in protos.iter_mut().enumerate() {
            if let Some(k) = proto.named {
                proto.size = named[k].after;
            } else if proto.software == shape.primary {
                let age_weight = if proto.born < mid_2022 {
                    1.0
                } else if proto.born < take {
                    0.6
                } else {
                    0.35
                };
                let score = -(1.0 - rng.random::<f64>()).ln() * age_weight;
                ranked.push((score, i));
            } else {
                let median = shape
                    .families
                    .iter()
                    .find(|f| {
                        let s = (f.software)();
                        s == proto.software
                            || matches!(
                                (&s, &proto.software),
                                (Software::Other(_), Software::Other(_))
                            )
                    })
                    .map_or(5.0, |f| f.median_users);
                proto.size = if rng.random::<f64>() < 0.2 {
                    1.0
                } else {
                    (median * (1.5 * normal(rng)).exp()).clamp(1.0, 150_000.0)
                };
            }
        }
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let count = ranked.len().max(1) as f64;
        for (rank, (_, i)) in ranked.iter().enumerate() {
            let u = (rank as f64 + 0.5) / count;
            protos[*i].size = mastodon_size_at_percentile(u);
        }
    }

    fn push_server(&mut self, rng: &mut ChaCha8Rng, used: &mut HashSet<String>, proto: Proto) {
        let id = self.servers.len() as ServerId;
        let named = named(self.config.scenario);
        let domain = match proto.named {
            Some(k) => named[k].domain.to_string(),
            None => loop {
                let candidate = names::synth_domain(rng, &proto.software);
                if used.insert(candidate.clone()) {
                    break candidate;
                }
            },
        };
        let born = date_of(proto.born);
        let version = match self.config.scenario {
            Scenario::Migration2022 => scenario::version(rng, &proto.software, born),
            Scenario::Lemmy2023 => scenario::lemmy_2023::version(rng, &proto.software, born),
        };
        let curves = self.curves();
        let shape = self.shape();
        let take = day_index(shape.before()) as f64;
        let december = day_index(shape.after()) as f64;
        let born_f = proto.born as f64;
        let (x, y) = match proto.named {
            Some(k) => {
                let Named { before, after, .. } = named[k];
                // Exact at both dates: the secular growth between them counts towards the
                // December figure.
                let dhs = (at(&curves.hs, take) - at(&curves.hs, born_f)).max(1.0);
                let x = (before - 1.0) / dhs;
                let secular = x * (at(&curves.hs, december) - at(&curves.hs, born_f));
                let dhw = (at(&curves.hw, december) - at(&curves.hw, born_f)).max(0.05);
                (x, (after - 1.0 - secular).max(0.0) / dhw)
            }
            None => split_growth(rng, curves, shape, proto.size, born_f),
        };
        let log_size = (proto.size + 1.0).log10();
        let open_registrations = match proto.named {
            Some(_) => true,
            None if proto.size < 1.5 => rng.random::<f64>() < 0.05,
            None => rng.random::<f64>() < (0.35 + 0.1 * log_size).min(0.85),
        };
        let reach = if proto.named.is_some() {
            1.0
        } else {
            0.02 + 0.98 * (log_size / 5.5).min(1.0).powi(2)
        };
        let latency = &self.config.latency;
        let latency_ms = (latency.median_ms * (latency.sigma * normal(rng)).exp()) as f32;
        let death_roll = rng.random::<f64>();
        let death_mode = if death_roll < 0.45 {
            DeathMode::NoSuchDomain
        } else if death_roll < 0.75 {
            DeathMode::Refused
        } else {
            DeathMode::Gone
        };
        let profile = Profile {
            born_day: proto.born,
            died_day: proto.died.unwrap_or(i64::MAX),
            x,
            y,
            m: (0.35 * normal(rng)).exp(),
            k: 0.5 * (0.8 * normal(rng)).exp(),
            lf: rng.random_range(0.6..0.8),
            admin: rng.random::<f64>() < 0.85,
            reach,
            visibility: 0.75 + 0.25 * (log_size / 4.0).min(1.0),
            death_mode,
            inflation: rng.random_range(10.0..20.0),
            named: proto.named.is_some(),
            lists_flood: proto.named.is_some() || rng.random::<f64>() < 0.03,
        };
        self.servers.push(Server {
            id,
            domain,
            software: proto.software,
            version,
            born,
            died: proto.died.map(date_of),
            failure: None,
            quirks: Quirks::NONE,
            open_registrations,
            latency_ms,
            target: None,
            flood: false,
            opt_out: None,
            sibling_of: None,
            adversary: None,
        });
        self.profiles.push(profile);
    }

    /// The flood: fake subdomains of one synthetic registrable domain, tiny Mastodon servers
    /// born from June 2022 on, never dying.
    fn add_flood(&mut self, rng: &mut ChaCha8Rng, used: &mut HashSet<String>) {
        let first = day_index(ymd(2022, 6, 1));
        let last = day_index(self.config.scenario.end());
        for _ in 0..World::flood_size(&self.config) {
            let domain = loop {
                let candidate = format!("{}.{}", names::random_label(rng), self.flood_parent);
                if used.insert(candidate.clone()) {
                    break candidate;
                }
            };
            let born = rng.random_range(first..=last);
            let size = rng.random_range(1.0..3.5f64).floor();
            let curves = self.curves();
            let dhs = (at(&curves.hs, last as f64) - at(&curves.hs, born as f64)).max(1.0);
            let latency = &self.config.latency;
            let id = self.servers.len() as ServerId;
            self.servers.push(Server {
                id,
                domain,
                software: Software::Mastodon,
                version: "4.0.2".to_string(),
                born: date_of(born),
                died: None,
                failure: None,
                quirks: Quirks::NONE,
                open_registrations: true,
                latency_ms: (latency.median_ms * (latency.sigma * normal(rng)).exp()) as f32,
                target: None,
                flood: true,
                opt_out: None,
                sibling_of: None,
                adversary: None,
            });
            self.profiles.push(Profile {
                born_day: born,
                died_day: i64::MAX,
                x: (size - 1.0) / dhs,
                y: 0.0,
                m: 1.0,
                k: 0.3,
                lf: 0.7,
                admin: true,
                reach: 0.02,
                visibility: 0.0,
                death_mode: DeathMode::NoSuchDomain,
                inflation: 10.0,
                named: false,
                lists_flood: false,
            });
        }
    }

    /// Second local domains of Takahē installations, each a server of its own.
    ///
    /// Takahē serves several local domains from one installation (`users.models.Domain`; "multiple
    /// domain support" heads its README), and on every one of them `/.well-known/nodeinfo` links
    /// to the main domain over https: `users/views/activitypub.py` reads
    /// `request.META.get("HOST", settings.MAIN_DOMAIN)`, a key Django never sets, in every
    /// release from 0.3.0 to 0.11.0 (live fixture `takahe-0.11.0/second-domain/`). A second
    /// domain is born after its installation, dies with it, runs its version and its machine
    /// (latency), and has users of its own. No census measured how many installations use a
    /// second domain: [`TAKAHE_SIBLING_SHARE`] is an assumption, with at least one sibling in any
    /// world that has a Takahē server, so every world shows the behaviour.
    fn add_takahe_siblings(&mut self, used: &mut HashSet<String>) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ TAG_SIBLINGS);
        let mains: Vec<ServerId> = self
            .servers
            .iter()
            .filter(|s| s.software == Software::Takahe && !s.flood && s.failure.is_none())
            .map(|s| s.id)
            .collect();
        if mains.is_empty() {
            return;
        }
        let count = stochastic_round(&mut rng, TAKAHE_SIBLING_SHARE * mains.len() as f64).max(1);
        let mut pool = mains;
        pool.shuffle(&mut rng);
        let last = day_index(self.config.scenario.end());
        for main in pool.into_iter().take(count) {
            let (main_born, main_died) = {
                let p = &self.profiles[main as usize];
                (p.born_day, p.died_day)
            };
            let latest = last.min(main_died.saturating_sub(1)).max(main_born);
            let born = rng.random_range(main_born..=latest);
            let size = if rng.random::<f64>() < 0.2 {
                1.0
            } else {
                (3.0 * (1.5 * normal(&mut rng)).exp()).clamp(1.0, 5_000.0)
            };
            self.push_server(
                &mut rng,
                used,
                Proto {
                    software: Software::Takahe,
                    born,
                    died: (main_died != i64::MAX).then_some(main_died),
                    size,
                    named: None,
                },
            );
            let id = self.servers.len() - 1;
            let (version, latency_ms) = {
                let m = &self.servers[main as usize];
                (m.version.clone(), m.latency_ms)
            };
            let sibling = &mut self.servers[id];
            sibling.sibling_of = Some(main);
            sibling.version = version;
            sibling.latency_ms = latency_ms;
        }
    }

    /// The parties that try to inflate the census ([`crate::Adversaries`]): small Mastodon
    /// servers born in 2021, never dying, without failures or quirks, added last from their own
    /// random stream (no earlier server changes). They are known to the servers that list the
    /// flood (the named big ones among them), so a crawl from the usual seeds finds them.
    fn add_adversaries(&mut self, used: &mut HashSet<String>) {
        let adversaries = self.config.failures.adversaries;
        if !adversaries.any() {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ TAG_ADVERSARIES);
        let born = day_index(ymd(2021, 6, 1));
        let mut kinds = Vec::new();
        kinds.extend(std::iter::repeat_n(
            Adversary::InflatedSubdomain,
            adversaries.inflated_subdomains,
        ));
        kinds.extend(std::iter::repeat_n(
            Adversary::JumpBeyondTotal,
            adversaries.jumpers,
        ));
        if adversaries.invented_peers > 0 {
            kinds.push(Adversary::InventedPeers);
        }
        let vocabulary = names::vocabulary();
        let parent = loop {
            let parent = format!(
                "{}{}.{}",
                vocabulary.word(&mut rng),
                rng.random_range(10..100),
                vocabulary.tld(&mut rng)
            );
            if !used.contains(&parent) {
                break parent;
            }
        };
        for kind in kinds {
            self.push_server(
                &mut rng,
                used,
                Proto {
                    software: Software::Mastodon,
                    born,
                    died: None,
                    size: 40.0,
                    named: None,
                },
            );
            let id = self.servers.len() - 1;
            if kind == Adversary::InflatedSubdomain {
                let domain = loop {
                    let candidate = format!("{}.{parent}", names::random_label(&mut rng));
                    if used.insert(candidate.clone()) {
                        break candidate;
                    }
                };
                self.servers[id].domain = domain;
            }
            self.servers[id].adversary = Some(kind);
            self.servers[id].version = "4.0.2".to_string();
            let profile = &mut self.profiles[id];
            profile.died_day = i64::MAX;
            profile.visibility = 0.0;
        }
    }

    /// Opt-outs that start in the middle of a server's history: the admin adds a
    /// `User-agent: fedicensus` / `Disallow: /` group to robots.txt on a day inside the scenario
    /// (Takahē has a setting that writes exactly that, live fixture
    /// `takahe-0.11.0/robots.txt-with-fedicensus-opt-out`), and one in five removes it again
    /// later. A share `failures.robots_opt_outs` of all servers, weighted four to one towards
    /// small ones (20 users or fewer in December 2022): single admins opt out, big servers rarely
    /// do. Eligible: answering servers without a failure, the named ones and flood hosts
    /// excepted, and neither GoToSocial (whose robots.txt already refuses every crawler, see
    /// [`World::robots_refuses_us`]) nor Mitra (whose robots.txt is an HTML page).
    fn assign_opt_outs(&mut self) {
        let rate = self.config.failures.robots_opt_outs.clamp(0.0, 1.0);
        if rate <= 0.0 {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ TAG_OPT_OUTS);
        let first = day_index(self.config.scenario.start());
        let last = day_index(self.config.scenario.end());
        let december = day_index(self.shape().after()) as f64;
        let real = self.servers.iter().filter(|s| !s.flood).count();
        let mut keyed: Vec<(f64, ServerId)> = self
            .servers
            .iter()
            .filter(|s| {
                let p = &self.profiles[s.id as usize];
                !s.flood
                    && !p.named
                    && s.failure.is_none()
                    && s.software != Software::Gotosocial
                    && !is_mitra(&s.software)
                    && p.born_day < last - 21
                    && p.died_day > first + 21
            })
            .map(|s| {
                let small = self.figures_at(s.id as usize, december).users <= 20;
                let weight: f64 = if small { 4.0 } else { 1.0 };
                // Weighted sampling without replacement (Efraimidis and Spirakis): the largest
                // keys u^(1/w) win.
                let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
                (u.powf(1.0 / weight), s.id)
            })
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let count = stochastic_round(&mut rng, rate * real as f64);
        for (_, id) in keyed.into_iter().take(count) {
            let p = self.profiles[id as usize];
            let from_first = first.max(p.born_day) + 7;
            let from_last = (last - 14).min(p.died_day - 7).max(from_first);
            let from = rng.random_range(from_first..=from_last);
            let until = if rng.random::<f64>() < 0.2 && from + 14 < last {
                Some(date_of(rng.random_range(from + 14..=last)))
            } else {
                None
            };
            self.servers[id as usize].opt_out = Some(OptOut {
                from: date_of(from),
                until,
            });
        }
    }

    /// The assignment order: non-flood servers shuffled, with the named big servers last, so
    /// that they stay healthy unless the rates leave no room.
    fn assignment_order(&self, rng: &mut ChaCha8Rng) -> Vec<ServerId> {
        let mut order: Vec<ServerId> = self
            .servers
            .iter()
            .filter(|s| !s.flood && !self.profiles[s.id as usize].named)
            .map(|s| s.id)
            .collect();
        order.shuffle(rng);
        order.extend(
            self.servers
                .iter()
                .filter(|s| self.profiles[s.id as usize].named)
                .map(|s| s.id),
        );
        order
    }

    /// Failures by exact (stochastically rounded) counts of the mix's shares, so that a rate
    /// of 1.0 gives every server the failure, except the healthy targets `Moved` and
    /// `RedirectOtherHost` need.
    fn assign_failures(&mut self, rng: &mut ChaCha8Rng) {
        let mix = self.config.failures.failures.clone();
        let order = self.assignment_order(rng);
        let total = order.len();
        let redirects = mix
            .iter()
            .any(|(f, r)| matches!(f, Failure::Moved | Failure::RedirectOtherHost) && *r > 0.0);
        let reserved = if redirects { total.min(3) } else { 0 };
        let assignable = total - reserved;
        let mut next = 0;
        for (failure, rate) in &mix {
            let count = stochastic_round(rng, rate.clamp(0.0, 1.0) * total as f64);
            for id in order.iter().skip(next).take(count.min(assignable - next)) {
                self.servers[*id as usize].failure = Some(*failure);
            }
            next = (next + count).min(assignable);
        }
        // Targets: healthy servers that never die, born before the scenario if possible.
        let healthy: Vec<ServerId> = self
            .servers
            .iter()
            .filter(|s| !s.flood && s.failure.is_none())
            .map(|s| s.id)
            .collect();
        let early = day_index(ymd(2022, 6, 1));
        let preferred: Vec<ServerId> = healthy
            .iter()
            .copied()
            .filter(|id| {
                let p = &self.profiles[*id as usize];
                p.died_day == i64::MAX && p.born_day < early
            })
            .collect();
        let pool = if preferred.is_empty() {
            &healthy
        } else {
            &preferred
        };
        for i in 0..self.servers.len() {
            let server = &self.servers[i];
            if matches!(
                server.failure,
                Some(Failure::Moved | Failure::RedirectOtherHost)
            ) && !pool.is_empty()
            {
                self.servers[i].target = Some(pool[rng.random_range(0..pool.len())]);
            }
            if matches!(
                self.servers[i].failure,
                Some(Failure::SsrfPrivate | Failure::SsrfLoopback | Failure::SsrfLinkLocal)
            ) {
                // Bait is only bait if crawlers meet it: every peer list carries it.
                self.profiles[i].visibility = 1.0;
            }
        }
    }

    /// Quirks: each a share of the servers whose software fits it, drawn independently.
    fn assign_quirks(&mut self, rng: &mut ChaCha8Rng) {
        let mix = self.config.failures.quirks.clone();
        let real_servers = self.servers.iter().filter(|s| !s.flood).count();
        for (quirk, rate) in &mix {
            let mut eligible: Vec<ServerId> = self
                .servers
                .iter()
                .filter(|s| {
                    !s.flood
                        && !self.profiles[s.id as usize].named
                        && quirk_fits(*quirk, &s.software)
                        && (*quirk != Quirk::HostileStrings || shows_hostile_strings(s))
                })
                .map(|s| s.id)
                .collect();
            eligible.shuffle(rng);
            eligible.extend(
                self.servers
                    .iter()
                    .filter(|s| {
                        self.profiles[s.id as usize].named && quirk_fits(*quirk, &s.software)
                    })
                    .map(|s| s.id),
            );
            let rate = rate.clamp(0.0, 1.0);
            let mut count = stochastic_round(rng, rate * eligible.len() as f64);
            // A quirk the mix asks for at a share that would touch at least one server of the
            // whole world appears at least once, even when its software is rare.
            if count == 0 && rate > 0.0 && rate * real_servers as f64 >= 1.0 {
                count = 1;
            }
            for id in eligible.iter().take(count) {
                self.servers[*id as usize].quirks.insert(*quirk);
            }
        }
    }

    /// Scales the synthetic Mastodon servers' growth weights and the global activity
    /// multipliers so the calibration targets (times `scale`, the share of the full size) hold
    /// exactly on the target dates.
    fn calibrate(&mut self, scale: f64) {
        let shape = self.shape();
        let t1 = day_index(shape.before()) as f64 + 0.5;
        let t2 = day_index(shape.after()) as f64 + 0.5;
        let curves = self.curves();
        let counted: Vec<usize> = (0..self.servers.len())
            .filter(|i| self.servers[*i].software == shape.primary && !self.servers[*i].flood)
            .collect();
        // Users are linear in (x, y): solve the two equations for the two scales.
        let mut sums = [[0.0f64; 4]; 2]; // [constant, x-part, y-part, named]
        for (row, t) in [t1, t2].iter().enumerate() {
            for &i in &counted {
                if !self.reachable_at(i, *t) {
                    continue;
                }
                let p = &self.profiles[i];
                let b = p.born_day as f64;
                if p.named {
                    sums[row][3] += self.figures_at(i, *t).users as f64;
                } else {
                    sums[row][0] += 1.0;
                    sums[row][1] += p.x * (at(&curves.hs, *t) - at(&curves.hs, b));
                    sums[row][2] += p.y * (at(&curves.hw, *t) - at(&curves.hw, b));
                }
            }
        }
        let r1 = shape.users.0 * scale - sums[0][0] - sums[0][3];
        let r2 = shape.users.1 * scale - sums[1][0] - sums[1][3];
        let det = sums[0][1] * sums[1][2] - sums[1][1] * sums[0][2];
        if det.abs() > 1e-9 {
            let alpha = (r1 * sums[1][2] - r2 * sums[0][2]) / det;
            let beta = (sums[0][1] * r2 - sums[1][1] * r1) / det;
            if alpha.is_finite() && beta.is_finite() && alpha > 0.0 && beta > 0.0 {
                for &i in &counted {
                    let p = &mut self.profiles[i];
                    if !p.named {
                        p.x *= alpha;
                        p.y *= beta;
                    }
                }
            }
        }
        // Monthly actives are nearly linear in (kp, kq); a few fixed-point rounds absorb the
        // rounding, the admin floor and the cap at the registered count.
        let mau_sum = |world: &World, t: f64| -> f64 {
            counted
                .iter()
                .filter(|i| world.reachable_at(**i, t))
                .map(|i| world.figures_at(*i, t).active_month as f64)
                .sum()
        };
        for _ in 0..4 {
            let s1 = mau_sum(self, t1);
            if s1 > 0.0 {
                let factor = shape.mau.0 * scale / s1;
                if factor.is_finite() && factor > 0.0 {
                    self.kp *= factor;
                }
            }
            let saved = self.kq;
            self.kq = 0.0;
            let old_part = mau_sum(self, t2);
            self.kq = saved;
            let s2 = mau_sum(self, t2);
            if s2 - old_part > 0.0 {
                let factor = (shape.mau.1 * scale - old_part) / (s2 - old_part);
                if factor.is_finite() && factor > 0.0 {
                    self.kq *= factor;
                }
            }
        }
    }
}

/// Registered users in early December 2022 of the synthetic Mastodon server at percentile `u`
/// (0 = largest): a Zipf-like top 1 %, a power-law body down to 2 users at the 88th percentile,
/// single-user servers after.
fn mastodon_size_at_percentile(u: f64) -> f64 {
    if u < 0.01 {
        (5_000.0 * (u / 0.01).powf(-0.75)).min(90_000.0)
    } else if u < 0.885 {
        (5_000.0 * (u / 0.01).powf(-1.752)).max(2.0)
    } else {
        1.0
    }
}

/// Splits a December size into weights on the secular and wave curves: servers born before
/// the takeover had most of their users already, those born after got all from the wave.
fn split_growth(
    rng: &mut ChaCha8Rng,
    curves: &Curves,
    shape: &Shape,
    size: f64,
    born: f64,
) -> (f64, f64) {
    if size <= 1.0 {
        return (0.0, 0.0);
    }
    let take = day_index(shape.before()) as f64;
    let december = day_index(shape.after()) as f64;
    let reference = december.max(born + 30.0);
    let dhw = (at(&curves.hw, reference) - at(&curves.hw, born)).max(0.05);
    if born < take {
        let before = 0.45 + 0.45 * rng.random::<f64>();
        let dhs = (at(&curves.hs, take) - at(&curves.hs, born)).max(1.0);
        let x = (size * before - 1.0).max(0.0) / dhs;
        let y = size * (1.0 - before) / dhw;
        (x, y)
    } else {
        (0.0, (size - 1.0) / dhw)
    }
}
