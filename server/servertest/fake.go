// Package servertest holds an in-memory importer for tests of the REST
// server and client: jobs that move only when the test moves them, and
// messages the test adds, so every page and code can be checked exactly.
package servertest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"bbimport/archive"
	"bbimport/model"
)

// Fake satisfies server.Importer in memory. Its jobs move only when the
// test calls Step or Finish. ProjectList and RepoList may be set before use;
// Step adds what a job imports to them.
type Fake struct {
	ImportDir    string
	ProjectList  []model.RestProject
	RepoList     []model.RestRepository
	PRList       []model.RestPullRequest
	ShutdownGate chan struct{} // if set, Shutdown waits for it to close
	StartErr     error         // if set, Start returns it
	// StartState is the state Start gives a new job: RUNNING if empty, or
	// INITIALISING as the importer answers, which Step moves to RUNNING.
	StartState model.State
	// NextID is the id Start gives the next job; Place moves it past the
	// jobs placed.
	NextID int64
	// Now is the fake's clock for the dates of jobs and messages;
	// time.Now if nil.
	Now func() time.Time

	mu       sync.Mutex
	jobs     []model.Job
	archives map[int64]string // absolute, by job id
	messages map[int64][]model.Message
	placed   map[int64][]model.Placement // by job id
	shutdown bool
}

// New returns a fake whose import directory is dir.
func New(dir string) *Fake {
	return &Fake{ImportDir: dir, NextID: 1, archives: map[int64]string{}, messages: map[int64][]model.Message{}, placed: map[int64][]model.Placement{}}
}

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Identity names the fake.
func (f *Fake) Identity(context.Context) (model.Identity, error) {
	return model.Identity{Location: f.ImportDir, Product: "bbimport", Version: "test"}, nil
}

