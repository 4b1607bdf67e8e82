package cli

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bbimport/importer"
	"bbimport/model"
)

// Signals sent to a headless in-process import (issue 3), on the real
// binary: the first one cancels at the next checkpoint, a second one stops
// at once, and either way no half-built repository stays in the home.
//
// Every signal arrives while the import is inside its first repository's
// connectivity check (git rev-list), held there by a git wrapper on the
// child's PATH: that is when a repository is half-built (an INITIALISING
// row, a build directory), and holding it there makes the moment certain
// rather than guessed.

// signalWait bounds each wait for the child; a wait ends as soon as what it
// waits for happens, so this only matters when something is wrong.
const signalWait = 45 * time.Second

// The wrapper holds the first git rev-list until the test creates "release",
// for at most about a minute (longer than signalWait, so a child that exits
// while the hold lasts did not wait for it). Every other git command runs
// as is; REAL_GIT stands for the quoted path of git.
const gitWrapper = `#!/bin/sh
dir=${0%/*}
case " $* " in
*" rev-list "*)
	if mv "$dir/gate" "$dir/held" 2>/dev/null; then
		i=0
		while [ ! -e "$dir/release" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
	fi
	;;
esac
exec REAL_GIT "$@"
`

// The last message of a job stopped by signals, as the importer words it.
const (
	canceledAfterHierarchy = "Import canceled at the checkpoint after the git data of the current fork hierarchy"
	stoppedAtOnce          = "Import stopped at once, not at a checkpoint"
)

func TestSignalDuringImport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bbimport and runs imports as child processes: not with -short")
	}
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	bin := buildBinary(t)

	for _, c := range []struct {
		name string
		sig  syscall.Signal
	}{
		{"SIGINT", syscall.SIGINT},
		{"SIGTERM", syscall.SIGTERM},
	} {
		t.Run("one "+c.name, func(t *testing.T) {
			t.Parallel()
			run := startHeldImport(t, bin, realGit, false)
			run.signal(c.sig)
			run.waitFor(run.stderr, "Canceling job 1 at its next checkpoint; press Ctrl+C again to stop it at once.")
			run.release()
			run.expectExit(exitCanceled)
			expectCanceledAfterFirstHierarchy(t, run)
		})
	}

	// A hang-up (the terminal closed) only detaches: the runner goes on
	// and the job completes.
	t.Run("one SIGHUP", func(t *testing.T) {
		t.Parallel()
		run := startHeldImport(t, bin, realGit, false)
		run.signal(syscall.SIGHUP)
		run.expectExit(exitOK)
		run.waitFor(run.stderr, "Detached: job 1 goes on; follow it with: "+bin+" --home "+run.home+" status 1\n")
		run.release()
		expectJobEnds(t, bin, run.home, model.StateCompleted)
	})

	t.Run("two SIGINT", func(t *testing.T) {
		t.Parallel()
		run := startHeldImport(t, bin, realGit, false)
		run.signal(syscall.SIGINT)
		run.waitFor(run.stderr, "Canceling job 1 at its next checkpoint")
		run.signal(syscall.SIGINT)
		// The rev-list stays held: the child can only end by stopping it.
		run.expectExit(exitCanceled)
		for _, want := range []string{"Stopping job 1 at once: the repository being built is discarded.\n"} {
			if !strings.Contains(run.stderr.String(), want) {
				t.Errorf("stderr lacks %q\n%s", want, run.output())
			}
		}
		left := inspectHome(t, run)
		if !strings.HasPrefix(left.lastMessage, stoppedAtOnce) {
			t.Errorf("last message %q, want it to start with %q", left.lastMessage, stoppedAtOnce)
		}
		if len(left.repositories) != 0 {
			t.Errorf("the only repository begun was being built, yet %d are there: %+v", len(left.repositories), left.repositories)
		}
	})

	// A terminal's Ctrl+C goes to the whole foreground process group, so
	// the git children get it too.
	t.Run("Ctrl+C to the process group", func(t *testing.T) {
		t.Parallel()
		run := startHeldImport(t, bin, realGit, true)
		run.signal(syscall.SIGINT)
		run.waitFor(run.stderr, "Canceling job 1 at its next checkpoint")
		run.release()
		run.expectExit(exitCanceled)
		expectCanceledAfterFirstHierarchy(t, run)
	})
}

