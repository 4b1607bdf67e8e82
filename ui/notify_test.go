package ui

import (
	"strings"
	"testing"

	"bbimport/model"
)

// An import seen ending rings the bell and sends a desktop notification,
// once; one opened already ended does not, nor with --no-notify.
func TestEndOfAnImportNotifies(t *testing.T) {
	h := newHarness(t, 80, 24)
	startRunning(h)
	h.fire()
	if len(h.raw) != 0 {
		t.Fatalf("notified while running: %q", h.raw)
	}
	finish(h, model.StateCompleted)
	h.fire()
	want := "\a\x1b]9;bbimport: Job 12 (Bitbucket_export_422.tar) ended COMPLETED\a\x1b]777;notify;bbimport;Job 12 (Bitbucket_export_422.tar) ended COMPLETED\a"
	if len(h.raw) != 1 || h.raw[0] != want {
		t.Fatalf("wrote %q, want once %q", h.raw, want)
	}

	h = newHarness(t, 80, 24)
	withHistory(h)
	h.press("h", "j", "enter")
	h.fire()
	h.requireScreen("Job 11 · small.tar")
	if len(h.raw) != 0 {
		t.Fatalf("a job opened ended notified: %q", h.raw)
	}

	h = newHarness(t, 80, 24)
	h.m.opts.NoNotify = true
	startRunning(h)
	finish(h, model.StateFailed)
	if len(h.raw) != 0 || !strings.Contains(h.screen(), "FAILED") {
		t.Fatalf("--no-notify wrote %q", h.raw)
	}
}
