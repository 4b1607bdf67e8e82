package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/client"
	"bbimport/model"
	"bbimport/server"
	"bbimport/server/servertest"
)

// loopback serves a fake importer through the real server on 127.0.0.1.
func loopback(t *testing.T) (*servertest.Fake, string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"a.tar", "b.tar"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("archive"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "dir.tar"), 0o755); err != nil {
		t.Fatal(err)
	}
	fake := servertest.New(dir)
	srv, err := server.New(server.Config{Importer: fake, Admin: server.Credentials{User: "admin", Password: "pw"}, Version: "0.9.0"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return fake, hs.URL
}

func dial(t *testing.T, url, password, stateDir string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{BaseURL: url, User: "admin", Password: password, StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientAgainstServe(t *testing.T) {
	fake, url := loopback(t)
	state := t.TempDir()
	c := dial(t, url, "pw", state)
	ctx := context.Background()

	id, err := c.Identity(ctx)
	if err != nil || id.Product != "bbimport" || id.Version != "9.4.18" || !id.Remote || id.User != "admin" || id.Location != url {
		t.Errorf("identity %+v %v", id, err)
	}

	job, err := c.Start(ctx, "a.tar")
	if err != nil {
		t.Fatal(err)
	}
	if job.State != model.StateRunning || job.Initiator == nil || job.Initiator.Name != "admin" {
		t.Errorf("started %+v", job)
	}
	if _, err := c.Start(ctx, "b.tar"); !errors.Is(err, model.ErrImportRunning) {
		t.Errorf("second import: %v", err)
	}

	for i := range 70 {
		fake.AddMessages(job.ID, model.Message{Severity: model.Severities[i%3], Subject: fmt.Sprintf("PRJ/r%d", i%2), Text: fmt.Sprint(i)})
	}
	reader := client.NewMessageReader(c, job.ID, model.MessageQuery{Limit: 20})
	all, err := reader.Unseen(ctx)
	if err != nil || len(all) != 70 || all[69].Text != "69" {
		t.Fatalf("all messages over 4 pages: %d %v", len(all), err)
	}
	fake.AddMessages(job.ID, model.Message{Severity: model.SeverityError, Text: "late"})
	fresh, err := reader.Unseen(ctx)
	if err != nil || len(fresh) != 1 || fresh[0].Text != "late" {
		t.Errorf("incremental read: %+v %v", fresh, err)
	}
	if fresh, _ := reader.Unseen(ctx); len(fresh) != 0 {
		t.Errorf("nothing new, got %d", len(fresh))
	}

	for _, f := range []struct {
		q    model.MessageQuery
		want int
	}{
		{model.MessageQuery{Severities: []model.Severity{model.SeverityWarn}}, 23},
		{model.MessageQuery{Severities: []model.Severity{model.SeverityWarn, model.SeverityError}}, 24 + 23},
		{model.MessageQuery{Subject: "PRJ/r1"}, 35},
		{model.MessageQuery{Subject: "PRJ/r0", Severities: []model.Severity{model.SeverityInfo}}, 12},
	} {
		f.q.Limit = 10
		got, err := client.NewMessageReader(c, job.ID, f.q).Unseen(ctx)
		if err != nil || len(got) != f.want {
			t.Errorf("filter %+v: %d messages, want %d (%v)", f.q, len(got), f.want, err)
		}
	}

	if err := c.Cancel(ctx, job.ID); err != nil {
		t.Errorf("cancel: %v", err)
	}
	if j, _ := c.Job(ctx, job.ID); j.State != model.StateCanceling {
		t.Errorf("after cancel: %s", j.State)
	}
	err = c.Cancel(ctx, job.ID)
	if !errors.Is(err, model.ErrJobFinished) || !strings.Contains(err.Error(), "(HTTP 409 Conflict)") {
		t.Errorf("second cancel: %v", err)
	}
	if _, err := c.Job(ctx, 42); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("job 42: %v", err)
	}
	if _, err := c.Messages(ctx, 42, model.MessageQuery{}); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("messages of job 42: %v", err)
	}
	if err := c.Cancel(ctx, 42); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("cancel job 42: %v", err)
	}

	fake.Finish(job.ID, model.StateCanceled)
	second, err := c.Start(ctx, "b.tar")
	if err != nil {
		t.Fatal(err)
	}
	// A later client on the same machine finds both jobs, newest first.
	known, err := dial(t, url+"/", "pw", state).KnownJobs(ctx)
	if err != nil || len(known) != 2 || known[0].ID != second.ID || known[1].ID != job.ID || known[1].State != model.StateCanceled {
		t.Errorf("known jobs %+v %v", known, err)
	}
	_, otherURL := loopback(t)
	if other, err := dial(t, otherURL, "pw", state).KnownJobs(ctx); err != nil || len(other) != 0 {
		t.Errorf("another server's jobs: %+v %v", other, err)
	}
}

