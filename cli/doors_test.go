package cli

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"bbimport/internal/unfit"
	"bbimport/model"
)

// Every door keeps the same rules (issue 18): import refuses what the
// console and serve refuse, with the same sentence and no job; only the
// commands that write a home make one; a hang-up detaches everywhere; hints
// name the binary and the home as given.
func TestDoors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bbimport and runs it as a child process: not with -short")
	}
	bin := buildBinary(t)

	t.Run("import refuses unfit archives before a job", func(t *testing.T) {
		t.Parallel()
		home, name := homeWithArchive(t, smallArchive)
		dir := filepath.Join(home, "shared", "data", "migration", "import")
		good, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		cases := unfit.Write(t, dir, good)
		growing, stop := unfit.Growing(t, dir, good)
		for _, c := range append(cases, growing) {
			out, errOut, code := runBin(t, bin, "--home", home, "import", c.Name, "--wait")
			if code != exitNotStarted || !strings.HasPrefix(errOut, "bbimport: "+c.Name+" ") || !strings.Contains(errOut, c.Says) {
				t.Errorf("import %s: exit %d, stderr %q, stdout %q; want 2 and %q", c.Name, code, errOut, out, c.Says)
			}
		}
		stop()
		if n := jobRows(t, home); n != 0 {
			t.Errorf("%d job rows recorded", n)
		}
	})

	t.Run("a missing home is refused, not made", func(t *testing.T) {
		t.Parallel()
		home := filepath.Join(t.TempDir(), "typo", "home")
		for _, args := range [][]string{{"jobs"}, {"status", "6"}, {"messages", "6"}, {"verify", "6"}, {"cancel", "6"}} {
			_, errOut, code := runBin(t, bin, append([]string{"--home", home}, args...)...)
			if want := "bbimport: instance home " + home + " does not exist"; code != exitNotStarted || !strings.HasPrefix(errOut, want) {
				t.Errorf("%v: exit %d, stderr %q; want 2 and %q", args, code, errOut, want)
			}
		}
		if _, err := os.Stat(filepath.Dir(home)); !os.IsNotExist(err) {
			t.Errorf("the home's parent was made (%v)", err)
		}
	})

	t.Run("an empty directory reads as an empty home", func(t *testing.T) {
		t.Parallel()
		home := t.TempDir()
		out, errOut, code := runBin(t, bin, "--home", home, "jobs", "--json")
		if code != exitOK || !strings.Contains(out, `"size": 0,`) || !strings.Contains(out, `"values": []`) {
			t.Errorf("jobs --json: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		_, errOut, code = runBin(t, bin, "--home", home, "status", "6")
		if want := "bbimport: job 6: no such job in instance home " + home + "; " + bin + " --home " + home + " jobs lists the jobs there\n"; code != exitNotStarted || errOut != want {
			t.Errorf("status 6: exit %d, stderr\n  %q\nwant\n  %q", code, errOut, want)
		}
		if entries, _ := os.ReadDir(home); len(entries) != 0 {
			t.Errorf("written to the home: %v", dirEntryNames(entries))
		}
	})

	t.Run("hints carry the binary and the home as given", func(t *testing.T) {
		t.Parallel()
		home, name := homeWithArchive(t, smallArchive)
		t.Cleanup(func() { stopRunner(t, home) })
		cmd := exec.Command("./bbimport", "--home", home, "import", name, "--detach")
		cmd.Dir = filepath.Dir(bin)
		out, err := cmd.Output()
		if want := "Started job 1; follow it with: ./bbimport --home " + home + " status 1\n"; err != nil || string(out) != want {
			t.Errorf("import --detach: %v, stdout %q; want %q", err, out, want)
		}
		expectJobEnds(t, bin, home, model.StateCompleted)
	})

	t.Run("SIGHUP to the plain console leaves the job running", func(t *testing.T) {
		t.Parallel()
		realGit, err := exec.LookPath("git")
		if err != nil {
			t.Skip("git is not installed")
		}
		run := startHeld(t, bin, realGit, false, "1\n\ny\n", "--plain")
		if !strings.Contains(run.stdout.String(), "Ctrl+C cancels at the next checkpoint; close the terminal to leave it running\n") {
			t.Errorf("the console does not say what Ctrl+C and a closed terminal do:\n%s", run.output())
		}
		run.signal(syscall.SIGHUP)
		run.expectExit(exitOK)
		run.waitFor(run.stdout, "Detached: job 1 goes on; follow it with: "+bin+" status 1 --home "+run.home)
		run.release()
		expectJobEnds(t, bin, run.home, model.StateCompleted)
	})
}

// jobRows counts the job rows of a home's database.
func jobRows(t *testing.T, home string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(home, "shared", "data", "bbimport.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM jobs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
