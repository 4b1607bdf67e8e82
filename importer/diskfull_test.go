package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bbimport/archive/gen"
	"bbimport/internal/smalldisk"
	"bbimport/model"
)

// diskFullImport starts an import into a home on a small file system that
// fills, at the second repository, to leave less than the repository
// needs, and returns the instance and the job once it has ended.
func diskFullImport(t *testing.T, prepare func(in *Instance)) (*Instance, model.Job, string) {
	t.Helper()
	archivePath := generated(t, "diskfull", gen.Options{Projects: 1, Repos: 3, PRs: 2, Commits: 12, BlobKiB: 96, Seed: 21})
	disk := smalldisk.Mount(t, "", 24<<20)
	home := filepath.Join(disk, "home")
	in, err := Open(Options{Home: home, ImportDir: filepath.Dir(archivePath)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	if prepare != nil {
		prepare(in)
	}
	var ballast string
	repos := 0
	in.beforeCheckpoint = func(name string) {
		if name == checkpointRepository {
			if repos++; repos == 3 {
				ballast = smalldisk.Fill(t, disk, 256<<10)
			}
		}
	}
	job, err := in.Start(context.Background(), filepath.Base(archivePath))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	final, err := in.Wait(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ballast == "" {
		t.Fatal("the import never reached its second repository")
	}
	return in, final, ballast
}

// A runner that fills the disk removes what it was building, then records
// ABORTED with why, what it needs and what is free.
func TestFullDiskAbortsWithItsCause(t *testing.T) {
	in, final, _ := diskFullImport(t, nil)
	if final.State != model.StateAborted {
		t.Fatalf("job %s, want ABORTED", final.State)
	}
	job, err := in.Job(context.Background(), final.ID)
	if err != nil || job.State != model.StateAborted {
		t.Fatalf("job as read: %s, %v", job.State, err)
	}
	errs := strings.Join(messages(t, in, final.ID, model.SeverityError), "\n")
	for _, want := range []string{"is full", "The import needs about", "is free now", "Free some space"} {
		if !strings.Contains(errs, want) {
			t.Errorf("no %q in the ERRORs:\n%s", want, errs)
		}
	}
	if n := count(t, in, `SELECT COUNT(*) FROM repositories WHERE state <> 'AVAILABLE'`); n != 0 {
		t.Errorf("%d repositories left unfinished", n)
	}
	if entries, _ := os.ReadDir(in.tmpDir()); len(entries) != 0 {
		t.Errorf("build directories left: %d", len(entries))
	}
	if _, err := os.Stat(in.endNotePath(final.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("end note left behind: %v", err)
	}
}

// Where even the end cannot be recorded, readers answer with the job as it
// will be recorded, and the first that can write records the true cause.
func TestFullDiskEndRecordedByTheNextReaderWhoCan(t *testing.T) {
	// The database refuses the end, as a disk too full for it would.
	in, final, ballast := diskFullImport(t, func(in *Instance) {
		if _, err := in.db.Exec(`CREATE TRIGGER refuse_end BEFORE UPDATE OF end_date ON jobs WHEN NEW.state = 'ABORTED'
			BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
			t.Fatal(err)
		}
	})
	if final.State != model.StateAborted {
		t.Fatalf("job %s, want ABORTED", final.State)
	}
	if note := in.readEndNote(final.ID); !strings.Contains(note, "is full") {
		t.Fatalf("end note: %q", note)
	}
	// Read from this process and from another, with the disk still full:
	// once the heartbeat is stale the reader tries to recover, cannot, and
	// shows the job as it will be recorded.
	other, err := Open(Options{Home: in.home, ImportDir: in.importDir})
	if err != nil {
		t.Fatalf("open a home on a full disk: %v", err)
	}
	defer other.Close()
	deadline := time.Now().Add(10 * time.Second)
	for _, reader := range []*Instance{in, other} {
		for {
			job, err := reader.Job(context.Background(), final.ID)
			if err != nil {
				t.Fatalf("read job on a full disk: %v", err)
			}
			if job.State == model.StateAborted {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job shown %s 10 s after its run ended", job.State)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, err := reader.KnownJobs(context.Background()); err != nil {
			t.Fatalf("list jobs on a full disk: %v", err)
		}
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if _, err := in.db.Exec(`DROP TRIGGER refuse_end`); err != nil {
		t.Fatal(err)
	}
	if _, err := other.KnownJobs(context.Background()); err != nil {
		t.Fatal(err)
	}
	errs := strings.Join(messages(t, in, final.ID, model.SeverityError), "\n")
	if !strings.Contains(errs, "is full") || strings.Contains(errs, "killed") {
		t.Errorf("the ERROR recorded after the disk was freed does not say it filled:\n%s", errs)
	}
	if n := count(t, in, `SELECT COUNT(*) FROM jobs WHERE end_date IS NULL`); n != 0 {
		t.Errorf("%d jobs still unfinished", n)
	}
	if n := count(t, in, `SELECT COUNT(*) FROM repositories WHERE state <> 'AVAILABLE'`); n != 0 {
		t.Errorf("%d repositories left unfinished", n)
	}
	if _, err := os.Stat(in.endNotePath(final.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("end note left behind: %v", err)
	}
}