func TestClientBadArchivePaths(t *testing.T) {
	fake, url := loopback(t)
	c := dial(t, url, "pw", t.TempDir())
	outside := filepath.Join(filepath.Dir(fake.ImportDir), "a.tar")
	for path, says := range map[string]string{
		"":            "archivePath is required",
		"../a.tar":    "is outside the import directory",
		outside:       "is outside the import directory",
		"nope.tar":    "does not exist",
		"dir.tar":     "is not a regular file",
		"sub/../../x": "is outside the import directory",
	} {
		_, err := c.Start(context.Background(), path)
		if !errors.Is(err, model.ErrBadArchivePath) || !strings.Contains(err.Error(), says) || !strings.Contains(err.Error(), "(HTTP 400 Bad Request)") {
			t.Errorf("archive %q: %v", path, err)
		}
	}
}

func TestClientWrongPassword(t *testing.T) {
	_, url := loopback(t)
	c := dial(t, url, "wrong", t.TempDir())
	_, err := c.Job(context.Background(), 1)
	want := "read import job 1: Authentication failed. Please check your credentials and try again (HTTP 401 Unauthorized); check the user and password; the user needs global ADMIN"
	if err == nil || err.Error() != want {
		t.Errorf("got %v", err)
	}
	if exists, err := dial(t, url, "pw", t.TempDir()).ProjectExists(context.Background(), "PRJ"); err != nil || exists {
		t.Errorf("ProjectExists on an empty server: %v %v", exists, err)
	}
}

// reporting is the fake importer with the counts a real import reports.
type reporting struct {
	*servertest.Fake
	counts *model.ImportCounts
}

func (r reporting) Job(ctx context.Context, id int64) (model.Job, error) {
	j, err := r.Fake.Job(ctx, id)
	j.Counts = r.counts
	return j, err
}

// A job's counts are bbimport's extension of the job JSON: serve sends them
// and the client hands them on; without them they stay "not reported".
func TestJobCountsTravel(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.tar"), []byte("archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	imp := &reporting{Fake: servertest.New(dir)}
	srv, err := server.New(server.Config{Importer: imp, Admin: server.Credentials{User: "admin", Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := dial(t, hs.URL, "pw", t.TempDir())
	ctx := context.Background()
	job, err := c.Start(ctx, "a.tar")
	if err != nil {
		t.Fatal(err)
	}

	got, err := c.Job(ctx, job.ID)
	if err != nil || got.Counts != nil {
		t.Errorf("no counts reported, got %+v %v", got.Counts, err)
	}
	imp.counts = &model.ImportCounts{Projects: 2, Repositories: 7, PullRequests: 340}
	got, err = c.Job(ctx, job.ID)
	if err != nil || got.Counts == nil || *got.Counts != *imp.counts {
		t.Errorf("counts %+v %v, want %+v", got.Counts, err, *imp.counts)
	}
}
