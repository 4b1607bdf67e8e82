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
	"github.com/charmbracelet/x/exp/teatest/v2"

	"bbimport/model"
)

var (
	homeEnd = model.MigrationEnd{Home: "/srv/bbimport", SharedHome: "/srv/bbimport/shared"}
	urlEnd  = model.MigrationEnd{URL: "https://bb.example.com", User: "admin", SharedHome: "/var/atlassian/application-data/bitbucket/shared"}
)

// fakeMigrator holds migrations in memory: a start records one at the
// preview, and the test moves it along with set, as a runner would.
type fakeMigrator struct {
	mu       sync.Mutex
	ends     []model.MigrationEnd
	notes    []string
	x        model.Exporter // the home's
	list     []model.MigrationStatus
	started  []model.MigrationRequest
	canceled []string
	resumed  []string
	startErr error
}

func (f *fakeMigrator) Ends() ([]model.MigrationEnd, []string) {
	return slices.Clone(f.ends), slices.Clone(f.notes)
}

func (f *fakeMigrator) Exporter(from model.MigrationEnd) model.Exporter {
	if from == homeEnd {
		return f.x
	}
	return nil
}

func (f *fakeMigrator) Migrations(context.Context) ([]model.MigrationStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := slices.Clone(f.list)
	slices.SortFunc(l, func(a, b model.MigrationStatus) int { return strings.Compare(a.ID, b.ID) })
	return l, nil
}

func (f *fakeMigrator) Migration(_ context.Context, id string) (model.MigrationStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.list {
		if s.ID == id {
			return s, nil
		}
	}
	return model.MigrationStatus{}, fmt.Errorf("migration %s: %w", id, model.ErrNoMigration)
}

func (f *fakeMigrator) StartMigration(_ context.Context, req model.MigrationRequest) (model.MigrationStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return model.MigrationStatus{}, f.startErr
	}
	f.started = append(f.started, req)
	s := model.MigrationStatus{Migration: model.Migration{ID: "20261207-161138-a1b2c3", Created: t0, From: req.From, To: req.To,
		Selectors: req.Selectors, Step: model.MigrationPreview, State: model.MigrationRunning, Log: "/root/.local/state/bbimport/migrations/20261207-161138-a1b2c3.log"}}
	f.list = append(f.list, s)
	return s, nil
}

func (f *fakeMigrator) CancelMigration(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canceled = append(f.canceled, id)
	return nil
}

func (f *fakeMigrator) ResumeMigration(_ context.Context, id string) (model.MigrationStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resumed = append(f.resumed, id)
	for i, s := range f.list {
		if s.ID == id {
			f.list[i].State, f.list[i].Error, f.list[i].Stopped = model.MigrationRunning, "", false
			return f.list[i], nil
		}
	}
	return model.MigrationStatus{}, model.ErrNoMigration
}

// set replaces the migration of s's id, as its runner writes its record.
func (f *fakeMigrator) set(s model.MigrationStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.list {
		if f.list[i].ID == s.ID {
			f.list[i] = s
			return
		}
	}
	f.list = append(f.list, s)
}

func migrateHarness(t *testing.T, w, h int) (*harness, *fakeMigrator) {
	hs := newHarness(t, w, h)
	f := &fakeMigrator{ends: []model.MigrationEnd{urlEnd, homeEnd}, x: newFakeExporter(hs.b)}
	hs.m.opts.Migrator = f
	hs.init()
	return hs, f
}

