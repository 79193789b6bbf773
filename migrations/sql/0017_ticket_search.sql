-- Ticket search by the words of their messages (tickets.SearchTickets).
-- PostgreSQL already has the words of every message in a GIN index
-- (messages_content_fts, 0002), which the database keeps in step itself.
-- SQLite gets a full-text table over the text messages, kept in step by
-- triggers in the transaction of every write to messages (insert, edit,
-- removal, anonymisation, deletion), and filled with the messages there
-- are.
{{TICKET_SEARCH_INDEX}};
