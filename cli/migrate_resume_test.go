package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bbimport/model"
	"bbimport/server/servertest"
)

// A resumed migration whose import had ended short of COMPLETED goes on
// to verify what arrived (importing again would land it twice under new
// names); the same end on the first run stops the migration.
func TestResumeAfterAnEndedImportGoesOnToVerify(t *testing.T) {
	fake := servertest.New(t.TempDir())
	if err := os.WriteFile(filepath.Join(fake.ImportDir, "Bitbucket_export_3.tar"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fake.Place(model.Job{ID: 7, State: model.StateCanceled})
	run := func(importJob int64) (*migrationRun, error) {
		m := &migration{Migration: model.Migration{ID: "m1", Step: stepImport, Archive: "Bitbucket_export_3.tar", ImportJob: importJob}}
		r := &migrationRun{m: m, dir: t.TempDir(), to: &backend{Backend: fake}}
		return r, r.importArchive(context.Background())
	}
	r, err := run(7)
	if err != nil || r.m.Step != stepVerify {
		t.Fatalf("resumed after a canceled import: step %q, %v; want verify", r.m.Step, err)
	}

	done := make(chan error, 1)
	go func() { _, err := run(0); done <- err }()
	for started := false; !started; {
		select {
		case err = <-done:
			t.Fatalf("the first run ended before its import did: %v", err)
		case <-time.After(10 * time.Millisecond):
			_, jerr := fake.Job(context.Background(), 8)
			started = jerr == nil
		}
	}
	fake.Finish(8, model.StateCanceled)
	if err = <-done; err == nil || !strings.Contains(err.Error(), "import job 8: ended CANCELED") {
		t.Fatalf("the first run's canceled import: %v; want the migration stopped", err)
	}
}

// A resumed migration whose export had ended without an archive exports
// again rather than follow the job that can only fail.
func TestResumeAfterAFailedExportExportsAgain(t *testing.T) {
	fake := servertest.New(t.TempDir())
	fake.Place(model.Job{ID: 4, Type: model.JobTypeExport, State: model.StateFailed})
	m := &migration{Migration: model.Migration{ID: "m2", Step: stepExport, ExportJob: 4, Selectors: []string{"*/*"}}}
	r := &migrationRun{m: m, dir: t.TempDir(), from: &backend{Backend: fake}}
	err := r.export(context.Background())
	// The fake has no export calls: the resume asked for a new export
	// instead of following job 4 to its failure.
	if err == nil || !strings.Contains(err.Error(), "cannot export") || r.m.ExportJob != 0 {
		t.Fatalf("resumed after a failed export: job %d, %v", r.m.ExportJob, err)
	}
}