// migrationAt is the started migration as its runner has taken it to step.
func migrationAt(f *fakeMigrator, step, state string) model.MigrationStatus {
	s, _ := f.Migration(context.Background(), "20261207-161138-a1b2c3")
	s.Step, s.State = step, state
	i := slices.Index(model.MigrationSteps, step)
	if step == model.MigrationDone {
		i = len(model.MigrationSteps)
	}
	if i > 0 {
		s.Preview = "2 projects, 4 repositories (1 fork) and 173 pull requests: about 12 MiB"
		s.ExportJob = 12
		s.Export = &model.Job{ID: 12, Type: model.JobTypeExport, State: model.StateRunning,
			Progress: model.Progress{Percentage: 45, Message: "Exporting PRJ/api: git data"}}
	}
	if i > 1 {
		s.Export = nil
		s.Archive = "Bitbucket_export_12.tar"
		s.Carry = &model.MigrationCarryState{Step: "carry", Done: 5 << 20, Total: 12 << 20, Rate: 3 << 20, Attempts: 1}
	}
	if i > 2 {
		c := *s.Carry
		c.Done, c.Sent, c.Path = c.Total, c.Total, urlEnd.SharedHome+"/data/migration/import/Bitbucket_export_12.tar"
		c.SourceMD5, c.TargetMD5 = "7160c0e0fffb6f8be88e2d54fef86d13", "7160c0e0fffb6f8be88e2d54fef86d13"
		s.Carry = &c
		s.ImportJob = 7
		s.Import = &model.Job{ID: 7, State: model.StateRunning, Progress: model.Progress{Percentage: 30, Message: "Importing PRJ/api: pull requests"}}
	}
	if i > 3 {
		s.Import = nil
	}
	if i > 4 {
		s.Verify = &model.MigrationVerdict{Complete: true, Totals: model.VerifyTotals{
			Repositories: model.VerifyCount{Expected: 4, Present: 4}, PullRequests: model.VerifyCount{Expected: 173, Present: 173}}}
	}
	return s
}

// started picks a whole project and a fork, confirms and starts.
func started(h *harness) { h.press("t", "a", "enter", "y") }

var migrateScreens = []struct {
	name  string
	reach func(h *harness, f *fakeMigrator)
}{
	{"migrate-pick", func(h *harness, f *fakeMigrator) { h.press("t", "a", "j", "j", "j", "j", "j", "j", "space") }},
	{"migrate-confirm", func(h *harness, f *fakeMigrator) { h.press("t", "a", "enter") }},
	{"migrate-preview", func(h *harness, f *fakeMigrator) { started(h) }},
	{"migrate-export", func(h *harness, f *fakeMigrator) {
		started(h)
		f.set(migrationAt(f, model.MigrationExport, model.MigrationRunning))
		h.fire()
	}},
	{"migrate-carry", func(h *harness, f *fakeMigrator) {
		started(h)
		f.set(migrationAt(f, model.MigrationCarry, model.MigrationRunning))
		h.fire()
	}},
	{"migrate-checksums", func(h *harness, f *fakeMigrator) {
		started(h)
		s := migrationAt(f, model.MigrationCarry, model.MigrationRunning)
		s.Carry.Step, s.Carry.Done = "target-md5", 9<<20
		f.set(s)
		h.fire()
	}},
	{"migrate-import", func(h *harness, f *fakeMigrator) {
		started(h)
		f.set(migrationAt(f, model.MigrationImport, model.MigrationRunning))
		h.fire()
	}},
	{"migrate-complete", func(h *harness, f *fakeMigrator) {
		started(h)
		f.set(migrationAt(f, model.MigrationDone, model.MigrationComplete))
		h.fire()
	}},
	{"migrate-incomplete", func(h *harness, f *fakeMigrator) {
		started(h)
		s := migrationAt(f, model.MigrationDone, model.MigrationIncomplete)
		s.Verify.Complete, s.Verify.Differences, s.Verify.Totals.PullRequests.Present = false, 2, 171
		s.Remainder = "bbimport --url https://bb.example.com --user admin verify 7 --archive /srv/bbimport/shared/data/migration/export/Bitbucket_export_12.tar --remainder remainder-20261207-161138-a1b2c3.tar"
		f.set(s)
		h.fire()
	}},
	{"migrate-failed", func(h *harness, f *fakeMigrator) {
		started(h)
		s := migrationAt(f, model.MigrationCarry, model.MigrationFailed)
		s.Carry.Step, s.Carry.Done = "target-md5", s.Carry.Total
		s.Error = "the MD5 at the target, 0d7a…, differs from the carried bytes' 7160c0e0fffb6f8be88e2d54fef86d13: the copy was removed"
		f.set(s)
		h.fire()
	}},
	{"migrate-cancel", func(h *harness, f *fakeMigrator) {
		started(h)
		f.set(migrationAt(f, model.MigrationCarry, model.MigrationRunning))
		h.fire()
		h.press("c")
	}},
	{"migrate-canceled", func(h *harness, f *fakeMigrator) {
		started(h)
		f.set(migrationAt(f, model.MigrationCarry, model.MigrationCanceled))
		h.fire()
	}},
	{"migrate-list", func(h *harness, f *fakeMigrator) {
		started(h)
		s := migrationAt(f, model.MigrationImport, model.MigrationRunning)
		s.Stopped = true
		f.set(s)
		f.set(model.MigrationStatus{Migration: model.Migration{ID: "20261206-090000-000001", From: homeEnd, To: urlEnd,
			Selectors: []string{"OPS/*"}, Step: model.MigrationDone, State: model.MigrationComplete}})
		h.press("esc")
	}},
	{"migrate-one-end", func(h *harness, f *fakeMigrator) {
		f.ends = []model.MigrationEnd{homeEnd}
		f.notes = []string{"A migration needs two ends: open the console with --url URL (and --import-dir, that instance's import directory on this machine) and --home DIR, an instance home here."}
		h.press("t")
	}},
}

