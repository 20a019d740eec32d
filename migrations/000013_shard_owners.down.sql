ALTER TABLE order_deadlines DROP COLUMN shard;
ALTER TABLE orders DROP COLUMN shard, DROP COLUMN epoch;
DROP TABLE shard_owners;
