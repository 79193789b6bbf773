package database

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// stmtPool is the SQLite writer's connection pool (one connection) with
// its statements prepared once and reused by every transaction, so that
// SQLite compiles each statement once rather than on every message.
//
// gorm's own PrepareStmt does not help here: it prepares a statement
// inside the transaction that first runs it, and database/sql cannot
// reuse a statement bound to a finished transaction, so it compiles again
// in the next one. A statement prepared on the pool, outside any
// transaction, is reused by each transaction on the same connection
// (sql.Tx.StmtContext). The pool has one connection, which a running
// transaction holds: a statement first seen inside a transaction runs
// unprepared there and is prepared after the commit (prepareWanted),
// which the Committer calls between batches.
type stmtPool struct {
	db *sql.DB

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]struct{}
}

// maxPrepared bounds the cache: statements whose text varies (IN lists
// of varying length) run unprepared beyond it.
const maxPrepared = 512

func newStmtPool(db *sql.DB) *stmtPool {
	return &stmtPool{db: db, stmts: map[string]*sql.Stmt{}, wanted: map[string]struct{}{}}
}

// stmt returns the prepared statement for query, or nil (and notes it as
// wanted) if it is not prepared yet.
func (p *stmtPool) stmt(query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stmts[query]
	if s == nil && len(p.stmts)+len(p.wanted) < maxPrepared {
		p.wanted[query] = struct{}{}
	}
	return s
}

// prepareWanted prepares the statements noted since the last call. It must
// run while no transaction holds the connection.
func (p *stmtPool) prepareWanted() {
	p.mu.Lock()
	if len(p.wanted) == 0 {
		p.mu.Unlock()
		return
	}
	wanted := p.wanted
	p.wanted = map[string]struct{}{}
	p.mu.Unlock()
	for q := range wanted {
		s, err := p.db.Prepare(q)
		if err != nil {
			continue // it runs unprepared, as it did
		}
		p.mu.Lock()
		if old := p.stmts[q]; old != nil {
			old.Close()
		}
		p.stmts[q] = s
		p.mu.Unlock()
	}
}

func (p *stmtPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for q, s := range p.stmts {
		s.Close()
		delete(p.stmts, q)
	}
}

// gorm.ConnPool, outside transactions: the pool itself.

func (p *stmtPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, query)
}

func (p *stmtPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, query, args...)
}

func (p *stmtPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.db.QueryContext(ctx, query, args...)
}

func (p *stmtPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, query, args...)
}

func (p *stmtPool) GetDBConn() (*sql.DB, error) { return p.db, nil }

// BeginTx starts a transaction whose statements use the prepared ones.
func (p *stmtPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &stmtTx{Tx: tx, pool: p}, nil
}

// stmtTx is a transaction of a stmtPool. It binds each prepared statement
// to the transaction once (sql.Tx.StmtContext makes a new *sql.Stmt on
// every call) and reuses it for the rest of the batch: a batch runs the
// same few statements for each of its Ops.
type stmtTx struct {
	*sql.Tx
	pool  *stmtPool
	bound map[*sql.Stmt]*sql.Stmt
}

func (t *stmtTx) GetDBConn() (*sql.DB, error) { return t.pool.db, nil }

// prepared returns query's prepared statement bound to the transaction, or
// nil when query is not prepared yet.
func (t *stmtTx) prepared(ctx context.Context, query string) *sql.Stmt {
	s := t.pool.stmt(query)
	if s == nil {
		return nil
	}
	b := t.bound[s]
	if b == nil {
		if t.bound == nil {
			t.bound = map[*sql.Stmt]*sql.Stmt{}
		}
		b = t.Tx.StmtContext(ctx, s)
		t.bound[s] = b
	}
	return b
}

func (t *stmtTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.prepared(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *stmtTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.prepared(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *stmtTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.prepared(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
