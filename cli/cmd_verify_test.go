package cli

import (
	"encoding/csv"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"bbimport/importer"
	"bbimport/model"
)

func TestVerifyCommandOutputsAndExitStatuses(t *testing.T) {
	home, name := homeWithArchive(t, smallArchive)
	if _, code, err := runCmd(t, "--home", home, "import", name, "--wait"); code != exitOK {
		t.Fatalf("import: exit %d (%v)", code, err)
	}

	out, code, err := runCmd(t, "--home", home, "verify", "1")
	if code != exitOK {
		t.Fatalf("verify: exit %d (%v)\n%s", code, err, out)
	}
	for _, want := range []string{
		"Fork hierarchies   2 expected: 2 present, 0 missing, 0 differing",
		"Repositories       4 expected: 4 present, 0 missing, 0 differing",
		"Pull requests      12 expected: 12 present, 0 missing, 0 differing",
		"Everything in the archive is on the target.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify lacks %q:\n%s", want, out)
		}
	}

	out, code, _ = runCmd(t, "--home", home, "verify", "1", "--json")
	var r model.VerifyReport
	if code != exitOK || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("verify --json: exit %d, %q", code, out)
	}
	if r.Archive != name || len(r.Jobs) != 1 || r.Target == "" || r.Differences == nil || len(r.Hierarchies) != 2 || r.Totals.Refs.Expected == 0 {
		t.Errorf("verify --json: %+v", r)
	}

	// A branch moved on the target after the import.
	var repo model.VerifiedRepository
	for _, h := range r.Hierarchies {
		for _, vr := range h.Repositories {
			if vr.Repository == h.Origin {
				repo = vr
			}
		}
	}
	key, slug, _ := strings.Cut(repo.Target, "/")
	dir := targetRepoDir(t, home, key, slug)
	branch := gitOut(t, dir, "symbolic-ref", "HEAD")
	gitOut(t, dir, "update-ref", branch, gitOut(t, dir, "rev-parse", branch+"~1"))

	out, code, _ = runCmd(t, "--home", home, "verify", "1")
	line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(repo.Repository+": "+branch+" is at ") + `[0-9a-f]{12}, the archive has [0-9a-f]{12} — it moved since the import`)
	if code != exitFailed || !line.MatchString(out) || !strings.Contains(out, "1 differing") {
		t.Errorf("verify after a moved branch: exit %d\n%s", code, out)
	}

	out, code, _ = runCmd(t, "--home", home, "verify", "1", "--csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != exitFailed || err != nil || len(rows) != 3 {
		t.Fatalf("verify --csv: exit %d, %v\n%s", code, err, out)
	}
	if strings.Join(rows[0], ",") != "kind,status,hierarchyId,repository,target,item,field,expected,found" ||
		rows[1][0] != model.VerifyHierarchy || rows[2][0] != model.VerifyRef || rows[2][5] != branch || rows[2][6] != "commit" {
		t.Errorf("verify --csv rows %q", rows)
	}

	if _, code, _ := runCmd(t, "--home", home, "verify", "9"); code != exitNotStarted {
		t.Errorf("unknown job: exit %d", code)
	}
	if _, code, _ := runCmd(t, "--home", home, "verify", "1", "--json", "--csv"); code != exitNotStarted {
		t.Errorf("--json --csv: exit %d", code)
	}
}

// TestVerifyAfterACanceledImport cancels an import once its first fork
// hierarchy is in (a signal while its git data is held), then verifies:
// the second hierarchy is listed missing, the first incomplete (the
// cancel came before its pull requests).
func TestVerifyAfterACanceledImport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bbimport and runs an import as a child process: not with -short")
	}
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	run := startHeldImport(t, buildBinary(t), realGit, false)
	run.signal(syscall.SIGINT)
	run.waitFor(run.stderr, "Canceling job 1 at its next checkpoint")
	run.release()
	run.expectExit(exitCanceled)

	out, code, err := runCmd(t, "--home", run.home, "verify", "1", "--json")
	var r model.VerifyReport
	if code != exitFailed || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("verify: exit %d (%v)\n%s", code, err, out)
	}
	if len(r.Hierarchies) != 2 || r.Hierarchies[0].Status != model.VerifyDiffers || r.Hierarchies[1].Status != model.VerifyMissing ||
		r.Totals.Repositories != (model.VerifyCount{Expected: 4, Differing: 2, Missing: 2}) ||
		r.Totals.PullRequests != (model.VerifyCount{Expected: 12, Missing: 12}) {
		t.Fatalf("hierarchies %+v, totals %+v", r.Hierarchies, r.Totals)
	}
	missing := r.Hierarchies[1].Origin

	out, _, _ = runCmd(t, "--home", run.home, "verify", "1")
	for _, want := range []string{
		"\n" + missing + ": its fork hierarchy is missing on the target — import the remainder: bbimport verify 1 --remainder FILE\n",
		"\n" + missing + ": missing on the target — import the remainder: bbimport verify 1 --remainder FILE\n",
		"\n" + r.Hierarchies[0].Origin + ": pull request #1 is missing — import the remainder: bbimport verify 1 --remainder FILE\n",
		"\nFork hierarchies   2 expected: 0 present, 1 missing, 1 differing\n",
	} {
		if !strings.Contains("\n"+out, want) {
			t.Errorf("verify lacks %q:\n%s", want, out)
		}
	}
}

// targetRepoDir is the bare repository of KEY/slug under the home.
func targetRepoDir(t *testing.T, home, key, slug string) string {
	t.Helper()
	in, err := importer.Open(importer.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := in.Repository(t.Context(), key, slug)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(home, "shared", "data", "repositories", strconv.FormatInt(r.ID, 10))
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}
