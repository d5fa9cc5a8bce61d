-- Where servers are hosted (PostgreSQL). Never edit this file once landed.
--
-- One row per visit whose name resolved while the crawler had a geolocation database (`[geo]`):
-- the country and autonomous system of the address the visit connected to, as the operator's
-- MaxMind-format databases said at the time. A NULL is "the database has none for this address";
-- a visit without a row was made without a database (or never resolved). The address itself is
-- not stored (it can identify a person's home machine); `database` names the databases used and
-- their build dates.
CREATE TABLE observation_geo (
    observation_id  BIGINT  NOT NULL PRIMARY KEY REFERENCES observations (id),
    country         TEXT,
    asn             BIGINT,
    as_organization TEXT,
    database        TEXT    NOT NULL
);
