//! Bulk loading: many visits recorded with a handful of multi-row statements instead of about
//! seven statements each.
//!
//! [`Storage::ingest_bulk`] stores exactly what recording the same visits one by one (in time
//! order per server) with [`Transaction::record_observation`] would: the server rows, each
//! observation with its measurements, weekly activity, peer edges and discovered servers, the
//! quality flags (checked against each server's previous successful visit, in the database or
//! earlier in the batch) and every server's cached state and schedule. It gets there by grouping
//! the batch per server and writing each table once per batch: `INSERT ... VALUES (...), (...)`
//! with up to a few thousand rows a statement (prepared once and reused by sqlx's statement
//! cache), and one `UPDATE ... FROM (VALUES ...)` for the servers' state.
//!
//! The fast path needs every visit of a server to be newer than anything stored for it, which is
//! how a crawler or a time-ordered import writes. A server whose batch replays older visits, and
//! a batch in which a server first appears in a peer list before its own visit, are recorded
//! through the one-by-one path instead, so the result is the same either way.

use crate::db::{
    count_of, json_rows_sql, stored_count, stored_instant, Backend, Conn, Sql, Storage, Transaction,
};
use crate::error::Result;
use crate::methodology::{confirms, CONFIRMING_OUTCOMES_EXCLUDED};
use crate::observations::{default_next_due, record_observation, status_after, Recorded, RunId};
use crate::peers::record_peer_list;
use crate::plausibility::{self, Claim};
use crate::quality::{self, metric_column, Previous, QualityFlag};
use crate::servers::{insert_servers, json_names, record_sibling, IdRow, ServerStatus, SEED};
use chrono::{DateTime, SecondsFormat, Utc};
use fedicensus_core::{Host, Metric, Observation};
use std::collections::{HashMap, HashSet};

/// Observations carried in one JSON parameter (a few MB of text).
const OBSERVATION_ROWS: usize = 10_000;
/// Rows in one multi-row INSERT of the narrow tables (4 to 7 parameters a row).
const NARROW_ROWS: usize = 4_000;
/// Rows in one statement on the servers table (up to 10 parameters a row).
const SERVER_ROWS: usize = 1_000;
/// Rows carried in one JSON parameter (a few MB of text at most).
const JSON_ROWS: usize = 20_000;

/// The observation columns written in bulk, in the order of each JSON row, with their
/// PostgreSQL types.
const OBSERVATION_JSON_COLUMNS: &[(&str, &str)] = &[
    ("server_id", "bigint"),
    ("observed_at", "timestamptz"),
    ("outcome", "text"),
    ("duration_ms", "bigint"),
    ("nodeinfo_version", "text"),
    ("software_raw_name", "text"),
    ("software_raw_version", "text"),
    ("software_family", "text"),
    ("software_version", "text"),
    ("open_registrations", "boolean"),
    ("flag_private", "boolean"),
    ("flag_noindex", "boolean"),
    ("flag_limited_federation", "boolean"),
    ("flag_peers_hidden", "boolean"),
    ("moved_to", "text"),
    ("peer_count", "bigint"),
    ("users_total", "bigint"),
    ("users_active_month", "bigint"),
    ("local_posts", "bigint"),
    ("crawl_run_id", "bigint"),
];

#[derive(serde::Deserialize, Clone)]
struct StateRow {
    id: i64,
    domain: String,
    first_seen: DateTime<Utc>,
    status: String,
    last_observed_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    last_answered_at: Option<DateTime<Utc>>,
    first_confirmed_at: Option<DateTime<Utc>>,
    last_outcome: Option<String>,
    consecutive_failures: i64,
    /// The figures of the latest successful visit.
    previous_users_total: Option<i64>,
    previous_users_active_month: Option<i64>,
    previous_local_posts: Option<i64>,
}

#[derive(serde::Deserialize)]
struct InsertedRow {
    id: i64,
    server_id: i64,
    observed_at: DateTime<Utc>,
}

/// `(a, b, c), (d, e, f), ...`: `rows` groups of `width` parameters, numbered in order.
///
/// SQLite gets anonymous `?` parameters: looking a named one (`$n`) up is a linear search in
/// SQLite (`sqlite3_bind_parameter_name`), which makes binding thousands of them quadratic; `?`s
/// are numbered in order, which is the order the values are bound in here.
pub(crate) fn placeholders(backend: Backend, rows: usize, width: usize) -> String {
    let mut text = String::with_capacity(rows * width * 7);
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for col in 0..width {
            if col > 0 {
                text.push_str(", ");
            }
            n += 1;
            match backend {
                Backend::Sqlite => text.push('?'),
                Backend::Postgres => {
                    text.push('$');
                    text.push_str(&n.to_string());
                }
            }
        }
        text.push(')');
    }
    text
}

