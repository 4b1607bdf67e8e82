package importer

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

func migratedDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestNodeIDIsMadeOnceAndKept(t *testing.T) {
	db := migratedDB(t)
	first, err := nodeID(db)
	if err != nil || first == "" {
		t.Fatalf("first node id: %q, %v", first, err)
	}
	again, err := nodeID(db)
	if err != nil || again != first {
		t.Errorf("node id changed from %q to %q (%v)", first, again, err)
	}
}

// A node id that cannot be stored or read must not leave the home with a
// node id that the next Open replaces.
func TestNodeIDErrorsAreReported(t *testing.T) {
	db := migratedDB(t)
	if _, err := db.Exec(`CREATE TRIGGER no_meta BEFORE INSERT ON meta BEGIN SELECT RAISE(ABORT, 'meta is read-only'); END`); err != nil {
		t.Fatal(err)
	}
	if id, err := nodeID(db); err == nil || !strings.Contains(err.Error(), "store node id") {
		t.Errorf("failed insert: got %q, %v; want an error", id, err)
	}
	if _, err := db.Exec(`DROP TABLE meta`); err != nil {
		t.Fatal(err)
	}
	if id, err := nodeID(db); err == nil || !strings.Contains(err.Error(), "read node id") {
		t.Errorf("failed read: got %q, %v; want an error", id, err)
	}
}
