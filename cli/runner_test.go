package cli

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"bbimport/model"
)

// Imports in runner processes (the issue "Jobs that outlive the terminal"),
// on the real binary: the runner outlives the command that started it,
// other processes read and cancel its job, and a runner that dies is seen.

func TestRunner(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bbimport and runs imports as child processes: not with -short")
	}
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	bin := buildBinary(t)

	t.Run("outlives the killed import command", func(t *testing.T) {
		t.Parallel()
		run := startHeldImport(t, bin, realGit, false)
		run.signal(syscall.SIGKILL)
		run.expectExit(-1)
		run.release()
		expectJobEnds(t, bin, run.home, model.StateCompleted)
	})

	t.Run("read and canceled from other processes", func(t *testing.T) {
		t.Parallel()
		run := startHeldImport(t, bin, realGit, false)
		job := statusJSON(t, bin, run.home, "1")
		if job.State != model.StateRunning || job.Archive != "export.tar" || job.Counts == nil {
			t.Errorf("status from a second process: %+v", job)
		}
		if out, _, code := runBin(t, bin, "--home", run.home, "jobs"); code != exitOK ||
			!strings.Contains(out, "ARCHIVE") || !strings.Contains(out, "export.tar") {
			t.Errorf("jobs: exit %d\n%s", code, out)
		}
		if out, _, code := runBin(t, bin, "--home", run.home, "messages", "1"); code != exitOK || !strings.Contains(out, "The archive was written by") {
			t.Errorf("messages: exit %d\n%s", code, out)
		}
		if out, errOut, code := runBin(t, bin, "--home", run.home, "cancel", "1"); code != exitOK || !strings.Contains(out, "Job 1 will stop at its next checkpoint") {
			t.Fatalf("cancel: exit %d\n%s%s", code, out, errOut)
		}
		if job := statusJSON(t, bin, run.home, "1"); job.State != model.StateCanceling {
			t.Errorf("status right after cancel: %s", job.State)
		}
		run.release()
		run.expectExit(exitCanceled)
		expectCanceledAfterFirstHierarchy(t, run)
	})

	t.Run("killed runner is seen", func(t *testing.T) {
		t.Parallel()
		run := startHeldImport(t, bin, realGit, false)
		pid := runnerPID(t, run.home)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// The import command follows the job from the database: it sees
		// the end and says it failed.
		run.expectExit(exitFailed)
		deadline := time.Now().Add(10 * time.Second)
		for job := statusJSON(t, bin, run.home, "1"); job.State != model.StateAborted; job = statusJSON(t, bin, run.home, "1") {
			if time.Now().After(deadline) {
				t.Fatalf("job %s 10 s after its runner was killed", job.State)
			}
			time.Sleep(100 * time.Millisecond)
		}
		out, _, _ := runBin(t, bin, "--home", run.home, "messages", "1", "--severity", "ERROR")
		// The killed runner printed nothing: its empty log is not named.
		want := "The runner process " + strconv.Itoa(pid) + " ended without finishing: killed or out of memory. It stopped while the job was "
		if !strings.Contains(out, want) || strings.Contains(out, "job-1.log") || !strings.Contains(out, "bbimport verify 1 --remainder FILE") {
			t.Errorf("no message %q (naming no empty log, pointing to verify --remainder)\n%s", want, out)
		}
		run.release()
	})

	t.Run("two homes at once", func(t *testing.T) {
		t.Parallel()
		a := startHeldImport(t, bin, realGit, false)
		b := startHeldImport(t, bin, realGit, false) // held while a is held
		for _, run := range []*heldImport{a, b} {
			if job := statusJSON(t, bin, run.home, "1"); job.State != model.StateRunning {
				t.Errorf("%s: job 1 %s", run.home, job.State)
			}
		}
		a.release()
		b.release()
		a.expectExit(exitOK)
		b.expectExit(exitOK)
	})

	// A home with only its import directory, no database yet: each
	// process migrates it, one import runs and the others say so.
	t.Run("eight imports on a new home at once", func(t *testing.T) {
		t.Parallel()
		home, name := homeWithArchive(t, smallArchive)
		t.Cleanup(func() { stopRunner(t, home) })
		const imports = 8
		type result struct {
			stderr string
			code   int
		}
		results := make(chan result, imports)
		for range imports {
			go func() {
				var errOut bytes.Buffer
				cmd := exec.Command(bin, "--home", home, "import", name)
				cmd.Stderr = &errOut
				err := cmd.Run()
				code := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					code = -1
				}
				results <- result{errOut.String(), code}
			}()
		}
		ran := 0
		for range imports {
			r := <-results
			switch {
			case r.code == exitOK:
				ran++
			case r.code == exitNotStarted && strings.Contains(r.stderr, "an import is already running: job 1"):
			default:
				t.Errorf("exit %d: %s", r.code, r.stderr)
			}
		}
		if ran != 1 {
			t.Errorf("%d imports ran, want 1", ran)
		}
		expectJobEnds(t, bin, home, model.StateCompleted)
	})

	// What the bench scripts read: a runner is nobody's child to wait for.
	t.Run("logs what it used", func(t *testing.T) {
		t.Parallel()
		home, name := homeWithArchive(t, smallArchive)
		t.Cleanup(func() { stopRunner(t, home) })
		if out, errOut, code := runBin(t, bin, "--home", home, "import", name); code != exitOK {
			t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
		}
		// The import's git ran as the runner's children, and counts.
		expectUsage(t, home, "import", "1", `children_cpu_(user|system)_s=(0\.\d*[1-9]|[1-9])`)
		out, errOut, code := runBin(t, bin, "--home", home, "export", "*/*", "--json")
		var job model.Job
		if code != exitOK || json.Unmarshal([]byte(out), &job) != nil {
			t.Fatalf("export: exit %d\n%s%s", code, out, errOut)
		}
		expectUsage(t, home, "export", strconv.FormatInt(job.ID, 10), "")
	})

	t.Run("serve and the commands share a home", func(t *testing.T) {
		t.Parallel()
		home, name := homeWithArchive(t, smallArchive)
		url := startServe(t, bin, home)
		t.Cleanup(func() { stopRunner(t, home) })
		req, _ := http.NewRequest(http.MethodPost, url+"/rest/api/1.0/migration/imports", strings.NewReader(`{"archivePath":"`+name+`"}`))
		req.SetBasicAuth("admin", "pw")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var started model.Job
		err = json.NewDecoder(resp.Body).Decode(&started)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			t.Fatalf("POST imports: %s (%v)", resp.Status, err)
		}
		// Started through REST, read and waited for through the CLI.
		expectJobEnds(t, bin, home, model.StateCompleted)
		if out, _, code := runBin(t, bin, "--home", home, "status", "1"); code != exitOK || !regexp.MustCompile(`(?m)^Archive\s+`+regexp.QuoteMeta(name)+`$`).MatchString(out) {
			t.Errorf("status: exit %d\n%s", code, out)
		}
	})
}

