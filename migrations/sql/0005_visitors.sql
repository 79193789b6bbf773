-- Website visitors without an account (package visitors).
--
-- visitor_signing_keys: the key Switchboard signs visitors' access tokens
-- with. The first node to start inserts one; every node of the database
-- then reads the same row, so a token minted by one node is accepted by
-- all of them and survives restarts.
CREATE TABLE visitor_signing_keys (
    name       TEXT PRIMARY KEY,
    jwk        TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- visitors: one row per visitor Switchboard has issued tokens for.
-- subject is the access token's sub: visitor:<uuid> for an anonymous
-- visitor, site:<user id> for one a site vouched for.
CREATE TABLE visitors (
    id         TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX visitors_subject ON visitors (tenant, subject);

-- visitor_refresh_tokens: a visitor's refresh credentials, by the SHA-256
-- of the credential (the credential itself is never stored). Each is used
-- once: renewing sets used_at and inserts its successor in the same
-- family. A used one presented again means it was copied: the whole
-- family is revoked.
CREATE TABLE visitor_refresh_tokens (
    hash       TEXT PRIMARY KEY,
    visitor_id TEXT NOT NULL,
    family     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX visitor_refresh_tokens_family ON visitor_refresh_tokens (family);

-- What the widget knew of the visitor when the ticket was opened (page
-- URL, referrer, user agent, locale, time zone, the site's attributes):
-- a JSON object of strings, shown to operators; '' when none was sent.
ALTER TABLE tickets ADD COLUMN visitor_context TEXT NOT NULL DEFAULT '';
