package importer

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// A writer is the import's single connection for writes. It keeps one
// transaction open and commits it every few thousand writes or half a
// second, and at each milestone, so that a million rows do not mean a
// million commits; statements are prepared once for the whole import.
type writer struct {
	conn   *sql.Conn
	stmts  map[string]*sql.Stmt
	inTx   bool
	writes int
	begun  time.Time
}

const (
	commitEvery = 2000
	commitAfter = 500 * time.Millisecond
)

func newWriter(db *sql.DB) (*writer, error) {
	conn, err := db.Conn(context.Background())
	if err != nil {
		return nil, fmt.Errorf("open database connection: %w", err)
	}
	return &writer{conn: conn, stmts: map[string]*sql.Stmt{}}, nil
}

func (w *writer) stmt(query string) (*sql.Stmt, error) {
	if s, ok := w.stmts[query]; ok {
		return s, nil
	}
	s, err := w.conn.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	w.stmts[query] = s
	return s, nil
}

func (w *writer) begin() error {
	if w.inTx {
		return nil
	}
	// IMMEDIATE: take the write lock now rather than fail on upgrade later.
	if _, err := w.conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	w.inTx, w.writes, w.begun = true, 0, time.Now()
	return nil
}

// exec runs a write inside the open transaction.
func (w *writer) exec(query string, args ...any) (sql.Result, error) {
	if err := w.begin(); err != nil {
		return nil, err
	}
	s, err := w.stmt(query) //nolint:sqlclosecheck // cached for the transaction; commit closes it
	if err != nil {
		return nil, err
	}
	w.writes++
	res, err := s.ExecContext(context.Background(), args...)
	if err != nil {
		return nil, fmt.Errorf("database write: %w", err)
	}
	return res, nil
}

// insert runs an INSERT and returns the new row's id.
func (w *writer) insert(query string, args ...any) (int64, error) {
	res, err := w.exec(query, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// queryRow reads inside the transaction, so it sees the import's own
// uncommitted rows (a key taken earlier in the same archive).
func (w *writer) queryRow(query string, args ...any) (*sql.Row, error) {
	if err := w.begin(); err != nil {
		return nil, err
	}
	s, err := w.stmt(query) //nolint:sqlclosecheck // cached for the transaction; commit closes it
	if err != nil {
		return nil, err
	}
	return s.QueryRowContext(context.Background(), args...), nil
}

func (w *writer) due() bool {
	return w.inTx && (w.writes >= commitEvery || time.Since(w.begun) >= commitAfter)
}

func (w *writer) commit() error {
	if !w.inTx {
		return nil
	}
	w.inTx = false
	if _, err := w.conn.ExecContext(context.Background(), "COMMIT"); err != nil {
		// A COMMIT that failed (a full disk) may leave the transaction
		// open, holding the write lock on a connection that goes back to
		// the pool.
		_, _ = w.conn.ExecContext(context.Background(), "ROLLBACK")
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (w *writer) close() {
	if w.inTx {
		_, _ = w.conn.ExecContext(context.Background(), "ROLLBACK")
	}
	for _, s := range w.stmts {
		s.Close()
	}
	w.conn.Close()
}
