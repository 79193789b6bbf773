package tickets

import "strings"

// searchIndex is what differs between the databases' full-text search:
// how to ask which messages (AS m) hold every one of some words. Words
// are searchWords': lower-cased runs of letters and digits, so neither
// query language sees an operator in them.
type searchIndex interface {
	matching(words []string) (cond string, args []any)
}

// indexFor returns the index of a database dialect.
func indexFor(dialect string) searchIndex {
	if dialect == "postgres" {
		return postgresWords{}
	}
	return sqliteWords{}
}

// sqliteWords is the FTS4 table message_words (migration 0017), kept in
// step with messages by triggers; its docid is the message's seq. Each
// word is a quoted term: FTS4 joins terms with AND.
type sqliteWords struct{}

func (sqliteWords) matching(words []string) (string, []any) {
	return "m.seq IN (SELECT docid FROM message_words WHERE message_words MATCH ?)",
		[]any{`"` + strings.Join(words, `" "`) + `"`}
}

// postgresWords is the GIN index messages_content_fts over
// to_tsvector('simple', content) (migration 0002): the expression must be
// the index's for PostgreSQL to use it. plainto_tsquery joins the words
// with AND.
type postgresWords struct{}

func (postgresWords) matching(words []string) (string, []any) {
	return "to_tsvector('simple', m.content) @@ plainto_tsquery('simple', ?)", []any{strings.Join(words, " ")}
}
