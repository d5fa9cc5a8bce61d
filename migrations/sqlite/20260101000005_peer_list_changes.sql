-- Peer lists recorded when they change (SQLite). Never edit this file once landed.
--
-- Until now every peer-list read upserted every edge of the list: about 2,800 rows a visit for a
-- large server, nearly all of them unchanged. From here on a server remembers when its peer list
-- was last read (`peers_read_at`) and a hash of that list (`peers_hash`), and an edge's interval
-- is open (`last_seen` NULL) while the edge is in the server's latest list: its last sighting is
-- then the server's `peers_read_at`. A read that finds the same list touches one server row; a
-- changed list writes only the edges that appeared (opened or reopened) and those that went
-- (closed at the previous read, the last time they were seen). Readers take
-- `COALESCE(e.last_seen, f.peers_read_at)` as an edge's last sighting, which is the same value
-- the old upsert stored. docs/METHODOLOGY.md ("Peer edges") says this in words.
ALTER TABLE servers ADD COLUMN peers_read_at TEXT;   -- latest visit that read a peer list
ALTER TABLE servers ADD COLUMN peers_hash    TEXT;   -- SHA-256 of that list (normalised, sorted)

-- SQLite cannot drop a NOT NULL constraint: the table is rebuilt.
CREATE TABLE peer_edges_intervals (
    from_id    INTEGER NOT NULL REFERENCES servers (id),
    to_id      INTEGER NOT NULL REFERENCES servers (id),
    first_seen TEXT    NOT NULL,
    last_seen  TEXT,                                 -- NULL: in the latest list of from_id
    PRIMARY KEY (from_id, to_id)
);
INSERT INTO peer_edges_intervals (from_id, to_id, first_seen, last_seen)
    SELECT from_id, to_id, first_seen, last_seen FROM peer_edges;
DROP TABLE peer_edges;
ALTER TABLE peer_edges_intervals RENAME TO peer_edges;
CREATE INDEX peer_edges_to ON peer_edges (to_id);

-- Existing data: a server's latest peer-list read is its latest visit that counted a peer list;
-- the edges seen at that read are open. peers_hash stays NULL, so the next read compares the
-- list with the open edges themselves.
UPDATE servers SET peers_read_at = (
    SELECT max(o.observed_at) FROM observations o
    WHERE o.server_id = servers.id AND o.peer_count IS NOT NULL
) WHERE id IN (SELECT from_id FROM peer_edges);
UPDATE peer_edges SET last_seen = NULL
    WHERE last_seen = (SELECT s.peers_read_at FROM servers s WHERE s.id = peer_edges.from_id);
