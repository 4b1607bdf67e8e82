package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"bbimport/model"
	"bbimport/server/servertest"
)

// t0 is the tests' clock: every screen is drawn at this instant.
var t0 = time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)

// fakeBackend is the console's backend in tests: servertest.Fake, which
// runs the backendtest conformance suite (here too, conformance_test.go),
// with the scripting the screens need on top. Tests place jobs with the ids,
// states and messages they show (set), override the identity and the list
// of known jobs, inject errors and read back the calls the console made.
type fakeBackend struct {
	*servertest.Fake
	mu       sync.Mutex
	identity model.Identity
	// known, when not nil, is what KnownJobs answers instead of every job
	// the fake holds: a screen scripts which jobs the backend lists, e.g.
	// none although another process runs one.
	known    []model.Job
	knownErr error           // KnownJobs fails with it
	existing map[string]bool // projects on the target besides those imported
	jobErr   error           // every Job and Messages call fails with it
	startErr error
	started  []string
	stopErr  error   // StopNow fails with it (Bitbucket: ErrNotSupported)
	stopped  []int64 // StopNow calls
	canceled []int64
}

// newFakeBackend is the screens' backend: its import directory holds
// (empty) files named as the archives newFakeArchives lists, so that
// starting one passes the importer's path checks, and the first job it
// starts is job 12, at t0.
func newFakeBackend() *fakeBackend {
	dir, err := filepath.Abs(filepath.Join("testdata", "import"))
	if err != nil {
		panic(err)
	}
	f := newFakeBackendIn(dir)
	f.known = []model.Job{}
	f.NextID = 12
	f.Now = func() time.Time { return t0 }
	return f
}

// importFrom gives the backend a fresh import directory holding empty
// archives of these names, for a test whose archives newFakeArchives does
// not list.
func (f *fakeBackend) importFrom(t testing.TB, names ...string) {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.ImportDir = dir
}

// newFakeBackendIn is a fakeBackend importing from dir, with nothing
// scripted.
func newFakeBackendIn(dir string) *fakeBackend {
	sf := servertest.New(dir)
	sf.StartState = model.StateInitialising // as the importer answers
	return &fakeBackend{
		Fake:     sf,
		identity: model.Identity{Location: "/srv/bbimport", Product: "bbimport", Version: "0.1.0"},
		existing: map[string]bool{},
	}
}

func (f *fakeBackend) Identity(context.Context) (model.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.identity, nil
}

func (f *fakeBackend) Start(ctx context.Context, path string, notes ...string) (model.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return model.Job{}, f.startErr
	}
	j, err := f.Fake.Start(ctx, path, notes...)
	if err == nil {
		f.started = append(f.started, path)
	}
	return j, err
}

func (f *fakeBackend) Job(ctx context.Context, id int64) (model.Job, error) {
	if err := f.injected(); err != nil {
		return model.Job{}, err
	}
	return f.Fake.Job(ctx, id)
}

func (f *fakeBackend) Messages(ctx context.Context, id int64, q model.MessageQuery) (model.Page[model.Message], error) {
	if err := f.injected(); err != nil {
		return model.Page[model.Message]{}, err
	}
	return f.Fake.Messages(ctx, id, q)
}

func (f *fakeBackend) injected() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jobErr
}

func (f *fakeBackend) Cancel(ctx context.Context, id int64) error {
	err := f.Fake.Cancel(ctx, id)
	if err == nil {
		f.mu.Lock()
		f.canceled = append(f.canceled, id)
		f.mu.Unlock()
	}
	return err
}

func (f *fakeBackend) StopNow(ctx context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopErr != nil {
		return f.stopErr
	}
	err := f.Fake.StopNow(ctx, id)
	if err == nil {
		f.stopped = append(f.stopped, id)
	}
	return err
}

func (f *fakeBackend) KnownJobs(ctx context.Context) ([]model.Job, error) {
	f.mu.Lock()
	known, knownErr := f.known, f.knownErr
	f.mu.Unlock()
	if knownErr != nil {
		return nil, knownErr
	}
	if known != nil {
		return known, nil
	}
	return f.Fake.KnownJobs(ctx)
}

func (f *fakeBackend) ProjectExists(ctx context.Context, key string) (bool, error) {
	f.mu.Lock()
	exists := f.existing[key]
	f.mu.Unlock()
	if exists {
		return true, nil
	}
	return f.Fake.ProjectExists(ctx, key)
}

// set places a job as the screen shows it and appends msgs to its log.
func (f *fakeBackend) set(j model.Job, msgs ...model.Message) { f.Place(j, msgs...) }

