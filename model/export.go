package model

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"
)

// JobTypeExport is the type Bitbucket gives its export jobs.
const JobTypeExport = "com.atlassian.bitbucket.migration.export"

// Exporter is what starts and previews exports: the in-process importer's
// home (its instance is the export's source) and, through REST, a real
// Bitbucket or serve. An export is a job like an import: Backend's Job,
// Messages, Cancel and KnownJobs follow it, in the same id sequence.
type Exporter interface {
	// Exportable lists the projects of the instance with their
	// repositories, for a console to pick from.
	Exportable(ctx context.Context) ([]ExportableProject, error)
	// PreviewExport says what req would export, and whether it fits: no
	// archive is written and no job is started. A selector that matches
	// nothing is an error (ErrNoSuchSelection) naming it.
	PreviewExport(ctx context.Context, req ExportRequest) (ExportPreview, error)
	// StartExport starts an export job. It is refused with
	// ErrExportsRunning while the instance already runs its most exports,
	// with ErrNotEnoughDisk when the estimate exceeds the free disk (unless
	// req.Force), and with ErrBadExportLocation for a location outside the
	// export directory.
	StartExport(ctx context.Context, req ExportRequest) (Job, error)
}

// RepositorySelector is one of Bitbucket's export selectors: a repository
// {"projectKey":"PRJ","slug":"repo"}, a project's repositories
// {"projectKey":"PRJ","slug":"*"}, or everything {"projectKey":"*","slug":"*"}.
type RepositorySelector struct {
	ProjectKey string `json:"projectKey"`
	Slug       string `json:"slug"`
}

// All is the selector "*/*".
func (s RepositorySelector) All() bool { return s.ProjectKey == "*" && s.Slug == "*" }

// String is the selector as the command line writes it: PRJ/slug.
func (s RepositorySelector) String() string { return s.ProjectKey + "/" + s.Slug }

// ParseSelector reads PRJ/slug, PRJ/* or */*.
func ParseSelector(s string) (RepositorySelector, error) {
	key, slug, ok := strings.Cut(s, "/")
	switch {
	case !ok || key == "" || slug == "" || strings.Contains(slug, "/"):
		return RepositorySelector{}, fmt.Errorf("%w: %q is not PRJ/slug, PRJ/* or */*", ErrBadSelector, s)
	case key == "*" && slug != "*":
		return RepositorySelector{}, fmt.Errorf("%w: %q selects a slug in every project; Bitbucket knows */* only", ErrBadSelector, s)
	}
	return RepositorySelector{ProjectKey: key, Slug: slug}, nil
}

// ExportRequest is Bitbucket's export request body. Force is bbimport's:
// start even when the estimate exceeds the free disk.
type ExportRequest struct {
	RepositoriesRequest RepositoriesRequest `json:"repositoriesRequest"`
	ExportLocation      string              `json:"exportLocation,omitempty"`
	Force               bool                `json:"-"`
}

// RepositoriesRequest holds the selectors of an export.
type RepositoriesRequest struct {
	Includes []RepositorySelector `json:"includes"`
}

// Unknown is a count or size the source cannot tell: a Bitbucket's
// preview names the repositories only, so its pull requests, the
// archive's size and the free disk of its export directory are not known
// before the export runs.
const Unknown = -1

// ExportPreview is what an export request selects and whether it fits,
// as data: the console shows it and the command prints it.
type ExportPreview struct {
	Projects     []ExportPreviewProject `json:"projects"`
	Hierarchies  int                    `json:"hierarchies"`
	Repositories int                    `json:"repositories"`
	Forks        int                    `json:"forks"`
	// PullRequests is Unknown when the source does not count them.
	PullRequests int `json:"pullRequests"`
	// EstimatedBytes is the archive's size as estimated from the git data
	// and the stored documents; FreeBytes what the export directory's
	// file system has free. Either is Unknown when the source cannot say.
	EstimatedBytes int64 `json:"estimatedBytes"`
	FreeBytes      int64 `json:"freeBytes"`
	// Directory is where the archive will be written (absolute, in-process).
	Directory string `json:"directory,omitempty"`
}

// SizeKnown reports whether the preview tells both the estimate and the
// free disk.
func (p ExportPreview) SizeKnown() bool { return p.EstimatedBytes >= 0 && p.FreeBytes >= 0 }

// Fits reports whether the estimate is within the free disk. An export
// whose size or free disk is not known fits: nothing says it does not,
// and refusing it would refuse every export of a real Bitbucket.
func (p ExportPreview) Fits() bool { return !p.SizeKnown() || p.EstimatedBytes <= p.FreeBytes }

// ExportPreviewProject is one project of a preview with the repositories
// (slugs) it contributes, a hierarchy's forks included.
type ExportPreviewProject struct {
	Key          string   `json:"key"`
	Name         string   `json:"name"`
	Repositories []string `json:"repositories"`
}

// ExportableProject is a project of the instance and its repositories.
type ExportableProject struct {
	Key          string                 `json:"key"`
	Name         string                 `json:"name"`
	Personal     bool                   `json:"personal,omitempty"`
	Repositories []ExportableRepository `json:"repositories"`
}

// ExportableRepository is one repository of an ExportableProject. Origin
// is "PRJ/slug" of a fork's origin: selecting either selects both.
// PullRequests is Unknown through REST, where counting them would read
// every pull request of every repository.
type ExportableRepository struct {
	Slug         string `json:"slug"`
	Name         string `json:"name"`
	Origin       string `json:"origin,omitempty"`
	PullRequests int    `json:"pullRequests"`
}

// Errors of exports, beside Backend's (ErrNotEnoughDisk, ErrJobNotFound,
// ErrJobFinished).
var (
	ErrBadSelector       = errors.New("bad export selector")                         // 400
	ErrNoSuchSelection   = errors.New("the selector matches nothing")                // 400, naming it
	ErrBadExportLocation = errors.New("bad export location")                         // 400
	ErrExportsRunning    = errors.New("the most exports this node runs are running") // 503
)

// NotEnoughDiskError is an export refused because its estimate exceeds the
// free disk where the archive would go. It is ErrNotEnoughDisk, with the
// figures as data: how to force the export differs by door (a flag of the
// command, a query parameter of serve's, nothing against a Bitbucket), so
// each door words that part itself, and Error says only what every door
// may do.
type NotEnoughDiskError struct {
	// Need is the estimated size of the archive and Free what the export
	// directory's file system has free, in bytes; either is Unknown where
	// the refusal came without figures (through REST).
	Need, Free int64
	// Directory is where the archive would go: absolute in-process, empty
	// where the refusal came through REST.
	Directory string
}

func (e *NotEnoughDiskError) Error() string {
	return ErrNotEnoughDisk.Error() + ": " + e.Shortfall() + "; free some space or export less"
}

func (e *NotEnoughDiskError) Unwrap() error { return ErrNotEnoughDisk }

// Shortfall says what the archive needs and what is free, as far as the
// refusal tells: "the archive needs about 3.0 MiB and /srv/export has
// 1.0 MiB free".
func (e *NotEnoughDiskError) Shortfall() string {
	where := e.Directory
	if where == "" {
		where = "the export directory"
	}
	if e.Need == Unknown || e.Free == Unknown {
		return "the archive's estimated size exceeds what " + where + " has free"
	}
	return fmt.Sprintf("the archive needs about %s and %s has %s free", humanize.IBytes(uint64(e.Need)), where, humanize.IBytes(uint64(e.Free)))
}
