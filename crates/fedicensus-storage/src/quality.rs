//! Data-quality checks, run when an observation is recorded.
//!
//! Servers report numbers nobody checks: Calckey servers jump from 2 to 10,000 users overnight,
//! Lemmy counts remote users as its own, GoToSocial's "baffle" mode serves random numbers on
//! purpose. We keep every number as reported (traceability) and attach flags that say what looks
//! wrong and why; cleaned series leave flagged values out and count them. The checks are pure
//! functions of the new observation and the server's previous successful one, so they are unit
//! tested here and behave identically on both backends. Thresholds are `pub const` so the
//! methodology can cite them.

use chrono::{DateTime, Duration, Utc};
use fedicensus_core::{Metric, Observation, Software, Source};

/// A change of at least this factor (up or down) between two visits close together is implausible.
pub const JUMP_FACTOR: f64 = 10.0;
/// Two visits at most this far apart are compared for jumps ("tenfold in a day", plus jitter).
pub const JUMP_WINDOW: Duration = Duration::hours(48);
/// Jumps among small numbers (3 to 30 users) are normal; the larger value must reach this.
pub const JUMP_MIN_VALUE: u64 = 100;
/// More users than any server has ever had (mastodon.social had under 3 million in 2024).
pub const ABSURD_USERS: u64 = 50_000_000;
/// More posts than any server has plausibly written.
pub const ABSURD_POSTS: u64 = 5_000_000_000;
/// NodeInfo and the instance API disagreeing by more than this share of the larger value.
pub const SOURCE_DISAGREEMENT: f64 = 0.10;
/// ... and by at least this many, so that 9 vs 10 users is not a disagreement.
pub const SOURCE_DISAGREEMENT_MIN: u64 = 10;
/// GoToSocial serves a handful of people per server; beyond this many users it is baffle noise.
pub const GOTOSOCIAL_MAX_PLAUSIBLE_USERS: u64 = 5_000;
/// Lemmy's remote-user pattern: registered users more than this many times the monthly actives.
pub const LEMMY_REMOTE_RATIO: u64 = 200;
/// ... on a server reporting at least this many users.
pub const LEMMY_REMOTE_MIN_USERS: u64 = 1_000;
/// A change of at least this factor (two orders of magnitude) against the server's previous
/// successful visit, however long ago, is a sudden jump beyond the server's own history ...
pub const HISTORY_JUMP_FACTOR: f64 = 100.0;
/// ... when the larger value reaches this many (a new server's first hundred users are growth).
pub const HISTORY_JUMP_MIN_VALUE: u64 = 100_000;
/// A user count this large is a *large claim* when its host shares a registrable domain (Public
/// Suffix List) with other hosts ...
pub const SIBLING_LARGE_USERS: u64 = 10_000;
/// ... and one registrable domain may have at most this many hosts making large claims at once:
/// with more, every large claim among them is flagged (24 subdomains of one domain each claiming
/// millions is one party inflating the census; a family of small servers never reaches this).
pub const SIBLINGS_MAX_LARGE: usize = 2;
/// A user count above this many times the users of every other registrable domain of the census
/// together is far beyond the fediverse's total ...
pub const BEYOND_TOTAL_FACTOR: f64 = 2.0;
/// ... when it is at least this large (a small census is no measure of a large server) ...
pub const BEYOND_TOTAL_MIN_USERS: u64 = 1_000_000;
/// ... and that total rests on at least this many servers (the first visits of a new census,
/// made before it knows the fediverse, never flag the seeds).
pub const BEYOND_TOTAL_MIN_SERVERS: u64 = 100;

/// What kind of doubt a flag expresses. Stable names are stored and exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QualityKind {
    /// A tenfold change within a day or two.
    ImplausibleJump,
    /// Monthly actives above registered users.
    ActiveExceedsTotal,
    /// A value no real server reaches.
    AbsurdValue,
    /// NodeInfo and the instance API disagree by more than [`SOURCE_DISAGREEMENT`].
    SourcesDisagree,
    /// GoToSocial's baffle mode (random numbers served to crawlers).
    RandomisedCounts,
    /// Calckey-style inflation of the user count.
    InflatedUsers,
    /// Lemmy counting remote users as registered users.
    RemoteUsersCounted,
    /// More than [`SIBLINGS_MAX_LARGE`] hosts of one registrable domain claim large user counts.
    SiblingClaims,
    /// A user count far beyond the rest of the census together ([`BEYOND_TOTAL_FACTOR`]).
    BeyondCensusTotal,
}