// fakeArchives is an import directory held in memory.
type fakeArchives struct {
	mu        sync.Mutex // files: a remainder is added while the console runs
	files     []model.ArchiveFile
	summaries map[string]model.ArchiveSummary
	free      int64
	sums      model.Checksums
	// gate, when set, holds Checksum after its first progress report
	// until the test closes it.
	gate chan struct{}
}

func newFakeArchives() *fakeArchives {
	return &fakeArchives{
		files: []model.ArchiveFile{
			{Name: "Bitbucket_export_422.tar", Path: "/srv/import/Bitbucket_export_422.tar", Size: 734_003_200, ModTime: t0.Add(-20 * time.Minute)},
			{Name: "copy-in-progress.tar", Path: "/srv/import/copy-in-progress.tar", Size: 52_428_800, ModTime: t0.Add(-time.Minute), Growing: true},
			{Name: "small.tar", Path: "/srv/import/small.tar", Size: 1_572_864, ModTime: t0.Add(-26 * time.Hour)},
		},
		summaries: map[string]model.ArchiveSummary{
			"/srv/import/Bitbucket_export_422.tar": {
				Instance:     model.InstanceDetails{InstanceName: "acme-bitbucket", Product: "Bitbucket", Version: "9.4.3", ArchiveVersion: 2},
				Projects:     []model.ProjectSummary{{Key: "PRJ", Name: "Project", Repositories: 4}, {Key: "OPS", Name: "Ops", Repositories: 2}, {Key: "~ALICE", Name: "Alice", Repositories: 1}},
				Hierarchies:  make([]model.HierarchySummary, 5),
				Repositories: 7, Forks: 2,
				PullRequests: model.PullRequestCounts{Total: 340, Open: 12, Merged: 300, Declined: 28},
				GitBytes:     650_000_000, ArchiveBytes: 734_003_200, Members: 912,
			},
			"/srv/import/small.tar": {
				Instance:     model.InstanceDetails{InstanceName: "small", Product: "Bitbucket", Version: "9.4.1", ArchiveVersion: 2},
				Projects:     []model.ProjectSummary{{Key: "SM", Name: "Small", Repositories: 1}},
				Hierarchies:  make([]model.HierarchySummary, 1),
				Repositories: 1,
				PullRequests: model.PullRequestCounts{Total: 3, Open: 1, Merged: 2},
				GitBytes:     1_000_000, ArchiveBytes: 1_572_864, Members: 9,
			},
		},
		free: 120 << 30,
		sums: model.Checksums{MD5: "9e107d9d372bb6826bd81d3542a419d6", SHA256: "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592", Bytes: 734_003_200},
	}
}

func (a *fakeArchives) List(context.Context) ([]model.ArchiveFile, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]model.ArchiveFile(nil), a.files...), nil
}

// add puts a new file first in the directory, as the newest.
func (a *fakeArchives) add(f model.ArchiveFile) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.files = append([]model.ArchiveFile{f}, a.files...)
}

func (a *fakeArchives) Inspect(_ context.Context, path string) (model.ArchiveSummary, error) {
	s, ok := a.summaries[path]
	if !ok {
		return model.ArchiveSummary{}, errors.New("not a Bitbucket migration archive: no instance-details.json")
	}
	return s, nil
}

func (a *fakeArchives) Checksum(ctx context.Context, path string, progress func(done, total int64)) (model.Checksums, error) {
	progress(a.sums.Bytes/2, a.sums.Bytes)
	if a.gate != nil {
		select {
		case <-a.gate:
		case <-ctx.Done():
			return model.Checksums{}, ctx.Err()
		}
	}
	progress(a.sums.Bytes, a.sums.Bytes)
	return a.sums, nil
}

func (a *fakeArchives) FreeBytes(context.Context) (int64, error) { return a.free, nil }

func (a *fakeArchives) Dir() string { return "/srv/import" }

// CheckStart answers as the importer's start rule does for what the fake
// holds: a growing file, an unusable entry, an archive that does not read.
func (a *fakeArchives) CheckStart(_ context.Context, name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.files {
		switch {
		case f.Name != name:
		case f.Growing:
			return model.RefuseArchive("%s is still being written (50 MiB, then 51 MiB a moment later); start it once the copy is done", name)
		case f.Unusable != "":
			return model.RefuseArchive("%s is %s", name, f.Unusable)
		case a.summaries[f.Path].Members == 0:
			return model.RefuseArchive("%s cannot be imported: not a Bitbucket migration archive: it is not a tar file; copy it again from the source (the whole .tar, and compare checksums), then start it again", name)
		}
	}
	return nil
}