/// Rows to write, carried to the database as one JSON array of arrays in one parameter.
///
/// Binding every value as its own parameter costs about 0.7 µs a value through sqlx on SQLite
/// (20 a visit); one text parameter that the database unpacks itself (`jsonb_each` on SQLite,
/// `jsonb_array_elements` on PostgreSQL) costs a fraction of that. Binary JSON matters on both:
/// each row is handed over parsed, so reading its 20 values does not parse the row's text 20
/// times (SQLite, a pass of 2,000 visits: 58 to 41 ms; PostgreSQL's `json ->> n` scans the
/// text from its start for every value). Instants are written as
/// sqlx writes a `DateTime<Utc>` on SQLite (RFC 3339, `+00:00`), so the stored text is the same
/// whichever path wrote a row; PostgreSQL casts the same text to TIMESTAMPTZ.
struct JsonRows {
    text: Vec<u8>,
    /// Values in the row being written (0: none yet).
    in_row: usize,
    rows: usize,
}

impl JsonRows {
    fn new() -> JsonRows {
        JsonRows {
            text: b"[".to_vec(),
            in_row: 0,
            rows: 0,
        }
    }

    fn row(&mut self) -> &mut JsonRows {
        if self.rows > 0 {
            self.text.extend_from_slice(b"],");
        }
        self.text.push(b'[');
        self.rows += 1;
        self.in_row = 0;
        self
    }

    fn value(&mut self, value: impl serde::Serialize) -> &mut JsonRows {
        if self.in_row > 0 {
            self.text.push(b',');
        }
        self.in_row += 1;
        serde_json::to_writer(&mut self.text, &value).expect("plain values serialise");
        self
    }

    fn instant(&mut self, value: Option<DateTime<Utc>>) -> &mut JsonRows {
        self.value(value.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, false)))
    }

    fn finish(mut self) -> String {
        if self.rows > 0 {
            self.text.push(b']');
        }
        self.text.push(b']');
        String::from_utf8(self.text).expect("serde_json writes UTF-8")
    }
}

/// `SELECT <columns> FROM <the rows of the JSON parameter $1>`, in the array's order: each
/// column `(name, PostgreSQL type)` is the row's next value, cast on PostgreSQL (`bigint`,
/// `text`, `timestamptz`, `boolean`); SQLite takes the JSON values as they are (a JSON `true`
/// is 1, as sqlx stores a bool).
fn select_json_rows(backend: Backend, columns: &[(&str, &str)]) -> String {
    let mut text = String::from("SELECT ");
    for (i, (name, ty)) in columns.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        match backend {
            Backend::Sqlite => text.push_str(&format!("j.value ->> {i} AS {name}")),
            Backend::Postgres => text.push_str(&format!("(j.value ->> {i})::{ty} AS {name}")),
        }
    }
    match backend {
        Backend::Sqlite => text.push_str(" FROM jsonb_each($1) AS j WHERE true ORDER BY j.key"),
        Backend::Postgres => text.push_str(
            " FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(value, n) \
             WHERE true ORDER BY j.n",
        ),
    }
    text
}

/// The figure recorded for a metric, as a later read of the row would return it.
fn stored_figure(obs: &Observation, metric: Metric) -> Option<u64> {
    obs.best(metric).map(|v| count_of(stored_count(v)))
}

/// A week of activity to upsert: statuses, logins, registrations, observation id, reported at.
type WeekRow = (i64, i64, i64, i64, DateTime<Utc>);

/// What one server's visits in the batch do to its row (the fold of the one-by-one updates).
struct ServerUpdate {
    id: i64,
    status: &'static str,
    moved_to: Option<String>,
    software: Option<String>,
    last_observed_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    last_answered_at: Option<DateTime<Utc>>,
    last_outcome: Option<String>,
    consecutive_failures: i64,
    next_due: DateTime<Utc>,
}