impl QualityKind {
    /// Every kind, in a stable order.
    pub const ALL: [QualityKind; 9] = [
        QualityKind::ImplausibleJump,
        QualityKind::ActiveExceedsTotal,
        QualityKind::AbsurdValue,
        QualityKind::SourcesDisagree,
        QualityKind::RandomisedCounts,
        QualityKind::InflatedUsers,
        QualityKind::RemoteUsersCounted,
        QualityKind::SiblingClaims,
        QualityKind::BeyondCensusTotal,
    ];

    /// The stable name stored and exported.
    pub fn as_str(&self) -> &'static str {
        match self {
            QualityKind::ImplausibleJump => "implausible_jump",
            QualityKind::ActiveExceedsTotal => "active_exceeds_total",
            QualityKind::AbsurdValue => "absurd_value",
            QualityKind::SourcesDisagree => "sources_disagree",
            QualityKind::RandomisedCounts => "randomised_counts",
            QualityKind::InflatedUsers => "inflated_users",
            QualityKind::RemoteUsersCounted => "remote_users_counted",
            QualityKind::SiblingClaims => "sibling_claims",
            QualityKind::BeyondCensusTotal => "beyond_census_total",
        }
    }

    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<QualityKind> {
        QualityKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for QualityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One doubt about one figure of one observation (`metric: None` means every figure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityFlag {
    pub kind: QualityKind,
    pub metric: Option<Metric>,
    pub reason: String,
}

/// The stored name of a flag's metric: the metric's own, or `*` for every figure.
pub(crate) fn metric_column(metric: Option<Metric>) -> &'static str {
    metric.map_or("*", |m| m.as_str())
}

/// The headline figures of a server's previous successful visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Previous {
    pub observed_at: Option<DateTime<Utc>>,
    pub users_total: Option<u64>,
    pub users_active_month: Option<u64>,
    pub local_posts: Option<u64>,
}

fn value_of(obs: &Observation, metric: Metric, source: Source) -> Option<u64> {
    obs.measurements
        .iter()
        .find(|m| m.metric == metric && m.source == source)
        .map(|m| m.value)
}

fn jump(before: u64, after: u64, factor: f64, min_value: u64) -> bool {
    let (lo, hi) = if before <= after {
        (before, after)
    } else {
        (after, before)
    };
    hi >= min_value && (hi as f64) >= factor * (lo.max(1) as f64)
}

