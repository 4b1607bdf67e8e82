package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"bbimport/archive/gen"
	"bbimport/client"
	"bbimport/importer"
	"bbimport/internal/smalldisk"
	"bbimport/model"
	"bbimport/server"
)

// An export through serve on the real importer, over HTTP on loopback:
// the lists, the preview with bbimport's counts, size and free disk, the
// refusals (a selector that matches nothing, a location outside, a third
// export), then start, follow, messages and cancel, as the importer holds
// them, and the archive on the server's disk.
func TestExportThroughServe(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, imports and exports an archive")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	in, err := importer.Open(importer.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	opts := gen.Options{Projects: 2, Repos: 2, Forks: 1, PRs: 3, Commits: 2, Seed: 4, TempDir: t.TempDir()}
	if _, err := gen.GenerateFile(ctx, filepath.Join(in.ImportDir(), "small.tar"), opts); err != nil {
		t.Fatal(err)
	}
	imported, err := in.Start(ctx, "small.tar")
	if err != nil {
		t.Fatal(err)
	}
	if imported, err = in.Wait(ctx, imported.ID); err != nil || imported.State != model.StateCompleted {
		t.Fatalf("import %s: %v", imported.State, err)
	}
	srv, err := server.New(server.Config{Importer: in, Admin: server.Credentials{User: "admin", Password: "pw"}, Version: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := dial(t, hs.URL, "pw", t.TempDir())

	listed, err := c.Exportable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held, err := in.Exportable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Bitbucket lists projects by name, the importer by id: the same set.
	if got, want := exportableNames(listed), exportableNames(held); !slices.Equal(got, want) {
		t.Errorf("REST lists %v, the importer %v", got, want)
	}

	all := request("*/*")
	p, err := c.PreviewExport(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := in.PreviewExport(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if p.Repositories != direct.Repositories || p.Forks != direct.Forks || p.Hierarchies != direct.Hierarchies ||
		p.PullRequests != direct.PullRequests || p.EstimatedBytes != direct.EstimatedBytes || !p.SizeKnown() || p.FreeBytes <= 0 || len(p.Projects) != len(direct.Projects) {
		t.Errorf("REST preview %+v, the importer's %+v", p, direct)
	}

	_, err = c.PreviewExport(ctx, request("NOPE/x"))
	if !errors.Is(err, model.ErrNoSuchSelection) || !strings.Contains(err.Error(), "NOPE/x") || !strings.Contains(err.Error(), "(HTTP 400 Bad Request)") {
		t.Errorf("a selector that matches nothing: %v", err)
	}
	outside := request("*/*")
	outside.ExportLocation = "../outside"
	if _, err := c.StartExport(ctx, outside); !errors.Is(err, model.ErrBadExportLocation) || errors.Is(err, model.ErrNoSuchSelection) {
		t.Errorf("a location outside: %v", err)
	}

	// Two exports run: both slots held, as two runners hold them.
	var slots []*os.File
	for _, name := range []string{"export-1.lock", "export-2.lock"} {
		f, err := os.OpenFile(filepath.Join(in.Home(), name), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			t.Fatal(err)
		}
		slots = append(slots, f)
	}
	_, err = c.StartExport(ctx, all)
	if !errors.Is(err, model.ErrExportsRunning) || !strings.Contains(err.Error(), "(HTTP 503 Service Unavailable)") {
		t.Errorf("a third export: %v", err)
	}
	for _, f := range slots {
		f.Close()
	}

	into := request("*/*")
	into.ExportLocation = "remote"
	job, err := c.StartExport(ctx, into)
	if err != nil {
		t.Fatal(err)
	}
	if job.Type != model.JobTypeExport || job.Archive != "remote/Bitbucket_export_2.tar" {
		t.Errorf("started %+v", job)
	}
	for !job.State.Finished() {
		time.Sleep(20 * time.Millisecond)
		if job, err = c.Job(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
	}
	if job.State != model.StateCompleted || job.Progress.Percentage != 100 || job.Archive != "remote/Bitbucket_export_2.tar" {
		t.Errorf("export ended %+v", job)
	}
	if _, err := os.Stat(filepath.Join(in.Home(), "shared", "data", "migration", "export", "remote", "Bitbucket_export_2.tar")); err != nil {
		t.Errorf("the archive on the server: %v", err)
	}
	got, err := client.NewMessageReader(c, job.ID, model.MessageQuery{Limit: 3}).Unseen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := in.Messages(ctx, job.ID, model.MessageQuery{Limit: 1000})
	if err != nil || len(got) == 0 || !slices.Equal(ids(got), ids(want.Values)) {
		t.Errorf("REST read messages %v, the importer holds %v (%v)", ids(got), ids(want.Values), err)
	}
	if err := c.Cancel(ctx, job.ID); !errors.Is(err, model.ErrJobFinished) || !strings.HasPrefix(err.Error(), "cancel export job 2: ") {
		t.Errorf("cancel of a finished export: %v", err)
	}
	jobs, err := c.KnownJobs(ctx)
	if err != nil || len(jobs) < 2 || jobs[0].ID != job.ID || jobs[0].Type != model.JobTypeExport {
		t.Errorf("jobs %+v %v", jobs, err)
	}

	// Beyond serve's free disk: its 400 is the model's refusal, whose
	// figures it tells in words only; Force goes to serve's own start.
	small := request("*/*")
	small.ExportLocation = "small"
	smalldisk.Mount(t, filepath.Join(in.ExportDir(), "small"), 4096)
	_, err = c.StartExport(ctx, small)
	var disk *model.NotEnoughDiskError
	if !errors.As(err, &disk) || disk.Need != model.Unknown || disk.Directory != "" || !strings.Contains(err.Error(), "(HTTP 400 Bad Request)") {
		t.Errorf("an export beyond serve's free disk: %v", err)
	}
	small.Force = true
	forced, err := c.StartExport(ctx, small)
	if err != nil || forced.Type != model.JobTypeExport || forced.Archive != "small/Bitbucket_export_3.tar" {
		t.Fatalf("forced: %+v %v", forced, err)
	}
	// It runs into the full disk; the tmpfs unmounts once it has ended.
	if forced, err = in.Wait(ctx, forced.ID); err != nil || !forced.State.Finished() {
		t.Fatalf("the forced export %+v: %v", forced, err)
	}
}

func request(selectors ...string) model.ExportRequest {
	var req model.ExportRequest
	for _, s := range selectors {
		sel, _ := model.ParseSelector(s)
		req.RepositoriesRequest.Includes = append(req.RepositoriesRequest.Includes, sel)
	}
	return req
}

// exportableNames are the listed repositories as PRJ/slug<origin, sorted.
func exportableNames(ps []model.ExportableProject) []string {
	var out []string
	for _, p := range ps {
		for _, r := range p.Repositories {
			out = append(out, p.Key+"/"+r.Slug+"<"+r.Origin)
		}
	}
	slices.Sort(out)
	return out
}
