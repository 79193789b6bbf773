-- The domain event stream's outbox (package outbox, docs/events.md).
--
-- outbox: one row per stream event, written in the transaction of the
-- change it tells of. seq is the commit order; the relay publishes the
-- pending rows (published_at NULL) in seq order, then dates them;
-- a scheduled job deletes them once they are old enough. envelope is
-- the JSON published as it is; msg_key the sink's partition key (the
-- session, or the user of an event about no session).
CREATE TABLE outbox (
    seq          {{AUTO_ID}},
    id           TEXT NOT NULL,
    namespace    TEXT NOT NULL,
    name         TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    msg_key      TEXT NOT NULL,
    envelope     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    published_at BIGINT
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;

-- outbox_relay: the lease of the one node whose relay publishes (holder,
-- until expires_at, Unix ms); another node takes it once it has expired.
CREATE TABLE outbox_relay (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
