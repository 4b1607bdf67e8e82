package server_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bbimport/archive/gen"
	"bbimport/model"
	"bbimport/wire"
)

// TestExportThroughREST drives an export as a Bitbucket client does:
// preview ({"scopes":[…]}, our counts under /rest/bbimport/1.0), start,
// poll the job (its fields only), read its messages, and the codes for a
// selector that matches nothing (400 naming it), an import's id (404) and
// a finished job's cancel (409).
func TestExportThroughREST(t *testing.T) {
	f, in := onImporter(t, admin)
	p := filepath.Join(in.ImportDir(), "a.tar")
	if _, err := gen.GenerateFile(context.Background(), p, gen.Options{Projects: 1, Repos: 2, Forks: 1, PRs: 3, Commits: 2, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	job, err := in.Start(context.Background(), "a.tar")
	if err != nil {
		t.Fatal(err)
	}
	if job, err = in.Wait(context.Background(), job.ID); err != nil || job.State != model.StateCompleted {
		t.Fatalf("import %s: %v", job.State, err)
	}
	all := `{"repositoriesRequest":{"includes":[{"projectKey":"*","slug":"*"}]}}`
	scopes := decode[struct {
		Scopes []model.RepositorySelector `json:"scopes"`
	}](t, f.do("POST", base+"/migration/exports/preview", "application/json", all))
	if len(scopes.Scopes) != 4 {
		t.Errorf("preview scopes %+v, want the 4 repositories", scopes.Scopes)
	}
	counts := decode[model.ExportPreview](t, f.do("POST", wire.ExtensionPrefix+"/migration/exports/preview", "application/json", all))
	if counts.Repositories != 4 || counts.PullRequests == 0 || counts.EstimatedBytes == 0 || counts.Directory != "" {
		t.Errorf("bbimport preview %+v", counts)
	}
	wantError(t, f.do("POST", base+"/migration/exports", "application/json",
		`{"repositoriesRequest":{"includes":[{"projectKey":"NOPE","slug":"x"}]}}`), 400, "repositoriesRequest", "NOPE/x")
	wantError(t, f.do("POST", base+"/migration/exports", "application/json",
		`{"repositoriesRequest":{"includes":[{"projectKey":"*","slug":"*"}]},"exportLocation":"/etc"}`), 400, "exportLocation", "")

	a := f.do("POST", base+"/migration/exports", "application/json", strings.Replace(all, "}]}}", `}]},"exportLocation":"rest"}`, 1))
	if a.status != 200 {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(a.body), &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"counts", "archive"} {
		if _, ok := fields[k]; ok {
			t.Errorf("export job JSON carries %q: %s", k, a.body)
		}
	}
	started := decode[model.Job](t, a)
	if started.Type != model.JobTypeExport || started.ID != 2 {
		t.Errorf("started %+v", started)
	}
	path := base + "/migration/exports/2"
	deadline := time.Now().Add(2 * time.Minute)
	var final model.Job
	for final = decode[model.Job](t, f.do("GET", path, "", "")); !final.State.Finished() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		final = decode[model.Job](t, f.do("GET", path, "", ""))
	}
	if final.State != model.StateCompleted || final.Progress.Percentage != 100 || final.Progress.Message == "" {
		t.Fatalf("export ended %+v", final)
	}
	if _, err := os.Stat(filepath.Join(in.Home(), "shared", "data", "migration", "export", "rest", "Bitbucket_export_2.tar")); err != nil {
		t.Errorf("archive: %v", err)
	}
	msgs := decode[model.Page[model.Message]](t, f.do("GET", path+"/messages", "", ""))
	if msgs.Size == 0 {
		t.Errorf("no messages")
	}
	wantError(t, f.do("POST", path+"/cancel", "application/json", ""), 409, "", "")
	wantError(t, f.do("GET", base+"/migration/exports/1", "", ""), 404, "", "import")
}
