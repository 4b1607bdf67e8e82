package model

import (
	"context"
	"errors"
)

// ErrArchiveUnknown is Verify's error for a job that does not name its
// archive: a real Bitbucket's jobs never do, so a job this machine did not
// start needs the archive named (verify --archive).
var ErrArchiveUnknown = errors.New("the job does not name its archive")

// Placement says where one repository of an archive went in one import.
// The importer records it as data while it creates the repository, so
// verify follows renames (project KEY → KEY1, repository slug → slug-1)
// without reading any message.
type Placement struct {
	Job            int64  `json:"job"`
	ArchiveProject string `json:"archiveProject"` // the project key in the archive
	ArchiveSlug    string `json:"archiveSlug"`
	HierarchyID    string `json:"hierarchyId"` // the archive's fork hierarchy
	Project        string `json:"project"`     // the project key on the target
	Slug           string `json:"slug"`        // the slug on the target
}

// Placer is a backend that can say where a job put the archive's
// repositories: the in-process importer, and serve (bbimport's extension of
// the REST API). A real Bitbucket cannot, and answers ErrNotSupported;
// verify then finds the repositories by Bitbucket's rename rules.
type Placer interface {
	Placements(ctx context.Context, job int64) ([]Placement, error)
}

// Verify statuses of a hierarchy, a repository, a ref or a pull request.
const (
	VerifyPresent = "present" // on the target as in the archive
	VerifyMissing = "missing" // not on the target
	VerifyDiffers = "differs" // on the target, but not as in the archive
)

// What differs of a hierarchy that is neither present nor missing: part of
// it is missing (a remainder brings it), or all of it is there but changed.
const (
	VerifyIncomplete = "incomplete"
	VerifyChanged    = "changed"
)

// Kinds of what verify compares.
const (
	VerifyHierarchy   = "hierarchy"
	VerifyRepository  = "repository"
	VerifyRef         = "ref"
	VerifyPullRequest = "pull-request"
)

// VerifyCount counts one kind of item: how many the archive holds and how
// each was found on the target. Expected = Present + Missing + Differing.
type VerifyCount struct {
	Expected  int `json:"expected"`
	Present   int `json:"present"`
	Missing   int `json:"missing"`
	Differing int `json:"differing"`
}

// VerifyTotals are a report's counts per kind.
type VerifyTotals struct {
	Hierarchies  VerifyCount `json:"hierarchies"`
	Repositories VerifyCount `json:"repositories"`
	Refs         VerifyCount `json:"refs"`
	PullRequests VerifyCount `json:"pullRequests"`
}

// VerifyDifference is one thing of the archive that is not on the target as
// it is in the archive: one line of the report.
type VerifyDifference struct {
	Kind        string `json:"kind"`             // VerifyHierarchy, VerifyRepository, VerifyRef, VerifyPullRequest
	Status      string `json:"status"`           // VerifyMissing or VerifyDiffers
	HierarchyID string `json:"hierarchyId"`      // the archive's
	Repository  string `json:"repository"`       // "KEY/slug" in the archive
	Target      string `json:"target,omitempty"` // "KEY1/slug-1" on the target, when found
	Item        string `json:"item,omitempty"`   // "refs/heads/main", "#12"
	Field       string `json:"field,omitempty"`  // what differs: "commit", "state", "title", "comments"; of a hierarchy, VerifyIncomplete or VerifyChanged
	Expected    string `json:"expected,omitempty"`
	Found       string `json:"found,omitempty"`
}

// VerifiedRepository is one repository of the archive and where it was
// found.
type VerifiedRepository struct {
	Repository   string      `json:"repository"`       // "KEY/slug" in the archive
	Target       string      `json:"target,omitempty"` // "KEY1/slug-1" on the target; "" when missing
	Job          int64       `json:"job,omitempty"`    // the job that put it there, when known
	Status       string      `json:"status"`
	Refs         VerifyCount `json:"refs"`
	PullRequests VerifyCount `json:"pullRequests"`
}

// VerifiedHierarchy is one fork hierarchy of the archive: present when all
// its repositories are, missing when none is, differs otherwise
// (incomplete).
type VerifiedHierarchy struct {
	ID           string               `json:"id"`
	Origin       string               `json:"origin"` // "KEY/slug" in the archive
	Status       string               `json:"status"`
	Repositories []VerifiedRepository `json:"repositories"`
}

