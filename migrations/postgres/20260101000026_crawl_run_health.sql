-- The crawler's own health during a run (PostgreSQL). Never edit this file once landed.
--
-- A crawl on a busy machine times its own requests out; the crawler measures how late its
-- runtime runs (a ticker's lateness) and records a failure that coincided with its own stall as
-- `inconclusive`. Each run keeps what it measured of itself, for the Crawl health page: NULL for
-- runs recorded before this migration, or by a crawler that did not measure.
ALTER TABLE crawl_runs ADD COLUMN lag_p99_ms BIGINT;       -- 99th percentile of the lateness
ALTER TABLE crawl_runs ADD COLUMN lag_max_ms BIGINT;       -- the worst lateness
ALTER TABLE crawl_runs ADD COLUMN stalled_ms BIGINT;       -- lateness summed over the run
ALTER TABLE crawl_runs ADD COLUMN cpu_permille BIGINT;     -- process CPU / (wall x cores), in 1/1000
ALTER TABLE crawl_runs ADD COLUMN visit_limit_min BIGINT;  -- the adaptive limit on visits in flight
ALTER TABLE crawl_runs ADD COLUMN visit_limit_max BIGINT;
