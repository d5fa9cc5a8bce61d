-- Other censuses' published figures (SQLite). Never edit this file once landed.
--
-- `fedicensus import-reference` reads a file the operator downloaded from joinmastodon.org,
-- FediDB, the-federation.info or instances.social (fedicensus never asks them itself) and keeps:
-- one row per imported file (its source, the SHA-256 of its bytes, when it was imported, the
-- date it is as of), the figures it published (one row per date and scope: `all`, or one
-- software by its NodeInfo name), and the server names it lists (instances.social). A file is
-- identified by its source, its SHA-256 and the date it is as of: importing the same bytes as of
-- the same date again changes nothing.
CREATE TABLE reference_imports (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL
        CHECK (source IN ('joinmastodon', 'fedidb', 'the-federation', 'instances-social')),
    sha256      TEXT    NOT NULL,  -- lowercase hex of the file's bytes
    file_name   TEXT    NOT NULL,  -- the name it was imported from, without its directory
    imported_at TEXT    NOT NULL,
    as_of       TEXT NOT NULL,     -- --as-of, or the file's own date
    first_date  TEXT    NOT NULL,  -- the earliest and latest dates of its figures
    last_date   TEXT    NOT NULL,
    notes       TEXT    NOT NULL,  -- what the reader noticed, one line each
    UNIQUE (source, sha256, as_of)
);

CREATE TABLE reference_figures (
    import_id    INTEGER NOT NULL REFERENCES reference_imports (id),
    date         TEXT    NOT NULL,
    scope        TEXT    NOT NULL,  -- 'all' or a software's NodeInfo name ('mastodon')
    servers      INTEGER,           -- NULL: not published, never zero
    users        INTEGER,
    active_month INTEGER,
    active_week  INTEGER,
    PRIMARY KEY (import_id, date, scope)
);

CREATE TABLE reference_domains (
    import_id INTEGER NOT NULL REFERENCES reference_imports (id),
    domain    TEXT    NOT NULL,
    PRIMARY KEY (import_id, domain)
);
