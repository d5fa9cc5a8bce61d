//! Downsampling: thinning old raw observations to the visits every published figure rests on.
//!
//! Raw observations are kept by default, forever. A census that visits 30,000 servers every
//! 6 hours writes about 44 million visits a year, and an operator short of disk may thin the
//! visits older than a date with `fedicensus downsample --before DATE`. What stays is chosen so
//! that **no series, snapshot or export of a series changes**: every definition in
//! `docs/METHODOLOGY.md` is taken as of the end of a UTC day and reads, per server, only the
//! latest visit, the latest successful visit and, per figure, the latest successful visit that
//! reported it (unflagged, for cleaned series) before that instant. So per server and UTC day
//! before the date, this keeps:
//!
//! - the latest visit (of any outcome: the last crawled day), and the latest conclusive one
//!   (not `inconclusive`: "tried after that" in the death rule);
//! - the latest successful visit ("up", deaths dated at the last answer, "new", the software
//!   a server ran), and the latest robots.txt refusal (also an answer; no figure is carried
//!   past it);
//! - for each of `users_total`, `users_active_month` and `local_posts`, the latest successful
//!   visit reporting it, and the latest reporting it without a quality flag on it (the raw and
//!   cleaned carry-forward);
//! - every visit that weekly activity names as its source (provenance of those rows).
//!
//! Everything else of those days goes, with its measurements and quality flags: the other
//! visits' response times and outcomes, and the figures of a day's earlier visits. The
//! conformance suite checks that every series (each metric, day, week and month, by software,
//! raw and cleaned) and every snapshot is the same before and after, on both backends.
//!
//! The work is done a hundred servers to a transaction, so a kill at any moment leaves each
//! server either thinned or untouched; running it again finishes the job and thins nothing
//! twice (the rule keeps what it kept). Each run is recorded in `downsamplings` (the date, when,
//! how many visits went, the rule), moves with the database, and is named in the manifest of
//! every later export.

use crate::db::{count_of, stored_count, stored_instant, Backend, Conn, Sql, Storage};
use crate::error::{Error, Result};
use crate::series::midnight;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{HashMap, HashSet};

/// Servers thinned in one transaction.
const SERVERS_PER_TRANSACTION: usize = 100;
/// Observation ids carried by one JSON parameter of a DELETE.
const IDS_PER_STATEMENT: usize = 20_000;

/// The rule, as recorded with each run and in export manifests.
pub const RULE: &str = "per server and UTC day before the date: the latest visit, the latest \
     conclusive visit, the latest successful visit, the latest robots.txt refusal, and for each of users_total, users_active_month and local_posts the \
     latest successful visit reporting it and the latest reporting it unflagged; and every \
     visit weekly activity names";

/// One run of downsampling, as recorded (and listed in export manifests).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Downsampling {
    /// Visits before the start of this UTC date were thinned.
    pub before: NaiveDate,
    pub started_at: DateTime<Utc>,
    /// `None`: the run was interrupted (running it again finishes it).
    pub finished_at: Option<DateTime<Utc>>,
    pub observations_removed: u64,
    pub rule: String,
}

/// What one run did (or, for a dry run, would do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Downsampled {
    /// Servers with at least one visit before the date.
    pub servers: u64,
    /// Visits before the date, before thinning.
    pub observations_before: u64,
    /// Visits removed (with their measurements and quality flags).
    pub observations_removed: u64,
}

/// One stored visit, as the rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Visit {
    pub(crate) id: i64,
    pub(crate) observed_at: DateTime<Utc>,
    pub(crate) ok: bool,
    /// A robots.txt refusal (an answer without figures).
    pub(crate) refused: bool,
    /// Not `inconclusive`.
    pub(crate) conclusive: bool,
    /// Whether it reported users_total, users_active_month, local_posts.
    pub(crate) reported: [bool; 3],
    /// Whether a quality flag is on each of those figures (or on every figure).
    pub(crate) flagged: [bool; 3],
}

