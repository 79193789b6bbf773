-- chat_request_keys: the idempotency key a chat-protocol client gave a
-- write (sendMsg's clientMsgId, createChat's clientSessionId) and the id of
-- what that write created. A retry with the same key by the same user finds
-- the row and answers with the original instead of writing again; the
-- primary key makes two racing writes with one key commit only once, on
-- one node or several.
CREATE TABLE chat_request_keys (
    tenant      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    request_key TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, user_id, kind, request_key)
);
