package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"sync/atomic"
)

// The SQLite writer runs every statement without rows in its transactions
// (gorm's too) and this package's QueryRow on the driver's connection
// itself, not through database/sql: for each statement database/sql converts its arguments into
// a new slice, wraps the result, reads every column's name for its rows
// and converts every value by reflection — together about as much CPU as
// the driver's own Go code on the message path (docs/performance-journal.md).
// The conversions done here are database/sql's default ones: arguments by
// driver.DefaultParameterConverter (go-sqlite3 has no converter of its
// own), values into the destination types the write path scans (strings,
// integers and named integers, booleans, floats, pointers to them for
// NULL).

// Row is one row of a query, read by Scan: the SQLite writer's own.
type Row interface {
	Scan(dest ...any) error
}

// directExec runs an exec statement on the driver connection.
func (w *Writer) directExec(ctx context.Context, query string, args []any) (res driver.Result, err error) {
	err = w.onDriver(ctx, query, args, func(s *driverStmt, nv []driver.NamedValue) error {
		res, err = s.Stmt.(driver.StmtExecContext).ExecContext(ctx, nv)
		return err
	})
	return res, err
}

// directRow is a query's first row, read from the driver connection when
// Scan is called.
type directRow struct {
	w     *Writer
	ctx   context.Context
	query string
	args  []any
}

func (r directRow) Scan(dest ...any) error {
	return r.w.onDriver(r.ctx, r.query, r.args, func(s *driverStmt, nv []driver.NamedValue) error {
		rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(r.ctx, nv)
		if err != nil {
			return err
		}
		defer rows.Close()
		if n := s.columns(rows); n != len(dest) {
			return fmt.Errorf("database: %q has %d columns, scanned into %d", r.query, n, len(dest))
		}
		values := slices.Grow(r.w.values[:0], len(dest))[:len(dest)]
		r.w.values = values
		defer clear(values)
		if err := rows.Next(values); err != nil {
			if errors.Is(err, io.EOF) {
				return sql.ErrNoRows
			}
			return err
		}
		for i, v := range values {
			if err := assign(dest[i], v); err != nil {
				return fmt.Errorf("database: column %d of %q: %w", i, r.query, err)
			}
		}
		return nil
	})
}

// onDriver runs f with query's statement, prepared once on the driver
// connection, and the arguments converted.
func (w *Writer) onDriver(ctx context.Context, query string, args []any, f func(*driverStmt, []driver.NamedValue) error) error {
	nv := slices.Grow(w.args[:0], len(args))[:len(args)]
	w.args = nv
	defer clear(nv) // let the arguments go
	for i, a := range args {
		v, err := driverValue(a)
		if err != nil {
			return fmt.Errorf("database: argument %d of %q: %w", i+1, query, err)
		}
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return w.conn.Raw(func(dc any) error {
		s, kept, err := w.prepared(ctx, dc, query)
		if err != nil {
			return err
		}
		if !kept {
			defer s.Close()
		}
		if n := s.NumInput(); n >= 0 && n != len(nv) {
			return fmt.Errorf("database: %q takes %d arguments, got %d", query, n, len(nv))
		}
		return f(s, nv)
	})
}

// driverStmt is a statement prepared on the driver connection, with the
// number of columns of its rows once a query has read it (Columns reads
// every column's name, so it is read once per statement).
type driverStmt struct {
	driver.Stmt
	cols atomic.Int32 // the column count + 1; 0 until read
}

// columns is how many columns s's rows have.
func (s *driverStmt) columns(rows driver.Rows) int {
	if n := s.cols.Load(); n > 0 {
		return int(n) - 1
	}
	n := len(rows.Columns())
	s.cols.Store(int32(n) + 1)
	return n
}

// prepared returns query prepared on the driver connection dc, preparing
// it on first use. kept=false: the cache is full (statements whose text
// varies) and the caller closes the statement after use.
func (w *Writer) prepared(ctx context.Context, dc any, query string) (s *driverStmt, kept bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := w.driverStmts[query]; s != nil {
		return s, true, nil
	}
	ds, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	s = &driverStmt{Stmt: ds}
	if len(w.driverStmts) >= maxPrepared {
		return s, false, nil
	}
	w.driverStmts[query] = s
	return s, true, nil
}

// driverValue converts an argument as database/sql does for a driver
// without a converter of its own.
func driverValue(a any) (driver.Value, error) {
	if driver.IsValue(a) {
		return a, nil
	}
	return driver.DefaultParameterConverter.ConvertValue(a)
}

// assign stores the driver value v in dest, as database/sql's Scan does
// for the types the write path reads.
func assign(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *string:
		switch x := v.(type) {
		case string:
			*d = x
			return nil
		case []byte:
			*d = string(x)
			return nil
		case int64:
			*d = strconv.FormatInt(x, 10)
			return nil
		}
	case *int64:
		if x, ok := v.(int64); ok {
			*d = x
			return nil
		}
	case *int:
		if x, ok := v.(int64); ok {
			*d = int(x)
			return nil
		}
	case *bool:
		switch x := v.(type) {
		case bool:
			*d = x
			return nil
		case int64:
			*d = x != 0
			return nil
		}
	case *float64:
		switch x := v.(type) {
		case float64:
			*d = x
			return nil
		case int64:
			*d = float64(x)
			return nil
		}
	case sql.Scanner:
		return d.Scan(v)
	}
	return assignReflect(dest, v)
}

// assignReflect handles named types (type Status int) and pointers that
// stand for NULL (**float64).
func assignReflect(dest any, v driver.Value) error {
	dv := reflect.ValueOf(dest)
	if dv.Kind() != reflect.Pointer || dv.IsNil() {
		return fmt.Errorf("destination %T is not a pointer", dest)
	}
	e := dv.Elem()
	if e.Kind() == reflect.Pointer {
		if v == nil {
			e.SetZero()
			return nil
		}
		p := reflect.New(e.Type().Elem())
		if err := assign(p.Interface(), v); err != nil {
			return err
		}
		e.Set(p)
		return nil
	}
	switch x := v.(type) {
	case int64:
		switch e.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			e.SetInt(x)
			return nil
		}
	case string:
		if e.Kind() == reflect.String {
			e.SetString(x)
			return nil
		}
	case bool:
		if e.Kind() == reflect.Bool {
			e.SetBool(x)
			return nil
		}
	case float64:
		if e.Kind() == reflect.Float32 || e.Kind() == reflect.Float64 {
			e.SetFloat(x)
			return nil
		}
	}
	return fmt.Errorf("cannot store %T in %T", v, dest)
}
