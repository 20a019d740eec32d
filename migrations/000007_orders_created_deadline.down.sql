ALTER TABLE orders DROP COLUMN created_expired_at;
