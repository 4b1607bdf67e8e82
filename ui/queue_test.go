package ui

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"bbimport/model"
)

// Archives marked with space are imported one after another, each its own
// job: the console starts the next when the job it watches ends.
func TestQueueRunsOneAfterAnother(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.init()
	h.press("G", "space", "g", "space") // small.tar first, then Bitbucket_export_422.tar
	h.requireScreen("Archives (3) · 2 queued", "▸2 Bitbucket_export_422.tar", " 1 small.tar")
	h.press("enter")
	h.requireScreen("Import 2 archives one after another?", "1. small.tar", "2. Bitbucket_export_422.tar",
		"The queue lives while this console runs")
	h.press("y")
	if want := []string{"small.tar"}; !slices.Equal(h.b.started, want) {
		t.Fatalf("started %v, want %v", h.b.started, want)
	}
	j := runningJob()
	j.Archive = "small.tar"
	h.b.set(j)
	h.fire()
	h.requireScreen("Job 12 · small.tar", "queue: next Bitbucket_export_422.tar — started when this job ends")

	h.press("q")
	h.requireScreen("The queue's 1 other archive will not start")
	h.press("n")

	j.State, j.EndDate = model.StateCompleted, t0.UnixMilli()
	h.b.set(j)
	h.fire()
	if want := []string{"small.tar", "Bitbucket_export_422.tar"}; !slices.Equal(h.b.started, want) {
		t.Fatalf("started %v, want %v", h.b.started, want)
	}
	h.requireScreen("Job 13 · Bitbucket_export_422.tar")
	h.requireNotScreen("queue: next")
	h.press("b")
	h.requireScreen("Archives (3)")
	h.requireNotScreen("queued")
}

// What cannot be imported is not queued; esc empties a queue not started.
func TestQueueRefusesAndEmpties(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.init()
	h.press("j", "space")
	h.requireScreen("copy-in-progress.tar is still being copied; queue it once the copy is done.")
	h.requireNotScreen("queued")
	h.press("k", "space", "space")
	h.requireScreen("Bitbucket_export_422.tar is out of the queue (0 archives).")
	h.press("space", "esc")
	h.requireScreen("The queue is empty again.")
	h.requireNotScreen("queued")
	h.press("enter")
	h.requireScreen("Start the import?") // a single start, as before
}

// A refused start stops the queue; what is left waits for enter.
func TestQueueStopsWhenAStartIsRefused(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.init()
	h.press("space", "G", "space", "enter", "y")
	h.b.set(runningJob(), runningMessages...)
	h.fire()
	h.b.startErr = &model.RunningImport{JobID: 40}
	finish(h, model.StateCompleted)
	h.requireScreen("Another import is running")
	h.press("esc", "b")
	h.requireScreen("Archives (3) · 1 queued", "1 small.tar")
	h.requireNotScreen("queued, running")
}

// fakeQueue is the home's queue over the fake backend, as the importer
// keeps it: Enqueue starts the first archive when no job runs, and next
// is what the importer's runner does when a job ends.
type fakeQueue struct {
	b       *fakeBackend
	entries []model.QueuedArchive
	lastID  int64
	refuse  error // Enqueue fails with it
}

// withHomeQueue gives the console the home's queue; the backend then
// lists every job it holds, as the importer does.
func withHomeQueue(h *harness) *fakeQueue {
	q := &fakeQueue{b: h.b}
	h.m.opts.Queuer = q
	h.b.known = nil
	return q
}

func (q *fakeQueue) Enqueue(ctx context.Context, paths ...string) (model.Job, error) {
	if q.refuse != nil {
		return model.Job{}, q.refuse
	}
	for _, p := range paths {
		q.lastID++
		q.entries = append(q.entries, model.QueuedArchive{ID: q.lastID, Archive: p, QueuedDate: t0.UnixMilli()})
	}
	jobs, _ := q.b.Fake.KnownJobs(ctx)
	for _, j := range jobs {
		if !j.State.Finished() {
			return model.Job{}, nil
		}
	}
	return q.next(ctx), nil
}

