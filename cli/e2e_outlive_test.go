package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bbimport/model"
)

// The console in a terminal that goes away, as an admin's SSH session does:
// the real binary in tmux, its import held in its first connectivity check
// (git rev-list) so that every step happens while the job runs.
func TestE2EConsoleOutlivesTerminal(t *testing.T) {
	bin := consoleBinary(t)
	realGit := gitOrSkip(t)

	// startHeld opens the console on a fresh home, starts the import from
	// it and returns once the runner's first git rev-list is held.
	startHeld := func(t *testing.T) (s *tmuxSession, home, hold string) {
		home, name := homeWithArchive(t, smallArchive)
		t.Cleanup(func() { stopRunner(t, home) })
		hold = gitHold(t, realGit)
		t.Cleanup(func() { _ = os.WriteFile(filepath.Join(hold, "release"), nil, 0o644) })
		s = startTmux(t, []string{bin, "--home", home}, []string{"PATH=" + hold + string(os.PathListSeparator) + os.Getenv("PATH")})
		s.wait("Preview · " + name)
		s.keys("Enter")
		s.wait("Start the import?")
		s.keys("y")
		s.wait("Job 1 · "+name, "RUNNING")
		waitForFile(t, filepath.Join(hold, "held"))
		return s, home, hold
	}

	t.Run("the terminal closes during the import", func(t *testing.T) {
		t.Parallel()
		s, home, hold := startHeld(t)
		// The tmux server going away is the terminal closing: the console
		// gets its hangup while the runner holds the import.
		s.tmux("kill-server")
		release(t, hold)
		expectJobEnds(t, bin, home, model.StateCompleted)
	})

	t.Run("the runner is killed while the console watches", func(t *testing.T) {
		t.Parallel()
		s, home, hold := startHeld(t)
		if err := syscall.Kill(runnerPID(t, home), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		s.wait("ABORTED", "ended without finishing")
		release(t, hold)
		s.keys("q")
		s.wait("[exit ")
	})

	t.Run("serve and a console share a home", func(t *testing.T) {
		t.Parallel()
		s, home, hold := startHeld(t)
		url := startServe(t, bin, home)
		if job := restJob(t, url, 1); job.State != model.StateRunning || job.Archive != "export.tar" {
			t.Errorf("serve on the console's home: job 1 %s %q, want RUNNING export.tar", job.State, job.Archive)
		}
		// serve refuses a second import while the console's one runs.
		req, _ := http.NewRequest(http.MethodPost, url+"/rest/api/1.0/migration/imports", strings.NewReader(`{"archivePath":"export.tar"}`))
		req.SetBasicAuth("admin", "pw")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("a second import through serve: %s, want 503", resp.Status)
		}
		release(t, hold)
		s.wait("✓ COMPLETED")
		if job := restJob(t, url, 1); job.State != model.StateCompleted {
			t.Errorf("serve after the import: job 1 %s", job.State)
		}
	})
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func release(t *testing.T, hold string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(hold, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func restJob(t *testing.T, url string, id int) model.Job {
	t.Helper()
	// bbimport's namespace: the job with its archive name.
	req, _ := http.NewRequest(http.MethodGet, url+"/rest/bbimport/1.0/imports/"+strconv.Itoa(id), nil)
	req.SetBasicAuth("admin", "pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var job model.Job
	if err := json.NewDecoder(resp.Body).Decode(&job); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET job %d: %s (%v)", id, resp.Status, err)
	}
	return job
}
