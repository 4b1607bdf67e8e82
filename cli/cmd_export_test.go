package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"bbimport/internal/smalldisk"
	"bbimport/model"
	"bbimport/server/servertest"
	"bbimport/wire"
)

// TestExportRoundTripVerifies: gen → import → export → inspect shows the
// same counts → import into a fresh home → verify against the original
// archive exits 0.
func TestExportRoundTripVerifies(t *testing.T) {
	home, name := homeWithArchive(t, smallArchive)
	original := filepath.Join(home, "shared", "data", "migration", "import", name)
	if _, code, err := runCmd(t, "--home", home, "import", name); code != exitOK {
		t.Fatalf("import: exit %d (%v)", code, err)
	}

	out, code, err := runCmd(t, "--home", home, "export", "--preview", "--bbimport-json", "*/*")
	var preview model.ExportPreview
	if code != exitOK || json.Unmarshal([]byte(out), &preview) != nil || preview.Repositories == 0 || preview.FreeBytes == 0 {
		t.Fatalf("export --preview --bbimport-json: exit %d (%v), %q", code, err, out)
	}
	out, code, err = runCmd(t, "--home", home, "export", "--preview", "--json", "*/*")
	var scopes wire.ExportScopes
	if code != exitOK || json.Unmarshal([]byte(out), &scopes) != nil || len(scopes.Scopes) != preview.Repositories {
		t.Fatalf("export --preview --json: exit %d (%v), %q; want the %d repositories", code, err, out, preview.Repositories)
	}
	if _, code, err := runCmd(t, "--home", home, "export", "NOPE/x"); code != exitNotStarted || !strings.Contains(err.Error(), "NOPE/x") {
		t.Errorf("export NOPE/x: exit %d (%v), want %d naming the selector", code, err, exitNotStarted)
	}

	out, code, err = runCmd(t, "--home", home, "export", "*/*", "--bbimport-json")
	var job model.Job
	if code != exitOK || json.Unmarshal([]byte(out), &job) != nil {
		t.Fatalf("export --bbimport-json: exit %d (%v), %q", code, err, out)
	}
	if job.Type != model.JobTypeExport || job.State != model.StateCompleted || job.Archive != "Bitbucket_export_2.tar" {
		t.Errorf("export job %+v", job)
	}
	exported := filepath.Join(home, "shared", "data", "migration", "export", job.Archive)

	counts := func(path string) string {
		out, code, err := runCmd(t, "inspect", path, "--json")
		if code != exitOK {
			t.Fatalf("inspect %s: exit %d (%v)", path, code, err)
		}
		var s model.ArchiveSummary
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		return strings.Join([]string{strconv.Itoa(len(s.Projects)), strconv.Itoa(len(s.Hierarchies)), strconv.Itoa(s.Repositories), strconv.Itoa(s.Forks),
			strconv.Itoa(s.PullRequests.Total), strconv.Itoa(s.PullRequests.Open), strconv.Itoa(s.PullRequests.Merged), strconv.Itoa(s.PullRequests.Declined)}, " ")
	}
	if a, b := counts(original), counts(exported); a != b {
		t.Errorf("inspect of the export: %s, of the original: %s", b, a)
	}

	fresh := t.TempDir()
	dir := filepath.Join(fresh, "shared", "data", "migration", "import")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(exported, filepath.Join(dir, job.Archive)); err != nil {
		t.Fatal(err)
	}
	if _, code, err := runCmd(t, "--home", fresh, "import", job.Archive); code != exitOK {
		t.Fatalf("import of the export: exit %d (%v)", code, err)
	}
	if out, code, err := runCmd(t, "--home", fresh, "verify", "1", "--archive", original, "--another-archive"); code != exitOK {
		t.Errorf("verify against the original: exit %d (%v)\n%s", code, err, out)
	}
	out, _, _ = runCmd(t, "--home", home, "jobs")
	if !strings.Contains(out, "Bitbucket_export_2.tar") || !strings.Contains(out, "Export completed") {
		t.Errorf("jobs:\n%s", out)
	}

	// Beyond the free disk: refused in the command's words, unless --force.
	small := smalldisk.Mount(t, filepath.Join(home, "shared", "data", "migration", "export", "small"), 4096)
	_, code, err = runCmd(t, "--home", home, "export", "*/*", "--location", "small")
	if code != exitNotStarted || err == nil || !errors.Is(err, model.ErrNotEnoughDisk) ||
		!strings.Contains(err.Error(), "start the export: the archive needs about ") ||
		!strings.HasSuffix(err.Error(), small+" has 4.0 KiB free; free some space, export less, or pass --force (bbimport export --preview shows the estimate)") {
		t.Errorf("export beyond the free disk: exit %d, %v", code, err)
	}
	out, code, err = runCmd(t, "--home", home, "export", "*/*", "--location", "small", "--force", "--bbimport-json")
	if json.Unmarshal([]byte(out), &job) != nil || code == exitNotStarted || job.Archive != "small/Bitbucket_export_3.tar" || !job.State.Finished() {
		t.Errorf("export --force beyond the free disk: exit %d (%v), %q", code, err, out)
	}
}

