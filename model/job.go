package model

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// State is a migration job's state, spelled as Bitbucket spells it
// (CANCELED and CANCELING with one L, INITIALISING and FINALISING with S).
type State string

// The ten states of a migration job.
const (
	StateInitialising State = "INITIALISING"
	StateReady        State = "READY"
	StateRunning      State = "RUNNING"
	StateFinalising   State = "FINALISING"
	StateCompleted    State = "COMPLETED"
	StateFailed       State = "FAILED"
	StateCanceling    State = "CANCELING"
	StateCanceled     State = "CANCELED"
	StateTimedOut     State = "TIMED_OUT"
	StateAborted      State = "ABORTED"
)

// AllStates lists the states in the order a job can pass through them.
var AllStates = []State{StateInitialising, StateReady, StateRunning, StateFinalising,
	StateCompleted, StateFailed, StateCanceling, StateCanceled, StateTimedOut, StateAborted}

// Finished reports whether the job has stopped for good. An unknown state
// (a newer server) counts as not finished, so a watcher keeps polling.
func (s State) Finished() bool {
	switch s {
	case StateCompleted, StateFailed, StateCanceled, StateTimedOut, StateAborted:
		return true
	}
	return false
}

// Failed reports whether a job in this state did not do all it was asked.
// COMPLETED is not success when the job logged ERROR messages.
func (s State) Failed(hasErrors bool) bool {
	switch s {
	case StateFailed, StateAborted, StateTimedOut:
		return true
	case StateCompleted:
		return hasErrors
	}
	return false
}

// JobTypeImport is the type string our importer gives its jobs. Bitbucket's
// own import type string is not confirmed; the export's is
// com.atlassian.bitbucket.migration.export, and this follows that pattern.
const JobTypeImport = "com.atlassian.bitbucket.migration.import"

// Job is a migration job as the REST API returns it.
type Job struct {
	ID          int64    `json:"id"`
	State       State    `json:"state"`
	Type        string   `json:"type"`
	Progress    Progress `json:"progress"`
	StartDate   int64    `json:"startDate,omitempty"`
	UpdatedDate int64    `json:"updatedDate,omitempty"`
	EndDate     int64    `json:"endDate,omitempty"`
	NodeID      string   `json:"nodeId,omitempty"`
	Initiator   *User    `json:"initiator,omitempty"`
	// Counts is bbimport's extension of Bitbucket's job JSON: what the job
	// has imported so far. Bitbucket does not send it, so nil means "not
	// reported", never zero.
	Counts *ImportCounts `json:"counts,omitempty"`
	// Archive is bbimport's extension too: the archive the job imports, as
	// it was named to Start. Bitbucket does not send it; the REST client
	// fills it from what it remembers of the jobs it started.
	Archive string `json:"archive,omitempty"`
}

// ImportCounts are the items a job has imported so far, as structured data
// so that no reader has to parse the importer's messages.
type ImportCounts struct {
	Projects     int `json:"projects"` // created by the job, personal ones included
	Repositories int `json:"repositories"`
	PullRequests int `json:"pullRequests"`
	// PersonalReused is the archive's personal projects that existed
	// already: the job added their repositories to them and did not count
	// them in Projects.
	PersonalReused int `json:"personalProjectsReused,omitempty"`
}

// Progress is a job's progress: a message naming the current item and a
// percentage that never goes down.
type Progress struct {
	Message    string `json:"message"`
	Percentage int    `json:"percentage"`
}

// User is a Bitbucket user as the REST API shows one.
type User struct {
	Name         string `json:"name"`
	ID           int64  `json:"id"`
	Slug         string `json:"slug"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress,omitempty"`
	Active       bool   `json:"active"`
	Type         string `json:"type"`
}

// Severity of a job message.
type Severity string

// The three severities, lowest first.
const (
	SeverityInfo  Severity = "INFO"
	SeverityWarn  Severity = "WARN"
	SeverityError Severity = "ERROR"
)

// Severities lists every severity, lowest first.
var Severities = []Severity{SeverityInfo, SeverityWarn, SeverityError}

// Message is one entry of a job's log. Subject is "PRJ", "PRJ/repo",
// "PRJ/repo#12", or empty for a job-level message.
type Message struct {
	ID          string   `json:"id"`
	Severity    Severity `json:"severity"`
	Subject     string   `json:"subject,omitempty"`
	Text        string   `json:"text"`
	CreatedDate Millis   `json:"createdDate"`
}

// Millis is a point in time as epoch milliseconds. Bitbucket documents
// message dates as date-time strings but commonly sends epoch milliseconds;
// Millis reads both (and numbers sent as strings) and always writes a number.
type Millis int64

// MillisOf converts a time.
func MillisOf(t time.Time) Millis { return Millis(t.UnixMilli()) }

// Time converts back to a time.Time in UTC.
func (m Millis) Time() time.Time { return time.UnixMilli(int64(m)).UTC() }

// UnmarshalJSON accepts a number, a numeric string or an RFC 3339 date-time.
func (m *Millis) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = 0
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		if i, err := n.Int64(); err == nil {
			*m = Millis(i)
			return nil
		}
		if f, err := n.Float64(); err == nil {
			*m = Millis(int64(f))
			return nil
		}
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date %s is neither epoch milliseconds nor a date-time", b)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*m = Millis(i)
		return nil
	}
	// A date-time without a zone is taken as UTC, the zone Bitbucket's
	// own servers log in.
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700",
		"2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			*m = MillisOf(t)
			return nil
		}
	}
	return fmt.Errorf("date %q is neither epoch milliseconds nor a date-time", s)
}

// MessageQuery selects a page of a job's messages. Empty Severities means
// all; Limit 0 means the server's default.
type MessageQuery struct {
	Severities []Severity
	Subject    string
	Start      int
	Limit      int
}

// Page is one page of a paged REST answer. NextPageStart is absent on the
// last page.
type Page[T any] struct {
	Size          int  `json:"size"`
	Limit         int  `json:"limit"`
	IsLastPage    bool `json:"isLastPage"`
	Start         int  `json:"start"`
	NextPageStart *int `json:"nextPageStart,omitempty"`
	Values        []T  `json:"values"`
}

// ImportedArchive is what a job recorded of the archive it read: its size
// when the job started and its SHA-256, computed while the import read it
// ("" when the job recorded none: a real Bitbucket's, or one stopped at
// once). bbimport's own data: over REST it lives under /rest/bbimport/1.0,
// never in Bitbucket's job JSON.
type ImportedArchive struct {
	Job       int64  `json:"job"`
	Archive   string `json:"archive"` // as named to Start
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256,omitempty"`
	StartDate int64  `json:"startDate"`
}

// ArchiveRecorder is a backend whose jobs record the archive they read:
// the in-process importer, and serve. A real Bitbucket does not, and
// answers ErrNotSupported; verify then skips the archive check.
type ArchiveRecorder interface {
	// ImportedArchives lists what every job of the target recorded of its
	// archive, newest first.
	ImportedArchives(ctx context.Context) ([]ImportedArchive, error)
}
