-- Servers of one installation (SQLite). Never edit this file once landed.
--
-- A host whose `/.well-known/nodeinfo` links to another host's document (Takahē serves several
-- local domains; each links to its main one) is a sibling of that host: both are servers in their
-- own right, each visited and counted with its own figures, and the relation is kept so that a
-- reader sees it on the server page and in the API. Nothing is merged: an alias (table `aliases`)
-- is another name of one server, a sibling another server of the same installation.
CREATE TABLE siblings (
    server_id  INTEGER NOT NULL REFERENCES servers (id),
    main_id    INTEGER NOT NULL REFERENCES servers (id),
    first_seen TEXT    NOT NULL,
    last_seen  TEXT    NOT NULL,
    PRIMARY KEY (server_id, main_id)
);
CREATE INDEX siblings_main ON siblings (main_id);
