//! Peer lists, recorded when they change.
//!
//! A large server lists thousands of peers and says nearly the same thing at every visit, so
//! writing every edge at every read made peer lists the biggest write of a crawl (about 2,800
//! rows a visit at 100,000 servers). Instead, a server remembers when its peer list was last read
//! (`servers.peers_read_at`) and a hash of that list (`servers.peers_hash`), and an edge is an
//! interval: `first_seen`, and `last_seen` NULL while the edge is in the server's latest list
//! (its last sighting is then the server's `peers_read_at`). So:
//!
//! - a read that finds the same list updates one server row;
//! - a changed list opens the edges that appeared (or reopens one that had gone), closes the ones
//!   that went at the previous read (the last time they were seen), and inserts only the servers
//!   it names for the first time;
//! - a replayed older list (an import, a resumed write) widens the intervals it touches, as the
//!   old upsert did.
//!
//! Readers take `COALESCE(e.last_seen, f.peers_read_at)` as an edge's last sighting
//! ([`EDGES_SQL`](crate::snapshot)): the same value an upsert of every edge at every read stores.

use crate::db::{Conn, Sql};
use crate::error::Result;
use crate::servers::{insert_servers, json_names};
use chrono::{DateTime, Utc};
use fedicensus_core::Host;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};

#[derive(sqlx::FromRow)]
struct ListState {
    peers_read_at: Option<DateTime<Utc>>,
    peers_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct OpenEdge {
    domain: String,
}

/// Records that server `from_id` (`host`) listed `peers` at `at` (a stored instant). Returns how
/// many servers the list named for the first time (they are inserted, revealed by `host`).
pub(crate) async fn record_peer_list(
    conn: &mut Conn<'_>,
    from_id: i64,
    host: &str,
    peers: &[Host],
    at: DateTime<Utc>,
) -> Result<u64> {
    let names: BTreeSet<&str> = peers
        .iter()
        .map(Host::as_str)
        .filter(|p| *p != host)
        .collect();
    let state = conn
        .fetch_one::<ListState>(
            Sql::new("SELECT peers_read_at, peers_hash FROM servers WHERE id = $1").bind(from_id),
            "reading a server's latest peer list",
        )
        .await?;
    if state.peers_read_at.is_some_and(|read_at| at < read_at) {
        return replay_older(conn, from_id, host, &names, at).await;
    }

    let hash = list_hash(&names);
    if state.peers_hash.as_deref() == Some(hash.as_str()) {
        // The same list: every open edge is confirmed up to `at`.
        conn.execute(
            Sql::new("UPDATE servers SET peers_read_at = $1 WHERE id = $2")
                .bind(at)
                .bind(from_id),
            "confirming a server's peer list",
        )
        .await?;
        return Ok(0);
    }

    let open: HashSet<String> = conn
        .fetch_all::<OpenEdge>(
            Sql::new(
                "SELECT s.domain FROM peer_edges e JOIN servers s ON s.id = e.to_id \
                 WHERE e.from_id = $1 AND e.last_seen IS NULL",
            )
            .bind(from_id),
            "reading a server's open peer edges",
        )
        .await?
        .into_iter()
        .map(|e| e.domain)
        .collect();
    let added: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !open.contains(*n))
        .collect();
    let gone: Vec<&str> = open
        .iter()
        .map(String::as_str)
        .filter(|n| !names.contains(n))
        .collect();

