// Package importer is the in-process import engine: it lays out an instance
// home like Bitbucket's (a SQLite database and bare git repositories under
// shared/data), runs one import job at a time from a migration archive, and
// answers the read-only queries the REST server needs. It knows nothing of
// the console or of HTTP.
package importer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"bbimport/importer/archive"
	"bbimport/model"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Version is what Identity reports for the in-process importer.
const Version = "0.1.0"

// homeMarker marks a directory as a bbimport home. Its absence next to a
// bitbucket.properties means a real Bitbucket home, which we refuse to touch.
const homeMarker = "bbimport-home"

// Options configure an Instance.
type Options struct {
	Home      string         // instance home (created on first use)
	ImportDir string         // default <home>/shared/data/migration/import
	Limits    archive.Limits // zero value: archive.DefaultLimits()
}

// Instance is an open instance home. It satisfies model.Backend.
type Instance struct {
	home      string
	importDir string
	limits    archive.Limits
	db        *sql.DB
	lock      *os.File
	nodeID    string

	mu       sync.Mutex
	running  *jobRun // the job in progress, nil when idle
	shutdown bool    // Shutdown or Close called: refuse new imports
	closed   bool

	// beforeCheckpoint, when set (tests only), is called each time the run
	// reaches a place where a cancel could take effect, named as the
	// checkpoint messages name it, so tests can cancel deterministically.
	beforeCheckpoint func(name string)
}

var _ model.Backend = (*Instance)(nil)

// Paths inside a home, as Bitbucket lays them out.
func (in *Instance) dataDir() string         { return filepath.Join(in.home, "shared", "data") }
func (in *Instance) repositoriesDir() string { return filepath.Join(in.dataDir(), "repositories") }
func (in *Instance) tmpDir() string          { return filepath.Join(in.dataDir(), "tmp") }
func (in *Instance) dbPath() string          { return filepath.Join(in.dataDir(), "bbimport.db") }

// repositoryDir is where a repository lives once AVAILABLE; buildDir is
// where it is built first. Both are at the same depth under shared/data so
// that a fork's relative alternates path is right in both places.
func (in *Instance) repositoryDir(id int64) string {
	return filepath.Join(in.repositoriesDir(), strconv.FormatInt(id, 10))
}
func (in *Instance) buildDir(id int64) string {
	return filepath.Join(in.tmpDir(), strconv.FormatInt(id, 10))
}

// Open lays out the home, takes an exclusive lock on it, migrates the
// schema and recovers from a crash of a previous process.
func Open(opts Options) (*Instance, error) {
	if opts.Home == "" {
		return nil, errors.New("no instance home given: pass --home or set BBIMPORT_HOME")
	}
	home, err := filepath.Abs(opts.Home)
	if err != nil {
		return nil, fmt.Errorf("instance home %s: %w", opts.Home, err)
	}
	if err := refuseBitbucketHome(home); err != nil {
		return nil, err
	}
	in := &Instance{home: home, importDir: opts.ImportDir, limits: opts.Limits}
	if in.importDir == "" {
		in.importDir = filepath.Join(in.dataDir(), "migration", "import")
	}
	if in.limits == (archive.Limits{}) {
		in.limits = archive.DefaultLimits()
	}
	for _, dir := range []string{in.importDir, in.repositoriesDir(), in.tmpDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, homeMarker),
		[]byte("This directory is a bbimport instance home, not a Bitbucket home.\n"), 0o644); err != nil {
		return nil, fmt.Errorf("mark instance home: %w", err)
	}
	if in.lock, err = lockHome(home); err != nil {
		return nil, err
	}
	if err := in.openDB(); err != nil {
		in.lock.Close()
		return nil, err
	}
	if err := in.recover(context.Background()); err != nil {
		in.db.Close()
		in.lock.Close()
		return nil, err
	}
	return in, nil
}

// refuseBitbucketHome stops us from writing into a real Bitbucket's
// repositories, which would corrupt a running instance.
func refuseBitbucketHome(home string) error {
	if _, err := os.Stat(filepath.Join(home, homeMarker)); err == nil {
		return nil
	}
	for _, p := range []string{"bitbucket.properties", filepath.Join("shared", "bitbucket.properties")} {
		if _, err := os.Stat(filepath.Join(home, p)); err == nil {
			return fmt.Errorf("%s looks like a real Bitbucket home (it has %s): bbimport will not write into it; give --home an empty or bbimport directory", home, p)
		}
	}
	return nil
}

// lockHome takes an exclusive, non-blocking flock on <home>/.lock and
// writes our pid into it so that a second process can say who holds it.
func lockHome(home string) (*os.File, error) {
	path := filepath.Join(home, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("instance home %s is in use by bbimport process %s: wait for it, use another --home, or cancel its import with kill -TERM %[2]s",
				home, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("lock instance home %s: %w", home, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// Close stops a running job at once (no half-built repository stays
// visible), then releases the database and the lock.
func (in *Instance) Close() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil
	}
	in.closed = true
	in.shutdown = true
	run := in.running
	in.mu.Unlock()
	if run != nil {
		run.stopNow()
		<-run.done
	}
	err := in.db.Close()
	if lerr := in.lock.Close(); err == nil {
		err = lerr
	}
	return err
}

// ImportDir is the directory archives are picked from.
func (in *Instance) ImportDir() string { return in.importDir }

// Home is the instance home's absolute path.
func (in *Instance) Home() string { return in.home }

// Identity says this is the in-process importer on its home.
func (in *Instance) Identity(context.Context) (model.Identity, error) {
	return model.Identity{Location: in.home, Product: "bbimport", Version: Version}, nil
}

// newNodeID makes a random UUID (version 4) naming this home as a node.
func newNodeID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
