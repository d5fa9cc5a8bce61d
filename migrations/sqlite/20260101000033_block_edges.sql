-- Block lists servers publish, as edges over time (SQLite). Never edit this file once landed.
--
-- Read only when the operator turns `[crawler] read_blocklists` on, on the visits that read a
-- peer list: Mastodon's and GoToSocial's `/api/v1/instance/domain_blocks`, Lemmy's
-- `federated_instances.blocked`, Pleroma's and Akkoma's NodeInfo `mrf_simple`.
--
-- `block_lists` holds, per server, its first and latest block-list read. An edge is an interval
-- of one (blocker, published domain, severity): first and last seen at a read; it is current
-- while its `last_seen` is its blocker's `last_read` (a read that no longer lists it leaves it
-- at the read before; a block that comes back opens a new edge). `published` is the domain as
-- the list gave it (a name, or an obfuscated pattern such as `daji******.com`); `digest` the
-- SHA-256 of the blocked name (published with an obfuscated entry, computed for a plain one);
-- `blocked` the blocked name: the plain name, or the known server whose domain's SHA-256 is the
-- published digest, NULL while none matches. docs/METHODOLOGY.md ("Block lists") says this in
-- words.
CREATE TABLE block_lists (
    server_id  INTEGER NOT NULL PRIMARY KEY REFERENCES servers (id),
    source     TEXT    NOT NULL,   -- the document of the latest read
    first_read TEXT    NOT NULL,
    last_read  TEXT    NOT NULL,
    blocks     INTEGER NOT NULL    -- entries of the latest read
);
CREATE TABLE block_edges (
    id         INTEGER PRIMARY KEY,
    blocker_id INTEGER NOT NULL REFERENCES servers (id),
    published  TEXT    NOT NULL,
    digest     TEXT,
    blocked    TEXT,
    severity   TEXT    NOT NULL,
    comment    TEXT,
    source     TEXT    NOT NULL,
    first_seen TEXT    NOT NULL,
    last_seen  TEXT    NOT NULL
);
CREATE INDEX block_edges_blocker ON block_edges (blocker_id, last_seen);
CREATE INDEX block_edges_blocked ON block_edges (blocked);
CREATE INDEX block_edges_unmatched ON block_edges (digest) WHERE blocked IS NULL;
