package cli

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"bbimport/model"
)

// The console's ends: its home alone is one end and a note saying how to
// name a second; a --url whose import directory is not in a shared home
// is left out with a note naming it; with --home beside --url, both.
func TestConsoleMigratorEnds(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	home, _ := homeWithArchive(t, migrateArchive)
	g := &globalFlags{home: home, io: &streams{}}
	mg := consoleMigrator(g, &backend{}, filepath.Join(home, "shared", "data", "migration", "import"))
	ends, notes := mg.Ends()
	if len(ends) != 1 || ends[0].Home != home || len(notes) != 1 || !strings.Contains(notes[0], "needs two ends") {
		t.Fatalf("home alone: %+v %q", ends, notes)
	}

	g = &globalFlags{home: home, url: "https://bb.example.com", user: "admin", io: &streams{}}
	mg = consoleMigrator(g, &backend{creds: remoteCreds{user: "admin", password: "pw"}}, "/srv/elsewhere/import")
	ends, notes = mg.Ends()
	if len(ends) != 1 || ends[0].Home != home || !strings.Contains(strings.Join(notes, " "), "its import directory /srv/elsewhere/import is not <shared home>/data/migration/import") {
		t.Fatalf("--url outside a shared home: %+v %q", ends, notes)
	}
	mg.Close()

	mg = consoleMigrator(g, &backend{creds: remoteCreds{user: "admin", password: "pw"}}, "/var/bb/shared/data/migration/import")
	defer mg.Close()
	ends, notes = mg.Ends()
	want := []model.MigrationEnd{{URL: "https://bb.example.com", User: "admin", SharedHome: "/var/bb/shared"}, {Home: home, SharedHome: filepath.Join(home, "shared")}}
	if len(ends) != 2 || ends[0] != want[0] || ends[1] != want[1] || len(notes) != 0 {
		t.Fatalf("--home and --url: %+v %q", ends, notes)
	}
	if mg.Exporter(ends[1]) == nil {
		t.Error("the home offers no export calls")
	}
	// Only the console's own ends are migrated between.
	_, err := mg.StartMigration(context.Background(), model.MigrationRequest{From: ends[1], To: model.MigrationEnd{Home: "/tmp/other"}, Selectors: []string{"*/*"}})
	if err == nil || !strings.Contains(err.Error(), "is not an end this console was opened with") {
		t.Fatalf("a foreign end: %v", err)
	}
}

// The Migrator on two homes: the start spawns the runner, Migration
// follows the record to complete, the list has it, a finished migration
// is neither canceled nor resumed.
func TestMigratorHomeToHome(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	source, name := homeWithArchive(t, migrateArchive)
	if _, code, err := runCmd(t, "--home", source, "import", name); code != exitOK {
		t.Fatalf("import into the source: exit %d (%v)", code, err)
	}
	target := t.TempDir()
	dir, err := migrationsDir()
	if err != nil {
		t.Fatal(err)
	}
	from := model.MigrationEnd{Home: source, SharedHome: filepath.Join(source, "shared")}
	to := model.MigrationEnd{Home: target, SharedHome: filepath.Join(target, "shared")}
	mg := &migrator{g: &globalFlags{io: &streams{}}, dir: dir, ends: []model.MigrationEnd{from, to}, backends: map[string]model.Backend{}}
	ctx := context.Background()
	s, err := mg.StartMigration(ctx, model.MigrationRequest{From: from, To: to, Selectors: []string{"*/*"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Stopped || s.State != model.MigrationRunning {
		t.Fatalf("just started: %+v", s)
	}
	deadline := time.Now().Add(e2eWait)
	for s.State == model.MigrationRunning && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if s, err = mg.Migration(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		if s.Stopped {
			log, _ := os.ReadFile(s.Log)
			t.Fatalf("the runner stopped at %s:\n%s", s.Step, log)
		}
	}
	if s.State != model.MigrationComplete || s.Verify == nil || !s.Verify.Complete || s.Carry == nil || s.Carry.SourceMD5 != s.Carry.TargetMD5 {
		t.Fatalf("ended: %+v", s.Migration)
	}
	list, err := mg.Migrations(ctx)
	if err != nil || len(list) != 1 || list[0].ID != s.ID {
		t.Fatalf("list: %+v (%v)", list, err)
	}
	if err := mg.CancelMigration(ctx, s.ID); err == nil || !strings.Contains(err.Error(), "is not running") {
		t.Errorf("cancel of a finished migration: %v", err)
	}
	if _, err := mg.ResumeMigration(ctx, s.ID); err == nil || !strings.Contains(err.Error(), "there is nothing to resume") {
		t.Errorf("resume of a finished migration: %v", err)
	}
	if _, err := mg.Migration(ctx, "20990101-000000-000000"); !errors.Is(err, model.ErrNoMigration) {
		t.Errorf("an unknown id: %v", err)
	}
}

// Cancel signals the runner the record names: SIGTERM, which the runner
// turns into a cancel of the step it is at.
func TestMigratorCancelSignalsTheRunner(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir, err := migrationsDir()
	if err != nil {
		t.Fatal(err)
	}
	m := newMigrationRecord([]string{"*/*"})
	m.Step = stepCarry
	// A stand-in runner whose command line names the id, as the runner's does.
	runner := exec.Command("sh", "-c", "trap 'kill $!; exit 3' TERM; sleep 30 & wait", m.ID)
	if err := runner.Start(); err != nil {
		t.Fatal(err)
	}
	m.RunnerPID = runner.Process.Pid
	if err := m.save(dir); err != nil {
		t.Fatal(err)
	}
	mg := &migrator{g: &globalFlags{io: &streams{}}, dir: dir, backends: map[string]model.Backend{}}
	s, err := mg.Migration(context.Background(), m.ID)
	if err != nil || !s.Running() {
		t.Fatalf("before the cancel: %+v (%v)", s, err)
	}
	if err := mg.CancelMigration(context.Background(), m.ID); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	err = runner.Wait()
	if !errors.As(err, &ee) || ee.ExitCode() != 3 && ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Fatalf("the runner after the cancel: %v, want its SIGTERM", err)
	}
	// Its runner gone, the record that still says running is stopped and
	// resumable.
	if s, _ = mg.Migration(context.Background(), m.ID); !s.Stopped || !s.Resumable() {
		t.Fatalf("after the runner went: %+v", s)
	}
}
