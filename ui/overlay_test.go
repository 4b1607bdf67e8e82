package ui

import (
	"testing"

	"bbimport/model"
)

// Overlays stack over the screen in one order: the one on top is drawn
// last and takes the keys; closing it shows the one under it again.
func TestOverlayOrder(t *testing.T) {
	const (
		helpBox    = "Keys (? or esc closes)"
		quitBox    = "Quit the console?"
		cancelBox  = "Cancel job 12?"
		reattached = "A job is still running"
	)
	type step struct {
		keys    []string
		see     []string
		notSee  []string
		quit    bool
		cancels int
	}
	for _, tc := range []struct {
		name  string
		reach func(h *harness)
		steps []step
	}{
		{"help over the job", startRunning, []step{
			{keys: []string{"?"}, see: []string{helpBox, "cancel import"}, notSee: []string{"● RUNNING"}},
			{keys: []string{"c"}, see: []string{helpBox}, notSee: []string{cancelBox}}, // the help takes the keys
			{keys: []string{"esc"}, see: []string{"● RUNNING"}, notSee: []string{helpBox}},
		}},
		{"quit dialog over the help", startRunning, []step{
			{keys: []string{"?", "q"}, see: []string{quitBox, "n/esc stay"}, notSee: []string{helpBox}},
			{keys: []string{"esc"}, see: []string{helpBox}, notSee: []string{quitBox}},
			{keys: []string{"esc"}, see: []string{"● RUNNING"}, notSee: []string{helpBox, quitBox}},
		}},
		{"quit from the help quits", startRunning, []step{
			{keys: []string{"?", "q", "y"}, quit: true},
		}},
		{"help over a dialog", startRunning, []step{
			{keys: []string{"c", "?"}, see: []string{helpBox, "cancel the import"}, notSee: []string{cancelBox}},
			{keys: []string{"y"}, see: []string{helpBox}}, // not the dialog's answer: the help is on top
			{keys: []string{"?"}, see: []string{cancelBox}, notSee: []string{helpBox}},
			{keys: []string{"y"}, see: []string{"● RUNNING"}, notSee: []string{cancelBox}, cancels: 1},
		}},
		{"quit dialog over the help over a dialog", startRunning, []step{
			{keys: []string{"c", "?", "q"}, see: []string{quitBox}, notSee: []string{helpBox, cancelBox}},
			{keys: []string{"n"}, see: []string{helpBox}},
			{keys: []string{"esc"}, see: []string{cancelBox}},
			{keys: []string{"esc"}, see: []string{"● RUNNING"}, cancels: 0},
		}},
		{"a dialog that arrives over the help", func(h *harness) {
			h.b.set(runningJob(), runningMessages...)
			h.init()
			h.press("n", "?") // no reattach; the help
			h.send(knownJobsMsg{jobs: []model.Job{runningJob()}, why: listStartup})
		}, []step{
			{see: []string{reattached}, notSee: []string{helpBox}},
			{keys: []string{"y"}, see: []string{helpBox}, notSee: []string{reattached}},
			{keys: []string{"esc"}, see: []string{"● RUNNING"}},
		}},
		{"help over the picker's prompt is text", func(h *harness) { h.init() }, []step{
			{keys: []string{"/", "?"}, see: []string{"/ ?"}, notSee: []string{helpBox}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 80, 24)
			tc.reach(h)
			for i, s := range tc.steps {
				h.press(s.keys...)
				requireFrame(t, h.m.render(), 80, 24)
				if h.quit != s.quit {
					t.Fatalf("step %d %v: quit %v, want %v", i, s.keys, h.quit, s.quit)
				}
				h.requireScreen(s.see...)
				h.requireNotScreen(s.notSee...)
				if len(h.b.canceled) != s.cancels {
					t.Fatalf("step %d %v: %d cancels sent, want %d", i, s.keys, len(h.b.canceled), s.cancels)
				}
			}
		})
	}
}
