-- Servers that answer with a robots.txt refusing fedicensus are alive (PostgreSQL). Never edit
-- this file once landed.
--
-- A visit whose robots.txt forbids what fedicensus reads (outcome 'robots_disallowed') is an
-- answer: the server is up and has opted out of being read (methodology version 3). A server's
-- latest answer (a successful visit or such a refusal) is kept beside its latest success: the
-- death rule and the crawler's backoff read it, and a server whose latest answer is newer than its
-- latest success has opted out and is never listed by name.
ALTER TABLE servers ADD COLUMN last_answered_at TIMESTAMPTZ;
UPDATE servers SET last_answered_at = (
    SELECT MAX(o.observed_at) FROM observations o
    WHERE o.server_id = servers.id AND o.outcome IN ('ok', 'robots_disallowed'));
-- Servers recorded unreachable or dead after a refusal answered: they are alive.
UPDATE servers SET status = 'alive'
    WHERE last_outcome = 'robots_disallowed' AND status IN ('unreachable', 'dead');

-- A server's latest refusal before a date is one probe (snapshots, the carry-forward of figures
-- that stops at an opt-out), as for successful visits (migration 0006). The predicate must be
-- written `outcome = 'robots_disallowed'` in a query for the planner to use it.
CREATE INDEX observations_robots ON observations (server_id, observed_at)
    WHERE outcome = 'robots_disallowed';

-- The series change where refusals were recorded: recompute the rollup from the first one.
INSERT INTO series_dirty (day)
    SELECT (MIN(observed_at) AT TIME ZONE 'UTC')::date FROM observations
    WHERE outcome IN ('robots_disallowed', 'inconclusive')
    HAVING COUNT(*) > 0;
