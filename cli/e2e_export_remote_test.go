package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/internal/restschema"
	"bbimport/internal/smalldisk"
	"bbimport/model"
	"bbimport/wire"
)

// Exports with --url on the real binary: against serve, whose preview
// tells counts and size, export '*/*' --wait --json ends COMPLETED with
// the archive in serve's export directory; against a server without
// bbimport's namespace (a real Bitbucket) the preview says what it cannot
// know, the export is followed at its own paths, and jobs, status and
// messages show it; the console's Export screen starts one there too.
func TestE2EExportRemote(t *testing.T) {
	bin, home, dir, serve, env := serveWithSmall(t)
	exported := func(id string) string {
		return filepath.Join(home, "shared", "data", "migration", "export", "Bitbucket_export_"+id+".tar")
	}

	out, errOut, code := runEnv(t, bin, env, "export", "--url", serve, "--user", "admin", "*/*", "--wait", "--json")
	var job model.Job
	if code != exitOK || json.Unmarshal([]byte(out), &job) != nil || job.ID != 2 || job.State != model.StateCompleted || job.Type != model.JobTypeExport {
		t.Fatalf("export --url serve: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "Exporting 5 projects, 12 repositories (8 forks) and 96 pull requests: about ") {
		t.Errorf("the start line on stderr:\n%s", errOut)
	}
	if _, err := os.Stat(exported("2")); err != nil {
		t.Errorf("the archive in serve's export directory: %v", err)
	}

	bitbucket := withoutNamespace(t, serve)
	out, errOut, code = runEnv(t, bin, env, "export", "--url", bitbucket, "--user", "admin", "PULS/*", "--preview")
	if code != exitOK || !strings.Contains(out, "Exporting 2 projects, 6 repositories (4 forks): size unknown, free disk unknown\n") ||
		!strings.Contains(out, "does not estimate") || strings.Contains(out, "refused") {
		t.Errorf("export --preview of a Bitbucket: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runEnv(t, bin, env, "export", "--url", bitbucket, "--user", "admin", "PULS/*", "--wait")
	if code != exitOK || !strings.Contains(errOut, "size unknown") || !strings.Contains(out+errOut, "COMPLETED") {
		t.Errorf("export --url of a Bitbucket: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(exported("3")); err != nil {
		t.Errorf("the archive of the export through a Bitbucket: %v", err)
	}
	out, errOut, code = runEnv(t, bin, env, "jobs", "--url", bitbucket, "--user", "admin")
	if code != exitOK || !strings.Contains(out, "Bitbucket_export_3.tar") {
		t.Errorf("jobs --url of a Bitbucket: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runEnv(t, bin, env, "status", "3", "--url", bitbucket, "--user", "admin", "--json")
	if code != exitOK || json.Unmarshal([]byte(out), &job) != nil || job.State != model.StateCompleted || job.Type != model.JobTypeExport {
		t.Errorf("status 3 --url of a Bitbucket: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runEnv(t, bin, env, "messages", "3", "--url", bitbucket, "--user", "admin")
	if code != exitOK || !strings.Contains(out, "INFO") {
		t.Errorf("messages 3 --url of a Bitbucket: exit %d\n%s%s", code, out, errOut)
	}

	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (CI installs it): the console's part drives it in tmux")
	}
	s := startTmux(t, []string{bin, "--url", bitbucket, "--user", "admin", "--import-dir", dir, "--no-notify"}, env)
	s.tmux("resize-window", "-x", "80", "-y", "24")
	s.wait("Preview · small.tar")
	s.keys("e")
	s.wait("Export · pick projects and repositories", "[ ] PULS")
	s.keys("a")
	s.wait("4 selected", "Pull requests unknown", "Size          unknown")
	s.keys("Enter")
	s.wait("Start the export?", "y/enter")
	s.keys("y")
	s.wait("Job 4 · Bitbucket_export_4.tar", "✓ COMPLETED")
	if _, err := os.Stat(exported("4")); err != nil {
		t.Errorf("the archive the console exported: %v", err)
	}
}

// The preview's two shapes with --url, and --force through serve, on the
// real binary: --json is Bitbucket's {"scopes":[…]} from serve and from a
// Bitbucket alike, --bbimport-json serve's counts and estimate; an export
// beyond serve's free disk is refused in the command's words (pass
// --force, no REST call), and --force starts it through serve's own start.
func TestE2EExportRemoteShapesAndForce(t *testing.T) {
	bin, home, _, serve, env := serveWithSmall(t)
	schema := restschema.Load(t, "../testdata/rest/bitbucket-8.19.schema.json")

	for _, target := range []string{serve, withoutNamespace(t, serve)} {
		out, errOut, code := runEnv(t, bin, env, "export", "--url", target, "--user", "admin", "PULS/*", "--preview", "--json")
		var scopes wire.ExportScopes
		if code != exitOK || json.Unmarshal([]byte(out), &scopes) != nil || len(scopes.Scopes) != 6 {
			t.Errorf("export --url %s --preview --json: exit %d, want the 6 repositories\n%s%s", target, code, out, errOut)
		}
		for _, p := range schema.Validate("RestScopesExample", []byte(out)) {
			t.Errorf("export --url %s --preview --json: %s\n%s", target, p, out)
		}
	}
	out, errOut, code := runEnv(t, bin, env, "export", "--url", serve, "--user", "admin", "PULS/*", "--preview", "--bbimport-json")
	var p model.ExportPreview
	if code != exitOK || json.Unmarshal([]byte(out), &p) != nil || p.Repositories != 6 || !p.SizeKnown() {
		t.Errorf("export --url serve --preview --bbimport-json: exit %d\n%s%s", code, out, errOut)
	}

	smalldisk.Mount(t, filepath.Join(home, "shared", "data", "migration", "export", "small"), 4096)
	_, errOut, code = runEnv(t, bin, env, "export", "--url", serve, "--user", "admin", "*/*", "--location", "small")
	if want := "free some space on the server, export less, or pass --force (bbimport export --preview shows the estimate)\n"; code != exitNotStarted ||
		!strings.HasSuffix(errOut, want) || strings.Contains(errOut, "/rest/") {
		t.Errorf("export --url serve beyond its free disk: exit %d, want %d ending %q\n%s", code, exitNotStarted, want, errOut)
	}
	out, errOut, code = runEnv(t, bin, env, "export", "--url", serve, "--user", "admin", "*/*", "--location", "small", "--force", "--wait", "--bbimport-json")
	var job model.Job
	if json.Unmarshal([]byte(out), &job) != nil || code == exitNotStarted || job.ID != 2 || !job.State.Finished() {
		t.Errorf("export --url serve --force: exit %d\n%s%s", code, out, errOut)
	}
}

// serveWithSmall builds the binary, imports small.tar into a fresh home
// (its import directory dir) and serves it: what the --url export tests
// drive, with the environment their commands run in.
func serveWithSmall(t *testing.T) (bin, home, dir, serve string, env []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and imports an archive: not with -short")
	}
	bin = buildBinary(t)
	home, dir = e2eHome(t, bin)
	if out, err := exec.Command(bin, "import", "small.tar", "--home", home).CombinedOutput(); err != nil {
		t.Fatalf("import small.tar: %v\n%s", err, out)
	}
	serve = startServe(t, bin, home)
	env = []string{"BITBUCKET_PASSWORD=pw", "XDG_STATE_HOME=" + t.TempDir(), "NETRC=" + filepath.Join(t.TempDir(), "none")}
	return bin, home, dir, serve, env
}