// TestGoldenMigrate compares the Migrate screen at each step with its
// golden file (go test ./ui -run GoldenMigrate -update rewrites them).
func TestGoldenMigrate(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		for _, sc := range migrateScreens {
			if size[0] == 200 && !slices.Contains([]string{"migrate-pick", "migrate-carry", "migrate-list"}, sc.name) {
				continue
			}
			t.Run(fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				h, f := migrateHarness(t, size[0], size[1])
				sc.reach(h, f)
				requireFrame(t, h.m.render(), size[0], size[1])
				golden.RequireEqual(t, h.screen())
			})
		}
	}
}

// From the picker to a started migration: the request names the ends
// shown and the selection's selectors, and the view follows the record.
func TestMigrateStartsAndFollows(t *testing.T) {
	h, f := migrateHarness(t, 80, 24)
	h.press("t")
	// The first source offered is the one that can export.
	h.requireScreen("From          /srv/bbimport · home on this machine", "To            https://bb.example.com · as admin", "PRJ  Project")
	h.press("a", "j", "j", "j", "j", "j", "j", "space", "enter")
	h.requireScreen("Start the migration?", "What          PRJ/* OPS/golden-fork", "Repositories  4 (1 fork)")
	h.press("y")
	if len(f.started) != 1 {
		t.Fatalf("started %d migrations, want 1", len(f.started))
	}
	req := f.started[0]
	if req.From != homeEnd || req.To != urlEnd || strings.Join(req.Selectors, " ") != "PRJ/* OPS/golden-fork" {
		t.Fatalf("started %+v", req)
	}
	h.requireScreen("Migration 20261207-161138-a1b2c3 · running: preview", "● preview", "○ export")
	f.set(migrationAt(f, model.MigrationCarry, model.MigrationRunning))
	h.fire()
	h.requireScreen("✓ export     job 12 · Bitbucket_export_12.tar", "5.0 MiB of 12 MiB · 3.0 MiB/s", "○ checksums")
	f.set(migrationAt(f, model.MigrationDone, model.MigrationComplete))
	h.fire()
	h.requireScreen("· complete", "✓ checksums  MD5 7160c0e0fffb6f8be88e2d54fef86d13 at the source", "Everything in the archive is on the target.")
	// Ended: no more reads are asked for.
	h.fire()
	for _, msg := range h.timers {
		if _, ok := msg.(migratePollDue); ok {
			t.Fatal("still polling an ended migration")
		}
	}
}

// d offers the other direction, whose source cannot export here: the list
// says so, and the selection of the first direction is gone.
func TestMigrateOtherDirection(t *testing.T) {
	h, _ := migrateHarness(t, 80, 24)
	h.press("t", "a", "d")
	h.requireScreen("From          https://bb.example.com", "The source cannot export from this console")
	h.requireNotScreen("selected")
	h.press("enter")
	h.requireScreen("Nothing is selected")
}

