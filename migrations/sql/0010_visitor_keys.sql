-- Rotation of the visitor signing key and pruning of refresh credentials
-- (package visitors).
--
-- visitor_signing_keys.generation numbers the keys, oldest first: the
-- newest signs, older ones only verify until the tokens they signed have
-- expired. The first key (named 'visitors' by 0005) is generation 0. A
-- node replacing the newest key inserts the next generation; the unique
-- index makes two nodes doing so at once insert one key between them.
ALTER TABLE visitor_signing_keys ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX visitor_signing_keys_generation ON visitor_signing_keys (generation);

-- The pruning job finds expired refresh credentials by their expiry.
CREATE INDEX visitor_refresh_tokens_expires ON visitor_refresh_tokens (expires_at);
