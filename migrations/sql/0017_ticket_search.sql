-- Ticket search by the words of their messages (tickets.SearchTickets).
-- PostgreSQL: a GIN index over the words of every message, its ASCII
-- punctuation made spaces first (migrations.postgresMessageWords), which
-- the database keeps in step itself. SQLite: a full-text table over the
-- text messages, kept in step by triggers in the transaction of every
-- write to messages (insert, edit, removal, anonymisation, deletion), and
-- filled with the messages there are.
{{TICKET_SEARCH_INDEX}};
