package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"

	"gorm.io/gorm"
)

// Writer is the tuned SQLite writer: the one connection the Committer writes
// through, held for the process's life, with each statement prepared once
// and reused by every transaction, so that SQLite compiles each statement
// once rather than on every message.
//
// Transactions are plain BEGIN IMMEDIATE / COMMIT statements on the
// connection rather than database/sql transactions (sql.Tx): a sql.Tx
// carries a cancellable context, and database/sql then starts a goroutine
// for every query run in it to watch that context (sql.Rows'
// initContextClose), and binds a prepared statement to each transaction
// anew (sql.Tx.StmtContext). On the connection itself a query starts no
// goroutine, and a statement prepared on it serves every transaction.
//
// gorm's own PrepareStmt does not help: it prepares a statement inside the
// transaction that first runs it and binds it to that transaction.
//
// One transaction runs at a time: BeginTx waits for the one before to end
// (as it waited for the pool's one connection), so that several
// Committers on one DB (as in tests of several nodes) take turns.
type Writer struct {
	db   *sql.DB
	conn *sql.Conn
	// direct runs the statements on the driver connection (direct.go);
	// without it, through database/sql's statements prepared on conn.
	direct bool
	// turn is held by a running transaction, and by a statement outside
	// one for as long as its call lasts (nothing queries the writer
	// outside a transaction: rows such a query returns would be read
	// after it).
	turn sync.Mutex

	mu          sync.Mutex
	stmts       map[string]*sql.Stmt
	driverStmts map[string]*driverStmt // direct.go

	// args and values are onDriver's buffers for a statement's arguments
	// and a row's columns, reused by every statement: one runs at a time,
	// under turn.
	args   []driver.NamedValue
	values []driver.Value
	// tx and txDB are the Committer's transaction (transaction below):
	// one runs at a time, so one of each serves them all.
	tx   writerTx
	txDB *gorm.DB
}

// maxPrepared bounds the cache: statements whose text varies (IN lists
// of varying length) run unprepared beyond it.
const maxPrepared = 512

// NewWriter takes a connection of db for the writer and makes gdb,
// the gorm DB over db, write through it, with tuning t's Direct.
func NewWriter(db *sql.DB, gdb *gorm.DB, t Tuning) (*Writer, error) {
	conn, err := db.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	w := &Writer{db: db, conn: conn, direct: t.Uses(Direct), stmts: map[string]*sql.Stmt{},
		driverStmts: map[string]*driverStmt{}}
	w.tx = writerTx{w: w, ended: true}
	gdb.ConnPool = w
	gdb.Statement.ConnPool = w
	// A new session with a statement of its own; with NewDB every query
	// built on it starts from a fresh statement, so nothing carries over
	// from one transaction to the next but the connection pool.
	w.txDB = gdb.Session(&gorm.Session{NewDB: true, Context: context.Background()})
	w.txDB.Statement.ConnPool = &w.tx
	return w, nil
}

// stmt returns the prepared statement for query, preparing it on first
// use; nil when it cannot be prepared (it then runs unprepared).
func (w *Writer) stmt(ctx context.Context, query string) *sql.Stmt {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := w.stmts[query]; s != nil || len(w.stmts) >= maxPrepared {
		return s
	}
	s, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	w.stmts[query] = s
	return s
}

func (w *Writer) Close() error {
	w.mu.Lock()
	for q, s := range w.stmts {
		s.Close()
		delete(w.stmts, q)
	}
	stmts := w.driverStmts
	w.driverStmts = map[string]*driverStmt{}
	w.mu.Unlock()
	_ = w.conn.Raw(func(any) error {
		for _, s := range stmts {
			s.Close()
		}
		return nil
	})
	return errors.Join(w.conn.Close(), w.db.Close())
}

// gorm.ConnPool, outside transactions: one statement's turn each.

func (w *Writer) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	w.turn.Lock()
	defer w.turn.Unlock()
	return w.conn.PrepareContext(ctx, query)
}

func (w *Writer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	w.turn.Lock()
	defer w.turn.Unlock()
	return w.exec(ctx, query, args)
}

func (w *Writer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	w.turn.Lock()
	defer w.turn.Unlock()
	return w.query(ctx, query, args)
}

func (w *Writer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	w.turn.Lock()
	defer w.turn.Unlock()
	return w.queryRow(ctx, query, args)
}

func (w *Writer) GetDBConn() (*sql.DB, error) { return w.db, nil }

