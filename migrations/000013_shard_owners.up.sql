-- Ownership by Kafka's consumer group, fenced here (CONTRACT §7, DESIGN.md "Many nodes").
-- An order's shard is the partition Kafka's default partitioner gives its id; the node
-- whose consumer holds that partition owns the order. Each acquisition of a shard raises
-- its epoch (persistence/shard_repository.cpp) while holding the shard's advisory lock
-- exclusively; every order write holds it shared and is refused when the epoch it carries
-- is no longer the shard's. A deposed owner (a pause, a cut link) thus cannot write.
CREATE TABLE shard_owners (
    shard       integer     PRIMARY KEY CHECK (shard >= 0),
    epoch       bigint      NOT NULL CHECK (epoch > 0),
    node_id     text        NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now()
);
-- The shard and epoch of an order's last write: what an audit compares with
-- shard_owners. Not indexed, so that updates stay HOT (migration 000004). NULL for
-- orders written before this migration until their next write.
ALTER TABLE orders ADD COLUMN shard integer, ADD COLUMN epoch bigint;
-- The sweeper of a node sweeps the deadlines of the shards it owns. Rows written before
-- this migration get their shard from the first node that starts (shard_of needs the
-- partition count, which only the brokers know).
ALTER TABLE order_deadlines ADD COLUMN shard integer;
