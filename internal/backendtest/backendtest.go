// Package backendtest is one conformance suite for model.Backend: the
// in-process importer, the REST client over `bbimport serve`, and the fakes
// all run it, so that a fake cannot drift from what the importer does.
//
// The suite checks what a user of the backend sees: states, progress,
// pages of messages, filters and the errors the console and the commands
// act on.
package backendtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"bbimport/archive/gen"
	"bbimport/model"
)

// ProjectKey is the key of the one project of the suite's archive.
const ProjectKey = "CONF"

// Harness is what the suite needs of one implementation.
type Harness struct {
	// New returns a fresh backend with an empty target.
	New func(t *testing.T) Target
	// Remote is what Identity must say of the backend.
	Remote bool
}

// Target is one fresh backend.
type Target struct {
	Backend model.Backend
	// ImportDir is the backend's import directory, absolute; the suite
	// places its archives there.
	ImportDir string
	// Hold, when set, stops the job started next at its first checkpoint:
	// it returns at once, held is closed once the job waits there, and
	// release lets it go on. A backend that cannot pause a job leaves Hold
	// nil; the suite then cancels a big archive before it can finish.
	Hold func() (held <-chan struct{}, release func())
	// Step, when set, moves a job one step on. Fakes whose jobs move only
	// when told set it; the suite calls it while it waits for a job.
	Step func(id int64)
}

// Run runs the whole suite against h.
func Run(t *testing.T, h Harness) {
	t.Run("Identity", func(t *testing.T) { testIdentity(t, h) })
	t.Run("BadArchivePaths", func(t *testing.T) { testBadPaths(t, h) })
	t.Run("UnknownJob", func(t *testing.T) { testUnknownJob(t, h) })
	t.Run("ImportThenCancel", func(t *testing.T) { testImportThenCancel(t, h) })
	t.Run("Export", func(t *testing.T) { testExport(t, h) })
}

// smallOptions is an archive of one project with two fork hierarchies: a
// few messages with repository subjects and a WARN among them.
var smallOptions = gen.Options{Projects: 1, Repos: 2, Forks: 1, PRs: 3, Commits: 3, Seed: 7,
	ProjectKeys: []string{ProjectKey}}

// bigOptions is an archive that takes long enough to import that a cancel
// sent right after the start arrives while the job runs. Only backends
// without Hold need it.
var bigOptions = gen.Options{Projects: 1, Repos: 2, PRs: 500, Commits: 3, Seed: 8}

var (
	archivesMu sync.Mutex
	archives   = map[string]string{} // by name, generated once per test binary
)

// archive generates an archive once per test binary and returns its path.
func archive(t *testing.T, name string, opts gen.Options) string {
	t.Helper()
	archivesMu.Lock()
	defer archivesMu.Unlock()
	if p, ok := archives[name]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "bbimport-backendtest-")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".tar")
	if _, err := gen.GenerateFile(context.Background(), p, opts); err != nil {
		t.Fatalf("generate archive %s: %v", name, err)
	}
	archives[name] = p
	return p
}