/// Every flag for `obs`, given the server's previous successful visit.
pub fn check(obs: &Observation, previous: &Previous) -> Vec<QualityFlag> {
    let mut flags = Vec::new();
    if !obs.outcome.is_ok() {
        return flags;
    }
    let family = obs.software.as_ref().map(|s| &s.family);
    let total = obs.best(Metric::UsersTotal);
    let active = obs.best(Metric::UsersActiveMonth);
    let posts = obs.best(Metric::LocalPosts);

    // Absurd values first: a value beyond reason needs no history to be doubted.
    for (metric, value, limit) in [
        (Metric::UsersTotal, total, ABSURD_USERS),
        (Metric::UsersActiveMonth, active, ABSURD_USERS),
        (Metric::LocalPosts, posts, ABSURD_POSTS),
    ] {
        if let Some(v) = value.filter(|v| *v > limit) {
            flags.push(QualityFlag {
                kind: QualityKind::AbsurdValue,
                metric: Some(metric),
                reason: format!("{} = {v} exceeds {limit}", metric.as_str()),
            });
        }
    }

    if let (Some(a), Some(t)) = (active, total) {
        if a > t {
            flags.push(QualityFlag {
                kind: QualityKind::ActiveExceedsTotal,
                metric: Some(Metric::UsersActiveMonth),
                reason: format!("users_active_month {a} > users_total {t}"),
            });
        }
    }

    let recent = previous
        .observed_at
        .is_some_and(|t| obs.observed_at > t && obs.observed_at - t <= JUMP_WINDOW);
    let earlier = previous.observed_at.is_some_and(|t| obs.observed_at > t);
    let mut users_jumped = false;
    for (metric, before, after) in [
        (Metric::UsersTotal, previous.users_total, total),
        (
            Metric::UsersActiveMonth,
            previous.users_active_month,
            active,
        ),
        (Metric::LocalPosts, previous.local_posts, posts),
    ] {
        let (Some(b), Some(a)) = (before, after) else {
            continue;
        };
        // Tenfold within two days, or a hundredfold against the server's history however long
        // ago (a server silent for a month does not come back a hundred times larger).
        let reason = if recent && jump(b, a, JUMP_FACTOR, JUMP_MIN_VALUE) {
            format!(
                "{} went from {b} to {a} within {} hours",
                metric.as_str(),
                JUMP_WINDOW.num_hours()
            )
        } else if earlier && jump(b, a, HISTORY_JUMP_FACTOR, HISTORY_JUMP_MIN_VALUE) {
            format!(
                "{} went from {b} to {a} since the previous successful visit (a factor of \
                 {HISTORY_JUMP_FACTOR:.0} or more)",
                metric.as_str()
            )
        } else {
            continue;
        };
        users_jumped |= metric == Metric::UsersTotal;
        flags.push(QualityFlag {
            kind: QualityKind::ImplausibleJump,
            metric: Some(metric),
            reason,
        });
    }

    let mut disagreeing_users = false;
    for metric in [Metric::UsersTotal, Metric::LocalPosts] {
        let nodeinfo = value_of(obs, metric, Source::NodeInfo);
        let api = value_of(obs, metric, Source::InstanceV1)
            .or_else(|| value_of(obs, metric, Source::InstanceV2));
        if let (Some(n), Some(i)) = (nodeinfo, api) {
            let diff = n.abs_diff(i);
            let larger = n.max(i);
            if diff >= SOURCE_DISAGREEMENT_MIN && diff as f64 > SOURCE_DISAGREEMENT * larger as f64
            {
                disagreeing_users |= metric == Metric::UsersTotal;
                flags.push(QualityFlag {
                    kind: QualityKind::SourcesDisagree,
                    metric: Some(metric),
                    reason: format!(
                        "{}: NodeInfo says {n}, the instance API {i} (more than {:.0} % apart)",
                        metric.as_str(),
                        SOURCE_DISAGREEMENT * 100.0
                    ),
                });
            }
        }
    }

    match family {
        Some(Software::Gotosocial) => {
            let posts_fell = recent
                && matches!((previous.local_posts, posts), (Some(b), Some(a)) if a.saturating_mul(2) < b && b >= JUMP_MIN_VALUE);
            if let Some(t) = total.filter(|t| *t > GOTOSOCIAL_MAX_PLAUSIBLE_USERS) {
                flags.push(QualityFlag {
                    kind: QualityKind::RandomisedCounts,
                    metric: None,
                    reason: format!(
                        "GoToSocial reporting {t} users (more than {GOTOSOCIAL_MAX_PLAUSIBLE_USERS}): \
                         its baffle mode serves random numbers"
                    ),
                });
            } else if posts_fell {
                flags.push(QualityFlag {
                    kind: QualityKind::RandomisedCounts,
                    metric: None,
                    reason: "GoToSocial's post count more than halved since the last visit: \
                             its baffle mode serves random numbers"
                        .into(),
                });
            }
        }
        Some(s) if s.is_misskey_family() && (users_jumped || disagreeing_users) => {
            flags.push(QualityFlag {
                kind: QualityKind::InflatedUsers,
                metric: Some(Metric::UsersTotal),
                reason: format!(
                    "{s} user count jumps or disagrees between sources: the Calckey-style \
                     inflation that counts every known user"
                ),
            });
        }
        Some(Software::Lemmy) => {
            if let Some(t) = total.filter(|t| *t >= LEMMY_REMOTE_MIN_USERS) {
                let a = active.unwrap_or(0).max(1);
                if t > LEMMY_REMOTE_RATIO * a {
                    flags.push(QualityFlag {
                        kind: QualityKind::RemoteUsersCounted,
                        metric: Some(Metric::UsersTotal),
                        reason: format!(
                            "Lemmy reporting {t} users for {a} monthly actives (more than \
                             {LEMMY_REMOTE_RATIO} to 1): its NodeInfo counts remote users"
                        ),
                    });
                }
            }
        }
        _ => {}
    }
    flags
}

/// Flags a large claim when its registrable domain has too many hosts making large claims.
/// `large_hosts` counts the hosts of `registrable` (this one included) whose latest user count
/// is at least [`SIBLING_LARGE_USERS`].
pub fn check_siblings(
    registrable: &str,
    users_total: u64,
    large_hosts: usize,
) -> Option<QualityFlag> {
    (users_total >= SIBLING_LARGE_USERS && large_hosts > SIBLINGS_MAX_LARGE).then(|| QualityFlag {
        kind: QualityKind::SiblingClaims,
        metric: None,
        reason: format!(
            "{large_hosts} hosts of {registrable} claim {SIBLING_LARGE_USERS} users or more \
             each (at most {SIBLINGS_MAX_LARGE} are plausible)"
        ),
    })
}

