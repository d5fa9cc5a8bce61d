-- Downsamplings of old raw observations (`fedicensus downsample`, SQLite). Never edit this file
-- once landed.
--
-- Raw observations are kept by default. An operator may thin the visits older than a date to the
-- few per server and UTC day that every published figure rests on (docs/METHODOLOGY.md,
-- "Downsampling"); each run is recorded here so that an export of observations can say which
-- dates hold fewer visits than were made, and since when.
CREATE TABLE downsamplings (
    id                   INTEGER PRIMARY KEY,
    before_date          TEXT    NOT NULL,  -- visits before this UTC date were thinned
    started_at           TEXT    NOT NULL,
    finished_at          TEXT,              -- NULL: interrupted; running it again finishes it
    observations_removed INTEGER NOT NULL,
    rule                 TEXT    NOT NULL
);