// place puts an archive into the import directory under name.
func place(t *testing.T, tg Target, archivePath, name string) {
	t.Helper()
	dst := filepath.Join(tg.ImportDir, name)
	if err := os.Link(archivePath, dst); err == nil {
		return
	}
	data, err := os.ReadFile(archivePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func testIdentity(t *testing.T, h Harness) {
	tg := h.New(t)
	id, err := tg.Backend.Identity(t.Context())
	if err != nil {
		t.Fatalf("Identity: %v", err)
	}
	if id.Remote != h.Remote || id.Location == "" || id.Product == "" || id.Version == "" {
		t.Errorf("Identity = %+v; want Remote %v and a location, product and version", id, h.Remote)
	}
}

func testBadPaths(t *testing.T, h Harness) {
	tg := h.New(t)
	outside := filepath.Join(t.TempDir(), "outside.tar")
	parent := filepath.Join(filepath.Dir(tg.ImportDir), "x.tar")
	for _, p := range []string{outside, parent} {
		if err := os.WriteFile(p, []byte("not inside the import directory"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(tg.ImportDir, "dir.tar"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(tg.ImportDir, "link.tar")); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{
		"absolute outside":              outside,
		"relative outside":              "../x.tar",
		"missing":                       "missing.tar",
		"missing absolute inside":       filepath.Join(tg.ImportDir, "missing.tar"),
		"directory":                     "dir.tar",
		"the import directory":          ".",
		"empty":                         "",
		"link inside to a file outside": "link.tar",
	} {
		job, err := tg.Backend.Start(t.Context(), p)
		if !errors.Is(err, model.ErrBadArchivePath) {
			t.Errorf("Start(%q) (%s) = job %d, %v; want %v", p, name, job.ID, err, model.ErrBadArchivePath)
		}
	}
	jobs, err := tg.Backend.KnownJobs(t.Context())
	if err != nil || len(jobs) != 0 {
		t.Errorf("KnownJobs after refused starts = %+v, %v; want none", jobs, err)
	}
}

func testUnknownJob(t *testing.T, h Harness) {
	tg := h.New(t)
	const id = 4242
	if _, err := tg.Backend.Job(t.Context(), id); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("Job(%d) = %v; want %v", id, err, model.ErrJobNotFound)
	}
	if _, err := tg.Backend.Messages(t.Context(), id, model.MessageQuery{}); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("Messages(%d) = %v; want %v", id, err, model.ErrJobNotFound)
	}
	if err := tg.Backend.Cancel(t.Context(), id); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("Cancel(%d) = %v; want %v", id, err, model.ErrJobNotFound)
	}
}

// successPath and cancelPath are the orders in which Bitbucket's states
// may follow each other; a poll may miss some of them.
var (
	successPath = []model.State{model.StateInitialising, model.StateReady, model.StateRunning, model.StateFinalising, model.StateCompleted}
	cancelPath  = []model.State{model.StateInitialising, model.StateReady, model.StateRunning, model.StateCanceling, model.StateCanceled}
)

// watch polls a job until it has finished, checking that its states follow
// path and that its progress only goes up, and returns the last job seen.
func watch(t *testing.T, tg Target, first model.Job, path []model.State) model.Job {
	t.Helper()
	last := first
	for !last.State.Finished() {
		if tg.Step != nil {
			tg.Step(last.ID)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
		j, err := tg.Backend.Job(t.Context(), first.ID)
		if err != nil {
			t.Fatalf("Job(%d): %v", first.ID, err)
		}
		if j.ID != first.ID {
			t.Fatalf("Job(%d) answered job %d", first.ID, j.ID)
		}
		from, to := slices.Index(path, last.State), slices.Index(path, j.State)
		if to < 0 || to < from {
			t.Fatalf("job %d went from %s to %s; want the states in the order %v", j.ID, last.State, j.State, path)
		}
		if p := j.Progress.Percentage; p < last.Progress.Percentage || p < 0 || p > 100 {
			t.Fatalf("job %d progress went from %d%% to %d%%; want 0..100, never down", j.ID, last.Progress.Percentage, p)
		}
		last = j
	}
	if last.EndDate == 0 || last.EndDate < last.StartDate {
		t.Errorf("finished job %d has startDate %d and endDate %d; want an endDate at or after the start", last.ID, last.StartDate, last.EndDate)
	}
	return last
}

func testImportThenCancel(t *testing.T, h Harness) {
	ctx := t.Context()
	tg := h.New(t)
	b := tg.Backend
	place(t, tg, archive(t, "small", smallOptions), "small.tar")

	if ok, err := b.ProjectExists(ctx, ProjectKey); err != nil || ok {
		t.Fatalf("ProjectExists(%s) before the import = %v, %v; want false", ProjectKey, ok, err)
	}
	started, err := b.Start(ctx, "small.tar")
	if err != nil {
		t.Fatalf("Start(small.tar): %v", err)
	}
	if started.ID == 0 || started.State.Finished() || started.Type != model.JobTypeImport || started.StartDate == 0 {
		t.Fatalf("Start answered %+v; want a new unfinished import job with a start date", started)
	}
	if !slices.Contains(successPath, started.State) {
		t.Fatalf("Start answered state %s; want one of %v", started.State, successPath)
	}
	done := watch(t, tg, started, successPath)
	if done.State != model.StateCompleted || done.Progress.Percentage != 100 {
		t.Fatalf("import ended %s at %d%%; want %s at 100%%", done.State, done.Progress.Percentage, model.StateCompleted)
	}
	again, err := b.Job(ctx, started.ID)
	if err != nil || again.State != model.StateCompleted || again.ID != started.ID || again.EndDate != done.EndDate {
		t.Errorf("Job(%d) after the end = %+v, %v; want %+v", started.ID, again, err, done)
	}
	if ok, err := b.ProjectExists(ctx, ProjectKey); err != nil || !ok {
		t.Errorf("ProjectExists(%s) after the import = %v, %v; want true", ProjectKey, ok, err)
	}
	if err := b.Cancel(ctx, started.ID); !errors.Is(err, model.ErrJobFinished) {
		t.Errorf("Cancel of finished job %d = %v; want %v", started.ID, err, model.ErrJobFinished)
	}
	checkMessages(t, b, started.ID)

	canceled := checkCancel(t, tg)

	jobs, err := b.KnownJobs(ctx)
	if err != nil {
		t.Fatalf("KnownJobs: %v", err)
	}
	var ids []int64
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	if len(ids) != 2 || ids[0] != canceled || ids[1] != started.ID {
		t.Errorf("KnownJobs = ids %v; want the newest first: [%d %d]", ids, canceled, started.ID)
	}
}

// checkCancel starts a job, checks that a second start is refused while it
// runs, cancels it and returns its id.
func checkCancel(t *testing.T, tg Target) int64 {
	ctx := t.Context()
	b := tg.Backend
	// The job's archive is a link to a file inside the import directory,
	// which a backend must accept as it accepts the file.
	if tg.Hold != nil {
		place(t, tg, archive(t, "small", smallOptions), "target.tar")
	} else {
		place(t, tg, archive(t, "big", bigOptions), "target.tar")
	}
	name := "again.tar"
	if err := os.Symlink("target.tar", filepath.Join(tg.ImportDir, name)); err != nil {
		t.Fatal(err)
	}
	place(t, tg, archive(t, "small", smallOptions), "other.tar")
	held, release := (<-chan struct{})(nil), func() {}
	if tg.Hold != nil {
		held, release = tg.Hold()
	}
	defer release()
	job, err := b.Start(ctx, name)
	if err != nil {
		t.Fatalf("Start(%s): %v", name, err)
	}
	if held != nil {
		<-held
	}
	if _, err := b.Start(ctx, "other.tar"); !errors.Is(err, model.ErrImportRunning) {
		t.Errorf("Start while job %d runs = %v; want %v", job.ID, err, model.ErrImportRunning)
	}
	if err := b.Cancel(ctx, job.ID); err != nil {
		t.Fatalf("Cancel of running job %d: %v", job.ID, err)
	}
	j, err := b.Job(ctx, job.ID)
	if err != nil {
		t.Fatalf("Job(%d) after cancel: %v", job.ID, err)
	}
	// Without Hold the job may have reached its checkpoint already.
	if j.State != model.StateCanceling && !(tg.Hold == nil && j.State == model.StateCanceled) {
		t.Errorf("job %d after cancel is %s; want %s", job.ID, j.State, model.StateCanceling)
	}
	if j.State == model.StateCanceling {
		if err := b.Cancel(ctx, job.ID); !errors.Is(err, model.ErrJobFinished) {
			t.Errorf("second Cancel of job %d = %v; want %v", job.ID, err, model.ErrJobFinished)
		}
	}
	release()
	final := watch(t, tg, j, cancelPath)
	if final.State != model.StateCanceled {
		t.Errorf("canceled job %d ended %s; want %s", job.ID, final.State, model.StateCanceled)
	}
	if err := b.Cancel(ctx, job.ID); !errors.Is(err, model.ErrJobFinished) {
		t.Errorf("Cancel of canceled job %d = %v; want %v", job.ID, err, model.ErrJobFinished)
	}
	return job.ID
}

// allMessages reads every message of q's selection in one big page.
func allMessages(t *testing.T, b model.Backend, id int64, q model.MessageQuery) []model.Message {
	t.Helper()
	q.Limit = 1000
	p, err := b.Messages(t.Context(), id, q)
	if err != nil {
		t.Fatalf("Messages(%d, %+v): %v", id, q, err)
	}
	if !p.IsLastPage {
		t.Fatalf("Messages(%d, %+v): more than 1000 messages; the suite's archive should log a few", id, q)
	}
	return p.Values
}

func ids(ms []model.Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func checkMessages(t *testing.T, b model.Backend, id int64) {
	all := allMessages(t, b, id, model.MessageQuery{})
	if len(all) < 3 {
		t.Fatalf("job %d logged %d message(s); want at least 3 to page through", id, len(all))
	}
	for _, m := range all {
		if m.ID == "" || m.Text == "" || m.CreatedDate == 0 || !slices.Contains(model.Severities, m.Severity) {
			t.Errorf("message %+v lacks an id, text, date or known severity", m)
		}
	}
	if again := allMessages(t, b, id, model.MessageQuery{}); !slices.Equal(ids(again), ids(all)) {
		t.Errorf("messages of finished job %d changed between two reads: %v then %v", id, ids(all), ids(again))
	}

	t.Run("Paging", func(t *testing.T) { checkMessagePaging(t, b, id, all) })
	t.Run("SeverityFilter", func(t *testing.T) { checkMessageSeverities(t, b, id, all) })
	t.Run("SubjectFilter", func(t *testing.T) { checkMessageSubjects(t, b, id, all) })
}

func checkMessagePaging(t *testing.T, b model.Backend, id int64, all []model.Message) {
	ctx := t.Context()
	def, err := b.Messages(ctx, id, model.MessageQuery{})
	if err != nil || def.Limit != 25 || def.Start != 0 {
		t.Errorf("Messages with no limit: limit %d start %d, %v; want Bitbucket's default limit 25 from 0", def.Limit, def.Start, err)
	}
	var got []model.Message
	start, pages := 0, 0
	for {
		p, err := b.Messages(ctx, id, model.MessageQuery{Start: start, Limit: 2})
		if err != nil {
			t.Fatalf("Messages(start %d, limit 2): %v", start, err)
		}
		pages++
		if p.Start != start || p.Limit != 2 || p.Size != len(p.Values) || p.Size > 2 {
			t.Fatalf("page from %d: start %d limit %d size %d with %d values; want start %d, limit 2, size = values <= 2",
				start, p.Start, p.Limit, p.Size, len(p.Values), start)
		}
		got = append(got, p.Values...)
		if p.IsLastPage {
			if p.NextPageStart != nil {
				t.Errorf("last page from %d has nextPageStart %d; want none", start, *p.NextPageStart)
			}
			break
		}
		if p.NextPageStart == nil || *p.NextPageStart != start+p.Size {
			t.Fatalf("page from %d of %d values: nextPageStart %v; want %d", start, p.Size, p.NextPageStart, start+p.Size)
		}
		start = *p.NextPageStart
	}
	if !slices.Equal(ids(got), ids(all)) || pages < 2 {
		t.Errorf("paging by 2 read %v in %d page(s); want %v", ids(got), pages, ids(all))
	}
	past, err := b.Messages(ctx, id, model.MessageQuery{Start: len(all) + 5, Limit: 2})
	if err != nil || len(past.Values) != 0 || past.Size != 0 || !past.IsLastPage || past.NextPageStart != nil {
		t.Errorf("page past the end = %+v, %v; want an empty last page", past, err)
	}
}

func checkMessageSeverities(t *testing.T, b model.Backend, id int64, all []model.Message) {
	n := 0
	for _, s := range model.Severities {
		got := allMessages(t, b, id, model.MessageQuery{Severities: []model.Severity{s}})
		if want := filter(all, func(m model.Message) bool { return m.Severity == s }); !slices.Equal(ids(got), ids(want)) {
			t.Errorf("messages of severity %s: %v; want %v", s, ids(got), ids(want))
		}
		n += len(got)
	}
	if n != len(all) {
		t.Errorf("the severities' messages add up to %d; want all %d", n, len(all))
	}
	sevs := []model.Severity{model.SeverityWarn, model.SeverityError}
	got := allMessages(t, b, id, model.MessageQuery{Severities: sevs})
	if want := filter(all, func(m model.Message) bool { return slices.Contains(sevs, m.Severity) }); !slices.Equal(ids(got), ids(want)) {
		t.Errorf("messages of severity WARN or ERROR: %v; want %v", ids(got), ids(want))
	}
}

func checkMessageSubjects(t *testing.T, b model.Backend, id int64, all []model.Message) {
	repo := ""
	for _, m := range all {
		if strings.Contains(m.Subject, "/") {
			repo = m.Subject
			break
		}
	}
	if repo == "" {
		t.Fatalf("job %d logged no message about a repository; messages: %+v", id, all)
	}
	project, _, _ := strings.Cut(repo, "/")
	for _, subject := range []string{repo, project, project + "X", "NOPE"} {
		got := allMessages(t, b, id, model.MessageQuery{Subject: subject})
		want := filter(all, func(m model.Message) bool { return under(m.Subject, subject) })
		if !slices.Equal(ids(got), ids(want)) {
			t.Errorf("messages about %q: %v; want it and everything under it: %v", subject, ids(got), ids(want))
		}
	}
	got := allMessages(t, b, id, model.MessageQuery{Subject: project, Severities: []model.Severity{model.SeverityInfo}})
	want := filter(all, func(m model.Message) bool { return under(m.Subject, project) && m.Severity == model.SeverityInfo })
	if !slices.Equal(ids(got), ids(want)) {
		t.Errorf("INFO messages about %q: %v; want %v", project, ids(got), ids(want))
	}
}

// under reports whether subject is s or lies under it: "PRJ" holds
// "PRJ/repo" and "PRJ/repo#12", "PRJ/repo" holds "PRJ/repo#12".
func under(subject, s string) bool {
	return subject == s || strings.HasPrefix(subject, s+"/") || strings.HasPrefix(subject, s+"#")
}

func filter(ms []model.Message, keep func(model.Message) bool) []model.Message {
	var out []model.Message
	for _, m := range ms {
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// testExport exports what an import brought, on a backend that exports:
// the lists, the preview (counts a source cannot tell are model.Unknown,
// and an unknown estimate fits), a selector that matches nothing, then an
// export job followed like an import's to COMPLETED, its messages, its
// cancel once finished, and the jobs list with both kinds.
func testExport(t *testing.T, h Harness) {
	ctx := t.Context()
	tg := h.New(t)
	x, ok := tg.Backend.(model.Exporter)
	if !ok {
		t.Skip("the backend does not export")
	}
	b := tg.Backend
	place(t, tg, archive(t, "small", smallOptions), "small.tar")
	imported, err := b.Start(ctx, "small.tar")
	if err != nil {
		t.Fatalf("Start(small.tar): %v", err)
	}
	if done := watch(t, tg, imported, successPath); done.State != model.StateCompleted {
		t.Fatalf("import ended %s", done.State)
	}

	all := model.ExportRequest{RepositoriesRequest: model.RepositoriesRequest{Includes: []model.RepositorySelector{{ProjectKey: "*", Slug: "*"}}}}
	checkExportPreview(t, x, all)
	nope := model.ExportRequest{RepositoriesRequest: model.RepositoriesRequest{Includes: []model.RepositorySelector{{ProjectKey: "NOPE", Slug: "x"}}}}
	if _, err := x.PreviewExport(ctx, nope); !errors.Is(err, model.ErrNoSuchSelection) {
		t.Errorf("PreviewExport(NOPE/x) = %v; want %v", err, model.ErrNoSuchSelection)
	}
	if _, err := x.StartExport(ctx, nope); !errors.Is(err, model.ErrNoSuchSelection) {
		t.Errorf("StartExport(NOPE/x) = %v; want %v", err, model.ErrNoSuchSelection)
	}

	started, err := x.StartExport(ctx, all)
	if err != nil {
		t.Fatalf("StartExport(*/*): %v", err)
	}
	if started.ID <= imported.ID || started.Type != model.JobTypeExport || started.State.Finished() {
		t.Fatalf("StartExport answered %+v; want a new unfinished export job after job %d", started, imported.ID)
	}
	done := watch(t, tg, started, successPath)
	if done.State != model.StateCompleted || done.Progress.Percentage != 100 || done.Type != model.JobTypeExport {
		t.Fatalf("export ended %+v; want %s at 100%%", done, model.StateCompleted)
	}
	page, err := b.Messages(ctx, started.ID, model.MessageQuery{})
	if err != nil || len(page.Values) == 0 {
		t.Errorf("Messages(%d) = %+v, %v; want the export's messages", started.ID, page, err)
	}
	if err := b.Cancel(ctx, started.ID); !errors.Is(err, model.ErrJobFinished) {
		t.Errorf("Cancel of finished export %d = %v; want %v", started.ID, err, model.ErrJobFinished)
	}
	jobs, err := b.KnownJobs(ctx)
	if err != nil || len(jobs) != 2 || jobs[0].ID != started.ID || jobs[0].Type != model.JobTypeExport || jobs[1].Type != model.JobTypeImport {
		t.Errorf("KnownJobs = %+v, %v; want the export, then the import", jobs, err)
	}
}

// checkExportPreview compares the preview of req (*/*) with the lists:
// the same repositories, forks and projects, whole hierarchies; pull
// requests and size counted or model.Unknown, and an unknown size fits.
func checkExportPreview(t *testing.T, x model.Exporter, all model.ExportRequest) {
	t.Helper()
	projects, err := x.Exportable(t.Context())
	if err != nil {
		t.Fatalf("Exportable: %v", err)
	}
	var repos, forks, withRepos int
	for _, p := range projects {
		repos += len(p.Repositories)
		if len(p.Repositories) > 0 {
			withRepos++
		}
		for _, r := range p.Repositories {
			if r.Origin != "" {
				forks++
			}
		}
	}
	if repos == 0 || forks == 0 || !slices.ContainsFunc(projects, func(p model.ExportableProject) bool { return p.Key == ProjectKey }) {
		t.Fatalf("Exportable = %+v; want project %s and the archive's repositories and forks", projects, ProjectKey)
	}
	p, err := x.PreviewExport(t.Context(), all)
	if err != nil {
		t.Fatalf("PreviewExport(*/*): %v", err)
	}
	if p.Repositories != repos || p.Forks != forks || p.Hierarchies != repos-forks || len(p.Projects) != withRepos || !p.Fits() ||
		p.PullRequests < model.Unknown || p.PullRequests == 0 || p.EstimatedBytes == 0 {
		t.Errorf("PreviewExport(*/*) = %+v; want %d repositories, %d forks, %d projects, pull requests and a size counted or unknown", p, repos, forks, withRepos)
	}
}
