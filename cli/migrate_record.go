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

// The steps and states of a migration are model's: the record is data
// the console reads too.
const (
	stepPreview = model.MigrationPreview
	stepExport  = model.MigrationExport
	stepCarry   = model.MigrationCarry
	stepImport  = model.MigrationImport
	stepVerify  = model.MigrationVerify
	stepDone    = model.MigrationDone

	migrationRunning    = model.MigrationRunning
	migrationComplete   = model.MigrationComplete   // exit 0: the target verified complete
	migrationIncomplete = model.MigrationIncomplete // exit 1: verify found something missing
	migrationFailed     = model.MigrationFailed     // exit 2: a step failed
	migrationCanceled   = model.MigrationCanceled   // exit 3
)

type (
	migrationEnd     = model.MigrationEnd
	migrationCarry   = model.MigrationCarryState
	migrationVerdict = model.MigrationVerdict
)

// migration is the record of one migration, in
// $XDG_STATE_HOME/bbimport/migrations/<id>.json: written by the runner at
// each step, read by the command that follows it, by migrate --list and by
// the console (through model.Migrator).
type migration struct {
	model.Migration
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

func loadMigration(dir, id string) (*migration, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return nil, fmt.Errorf("%q is not a migration id: 'bbimport migrate --list' lists them", id)
	}
	b, err := os.ReadFile(migrationPath(dir, id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("migration %s: %w: 'bbimport migrate --list' lists them", id, model.ErrNoMigration)
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
