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

// sqliteWords is the FTS4 table message_words (migration 0017), filled
// by the search indexer (search_indexer.go) shortly after messages
// commit and kept in step with their changes by triggers; its docid is
// the message's seq. Each
// word is a quoted term: FTS4 joins terms with AND.
type sqliteWords struct{}

func (sqliteWords) matching(words []string) (string, []any) {
	return "m.seq IN (SELECT docid FROM message_words WHERE message_words MATCH ?)",
		[]any{`"` + strings.Join(words, `" "`) + `"`}
}

// postgresWords is the GIN index messages_words (migration 0017) over
// postgresMessageWords: a message's words with ASCII punctuation made
// spaces first (all but ?, which SQL drivers take for a parameter and
// the parser splits on anyway), so that PostgreSQL's parser keeps no address, host name
// or hyphenated word whole and both databases find the same words. The
// expression must be the index's for PostgreSQL to use it
// (TestPostgresWordsAreTheIndexs). plainto_tsquery joins the words with
// AND.
type postgresWords struct{}

// postgresMessageWords is migrations.postgresMessageWords on messages AS m.
const postgresMessageWords = `to_tsvector('simple', translate(m.content, '!"#$%&''()*+,-./:;<=>@[\]^_` + "`" + `{|}~', '                               '))`

func (postgresWords) matching(words []string) (string, []any) {
	return postgresMessageWords + " @@ plainto_tsquery('simple', ?)", []any{strings.Join(words, " ")}
}
