-- The daily rollup of the published series (SQLite). Never edit this file once landed.
--
-- series_days holds, per day, the value of each figure series (users_total, users_active_month,
-- local_posts: raw and cleaned) and of servers_up, for every software ('*') and per family, as
-- crates/fedicensus-storage/src/rollup.rs computes them from the observations with the
-- definitions of docs/METHODOLOGY.md. It is derived data: it can be dropped and rebuilt at any
-- time from observations and quality_flags.
--
-- It is kept correct lazily: every write to observations or quality_flags, by any path (the
-- crawler, a bulk load, an import, a copy, a hand-written statement), moves the single
-- series_state.dirty_from back to the earliest day it touched, in the same transaction, through
-- the triggers below. Before a series is read, days from dirty_from on are recomputed (a value
-- on day D depends on visits in the 30 days ending with D only, so earlier days cannot change).
-- SQLite has one writer at a time, so the marker cannot be lost between a write and a refresh.
CREATE TABLE series_days (
    metric            TEXT    NOT NULL,
    software          TEXT    NOT NULL,             -- a family, or '*' for every software
    cleaned           BOOLEAN NOT NULL,
    day               TEXT    NOT NULL,             -- 'YYYY-MM-DD', the point as of its end
    value             REAL    NOT NULL,
    servers_reporting INTEGER NOT NULL,
    flagged           INTEGER NOT NULL,
    flagged_kinds     TEXT    NOT NULL,             -- JSON object: flag kind -> count
    PRIMARY KEY (metric, software, cleaned, day)
);

CREATE TABLE series_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    dirty_from TEXT                                  -- NULL: series_days is up to date
);
INSERT INTO series_state (id, dirty_from)
    VALUES (1, (SELECT substr(MIN(observed_at), 1, 10) FROM observations));

CREATE TRIGGER series_dirty_observation_insert AFTER INSERT ON observations
BEGIN
    UPDATE series_state SET dirty_from = substr(NEW.observed_at, 1, 10)
    WHERE dirty_from IS NULL OR dirty_from > substr(NEW.observed_at, 1, 10);
END;

CREATE TRIGGER series_dirty_observation_delete AFTER DELETE ON observations
BEGIN
    UPDATE series_state SET dirty_from = substr(OLD.observed_at, 1, 10)
    WHERE dirty_from IS NULL OR dirty_from > substr(OLD.observed_at, 1, 10);
END;

CREATE TRIGGER series_dirty_observation_update AFTER UPDATE ON observations
BEGIN
    UPDATE series_state SET dirty_from = substr(MIN(OLD.observed_at, NEW.observed_at), 1, 10)
    WHERE dirty_from IS NULL
       OR dirty_from > substr(MIN(OLD.observed_at, NEW.observed_at), 1, 10);
END;

CREATE TRIGGER series_dirty_flag_insert AFTER INSERT ON quality_flags
BEGIN
    UPDATE series_state SET dirty_from = (
        SELECT substr(observed_at, 1, 10) FROM observations WHERE id = NEW.observation_id)
    WHERE dirty_from IS NULL OR dirty_from > (
        SELECT substr(observed_at, 1, 10) FROM observations WHERE id = NEW.observation_id);
END;

CREATE TRIGGER series_dirty_flag_delete AFTER DELETE ON quality_flags
BEGIN
    UPDATE series_state SET dirty_from = (
        SELECT substr(observed_at, 1, 10) FROM observations WHERE id = OLD.observation_id)
    WHERE dirty_from IS NULL OR dirty_from > (
        SELECT substr(observed_at, 1, 10) FROM observations WHERE id = OLD.observation_id);
END;

CREATE TRIGGER series_dirty_flag_update AFTER UPDATE ON quality_flags
BEGIN
    UPDATE series_state SET dirty_from = (
        SELECT MIN(substr(observed_at, 1, 10)) FROM observations
        WHERE id IN (OLD.observation_id, NEW.observation_id))
    WHERE dirty_from IS NULL OR dirty_from > (
        SELECT MIN(substr(observed_at, 1, 10)) FROM observations
        WHERE id IN (OLD.observation_id, NEW.observation_id));
END;
