-- Crawl requests (SQLite). Never edit this file once landed.
--
-- "Start a crawl" from the dashboard's admin API writes a row here; every running
-- `fedicensus crawl --every` daemon looks for rows newer than its last pass a few times a minute
-- and starts a pass at once (several workers on one PostgreSQL database all start one and share
-- the hosts through their leases). The first worker to start records itself, so the Crawl health
-- page can say whether a request was taken, when, and by whom.
CREATE TABLE crawl_requests (
    id           INTEGER PRIMARY KEY,
    requested_at TEXT NOT NULL,
    requested_by TEXT NOT NULL,  -- who asked, as they said (the admin API's "by")
    started_at   TEXT,           -- NULL: no crawl has started since it was asked
    started_by   TEXT            -- the worker whose pass took it first
);
