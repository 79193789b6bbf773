-- The general chat protocol: edited and removed messages, the metadata a
-- message carries, and per-member read receipts for sessions with more
-- than one recipient (a ONETOONE ticket message keeps its delivery state
-- on its row).
ALTER TABLE messages ADD COLUMN edited_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN removed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN metadata TEXT NOT NULL DEFAULT '';

-- message_reads: user_id has read the message with seq (read receipts of
-- markMsgRead); chat_members.last_read_seq marks everything up to a point
-- read at once (markSessionRead).
CREATE TABLE message_reads (
    seq        BIGINT NOT NULL,
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    read_at    BIGINT NOT NULL,
    PRIMARY KEY (seq, user_id)
);
CREATE INDEX message_reads_user ON message_reads (user_id, session_id);

CREATE INDEX chat_sessions_tenant ON chat_sessions (tenant, updated_at);
