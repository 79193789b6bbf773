package database

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// Raw SQL for the few statements on the per-message path, where building
// a statement through gorm (clauses, callbacks, reflection over the
// destination) costs more than running it. The statement runs on tx's
// connection pool as it is: the transaction of an Op, and on the SQLite
// writer a statement prepared once and reused (gorm's PrepareStmt cache).
// Queries are written with ? placeholders; Rebind turns them into $n for
// PostgreSQL.

// QueryRow runs a query that returns at most one row.
func QueryRow(tx *gorm.DB, query string, args ...any) *sql.Row {
	return tx.Statement.ConnPool.QueryRowContext(ctxOf(tx), Rebind(tx, query), args...)
}

// Query runs a query that returns rows; close them.
func Query(tx *gorm.DB, query string, args ...any) (*sql.Rows, error) {
	return tx.Statement.ConnPool.QueryContext(ctxOf(tx), Rebind(tx, query), args...)
}

// Exec runs a statement and reports the rows it changed.
func Exec(tx *gorm.DB, query string, args ...any) (int64, error) {
	res, err := tx.Statement.ConnPool.ExecContext(ctxOf(tx), Rebind(tx, query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func ctxOf(tx *gorm.DB) context.Context {
	if ctx := tx.Statement.Context; ctx != nil {
		return ctx
	}
	return context.Background()
}

var rebound sync.Map // query with ? -> query with $n

// Rebind returns query with PostgreSQL's $1, $2… placeholders when tx is
// PostgreSQL's, else query unchanged. The queries are the program's own
// constants: a ? is always a placeholder.
func Rebind(tx *gorm.DB, query string) string {
	if tx.Dialector.Name() != "postgres" {
		return query
	}
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	rebound.Store(query, b.String())
	return b.String()
}
