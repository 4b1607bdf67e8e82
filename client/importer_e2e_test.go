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

	"bbimport/archive/gen"
	"bbimport/client"
	"bbimport/importer"
	"bbimport/model"
	"bbimport/server"
)

// The client against serve on the real importer, over HTTP on loopback:
// what the REST API shows must be exactly what the importer holds.
func TestClientAgainstServeOnImporter(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and imports an archive")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	in, err := importer.Open(importer.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	opts := gen.Options{Projects: 1, Repos: 2, Forks: 1, PRs: 3, Commits: 2, Seed: 4, TempDir: t.TempDir()}
	if _, err := gen.GenerateFile(ctx, filepath.Join(in.ImportDir(), "small.tar"), opts); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(in.ImportDir(), "dir.tar"), 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "outside.tar")
	if err := os.WriteFile(outside, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(in.ImportDir(), "link.tar")); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Importer: in, Admin: server.Credentials{User: "admin", Password: "pw"}, Version: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := dial(t, hs.URL, "pw", t.TempDir())

	for _, path := range []string{"", "../small.tar", outside, "nope.tar", "dir.tar", "link.tar"} {
		_, err := c.Start(ctx, path)
		if !errors.Is(err, model.ErrBadArchivePath) || !strings.Contains(err.Error(), "(HTTP 400 Bad Request)") {
			t.Errorf("archive %q: %v", path, err)
		}
	}
	// A file cut short is inside the directory: bbimport serve's sentence
	// says so, without the general rule of archive paths after it.
	whole, err := os.ReadFile(filepath.Join(in.ImportDir(), "small.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in.ImportDir(), "cut.tar"), whole[:len(whole)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(ctx, "cut.tar"); !errors.Is(err, model.ErrBadArchivePath) ||
		!strings.Contains(err.Error(), "copy it again") || strings.Contains(err.Error(), "must name a regular file") {
		t.Errorf("a cut archive: %v", err)
	}
	if _, err := dial(t, hs.URL, "wrong", t.TempDir()).Start(ctx, "small.tar"); err == nil || !strings.Contains(err.Error(), "(HTTP 401 Unauthorized)") {
		t.Errorf("wrong password: %v", err)
	}

	job, err := c.Start(ctx, "small.tar")
	if err != nil {
		t.Fatal(err)
	}
	if job.Initiator == nil || job.Initiator.Name != "admin" {
		t.Errorf("initiator %+v", job.Initiator)
	}
	for !job.State.Finished() {
		if job, err = c.Job(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	direct, err := in.Job(ctx, job.ID)
	if err != nil || direct.State != job.State || direct.EndDate != job.EndDate {
		t.Errorf("REST job %+v, importer job %+v", job, direct)
	}
	if job.Initiator == nil || job.Initiator.Name != "admin" {
		t.Errorf("the finished job lost its initiator: %+v", job.Initiator)
	}

	all, err := client.NewMessageReader(c, job.ID, model.MessageQuery{Limit: 4}).Unseen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := in.Messages(ctx, job.ID, model.MessageQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 5 || !slices.Equal(ids(all), ids(want.Values)) {
		t.Errorf("REST read %d messages %v in pages of 4, the importer holds %v", len(all), ids(all), ids(want.Values))
	}
	for _, q := range []model.MessageQuery{
		{Severities: []model.Severity{model.SeverityInfo}},
		{Severities: []model.Severity{model.SeverityWarn, model.SeverityError}},
		{Subject: all[len(all)-1].Subject},
	} {
		q.Limit = 3
		got, err := client.NewMessageReader(c, job.ID, q).Unseen(ctx)
		q.Limit = 1000
		want, werr := in.Messages(ctx, job.ID, q)
		if err != nil || werr != nil || !slices.Equal(ids(got), ids(want.Values)) {
			t.Errorf("filter %+v: REST %v, importer %v (%v %v)", q, ids(got), ids(want.Values), err, werr)
		}
	}

	if err := c.Cancel(ctx, job.ID); !errors.Is(err, model.ErrJobFinished) {
		t.Errorf("cancel of a finished job: %v", err)
	}
	if _, err := c.Job(ctx, job.ID+1); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("next job id: %v", err)
	}
	projects, err := in.Projects(ctx, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range projects.Values {
		if ok, err := c.ProjectExists(ctx, p.Key); !ok || err != nil {
			t.Errorf("imported project %s: exists %v, %v", p.Key, ok, err)
		}
	}
	if ok, err := c.ProjectExists(ctx, "NOSUCH"); ok || err != nil {
		t.Errorf("NOSUCH: exists %v, %v", ok, err)
	}
}

func ids(ms []model.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