// Start checks the path as the importer does and starts a job in
// StartState that, as the importer's, names its archive as the caller did.
func (f *Fake) Start(ctx context.Context, archivePath string, notes ...string) (model.Job, error) {
	path, err := archive.Resolve(f.ImportDir, archivePath) // the importer's rule
	if err != nil {
		return model.Job{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.StartErr != nil {
		return model.Job{}, f.StartErr
	}
	if f.shutdown {
		return model.Job{}, fmt.Errorf("the importer is shutting down: %w", model.ErrImportRunning)
	}
	for _, j := range f.jobs {
		if !j.State.Finished() {
			return model.Job{}, fmt.Errorf("job %d is %s: %w", j.ID, j.State, model.ErrImportRunning)
		}
	}
	now := f.now().UnixMilli()
	state := f.StartState
	if state == "" {
		state = model.StateRunning
	}
	job := model.Job{ID: f.NextID, State: state, Type: model.JobTypeImport,
		Progress: model.Progress{Message: "Reading " + archivePath}, StartDate: now, UpdatedDate: now, Archive: archivePath}
	f.NextID++
	if u, ok := model.InitiatorFrom(ctx); ok {
		job.Initiator = &u
	}
	f.jobs = append(f.jobs, job)
	f.archives[job.ID] = path
	for _, note := range notes {
		f.log(job.ID, model.SeverityWarn, "", note)
	}
	return job, nil
}

// Held is a conformance harness's Hold for the fake: its jobs move only
// when the test steps them, so the next job is held already and needs no
// release.
func Held() (held <-chan struct{}, release func()) {
	c := make(chan struct{})
	close(c)
	return c, func() {}
}

// Step moves a job one step on, as the importer would: a RUNNING job
// imports its archive's projects and repositories (reading it as inspect
// does) and becomes FINALISING, or ABORTED if the archive cannot be read;
// INITIALISING becomes RUNNING, FINALISING becomes COMPLETED and CANCELING
// becomes CANCELED.
func (f *Fake) Step(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, err := f.find(id)
	if err != nil {
		panic(err)
	}
	now := f.now().UnixMilli()
	j.UpdatedDate = now
	switch j.State {
	case model.StateInitialising:
		j.State = model.StateRunning
	case model.StateRunning:
		f.log(id, model.SeverityInfo, "", "Importing "+filepath.Base(f.archives[id]))
		sum, err := archive.Inspect(f.archives[id], archive.DefaultLimits())
		if err != nil {
			f.log(id, model.SeverityError, "", fmt.Sprintf("Import aborted: %v", err))
			j.State, j.EndDate = model.StateAborted, now
			return
		}
		f.importSummary(id, sum)
		j.State, j.Progress.Percentage = model.StateFinalising, 99
	case model.StateFinalising:
		f.log(id, model.SeverityInfo, "", "Import finished")
		j.State, j.EndDate, j.Progress.Percentage = model.StateCompleted, now, 100
	case model.StateCanceling:
		f.log(id, model.SeverityWarn, "", "Import canceled")
		j.State, j.EndDate = model.StateCanceled, now
	}
}

// importSummary adds an archive's projects and repositories to the
// fake's lists, logging one message per fork hierarchy.
func (f *Fake) importSummary(id int64, sum model.ArchiveSummary) {
	for _, p := range sum.Projects {
		typ := "NORMAL"
		if strings.HasPrefix(p.Key, "~") {
			typ = "PERSONAL"
		}
		f.ProjectList = append(f.ProjectList, model.RestProject{Key: p.Key, ID: int64(len(f.ProjectList) + 1), Name: p.Name, Type: typ})
	}
	for _, h := range sum.Hierarchies {
		for _, subject := range append([]string{h.Origin}, h.Forks...) {
			key, slug, _ := strings.Cut(subject, "/")
			f.RepoList = append(f.RepoList, model.RestRepository{Slug: slug, ID: int64(len(f.RepoList) + 1), Name: slug,
				HierarchyID: h.ID, ScmID: "git", State: "AVAILABLE", Forkable: true, Project: model.RestProject{Key: key}})
			f.placed[id] = append(f.placed[id], model.Placement{Job: id, ArchiveProject: key, ArchiveSlug: slug, HierarchyID: h.ID,
				Project: key, Slug: slug})
		}
		f.log(id, model.SeverityInfo, h.Origin, fmt.Sprintf("Fork hierarchy of %s imported: %d repositories", h.Origin, 1+len(h.Forks)))
	}
	for _, w := range sum.Warnings {
		f.log(id, model.SeverityWarn, "", w)
	}
}

// log appends one message; f.mu is held.
func (f *Fake) log(id int64, sev model.Severity, subject, text string) {
	f.messages[id] = append(f.messages[id], model.Message{ID: fmt.Sprint(len(f.messages[id]) + 1), Severity: sev,
		Subject: subject, Text: text, CreatedDate: model.MillisOf(f.now())})
}

func (f *Fake) find(id int64) (*model.Job, error) {
	i := slices.IndexFunc(f.jobs, func(j model.Job) bool { return j.ID == id })
	if i < 0 {
		return nil, fmt.Errorf("import job %d: %w", id, model.ErrJobNotFound)
	}
	return &f.jobs[i], nil
}

// Place puts a job as the test scripts it, replacing the job of its id,
// and appends msgs to its log as they are (their ids kept): a console's
// test shows a job at any point without running it there.
func (f *Fake) Place(j model.Job, msgs ...model.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if old, err := f.find(j.ID); err == nil {
		*old = j
	} else {
		f.jobs = append(f.jobs, j)
	}
	f.messages[j.ID] = append(f.messages[j.ID], msgs...)
	f.NextID = max(f.NextID, j.ID+1)
}

// Forget removes a job and its log, as if the importer had never run it.
func (f *Fake) Forget(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs = slices.DeleteFunc(f.jobs, func(j model.Job) bool { return j.ID == id })
	delete(f.messages, id)
	delete(f.archives, id)
	delete(f.placed, id)
}

// Job returns a job.
func (f *Fake) Job(_ context.Context, id int64) (model.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, err := f.find(id)
	if err != nil {
		return model.Job{}, err
	}
	return *j, nil
}

// Finish moves a job to a final state, as the importer would: an import
// that ran to its end is at 100%; one canceled or aborted stays where it
// stopped.
func (f *Fake) Finish(id int64, s model.State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, err := f.find(id)
	if err != nil {
		panic(err)
	}
	j.State, j.EndDate = s, f.now().UnixMilli()
	if s == model.StateCompleted || s == model.StateFailed {
		j.Progress.Percentage = 100
	}
}

// AddMessages appends messages to a job's log, numbering them.
func (f *Fake) AddMessages(id int64, ms ...model.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range ms {
		m.ID = fmt.Sprint(len(f.messages[id]) + 1)
		f.messages[id] = append(f.messages[id], m)
	}
}

// Messages filters and pages a job's log.
func (f *Fake) Messages(_ context.Context, id int64, q model.MessageQuery) (model.Page[model.Message], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.find(id); err != nil {
		return model.Page[model.Message]{}, err
	}
	var match []model.Message
	for _, m := range f.messages[id] {
		if (len(q.Severities) == 0 || slices.Contains(q.Severities, m.Severity)) && (q.Subject == "" || under(m.Subject, q.Subject)) {
			match = append(match, m)
		}
	}
	return pageOf(match, q.Start, q.Limit), nil
}

// under reports whether a message's subject is s or lies under it, as the
// importer filters: "PRJ" selects "PRJ/repo" and "PRJ/repo#12" too.
func under(subject, s string) bool {
	return subject == s || strings.HasPrefix(subject, s+"/") || strings.HasPrefix(subject, s+"#")
}

func pageOf[T any](all []T, start, limit int) model.Page[T] {
	if limit == 0 {
		limit = 25
	}
	p := model.Page[T]{Start: start, Limit: limit, Values: []T{}}
	if start < len(all) {
		p.Values = all[start:min(start+limit, len(all))]
	}
	p.Size = len(p.Values)
	p.IsLastPage = start+limit >= len(all)
	if !p.IsLastPage {
		next := start + p.Size
		p.NextPageStart = &next
	}
	return p
}

// Cancel marks a running job CANCELING; a finished or canceling one is a 409.
func (f *Fake) Cancel(_ context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, err := f.find(id)
	if err != nil {
		return err
	}
	if j.State.Finished() || j.State == model.StateCanceling {
		return fmt.Errorf("import job %d is %s: %w", id, j.State, model.ErrJobFinished)
	}
	j.State = model.StateCanceling
	return nil
}

// StopNow ends a canceling job CANCELED at once, as the importer stops a
// job without waiting for its checkpoint.
func (f *Fake) StopNow(_ context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, err := f.find(id)
	if err != nil {
		return err
	}
	if j.State.Finished() {
		return fmt.Errorf("import job %d is %s: %w", id, j.State, model.ErrJobFinished)
	}
	j.State = model.StateCanceled
	return nil
}

// KnownJobs lists every job, newest (highest id) first.
func (f *Fake) KnownJobs(context.Context) ([]model.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	jobs := slices.Clone(f.jobs)
	slices.SortFunc(jobs, func(a, b model.Job) int { return cmp.Compare(b.ID, a.ID) })
	return jobs, nil
}

// Placements lists where a job put the archive's repositories: where the
// archive named them, since the fake renames nothing.
func (f *Fake) Placements(_ context.Context, id int64) ([]model.Placement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.find(id); err != nil {
		return nil, err
	}
	return slices.Clone(f.placed[id]), nil
}

// ProjectExists looks the key up in ProjectList.
func (f *Fake) ProjectExists(ctx context.Context, key string) (bool, error) {
	_, err := f.Project(ctx, key)
	return err == nil, nil
}

// ListProjects pages ProjectList; the fake filters by nothing.
func (f *Fake) ListProjects(_ context.Context, q model.ProjectQuery, start, limit int) (model.Page[model.RestProject], error) {
	if q != (model.ProjectQuery{}) {
		return model.Page[model.RestProject]{}, errNoFilters
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return pageOf(f.ProjectList, start, limit), nil
}

// errNoFilters keeps the fake from answering a filtered list with
// everything: tests of filters run against the real importer.
var errNoFilters = errors.New("the fake does not filter lists")

// Project finds a project by key.
func (f *Fake) Project(_ context.Context, key string) (model.RestProject, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.ProjectList {
		if p.Key == key {
			return p, nil
		}
	}
	return model.RestProject{}, fmt.Errorf("project %s %w", key, model.ErrNoSuchProject)
}

// ListRepositories pages one project's repositories, or all of them.
func (f *Fake) ListRepositories(ctx context.Context, q model.RepositoryQuery, start, limit int) (model.Page[model.RestRepository], error) {
	if q.Name != "" || q.ProjectName != "" {
		return model.Page[model.RestRepository]{}, errNoFilters
	}
	if q.ProjectKey != "" {
		if _, err := f.Project(ctx, q.ProjectKey); err != nil {
			return model.Page[model.RestRepository]{}, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var in []model.RestRepository
	for _, r := range f.RepoList {
		if q.ProjectKey == "" || r.Project.Key == q.ProjectKey {
			in = append(in, r)
		}
	}
	return pageOf(in, start, limit), nil
}

// Repository finds one repository.
func (f *Fake) Repository(_ context.Context, key, slug string) (model.RestRepository, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.RepoList {
		if r.Project.Key == key && r.Slug == slug {
			return r, nil
		}
	}
	return model.RestRepository{}, fmt.Errorf("repository %s/%s %w", key, slug, model.ErrNoSuchRepository)
}

// ListPullRequests pages PRList, the PRs of every repository, by state.
func (f *Fake) ListPullRequests(ctx context.Context, key, slug string, q model.PullRequestQuery, start, limit int) (model.Page[model.RestPullRequest], error) {
	if q.At != "" || q.FilterText != "" || len(q.Participants) > 0 {
		return model.Page[model.RestPullRequest]{}, errNoFilters
	}
	if _, err := f.Repository(ctx, key, slug); err != nil {
		return model.Page[model.RestPullRequest]{}, err
	}
	var in []model.RestPullRequest
	for _, pr := range f.PRList {
		if state := cmp.Or(q.State, model.PROpen); state == model.PRStateAll || pr.State == state {
			in = append(in, pr)
		}
	}
	return pageOf(in, start, limit), nil
}

// PullRequest finds one of PRList.
func (f *Fake) PullRequest(ctx context.Context, key, slug string, id int64) (model.RestPullRequest, error) {
	if _, err := f.Repository(ctx, key, slug); err != nil {
		return model.RestPullRequest{}, err
	}
	for _, pr := range f.PRList {
		if pr.ID == id {
			return pr, nil
		}
	}
	return model.RestPullRequest{}, fmt.Errorf("pull request %d %w", id, model.ErrNoSuchPullRequest)
}

// Activities: the fake's pull requests have none.
func (f *Fake) Activities(ctx context.Context, key, slug string, id int64, start, limit int) (model.Page[model.RestActivity], error) {
	if _, err := f.PullRequest(ctx, key, slug, id); err != nil {
		return model.Page[model.RestActivity]{}, err
	}
	return pageOf([]model.RestActivity(nil), start, limit), nil
}

// Branches: the fake's repositories are empty.
func (f *Fake) Branches(ctx context.Context, key, slug string, _ model.RefQuery, start, limit int) (model.Page[model.RestBranchOrTag], error) {
	if _, err := f.Repository(ctx, key, slug); err != nil {
		return model.Page[model.RestBranchOrTag]{}, err
	}
	return pageOf([]model.RestBranchOrTag(nil), start, limit), nil
}

// Tags: the fake's repositories are empty.
func (f *Fake) Tags(ctx context.Context, key, slug string, q model.RefQuery, start, limit int) (model.Page[model.RestBranchOrTag], error) {
	return f.Branches(ctx, key, slug, q, start, limit)
}

// DefaultBranch: the fake's repositories are empty, without one.
func (f *Fake) DefaultBranch(ctx context.Context, key, slug string) (model.RestBranchOrTag, error) {
	if _, err := f.Repository(ctx, key, slug); err != nil {
		return model.RestBranchOrTag{}, err
	}
	return model.RestBranchOrTag{}, fmt.Errorf("default branch of %s/%s: %w", key, slug, model.ErrNotFound)
}

// Shutdown refuses new imports, waits for ShutdownGate if set, and cancels
// the running job as the importer does at its checkpoint.
func (f *Fake) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	f.shutdown = true
	f.mu.Unlock()
	if f.ShutdownGate != nil {
		select {
		case <-f.ShutdownGate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.jobs {
		if !f.jobs[i].State.Finished() {
			f.jobs[i].State = model.StateCanceled
		}
	}
	return nil
}

// IsShutdown reports whether Shutdown was called.
func (f *Fake) IsShutdown() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.shutdown
}

// ImportedArchives lists no archive: the fake reads none.
func (f *Fake) ImportedArchives(context.Context) ([]model.ImportedArchive, error) {
	return []model.ImportedArchive{}, nil
}

// DeleteRepository and DeleteProject are not scripted: the fake holds no
// repositories to delete.
func (f *Fake) DeleteRepository(_ context.Context, key, slug string) error {
	return fmt.Errorf("repository %s/%s: %w", key, slug, model.ErrNoSuchRepository)
}

func (f *Fake) DeleteProject(_ context.Context, key string) error {
	return fmt.Errorf("project %s: %w", key, model.ErrNoSuchProject)
}