// expectCanceledAfterFirstHierarchy checks a cancel that arrived during the
// first repository's git data: the job stops once that fork hierarchy (the
// origin and its fork) is imported and verified, and says so.
func expectCanceledAfterFirstHierarchy(t *testing.T, run *heldImport) {
	t.Helper()
	out := run.stdout.String()
	if !strings.Contains(out, "WARN "+canceledAfterHierarchy) || !regexp.MustCompile(`(?m)^State\s+CANCELED$`).MatchString(out) {
		t.Errorf("stdout does not show the cancel at the checkpoint and the CANCELED job\n%s", run.output())
	}
	left := inspectHome(t, run)
	if !strings.HasPrefix(left.lastMessage, canceledAfterHierarchy) {
		t.Errorf("last message %q, want it to start with %q", left.lastMessage, canceledAfterHierarchy)
	}
	forks := 0
	for _, r := range left.repositories {
		if r.HierarchyID != left.repositories[0].HierarchyID {
			t.Errorf("repository %s/%s of another fork hierarchy was imported after the cancel", r.Project.Key, r.Slug)
		}
		if r.Origin != nil {
			forks++
		}
	}
	if len(left.repositories) != 2 || forks != 1 {
		t.Errorf("want the first hierarchy's origin and fork, got %+v", left.repositories)
	}
}

// heldImport is `bbimport import --wait` running as a child process on a
// fresh home, its output captured (not a terminal).
type heldImport struct {
	t              *testing.T
	home           string
	hold           string // the git wrapper's directory: gate, held, release
	cmd            *exec.Cmd
	group          bool // signals go to the child's process group
	stdout, stderr *syncBuffer
	exited         chan struct{}
	waitErr        error
}

// startHeldImport starts the import of a small generated archive (two fork
// hierarchies of an origin and a fork) and returns once the child watches
// the job (so its signal handlers are in place) and the first repository's
// git rev-list is held, its build directory on disk.
func startHeldImport(t *testing.T, bin, realGit string, ownGroup bool) *heldImport {
	t.Helper()
	return startHeld(t, bin, realGit, ownGroup, "", "import", "export.tar", "--wait")
}

// startHeld is startHeldImport for any command that starts the import of
// export.tar (the plain console with its answers on stdin).
func startHeld(t *testing.T, bin, realGit string, ownGroup bool, stdin string, args ...string) *heldImport {
	t.Helper()
	home, _ := homeWithArchive(t, smallArchive)
	hold := gitHold(t, realGit)
	run := &heldImport{t: t, home: home, hold: hold, group: ownGroup,
		stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	run.cmd = exec.Command(bin, append([]string{"--home", home}, args...)...)
	run.cmd.Stdin = strings.NewReader(stdin)
	run.cmd.Env = append(os.Environ(), "PATH="+hold+string(os.PathListSeparator)+os.Getenv("PATH"))
	run.cmd.Stdout, run.cmd.Stderr = run.stdout, run.stderr
	// Its own process group in every case, so that a signal to the group
	// never reaches the test.
	run.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := run.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		run.waitErr = run.cmd.Wait()
		close(run.exited)
	}()
	t.Cleanup(func() {
		run.release()
		select {
		case <-run.exited:
		default:
			_ = syscall.Kill(-run.cmd.Process.Pid, syscall.SIGKILL)
			<-run.exited
		}
		stopRunner(t, home)
	})

	run.waitFor(run.stdout, "RUNNING")
	run.waitUntil("the first git rev-list to be held", func() bool {
		_, err := os.Stat(filepath.Join(hold, "held"))
		return err == nil
	})
	if builds, _ := os.ReadDir(filepath.Join(home, "shared", "data", "tmp")); len(builds) == 0 {
		t.Fatalf("git rev-list is held but no build directory is there\n%s", run.output())
	}
	return run
}

func (r *heldImport) signal(sig syscall.Signal) {
	r.t.Helper()
	pid := r.cmd.Process.Pid
	if r.group {
		pid = -pid
	}
	if err := syscall.Kill(pid, sig); err != nil {
		r.t.Fatalf("send %v: %v\n%s", sig, err, r.output())
	}
}

