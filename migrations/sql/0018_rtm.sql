-- The RTM binding (package rtm, docs/rtm.md).
--
-- rtm_tokens: the single-use socket tokens of POST /api/v1/rtm/connect.
-- Only the token's SHA-256 is kept (hash, hex). principal is the JSON of
-- the principal the token was issued to; expires_at and used_at are Unix
-- ms (used_at 0: not used yet). Stored rather than held in memory so that
-- a token issued by one node is taken by another.
CREATE TABLE rtm_tokens (
    hash        TEXT PRIMARY KEY,
    principal   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX rtm_tokens_expiry ON rtm_tokens (expires_at);

-- message_reactions: one emoji reaction of one user on one message
-- (chat/reactions.go). seq is the message's; a user has at most one
-- reaction per emoji on a message.
CREATE TABLE message_reactions (
    seq         BIGINT NOT NULL,
    user_id     TEXT NOT NULL,
    emoji       TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (seq, user_id, emoji)
);

-- chat_members.unread_count: the member's unread messages in the session
-- (chat/unread.go), kept in the commit of each change: a message adds one
-- for every member but its sender, a read, a removal or a join sets -1
-- (not known), which the next count of the member's unread messages
-- replaces by a recount from the read mark (last_read_seq).
ALTER TABLE chat_members ADD COLUMN unread_count BIGINT NOT NULL DEFAULT -1;
