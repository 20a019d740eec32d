-- Sweepers of several nodes share the deadline log: a sweeper claims the due rows it
-- sends for (claimed_until, a lease) so that the others skip them, and claims rows of
-- any order, its own or another node's (the router forwards the expiry to the owner).
-- An unanswered claim lapses and the row is swept again.
ALTER TABLE order_deadlines ADD COLUMN claimed_until timestamptz;