    let discovered = insert_servers(conn, &added, at, host).await?;
    if !added.is_empty() {
        let sql = Sql::new(format!(
            "INSERT INTO peer_edges (from_id, to_id, first_seen) \
             SELECT $1, s.id, $2 FROM {} JOIN servers s ON s.domain = j.value \
             WHERE true ON CONFLICT (from_id, to_id) DO UPDATE SET last_seen = NULL, \
             first_seen = CASE WHEN excluded.first_seen < peer_edges.first_seen \
                          THEN excluded.first_seen ELSE peer_edges.first_seen END",
            json_names(conn.backend(), "$3")
        ))
        .bind(from_id)
        .bind(at)
        .bind(json_list(&added));
        conn.execute(sql, "opening peer edges").await?;
    }
    if !gone.is_empty() {
        // Open edges exist only after a read, so peers_read_at is set; `at` is the fallback for
        // a database whose edges were written by hand.
        let last_seen = state.peers_read_at.unwrap_or(at);
        let sql = Sql::new(format!(
            "UPDATE peer_edges SET last_seen = $1 WHERE from_id = $2 AND last_seen IS NULL \
             AND to_id IN (SELECT s.id FROM {} JOIN servers s ON s.domain = j.value)",
            json_names(conn.backend(), "$3")
        ))
        .bind(last_seen)
        .bind(from_id)
        .bind(json_list(&gone));
        conn.execute(sql, "closing peer edges").await?;
    }
    conn.execute(
        Sql::new("UPDATE servers SET peers_read_at = $1, peers_hash = $2 WHERE id = $3")
            .bind(at)
            .bind(hash)
            .bind(from_id),
        "remembering a server's peer list",
    )
    .await?;
    Ok(discovered)
}

/// A list older than the server's latest read: each edge's interval widens to include `at`
/// (an open edge already reaches the latest read; a new one is closed at `at`).
async fn replay_older(
    conn: &mut Conn<'_>,
    from_id: i64,
    host: &str,
    names: &BTreeSet<&str>,
    at: DateTime<Utc>,
) -> Result<u64> {
    let names: Vec<&str> = names.iter().copied().collect();
    let discovered = insert_servers(conn, &names, at, host).await?;
    if names.is_empty() {
        return Ok(discovered);
    }
    let sql = Sql::new(format!(
        "INSERT INTO peer_edges (from_id, to_id, first_seen, last_seen) \
         SELECT $1, s.id, $2, $2 FROM {} JOIN servers s ON s.domain = j.value \
         WHERE true ON CONFLICT (from_id, to_id) DO UPDATE SET \
         first_seen = CASE WHEN excluded.first_seen < peer_edges.first_seen \
                      THEN excluded.first_seen ELSE peer_edges.first_seen END, \
         last_seen = CASE WHEN peer_edges.last_seen IS NULL \
                          OR peer_edges.last_seen >= excluded.last_seen \
                     THEN peer_edges.last_seen ELSE excluded.last_seen END",
        json_names(conn.backend(), "$3")
    ))
    .bind(from_id)
    .bind(at)
    .bind(json_list(&names));
    conn.execute(sql, "widening peer edges").await?;
    Ok(discovered)
}

/// The list's identity: SHA-256 of its sorted, distinct names, one per line, in hex.
fn list_hash(names: &BTreeSet<&str>) -> String {
    let mut hasher = Sha256::new();
    for name in names {
        hasher.update(name.as_bytes());
        hasher.update(b"\n");
    }
    format!("{:x}", hasher.finalize())
}

fn json_list(names: &[&str]) -> String {
    serde_json::to_string(names).expect("a list of strings serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_depends_on_the_set_of_names_only() {
        let a: BTreeSet<&str> = ["b.example", "a.example"].into_iter().collect();
        let b: BTreeSet<&str> = ["a.example", "b.example", "a.example"]
            .into_iter()
            .collect();
        let c: BTreeSet<&str> = ["a.example"].into_iter().collect();
        assert_eq!(list_hash(&a), list_hash(&b));
        assert_ne!(list_hash(&a), list_hash(&c));
        // A name is not confused with two names that concatenate to it.
        let d: BTreeSet<&str> = ["a.exampleb.example"].into_iter().collect();
        assert_ne!(list_hash(&a), list_hash(&d));
        assert_eq!(list_hash(&BTreeSet::new()).len(), 64);
    }
}
