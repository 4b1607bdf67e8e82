package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"bbimport/model"
)

// verify end to end on the real binary: through `bbimport serve` against
// in-process on the same home, and the remainder round trip after a
// canceled import.

func TestVerifyThroughServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bbimport and runs serve as a child process: not with -short")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	bin := buildBinary(t)
	home, name := homeWithArchive(t, smallArchive)
	importDir := filepath.Join(home, "shared", "data", "migration", "import")
	// The same archive twice: job 2 finds the project's key taken and
	// imports it as KEY1.
	for range 2 {
		if out, errOut, code := runBin(t, bin, "--home", home, "import", name, "--wait"); code != exitOK {
			t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
		}
	}
	t.Setenv("BITBUCKET_PASSWORD", "pw")
	serveURL := startServe(t, bin, home)

	// A real Bitbucket has no /rest/bbimport/: a proxy in front of serve
	// that answers those as Bitbucket answers an unknown REST path.
	var extensionCalls atomic.Int32
	target, _ := url.Parse(serveURL)
	forward := httputil.NewSingleHostReverseProxy(target)
	bitbucket := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/rest/bbimport/") {
			extensionCalls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"context":null,"message":"No resource found for ` + r.URL.Path + `","exceptionName":null}]}`))
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(bitbucket.Close)

	local := func(args ...string) (model.VerifyReport, map[string]any, int) {
		t.Helper()
		return verifyJSON(t, bin, append([]string{"--home", home, "verify"}, args...)...)
	}
	remote := func(base string, args ...string) (model.VerifyReport, map[string]any, int) {
		t.Helper()
		return verifyJSON(t, bin, append([]string{"--url", base, "--user", "admin", "--import-dir", importDir, "verify"}, args...)...)
	}
	// sameBut compares two reports as JSON, all but the field naming the
	// target (its home or its URL).
	sameBut := func(what string, a, b map[string]any) {
		t.Helper()
		if a["target"] == b["target"] {
			t.Errorf("%s: both name the target %v", what, a["target"])
		}
		delete(a, "target")
		delete(b, "target")
		ja, _ := json.MarshalIndent(a, "", " ")
		jb, _ := json.MarshalIndent(b, "", " ")
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: in-process and through serve differ:\n%s\n---\n%s", what, ja, jb)
		}
	}

	r1, raw1, code := local("1", "--json")
	if code != exitOK {
		t.Fatalf("verify 1: exit %d, %+v", code, r1.Differences)
	}
	r2, raw2, code := local("2", "--json")
	if code != exitOK {
		t.Fatalf("verify 2: exit %d, %+v", code, r2.Differences)
	}
	// Job 2's copy is under the renamed key, and serve says so.
	origin := r2.Hierarchies[0].Repositories[0]
	key, slug, _ := strings.Cut(origin.Target, "/")
	archiveKey, _, _ := strings.Cut(origin.Repository, "/")
	if key != archiveKey+"1" || origin.Job != 2 || r1.Hierarchies[0].Repositories[0].Target != origin.Repository {
		t.Fatalf("job 1 put %s at %s, job 2 at %s (job %d); want %s1 for job 2",
			origin.Repository, r1.Hierarchies[0].Repositories[0].Target, origin.Target, origin.Job, archiveKey)
	}
	_, remote1, code := remote(serveURL, "1", "--json")
	if code != exitOK {
		t.Errorf("verify 1 through serve: exit %d", code)
	}
	sameBut("verify 1", raw1, remote1)
	_, remote2, code := remote(serveURL, "2", "--json")
	if code != exitOK {
		t.Errorf("verify 2 through serve: exit %d", code)
	}
	sameBut("verify 2", raw2, remote2)

	// A branch of job 1's copy moved on the target after the import.
	dir := targetRepoDir(t, home, archiveKey, slug)
	branch := gitOut(t, dir, "symbolic-ref", "HEAD")
	gitOut(t, dir, "update-ref", branch, gitOut(t, dir, "rev-parse", branch+"~1"))

	moved, raw1, code := local("1", "--json")
	if code != exitFailed || len(moved.Differences) != 2 || moved.Differences[1].Item != branch || moved.Differences[1].Target != origin.Repository {
		t.Fatalf("verify 1 after a moved branch: exit %d, %+v", code, moved.Differences)
	}
	_, remote1, code = remote(serveURL, "1", "--json")
	if code != exitFailed {
		t.Errorf("verify 1 through serve after a moved branch: exit %d", code)
	}
	sameBut("verify 1 after a moved branch", raw1, remote1)
	// All there but changed: nothing for a remainder to import again.
	out, errOut, code := runBin(t, bin, "--url", serveURL, "--user", "admin", "--import-dir", importDir, "verify", "1", "--remainder", "moved.tar")
	if _, err := os.Stat(filepath.Join(importDir, "moved.tar")); code != exitFailed || !errors.Is(err, fs.ErrNotExist) ||
		!strings.HasPrefix(out, origin.Repository) || !strings.Contains(strings.SplitN(out, "\n", 2)[0], ": its fork hierarchy is all on the target, but changed since the import (below).") ||
		!strings.Contains(out, "\n"+origin.Repository+": "+branch+" is at ") ||
		!strings.HasSuffix(out, "\n\nNo remainder written to "+filepath.Join(importDir, "moved.tar")+
			": nothing of the archive is missing; what changed since the import (listed) is checked on the target, not imported again.\n") {
		t.Errorf("verify 1 --remainder through serve, as text: exit %d (%v)\n%s%s", code, err, out, errOut)
	}
	// Job 2's copy is whole: through serve its placements say where it is.
	if _, remote2, code = remote(serveURL, "2", "--json"); code != exitOK {
		t.Errorf("verify 2 through serve after job 1's branch moved: exit %d", code)
	}
	sameBut("verify 2 after job 1's branch moved", raw2, remote2)

	// Without placements verify infers by the rename rules: KEY and KEY1
	// both hold a copy, and it keeps the one with the fewest differences,
	// job 2's, even for job 1 (docs/verify.md says so).
	// A Bitbucket's job does not name its archive: --archive does.
	inferred, _, code := remote(bitbucket.URL, "1", "--json", "--archive", filepath.Join(importDir, filepath.Base(r1.Archive)))
	if extensionCalls.Load() == 0 {
		t.Error("verify never asked the server for the placements")
	}
	if code != exitOK || inferred.Hierarchies[0].Repositories[0].Target != origin.Target {
		t.Errorf("verify 1 by the rename rules: exit %d, %+v", code, inferred.Hierarchies)
	}
}

// verifyJSON runs `bbimport ARGS` (a verify --json) and returns its report,
// as a struct and as a JSON object, and its exit status.
func verifyJSON(t *testing.T, bin string, args ...string) (model.VerifyReport, map[string]any, int) {
	t.Helper()
	out, errOut, code := runBin(t, bin, args...)
	var r model.VerifyReport
	var raw map[string]any
	if json.Unmarshal([]byte(out), &r) != nil || json.Unmarshal([]byte(out), &raw) != nil {
		t.Fatalf("bbimport %s: exit %d, not a report\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return r, raw, code
}

// TestVerifyRemainderRoundTrip cancels an import after its first fork
// hierarchy, writes the remainder, imports it and verifies both jobs.
func TestVerifyRemainderRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bbimport and runs imports as child processes: not with -short")
	}
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	bin := buildBinary(t)
	run := startHeldImport(t, bin, realGit, false)
	run.signal(syscall.SIGINT)
	run.waitFor(run.stderr, "Canceling job 1 at its next checkpoint")
	run.release()
	run.expectExit(exitCanceled)
	home := run.home
	importDir := filepath.Join(home, "shared", "data", "migration", "import")

	before, _, _ := verifyJSON(t, bin, "--home", home, "verify", "1", "--json")
	partial, missing := before.Hierarchies[0], before.Hierarchies[1]
	key, _, _ := strings.Cut(missing.Origin, "/")

	out, errOut, code := runBin(t, bin, "--home", home, "verify", "1", "--remainder", "rest.tar")
	if code != exitFailed {
		t.Fatalf("verify --remainder: exit %d\n%s%s", code, out, errOut)
	}
	plan := []string{
		"The remainder archive rest.tar holds 2 fork hierarchies (4 repositories, 12 pull requests) of export.tar.",
		"Importing it creates project " + key + " as " + key + "1: " + key + " exists on the target.",
		"Incomplete on the target, so imported again whole beside the partial copy (an import never reuses what a canceled one left): " + partial.Origin + ".",
		"Wrote " + filepath.Join(importDir, "rest.tar") + ": import it with " + bin + " --home " + home + " import rest.tar, then check the jobs together with " + bin + " --home " + home + " verify 1 NEW_JOB.",
	}
	at := 0
	for _, want := range plan {
		i := strings.Index(out[at:], "\n"+want+"\n")
		if i < 0 {
			t.Fatalf("verify --remainder does not say, in order, %q\n%s%s", want, out, errOut)
		}
		at += i + 1
	}
	if !strings.Contains(out, missing.Origin+": its fork hierarchy is missing on the target.\n") || !strings.Contains(out, "\nWhat is missing is in the remainder archive written below: import it.\n") {
		t.Errorf("the differences do not point to the remainder written\n%s", out)
	}
	written, err := os.ReadFile(filepath.Join(importDir, "rest.tar"))
	if err != nil {
		t.Fatalf("the remainder is not in the import directory: %v", err)
	}

	// An existing file is never overwritten, and refused before verify runs.
	out, errOut, code = runBin(t, bin, "--home", home, "verify", "1", "--remainder", "rest.tar")
	if code != exitNotStarted || out != "" || !strings.Contains(errOut, filepath.Join(importDir, "rest.tar")+" exists already") {
		t.Errorf("--remainder to an existing file: exit %d\n%s%s", code, out, errOut)
	}
	if again, err := os.ReadFile(filepath.Join(importDir, "rest.tar")); err != nil || !bytes.Equal(again, written) {
		t.Errorf("the existing remainder was changed (%v)", err)
	}

	if out, errOut, code := runBin(t, bin, "--home", home, "import", "rest.tar", "--wait"); code != exitOK {
		t.Fatalf("import the remainder: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runBin(t, bin, "--home", home, "verify", "1", "2")
	if code != exitOK || !strings.HasSuffix(out, "Everything in the archive is on the target.\n") ||
		!regexp.MustCompile(`(?m)^Fork hierarchies\s+2 expected: 2 present, 0 missing, 0 differing$`).MatchString(out) {
		t.Errorf("verify 1 2 after importing the remainder: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runBin(t, bin, "--home", home, "verify", "1", "2", "--remainder", "more.tar")
	if _, err := os.Stat(filepath.Join(importDir, "more.tar")); code != exitOK || !errors.Is(err, fs.ErrNotExist) ||
		!strings.HasSuffix(out, ".\n\nNo remainder written to "+filepath.Join(importDir, "more.tar")+": nothing of the archive is missing.\n") {
		t.Errorf("--remainder with nothing missing: exit %d (%v)\n%s%s", code, err, out, errOut)
	}
}
