package model

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Backend is what the console and the headless commands drive: the
// in-process importer and the REST client both satisfy it, so every command
// works the same with --home or --url.
type Backend interface {
	// Identity says what is on the other end, for the console's header.
	Identity(ctx context.Context) (Identity, error)
	// Start starts an import of archivePath (relative to the import
	// directory, or absolute inside it). notes are what the admin
	// overrode to start it (a checksum that differs from the source's):
	// the in-process importer records each as a job-level WARN message
	// before the import begins. Bitbucket's REST API has nowhere to put
	// them, so the REST client drops them: a console that drives a remote
	// backend (Identity.Remote) shows them in its own log instead.
	Start(ctx context.Context, archivePath string, notes ...string) (Job, error)
	// Job returns a job's current state.
	Job(ctx context.Context, id int64) (Job, error)
	// Messages returns one page of a job's messages, oldest first.
	Messages(ctx context.Context, id int64, q MessageQuery) (Page[Message], error)
	// Cancel asks a running job to stop at its next checkpoint.
	Cancel(ctx context.Context, id int64) error
	// StopNow asks a canceling job to stop at once, without waiting for
	// its checkpoint: the admin's second "stop". Bitbucket's REST API has
	// no such call, so the REST client answers ErrNotSupported.
	StopNow(ctx context.Context, id int64) error
	// KnownJobs lists the jobs this backend knows of, newest first. A remote
	// Bitbucket cannot list jobs, so the client lists those it started.
	KnownJobs(ctx context.Context) ([]Job, error)
	// ProjectExists reports whether a project key is taken on the target,
	// so the console can foresee renames before an import starts.
	ProjectExists(ctx context.Context, key string) (bool, error)
}

// Identity describes a backend for the console's header.
type Identity struct {
	Remote   bool   // false: the in-process importer
	Location string // the instance home path, or the server's base URL
	Product  string // "Bitbucket", "bbimport"
	Version  string
	User     string // who the calls run as (remote only)
	// PartialJobs says that KnownJobs cannot list every job: a
	// Bitbucket's REST API has no such call, so the client lists those
	// it started and those it found after them.
	PartialJobs bool
}

// Errors every backend returns, wrapped with detail, so that the server can
// map them to Bitbucket's status codes and the client can map them back.
var (
	ErrJobNotFound    = errors.New("no such job")                  // 404
	ErrImportRunning  = errors.New("an import is already running") // 503
	ErrJobFinished    = errors.New("the job has already finished") // 409 on cancel
	ErrBadArchivePath = errors.New("bad archive path")             // 400
	ErrNotEnoughDisk  = errors.New("not enough free disk space")   // 400: the target cannot hold the import
	ErrNotSupported   = errors.New("not supported by this backend")
	ErrNotEmpty       = errors.New("not empty") // 409: a project with repositories, a repository with forks
)

// RefuseArchive is a refusal of an archive to import: it is
// ErrBadArchivePath (400 through REST), and its text is the sentence alone,
// for the admin, without the sentinel's words before it.
func RefuseArchive(format string, args ...any) error {
	return archiveRefusal{fmt.Errorf(format, args...)}
}

type archiveRefusal struct{ err error }

func (r archiveRefusal) Error() string   { return r.err.Error() }
func (r archiveRefusal) Unwrap() []error { return []error{ErrBadArchivePath, r.err} }

// Deleter deletes repositories and empty projects on the target, through
// its own API: the in-process importer, serve and a real Bitbucket (as
// admin). verify --replace-partial deletes the partial copies a canceled
// import left with it.
type Deleter interface {
	// DeleteRepository deletes a repository and returns once it is gone
	// (Bitbucket deletes in the background: the client waits for 404). A
	// repository with forks is ErrNotEmpty: delete the forks first.
	DeleteRepository(ctx context.Context, projectKey, slug string) error
	// DeleteProject deletes a project with no repositories (ErrNotEmpty
	// otherwise).
	DeleteProject(ctx context.Context, key string) error
}

