package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"bbimport/model"
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

	out, code, err := runCmd(t, "--home", home, "export", "--preview", "--json", "*/*")
	var preview model.ExportPreview
	if code != exitOK || json.Unmarshal([]byte(out), &preview) != nil || preview.Repositories == 0 || preview.FreeBytes == 0 {
		t.Fatalf("export --preview --json: exit %d (%v), %q", code, err, out)
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
}

// A preview that tells no pull requests, size or free disk (a Bitbucket's)
// says so, and is not refused; one that tells them is printed as before.
func TestPreviewSaysUnknown(t *testing.T) {
	projects := []model.ExportPreviewProject{{Key: "PRJ", Name: "Project", Repositories: []string{"api", "api-fork"}}}
	for _, tc := range []struct {
		p         model.ExportPreview
		want, not string
	}{
		{model.ExportPreview{Projects: projects, Repositories: 2, Forks: 1, PullRequests: model.Unknown, EstimatedBytes: model.Unknown, FreeBytes: model.Unknown},
			"Exporting 1 project, 2 repositories (1 fork): size unknown, free disk unknown\nThe server does not estimate an export", "refused"},
		{model.ExportPreview{Projects: projects, Repositories: 2, Forks: 1, PullRequests: 7, EstimatedBytes: 3 << 20, FreeBytes: 1 << 20, Directory: "/srv/x"},
			"Exporting 1 project, 2 repositories (1 fork) and 7 pull requests: about 3.0 MiB, 1.0 MiB free in /srv/x\nThe estimate exceeds the free disk", "unknown"},
	} {
		var out strings.Builder
		printPreview(&out, tc.p)
		if !strings.Contains(out.String(), tc.want) || strings.Contains(out.String(), tc.not) {
			t.Errorf("preview printed\n%s\nwant %q, not %q", out.String(), tc.want, tc.not)
		}
	}
}
