//! The definitions behind every published number, as constants the code uses and
//! `docs/METHODOLOGY.md` explains. Changing any of them changes the published history, so it
//! changes [`METHODOLOGY_VERSION`] too (exports carry the version in their manifest).

use chrono::Duration;

/// The version of the definitions below. Bump it with any change to them or to how series are
/// computed, and describe the change in `docs/METHODOLOGY.md`.
pub const METHODOLOGY_VERSION: &str = "7";

/// A server is "up" on a date if it answered (outcome `ok`, or a robots.txt that refuses
/// fedicensus: [`ANSWERED`]) at least once in this many days ending with that date.
pub const UP_WINDOW: Duration = Duration::days(7);

/// A figure (users, posts) counts on a date if the server reported it in a successful visit at
/// most this long before the end of that date; the latest such report is used.
pub const CARRY_FORWARD: Duration = Duration::days(30);

/// A server is dead once it has not answered for this long and we have tried since (an
/// `inconclusive` visit is not a try). Its death is dated at its last answer.
pub const DEATH_AFTER: Duration = Duration::days(14);

/// SQL condition on `outcome`: the visit is an answer of a running server, a successful visit or
/// a robots.txt that refuses fedicensus ([`fedicensus_core::Outcome::answered`]).
pub(crate) const ANSWERED: &str = "outcome IN ('ok', 'robots_disallowed')";

/// SQL condition on `outcome`: the visit says something about the server (not `inconclusive`,
/// the crawler's own overload; [`fedicensus_core::Outcome::is_conclusive`]).
pub(crate) const CONCLUSIVE: &str = "outcome <> 'inconclusive'";

/// The outcomes of a visit that confirms a server exists: any conclusive visit that reached it
/// (not a name that does not resolve, nor one resolving only to refused addresses). A server is
/// counted in `servers_known` from its first such visit (`servers.first_confirmed_at`, migration
/// 0031); a name merely mentioned in a peer list counts in `servers_mentioned` only.
pub(crate) const CONFIRMING_OUTCOMES_EXCLUDED: [&str; 3] =
    ["no_such_domain", "forbidden_address", "inconclusive"];

/// Whether a visit with this outcome confirms its server ([`CONFIRMING_OUTCOMES_EXCLUDED`]).
pub(crate) fn confirms(outcome: &fedicensus_core::Outcome) -> bool {
    !CONFIRMING_OUTCOMES_EXCLUDED.contains(&outcome.as_str().as_str())
}

/// Share of servers (the largest ones) in the "largest 1 %" concentration measure.
pub const TOP_SHARE: f64 = 0.01;

/// Number of servers in the "largest N" concentration measure.
pub const TOP_N: usize = 10;

/// The estimator of the coverage series (`crate::coverage`, `docs/METHODOLOGY.md`, "Coverage"):
/// reporters split into this many groups by a hash of their domain, the groups' captures read
/// as incidence samples.
pub const COVERAGE_ESTIMATOR: crate::coverage::Estimator =
    crate::coverage::Estimator::Chao2 { groups: 8 };