// next starts the first waiting archive, as a runner does at its job's end.
func (q *fakeQueue) next(ctx context.Context) model.Job {
	for i, e := range q.entries {
		if e.Dropped == "" {
			q.entries = slices.Delete(q.entries, i, i+1)
			j, _ := q.b.Start(ctx, e.Archive)
			return j
		}
	}
	return model.Job{}
}

func (q *fakeQueue) Queue(context.Context) ([]model.QueuedArchive, error) {
	out := slices.Clone(q.entries)
	slices.SortStableFunc(out, func(a, b model.QueuedArchive) int {
		return cmp.Compare(min(len(a.Dropped), 1), min(len(b.Dropped), 1))
	})
	return out, nil
}

func (q *fakeQueue) Dequeue(_ context.Context, id int64) error {
	for i, e := range q.entries {
		if e.ID == id {
			q.entries = slices.Delete(q.entries, i, i+1)
			return nil
		}
	}
	return model.ErrNotQueued
}

// withDropped is a home queue with one archive waiting and one dropped
// when its turn came.
func withDropped(h *harness) *fakeQueue {
	q := withHomeQueue(h)
	q.entries = []model.QueuedArchive{
		{ID: 3, Archive: "small.tar", QueuedDate: t0.Add(-10 * time.Minute).UnixMilli()},
		{ID: 2, Archive: "Bitbucket_export_421.tar", QueuedDate: t0.Add(-20 * time.Minute).UnixMilli(), DroppedDate: t0.Add(-5 * time.Minute).UnixMilli(),
			Dropped: "Bitbucket_export_421.tar cannot be imported: read archive Bitbucket_export_421.tar: archive is truncated: the data ends in the middle of an entry; copy it again from the source (the whole .tar, and compare checksums), then start it again"},
	}
	q.lastID = 3
	return q
}

// In-process, the marks go to the home's queue: the first starts at once,
// and when it ends the importer starts the next, which the console opens.
func TestHomeQueueGoesOnInTheImporter(t *testing.T) {
	h := newHarness(t, 80, 24)
	q := withHomeQueue(h)
	h.init()
	h.press("G", "space", "g", "space", "enter")
	h.requireScreen("Import 2 archives one after another?", "kept in the instance home", "with or without this console")
	h.press("y")
	if want := []string{"small.tar"}; !slices.Equal(h.b.started, want) {
		t.Fatalf("started %v, want %v", h.b.started, want)
	}
	if len(q.entries) != 1 || q.entries[0].Archive != "Bitbucket_export_422.tar" {
		t.Fatalf("home queue %+v, want Bitbucket_export_422.tar waiting", q.entries)
	}
	j := runningJob()
	j.Archive = "small.tar"
	h.b.set(j)
	h.fire()
	h.requireScreen("Job 12 · small.tar", "queue: next Bitbucket_export_422.tar — started by the importer when this job")

	h.press("q")
	h.requireScreen("the importer starts the queue's 1 waiting archive")
	h.requireNotScreen("will not start")
	h.press("n")

	// The job ends; the runner has not started the next yet: the console
	// waits for it, and starts nothing itself.
	j.State, j.EndDate = model.StateCompleted, t0.UnixMilli()
	h.b.set(j)
	h.fire()
	h.fire()
	if len(h.b.started) != 1 {
		t.Fatalf("the console started %v itself", h.b.started)
	}
	h.requireScreen("Job 12 · small.tar", "COMPLETED")
	q.next(context.Background())
	h.fire()
	h.requireScreen("Job 13 · Bitbucket_export_422.tar")
	h.requireNotScreen("queue: next")
	h.press("b")
	h.requireNotScreen("queued", "waiting")
}

