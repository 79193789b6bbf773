-- Teams (operators/teams.go): groups of a tenant's operators that tickets
-- are opened for and transferred to.
--
-- teams.id is a short slug an administrator chooses (lower-case letters,
-- digits and '-', 1 to 40 characters), unique within its tenant. email is
-- the team's own address ('' = none).
CREATE TABLE teams (
    tenant     TEXT NOT NULL,
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

-- team_members: which operators belong to which teams; an operator may
-- belong to several.
CREATE TABLE team_members (
    tenant      TEXT NOT NULL,
    team_id     TEXT NOT NULL,
    operator_id TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant, team_id, operator_id)
);
CREATE INDEX team_members_operator ON team_members (tenant, operator_id);

-- The team a ticket is for ('' = none): routing gives a waiting ticket
-- only to its team's members, and reads each team's queue oldest first.
ALTER TABLE tickets ADD COLUMN team_id TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_team_queue ON tickets (tenant, status, team_id, created_at);

-- The audit trail records a ticket's team before and after each
-- transition, so that a transfer to a team is in it like any other move.
ALTER TABLE ticket_events ADD COLUMN from_team TEXT NOT NULL DEFAULT '';
ALTER TABLE ticket_events ADD COLUMN to_team TEXT NOT NULL DEFAULT '';
