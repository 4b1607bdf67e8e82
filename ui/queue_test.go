package ui

import (
	"slices"
	"testing"

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