/// The ids the rule keeps among one server's visits (any order).
pub(crate) fn keepers(visits: &[Visit], named_by_activity: &HashSet<i64>) -> HashSet<i64> {
    #[derive(Default)]
    struct Day {
        latest: Option<(DateTime<Utc>, i64)>,
        latest_conclusive: Option<(DateTime<Utc>, i64)>,
        latest_ok: Option<(DateTime<Utc>, i64)>,
        latest_refusal: Option<(DateTime<Utc>, i64)>,
        figure: [Option<(DateTime<Utc>, i64)>; 3],
        unflagged: [Option<(DateTime<Utc>, i64)>; 3],
    }
    fn later(slot: &mut Option<(DateTime<Utc>, i64)>, v: &Visit) {
        if slot.is_none_or(|(at, id)| (v.observed_at, v.id) > (at, id)) {
            *slot = Some((v.observed_at, v.id));
        }
    }
    let mut days: HashMap<NaiveDate, Day> = HashMap::new();
    let mut keep = HashSet::new();
    for v in visits {
        if named_by_activity.contains(&v.id) {
            keep.insert(v.id);
        }
        let day = days.entry(v.observed_at.date_naive()).or_default();
        later(&mut day.latest, v);
        if v.conclusive {
            later(&mut day.latest_conclusive, v);
        }
        if v.refused {
            later(&mut day.latest_refusal, v);
        }
        if !v.ok {
            continue;
        }
        later(&mut day.latest_ok, v);
        for f in 0..3 {
            if v.reported[f] {
                later(&mut day.figure[f], v);
                if !v.flagged[f] {
                    later(&mut day.unflagged[f], v);
                }
            }
        }
    }
    for day in days.values() {
        let chosen = [
            day.latest,
            day.latest_conclusive,
            day.latest_ok,
            day.latest_refusal,
        ]
        .into_iter()
        .chain(day.figure)
        .chain(day.unflagged)
        .flatten();
        keep.extend(chosen.map(|(_, id)| id));
    }
    keep
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: i64,
}

