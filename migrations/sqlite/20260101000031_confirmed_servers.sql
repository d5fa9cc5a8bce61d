-- When each server was first confirmed (SQLite). Never edit this file once landed.
--
-- Any peer list can name a million invented servers; counting every name ever mentioned let one
-- party inflate `servers_known` (methodology version 4). A name is confirmed by its first
-- conclusive visit that reached it: any outcome but a name that does not resolve
-- ('no_such_domain'), one that resolves only to addresses fedicensus refuses
-- ('forbidden_address'), or the crawler's own overload ('inconclusive'). `servers_known` counts
-- confirmed servers; `servers_mentioned` every name, from `first_seen`.
ALTER TABLE servers ADD COLUMN first_confirmed_at TEXT;
UPDATE servers SET first_confirmed_at = (
    SELECT MIN(o.observed_at) FROM observations o
    WHERE o.server_id = servers.id
      AND o.outcome NOT IN ('no_such_domain', 'forbidden_address', 'inconclusive'));
CREATE INDEX servers_first_confirmed ON servers (first_confirmed_at)
    WHERE first_confirmed_at IS NOT NULL;