// runBin runs bbimport to its end.
func runBin(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func statusJSON(t *testing.T, bin, home, id string) model.Job {
	t.Helper()
	out, errOut, code := runBin(t, bin, "--home", home, "status", id, "--bbimport-json")
	var job model.Job
	if code != exitOK || json.Unmarshal([]byte(out), &job) != nil {
		t.Fatalf("status %s --bbimport-json: exit %d\n%s%s", id, code, out, errOut)
	}
	return job
}

// expectJobEnds polls `status 1` until job 1 has finished, in want.
func expectJobEnds(t *testing.T, bin, home string, want model.State) {
	t.Helper()
	deadline := time.Now().Add(signalWait)
	for {
		job := statusJSON(t, bin, home, "1")
		if job.State.Finished() {
			if job.State != want {
				out, _, _ := runBin(t, bin, "--home", home, "messages", "1")
				t.Fatalf("job 1 ended %s, want %s\n%s", job.State, want, out)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job 1 still %s after %s", job.State, signalWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expectUsage waits for the line a runner writes into its job's log as it
// ends, "KIND ID used: cpu_user_s=… max_rss_kib=…", and checks its fields
// and that it matches also.
func expectUsage(t *testing.T, home, kind, id, also string) {
	t.Helper()
	path := filepath.Join(home, "log", "job-"+id+".log")
	line := regexp.MustCompile(`(?m)^` + kind + ` ` + id + ` used: .*$`)
	deadline := time.Now().Add(signalWait)
	var got string
	for {
		b, _ := os.ReadFile(path)
		if got = line.FindString(string(b)); got != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q line in %s after %s:\n%s", kind+" "+id+" used:", path, signalWait, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	fields := regexp.MustCompile(`^\w+ \d+ used: cpu_user_s=\d+\.\d{3} cpu_system_s=\d+\.\d{3} max_rss_kib=[1-9]\d* ` +
		`children_cpu_user_s=\d+\.\d{3} children_cpu_system_s=\d+\.\d{3}$`)
	if !fields.MatchString(got) || !regexp.MustCompile(also).MatchString(got) {
		t.Errorf("%s: %q, want its fields and %q", path, got, also)
	}
}

// runnerPID reads the pid job 1's runner recorded.
func runnerPID(t *testing.T, home string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(home, "shared", "data", "bbimport.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pid sql.NullInt64
	if err := db.QueryRow(`SELECT runner_pid FROM jobs WHERE id = 1`).Scan(&pid); err != nil || !pid.Valid {
		t.Fatalf("no runner pid recorded (%v)", err)
	}
	return int(pid.Int64)
}

// stopRunner ends a runner the test left behind (it is in a session of its
// own, out of reach of the test's process groups) and waits until it has
// let go of the home, so that the home can be removed.
func stopRunner(t *testing.T, home string) {
	t.Helper()
	f, err := os.Open(filepath.Join(home, "import.lock"))
	if err != nil {
		return // never imported
	}
	defer f.Close()
	deadline := time.Now().Add(signalWait)
	for unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(home, "shared", "data", "bbimport.db")+"?mode=ro")
			if err == nil {
				var pid sql.NullInt64
				if db.QueryRow(`SELECT runner_pid FROM jobs WHERE end_date IS NULL`).Scan(&pid) == nil && pid.Valid {
					_ = syscall.Kill(int(pid.Int64), syscall.SIGKILL)
				}
				db.Close()
			}
			deadline = time.Now().Add(signalWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
