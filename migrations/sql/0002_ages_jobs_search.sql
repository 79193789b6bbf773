-- Session age (MESessionAge) per member: RECENT or ARCHIVED (chat.AgeOf).
-- It depends on the member's star and archive marks and on the session's
-- last update, so time alone changes it: a scheduled job
-- (chat.RefreshAges) keeps it current, and a write that changes those
-- inputs can refresh its sessions at once (chat.RefreshSessionAges).
-- Stored so that filtering by age is a plain indexed condition.
ALTER TABLE chat_members ADD COLUMN age TEXT NOT NULL DEFAULT 'RECENT';
CREATE INDEX chat_members_user_age ON chat_members (user_id, age);
CREATE INDEX chat_sessions_updated ON chat_sessions (updated_at);

-- One row per scheduled run of a job: whichever node inserts (name, slot)
-- first runs that slot; the others see the key taken and skip it. slot is
-- the scheduled time (Unix ms), the same on every node whatever its clock.
CREATE TABLE job_runs (
    name        TEXT NOT NULL,
    slot        BIGINT NOT NULL,
    node        TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (name, slot)
);

-- Search (findByProperties). On PostgreSQL, word indexes for session titles
-- and message bodies ('simple' configuration: no stemming, any language).
-- SQLite matches substrings with LIKE over the searching user's own
-- sessions and needs no index beyond membership.
{{SEARCH_INDEX_TITLES}};
{{SEARCH_INDEX_MESSAGES}};
