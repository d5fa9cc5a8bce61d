-- fedicensus storage, initial schema (SQLite). Never edit this file once landed: add a migration.
--
-- Timestamps are TEXT in the form sqlx writes for chrono's DateTime<Utc> (RFC 3339, UTC, "+00:00"),
-- which sorts in time order, so range comparisons and MAX() work on the text. Dates are
-- 'YYYY-MM-DD'. The PostgreSQL schema (migrations/postgres) has the same tables and columns.

-- Every server we know of, found through a seed or a peer list. Rows are never deleted: the
-- history must keep servers that died (survivorship-free).
CREATE TABLE servers (
    id                   INTEGER PRIMARY KEY,
    domain               TEXT    NOT NULL UNIQUE,      -- normalised (lowercase, punycode)
    first_seen           TEXT    NOT NULL,
    revealed_by          TEXT    NOT NULL,             -- domain whose peer list revealed it, or 'seed'
    status               TEXT    NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'alive', 'unreachable', 'dead', 'gone', 'opted_out', 'moved')),
    moved_to             TEXT,
    software             TEXT,                          -- family from the latest successful visit
    last_observed_at     TEXT,
    last_success_at      TEXT,
    last_outcome         TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_due             TEXT    NOT NULL,
    lease_owner          TEXT,
    lease_expires        TEXT
);
CREATE INDEX servers_next_due ON servers (next_due);

-- Other names of a server (case variants, www., old names after a move).
CREATE TABLE aliases (
    alias      TEXT    PRIMARY KEY,
    server_id  INTEGER NOT NULL REFERENCES servers (id),
    reason     TEXT    NOT NULL,
    first_seen TEXT    NOT NULL
);

CREATE TABLE crawl_runs (
    id              INTEGER PRIMARY KEY,
    started_at      TEXT    NOT NULL,
    finished_at     TEXT,
    crawler_version TEXT    NOT NULL,
    config_hash     TEXT    NOT NULL,
    seeds           TEXT    NOT NULL                    -- one domain a line
);

-- Counts by outcome, written when a run finishes.
CREATE TABLE crawl_run_outcomes (
    run_id  INTEGER NOT NULL REFERENCES crawl_runs (id),
    outcome TEXT    NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (run_id, outcome)
);

-- One row per visit to a server. UNIQUE (server_id, observed_at) makes a retried write a no-op.
CREATE TABLE observations (
    id                       INTEGER PRIMARY KEY,
    server_id                INTEGER NOT NULL REFERENCES servers (id),
    observed_at              TEXT    NOT NULL,
    outcome                  TEXT    NOT NULL,
    duration_ms              INTEGER NOT NULL,
    nodeinfo_version         TEXT,
    software_raw_name        TEXT,
    software_raw_version     TEXT,
    software_family          TEXT,
    software_version         TEXT,
    open_registrations       BOOLEAN,
    flag_private             BOOLEAN NOT NULL,
    flag_noindex             BOOLEAN NOT NULL,
    flag_limited_federation  BOOLEAN NOT NULL,
    flag_peers_hidden        BOOLEAN NOT NULL,
    moved_to                 TEXT,
    peer_count               INTEGER,                   -- NULL: no peer list was read
    -- The headline figures, chosen from the measurements by Observation::best (the source order
    -- is in fedicensus-core). NULL means not reported, never zero.
    users_total              INTEGER,
    users_active_month       INTEGER,
    local_posts              INTEGER,
    crawl_run_id             INTEGER REFERENCES crawl_runs (id),
    UNIQUE (server_id, observed_at)
);
CREATE INDEX observations_observed_at ON observations (observed_at);
CREATE INDEX observations_crawl_run ON observations (crawl_run_id);

-- Every number of every visit, with the document it came from.
CREATE TABLE measurements (
    observation_id INTEGER NOT NULL REFERENCES observations (id),
    metric         TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    value          INTEGER NOT NULL,
    PRIMARY KEY (observation_id, metric, source)
);

-- Weekly activity (/api/v1/instance/activity), one row per server and week; a later report of
-- the same week replaces an earlier one (the current week grows until it ends).
CREATE TABLE activity (
    server_id      INTEGER NOT NULL REFERENCES servers (id),
    week_start     TEXT    NOT NULL,
    statuses       INTEGER NOT NULL,
    logins         INTEGER NOT NULL,
    registrations  INTEGER NOT NULL,
    observation_id INTEGER NOT NULL REFERENCES observations (id),
    reported_at    TEXT    NOT NULL,
    PRIMARY KEY (server_id, week_start)
);

-- Who lists whom as a peer, and when we first and last saw the entry.
CREATE TABLE peer_edges (
    from_id    INTEGER NOT NULL REFERENCES servers (id),
    to_id      INTEGER NOT NULL REFERENCES servers (id),
    first_seen TEXT    NOT NULL,
    last_seen  TEXT    NOT NULL,
    PRIMARY KEY (from_id, to_id)
);
CREATE INDEX peer_edges_to ON peer_edges (to_id);

-- Markers on charts: where the world or a method changed.
CREATE TABLE annotations (
    id          INTEGER PRIMARY KEY,
    date        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('built_in', 'operator')),
    source_url  TEXT,
    UNIQUE (date, title)
);

-- Doubts about a visit's numbers, found when it was recorded. metric '*' means every figure.
CREATE TABLE quality_flags (
    observation_id INTEGER NOT NULL REFERENCES observations (id),
    kind           TEXT    NOT NULL,
    metric         TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    PRIMARY KEY (observation_id, kind, metric)
);
