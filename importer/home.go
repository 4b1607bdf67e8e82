// Package importer is the in-process import engine: it lays out an instance
// home like Bitbucket's (a SQLite database and bare git repositories under
// shared/data), runs one import job at a time from a migration archive (in
// a runner process of its own when Options.Runner is set), and answers the
// read-only queries the REST server needs. Many processes may open one home
// at once. It knows nothing of the console or of HTTP.
package importer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"bbimport/archive"
	"bbimport/model"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// homeMarker marks a directory as a bbimport home. Its absence next to a
// bitbucket.properties means a real Bitbucket home, which we refuse to touch.
const homeMarker = "bbimport-home"

// Options configure an Instance.
type Options struct {
	Home      string         // instance home (created on first use)
	ImportDir string         // default <home>/shared/data/migration/import
	Limits    archive.Limits // zero value: archive.DefaultLimits()
	// Runner, when set, is the argv of the command that runs one job in a
	// process of its own, not tied to the terminal of whoever started it;
	// Start appends "--job", N. The command calls RunJob. When nil, jobs
	// run in a goroutine of the process that starts them.
	Runner []string
	// Existing opens only a home that exists, and writes nothing to it: a
	// missing home directory is an error naming it (a typo must not make
	// a home), and a directory without a database reads as an empty home.
	// For the commands that only read; import, serve and the console
	// leave it false, and create the home.
	Existing bool
}

// Instance is an open instance home. It satisfies model.Backend.
type Instance struct {
	home      string
	importDir string
	limits    archive.Limits
	runner    []string
	db        *sql.DB
	nodeID    string
	// readOnly: this user cannot write the home; jobs and messages can
	// still be read, nothing can be started or recorded.
	readOnly bool

	mu       sync.Mutex
	running  *jobRun           // the job in progress, nil when idle
	starting bool              // a Start is under way: see reserveStart
	exports  map[int64]*jobRun // exports running in this process (no runner)
	shutdown bool              // Shutdown or Close called: refuse new imports
	closed   bool
	// goroutines are the imports run in this process (no runner), each
	// with the start of the next queued archive after it: Close waits
	// for them.
	goroutines sync.WaitGroup

	pages pageCache // where the lists' next pages begin (queryPage)

	// beforeCheckpoint, when set (tests only), is called each time the run
	// reaches a place where a cancel could take effect, named as the
	// checkpoint messages name it, so tests can cancel deterministically.
	beforeCheckpoint func(name string)
	// betweenLooks and duringSpawn, when set (tests only), run inside a
	// start: between the two looks at the archive's size (see
	// archive.StartCheck), and once the runner process has started.
	betweenLooks func()
	duringSpawn  func()
}

var _ model.Backend = (*Instance)(nil)

// Paths inside a home, as Bitbucket lays them out.
func (in *Instance) dataDir() string         { return filepath.Join(in.home, "shared", "data") }
func (in *Instance) repositoriesDir() string { return filepath.Join(in.dataDir(), "repositories") }
func (in *Instance) tmpDir() string          { return filepath.Join(in.dataDir(), "tmp") }
func (in *Instance) dbPath() string          { return filepath.Join(in.dataDir(), "bbimport.db") }
func (in *Instance) lockPath() string        { return filepath.Join(in.home, "import.lock") }

// jobLog is where a runner's output goes: whatever it prints before or
// beside the job's messages (a panic, an error opening the home).
func (in *Instance) jobLog(id int64) string {
	return filepath.Join(in.home, "log", "job-"+strconv.FormatInt(id, 10)+".log")
}

// repositoryDir is where a repository lives once AVAILABLE; buildDir is
// where it is built first. Both are at the same depth under shared/data so
// that a fork's relative alternates path is right in both places.
func (in *Instance) repositoryDir(id int64) string {
	return filepath.Join(in.repositoriesDir(), strconv.FormatInt(id, 10))
}
func (in *Instance) buildDir(id int64) string {
	return filepath.Join(in.tmpDir(), strconv.FormatInt(id, 10))
}