// Queued while an import runs, the archives wait for it in the home.
func TestHomeQueueWaitsForTheRunningImport(t *testing.T) {
	h := newHarness(t, 80, 24)
	q := withHomeQueue(h)
	h.b.set(runningJob())
	h.init()
	h.press("n") // not watching the running job
	h.press("space", "enter", "y")
	h.requireScreen("queued in the home: the first starts when the running import ends")
	h.requireScreen("1 waiting in the queue")
	if len(h.b.started) != 0 || len(q.entries) != 1 {
		t.Fatalf("started %v, queue %+v: want nothing started, one waiting", h.b.started, q.entries)
	}
	// An archive waiting is not marked again.
	h.press("space")
	h.requireScreen("Bitbucket_export_422.tar is number 1 in the home's queue already")
}

// A refusal of the home's queue (an archive unfit now) is a dialog, and
// the marks stay.
func TestHomeQueueRefusalSaysWhy(t *testing.T) {
	h := newHarness(t, 80, 24)
	q := withHomeQueue(h)
	q.refuse = model.RefuseArchive("small.tar is already number 1 in the queue")
	h.init()
	h.press("G", "space", "enter", "y")
	h.requireScreen("The queue did not start", "small.tar is already number 1 in the queue")
	h.press("esc")
	h.requireScreen("1 queued")
}

// u shows the home's queue, a dropped archive with why; x takes an entry off.
func TestHomeQueueView(t *testing.T) {
	h := newHarness(t, 80, 24)
	q := withDropped(h)
	h.b.set(runningJob())
	h.init()
	h.press("n", "u") // not watching the running job
	h.requireScreen("Queue (1 waiting, 1 dropped)", "1   Nov 25 16:50 small.tar", "✗   Nov 25 16:40 Bitbucket_export_421.tar",
		"next: starts when the running import ends")
	h.press("j")
	h.requireScreen("dropped 2026-11-25 16:55:00", "archive is truncated")
	h.press("x")
	h.requireScreen("Bitbucket_export_421.tar is off the queue.", "Queue (1 waiting)")
	if len(q.entries) != 1 || q.entries[0].Archive != "small.tar" {
		t.Fatalf("queue %+v after x, want small.tar only", q.entries)
	}
	h.press("x")
	h.requireScreen("The queue is empty.")
	h.press("esc")
	h.requireScreen("Archives (3)")
}

// With a remote backend, u says the queue is the console's.
func TestQueueViewRemote(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.init()
	h.press("u")
	h.requireScreen("the queue lives in this console")
}

// Archives waiting with no import running (its runner was killed) wait
// for nothing: the queue view says so, and s starts the queue.
func TestHomeQueueStalledStarts(t *testing.T) {
	h := newHarness(t, 80, 24)
	q := withDropped(h)
	h.init()
	h.press("u")
	h.requireScreen("no import runs whose end would start it", "s start the queue now")
	h.press("s")
	if want := []string{"small.tar"}; !slices.Equal(h.b.started, want) {
		t.Fatalf("started %v, want %v", h.b.started, want)
	}
	h.requireScreen("Job 12 · small.tar")
	if len(q.entries) != 1 || q.entries[0].Dropped == "" {
		t.Errorf("queue %+v: want only the dropped entry left", q.entries)
	}
}

// A job ends and the importer starts no next one (its runner was killed):
// the console stops looking, says so, and the queue view offers s.
func TestHomeQueueNextNeverStarts(t *testing.T) {
	h := newHarness(t, 80, 24)
	withHomeQueue(h)
	h.init()
	h.press("G", "space", "g", "space", "enter", "y")
	j := runningJob()
	j.Archive = "small.tar"
	h.b.set(j)
	h.fire()
	j.State, j.EndDate = model.StateCompleted, t0.UnixMilli()
	h.b.set(j)
	for range followLooks + 2 {
		h.fire()
	}
	h.requireScreen("The queue's next archive has not started")
	if len(h.timers) > 2 {
		t.Errorf("%d timers still pending: the console keeps looking", len(h.timers))
	}
	h.press("b", "u")
	h.requireScreen("s start the queue now")
}