// harness drives the root model as the event loop would, but in the test's
// goroutine: commands run at once, timers wait in a queue until fire.
type harness struct {
	t      testing.TB
	m      Model
	b      *fakeBackend
	a      *fakeArchives
	timers []tea.Msg
	quit   bool
	raw    []string  // what the model wrote to the terminal itself (bell, notifications)
	now    time.Time // the clock the model reads; tests move it
}

func newHarness(t testing.TB, w, h int) *harness {
	t.Helper()
	hs := &harness{t: t, b: newFakeBackend(), a: newFakeArchives(), now: t0}
	hs.m = newModel(context.Background(), Options{Backend: hs.b, Archives: hs.a, Now: func() time.Time { return hs.now }, NoColor: true})
	hs.m.after = func(_ time.Duration, msg tea.Msg) tea.Cmd {
		return func() tea.Msg { return timerMsg{msg} }
	}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	return hs
}

// timerMsg wraps a timer's message so the harness can queue it.
type timerMsg struct{ msg tea.Msg }

func (h *harness) init() { h.run(h.m.Init()) }

func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	nm, cmd := h.m.Update(msg)
	h.m = nm.(Model)
	h.run(cmd)
}

func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	case timerMsg:
		h.timers = append(h.timers, msg.msg)
	case tea.QuitMsg:
		h.quit = true
	case tea.RawMsg:
		h.raw = append(h.raw, fmt.Sprint(msg.Msg))
	default:
		h.send(msg)
	}
}

// fire delivers the timers due so far (ticks and polls).
func (h *harness) fire() {
	due := h.timers
	h.timers = nil
	for _, msg := range due {
		h.send(msg)
	}
}

// press sends keys by name: "j", "enter", "ctrl+c", "esc", "tab".
func (h *harness) press(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyPress(k))
	}
}

func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("no such key in the tests: " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// screen is the frame as a user reads it.
func (h *harness) screen() string { return ansi.Strip(h.m.render()) }

func (h *harness) requireScreen(want ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			h.t.Fatalf("screen lacks %q:\n%s", w, s)
		}
	}
}

func (h *harness) requireNotScreen(notWant ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range notWant {
		if strings.Contains(s, w) {
			h.t.Fatalf("screen shows %q:\n%s", w, s)
		}
	}
}

// fakeVerifier answers verify with a scripted report and plan, records the
// calls, and writes a remainder by adding it to the import directory.
type fakeVerifier struct {
	mu       sync.Mutex
	report   model.VerifyReport
	err      error // Verify fails with it
	plan     model.RemainderPlan
	planned  []model.VerifyReport
	replace  model.ReplacePlan   // what PlanReplace offers
	replaced []model.ReplacePlan // Replace's plans
	written  []string            // WriteRemainder's paths
	verified [][]int64
	archives *fakeArchives

	// gate, when set, holds Verify until the test closes it or its context
	// ends; stopped then receives the context's error.
	gate    chan struct{}
	stopped chan error
}

func (v *fakeVerifier) Verify(ctx context.Context, jobs ...int64) (model.VerifyReport, error) {
	v.mu.Lock()
	v.verified = append(v.verified, jobs)
	gate, report, err := v.gate, v.report, v.err
	v.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			v.stopped <- ctx.Err()
			return model.VerifyReport{}, ctx.Err()
		}
	}
	return report, err
}

func (v *fakeVerifier) PlanRemainder(_ context.Context, r model.VerifyReport) (model.RemainderPlan, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.planned = append(v.planned, r)
	return v.plan, nil
}

func (v *fakeVerifier) WriteRemainder(_ context.Context, _ model.RemainderPlan, path string) error {
	v.mu.Lock()
	v.written = append(v.written, path)
	v.mu.Unlock()
	v.archives.add(model.ArchiveFile{Name: filepath.Base(path), Path: path, Size: 20480, ModTime: t0})
	return nil
}

func (v *fakeVerifier) writtenPaths() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.written...)
}

// PlanReplace offers no partial copy to delete, unless a test set one;
// Replace records the plan it was asked to carry out.
func (v *fakeVerifier) PlanReplace(context.Context, model.VerifyReport) (model.ReplacePlan, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.replace, nil
}

func (v *fakeVerifier) Replace(_ context.Context, plan model.ReplacePlan, done func(string)) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.replaced = append(v.replaced, plan)
	for _, r := range plan.Repositories {
		done("repository " + r)
	}
	return nil
}
