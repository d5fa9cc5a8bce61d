-- Languages servers declare (PostgreSQL). Never edit this file once landed.
--
-- One row per visit, document and language: the instance API v1/v2 `languages`, Lemmy's site
-- `discussion_languages`, Misskey's meta `langs`, NodeInfo `metadata.languages`, each normalised
-- to a lowercase BCP 47 primary language tag by fedicensus-core. `position` orders a visit's
-- rows as core does (most trusted document first, each document's own order kept): position 0 is
-- the server's primary language at that visit, the one the language series count it under.
CREATE TABLE observation_languages (
    observation_id BIGINT  NOT NULL REFERENCES observations (id),
    source         TEXT    NOT NULL,
    language       TEXT    NOT NULL,
    position       BIGINT  NOT NULL,
    PRIMARY KEY (observation_id, source, language)
);
-- The series read a visit's primary language only.
CREATE INDEX observation_languages_primary ON observation_languages (observation_id)
    WHERE position = 0;
