package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"bbimport/archive/gen"
	"bbimport/model"
)

// queueSmall is a small second archive for a queue.
var queueSmall = gen.Options{Seed: 4, Projects: 1, Repos: 1, PRs: 1, Commits: 1}

// waitJob waits for job id of the home to end, as a process that did not
// start it does: by reading the database.
func waitJob(t *testing.T, in *Instance, id int64) model.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for {
		job, err := in.Job(ctx, id)
		if err == nil && job.State.Finished() {
			return job
		}
		if ctx.Err() != nil {
			t.Fatalf("job %d did not end: %v (last %s)", id, err, job.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func queueOf(t *testing.T, in *Instance) []model.QueuedArchive {
	t.Helper()
	q, err := in.Queue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// Two archives queued: the first starts at once, and its end starts the
// second, with nothing else asking.
func TestQueueStartsTheNextWhenAnImportEnds(t *testing.T) {
	in := openHome(t)
	a := place(t, in, generated(t, "default", gen.DefaultOptions()))
	b := place(t, in, generated(t, "queue-small", queueSmall))
	first, err := in.Enqueue(context.Background(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != 1 || first.Archive != a {
		t.Fatalf("Enqueue started job %d (%q), want job 1 of %s", first.ID, first.Archive, a)
	}
	if q := queueOf(t, in); len(q) != 1 || q[0].Archive != b || q[0].Dropped != "" {
		t.Fatalf("queue while job 1 runs: %+v, want %s waiting", q, b)
	}
	if job := waitJob(t, in, 1); job.State != model.StateCompleted {
		t.Fatalf("job 1 %s", job.State)
	}
	second := waitJob(t, in, 2)
	if second.State != model.StateCompleted || second.Archive != b {
		t.Fatalf("job 2: %s of %q, want COMPLETED of %s", second.State, second.Archive, b)
	}
	if q := queueOf(t, in); len(q) != 0 {
		t.Errorf("queue after both: %+v, want empty", q)
	}
}

// An archive that fails the start's rules when its turn comes is dropped,
// with the refusal, and never becomes a job; the one after it starts.
func TestQueueDropsAnArchiveMadeUnfit(t *testing.T) {
	in := openHome(t)
	a := place(t, in, generated(t, "default", gen.DefaultOptions()))
	b := place(t, in, generated(t, "queue-small", queueSmall))
	c := "c.tar"
	if err := os.Link(generated(t, "queue-small", queueSmall), filepath.Join(in.ImportDir(), c)); err != nil {
		t.Fatal(err)
	}
	// Job 1 waits in its first checkpoint until b is truncated.
	hold, once := make(chan struct{}), sync.Once{}
	in.beforeCheckpoint = func(string) { once.Do(func() { <-hold }) }
	if _, err := in.Enqueue(context.Background(), a, b, c); err != nil {
		t.Fatal(err)
	}
	// A copy of b, cut short, takes its name: the start's rules refuse it.
	full, err := os.ReadFile(filepath.Join(in.ImportDir(), b))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(in.ImportDir(), b))
	if err := os.WriteFile(filepath.Join(in.ImportDir(), b), full[:len(full)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	close(hold)
	if job := waitJob(t, in, 1); job.State != model.StateCompleted {
		t.Fatalf("job 1 %s", job.State)
	}
	if job := waitJob(t, in, 2); job.Archive != c || job.State != model.StateCompleted {
		t.Fatalf("job 2: %s of %q, want COMPLETED of %s (b dropped)", job.State, job.Archive, c)
	}
	q := queueOf(t, in)
	if len(q) != 1 || q[0].Archive != b || q[0].DroppedDate == 0 || !strings.Contains(q[0].Dropped, b) {
		t.Fatalf("queue: %+v, want %s dropped with the reason", q, b)
	}
	t.Logf("dropped: %s", q[0].Dropped)
	if jobs, _ := in.KnownJobs(context.Background()); len(jobs) != 2 {
		t.Errorf("%d jobs, want 2: a dropped archive is no job", len(jobs))
	}
	// The admin takes it off.
	if err := in.Dequeue(context.Background(), q[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := in.Dequeue(context.Background(), q[0].ID); !errors.Is(err, model.ErrNotQueued) {
		t.Errorf("Dequeue of a gone entry = %v, want ErrNotQueued", err)
	}
	if q := queueOf(t, in); len(q) != 0 {
		t.Errorf("queue after Dequeue: %+v", q)
	}
}

// Enqueue applies the start's rules to every archive first: one that fails
// them queues none.
func TestEnqueueRefusesUnfitArchives(t *testing.T) {
	in := openHome(t)
	a := place(t, in, generated(t, "default", gen.DefaultOptions()))
	if err := os.WriteFile(filepath.Join(in.ImportDir(), "junk.tar"), []byte("not a tar"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{{a, "junk.tar"}, {a, "missing.tar"}, {a, a}, {"../outside.tar"}} {
		if _, err := in.Enqueue(context.Background(), paths...); !errors.Is(err, model.ErrBadArchivePath) {
			t.Errorf("Enqueue(%v) = %v, want ErrBadArchivePath", paths, err)
		}
	}
	if q := queueOf(t, in); len(q) != 0 {
		t.Errorf("queue after refusals: %+v", q)
	}
	if jobs, _ := in.KnownJobs(context.Background()); len(jobs) != 0 {
		t.Errorf("%d jobs after refusals", len(jobs))
	}
}

// runnerHomeEnv makes the test binary a runner (see TestMain), as the
// hidden command of bbimport is.
const runnerHomeEnv = "BBIMPORT_TEST_RUNNER_HOME"

func runAsRunner(home string) int {
	id, err := strconv.ParseInt(os.Args[len(os.Args)-1], 10, 64)
	if err != nil {
		return 2
	}
	if err := RunJob(context.Background(), Options{Home: home, Runner: testRunner()}, id); err != nil {
		return 1
	}
	return 0
}

func testRunner() []string { return []string{os.Args[0], "-test.run=^$"} }

// The queue goes on in runner processes with no process of the test's
// open: the first runner starts the second as its last act.
func TestQueueGoesOnInRunners(t *testing.T) {
	home := t.TempDir()
	t.Setenv(runnerHomeEnv, home)
	in, err := Open(Options{Home: home, Runner: testRunner()})
	if err != nil {
		t.Fatal(err)
	}
	a := place(t, in, generated(t, "default", gen.DefaultOptions()))
	b := place(t, in, generated(t, "queue-small", queueSmall))
	if _, err := in.Enqueue(context.Background(), a, b); err != nil {
		t.Fatal(err)
	}
	in.Close() // no console, no importer of the test's: only the runners

	reader, err := Open(Options{Home: home, Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	for id, name := range map[int64]string{1: a, 2: b} {
		if job := waitJob(t, reader, id); job.State != model.StateCompleted || job.Archive != name {
			t.Errorf("job %d: %s of %q, want COMPLETED of %s", id, job.State, job.Archive, name)
		}
	}
	// Each job had a runner of its own, and both are gone.
	var pids []int64
	rows, err := reader.db.Query(`SELECT runner_pid FROM jobs ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pid int64
		rows.Scan(&pid)
		pids = append(pids, pid)
	}
	rows.Close()
	if len(pids) != 2 || pids[0] == pids[1] || pids[0] == int64(os.Getpid()) {
		t.Errorf("runner pids %v: want two runners, neither this process", pids)
	}
	for _, pid := range pids {
		for deadline := time.Now().Add(time.Minute); alive(int(pid)); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("runner %d still runs", pid)
			}
		}
	}
}

// alive reports whether process pid runs (a zombie has ended).
func alive(pid int) bool {
	if unix.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(after, "Z")
}
