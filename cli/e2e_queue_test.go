package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"bbimport/model"
)

// The home's queue outlives the console: two archives queued in the
// console (the real binary in tmux), the terminal gone while the first is
// held in its git data, and both jobs still end COMPLETED, the second
// started by the first's runner.
func TestE2EQueueOutlivesConsole(t *testing.T) {
	bin := consoleBinary(t)
	realGit := gitOrSkip(t)
	home := t.TempDir()
	dir := filepath.Join(home, "shared", "data", "migration", "import")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, name := range []string{"small.tar", "collide.tar"} {
		copyFile(t, filepath.Join("..", "testdata", "samples", name), filepath.Join(dir, name))
		if err := os.Chtimes(filepath.Join(dir, name), now, now.Add(-time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { stopRunner(t, home) })
	hold := gitHold(t, realGit)
	t.Cleanup(func() { _ = os.WriteFile(filepath.Join(hold, "release"), nil, 0o644) })
	s := startTmux(t, []string{bin, "--home", home, "--no-notify"},
		[]string{"PATH=" + hold + string(os.PathListSeparator) + os.Getenv("PATH"), "XDG_STATE_HOME=" + t.TempDir()})
	s.tmux("resize-window", "-x", "80", "-y", "24")

	s.wait("Preview · small.tar")
	s.keys("Space", "j", "Space", "Enter")
	s.wait("Import 2 archives one after another?", "kept in the instance home")
	s.keys("y")
	s.wait("Job 1 · small.tar", "queue: next collide.tar")
	waitForFile(t, filepath.Join(hold, "held"))

	// The terminal closes: the console gets its hangup while job 1 is held.
	s.tmux("kill-server")
	release(t, hold)
	for id, name := range map[int]string{1: "small.tar", 2: "collide.tar"} {
		if job := waitForJob(t, bin, home, id); job.State != model.StateCompleted || job.Archive != name {
			out, _, _ := runBin(t, bin, "--home", home, "messages", strconv.Itoa(id))
			t.Errorf("job %d: %s of %q, want COMPLETED of %s\n%s", id, job.State, job.Archive, name, out)
		}
	}
	out, _, _ := runBin(t, bin, "--home", home, "jobs", "--json")
	var page model.Page[model.Job]
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Values) != 2 {
		t.Errorf("jobs --json: %d jobs (%v), want 2: a queue's archive is no job until it starts\n%s", len(page.Values), err, out)
	}
}

// waitForJob polls `status ID --bbimport-json` until the job exists and has ended.
func waitForJob(t *testing.T, bin, home string, id int) model.Job {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	for {
		out, _, code := runBin(t, bin, "--home", home, "status", strconv.Itoa(id), "--bbimport-json")
		var job model.Job
		if code == exitOK && json.Unmarshal([]byte(out), &job) == nil && job.State.Finished() {
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d has not ended after %s (last: exit %d, %s)", id, e2eWait, code, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
