-- Data-protection requests (package privacy): which administrator
-- exported or erased whose data, when, and what it came to (a JSON object
-- of counts). The subject's id stays after an erasure: it is what shows
-- that the request was carried out, and it says nothing more about them.
CREATE TABLE data_requests (
    id         {{AUTO_ID}},
    tenant     TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    summary    TEXT NOT NULL DEFAULT '',
    at         BIGINT NOT NULL
);
CREATE INDEX data_requests_tenant ON data_requests (tenant, at);
