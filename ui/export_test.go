package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"bbimport/model"
)

// fakeExporter is the export half of the console's backend in tests: the
// instance's projects, a preview worked out from the selectors as the
// importer's (a fork's hierarchy comes whole), and started exports placed
// as jobs of the fake backend, so that the job view follows them.
type fakeExporter struct {
	b        *fakeBackend
	mu       sync.Mutex
	projects []model.ExportableProject
	free     int64
	requests []model.ExportRequest
	startErr error
	// bitbucket answers as the REST client does against a Bitbucket: no
	// pull request counts, no estimate, no free disk, no directory.
	bitbucket bool
}

func newFakeExporter(b *fakeBackend) *fakeExporter {
	return &fakeExporter{b: b, free: 120 << 30, projects: []model.ExportableProject{
		{Key: "PRJ", Name: "Project", Repositories: []model.ExportableRepository{
			{Slug: "api", Name: "API", PullRequests: 120},
			{Slug: "golden", Name: "Golden", PullRequests: 40},
			{Slug: "web", Name: "Web", PullRequests: 12},
		}},
		{Key: "OPS", Name: "Operations", Repositories: []model.ExportableRepository{
			{Slug: "tools", Name: "Tools", PullRequests: 3},
			{Slug: "golden-fork", Name: "Golden fork", Origin: "PRJ/golden", PullRequests: 1},
		}},
		{Key: "~ALICE", Name: "Alice", Personal: true, Repositories: []model.ExportableRepository{
			{Slug: "scratch", Name: "Scratch"},
		}},
	}}
}

func (x *fakeExporter) Exportable(context.Context) ([]model.ExportableProject, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	ps := slices.Clone(x.projects)
	if x.bitbucket {
		for i := range ps {
			ps[i].Repositories = slices.Clone(ps[i].Repositories)
			for j := range ps[i].Repositories {
				ps[i].Repositories[j].PullRequests = model.Unknown
			}
		}
	}
	return ps, nil
}

func (x *fakeExporter) PreviewExport(_ context.Context, req model.ExportRequest) (model.ExportPreview, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	chosen := map[string]bool{}
	for _, s := range req.RepositoriesRequest.Includes {
		hit := false
		for _, p := range x.projects {
			for _, r := range p.Repositories {
				if (s.ProjectKey == "*" || s.ProjectKey == p.Key) && (s.Slug == "*" || s.Slug == r.Slug) {
					chosen[repoPath(p, r)], hit = true, true
				}
			}
		}
		if !hit {
			return model.ExportPreview{}, fmt.Errorf("%s selects no repository: %w", s, model.ErrNoSuchSelection)
		}
	}
	// A fork and its origin go together.
	for _, p := range x.projects {
		for _, r := range p.Repositories {
			if r.Origin != "" && (chosen[repoPath(p, r)] || chosen[r.Origin]) {
				chosen[repoPath(p, r)], chosen[r.Origin] = true, true
			}
		}
	}
	var pv model.ExportPreview
	for _, p := range x.projects {
		var slugs []string
		for _, r := range p.Repositories {
			if chosen[repoPath(p, r)] {
				slugs = append(slugs, r.Slug)
				pv.Repositories++
				pv.PullRequests += r.PullRequests
				if r.Origin != "" {
					pv.Forks++
				}
			}
		}
		if slugs != nil {
			pv.Projects = append(pv.Projects, model.ExportPreviewProject{Key: p.Key, Name: p.Name, Repositories: slugs})
		}
	}
	pv.Hierarchies = pv.Repositories - pv.Forks
	pv.EstimatedBytes = int64(pv.Repositories) * 3 << 20
	pv.FreeBytes = x.free
	pv.Directory = "/srv/bbimport/shared/data/migration/export"
	if x.bitbucket {
		pv.PullRequests, pv.EstimatedBytes, pv.FreeBytes, pv.Directory = model.Unknown, model.Unknown, model.Unknown, ""
	}
	return pv, nil
}

