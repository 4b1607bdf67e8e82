package server_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"bbimport/archive/gen"
	"bbimport/internal/unfit"
)

// POST /migration/imports refuses what the importer's start rule refuses,
// with Bitbucket's 400 error JSON naming archivePath, and records no job.
func TestStartRefusesUnfitArchives(t *testing.T) {
	if testing.Short() {
		t.Skip("generates an archive")
	}
	f, in := onImporter(t, admin)
	good := filepath.Join(t.TempDir(), "good.tar")
	if _, err := gen.GenerateFile(context.Background(), good, gen.Options{Projects: 1, Repos: 1, PRs: 2, Commits: 2, Seed: 5, TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	cases := unfit.Write(t, in.ImportDir(), data)
	growing, stop := unfit.Growing(t, in.ImportDir(), data)
	defer stop()
	for _, c := range append(cases, growing) {
		wantError(t, f.start(c.Name), 400, "archivePath", c.Says)
	}
	if jobs, err := in.KnownJobs(context.Background()); err != nil || len(jobs) != 0 {
		t.Errorf("jobs were recorded: %v (%v)", jobs, err)
	}
}
