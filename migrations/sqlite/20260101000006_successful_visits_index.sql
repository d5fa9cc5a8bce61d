-- Each server's successful visits with their headline figures (SQLite). Never edit this file once
-- landed.
--
-- A snapshot as of a date needs, per server, its latest successful visit and the latest reported
-- value of each figure in the carry-forward window before the date. Walking the
-- (server_id, observed_at) index for them visits every failed visit on the way, one table row
-- each: a server that died half a year ago costs hundreds of random reads. This partial index
-- holds successful visits only, with the figures, so the latest success is one probe and a walk
-- for a figure a software does not report (Misskey's monthly actives) stays inside the index.
-- The predicate must be written `outcome = 'ok'` in a query for the planner to use it.
CREATE INDEX observations_ok
    ON observations (server_id, observed_at, users_total, users_active_month, local_posts)
    WHERE outcome = 'ok';