func (x *fakeExporter) StartExport(ctx context.Context, req model.ExportRequest) (model.Job, error) {
	if _, err := x.PreviewExport(ctx, req); err != nil {
		return model.Job{}, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.startErr != nil {
		return model.Job{}, x.startErr
	}
	x.requests = append(x.requests, req)
	id := x.b.NextID
	j := model.Job{ID: id, Type: model.JobTypeExport, State: model.StateRunning,
		Progress:  model.Progress{Message: "Exporting PRJ/api", Percentage: 10},
		StartDate: t0.UnixMilli(), UpdatedDate: t0.UnixMilli(), Archive: fmt.Sprintf("Bitbucket_export_%d.tar", id)}
	x.b.Place(j)
	return j, nil
}

// fakeShelf is a directory of archives held in memory.
type fakeShelf struct {
	label, dir string
	mu         sync.Mutex
	files      []model.ArchiveFile
	removed    []string
}

func (s *fakeShelf) Label() string { return s.label }
func (s *fakeShelf) Dir() string   { return s.dir }
func (s *fakeShelf) List(context.Context) ([]model.ArchiveFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.files), nil
}

func (s *fakeShelf) Remove(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.files, func(f model.ArchiveFile) bool { return f.Name == name })
	if i < 0 {
		return fmt.Errorf("remove %s: no such file", name)
	}
	s.files = slices.Delete(s.files, i, i+1)
	s.removed = append(s.removed, name)
	return nil
}

// exportHarness is a console on the fake backend with exports and, unless
// remote, the home's export and import directories.
func exportHarness(t *testing.T, w, h int, remote bool) (*harness, *fakeExporter, *fakeShelf) {
	hs := newHarness(t, w, h)
	x := newFakeExporter(hs.b)
	exports := &fakeShelf{label: "export", dir: "/srv/bbimport/shared/data/migration/export", files: []model.ArchiveFile{
		{Name: "Bitbucket_export_9.tar", Path: "/srv/bbimport/shared/data/migration/export/Bitbucket_export_9.tar", Size: 48 << 20, ModTime: t0.Add(-3 * time.Hour)},
		{Name: "Bitbucket_export_4.tar", Path: "/srv/bbimport/shared/data/migration/export/Bitbucket_export_4.tar", Size: 700 << 20, ModTime: t0.Add(-9 * 24 * time.Hour)},
	}}
	hs.m.opts.Exporter = x
	if remote {
		x.bitbucket = true
		hs.b.identity = model.Identity{Remote: true, Location: "https://bb.example.com", Product: "Bitbucket", Version: "9.4.3"}
	} else {
		files, _ := hs.a.List(context.Background())
		hs.m.opts.Shelves = []ArchiveShelf{exports, &fakeShelf{label: "import", dir: "/srv/import", files: files}}
	}
	hs.init()
	return hs, x, exports
}

var exportScreens = []struct {
	name   string
	remote bool
	reach  func(h *harness)
}{
	// A whole project (a) and a fork whose origin is in another project.
	{"export-selected", false, func(h *harness) { h.press("e", "a", "j", "j", "j", "j", "j", "j", "space") }},
	{"export-confirm", false, func(h *harness) { h.press("e", "a", "j", "j", "j", "j", "j", "j", "space", "enter") }},
	{"export-filter", false, func(h *harness) { h.press("e", "/", "g", "o", "l") }},
	{"export-remove", false, func(h *harness) { h.press("e", "tab", "j", "j", "x") }},
	{"export-remote", true, func(h *harness) { h.press("e", "space", "tab") }},
	{"export-running", false, func(h *harness) { h.press("e", "a", "enter", "y") }},
	// A Bitbucket's preview: pull requests and size unknown, and the start offered.
	{"export-remote-confirm", true, func(h *harness) { h.press("e", "a", "enter") }},
}

func TestGoldenExport(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		for _, sc := range exportScreens {
			t.Run(fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				h, _, _ := exportHarness(t, size[0], size[1], sc.remote)
				sc.reach(h)
				requireFrame(t, h.m.render(), size[0], size[1])
				golden.RequireEqual(t, h.screen())
			})
		}
	}
}

