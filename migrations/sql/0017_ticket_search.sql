-- Ticket search by the words of their messages (tickets.SearchTickets).
-- PostgreSQL: a GIN index over the words of every message, its ASCII
-- punctuation made spaces first (migrations.postgresMessageWords), which
-- the database keeps in step itself. SQLite: a full-text table over the
-- text messages that the search indexer fills in batches shortly after
-- the messages commit, up to a high-water mark (message_words_mark);
-- edits, removals, anonymisation and deletion of indexed messages are
-- followed by triggers in their own transactions.
{{TICKET_SEARCH_INDEX}};
