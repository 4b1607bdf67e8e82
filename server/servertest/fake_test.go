package servertest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"bbimport/internal/backendtest"
	"bbimport/model"
	"bbimport/server/servertest"
)

// TestConformance holds the fake to what the importer does. Its jobs move
// only when told, so holding one needs nothing.
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{New: func(t *testing.T) backendtest.Target {
		f := servertest.New(t.TempDir())
		return backendtest.Target{Backend: f, ImportDir: f.ImportDir, Step: f.Step, Hold: servertest.Held}
	}})
}

// As the importer's, a job that ran to its end is at 100%; one canceled or
// aborted keeps the percentage it had reached.
func TestFinishKeepsTheProgressOfAnImportThatStopped(t *testing.T) {
	f := servertest.New(t.TempDir())
	if err := os.WriteFile(filepath.Join(f.ImportDir, "a.tar"), []byte("archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	for state, want := range map[model.State]int{
		model.StateCompleted: 100, model.StateFailed: 100,
		model.StateAborted: 0, model.StateCanceled: 0, model.StateTimedOut: 0,
	} {
		job, err := f.Start(context.Background(), "a.tar")
		if err != nil {
			t.Fatal(err)
		}
		f.Finish(job.ID, state)
		got, err := f.Job(context.Background(), job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != state || got.Progress.Percentage != want {
			t.Errorf("finished %s: %s at %d%%, want %d%%", state, got.State, got.Progress.Percentage, want)
		}
	}
}
