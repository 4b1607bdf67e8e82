package ui

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"bbimport/model"
)

// Flows through the real event loop: keys typed, the screen read back as
// the terminal receives it, waiting for what a user would wait for.

func newFlow(t *testing.T, b *fakeBackend, a *fakeArchives) *teatest.TestModel {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := newModel(ctx, Options{Backend: b, Archives: a, Now: func() time.Time { return t0 }, NoColor: true})
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
}

// waitScreen waits until everything wanted has been drawn. What it reads
// is consumed: the next wait sees only later output.
func waitScreen(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

func TestFlowImportToCompletion(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	tm := newFlow(t, b, a)
	waitScreen(t, tm, "acme-bitbucket")
	tm.Type("s")
	waitScreen(t, tm, "Start the import?")
	tm.Type("y")
	waitScreen(t, tm, "INITIALISING")
	b.set(runningJob(), runningMessages...)
	waitScreen(t, tm, "Importing PRJ/api: pull request 12")
	j := runningJob()
	j.State, j.EndDate, j.Progress.Percentage = model.StateCompleted, t0.UnixMilli(), 100
	b.set(j, message(90, model.SeverityInfo, "", "Import finished in 2m0s: 2 project(s), 7 repositories and 340 pull request(s) imported, 0 error(s)"))
	waitScreen(t, tm, "✓ COMPLETED")
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if len(b.started) != 1 {
		t.Fatalf("started %v", b.started)
	}
}

func TestFlowChecksumProgress(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	a.gate = make(chan struct{})
	tm := newFlow(t, b, a)
	waitScreen(t, tm, "acme-bitbucket")
	tm.Type("m")
	waitScreen(t, tm, "computing", "50%")
	close(a.gate)
	waitScreen(t, tm, "9e107d9d372bb6826bd81d3542a419d6")
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestFlowCancel(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	b.known = []model.Job{runningJob()}
	b.set(runningJob(), runningMessages...)
	tm := newFlow(t, b, a)
	waitScreen(t, tm, "A job is still running")
	tm.Type("y")
	waitScreen(t, tm, "RUNNING")
	tm.Type("c")
	waitScreen(t, tm, "Cancel job 12?")
	tm.Type("y")
	waitScreen(t, tm, "CANCELING")
	j := runningJob()
	j.State, j.EndDate = model.StateCanceled, t0.UnixMilli()
	b.set(j, message(90, model.SeverityWarn, "", "Import canceled at the checkpoint before the next pull request"))
	waitScreen(t, tm, "■ CANCELED")
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestFlowRemoteQuitLeavesJobRunning(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	b.identity = model.Identity{Remote: true, Location: "https://bb.example.com", Product: "Bitbucket", Version: "9.4.3", User: "admin"}
	tm := newFlow(t, b, a)
	waitScreen(t, tm, "acme-bitbucket")
	tm.Type("sy")
	waitScreen(t, tm, "INITIALISING")
	tm.Type("qy")
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if want := "Job 12 (Bitbucket_export_422.tar) keeps running on https://bb.example.com"; !bytes.Contains([]byte(fm.farewell), []byte(want)) {
		t.Fatalf("farewell %q lacks %q", fm.farewell, want)
	}
	if len(b.canceled) != 0 {
		t.Fatal("quitting canceled the remote job")
	}
}

func TestFlowHistoryOpensAJob(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	j := finishedJob(11, model.StateCompleted, "small.tar")
	b.set(j, message(10, model.SeverityWarn, "SM/app", "Activity kind SUGGESTION:ADDED is not known; kept as a comment"))
	b.known = []model.Job{j}
	tm := newFlow(t, b, a)
	waitScreen(t, tm, "acme-bitbucket")
	tm.Type("h")
	waitScreen(t, tm, "Jobs (1)", "Imported")
	tm.Send(keyPress("enter"))
	waitScreen(t, tm, "Job 11 · small.tar", "✓ COMPLETED")
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestFlowRunningImportOffersIt(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	j := runningJob()
	j.ID, j.Archive = 11, "small.tar"
	b.set(j)
	b.startErr = &model.RunningImport{JobID: 11, PID: 4242, Command: "bbimport import small.tar", Since: t0.Add(-10 * time.Minute)}
	tm := newFlow(t, b, a)
	waitScreen(t, tm, "acme-bitbucket")
	tm.Type("sy")
	waitScreen(t, tm, "process 4242")
	tm.Type("o")
	waitScreen(t, tm, "Job 11", "RUNNING")
	tm.Type("qy")
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if want := "bbimport status 11 --home /srv/bbimport"; !bytes.Contains([]byte(fm.farewell), []byte(want)) {
		t.Fatalf("farewell %q lacks %q", fm.farewell, want)
	}
}
