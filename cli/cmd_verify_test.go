package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"bbimport/archive/gen"
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
	line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(repo.Repository+": "+branch+" is at ") + `[0-9a-f]{12}, the archive has [0-9a-f]{12}: it moved since the import\.$`)
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
		"\n" + missing + ": its fork hierarchy is missing on the target.\n",
		"\n" + missing + ": missing on the target.\n",
		"\n" + r.Hierarchies[0].Origin + ": PRs 1–3 (3) missing.\n",
		" --home " + run.home + " verify 1 --remainder FILE and import it;",
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

// TestVerifyRefusesAnotherArchive gives verify an archive that is not the
// one the job imported: one of another size is refused at once, one of
// the same size but other bytes once its SHA-256 is known; both exit 2,
// naming the archive given and the job's.
func TestVerifyRefusesAnotherArchive(t *testing.T) {
	home, name := homeWithArchive(t, smallArchive)
	if _, code, err := runCmd(t, "--home", home, "import", name, "--wait"); code != exitOK {
		t.Fatalf("import: exit %d (%v)", code, err)
	}
	data, err := os.ReadFile(filepath.Join(home, "shared", "data", "migration", "import", name))
	if err != nil {
		t.Fatal(err)
	}
	// A byte of git objects changed: a whole archive still, whose
	// metadata reads the same.
	same := filepath.Join(t.TempDir(), "same-size.tar")
	data[gitObjectsOffset(t, data)] ^= 0xff
	if err := os.WriteFile(same, data, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.tar")
	if _, err := gen.GenerateFile(context.Background(), other, gen.Options{Projects: 1, Repos: 1, PRs: 1, Commits: 1, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	for file, differs := range map[string]string{same: "its SHA-256 is ", other: " bytes, that one had "} {
		out, code, err := runCmd(t, "--home", home, "verify", "1", "--archive", file)
		if code != exitNotStarted || err == nil {
			t.Fatalf("verify --archive %s: exit %d (%v)\n%s", file, code, err, out)
		}
		if msg := err.Error(); !strings.Contains(msg, file+" is not the archive job 1 imported ("+name+")") || !strings.Contains(msg, differs) ||
			strings.Contains(msg, "moved since the import") {
			t.Errorf("verify --archive %s says: %s", file, msg)
		}
	}
	// The job's own archive still verifies, its SHA-256 checked on the way.
	if out, code, err := runCmd(t, "--home", home, "verify", "1"); code != exitOK {
		t.Errorf("verify of the job's own archive: exit %d (%v)\n%s", code, err, out)
	}
}

// gitObjectsOffset is the offset of the first byte of the first git
// objects member in the archive data.
func gitObjectsOffset(t *testing.T, data []byte) int {
	t.Helper()
	r := bytes.NewReader(data)
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no git objects member: %v", err)
		}
		if strings.Contains(h.Name, "/objects") && h.Size > 0 {
			return len(data) - r.Len()
		}
	}
}

// TestReplacePartialLandsUnderTheOriginalKeys cancels an import inside its
// first fork hierarchy, then lets verify delete the partial copy and write
// a remainder: importing it puts every project under its original key, and
// the two jobs together hold the whole archive.
func TestReplacePartialLandsUnderTheOriginalKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bbimport and runs an import as a child process: not with -short")
	}
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	run := startHeldImport(t, buildBinary(t), realGit, false)
	run.signal(syscall.SIGINT)
	run.waitFor(run.stderr, "at its next checkpoint")
	run.release()
	run.expectExit(exitCanceled)

	// Not on a terminal and without --yes: nothing is deleted.
	if out, code, _ := runCmd(t, "--home", run.home, "verify", "1", "--remainder", "rest.tar", "--replace-partial"); code != exitNotStarted {
		t.Fatalf("--replace-partial without --yes: exit %d\n%s", code, out)
	}
	out, code, err := runCmd(t, "--home", run.home, "verify", "1", "--remainder", "rest.tar", "--replace-partial", "--yes")
	if code != exitFailed {
		t.Fatalf("verify --replace-partial: exit %d (%v)\n%s", code, err, out)
	}
	for _, want := range []string{"Deleting the partial copies of 1 fork hierarchy", "Deleted repository ", "Deleted project "} {
		if !strings.Contains(out, want) {
			t.Errorf("verify --replace-partial lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "as ") && strings.Contains(out, "exists on the target") {
		t.Errorf("the remainder plan still renames a project:\n%s", out)
	}
	if out, code, err := runCmd(t, "--home", run.home, "import", "rest.tar", "--wait"); code != exitOK {
		t.Fatalf("import of the remainder: exit %d (%v)\n%s", code, err, out)
	}
	out, code, err = runCmd(t, "--home", run.home, "verify", "1", "2", "--json")
	var r model.VerifyReport
	if code != exitOK || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("verify 1 2: exit %d (%v)\n%s", code, err, out)
	}
	for _, h := range r.Hierarchies {
		for _, repo := range h.Repositories {
			key, _, _ := strings.Cut(repo.Repository, "/")
			if got, _, _ := strings.Cut(repo.Target, "/"); got != key {
				t.Errorf("%s is under %s on the target, not its original key", repo.Repository, repo.Target)
			}
		}
	}
}
