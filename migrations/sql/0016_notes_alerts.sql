-- Internal notes: what operators write in a ticket's conversation for
-- each other. Apart from messages on purpose: nothing that reads
-- messages (history, transcripts, the chat protocol, the event stream)
-- can come upon a note. id is the client's noteId, unique in the tenant
-- so that a retry finds its note; mentions are the ids of the operators
-- the note mentions, separated by a space (ids hold none).
CREATE TABLE ticket_notes (
    seq         {{AUTO_ID}},
    id          TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    ticket_id   TEXT NOT NULL,
    author_id   TEXT NOT NULL,
    author_name TEXT NOT NULL DEFAULT '',
    content     TEXT NOT NULL,
    mentions    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX ticket_notes_id ON ticket_notes (tenant, id);
CREATE INDEX ticket_notes_ticket ON ticket_notes (ticket_id, seq);

-- Alerts: what one operator is told personally (a mention, …), until
-- read. read_at 0 is unread.
CREATE TABLE alerts (
    seq          {{AUTO_ID}},
    id           TEXT NOT NULL UNIQUE,
    tenant       TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    ticket_id    TEXT NOT NULL,
    note_id      TEXT NOT NULL DEFAULT '',
    message_id   TEXT NOT NULL DEFAULT '',
    by_id        TEXT NOT NULL,
    by_name      TEXT NOT NULL DEFAULT '',
    text         TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    read_at      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX alerts_recipient ON alerts (tenant, recipient_id, seq);
CREATE INDEX alerts_ticket ON alerts (ticket_id);