#[derive(sqlx::FromRow)]
struct VisitRow {
    id: i64,
    server_id: i64,
    observed_at: DateTime<Utc>,
    outcome: String,
    users_total: Option<i64>,
    users_active_month: Option<i64>,
    local_posts: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct FlagRow {
    observation_id: i64,
    metric: String,
}

#[derive(sqlx::FromRow)]
struct NamedRow {
    observation_id: i64,
}

#[derive(sqlx::FromRow)]
struct DownsamplingRow {
    before_date: NaiveDate,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    observations_removed: i64,
    rule: String,
}

const FIGURES: [&str; 3] = ["users_total", "users_active_month", "local_posts"];

/// The time since `began`, as a duration to add to an instant.
fn elapsed(began: std::time::Instant) -> chrono::Duration {
    chrono::Duration::from_std(began.elapsed()).unwrap_or(chrono::Duration::zero())
}

/// `SELECT` of the integers in the JSON array parameter `param`.
fn json_ids(backend: Backend, param: &str) -> String {
    match backend {
        Backend::Sqlite => format!("SELECT j.value FROM json_each({param}) AS j"),
        Backend::Postgres => {
            format!(
                "SELECT j.value::bigint FROM json_array_elements_text({param}::json) AS j(value)"
            )
        }
    }
}

/// Thins the visits before `cutoff` of the servers with ids `first..=last`; returns (visits
/// before the cutoff, visits removed, servers with such visits).
async fn thin(
    conn: &mut Conn<'_>,
    first: i64,
    last: i64,
    cutoff: DateTime<Utc>,
    dry_run: bool,
) -> Result<(u64, u64, u64)> {
    let rows = conn
        .fetch_all::<VisitRow>(
            Sql::new(
                "SELECT id, server_id, observed_at, outcome, users_total, users_active_month, \
                 local_posts FROM observations \
                 WHERE server_id >= $1 AND server_id <= $2 AND observed_at < $3 \
                 ORDER BY server_id, observed_at",
            )
            .bind(first)
            .bind(last)
            .bind(cutoff),
            "reading the visits to downsample",
        )
        .await?;
    let mut flagged: HashMap<i64, [bool; 3]> = HashMap::new();
    for row in conn
        .fetch_all::<FlagRow>(
            Sql::new(
                "SELECT q.observation_id, q.metric FROM quality_flags q \
                 JOIN observations o ON o.id = q.observation_id \
                 WHERE o.server_id >= $1 AND o.server_id <= $2 AND o.observed_at < $3",
            )
            .bind(first)
            .bind(last)
            .bind(cutoff),
            "reading the quality flags of the visits to downsample",
        )
        .await?
    {
        let on = flagged.entry(row.observation_id).or_default();
        for (f, name) in FIGURES.iter().enumerate() {
            if row.metric == *name || row.metric == "*" {
                on[f] = true;
            }
        }
    }
    let named: HashSet<i64> = conn
        .fetch_all::<NamedRow>(
            Sql::new(
                "SELECT observation_id FROM activity WHERE server_id >= $1 AND server_id <= $2",
            )
            .bind(first)
            .bind(last),
            "reading which visits weekly activity names",
        )
        .await?
        .into_iter()
        .map(|r| r.observation_id)
        .collect();

    let examined = rows.len() as u64;
    let mut servers = 0;
    let mut remove: Vec<i64> = Vec::new();
    for server in rows.chunk_by(|a, b| a.server_id == b.server_id) {
        servers += 1;
        let visits: Vec<Visit> = server
            .iter()
            .map(|r| Visit {
                id: r.id,
                observed_at: r.observed_at,
                ok: r.outcome == "ok",
                refused: r.outcome == "robots_disallowed",
                conclusive: r.outcome != "inconclusive",
                reported: [
                    r.users_total.is_some(),
                    r.users_active_month.is_some(),
                    r.local_posts.is_some(),
                ],
                flagged: flagged.get(&r.id).copied().unwrap_or_default(),
            })
            .collect();
        let keep = keepers(&visits, &named);
        remove.extend(visits.iter().map(|v| v.id).filter(|id| !keep.contains(id)));
    }
    if dry_run {
        return Ok((examined, remove.len() as u64, servers));
    }

    let mut removed = 0;
    let ids = json_ids(conn.backend(), "$1");
    for chunk in remove.chunks(IDS_PER_STATEMENT) {
        let list = serde_json::to_string(chunk).expect("a list of integers serialises");
        for (table, context) in [
            (
                "quality_flags",
                "removing the quality flags of thinned visits",
            ),
            (
                "measurements",
                "removing the measurements of thinned visits",
            ),
            (
                "observation_languages",
                "removing the declared languages of thinned visits",
            ),
            (
                "observation_geo",
                "removing the locations of thinned visits",
            ),
        ] {
            conn.execute(
                Sql::new(format!(
                    "DELETE FROM {table} WHERE observation_id IN ({ids})"
                ))
                .bind(list.clone()),
                context,
            )
            .await?;
        }
        removed += conn
            .execute(
                Sql::new(format!("DELETE FROM observations WHERE id IN ({ids})")).bind(list),
                "removing thinned visits",
            )
            .await?;
    }
    Ok((examined, removed, servers))
}

impl Storage {
    /// Thins the raw observations made before the start of `before` (UTC) to the visits every
    /// published figure rests on (see the module docs), and records the run as started at `now`
    /// (finished that much later as it took). With `dry_run`,
    /// counts what would go and changes nothing. A date after today is refused: the rule is
    /// exact for whole days only, and today is not over.
    pub async fn downsample(
        &self,
        before: NaiveDate,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<Downsampled> {
        if before > now.date_naive() {
            return Err(Error::InvalidQuery(format!(
                "cannot downsample before {before}: it is after today ({}); give a date up to today",
                now.date_naive()
            )));
        }
        let began = std::time::Instant::now();
        let cutoff = midnight(before);
        let servers: Vec<i64> = {
            let mut conn = self.acquire().await?;
            conn.conn()
                .fetch_all::<IdRow>(
                    Sql::new("SELECT id FROM servers ORDER BY id"),
                    "listing servers to downsample",
                )
                .await?
                .into_iter()
                .map(|r| r.id)
                .collect()
        };

        let run = if dry_run {
            None
        } else {
            let mut tx = self.begin().await?;
            let row = tx
                .conn()
                .fetch_one::<IdRow>(
                    Sql::new(
                        "INSERT INTO downsamplings (before_date, started_at, finished_at, \
                         observations_removed, rule) VALUES ($1, $2, NULL, 0, $3) RETURNING id",
                    )
                    .bind(before)
                    .bind(stored_instant(now))
                    .bind(RULE),
                    "recording a downsampling",
                )
                .await?;
            tx.commit().await?;
            Some(row.id)
        };

        let mut done = Downsampled::default();
        for chunk in servers.chunks(SERVERS_PER_TRANSACTION) {
            let (first, last) = (chunk[0], chunk[chunk.len() - 1]);
            let mut tx = if dry_run {
                self.begin_read().await?
            } else {
                self.begin().await?
            };
            let (examined, removed, with_visits) =
                thin(&mut tx.conn(), first, last, cutoff, dry_run).await?;
            if let Some(run) = run {
                tx.conn()
                    .execute(
                        Sql::new(
                            "UPDATE downsamplings SET observations_removed = \
                             observations_removed + $1 WHERE id = $2",
                        )
                        .bind(stored_count(removed))
                        .bind(run),
                        "counting a downsampling's removals",
                    )
                    .await?;
                tx.commit().await?;
            }
            done.servers += with_visits;
            done.observations_before += examined;
            done.observations_removed += removed;
        }

        if let Some(run) = run {
            let mut tx = self.begin().await?;
            tx.conn()
                .execute(
                    Sql::new("UPDATE downsamplings SET finished_at = $1 WHERE id = $2")
                        .bind(stored_instant(now + elapsed(began)))
                        .bind(run),
                    "finishing a downsampling",
                )
                .await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    /// Every downsampling run, oldest first (none: the observations are all raw).
    pub async fn downsamplings(&self) -> Result<Vec<Downsampling>> {
        let mut conn = self.acquire().await?;
        downsamplings(&mut conn.conn()).await
    }
}

pub(crate) async fn downsamplings(conn: &mut Conn<'_>) -> Result<Vec<Downsampling>> {
    Ok(conn
        .fetch_all::<DownsamplingRow>(
            Sql::new(
                "SELECT before_date, started_at, finished_at, observations_removed, rule \
                 FROM downsamplings ORDER BY id",
            ),
            "listing downsamplings",
        )
        .await?
        .into_iter()
        .map(|r| Downsampling {
            before: r.before_date,
            started_at: r.started_at,
            finished_at: r.finished_at,
            observations_removed: count_of(r.observations_removed),
            rule: r.rule,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 11, day, hour, 0, 0)
            .single()
            .expect("a valid instant")
    }

    fn visit(id: i64, day: u32, hour: u32, ok: bool, reported: [bool; 3]) -> Visit {
        Visit {
            id,
            observed_at: at(day, hour),
            ok,
            refused: false,
            conclusive: true,
            reported,
            flagged: [false; 3],
        }
    }

    const ALL: [bool; 3] = [true, true, true];

    #[test]
    fn a_day_of_four_successes_keeps_only_its_latest() {
        let visits: Vec<Visit> = (0..4)
            .map(|h| visit(h, 1, h as u32 * 6, true, ALL))
            .collect();
        assert_eq!(keepers(&visits, &HashSet::new()), HashSet::from([3]));
    }

    #[test]
    fn a_failure_after_the_last_success_of_a_day_is_kept_with_it() {
        let visits = [
            visit(1, 1, 0, true, ALL),
            visit(2, 1, 6, true, ALL),
            visit(3, 1, 12, false, [false; 3]),
            visit(4, 1, 18, false, [false; 3]),
        ];
        assert_eq!(keepers(&visits, &HashSet::new()), HashSet::from([2, 4]));
    }

    #[test]
    fn a_figure_reported_only_early_in_the_day_keeps_that_visit() {
        // Monthly actives reported at 06:00 only; the later successes lack them.
        let visits = [
            visit(1, 1, 6, true, ALL),
            visit(2, 1, 12, true, [true, false, true]),
            visit(3, 1, 18, true, [true, false, true]),
        ];
        assert_eq!(keepers(&visits, &HashSet::new()), HashSet::from([1, 3]));
    }

    #[test]
    fn a_flagged_latest_figure_keeps_the_latest_unflagged_one_too() {
        let mut jump = visit(2, 1, 18, true, ALL);
        jump.flagged = [true, false, false];
        let visits = [visit(1, 1, 6, true, ALL), jump];
        assert_eq!(keepers(&visits, &HashSet::new()), HashSet::from([1, 2]));
    }

    #[test]
    fn each_day_is_thinned_on_its_own_and_activity_sources_stay() {
        let visits = [
            visit(1, 1, 6, true, ALL),
            visit(2, 1, 18, true, ALL),
            visit(3, 2, 6, true, ALL),
            visit(4, 2, 18, true, ALL),
        ];
        assert_eq!(
            keepers(&visits, &HashSet::from([1])),
            HashSet::from([1, 2, 4])
        );
    }

    #[test]
    fn what_the_rule_keeps_it_keeps_again() {
        let mut visits = vec![
            visit(1, 1, 0, true, ALL),
            visit(2, 1, 6, true, [true, false, false]),
            visit(3, 1, 12, false, [false; 3]),
            visit(4, 2, 3, true, ALL),
            visit(5, 2, 9, false, [false; 3]),
        ];
        visits[1].flagged = [false, false, true];
        let once = keepers(&visits, &HashSet::new());
        let kept: Vec<Visit> = visits
            .iter()
            .copied()
            .filter(|v| once.contains(&v.id))
            .collect();
        assert_eq!(keepers(&kept, &HashSet::new()), once);
    }
}
