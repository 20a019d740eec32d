-- Cluster membership (DESIGN.md "Many nodes"): every serving node upserts its row
-- every CLUSTER_HEARTBEAT_MS; a node whose heartbeat is older than CLUSTER_TIMEOUT_MS
-- is no longer live and its orders move to the others (rendezvous hashing over the
-- live node ids). Rows of dead nodes stay until the node id comes back; they cost
-- nothing and show the history.
CREATE TABLE cluster_nodes (
    node_id      text        PRIMARY KEY,
    host         text        NOT NULL,
    caf_port     integer     NOT NULL CHECK (caf_port BETWEEN 1 AND 65535),
    http_url     text        NOT NULL,
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cluster_nodes_heartbeat ON cluster_nodes (heartbeat_at);