// exec runs a statement without rows, on the driver connection or
// through its prepared statement.
func (w *Writer) exec(ctx context.Context, query string, args []any) (sql.Result, error) {
	if w.direct {
		return w.directExec(ctx, query, args)
	}
	if s := w.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return w.conn.ExecContext(ctx, query, args...)
}

func (w *Writer) query(ctx context.Context, query string, args []any) (*sql.Rows, error) {
	if s := w.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return w.conn.QueryContext(ctx, query, args...)
}

func (w *Writer) queryRow(ctx context.Context, query string, args []any) *sql.Row {
	if s := w.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return w.conn.QueryRowContext(ctx, query, args...)
}

// BeginTx starts a transaction on the connection (gorm.ConnPoolBeginner)
// once the one before has ended.
func (w *Writer) BeginTx(ctx context.Context, _ *sql.TxOptions) (gorm.ConnPool, error) {
	if err := w.begin(ctx); err != nil {
		return nil, err
	}
	return &writerTx{w: w}, nil
}

// begin takes the writer's turn and starts a transaction. BEGIN IMMEDIATE
// takes SQLite's write lock at once, as the DSN's _txlock does for
// database/sql's transactions. It and COMMIT run as statements prepared
// once (exec): through database/sql unprepared, go-sqlite3 compiled them anew
// for every transaction.
func (w *Writer) begin(ctx context.Context) error {
	w.turn.Lock()
	if _, err := w.exec(ctx, "BEGIN IMMEDIATE", nil); err != nil {
		w.turn.Unlock()
		return err
	}
	return nil
}

// transaction runs fc in a transaction, as gorm's Transaction does (fc's
// error or panic rolls it back), on the one gorm session kept for it:
// gorm's Begin builds a new session, statement and configuration for
// every transaction, allocated at every commit.
func (w *Writer) Transaction(fc func(tx *gorm.DB) error) error {
	if err := w.begin(context.Background()); err != nil {
		return err
	}
	w.tx.ended = false
	w.txDB.Error = nil
	returned := false
	defer func() {
		// Only a panic leaves the turn held here: once Commit or Rollback
		// ends it, w.tx may already be another Committer's transaction.
		if !returned {
			_ = w.tx.Rollback()
		}
	}()
	err := fc(w.txDB)
	returned = true
	if err != nil {
		_ = w.tx.Rollback()
		return err
	}
	return w.tx.Commit()
}

// writerTx is a transaction of the writer connection: its statements, and
// Commit and Rollback (gorm.TxCommitter), which end its turn.
type writerTx struct {
	w     *Writer
	ended bool
}

func (t *writerTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.w.conn.PrepareContext(ctx, query)
}

// ExecContext runs the statement on the driver connection (direct.go).
func (t *writerTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.w.exec(ctx, query, args)
}

func (t *writerTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.w.query(ctx, query, args)
}

func (t *writerTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.w.queryRow(ctx, query, args)
}

func (t *writerTx) GetDBConn() (*sql.DB, error) { return t.w.db, nil }

// Commit commits; when COMMIT fails (SQLITE_BUSY, a full disk) the
// transaction is rolled back, so the connection is never left inside one.
func (t *writerTx) Commit() error {
	if t.ended {
		return sql.ErrTxDone
	}
	_, err := t.w.exec(context.Background(), "COMMIT", nil)
	if err != nil {
		_, _ = t.w.exec(context.Background(), "ROLLBACK", nil)
	}
	t.end()
	return err
}

func (t *writerTx) Rollback() error {
	if t.ended {
		return sql.ErrTxDone
	}
	_, err := t.w.exec(context.Background(), "ROLLBACK", nil)
	t.end()
	return err
}

func (t *writerTx) end() {
	t.ended = true
	t.w.turn.Unlock()
}

// Turn is held by a running transaction of the writer: the checkpointer
// holds it to keep the writer from appending to the WAL.
func (w *Writer) Turn() *sync.Mutex { return &w.turn }

// Owns says whether pool is this writer, so that a caller can run its
// transactions through Transaction.
func (w *Writer) Owns(pool gorm.ConnPool) bool { return pool == gorm.ConnPool(w) }

// DirectRow is query's first row read on the writer's driver connection
// when pool is a transaction of a Writer; ok=false for any other pool.
func DirectRow(pool gorm.ConnPool, ctx context.Context, query string, args []any) (row Row, ok bool) {
	t, ok := pool.(*writerTx)
	if !ok || !t.w.direct {
		return nil, false
	}
	return directRow{w: t.w, ctx: ctx, query: query, args: args}, true
}
