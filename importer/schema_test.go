package importer

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
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
	first, err := nodeID(t.Context(), db)
	if err != nil || first == "" {
		t.Fatalf("first node id: %q, %v", first, err)
	}
	again, err := nodeID(t.Context(), db)
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
	if id, err := nodeID(t.Context(), db); err == nil || !strings.Contains(err.Error(), "store node id") {
		t.Errorf("failed insert: got %q, %v; want an error", id, err)
	}
	if _, err := db.Exec(`DROP TABLE meta`); err != nil {
		t.Fatal(err)
	}
	if id, err := nodeID(t.Context(), db); err == nil || !strings.Contains(err.Error(), "read node id") {
		t.Errorf("failed read: got %q, %v; want an error", id, err)
	}
}

// Processes opening a new home at once each migrate it: one does, the
// others wait for it and find the schema current, and all share one node
// id. Each Open here has a database handle of its own, as a process has.
func TestOpenersOfANewHomeAtOnceAllSucceed(t *testing.T) {
	home := t.TempDir()
	const openers = 8
	errs := make([]error, openers)
	ids := make([]string, openers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range openers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			in, err := Open(Options{Home: home})
			if err != nil {
				errs[i] = err
				return
			}
			ids[i] = in.nodeID
			errs[i] = in.Close()
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("opener %d: %v", i, err)
		}
	}
	for i := range ids {
		if ids[i] != ids[0] {
			t.Errorf("opener %d got node id %q, opener 0 %q", i, ids[i], ids[0])
		}
	}
}