// previewFake is the fake with an export side: every preview is p, every
// start is refused with refusal.
type previewFake struct {
	*servertest.Fake
	p       model.ExportPreview
	refusal error
}

func (x *previewFake) Exportable(context.Context) ([]model.ExportableProject, error) { return nil, nil }

func (x *previewFake) PreviewExport(context.Context, model.ExportRequest) (model.ExportPreview, error) {
	return x.p, nil
}

func (x *previewFake) StartExport(context.Context, model.ExportRequest) (model.Job, error) {
	return model.Job{}, x.refusal
}

var twoRepositories = model.ExportPreview{Projects: []model.ExportPreviewProject{{Key: "PRJ", Name: "Project", Repositories: []string{"api", "api-fork"}}},
	Hierarchies: 1, Repositories: 2, Forks: 1, PullRequests: 7, EstimatedBytes: 3 << 20, FreeBytes: 1 << 20, Directory: "/srv/x"}

// The command words a refusal for the disk itself, from its figures: what
// to do is to pass --force, whether the refusal came from the home or,
// without figures, from bbimport serve (whose own words name a REST call).
func TestExportRefusedForTheDiskSaysForce(t *testing.T) {
	for _, tc := range []struct {
		refusal error
		want    string
	}{
		{&model.NotEnoughDiskError{Need: 3 << 20, Free: 1 << 20, Directory: "/srv/x"},
			"bbimport: start the export: the archive needs about 3.0 MiB and /srv/x has 1.0 MiB free; free some space, export less, or pass --force (bbimport export --preview shows the estimate)\n"},
		{fmt.Errorf("start the export of */*: The archive needs about 3.0 MiB; start it with POST /rest/bbimport/1.0/migration/exports?force=true (HTTP 400 Bad Request): %w",
			&model.NotEnoughDiskError{Need: model.Unknown, Free: model.Unknown}),
			"bbimport: start the export: the archive's estimated size exceeds what the export directory has free; free some space on the server, export less, or pass --force (bbimport export --preview shows the estimate)\n"},
	} {
		h := newFakeHome(t)
		h.backend = &previewFake{Fake: h.fake, p: twoRepositories, refusal: tc.refusal}
		_, stderr, code := h.run("export", "*/*")
		if code != exitNotStarted || !strings.HasSuffix(stderr, tc.want) || strings.Contains(stderr, "/rest/") {
			t.Errorf("exit %d, stderr\n%s\nwant it to end\n%s", code, stderr, tc.want)
		}
	}
}

// A preview that tells no pull requests, size or free disk (a Bitbucket's)
// says so, and is not refused; one that tells them is printed as before.
func TestPreviewSaysUnknown(t *testing.T) {
	for _, tc := range []struct {
		p         model.ExportPreview
		want, not string
	}{
		{model.ExportPreview{Projects: twoRepositories.Projects, Repositories: 2, Forks: 1, PullRequests: model.Unknown, EstimatedBytes: model.Unknown, FreeBytes: model.Unknown},
			"Exporting 1 project, 2 repositories (1 fork): size unknown, free disk unknown\nThe server does not estimate an export", "refused"},
		{twoRepositories,
			"Exporting 1 project, 2 repositories (1 fork) and 7 pull requests: about 3.0 MiB, 1.0 MiB free in /srv/x\nThe estimate exceeds the free disk", "unknown"},
	} {
		var out strings.Builder
		printPreview(&out, tc.p)
		if !strings.Contains(out.String(), tc.want) || strings.Contains(out.String(), tc.not) {
			t.Errorf("preview printed\n%s\nwant %q, not %q", out.String(), tc.want, tc.not)
		}
	}
}