/// The users of the rest of the census, as its cleaned series would count them at the instant
/// of a claim: every other registrable domain's latest unflagged count in the carry-forward
/// window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CensusTotal {
    pub users: u64,
    pub servers: u64,
}

/// Flags a user count far beyond the rest of the census together. Without a census of at least
/// [`BEYOND_TOTAL_MIN_SERVERS`] servers there is no measure, and nothing is flagged.
pub fn check_beyond_total(users_total: u64, others: CensusTotal) -> Option<QualityFlag> {
    let beyond = users_total >= BEYOND_TOTAL_MIN_USERS
        && others.servers >= BEYOND_TOTAL_MIN_SERVERS
        && users_total as f64 > BEYOND_TOTAL_FACTOR * others.users as f64;
    beyond.then(|| QualityFlag {
        kind: QualityKind::BeyondCensusTotal,
        metric: None,
        reason: format!(
            "users_total = {users_total} is more than {BEYOND_TOTAL_FACTOR:.0} times the {} users \
             of the {} other servers counted",
            others.users, others.servers
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use fedicensus_core::{Host, Measurement, Outcome, SoftwareReport};

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 11, day, 12, 0, 0)
            .single()
            .expect("a valid date")
    }

    fn obs(family: Software, day: u32, figures: &[(Metric, Source, u64)]) -> Observation {
        let mut o =
            Observation::failed(Host::from_normalised("a.example"), at(day), Outcome::Ok, 5);
        o.software = Some(SoftwareReport {
            raw_name: family.as_str().to_owned(),
            family,
            raw_version: "1.0.0".into(),
            version: Some("1.0.0".into()),
        });
        o.measurements = figures
            .iter()
            .map(|&(metric, source, value)| Measurement {
                metric,
                source,
                value,
            })
            .collect();
        o
    }

    fn kinds(flags: &[QualityFlag]) -> Vec<QualityKind> {
        flags.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_tenfold_jump_within_a_day_is_flagged_and_slow_growth_is_not() {
        let previous = Previous {
            observed_at: Some(at(1)),
            users_total: Some(200),
            ..Previous::default()
        };
        let jumped = obs(
            Software::Mastodon,
            2,
            &[(Metric::UsersTotal, Source::NodeInfo, 2_000)],
        );
        assert_eq!(
            kinds(&check(&jumped, &previous)),
            [QualityKind::ImplausibleJump]
        );
        let grew = obs(
            Software::Mastodon,
            2,
            &[(Metric::UsersTotal, Source::NodeInfo, 260)],
        );
        assert!(check(&grew, &previous).is_empty());
        let later = obs(
            Software::Mastodon,
            20,
            &[(Metric::UsersTotal, Source::NodeInfo, 2_000)],
        );
        assert!(check(&later, &previous).is_empty(), "weeks apart is growth");
    }

    #[test]
    fn more_actives_than_users_is_flagged_on_the_actives() {
        let o = obs(
            Software::Mastodon,
            2,
            &[
                (Metric::UsersTotal, Source::NodeInfo, 10),
                (Metric::UsersActiveMonth, Source::NodeInfo, 11),
            ],
        );
        let flags = check(&o, &Previous::default());
        assert_eq!(kinds(&flags), [QualityKind::ActiveExceedsTotal]);
        assert_eq!(flags[0].metric, Some(Metric::UsersActiveMonth));
    }

    #[test]
    fn absurd_values_and_disagreeing_sources_are_flagged() {
        let o = obs(
            Software::Mastodon,
            2,
            &[
                (Metric::UsersTotal, Source::NodeInfo, 60_000_000),
                (Metric::UsersTotal, Source::InstanceV1, 1_000),
            ],
        );
        assert_eq!(
            kinds(&check(&o, &Previous::default())),
            [QualityKind::AbsurdValue, QualityKind::SourcesDisagree]
        );
    }

    #[test]
    fn known_fakes_are_recognised() {
        let baffle = obs(
            Software::Gotosocial,
            2,
            &[(Metric::UsersTotal, Source::NodeInfo, 734_112)],
        );
        assert_eq!(
            kinds(&check(&baffle, &Previous::default())),
            [QualityKind::RandomisedCounts]
        );
        let lemmy = obs(
            Software::Lemmy,
            2,
            &[
                (Metric::UsersTotal, Source::NodeInfo, 74_234),
                (Metric::UsersActiveMonth, Source::NodeInfo, 5),
            ],
        );
        assert_eq!(
            kinds(&check(&lemmy, &Previous::default())),
            [QualityKind::RemoteUsersCounted]
        );
        let calckey = obs(
            Software::Calckey,
            2,
            &[
                (Metric::UsersTotal, Source::NodeInfo, 2),
                (Metric::UsersTotal, Source::InstanceV1, 10_002),
            ],
        );
        assert_eq!(
            kinds(&check(&calckey, &Previous::default())),
            [QualityKind::SourcesDisagree, QualityKind::InflatedUsers]
        );
    }

    #[test]
    fn a_hundredfold_jump_is_flagged_however_long_ago_the_previous_visit_was() {
        let previous = Previous {
            observed_at: Some(at(1)),
            users_total: Some(500),
            ..Previous::default()
        };
        let jumped = obs(
            Software::Mastodon,
            25,
            &[(Metric::UsersTotal, Source::NodeInfo, 40_000_000)],
        );
        assert_eq!(
            kinds(&check(&jumped, &previous)),
            [QualityKind::ImplausibleJump]
        );
        // Growth of a small server, even fast, stays under the history rule's floor.
        let grew = obs(
            Software::Mastodon,
            25,
            &[(Metric::UsersTotal, Source::NodeInfo, 50_000)],
        );
        assert!(check(&grew, &previous).is_empty());
        // mastodon.social growing by half in a month is no jump.
        let large = Previous {
            observed_at: Some(at(1)),
            users_total: Some(1_400_000),
            ..Previous::default()
        };
        let social = obs(
            Software::Mastodon,
            25,
            &[(Metric::UsersTotal, Source::NodeInfo, 2_000_000)],
        );
        assert!(check(&social, &large).is_empty());
    }

    #[test]
    fn many_hosts_of_one_domain_with_large_claims_are_flagged_and_a_family_of_small_ones_is_not() {
        let flag = check_siblings("inflate.example", 30_000_000, 24).expect("24 large siblings");
        assert_eq!(flag.kind, QualityKind::SiblingClaims);
        assert_eq!(flag.metric, None, "every figure of such a visit is doubted");
        // Exactly at the limit: two large hosts of one domain (a main server and its twin).
        assert_eq!(check_siblings("two.example", 2_000_000, 2), None);
        assert!(check_siblings("three.example", SIBLING_LARGE_USERS, 3).is_some());
        // A family of 30 small servers under one domain: none of their claims is large.
        assert_eq!(
            check_siblings("family.example", SIBLING_LARGE_USERS - 1, 0),
            None
        );
        assert_eq!(check_siblings("family.example", 120, 0), None);
        // A lone large server.
        assert_eq!(check_siblings("mastodon.social", 2_000_000, 1), None);
    }

    #[test]
    fn a_claim_far_beyond_the_rest_of_the_census_is_flagged_and_mastodon_social_is_not() {
        let fediverse = CensusTotal {
            users: 8_000_000,
            servers: 12_000,
        };
        let flag = check_beyond_total(40_000_000, fediverse).expect("5 times the fediverse");
        assert_eq!(flag.kind, QualityKind::BeyondCensusTotal);
        assert_eq!(
            check_beyond_total(2_000_000, fediverse),
            None,
            "mastodon.social"
        );
        assert_eq!(
            check_beyond_total(16_000_000, fediverse),
            None,
            "exactly twice"
        );
        assert!(check_beyond_total(16_000_001, fediverse).is_some());
        // A census that has found few servers yet (the seeds' first visits) is no measure.
        let young = CensusTotal {
            users: 1_000,
            servers: BEYOND_TOTAL_MIN_SERVERS - 1,
        };
        assert_eq!(check_beyond_total(2_000_000, young), None);
        // A small world's largest server is below the floor, whatever its share.
        let small = CensusTotal {
            users: 100_000,
            servers: 500,
        };
        assert_eq!(check_beyond_total(BEYOND_TOTAL_MIN_USERS - 1, small), None);
    }

    #[test]
    fn failed_visits_have_no_flags() {
        let o = Observation::failed(
            Host::from_normalised("a.example"),
            at(2),
            Outcome::Timeout,
            5,
        );
        assert!(check(&o, &Previous::default()).is_empty());
    }
}
