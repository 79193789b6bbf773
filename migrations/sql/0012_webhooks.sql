-- Webhooks for external programs (package webhooks, docs/events.md
-- § Webhooks).
--
-- webhooks: one endpoint per program of a tenant (a program's
-- notifications never cross its tenant). events is the filter, written
-- ",new,changed," (empty: every event). failures counts the failed
-- deliveries in a row; parked_at (Unix ms) is set once they reach the
-- limit, and cleared by a successful probe or a new registration.
CREATE TABLE webhooks (
    tenant      TEXT NOT NULL,
    program_id  TEXT NOT NULL,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,
    failures    INTEGER NOT NULL DEFAULT 0,
    parked_at   BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, program_id)
);

-- webhook_notifications: the program's notifications not yet delivered,
-- written in the transaction of the change they tell of (the webhooks'
-- outbox). seq is the order of delivery; id the notification id the
-- receiver de-duplicates on. A delivered row is deleted.
CREATE TABLE webhook_notifications (
    seq         {{AUTO_ID}},
    tenant      TEXT NOT NULL,
    program_id  TEXT NOT NULL,
    id          TEXT NOT NULL,
    notification TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX webhook_notifications_program ON webhook_notifications (tenant, program_id, seq);

-- webhook_deliveries: the last deliveries per program (at, Unix ms; the
-- HTTP status, 0 when none came; the error; how many notifications; how
-- long, ms).
CREATE TABLE webhook_deliveries (
    seq          {{AUTO_ID}},
    tenant       TEXT NOT NULL,
    program_id   TEXT NOT NULL,
    at           BIGINT NOT NULL,
    status       INTEGER NOT NULL,
    error        TEXT NOT NULL,
    count        INTEGER NOT NULL,
    duration_ms  BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_program ON webhook_deliveries (tenant, program_id, seq);

-- webhook_lease: the node whose dispatcher delivers (holder, until
-- expires_at, Unix ms); another takes over once it has expired.
CREATE TABLE webhook_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
