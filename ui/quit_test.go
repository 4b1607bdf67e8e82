package ui

import (
	"errors"
	"strings"
	"testing"

	"bbimport/model"
)

// q asks about a job that still runs even when it is not the one on
// screen: the picker is shown, or the job view shows another job.
func TestQuitAsksAboutAJobRunningElsewhere(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reach func(h *harness)
		job   string // the running job, as the question names it
		id    string
	}{
		{"picker after declining to reattach", runningElsewhere, "Job 11 (small.tar)", "11"},
		{"job view showing another job", func(h *harness) {
			withHistory(h) // 12 runs, 11 has ended
			h.press("h", "j", "enter")
			h.fire()
			h.requireScreen("Job 11 · small.tar", "COMPLETED WITH ERRORS")
		}, "Job 12 (Bitbucket_export_422.tar)", "12"},
		{"a job started after the console", func(h *harness) {
			h.init()
			h.b.set(runningElsewhereJob())
			h.b.known = []model.Job{runningElsewhereJob()}
		}, "Job 13 (other.tar)", "13"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 80, 24)
			tc.reach(h)
			h.press("q")
			wantQuit(false)(t, h)
			h.requireScreen("Quit the console?", tc.job+" is RUNNING at 42%.", "bbimport status "+tc.id+" --home /srv/bbimport")
			requireFrame(t, h.m.render(), 80, 24)

			h.press("y")
			wantQuit(true)(t, h)
			if want := tc.job + " keeps running in the background on home /srv/bbimport."; !strings.HasPrefix(h.m.farewell, want) {
				t.Fatalf("farewell %q, want it to start %q", h.m.farewell, want)
			}
		})
	}
}

// runningElsewhereJob is job 13, importing other.tar, which this console
// neither started nor watches.
func runningElsewhereJob() model.Job {
	j := runningJob()
	j.ID, j.Archive = 13, "other.tar"
	return j
}

// Cancel-and-quit cancels the job the question named, not the one watched.
func TestQuitCancelsTheJobRunningElsewhere(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.init()
	h.b.set(runningElsewhereJob())
	h.b.known = []model.Job{runningElsewhereJob()}
	h.press("q", "c")
	wantQuit(true)(t, h)
	if len(h.b.canceled) != 1 || h.b.canceled[0] != 13 {
		t.Fatalf("canceled %v, want job 13", h.b.canceled)
	}
	if want := "Job 13 (other.tar) stops at its next checkpoint"; !strings.HasPrefix(h.m.farewell, want) {
		t.Fatalf("farewell %q, want it to start %q", h.m.farewell, want)
	}
}

// When the backend cannot list its jobs, q still asks about the running
// job of the last list rather than leaving it unnamed, and quits when that
// list has none.
func TestQuitWithTheBackendNotListing(t *testing.T) {
	h := newHarness(t, 80, 24)
	runningElsewhere(h) // job 11 running, from the start-up list
	h.b.known = nil
	h.b.knownErr = errors.New("connection refused")
	h.press("q")
	h.requireScreen("Quit the console?", "Job 11 (small.tar) is RUNNING")

	h = newHarness(t, 80, 24)
	h.init()
	h.b.knownErr = errors.New("connection refused")
	h.press("q")
	wantQuit(true)(t, h)
	if h.m.farewell != "" {
		t.Fatalf("farewell %q for no running job", h.m.farewell)
	}
}

// ctrl+c asks nothing, but the note after exit names the job that goes on
// even when it was not watched.
func TestForceQuitNamesAJobRunningElsewhere(t *testing.T) {
	h := newHarness(t, 80, 24)
	runningElsewhere(h)
	h.press("ctrl+c")
	wantQuit(true)(t, h)
	if want := "To follow it:\n  bbimport status 11 --home /srv/bbimport"; !strings.Contains(h.m.farewell, want) {
		t.Fatalf("farewell %q lacks %q", h.m.farewell, want)
	}
}

// The hints name bbimport as the admin ran it, with the backend's flags.
func TestHintsNameTheBinaryAsRun(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.m.opts.Self = "./bbimport"
	startRunning(h)
	h.press("q")
	h.requireScreen("./bbimport status 12 --home /srv/bbimport")
	h.press("enter")
	if want := "To come back (it offers to reattach):\n  ./bbimport --home /srv/bbimport\nTo follow it:\n  ./bbimport status 12 --home /srv/bbimport"; !strings.HasSuffix(h.m.farewell, want) {
		t.Fatalf("farewell %q, want it to end %q", h.m.farewell, want)
	}
}
