package cli

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"bbimport/model"
)

// The steps of a migration, in order. A record names the step it is at;
// a resumed migration starts that step again (a carry at the byte where
// it broke, an export or import by following the job it started).
const (
	stepPreview = "preview"
	stepExport  = "export"
	stepCarry   = "carry"
	stepImport  = "import"
	stepVerify  = "verify"
	stepDone    = "done"
)

// The states of a migration; each but running is final and has its exit
// status.
const (
	migrationRunning    = "running"
	migrationComplete   = "complete"   // exit 0: the target verified complete
	migrationIncomplete = "incomplete" // exit 1: verify found something missing
	migrationFailed     = "failed"     // exit 2: a step failed
	migrationCanceled   = "canceled"   // exit 3
)

// migrationEnd is one end of a migration as the command line named it.
// Passwords are never recorded: a resumed migration asks for them again.
type migrationEnd struct {
	Home       string `json:"home,omitempty"`
	URL        string `json:"url,omitempty"`
	User       string `json:"user,omitempty"`
	SSH        string `json:"ssh,omitempty"`
	SharedHome string `json:"sharedHome"`
}

// local reports whether the end's files are on this machine.
func (e migrationEnd) local() bool { return e.SSH == "" }

func (e migrationEnd) String() string {
	if e.Home != "" {
		return e.Home
	}
	return e.URL
}

// migrationCarry is what the carry step did, or has done so far.
type migrationCarry struct {
	Step      string          `json:"step,omitempty"` // carry's own step: carry, source-md5, ...
	Done      int64           `json:"done"`
	Total     int64           `json:"total"`
	Resumed   int64           `json:"resumed"`
	Sent      int64           `json:"sent"`
	Attempts  int             `json:"attempts"`
	Path      string          `json:"path,omitempty"` // at the target, once carried
	Sums      model.Checksums `json:"sums,omitzero"`
	SourceMD5 string          `json:"sourceMD5,omitempty"`
	TargetMD5 string          `json:"targetMD5,omitempty"`
	Notes     []string        `json:"notes,omitempty"`
}

// migrationVerdict is what verify found on the target.
type migrationVerdict struct {
	Complete    bool               `json:"complete"`
	Differences int                `json:"differences"`
	Totals      model.VerifyTotals `json:"totals"`
}

// migration is the record of one migration, in
// $XDG_STATE_HOME/bbimport/migrations/<id>.json: written by the runner at
// each step, read by the command that follows it and by migrate --list.
type migration struct {
	ID        string       `json:"id"`
	Created   time.Time    `json:"created"`
	Updated   time.Time    `json:"updated"`
	From      migrationEnd `json:"from"`
	To        migrationEnd `json:"to"`
	Selectors []string     `json:"selectors"`
	Identity  string       `json:"identity,omitempty"` // -i
	CAFile    string       `json:"caFile,omitempty"`
	Insecure  bool         `json:"insecure,omitempty"`

	Step  string `json:"step"`
	State string `json:"state"`
	// Error is why a step failed or what canceled it.
	Error string `json:"error,omitempty"`

	Preview   string            `json:"preview,omitempty"` // what the export writes, in a line
	ExportJob int64             `json:"exportJob,omitempty"`
	Archive   string            `json:"archive,omitempty"` // the archive's name
	Carry     *migrationCarry   `json:"carry,omitempty"`
	ImportJob int64             `json:"importJob,omitempty"`
	Verify    *migrationVerdict `json:"verify,omitempty"`
	// Remainder is the command that writes what is missing as an archive.
	Remainder string `json:"remainder,omitempty"`

	RunnerPID int    `json:"runnerPid,omitempty"`
	Log       string `json:"log"`
}

// exitCode is the exit status of a migration in its final state.
func (m *migration) exitCode() int {
	switch m.State {
	case migrationComplete:
		return exitOK
	case migrationIncomplete:
		return exitFailed
	case migrationCanceled:
		return exitCanceled
	}
	return exitNotStarted
}

// migrationsDir is $XDG_STATE_HOME/bbimport/migrations, else
// ~/.local/state/bbimport/migrations: not in either home, since a
// migration belongs to neither.
func migrationsDir() (string, error) {
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory for migrations: set XDG_STATE_HOME (%w)", err)
		}
		state = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(state, "bbimport", "migrations"), nil
}

// newMigrationID is the date and a random suffix: sortable, and unique
// without a counter that two commands would race for.
func newMigrationID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

func migrationPath(dir, id string) string { return filepath.Join(dir, id+".json") }

// save writes the record whole (a temporary file renamed over the old
// one), so that a reader never sees half of it.
func (m *migration) save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make the migrations directory: %w", err)
	}
	m.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+m.ID+".*.tmp")
	if err != nil {
		return fmt.Errorf("write migration %s: %w", m.ID, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write migration %s: %w", m.ID, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write migration %s: %w", m.ID, err)
	}
	if err := os.Rename(tmp.Name(), migrationPath(dir, m.ID)); err != nil {
		return fmt.Errorf("write migration %s: %w", m.ID, err)
	}
	return nil
}

var errNoMigration = errors.New("no such migration")

func loadMigration(dir, id string) (*migration, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return nil, fmt.Errorf("%q is not a migration id: 'bbimport migrate --list' lists them", id)
	}
	b, err := os.ReadFile(migrationPath(dir, id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("migration %s: %w: 'bbimport migrate --list' lists them", id, errNoMigration)
	}
	if err != nil {
		return nil, fmt.Errorf("read migration %s: %w", id, err)
	}
	var m migration
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read migration %s: %w", id, err)
	}
	return &m, nil
}

// listMigrations reads every record, oldest first.
func listMigrations(dir string) ([]*migration, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ms []*migration
	for _, n := range names {
		m, err := loadMigration(dir, strings.TrimSuffix(filepath.Base(n), ".json"))
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// runnerAlive reports whether the record's runner still runs. A record
// that says running with no live runner stopped where it says: --resume
// continues it.
func (m *migration) runnerAlive() bool {
	if m.RunnerPID <= 0 {
		return false
	}
	p, err := os.FindProcess(m.RunnerPID)
	if err != nil {
		return false
	}
	if p.Signal(syscall.Signal(0)) != nil {
		return false
	}
	// The pid may have been reused: the runner's command line names the id.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", m.RunnerPID))
	return err != nil || strings.Contains(string(cmdline), m.ID)
}

// stateLine is the migration in a few words, for --list and the follower.
func (m *migration) stateLine() string {
	switch m.State {
	case migrationRunning:
		if !m.runnerAlive() {
			return "stopped at " + m.Step + ": resume it with bbimport migrate --resume " + m.ID
		}
		return "running: " + m.Step
	case migrationFailed:
		return "failed at " + m.Step + ": " + m.Error
	case migrationCanceled:
		return "canceled at " + m.Step
	}
	return m.State
}
