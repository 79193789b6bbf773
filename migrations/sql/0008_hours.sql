-- Business hours (package hours).
--
-- business_hours: one schedule per tenant and team, as JSON (hours.Wire:
-- time zone, weekly intervals, holidays, the address offline tickets are
-- announced to). team '' is the tenant's own schedule, which every team
-- without one of its own follows. No row at all: always open.
CREATE TABLE business_hours (
    tenant     TEXT NOT NULL,
    team       TEXT NOT NULL DEFAULT '',
    schedule   TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, team)
);
