-- Users: end users (scoped by program), operators and programs, per tenant.
-- Presence is computed from live sockets; last_seen is kept here.
CREATE TABLE users (
    tenant         TEXT NOT NULL,
    id             TEXT NOT NULL,
    program_id     TEXT NOT NULL DEFAULT '',
    role           TEXT NOT NULL,
    username       TEXT NOT NULL DEFAULT '',
    full_name      TEXT NOT NULL DEFAULT '',
    salutation     TEXT NOT NULL DEFAULT '',
    gender         TEXT NOT NULL DEFAULT '',
    dob            TEXT NOT NULL DEFAULT '',
    email          TEXT NOT NULL DEFAULT '',
    latitude       DOUBLE PRECISION,
    longitude      DOUBLE PRECISION,
    status         TEXT NOT NULL DEFAULT 'AVAILABLE',
    status_message TEXT NOT NULL DEFAULT '',
    last_seen      BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

-- Chat sessions: a ticket is a ONETOONE session between its owner and its
-- current handler.
CREATE TABLE chat_sessions (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL,
    type        TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    creator_id  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE chat_members (
    session_id    TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    role          TEXT NOT NULL,
    joined_at     BIGINT NOT NULL,
    left_at       BIGINT NOT NULL DEFAULT 0,
    starred       BOOLEAN NOT NULL DEFAULT FALSE,
    archived      BOOLEAN NOT NULL DEFAULT FALSE,
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX chat_members_user ON chat_members (user_id);

-- Messages in commit order (seq). id is the client's GUID. In a ONETOONE
-- session a message has one recipient, so its delivery state lives on the
-- row; sessions with more members will keep per-member receipts.
CREATE TABLE messages (
    seq            {{AUTO_ID}},
    id             TEXT NOT NULL UNIQUE,
    session_id     TEXT NOT NULL,
    tenant         TEXT NOT NULL,
    kind           TEXT NOT NULL DEFAULT 'USER',
    type           INTEGER NOT NULL,
    content        TEXT NOT NULL,
    encoding       TEXT NOT NULL DEFAULT 'utf-8',
    program_id     TEXT NOT NULL DEFAULT '',
    sender_id      TEXT NOT NULL,
    sender_name    TEXT NOT NULL DEFAULT '',
    recipient_id   TEXT NOT NULL DEFAULT '',
    recipient_name TEXT NOT NULL DEFAULT '',
    status_id      INTEGER NOT NULL DEFAULT 1,
    status_flag    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL,
    delivered_at   BIGINT NOT NULL DEFAULT 0,
    read_at        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX messages_session ON messages (session_id, seq);
CREATE INDEX messages_unread ON messages (recipient_id, sender_id, status_id);

-- Tickets layered on chat sessions: id = the chat session id.
CREATE TABLE tickets (
    id                TEXT PRIMARY KEY,
    tenant            TEXT NOT NULL,
    status            INTEGER NOT NULL,
    owner_id          TEXT NOT NULL,
    owner_name        TEXT NOT NULL DEFAULT '',
    handler_id        TEXT NOT NULL DEFAULT '',
    handler_name      TEXT NOT NULL DEFAULT '',
    program_id        TEXT NOT NULL DEFAULT '',
    is_external       BOOLEAN NOT NULL DEFAULT FALSE,
    display_name      TEXT NOT NULL DEFAULT '',
    ticket_name       TEXT NOT NULL DEFAULT '',
    awaiting_response BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        BIGINT NOT NULL,
    accepted_at       BIGINT NOT NULL DEFAULT 0,
    closed_at         BIGINT NOT NULL DEFAULT 0,
    last_response_at  BIGINT NOT NULL DEFAULT 0,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX tickets_owner ON tickets (tenant, owner_id);
CREATE INDEX tickets_status ON tickets (tenant, status);

-- The audit trail: one row per transition and assignment.
CREATE TABLE ticket_events (
    id           {{AUTO_ID}},
    ticket_id    TEXT NOT NULL,
    action       TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    from_status  INTEGER NOT NULL,
    to_status    INTEGER NOT NULL,
    from_handler TEXT NOT NULL DEFAULT '',
    to_handler   TEXT NOT NULL DEFAULT '',
    at           BIGINT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