// From the picker to a started export: the selectors are the selection's
// (a whole project as PRJ/*), and the job view follows the export's job.
func TestExportStartsAndIsWatched(t *testing.T) {
	h, x, _ := exportHarness(t, 80, 24, false)
	h.press("e")
	h.requireScreen("Export", "PRJ  Project", "api · 120 pull requests")
	h.press("a", "j", "j", "j", "j", "j", "j", "space")
	h.requireScreen("Projects      2: PRJ, OPS", "Repositories  4 (1 fork)", "Pull requests 173", "✓ about 12 MiB, 120 GiB free")
	h.press("enter")
	h.requireScreen("Start the export?", "y/enter")
	h.press("y")
	if len(x.requests) != 1 {
		t.Fatalf("started %d exports, want 1", len(x.requests))
	}
	var got []string
	for _, s := range x.requests[0].RepositoriesRequest.Includes {
		got = append(got, s.String())
	}
	if strings.Join(got, " ") != "PRJ/* OPS/golden-fork" {
		t.Fatalf("selectors %v, want PRJ/* OPS/golden-fork", got)
	}
	h.requireScreen("Job 12 · Bitbucket_export_12.tar", "RUNNING", "Exporting PRJ/api", "exported: not reported", "c cancel export")
	h.requireNotScreen("imported")
	// Back in the picker, w returns to it.
	h.press("b", "w")
	h.requireScreen("Job 12 · Bitbucket_export_12.tar")
	// An export stops at once: the cancel says so, not the import's
	// checkpoints.
	h.press("c")
	h.requireScreen("Cancel job 12?", "The export stops at once and leaves no archive")
	h.requireNotScreen("checkpoint")
	h.press("y")
	if !slices.Equal(h.b.canceled, []int64{12}) {
		t.Fatalf("canceled %v, want job 12", h.b.canceled)
	}
	h.requireScreen("Cancel requested: the export stops at once")
	h.requireNotScreen("checkpoint")
}

// An estimate beyond the free disk is refused before the start: the
// dialog offers no start, and y does nothing.
func TestExportTooBigIsNotOffered(t *testing.T) {
	h, x, _ := exportHarness(t, 80, 24, false)
	x.free = 1 << 20
	h.press("e", "a", "enter")
	h.requireScreen("free some space first")
	h.requireNotScreen("start the export")
	h.press("y")
	if len(x.requests) != 0 {
		t.Fatalf("started %d exports, want none", len(x.requests))
	}
}

// A Bitbucket's preview tells no pull requests, size or free disk: the
// pane says unknown (not 0, not too big), and the export is started.
func TestExportUnknownSizeIsStarted(t *testing.T) {
	h, x, _ := exportHarness(t, 80, 24, true)
	h.press("e")
	h.requireScreen("api", "golden", "PRJ  Project")
	h.requireNotScreen("pull requests ·", "120 pull requests")
	h.press("a")
	h.requireScreen("Repositories  4 (1 fork)", "Pull requests unknown", "Size          unknown")
	h.requireNotScreen("✗", "free some space", "0 B")
	h.press("enter")
	h.requireScreen("Start the export?", "y/enter")
	h.press("y")
	if len(x.requests) != 1 {
		t.Fatalf("started %d exports, want 1", len(x.requests))
	}
	h.requireScreen("Job 12 · Bitbucket_export_12.tar", "RUNNING")
}

// A refusal of the backend (two exports running) is a dialog saying so.
func TestExportRefusedSaysWhy(t *testing.T) {
	h, x, _ := exportHarness(t, 80, 24, false)
	x.startErr = model.ErrExportsRunning
	h.press("e", "space", "enter", "y")
	h.requireScreen("The export did not start", "Two exports are running already")
}

// An old archive is removed after a confirm; n keeps it.
func TestExportRemovesAnArchive(t *testing.T) {
	h, _, exports := exportHarness(t, 80, 24, false)
	h.press("e", "tab", "j", "j", "x")
	h.requireScreen("Remove the archive?", "Bitbucket_export_4.tar (700 MiB, 9d old)")
	h.press("n")
	if len(exports.removed) != 0 {
		t.Fatalf("removed %v after n", exports.removed)
	}
	h.press("x", "y")
	if !slices.Equal(exports.removed, []string{"Bitbucket_export_4.tar"}) {
		t.Fatalf("removed %v, want Bitbucket_export_4.tar", exports.removed)
	}
	h.requireScreen("Removed Bitbucket_export_4.tar.")
	h.requireNotScreen("Bitbucket_export_4.tar ")
}

// With a remote Bitbucket the archives pane stays and says why it is empty;
// x says the same.
func TestExportRemoteHasNoArchiveCalls(t *testing.T) {
	h, _, _ := exportHarness(t, 80, 24, true)
	h.press("e", "tab", "x")
	h.requireScreen("A remote Bitbucket has no call to remove an archive")
}

// Without an exporter the screen still opens and
// says why its list is empty; space and enter do nothing.
func TestExportNeedsAnExporter(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.init()
	h.press("e", "space", "enter")
	h.requireScreen("This console cannot start exports on this backend", "Nothing is selected")
}