// VerifyReport is what verify found: the archive of the first job compared
// with the target, following the placements of every job given.
type VerifyReport struct {
	Archive     string              `json:"archive"`
	Jobs        []int64             `json:"jobs"`
	Target      string              `json:"target"` // the instance home or base URL
	Totals      VerifyTotals        `json:"totals"`
	Differences []VerifyDifference  `json:"differences"`
	Hierarchies []VerifiedHierarchy `json:"hierarchies"`
}

// Complete reports whether everything of the archive is on the target.
func (r *VerifyReport) Complete() bool { return len(r.Differences) == 0 }

// Lacking reports whether something of the hierarchy is not on the target
// at all (a repository, a ref, a pull request): what a remainder archive
// brings. A hierarchy that is all there but changed lacks nothing.
func (h *VerifiedHierarchy) Lacking() bool {
	for _, r := range h.Repositories {
		if r.Status == VerifyMissing || r.Refs.Missing > 0 || r.PullRequests.Missing > 0 {
			return true
		}
	}
	return false
}

// Lacking reports whether any hierarchy lacks something: whether a
// remainder archive has anything to hold.
func (r *VerifyReport) Lacking() bool {
	for i := range r.Hierarchies {
		if r.Hierarchies[i].Lacking() {
			return true
		}
	}
	return false
}

// RemainderProject is one project a remainder archive holds, and the key
// an import of it will give it by Bitbucket's rules (KEY1 when KEY exists).
type RemainderProject struct {
	Key      string `json:"key"`
	ImportAs string `json:"importAs"`
	Personal bool   `json:"personal,omitempty"` // personal projects are reused, not renamed
}

// RemainderPlan says, before anything is written, what a remainder archive
// will hold and what importing it will do: whole hierarchies that are
// missing, and incomplete ones, which are imported again whole beside the
// partial copy (a later import never reuses fork parents that a canceled
// import left behind).
type RemainderPlan struct {
	Archive      string             `json:"archive"` // the source archive
	Hierarchies  []string           `json:"hierarchies"`
	Incomplete   []string           `json:"incomplete"` // those of Hierarchies already partly on the target
	Projects     []RemainderProject `json:"projects"`
	Repositories int                `json:"repositories"`
	PullRequests int                `json:"pullRequests"`
}

// Verifier runs verify and writes remainders; the console reaches it
// through this interface, so that it never imports the importer.
type Verifier interface {
	// Verify compares the archive of jobs[0] with the target, following
	// the placements of every job.
	Verify(ctx context.Context, jobs ...int64) (VerifyReport, error)
	// PlanRemainder says what a remainder archive of report would hold and
	// what importing it would do.
	PlanRemainder(ctx context.Context, report VerifyReport) (RemainderPlan, error)
	// WriteRemainder writes the planned archive to path, whole or not at
	// all (a temporary file renamed into place).
	WriteRemainder(ctx context.Context, plan RemainderPlan, path string) error
	// PlanReplace says which partial copies of report's incomplete
	// hierarchies can be deleted before a remainder is written, and which
	// projects that leaves empty.
	PlanReplace(ctx context.Context, report VerifyReport) (ReplacePlan, error)
	// Replace deletes what plan names through the target's own API,
	// calling done after each delete.
	Replace(ctx context.Context, plan ReplacePlan, done func(what string)) error
}

// ReplacePlan says which partial copies verify --replace-partial deletes
// before a remainder is written, so that the remainder lands under the
// original keys: the repositories on the target of the incomplete fork
// hierarchies that nobody changed since the import (refs where the import
// left them, pull requests and comments as imported), and the projects
// that deleting them leaves empty.
type ReplacePlan struct {
	Hierarchies  []string `json:"hierarchies"`  // archive hierarchy ids whose partial copies go
	Repositories []string `json:"repositories"` // "KEY/slug" on the target, in delete order: forks before their origin
	Projects     []string `json:"projects"`     // keys of the projects left empty, deleted after
	// Kept are the incomplete hierarchies (their origins in the archive)
	// not replaced: something of them changed since the import.
	Kept []string `json:"kept"`
}
