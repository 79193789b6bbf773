-- Operator tools: canned responses (canned/), labels (labels/, and the
-- labels on each ticket, tickets/labels.go) and satisfaction ratings
-- (tickets/rating.go).

-- canned_responses: texts operators insert from the composer. scope is
-- 'tenant' (owner_id '') or 'personal' (owner_id the operator), so one
-- unique index keeps a shortcut unique per scope and owner.
CREATE TABLE canned_responses (
    id         TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    owner_id   TEXT NOT NULL DEFAULT '',
    shortcut   TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX canned_responses_shortcut ON canned_responses (tenant, scope, owner_id, shortcut);

-- labels: a tenant's labels, unique by name.
CREATE TABLE labels (
    id         TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    name       TEXT NOT NULL,
    color      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX labels_name ON labels (tenant, name);

-- ticket_labels: which labels a ticket carries; the second index serves
-- the tickets list's label filter and the labels' open counts.
CREATE TABLE ticket_labels (
    ticket_id TEXT NOT NULL,
    label_id  TEXT NOT NULL,
    tenant    TEXT NOT NULL,
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, label_id)
);
CREATE INDEX ticket_labels_label ON ticket_labels (label_id, ticket_id);

-- The owner's rating of a closed ticket, once: rated_at 0 = not rated.
ALTER TABLE tickets ADD COLUMN rating_score INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN rating_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN rated_at BIGINT NOT NULL DEFAULT 0;