// Open lays out the home, migrates the schema and, unless a runner is
// importing, recovers from a crash of a previous one if it can. Any number of
// processes may have the home open; the import lock is taken only to run
// an import. A home this user cannot write is opened read-only.
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
	in := &Instance{home: home, importDir: opts.ImportDir, limits: opts.Limits, runner: opts.Runner}
	if in.importDir == "" {
		in.importDir = filepath.Join(in.dataDir(), "migration", "import")
	}
	if in.importDir, err = filepath.Abs(in.importDir); err != nil {
		return nil, fmt.Errorf("import directory %s: %w", opts.ImportDir, err)
	}
	if in.limits == (archive.Limits{}) {
		in.limits = archive.DefaultLimits()
	}
	if opts.Existing {
		if _, err := os.Stat(home); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("instance home %s does not exist: check --home or BBIMPORT_HOME (bbimport import, serve and the console create a home; this command only reads one)", home)
		}
		if _, err := os.Stat(in.dbPath()); errors.Is(err, fs.ErrNotExist) {
			return in, in.openEmpty()
		}
	}
	in.readOnly = readOnlyHome(home, in.dataDir())
	if in.readOnly {
		if _, err := os.Stat(in.dbPath()); err != nil {
			return nil, fmt.Errorf("instance home %s is read-only for this user and holds no database: %w", home, err)
		}
	} else if err := in.layOut(); err != nil {
		return nil, err
	}
	if err := in.openDB(); err != nil {
		return nil, err
	}
	// A home that cannot be recovered now (a full disk) is still read:
	// its readers show an unfinished job as it will be recorded, and Start
	// recovers it first or says why it cannot.
	_, _ = in.recoverIfIdle(context.Background())
	if !in.readOnly {
		_ = in.recoverExports(context.Background())
	}
	return in, nil
}

// openEmpty reads a home that holds no database yet as an empty one: a
// private database in memory, with the schema, and nothing written to the
// home.
func (in *Instance) openEmpty() error {
	in.readOnly = true
	db, err := sql.Open("sqlite", "file:bbimport-empty-"+newNodeID()+"?mode=memory&cache=shared")
	if err != nil {
		return fmt.Errorf("open an empty database for %s: %w", in.home, err)
	}
	// A memory database lives while a connection to it does.
	db.SetConnMaxIdleTime(0)
	db.SetMaxIdleConns(maxOpenConns)
	db.SetMaxOpenConns(maxOpenConns)
	if err := migrate(context.Background(), db); err != nil {
		db.Close()
		return fmt.Errorf("open an empty database for %s: %w", in.home, err)
	}
	if in.nodeID, err = nodeID(context.Background(), db); err != nil {
		db.Close()
		return fmt.Errorf("open an empty database for %s: %w", in.home, err)
	}
	in.db = db
	return nil
}

// readOnlyHome reports whether this user can only read an existing home
// (a home that does not exist yet is created, so it is not read-only).
func readOnlyHome(home, dataDir string) bool {
	for _, dir := range []string{home, dataDir} {
		if err := unix.Access(dir, unix.W_OK); err != nil && !errors.Is(err, unix.ENOENT) {
			return true
		}
	}
	return false
}

// layOut creates the home's directories and marks it as ours.
func (in *Instance) layOut() error {
	for _, dir := range []string{in.importDir, in.repositoriesDir(), in.tmpDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	// Written once: a reader of a home on a full disk must not need a
	// block to open it.
	marker := filepath.Join(in.home, homeMarker)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if err := os.WriteFile(marker,
		[]byte("This directory is a bbimport instance home, not a Bitbucket home.\n"), 0o644); err != nil {
		return fmt.Errorf("mark instance home: %w", err)
	}
	return nil
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

// lockImport takes the import lock, an exclusive non-blocking flock on
// <home>/import.lock: whoever holds it runs the home's one import. It
// returns nil, nil when another holder has it. A runner that dies loses it
// with its last descriptor, so the lock also says whether a runner lives.
func (in *Instance) lockImport() (*os.File, error) {
	f, err := os.OpenFile(in.lockPath(), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the import lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("lock %s: %w", in.lockPath(), err)
	}
	return f, nil
}

// Close stops a job running in this process at once (no half-built
// repository stays visible), then releases the database. A job in a runner
// process goes on.
func (in *Instance) Close() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil
	}
	in.closed = true
	in.shutdown = true
	run := in.running
	exports := make([]*jobRun, 0, len(in.exports))
	for _, e := range in.exports {
		exports = append(exports, e)
	}
	in.mu.Unlock()
	for _, r := range append(exports, run) {
		if r != nil {
			r.stopNow()
			<-r.done
		}
	}
	in.goroutines.Wait()
	return in.db.Close()
}

// ImportDir is the directory archives are picked from.
func (in *Instance) ImportDir() string { return in.importDir }

// Home is the instance home's absolute path.
func (in *Instance) Home() string { return in.home }

// Identity says this is the in-process importer on its home.
func (in *Instance) Identity(context.Context) (model.Identity, error) {
	return model.Identity{Location: in.home, Product: "bbimport", Version: Version()}, nil
}

// newNodeID makes a random UUID (version 4) naming this home as a node.
func newNodeID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
