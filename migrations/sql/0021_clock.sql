-- clock: the order of commits across the nodes sharing the database
-- (database.Clock). One row; a transaction that has events for sockets
-- adds the number of its Ops with such events to seq before it commits.
-- The row stays locked until the commit, so seq order is commit order
-- across every node, and each node delivers events in seq order.
CREATE TABLE clock (
    id  INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO clock (id, seq) VALUES (1, 0);
