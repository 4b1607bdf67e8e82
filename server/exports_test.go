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
	"bbimport/importer"
	"bbimport/internal/smalldisk"
	"bbimport/model"
	"bbimport/wire"
)

// exportable is serve on an importer that has imported an archive of one
// project, two repositories and a fork.
func exportable(t *testing.T) (*fixture, *importer.Instance) {
	t.Helper()
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
	return f, in
}

// TestExportThroughREST drives an export as a Bitbucket client does:
// preview ({"scopes":[…]}, our counts under /rest/bbimport/1.0), start,
// poll the job (its fields only), read its messages, and the codes for a
// selector that matches nothing (400 naming it), an import's id (404) and
// a finished job's cancel (409).
func TestExportThroughREST(t *testing.T) {
	f, in := exportable(t)
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

// An export beyond the free disk is Bitbucket's 400 through /rest/api, in
// words a REST caller can act on: no --force (a flag it does not have), no
// path of the server's, and bbimport's own start, which forces it with
// force=true and answers bbimport's job; a force that is neither true
// nor false is a 400 naming it.
func TestExportBeyondTheFreeDisk(t *testing.T) {
	f, in := exportable(t)
	small := smalldisk.Mount(t, filepath.Join(in.ExportDir(), "small"), 4096)
	body := `{"repositoriesRequest":{"includes":[{"projectKey":"*","slug":"*"}]},"exportLocation":"small"}`

	counts := decode[model.ExportPreview](t, f.do("POST", wire.ExtensionPrefix+"/migration/exports/preview", "application/json", body))
	if counts.Fits() || counts.FreeBytes != 4096 {
		t.Fatalf("the preview of an export into %s fits: %+v", small, counts)
	}
	refused := f.do("POST", base+"/migration/exports", "application/json", body)
	wantError(t, refused, 400, "", "the export directory has 4.0 KiB free; free some space on the server, export less, or start it with POST /rest/bbimport/1.0/migration/exports?force=true and the same body.")
	wantError(t, refused, 400, "", "The archive needs about ")
	for _, not := range []string{"--force", in.Home()} {
		if strings.Contains(refused.body, not) {
			t.Errorf("the refusal names %q: %s", not, refused.body)
		}
	}
	if exceptionName(t, refused) != "null" {
		t.Errorf("the refusal's exceptionName: %s", refused.body)
	}
	wantError(t, f.do("POST", wire.ExtensionPrefix+"/migration/exports", "application/json", body), 400, "", "?force=true and the same body.")
	wantError(t, f.do("POST", wire.ExtensionPrefix+"/migration/exports?force=yes", "application/json", body), 400, "force", `"yes" is not true or false`)
	if jobs, err := in.KnownJobs(context.Background()); err != nil || len(jobs) != 1 {
		t.Fatalf("refused exports recorded jobs: %v %v", jobs, err)
	}

	forced := f.do("POST", wire.ExtensionPrefix+"/migration/exports?force=true", "application/json", body)
	if forced.status != 200 {
		t.Fatalf("forced start: %d %s", forced.status, forced.body)
	}
	job := decode[model.Job](t, forced)
	if job.Type != model.JobTypeExport || job.ID != 2 || job.Archive != "small/Bitbucket_export_2.tar" {
		t.Errorf("forced start answered %s", forced.body)
	}
	// It runs into the full disk; the tmpfs unmounts once it has ended.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if job, err := in.Wait(ctx, job.ID); err != nil || !job.State.Finished() {
		t.Fatalf("forced export %+v: %v", job, err)
	}
}
