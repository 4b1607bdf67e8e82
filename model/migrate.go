package model

import (
	"context"
	"errors"
	"time"
)

// The steps of a migration, in order. A record names the step it is at;
// a resumed migration starts that step again (a carry at the byte where
// it broke, an export or import by following the job it started).
const (
	MigrationPreview = "preview"
	MigrationExport  = "export"
	MigrationCarry   = "carry"
	MigrationImport  = "import"
	MigrationVerify  = "verify"
	MigrationDone    = "done"
)

// MigrationSteps are the steps a console shows, in order (done is where
// the last one leads).
var MigrationSteps = []string{MigrationPreview, MigrationExport, MigrationCarry, MigrationImport, MigrationVerify}

// The states of a migration; each but running is final.
const (
	MigrationRunning    = "running"
	MigrationComplete   = "complete"   // the target verified complete
	MigrationIncomplete = "incomplete" // verify found something missing
	MigrationFailed     = "failed"     // a step failed
	MigrationCanceled   = "canceled"
)

// MigrationEnd is one end of a migration: an instance home on this
// machine, or a Bitbucket (or bbimport serve) at a URL whose shared home
// is on this machine or, with SSH, on that server. Passwords are never
// part of it.
type MigrationEnd struct {
	Home       string `json:"home,omitempty"`
	URL        string `json:"url,omitempty"`
	User       string `json:"user,omitempty"`
	SSH        string `json:"ssh,omitempty"`
	SharedHome string `json:"sharedHome"`
}

// Local reports whether the end's files are on this machine.
func (e MigrationEnd) Local() bool { return e.SSH == "" }

func (e MigrationEnd) String() string {
	if e.Home != "" {
		return e.Home
	}
	return e.URL
}

// MigrationCarryState is what the carry step did, or has done so far.
type MigrationCarryState struct {
	Step     string  `json:"step,omitempty"` // carry's own step: carry, source-md5, ...
	Done     int64   `json:"done"`
	Total    int64   `json:"total"`
	Rate     float64 `json:"rate,omitempty"` // bytes a second, as carry last measured
	Resumed  int64   `json:"resumed"`
	Sent     int64   `json:"sent"`
	Attempts int     `json:"attempts"`
	// Path is the archive at the target, once carried.
	Path      string    `json:"path,omitempty"`
	Sums      Checksums `json:"sums,omitzero"`
	SourceMD5 string    `json:"sourceMD5,omitempty"`
	TargetMD5 string    `json:"targetMD5,omitempty"`
	Notes     []string  `json:"notes,omitempty"`
}

// MigrationVerdict is what verify found on the target.
type MigrationVerdict struct {
	Complete    bool         `json:"complete"`
	Differences int          `json:"differences"`
	Totals      VerifyTotals `json:"totals"`
}

// Migration is the record of one migration, written by its runner at each
// step and read by whatever follows it (the command, the console).
type Migration struct {
	ID        string       `json:"id"`
	Created   time.Time    `json:"created"`
	Updated   time.Time    `json:"updated"`
	From      MigrationEnd `json:"from"`
	To        MigrationEnd `json:"to"`
	Selectors []string     `json:"selectors"`
	Identity  string       `json:"identity,omitempty"` // the SSH key file given with -i
	CAFile    string       `json:"caFile,omitempty"`
	Insecure  bool         `json:"insecure,omitempty"`

	Step  string `json:"step"`
	State string `json:"state"`
	// Error is why a step failed or what canceled it.
	Error string `json:"error,omitempty"`

	Preview   string               `json:"preview,omitempty"` // what the export writes, in a line
	ExportJob int64                `json:"exportJob,omitempty"`
	Archive   string               `json:"archive,omitempty"` // the archive's name
	Carry     *MigrationCarryState `json:"carry,omitempty"`
	ImportJob int64                `json:"importJob,omitempty"`
	Verify    *MigrationVerdict    `json:"verify,omitempty"`
	// Remainder is the command that writes what is missing as an archive.
	Remainder string `json:"remainder,omitempty"`

	RunnerPID int    `json:"runnerPid,omitempty"`
	Log       string `json:"log"`
}

// MigrationStatus is a migration as a Migrator reads it: its record, and
// what the record alone cannot say.
type MigrationStatus struct {
	Migration
	// Stopped: the record says running, but its runner is gone (killed,
	// the machine restarted); ResumeMigration continues it.
	Stopped bool
	// Export and Import are the step's jobs as their ends last answered,
	// for their percentages; nil when the job was not asked for (not
	// started, or on an end this Migrator cannot reach).
	Export, Import *Job
}

// Resumable reports whether ResumeMigration would continue the migration.
func (s MigrationStatus) Resumable() bool {
	return s.State == MigrationFailed || s.State == MigrationCanceled || s.State == MigrationRunning && s.Stopped
}

// Running reports whether the migration's runner is at work.
func (s MigrationStatus) Running() bool { return s.State == MigrationRunning && !s.Stopped }

// MigrationRequest is a new migration: from one end to the other, what to
// export as selectors (PRJ/slug, PRJ/*, */*).
type MigrationRequest struct {
	From, To  MigrationEnd
	Selectors []string
}

// Migrator starts, follows, cancels and resumes migrations, each run by a
// runner process of its own that outlives whoever started it. The console
// drives it; bbimport migrate is the same thing on the command line.
type Migrator interface {
	// Ends are the ends this Migrator can migrate between, and a sentence
	// for each end it was given but cannot use (why not, what to do).
	Ends() (ends []MigrationEnd, notes []string)
	// Exporter is the source end's export calls, for picking what to
	// migrate; nil when that end cannot export.
	Exporter(from MigrationEnd) Exporter
	// Migrations lists the recorded migrations, oldest first.
	Migrations(ctx context.Context) ([]MigrationStatus, error)
	// Migration reads one migration (ErrNoMigration when there is none).
	Migration(ctx context.Context, id string) (MigrationStatus, error)
	// StartMigration records a new migration and starts its runner.
	StartMigration(ctx context.Context, req MigrationRequest) (MigrationStatus, error)
	// CancelMigration asks a running migration to stop: an export at
	// once, a carry resumably, an import at its next checkpoint.
	CancelMigration(ctx context.Context, id string) error
	// ResumeMigration continues a migration that failed, was canceled or
	// whose runner died, from the step where it stopped.
	ResumeMigration(ctx context.Context, id string) (MigrationStatus, error)
}

// ErrNoMigration: no migration has that id.
var ErrNoMigration = errors.New("no such migration")