pub(crate) async fn ingest_bulk(
    conn: &mut Conn<'_>,
    batch: &[&Observation],
    run: Option<RunId>,
) -> Result<Vec<Recorded>> {
    let at_of: Vec<DateTime<Utc>> = batch
        .iter()
        .map(|o| stored_instant(o.observed_at))
        .collect();

    // Each server's visits, in time order (a stable sort keeps the batch order among equals).
    let mut by_host: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, obs) in batch.iter().enumerate() {
        by_host.entry(obs.host.as_str()).or_default().push(i);
    }
    for visits in by_host.values_mut() {
        visits.sort_by_key(|&i| at_of[i]);
    }
    let hosts: Vec<&str> = by_host.keys().copied().collect();

    let before = read_states(conn, &hosts).await?;
    // A server that first appears in the batch as someone's peer (or move target) would be
    // recorded as revealed by that server one by one; keep that exact provenance.
    let revealed_in_batch = batch.iter().any(|obs| {
        let named = obs
            .peers
            .iter()
            .flatten()
            .chain(obs.moved_to.as_ref())
            .chain(obs.nodeinfo_elsewhere.as_ref());
        named
            .map(Host::as_str)
            .any(|n| n != obs.host.as_str() && by_host.contains_key(n) && !before.contains_key(n))
    });
    if revealed_in_batch {
        return one_by_one(conn, batch, run).await;
    }

    // Create the servers first heard of here, and move first_seen back where a visit is older
    // (in a crawl every server is known already and this writes nothing).
    let mut firsts: Vec<(&str, DateTime<Utc>)> = by_host
        .iter()
        .map(|(host, visits)| (*host, at_of[visits[0]]))
        .filter(|(host, first)| before.get(host).is_none_or(|s| s.first_seen > *first))
        .collect();
    firsts.sort_unstable();
    for chunk in firsts.chunks(SERVER_ROWS) {
        let text = format!(
            "INSERT INTO servers (domain, first_seen, revealed_by, next_due) VALUES {} \
             ON CONFLICT (domain) DO UPDATE SET first_seen = excluded.first_seen \
             WHERE excluded.first_seen < servers.first_seen",
            placeholders(conn.backend(), chunk.len(), 4)
        );
        let mut sql = Sql::new(text);
        for (host, first) in chunk {
            sql = sql.bind(*host).bind(*first).bind(SEED).bind(*first);
        }
        conn.execute(sql, "creating servers in bulk").await?;
    }
    let changed: Vec<&str> = firsts.iter().map(|(host, _)| *host).collect();
    let mut states = read_states(conn, &changed).await?;
    for (host, state) in &before {
        if !states.contains_key(host) {
            states.insert(host, state.clone());
        }
    }

    // The fast path: servers whose every visit here is newer than their stored history, with no
    // two visits at the same instant. The others are recorded one by one, afterwards.
    let mut slow: Vec<usize> = Vec::new();
    let mut fast: HashMap<&str, &StateRow> = HashMap::new();
    for (host, visits) in &by_host {
        let Some(state) = states.get(host) else {
            // Not there after inserting it: leave it to the one-by-one path, which says why.
            slow.extend(visits.iter().copied());
            continue;
        };
        let newer = state
            .last_observed_at
            .is_none_or(|last| last < at_of[visits[0]]);
        let distinct = visits.windows(2).all(|w| at_of[w[0]] < at_of[w[1]]);
        if newer && distinct {
            fast.insert(host, state);
        } else {
            slow.extend(visits.iter().copied());
        }
    }

    // Each fast server's previous successful visit is its latest (every visit here is newer),
    // read with its state.
    let previous: HashMap<i64, Previous> = fast
        .values()
        .filter_map(|s| {
            let at = s.last_success_at?;
            Some((
                s.id,
                Previous {
                    observed_at: Some(at),
                    users_total: s.previous_users_total.map(count_of),
                    users_active_month: s.previous_users_active_month.map(count_of),
                    local_posts: s.previous_local_posts.map(count_of),
                },
            ))
        })
        .collect();

    // Observations, in the batch's order (so ids follow it, as they would one by one).
    let fast_visits: Vec<usize> = (0..batch.len())
        .filter(|&i| fast.contains_key(batch[i].host.as_str()))
        .collect();
    let mut ids: HashMap<(i64, DateTime<Utc>), i64> = HashMap::with_capacity(fast_visits.len());
    let inserted_columns = [
        ("id", "id"),
        ("server_id", "server_id"),
        ("observed_at", "observed_at"),
    ];
    for chunk in fast_visits.chunks(OBSERVATION_ROWS) {
        let insert = format!(
            "INSERT INTO observations ({}) {} ON CONFLICT (server_id, observed_at) DO NOTHING",
            OBSERVATION_JSON_COLUMNS
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", "),
            select_json_rows(conn.backend(), OBSERVATION_JSON_COLUMNS,)
        );
        let mut rows = JsonRows::new();
        for &i in chunk {
            let obs = batch[i];
            let software = obs.software.as_ref();
            let figure = |m: Metric| obs.best(m).map(stored_count);
            let server = fast.get(obs.host.as_str()).map(|s| s.id);
            rows.row()
                .value(server)
                .instant(Some(at_of[i]))
                .value(obs.outcome.as_str())
                .value(stored_count(obs.duration_ms))
                .value(obs.nodeinfo_version.as_deref())
                .value(software.map(|s| s.raw_name.as_str()))
                .value(software.map(|s| s.raw_version.as_str()))
                .value(software.map(|s| s.family.as_str()))
                .value(software.and_then(|s| s.version.as_deref()))
                .value(obs.open_registrations)
                .value(obs.flags.private)
                .value(obs.flags.noindex)
                .value(obs.flags.limited_federation)
                .value(obs.flags.peers_hidden)
                .value(obs.moved_to.as_ref().map(Host::as_str))
                .value(obs.peers.as_ref().map(|p| stored_count(p.len() as u64)))
                .value(figure(Metric::UsersTotal))
                .value(figure(Metric::UsersActiveMonth))
                .value(figure(Metric::LocalPosts))
                .value(run.map(|r| r.0));
        }
        let rows = rows.finish();
        // The new rows' ids come back as one JSON array, not a driver row each (see
        // `json_rows_sql`). SQLite has no RETURNING inside a query, but its ids grow: the rows
        // past the largest id before the insert are this statement's (this transaction is the
        // only writer once it writes, and its snapshot cannot have moved if the write went in).
        let inserted: Vec<InsertedRow> = match conn.backend() {
            Backend::Sqlite => {
                let before = conn
                    .fetch_one::<IdRow>(
                        Sql::new("SELECT COALESCE(MAX(id), 0) AS id FROM observations"),
                        "finding the last observation id",
                    )
                    .await?;
                conn.execute(
                    Sql::new(insert).bind(rows),
                    "inserting observations in bulk",
                )
                .await?;
                let sql = json_rows_sql(
                    Backend::Sqlite,
                    &inserted_columns,
                    "FROM observations WHERE id > $1",
                );
                conn.fetch_json(Sql::new(sql).bind(before.id), "reading new observation ids")
                    .await?
            }
            Backend::Postgres => {
                let sql = format!(
                    "WITH inserted AS ({insert} RETURNING id, server_id, observed_at) {}",
                    json_rows_sql(Backend::Postgres, &inserted_columns, "FROM inserted")
                );
                conn.fetch_json(Sql::new(sql).bind(rows), "inserting observations in bulk")
                    .await?
            }
        };
        for row in inserted {
            ids.insert((row.server_id, stored_instant(row.observed_at)), row.id);
        }
    }
    let id_of = |i: usize| {
        let server = fast.get(batch[i].host.as_str())?.id;
        ids.get(&(server, at_of[i])).copied()
    };

    // Measurements.
    let mut rows: Vec<(i64, &'static str, &'static str, i64)> = Vec::new();
    for &i in &fast_visits {
        let Some(id) = id_of(i) else { continue };
        for m in &batch[i].measurements {
            rows.push((
                id,
                m.metric.as_str(),
                m.source.as_str(),
                stored_count(m.value),
            ));
        }
    }
    for chunk in rows.chunks(JSON_ROWS) {
        let text = format!(
            "INSERT INTO measurements (observation_id, metric, source, value) {} \
             ON CONFLICT DO NOTHING",
            select_json_rows(
                conn.backend(),
                &[
                    ("observation_id", "bigint"),
                    ("metric", "text"),
                    ("source", "text"),
                    ("value", "bigint"),
                ]
            )
        );
        let mut json = JsonRows::new();
        for (id, metric, source, value) in chunk {
            json.row()
                .value(id)
                .value(metric)
                .value(source)
                .value(value);
        }
        let sql = Sql::new(text).bind(json.finish());
        conn.execute(sql, "inserting measurements in bulk").await?;
    }

    // Declared languages, in core's order (position 0 is the visit's primary language).
    let mut rows: Vec<(i64, &'static str, String, i64)> = Vec::new();
    for &i in &fast_visits {
        let Some(id) = id_of(i) else { continue };
        for (position, l) in fedicensus_core::language::ordered(&batch[i].languages)
            .into_iter()
            .enumerate()
        {
            rows.push((id, l.source.as_str(), l.language, position as i64));
        }
    }
    for chunk in rows.chunks(JSON_ROWS) {
        let text = format!(
            "INSERT INTO observation_languages (observation_id, source, language, position) {} \
             ON CONFLICT DO NOTHING",
            select_json_rows(
                conn.backend(),
                &[
                    ("observation_id", "bigint"),
                    ("source", "text"),
                    ("language", "text"),
                    ("position", "bigint"),
                ]
            )
        );
        let mut json = JsonRows::new();
        for (id, source, language, position) in chunk {
            json.row()
                .value(id)
                .value(source)
                .value(language.as_str())
                .value(position);
        }
        let sql = Sql::new(text).bind(json.finish());
        conn.execute(sql, "inserting declared languages in bulk")
            .await?;
    }

    // Where each visit's address is, when the crawler had a geolocation database.
    let rows: Vec<(i64, &fedicensus_core::Location)> = fast_visits
        .iter()
        .filter_map(|&i| Some((id_of(i)?, batch[i].location.as_ref()?)))
        .collect();
    for chunk in rows.chunks(JSON_ROWS) {
        let text = format!(
            "INSERT INTO observation_geo (observation_id, country, asn, as_organization, \
             database) {} ON CONFLICT DO NOTHING",
            select_json_rows(
                conn.backend(),
                &[
                    ("observation_id", "bigint"),
                    ("country", "text"),
                    ("asn", "bigint"),
                    ("as_organization", "text"),
                    ("database", "text"),
                ]
            )
        );
        let mut json = JsonRows::new();
        for (id, l) in chunk {
            json.row()
                .value(id)
                .value(l.country.as_deref())
                .value(l.asn)
                .value(l.as_organization.as_deref())
                .value(l.database.as_str());
        }
        let sql = Sql::new(text).bind(json.finish());
        conn.execute(sql, "inserting visits' locations in bulk")
            .await?;
    }

    // Weekly activity: per server and week, the latest report of the batch (one statement may
    // not upsert one row twice), which then wins over the stored one if not older.
    let mut weeks: HashMap<(i64, DateTime<Utc>), WeekRow> = HashMap::new();
    for (host, visits) in &by_host {
        let Some(server) = fast.get(host).map(|s| s.id) else {
            continue;
        };
        for &i in visits {
            let Some(id) = id_of(i) else { continue };
            for week in &batch[i].activity {
                weeks.insert(
                    (server, stored_instant(week.week_start)),
                    (
                        stored_count(week.statuses),
                        stored_count(week.logins),
                        stored_count(week.registrations),
                        id,
                        at_of[i],
                    ),
                );
            }
        }
    }
    let weeks: Vec<_> = weeks.into_iter().collect();
    for chunk in weeks.chunks(NARROW_ROWS) {
        let text = format!(
            "INSERT INTO activity (server_id, week_start, statuses, logins, registrations, \
             observation_id, reported_at) VALUES {} \
             ON CONFLICT (server_id, week_start) DO UPDATE SET statuses = excluded.statuses, \
             logins = excluded.logins, registrations = excluded.registrations, \
             observation_id = excluded.observation_id, reported_at = excluded.reported_at \
             WHERE excluded.reported_at >= activity.reported_at",
            placeholders(conn.backend(), chunk.len(), 7)
        );
        let mut sql = Sql::new(text);
        for ((server, week), (statuses, logins, registrations, id, at)) in chunk {
            sql = sql
                .bind(*server)
                .bind(*week)
                .bind(*statuses)
                .bind(*logins)
                .bind(*registrations)
                .bind(*id)
                .bind(*at);
        }
        conn.execute(sql, "upserting weekly activity in bulk")
            .await?;
    }

    // Servers revealed by peer lists and moves, the peer edges and block edges, visit by visit in time order
    // (the first to name a server revealed it; a peer list is already one multi-row statement).
    let mut discovered: HashMap<usize, u64> = HashMap::new();
    let mut naming: Vec<usize> = fast_visits
        .iter()
        .copied()
        .filter(|&i| {
            batch[i].peers.is_some()
                || batch[i].blocks.is_some()
                || batch[i].moved_to.is_some()
                || batch[i].nodeinfo_elsewhere.is_some()
        })
        .collect();
    naming.sort_by_key(|&i| (at_of[i], i));
    for i in naming {
        if id_of(i).is_none() {
            continue;
        }
        let obs = batch[i];
        let host = obs.host.as_str();
        let mut found = 0;
        if let Some(moved_to) = &obs.moved_to {
            found += insert_servers(conn, &[moved_to.as_str()], at_of[i], host).await?;
        }
        if let Some(other) = &obs.nodeinfo_elsewhere {
            found += insert_servers(conn, &[other.as_str()], at_of[i], host).await?;
            if let Some(state) = fast.get(host) {
                record_sibling(conn, state.id, other, at_of[i]).await?;
            }
        }
        if let (Some(peers), Some(state)) = (&obs.peers, fast.get(host)) {
            found += record_peer_list(conn, state.id, host, peers, at_of[i]).await?;
        }
        if let (Some(blocks), Some(state)) = (&obs.blocks, fast.get(host)) {
            crate::blocks::record_block_list(conn, state.id, blocks, at_of[i]).await?;
        }
        discovered.insert(i, found);
    }

    // Quality flags, each visit checked against the server's previous successful one.
    let mut flags_of: HashMap<usize, Vec<QualityFlag>> = HashMap::new();
    let mut flag_rows: Vec<(i64, &'static str, &'static str, String)> = Vec::new();
    let mut updates: Vec<ServerUpdate> = Vec::new();
    for (host, visits) in &by_host {
        let Some(state) = fast.get(host) else {
            continue;
        };
        let mut prev = previous.get(&state.id).copied().unwrap_or_default();
        let mut update = Fold::new(state, before.get(host).map(|s| s.first_seen))?;
        for &i in visits {
            let obs = batch[i];
            let Some(id) = id_of(i) else { continue };
            let flags = quality::check(obs, &prev);
            for flag in &flags {
                flag_rows.push((
                    id,
                    flag.kind.as_str(),
                    metric_column(flag.metric),
                    flag.reason.clone(),
                ));
            }
            flags_of.insert(i, flags);
            if obs.outcome.is_ok() {
                prev = Previous {
                    observed_at: Some(at_of[i]),
                    users_total: stored_figure(obs, Metric::UsersTotal),
                    users_active_month: stored_figure(obs, Metric::UsersActiveMonth),
                    local_posts: stored_figure(obs, Metric::LocalPosts),
                };
            }
            update.visit(obs, at_of[i]);
        }
        if let Some(update) = update.done() {
            updates.push(update);
        }
    }
    // When each server was first confirmed: every visit here is newer than the server's stored
    // history, so only a server not confirmed yet can change, to its earliest confirming visit.
    let mut confirmed: Vec<i64> = by_host
        .iter()
        .filter_map(|(host, visits)| {
            let state = fast.get(host)?;
            let any = visits.iter().any(|&i| confirms(&batch[i].outcome));
            (any && state.first_confirmed_at.is_none()).then_some(state.id)
        })
        .collect();
    confirmed.sort_unstable();
    for chunk in confirmed.chunks(NARROW_ROWS) {
        let list: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let excluded: Vec<String> = CONFIRMING_OUTCOMES_EXCLUDED
            .iter()
            .map(|o| format!("'{o}'"))
            .collect();
        let text = format!(
            "UPDATE servers SET first_confirmed_at = (SELECT MIN(o.observed_at) FROM observations o \
             WHERE o.server_id = servers.id AND o.outcome NOT IN ({})) \
             WHERE first_confirmed_at IS NULL AND id IN ({})",
            excluded.join(", "),
            list.join(", ")
        );
        let mut sql = Sql::new(text);
        for id in chunk {
            sql = sql.bind(*id);
        }
        conn.execute(sql, "recording when servers were confirmed in bulk")
            .await?;
    }

    // The census-wide rules, on the batch's large claims (stored above, so siblings recorded in
    // this batch see each other); they may flag a sibling's earlier claim too.
    let mut claims = Vec::new();
    for (host, visits) in &by_host {
        if !fast.contains_key(host) {
            continue;
        }
        for &i in visits {
            let obs = batch[i];
            let users_total = stored_figure(obs, Metric::UsersTotal);
            if !obs.outcome.is_ok() || !plausibility::is_large(users_total) {
                continue;
            }
            if let Some(id) = id_of(i) {
                claims.push((
                    i,
                    Claim {
                        observation_id: id,
                        host,
                        observed_at: at_of[i],
                        users_total: users_total.unwrap_or(0),
                        run: run.map(|r| r.0),
                    },
                ));
            }
        }
    }
    if !claims.is_empty() {
        let only: Vec<Claim<'_>> = claims.iter().map(|(_, c)| c.clone()).collect();
        for (id, flag) in plausibility::check_claims(conn, &only).await? {
            if let Some((i, _)) = claims.iter().find(|(_, c)| c.observation_id == id) {
                flags_of.entry(*i).or_default().push(flag.clone());
            }
            let row = (
                id,
                flag.kind.as_str(),
                metric_column(flag.metric),
                flag.reason,
            );
            if !flag_rows
                .iter()
                .any(|r| r.0 == row.0 && r.1 == row.1 && r.2 == row.2)
            {
                flag_rows.push(row);
            }
        }
    }
    for chunk in flag_rows.chunks(NARROW_ROWS) {
        let text = format!(
            "INSERT INTO quality_flags (observation_id, kind, metric, reason) VALUES {} \
             ON CONFLICT DO NOTHING",
            placeholders(conn.backend(), chunk.len(), 4)
        );
        let mut sql = Sql::new(text);
        for (id, kind, metric, reason) in chunk {
            sql = sql.bind(*id).bind(*kind).bind(*metric).bind(reason.clone());
        }
        conn.execute(sql, "inserting quality flags in bulk").await?;
    }

    // Each server's cached state and schedule, as its newest visit left it.
    updates.sort_unstable_by_key(|u| u.id);
    for chunk in updates.chunks(JSON_ROWS) {
        let text = format!(
            "UPDATE servers SET status = v.status, \
             moved_to = COALESCE(v.moved_to, servers.moved_to), \
             software = COALESCE(v.software, servers.software), last_observed_at = v.last_observed_at, \
             last_success_at = v.last_success_at, last_outcome = v.last_outcome, \
             consecutive_failures = v.consecutive_failures, next_due = v.next_due, \
             last_answered_at = v.last_answered_at, lease_owner = NULL, lease_expires = NULL \
             FROM ({}) AS v WHERE servers.id = v.id",
            select_json_rows(
                conn.backend(),
                &[
                    ("id", "bigint"),
                    ("status", "text"),
                    ("moved_to", "text"),
                    ("software", "text"),
                    ("last_observed_at", "timestamptz"),
                    ("last_success_at", "timestamptz"),
                    ("last_outcome", "text"),
                    ("consecutive_failures", "bigint"),
                    ("next_due", "timestamptz"),
                    ("last_answered_at", "timestamptz"),
                ]
            )
        );
        let mut json = JsonRows::new();
        for u in chunk {
            json.row()
                .value(u.id)
                .value(u.status)
                .value(u.moved_to.as_deref())
                .value(u.software.as_deref())
                .instant(u.last_observed_at)
                .instant(u.last_success_at)
                .value(u.last_outcome.as_deref())
                .value(u.consecutive_failures)
                .instant(Some(u.next_due))
                .instant(u.last_answered_at);
        }
        let sql = Sql::new(text).bind(json.finish());
        conn.execute(sql, "updating servers in bulk").await?;
    }

    // The rest, one by one, in time order.
    slow.sort_unstable_by_key(|&i| (at_of[i], i));
    let mut slow_recorded: HashMap<usize, Recorded> = HashMap::new();
    for i in slow {
        slow_recorded.insert(i, record_observation(conn, batch[i], run).await?);
    }

    // What happened to each visit, in the batch's order.
    let mut out = Vec::with_capacity(batch.len());
    for i in 0..batch.len() {
        if let Some(recorded) = slow_recorded.remove(&i) {
            out.push(recorded);
            continue;
        }
        let id = id_of(i);
        out.push(Recorded {
            observation_id: id.unwrap_or_default(),
            newly_stored: id.is_some(),
            servers_discovered: discovered.get(&i).copied().unwrap_or(0),
            flags: flags_of.remove(&i).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The servers' stored state, by domain.
async fn read_states<'h>(
    conn: &mut Conn<'_>,
    hosts: &[&'h str],
) -> Result<HashMap<&'h str, StateRow>> {
    let mut states = HashMap::with_capacity(hosts.len());
    let wanted: HashSet<&str> = hosts.iter().copied().collect();
    for chunk in hosts.chunks(JSON_ROWS) {
        let sql = json_rows_sql(
            conn.backend(),
            &[
                ("id", "s.id"),
                ("domain", "s.domain"),
                ("first_seen", "s.first_seen"),
                ("status", "s.status"),
                ("last_observed_at", "s.last_observed_at"),
                ("last_success_at", "s.last_success_at"),
                ("last_answered_at", "s.last_answered_at"),
                ("first_confirmed_at", "s.first_confirmed_at"),
                ("last_outcome", "s.last_outcome"),
                ("consecutive_failures", "s.consecutive_failures"),
                ("previous_users_total", "o.users_total"),
                ("previous_users_active_month", "o.users_active_month"),
                ("previous_local_posts", "o.local_posts"),
            ],
            &format!(
                "FROM servers s LEFT JOIN observations o \
                 ON o.server_id = s.id AND o.observed_at = s.last_success_at \
                 WHERE s.domain IN (SELECT j.value FROM {})",
                json_names(conn.backend(), "$1")
            ),
        );
        let sql =
            Sql::new(sql).bind(serde_json::to_string(chunk).expect("a list of strings serialises"));
        for row in conn
            .fetch_json::<StateRow>(sql, "reading servers' state in bulk")
            .await?
        {
            if let Some(host) = wanted.get(row.domain.as_str()) {
                states.insert(*host, row);
            }
        }
    }
    Ok(states)
}

/// The one-by-one path, for a batch the fast path cannot reproduce exactly.
async fn one_by_one(
    conn: &mut Conn<'_>,
    batch: &[&Observation],
    run: Option<RunId>,
) -> Result<Vec<Recorded>> {
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by_key(|&i| (stored_instant(batch[i].observed_at), i));
    let mut recorded: Vec<Option<Recorded>> = vec![None; batch.len()];
    for i in order {
        recorded[i] = Some(record_observation(conn, batch[i], run).await?);
    }
    Ok(recorded.into_iter().flatten().collect())
}

/// A server's state carried through its visits, as the one-by-one updates would leave it.
struct Fold {
    id: i64,
    /// The first_seen each one-by-one recording would have read: the stored one for the first
    /// visit (the row as it was before the batch), the moved-back one after it.
    first_seen_read: DateTime<Utc>,
    first_seen_after: DateTime<Utc>,
    status: ServerStatus,
    opted_out: bool,
    moved_to: Option<String>,
    software: Option<String>,
    last_observed_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    last_answered_at: Option<DateTime<Utc>>,
    last_outcome: Option<String>,
    consecutive_failures: u32,
    next_due: Option<DateTime<Utc>>,
}

impl Fold {
    fn new(state: &StateRow, first_seen_before: Option<DateTime<Utc>>) -> Result<Fold> {
        let status = ServerStatus::parse(&state.status)?;
        Ok(Fold {
            id: state.id,
            first_seen_read: first_seen_before.unwrap_or(state.first_seen),
            first_seen_after: state.first_seen,
            status,
            opted_out: status == ServerStatus::OptedOut,
            moved_to: None,
            software: None,
            last_observed_at: state.last_observed_at,
            last_success_at: state.last_success_at,
            last_answered_at: state.last_answered_at,
            last_outcome: state.last_outcome.clone(),
            consecutive_failures: u32::try_from(state.consecutive_failures).unwrap_or(u32::MAX),
            next_due: None,
        })
    }

    fn visit(&mut self, obs: &Observation, at: DateTime<Utc>) {
        if !obs.outcome.is_conclusive() {
            // Says nothing about the server: only when it is due again changes.
            self.first_seen_read = self.first_seen_after;
            self.next_due = Some(stored_instant(default_next_due(&obs.outcome, at, 0)));
            return;
        }
        let ok = obs.outcome.is_ok();
        let answered = obs.outcome.answered();
        let failures = if answered {
            0
        } else {
            self.consecutive_failures.saturating_add(1)
        };
        // An opt-out is final until an operator says otherwise.
        if !self.opted_out {
            if let Some(status) = status_after(
                &obs.outcome,
                at,
                self.first_seen_read,
                self.last_answered_at,
            ) {
                self.status = status;
            }
        }
        self.first_seen_read = self.first_seen_after;
        if ok {
            self.last_success_at = Some(at);
        }
        if answered {
            self.last_answered_at = Some(at);
        }
        if let Some(m) = &obs.moved_to {
            self.moved_to = Some(m.as_str().to_owned());
        }
        if let Some(s) = obs.software.as_ref().filter(|_| ok) {
            self.software = Some(s.family.as_str().to_owned());
        }
        self.last_observed_at = Some(at);
        self.last_outcome = Some(obs.outcome.as_str());
        self.consecutive_failures = failures;
        self.next_due = Some(stored_instant(default_next_due(&obs.outcome, at, failures)));
    }

    fn done(self) -> Option<ServerUpdate> {
        Some(ServerUpdate {
            id: self.id,
            status: self.status.as_str(),
            moved_to: self.moved_to,
            software: self.software,
            last_observed_at: self.last_observed_at,
            last_success_at: self.last_success_at,
            last_answered_at: self.last_answered_at,
            last_outcome: self.last_outcome,
            consecutive_failures: i64::from(self.consecutive_failures),
            next_due: self.next_due?,
        })
    }
}

/// Ends `worker`'s lease on each host (as [`crate::servers::release`] does, one statement a
/// few thousand hosts) and sets when each is next due; a host named twice gets its last time.
pub(crate) async fn release_due(
    conn: &mut Conn<'_>,
    hosts: &[(&str, DateTime<Utc>)],
    worker: &str,
) -> Result<()> {
    let mut last: HashMap<&str, DateTime<Utc>> = HashMap::with_capacity(hosts.len());
    for (host, due) in hosts {
        last.insert(host, *due);
    }
    let mut last: Vec<(&str, DateTime<Utc>)> = last.into_iter().collect();
    last.sort_unstable();
    for chunk in last.chunks(JSON_ROWS) {
        let text = format!(
            "UPDATE servers SET lease_owner = NULL, lease_expires = NULL, next_due = v.next_due \
             FROM ({}) AS v WHERE servers.domain = v.domain \
             AND (servers.lease_owner = $2 OR servers.lease_owner IS NULL)",
            select_json_rows(
                conn.backend(),
                &[("domain", "text"), ("next_due", "timestamptz")]
            )
        );
        let mut json = JsonRows::new();
        for (host, due) in chunk {
            json.row().value(host).instant(Some(stored_instant(*due)));
        }
        let sql = Sql::new(text).bind(json.finish()).bind(worker);
        conn.execute(sql, "releasing leases in bulk").await?;
    }
    Ok(())
}

impl Transaction {
    /// Records many visits with a few multi-row statements (see the module docs); the stored
    /// result is the one [`Transaction::record_observation`] would give for each visit in time
    /// order. What each recording did, in the batch's order.
    pub async fn ingest_bulk(
        &mut self,
        batch: &[Observation],
        run: Option<RunId>,
    ) -> Result<Vec<Recorded>> {
        let batch: Vec<&Observation> = batch.iter().collect();
        ingest_bulk(&mut self.conn(), &batch, run).await
    }
}

impl Storage {
    /// [`Transaction::ingest_bulk`] in its own transaction: for imports, benchmarks and crawler
    /// batches that may be lost or kept as a whole.
    pub async fn ingest_bulk(
        &self,
        batch: &[Observation],
        run: Option<RunId>,
    ) -> Result<Vec<Recorded>> {
        let mut tx = self.begin().await?;
        let recorded = tx.ingest_bulk(batch, run).await?;
        tx.commit().await?;
        Ok(recorded)
    }
}