// gitHold makes a directory whose git, first on a PATH, holds the first
// git rev-list until a file "release" appears there, and says so with a file
// "held". Runners inherit the PATH of the process that starts them.
func gitHold(t *testing.T, realGit string) string {
	t.Helper()
	hold := t.TempDir()
	script := strings.ReplaceAll(gitWrapper, "REAL_GIT", "'"+strings.ReplaceAll(realGit, "'", `'\''`)+"'")
	if err := os.WriteFile(filepath.Join(hold, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hold, "gate"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return hold
}

// release lets the held git rev-list go on.
func (r *heldImport) release() {
	if err := os.WriteFile(filepath.Join(r.hold, "release"), nil, 0o644); err != nil {
		r.t.Error(err)
	}
}

func (r *heldImport) waitFor(out *syncBuffer, text string) {
	r.t.Helper()
	r.waitUntil(fmt.Sprintf("%q in the output", text), func() bool { return strings.Contains(out.String(), text) })
}

// waitUntil polls cond until it holds; the child exiting first, or the
// deadline, fails the test with what the child printed.
func (r *heldImport) waitUntil(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(signalWait)
	for !cond() {
		select {
		case <-r.exited:
			if cond() {
				return
			}
			r.t.Fatalf("bbimport exited (%v) while the test waited for %s\n%s", r.waitErr, what, r.output())
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no %s after %s\n%s", what, signalWait, r.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *heldImport) expectExit(want int) {
	r.t.Helper()
	select {
	case <-r.exited:
	case <-time.After(signalWait):
		r.t.Fatalf("bbimport still runs %s after the signal\n%s", signalWait, r.output())
	}
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(r.waitErr, &ee):
		code = ee.ExitCode() // -1 when a signal killed it
	case r.waitErr != nil:
		r.t.Fatal(r.waitErr)
	}
	if code != want {
		r.t.Fatalf("bbimport exited with %d (%v), want %d\n%s", code, r.waitErr, want, r.output())
	}
}

func (r *heldImport) output() string {
	return "--- stdout\n" + r.stdout.String() + "--- stderr\n" + r.stderr.String()
}

// homeLeft is what an import stopped by signals left in its home.
type homeLeft struct {
	lastMessage  string
	repositories []model.RestRepository
}

// inspectHome checks what every stop must leave, once the child exited: no
// build directory, no repository row but AVAILABLE ones, each with its
// directory and every directory with its row, each passing git fsck, and
// the single job CANCELED with no ERROR message. The directories and rows
// are read before importer.Open, whose crash recovery would remove a
// half-built repository before anyone saw it.
func inspectHome(t *testing.T, run *heldImport) homeLeft {
	t.Helper()
	data := filepath.Join(run.home, "shared", "data")
	if builds, err := os.ReadDir(filepath.Join(data, "tmp")); err != nil || len(builds) > 0 {
		t.Errorf("build directories left under shared/data/tmp: %v (%v)", dirEntryNames(builds), err)
	}
	dirs, err := os.ReadDir(filepath.Join(data, "repositories"))
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	for _, d := range dirs {
		onDisk[d.Name()] = true
		fsck := exec.Command("git", "--git-dir="+filepath.Join(data, "repositories", d.Name()), "fsck", "--connectivity-only", "--no-dangling")
		fsck.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := fsck.CombinedOutput(); err != nil {
			t.Errorf("git fsck of repository %s: %v\n%s", d.Name(), err, out)
		}
	}
	for repo, state := range repositoryStates(t, filepath.Join(data, "bbimport.db")) {
		if state != "AVAILABLE" {
			t.Errorf("repository %s left %s", repo, state)
		}
	}

	in, err := importer.Open(importer.Options{Home: run.home})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ctx := context.Background()
	jobs, err := in.KnownJobs(ctx)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs %+v (%v), want the one import", jobs, err)
	}
	// A job the child left unfinished would read ABORTED here: Open marks it so.
	if jobs[0].State != model.StateCanceled {
		t.Errorf("job %d is %s, want %s\n%s", jobs[0].ID, jobs[0].State, model.StateCanceled, run.output())
	}
	msgs, err := in.Messages(ctx, jobs[0].ID, model.MessageQuery{Limit: 1000})
	if err != nil || msgs.Size == 0 || !msgs.IsLastPage {
		t.Fatalf("messages %+v (%v)", msgs, err)
	}
	for _, m := range msgs.Values {
		if m.Severity == model.SeverityError {
			t.Errorf("ERROR %s: %s", m.Subject, m.Text)
		}
	}
	left := homeLeft{lastMessage: msgs.Values[msgs.Size-1].Text}

	projects, err := in.Projects(ctx, 0, 1000)
	if err != nil || !projects.IsLastPage {
		t.Fatalf("projects %+v (%v)", projects, err)
	}
	for _, p := range projects.Values {
		repos, err := in.Repositories(ctx, p.Key, 0, 1000)
		if err != nil || !repos.IsLastPage {
			t.Fatalf("repositories of %s %+v (%v)", p.Key, repos, err)
		}
		for _, r := range repos.Values {
			dir := strconv.FormatInt(r.ID, 10)
			if !onDisk[dir] {
				t.Errorf("repository %s/%s (%d) is %s but has no directory", p.Key, r.Slug, r.ID, r.State)
			}
			delete(onDisk, dir)
			left.repositories = append(left.repositories, r)
		}
	}
	for dir := range onDisk {
		t.Errorf("shared/data/repositories/%s belongs to no repository", dir)
	}
	return left
}

// repositoryStates reads every repository's state straight from the
// database, as the child left it.
func repositoryStates(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, slug, state FROM repositories`)
	if err != nil {
		t.Fatalf("read repositories of %s: %v", path, err)
	}
	defer rows.Close()
	states := map[string]string{}
	for rows.Next() {
		var id int64
		var slug, state string
		if err := rows.Scan(&id, &slug, &state); err != nil {
			t.Fatal(err)
		}
		states[fmt.Sprintf("%s (%d)", slug, id)] = state
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return states
}

func dirEntryNames(entries []os.DirEntry) []string {
	var s []string
	for _, e := range entries {
		s = append(s, e.Name())
	}
	return s
}

// syncBuffer is a bytes.Buffer the child's output can be copied into while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
