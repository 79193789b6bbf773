-- Automatic routing (tickets/routing.go).
--
-- users.capacity: the most open tickets routing gives this operator at
-- once; 0 = the server's default (SWITCHBOARD_OPERATOR_CAPACITY).
-- users.last_assigned_at: when routing last gave the operator a ticket
-- (Unix ms, strictly increasing within a tenant): the round-robin
-- rotation, and the idle time that breaks least-busy ties.
ALTER TABLE users ADD COLUMN capacity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_assigned_at BIGINT NOT NULL DEFAULT 0;

-- An operator's open tickets are counted on every routing decision, and
-- the waiting queue is read oldest first.
CREATE INDEX tickets_handler ON tickets (tenant, handler_id, status);
CREATE INDEX tickets_queue ON tickets (tenant, status, created_at);
-- Recent accepts give the estimated wait.
CREATE INDEX tickets_accepted ON tickets (tenant, accepted_at);
