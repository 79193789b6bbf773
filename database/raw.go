package database

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/database/sqlite"
)

// Raw SQL for the few statements on the per-message path, where building
// a statement through gorm (clauses, callbacks, reflection over the
// destination) costs more than running it. The statement runs on tx's
// connection pool as it is: the transaction of an Op; on the SQLite
// writer with the tuning, a statement prepared once on its connection and
// run on the driver itself (sqlite.Writer). Queries are written with ? placeholders;
// Rebind turns them into $n for PostgreSQL.

// Row is one row of a query, read by Scan: a *sql.Row, or the tuned SQLite
// writer's own.
type Row interface {
	Scan(dest ...any) error
}

// QueryRow runs a query that returns at most one row.
func QueryRow(tx *gorm.DB, query string, args ...any) Row {
	if r, ok := sqlite.DirectRow(tx.Statement.ConnPool, ctxOf(tx), query, args); ok {
		return r
	}
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

// Insert runs an INSERT … ON CONFLICT DO NOTHING into a table whose key is
// an auto-increment id and returns the new row's id, or inserted=false
// when the row was not written. On SQLite it reads the id from the
// statement's result: a RETURNING clause there collects its rows in a
// temporary table first, which cost a fifth of a message insert. On
// PostgreSQL, whose driver has no last insert id, it adds RETURNING idColumn.
func Insert(tx *gorm.DB, idColumn, query string, args ...any) (id int64, inserted bool, err error) {
	if tx.Dialector.Name() == "postgres" {
		err = QueryRow(tx, query+" RETURNING "+idColumn, args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, false, nil
		}
		return id, err == nil, err
	}
	res, err := tx.Statement.ConnPool.ExecContext(ctxOf(tx), query, args...)
	if err != nil {
		return 0, false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, false, err
	}
	id, err = res.LastInsertId()
	return id, err == nil, err
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
