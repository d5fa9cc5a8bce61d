-- The daily rollup of the published series (PostgreSQL). Never edit this file once landed.
--
-- series_days holds, per day, the value of each figure series (users_total, users_active_month,
-- local_posts: raw and cleaned) and of servers_up, for every software ('*') and per family, as
-- crates/fedicensus-storage/src/rollup.rs computes them from the observations with the
-- definitions of docs/METHODOLOGY.md. It is derived data: it can be dropped and rebuilt at any
-- time from observations and quality_flags.
--
-- It is kept correct lazily: every statement that writes observations or quality_flags, by any
-- path (the crawler, a bulk load, an import, COPY, a hand-written statement), appends the
-- earliest day it touched to series_dirty, in the same transaction, through the statement-level
-- triggers below. Before a series is read, a refresh deletes the markers it can see and
-- recomputes every day from the earliest of them on (a value on day D depends on visits in the
-- 30 days ending with D only). series_dirty is append-only, without a unique key, on purpose: a
-- writer never skips its marker because another one exists, so a marker deleted by a concurrent
-- refresh can never stand for a write that refresh did not see (it sees every transaction that
-- committed before its scan, and a marker committed later survives its delete).
CREATE TABLE series_days (
    metric            TEXT             NOT NULL,
    software          TEXT             NOT NULL,    -- a family, or '*' for every software
    cleaned           BOOLEAN          NOT NULL,
    day               DATE             NOT NULL,    -- the point as of its end
    value             DOUBLE PRECISION NOT NULL,
    servers_reporting BIGINT           NOT NULL,
    flagged           BIGINT           NOT NULL,
    flagged_kinds     TEXT             NOT NULL,    -- JSON object: flag kind -> count
    PRIMARY KEY (metric, software, cleaned, day)
);

CREATE TABLE series_dirty (
    day DATE NOT NULL
);
CREATE INDEX series_dirty_day ON series_dirty (day);
INSERT INTO series_dirty (day)
    SELECT MIN((observed_at AT TIME ZONE 'UTC')::date) FROM observations HAVING COUNT(*) > 0;

CREATE FUNCTION series_dirty_from_observations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        INSERT INTO series_dirty (day)
            SELECT MIN((observed_at AT TIME ZONE 'UTC')::date) FROM new_rows HAVING COUNT(*) > 0;
    END IF;
    IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN
        INSERT INTO series_dirty (day)
            SELECT MIN((observed_at AT TIME ZONE 'UTC')::date) FROM old_rows HAVING COUNT(*) > 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION series_dirty_from_flags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        INSERT INTO series_dirty (day)
            SELECT MIN((o.observed_at AT TIME ZONE 'UTC')::date)
            FROM new_rows q JOIN observations o ON o.id = q.observation_id HAVING COUNT(*) > 0;
    END IF;
    IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN
        INSERT INTO series_dirty (day)
            SELECT MIN((o.observed_at AT TIME ZONE 'UTC')::date)
            FROM old_rows q JOIN observations o ON o.id = q.observation_id HAVING COUNT(*) > 0;
    END IF;
    RETURN NULL;
END
$$;

-- A trigger with transition tables takes one event, hence one trigger per event.
CREATE TRIGGER series_dirty_observation_insert AFTER INSERT ON observations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION series_dirty_from_observations();
CREATE TRIGGER series_dirty_observation_update AFTER UPDATE ON observations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION series_dirty_from_observations();
CREATE TRIGGER series_dirty_observation_delete AFTER DELETE ON observations
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION series_dirty_from_observations();
CREATE TRIGGER series_dirty_flag_insert AFTER INSERT ON quality_flags
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION series_dirty_from_flags();
CREATE TRIGGER series_dirty_flag_update AFTER UPDATE ON quality_flags
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION series_dirty_from_flags();
CREATE TRIGGER series_dirty_flag_delete AFTER DELETE ON quality_flags
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION series_dirty_from_flags();