// RunningImport is the error Start returns while another import runs on
// the same instance home: it says who runs it, as data, so that a console
// can name the job, the process and since when. It matches
// ErrImportRunning with errors.Is.
type RunningImport struct {
	JobID int64
	PID   int // the process that runs the import; 0 when not known (a remote Bitbucket)
	// The process that started it (import, serve, the console) and its
	// command line, when known. A runner process runs what another
	// started: then StarterPID differs from PID.
	StarterPID int
	Command    string
	Since      time.Time // zero when not known
}

// Runner says which processes run the import and started it: "process
// 13454, started by process 13400 (./bbimport serve)", or "process 13400
// (./bbimport serve)" when they are one or the starter is not known; "" when
// not known.
func (e *RunningImport) Runner() string {
	if e.PID == 0 {
		return ""
	}
	s := fmt.Sprintf("process %d", e.PID)
	starter := e.Command
	if starter != "" {
		starter = " (" + starter + ")"
	}
	if e.StarterPID != 0 && e.StarterPID != e.PID {
		return s + fmt.Sprintf(", started by process %d%s", e.StarterPID, starter)
	}
	return s + starter
}

func (e *RunningImport) Error() string {
	s := fmt.Sprintf("%v: job %d", ErrImportRunning, e.JobID)
	if r := e.Runner(); r != "" {
		s += ", run by " + r
	}
	if !e.Since.IsZero() {
		s += " since " + e.Since.Local().Format("2006-01-02 15:04:05")
	}
	return s
}

func (e *RunningImport) Is(target error) bool { return target == ErrImportRunning }

// ArchiveFile is an archive in the import directory.
type ArchiveFile struct {
	Name    string    `json:"name"` // relative to the import directory
	Path    string    `json:"path"` // absolute
	Size    int64     `json:"size"`
	ModTime time.Time `json:"modTime"`
	// Growing is set while the file's size or time still changes between
	// two looks: a copy in progress, which must not be started yet.
	Growing bool `json:"growing,omitempty"`
	// Unusable says why the entry cannot be imported (a directory, a
	// FIFO, a symbolic link, a file this user cannot read); "" when it can.
	// Such entries are listed so that an admin sees why a name is refused.
	Unusable string `json:"unusable,omitempty"`
}

// ArchiveSummary is what `inspect` tells of an archive without importing it.
type ArchiveSummary struct {
	Instance     InstanceDetails    `json:"instance"`
	Projects     []ProjectSummary   `json:"projects"`
	Hierarchies  []HierarchySummary `json:"hierarchies"`
	Repositories int                `json:"repositories"`
	Forks        int                `json:"forks"`
	PullRequests PullRequestCounts  `json:"pullRequests"`
	GitBytes     int64              `json:"gitBytes"`
	ArchiveBytes int64              `json:"archiveBytes"`
	Members      int                `json:"members"`
	Warnings     []string           `json:"warnings,omitempty"`
	// RepositoryList is every repository in archive order, as the
	// pre-flight's rename plan (PlanRenames) needs them; not in inspect's
	// JSON, whose repositories are counted.
	RepositoryList []ArchiveRepository `json:"-"`
}

// ProjectSummary is one project of an archive.
type ProjectSummary struct {
	Key          string `json:"key"`
	Name         string `json:"name"`
	Repositories int    `json:"repositories"`
}

// HierarchySummary is one fork hierarchy: its origin and forks, each as
// "PRJ/slug".
type HierarchySummary struct {
	ID     string   `json:"id"`
	Origin string   `json:"origin"`
	Forks  []string `json:"forks"`
}

// PullRequestCounts counts an archive's pull requests by state.
type PullRequestCounts struct {
	Total    int `json:"total"`
	Open     int `json:"open"`
	Merged   int `json:"merged"`
	Declined int `json:"declined"`
}

// Checksums of a whole archive file; the import guide asks admins to compare
// MD5 on source and target.
type Checksums struct {
	MD5    string `json:"md5"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}