// c asks with the step's consequence, y cancels; a canceled migration is
// resumed with r.
func TestMigrateCancelAndResume(t *testing.T) {
	h, f := migrateHarness(t, 80, 24)
	started(h)
	f.set(migrationAt(f, model.MigrationImport, model.MigrationRunning))
	h.fire()
	h.press("c")
	h.requireScreen("Cancel migration 20261207-161138-a1b2c3?", "The import stops at its next checkpoint")
	h.press("n")
	if len(f.canceled) != 0 {
		t.Fatalf("canceled after n: %v", f.canceled)
	}
	h.press("c", "y")
	if !slices.Equal(f.canceled, []string{"20261207-161138-a1b2c3"}) {
		t.Fatalf("canceled %v", f.canceled)
	}
	h.requireScreen("is being canceled")
	canceled := migrationAt(f, model.MigrationImport, model.MigrationCanceled)
	canceled.Import.State = model.StateCanceled
	f.set(canceled)
	h.fire()
	h.requireScreen("■ import     job 7 CANCELED", "Canceled at import. r resumes it from there; the import it started is")
	h.press("r")
	if !slices.Equal(f.resumed, []string{"20261207-161138-a1b2c3"}) {
		t.Fatalf("resumed %v", f.resumed)
	}
	h.requireScreen("running: import", "● import")
}

// The migrations pane lists every migration, newest first; enter opens
// one, r resumes one whose runner stopped.
func TestMigrateList(t *testing.T) {
	h, f := migrateHarness(t, 80, 24)
	f.set(model.MigrationStatus{Migration: model.Migration{ID: "20261206-090000-000001", From: homeEnd, To: urlEnd,
		Selectors: []string{"OPS/*"}, Step: model.MigrationCarry, State: model.MigrationRunning}, Stopped: true})
	h.press("t", "tab")
	h.requireScreen("Migrations (1)", "20261206-090000-000001  stopped at carry: r resumes it")
	h.press("enter")
	h.requireScreen("Migration 20261206-090000-000001", "◌ carry", "Its runner stopped at carry")
	h.press("esc", "r")
	if !slices.Equal(f.resumed, []string{"20261206-090000-000001"}) {
		t.Fatalf("resumed %v", f.resumed)
	}
	h.requireScreen("Migration 20261206-090000-000001 · running: carry")
}

// A refused start is a dialog with the Migrator's sentence.
func TestMigrateRefusedSaysWhy(t *testing.T) {
	h, f := migrateHarness(t, 80, 24)
	f.startErr = fmt.Errorf("the to end: no credentials for bb.example.com: set --user (or BITBUCKET_USER) and BITBUCKET_PASSWORD")
	started(h)
	h.requireScreen("The migration did not start", "The to end: no credentials for bb.example.com")
}

// Without a Migrator (plain mode's console, other screens' tests) the
// screen opens and says so.
func TestMigrateNeedsAMigrator(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.init()
	h.press("t", "enter")
	h.requireScreen("this console has no migrations to offer")
}

// Through the real event loop: the view's own reads (every half second)
// bring each step on screen as the runner records it.
func TestFlowMigrate(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	f := &fakeMigrator{ends: []model.MigrationEnd{urlEnd, homeEnd}, x: newFakeExporter(b)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := newModel(ctx, Options{Backend: b, Archives: a, Migrator: f, Now: func() time.Time { return t0 }, NoColor: true})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	waitScreen(t, tm, "acme-bitbucket")
	tm.Type("t")
	waitScreen(t, tm, "[ ] PRJ")
	tm.Type("a")
	waitScreen(t, tm, "3 selected")
	tm.Send(keyPress("enter"))
	waitScreen(t, tm, "Start the migration?")
	tm.Type("y")
	waitScreen(t, tm, "running: preview")
	f.set(migrationAt(f, model.MigrationCarry, model.MigrationRunning))
	waitScreen(t, tm, "3.0 MiB/s")
	f.set(migrationAt(f, model.MigrationDone, model.MigrationComplete))
	waitScreen(t, tm, "Everything in the archive is on the target.")
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if len(f.started) != 1 {
		t.Fatalf("started %v", f.started)
	}
}
