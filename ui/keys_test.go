package ui

import (
	"image/color"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"bbimport/model"
)

// selectedArchive is the name on the highlighted row.
func (h *harness) selectedArchive() string {
	for _, l := range strings.Split(h.screen(), "\n") {
		if i := strings.Index(l, "▸ "); i >= 0 && strings.Contains(l, ".tar") {
			return strings.Fields(l[i+len("▸ "):])[0]
		}
	}
	return ""
}

func TestKeys(t *testing.T) {
	remote := model.Identity{Remote: true, Location: "https://bb.example.com", Product: "Bitbucket", Version: "9.4.3", User: "admin"}
	tests := []struct {
		name  string
		setup func(h *harness)
		keys  []string
		check func(t *testing.T, h *harness)
	}{
		// Moving in the picker.
		{"j moves down", nil, []string{"j"}, wantSelected("copy-in-progress.tar")},
		{"down moves down", nil, []string{"down"}, wantSelected("copy-in-progress.tar")},
		{"k moves up", nil, []string{"j", "j", "k"}, wantSelected("copy-in-progress.tar")},
		{"up moves up", nil, []string{"j", "up"}, wantSelected("Bitbucket_export_422.tar")},
		{"G goes to the last", nil, []string{"G"}, wantSelected("small.tar")},
		{"end goes to the last", nil, []string{"end"}, wantSelected("small.tar")},
		{"g goes to the first", nil, []string{"G", "g"}, wantSelected("Bitbucket_export_422.tar")},
		{"home goes to the first", nil, []string{"G", "home"}, wantSelected("Bitbucket_export_422.tar")},
		{"pgdown goes a page down", nil, []string{"pgdown"}, wantSelected("small.tar")},
		{"pgup goes a page up", nil, []string{"pgdown", "pgup"}, wantSelected("Bitbucket_export_422.tar")},
		{"k at the top stays", nil, []string{"k"}, wantSelected("Bitbucket_export_422.tar")},
		{"moving inspects the new archive", nil, []string{"G"}, wantScreen("Source        small (Bitbucket 9.4.1)")},

		// Filter.
		{"/ opens the filter and typing filters", nil, []string{"/", "s", "m"}, func(t *testing.T, h *harness) {
			h.requireScreen("Archives (1 of 3)", "/ sm", "small.tar")
			h.requireNotScreen("Bitbucket_export_422.tar  ")
		}},
		{"q inside the filter is text", nil, []string{"/", "q"}, func(t *testing.T, h *harness) {
			if h.quit {
				t.Fatal("q in the filter quit")
			}
			h.requireScreen("/ q", "no archive name contains \"q\"")
		}},
		{"enter keeps the filter and leaves the prompt", nil, []string{"/", "s", "m", "enter", "j"}, func(t *testing.T, h *harness) {
			h.requireScreen("Archives (1 of 3)")
			if h.m.picker.filtering {
				t.Fatal("still in the prompt")
			}
		}},
		{"esc in the filter clears it", nil, []string{"/", "s", "m", "esc"}, wantScreen("Archives (3)", "Bitbucket_export_422.tar")},
		{"esc after the filter clears it", nil, []string{"/", "s", "m", "enter", "esc"}, wantScreen("Archives (3)")},

		// Checksum and comparison.
		{"m computes both checksums", nil, []string{"m"}, wantScreen("MD5           9e107d9d372bb6826bd81d3542a419d6", "SHA-256       d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")},
		{"m on a copy in progress refuses", nil, []string{"j", "m"}, wantScreen("is still being copied")},
		{"p compares with the source", nil, []string{"m", "p", "D", "7", "A", "8", "enter"}, wantScreen("✗ differs from the source's d7a8")},
		{"p then esc leaves no comparison", nil, []string{"m", "p", "1", "esc"}, wantScreen("not compared with the source")},
		{"p accepts a pasted checksum", func(h *harness) {
			h.init()
			h.press("m", "p")
			h.send(tea.PasteMsg{Content: " d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592\n"})
		},
			[]string{"enter"}, wantScreen("✓ SHA-256 matches the source")},

		// Panes and scrolling the preview.
		{"tab focuses the preview", nil, []string{"tab"}, wantScreen("▸Preview")},
		{"tab twice focuses the list", nil, []string{"tab", "tab"}, wantScreen("▸Archives")},
		{"j in the preview scrolls it", func(h *harness) { h.init(); h.press("m") }, []string{"tab", "G"}, func(t *testing.T, h *harness) {
			h.requireScreen("120 GiB free")
			h.requireNotScreen("700 MiB · modified")
		}},
		{"esc leaves the preview", nil, []string{"tab", "esc"}, wantScreen("▸Archives")},

		// Starting.
		{"enter asks before starting", nil, []string{"enter"}, wantScreen("Start the import?", "y/enter  start the import")},
		{"s asks before starting", nil, []string{"s"}, wantScreen("Start the import?")},
		{"n answers no", nil, []string{"enter", "n"}, func(t *testing.T, h *harness) {
			h.requireScreen("Archives (3)")
			if len(h.b.started) != 0 {
				t.Fatal("started anyway")
			}
		}},
		{"esc answers no", nil, []string{"enter", "esc"}, wantScreen("Archives (3)")},
		{"y starts", nil, []string{"enter", "y"}, func(t *testing.T, h *harness) {
			if len(h.b.started) != 1 || h.b.started[0] != "Bitbucket_export_422.tar" {
				t.Fatalf("started %v", h.b.started)
			}
			h.requireScreen("Job 12 · Bitbucket_export_422.tar", "● INITIALISING")
		}},
		{"enter in the dialog starts", nil, []string{"enter", "enter"}, wantScreen("Job 12")},
		{"the confirmation redoes the pre-flight checks", func(h *harness) { h.init(); h.b.existing["OPS"] = true }, []string{"enter"},
			wantScreen("project OPS exists: it will be imported as OPS1")},
		{"a copy in progress cannot start", nil, []string{"j", "enter"}, wantScreen("This archive cannot be imported", "still being written")},
		{"a refused start says why", func(h *harness) { h.init(); h.b.startErr = model.ErrImportRunning }, []string{"enter", "y"},
			wantScreen("The import did not start", "Bitbucket_export_422.tar: an import is already running")},

		// The job view.
		{"c asks before canceling", startRunning, []string{"c"}, wantScreen("Cancel job 12?", "before the next repository")},
		{"c then n keeps importing", startRunning, []string{"c", "n"}, func(t *testing.T, h *harness) {
			if len(h.b.canceled) != 0 {
				t.Fatal("canceled anyway")
			}
			h.requireScreen("● RUNNING")
		}},
		{"c then y cancels", startRunning, []string{"c", "y"}, func(t *testing.T, h *harness) {
			if len(h.b.canceled) != 1 {
				t.Fatalf("canceled %v", h.b.canceled)
			}
			h.fire()
			h.requireScreen("◐ CANCELING", "waiting for the next checkpoint")
		}},
		{"c on a finished job says so", func(h *harness) { startRunning(h); finish(h, model.StateCompleted) }, []string{"c"}, wantScreen("has already ended COMPLETED")},
		{"esc goes back to the picker, the job goes on", startRunning, []string{"esc"}, wantScreen("Archives (3)", "Job 12 goes on; press w", "w watch running job")},
		{"w returns to the job", startRunning, []string{"esc", "w"}, wantScreen("● RUNNING")},
		{"w with no job running says so", nil, []string{"w"}, wantScreen("Archives (3)", "No import is running; h lists the jobs")},
		{"w after the job ended says so", func(h *harness) { startRunning(h); finish(h, model.StateCompleted) }, []string{"b", "w"},
			wantScreen("Archives (3)", "No import is running")},
		{"after b, j moves in the list", func(h *harness) {
			h.init()
			h.press("tab", "enter", "y") // started with the preview focused
			h.b.set(runningJob(), runningMessages...)
			h.fire()
			finish(h, model.StateCompleted)
		}, []string{"b", "j"}, func(t *testing.T, h *harness) {
			wantSelected("copy-in-progress.tar")(t, h)
			h.requireScreen("▸Archives")
		}},
		{"b goes back to the picker", func(h *harness) { startRunning(h); finish(h, model.StateCompleted) }, []string{"b"}, wantScreen("Archives (3)")},
		{"a second start while one runs is refused", startRunning, []string{"esc", "enter"}, wantScreen("Job 12 is still running; one import at a time")},
		{"tab focuses the progress pane", startRunning, []string{"tab"}, wantScreen("▸Job 12")},
		{"keys reach the log: 1 hides INFO", startRunning, []string{"1"}, wantScreen("3/6 shown")},
		{"tab then 1 does not reach the log", startRunning, []string{"tab", "1"}, wantScreen("6/6 shown")},
		{"esc closes the log's prompt first", startRunning, []string{"/", "esc"}, wantScreen("● RUNNING")},
		{"q in the log's prompt is text", startRunning, []string{"/", "q"}, func(t *testing.T, h *harness) {
			if h.m.dialogOpen() || h.quit {
				t.Fatal("q left the prompt")
			}
		}},

		// Quitting.
		{"q quits with no job", nil, []string{"q"}, wantQuit(true)},
		{"ctrl+c quits", nil, []string{"ctrl+c"}, wantQuit(true)},
		{"ctrl+c quits from a prompt", nil, []string{"/", "ctrl+c"}, wantQuit(true)},
		{"ctrl+c quits from a dialog", nil, []string{"enter", "ctrl+c"}, wantQuit(true)},
		{"q with an in-process job asks", startRunning, []string{"q"}, func(t *testing.T, h *harness) {
			wantQuit(false)(t, h)
			h.requireScreen("Quit the console?", "y/enter  quit, job runs on", "c  cancel job, quit", "bbimport status 12 --home /srv/bbimport")
		}},
		{"q then enter leaves an in-process job running", startRunning, []string{"q", "enter"}, func(t *testing.T, h *harness) {
			wantQuit(true)(t, h)
			if len(h.b.canceled) != 0 {
				t.Fatal("quitting canceled the job")
			}
			want := "Job 12 (Bitbucket_export_422.tar) keeps running in the background on home /srv/bbimport.\n" +
				"To come back (it offers to reattach):\n  bbimport --home /srv/bbimport\nTo follow it:\n  bbimport status 12 --home /srv/bbimport"
			if h.m.farewell != want {
				t.Fatalf("farewell %q, want %q", h.m.farewell, want)
			}
		}},
		{"q while canceling offers no second cancel", func(h *harness) { startRunning(h); h.press("c", "y"); h.fire() }, []string{"q"}, func(t *testing.T, h *harness) {
			h.requireScreen("It is canceling and stops at its next checkpoint")
			h.requireNotScreen("cancel job, quit")
		}},
		{"q then esc keeps waiting", startRunning, []string{"q", "esc"}, func(t *testing.T, h *harness) {
			wantQuit(false)(t, h)
			h.requireScreen("● RUNNING")
		}},
		{"q then c cancels and quits once the cancel is accepted", startRunning, []string{"q", "c"}, func(t *testing.T, h *harness) {
			wantQuit(true)(t, h)
			if len(h.b.canceled) != 1 {
				t.Fatal("no cancel sent")
			}
			want := "Job 12 (Bitbucket_export_422.tar) stops at its next checkpoint; what was imported before it stays.\n" +
				"To follow it:\n  bbimport status 12 --home /srv/bbimport"
			if h.m.farewell != want {
				t.Fatalf("farewell %q, want %q", h.m.farewell, want)
			}
		}},
		{"q then c stays when the cancel is refused", func(h *harness) {
			startRunning(h)
			h.b.Forget(12) // the backend no longer knows it: the cancel fails
		}, []string{"q", "c"}, func(t *testing.T, h *harness) {
			wantQuit(false)(t, h)
			h.requireScreen("Cancel was not accepted")
		}},
		{"ctrl+c with an in-process job says how to follow it", startRunning, []string{"ctrl+c"}, func(t *testing.T, h *harness) {
			wantQuit(true)(t, h)
			if !strings.Contains(h.m.farewell, "bbimport status 12 --home /srv/bbimport") {
				t.Fatalf("farewell %q", h.m.farewell)
			}
		}},
		{"q with a remote job says it goes on", func(h *harness) { h.b.identity = remote; startRunning(h) }, []string{"q", "y"}, func(t *testing.T, h *harness) {
			wantQuit(true)(t, h)
			// Commands that work as written: the user is named, since the
			// password may come from BITBUCKET_PASSWORD, which needs it.
			if !strings.Contains(h.m.farewell, "Job 12 (Bitbucket_export_422.tar) keeps running on https://bb.example.com.\nTo come back (it offers to reattach):\n  bbimport --url https://bb.example.com --user admin\nTo follow it:\n  bbimport status 12 --url https://bb.example.com --user admin") {
				t.Fatalf("farewell %q", h.m.farewell)
			}
		}},
		{"ctrl+c with a remote job says how to reattach", func(h *harness) { h.b.identity = remote; startRunning(h) }, []string{"ctrl+c"}, func(t *testing.T, h *harness) {
			if !strings.Contains(h.m.farewell, "bbimport --url https://bb.example.com") {
				t.Fatalf("farewell %q", h.m.farewell)
			}
		}},

		// Everywhere.
		{"? shows the full help", nil, []string{"?"}, wantScreen("Keys (? or esc closes)", "paste source checksum")},
		{"? again closes it", nil, []string{"?", "?"}, wantScreen("Archives (3)")},
		{"esc closes the help", nil, []string{"?", "esc"}, wantScreen("Archives (3)")},
		{"esc never quits", nil, []string{"esc", "esc", "esc"}, wantQuit(false)},
		{"the job view's help lists the log's keys", startRunning, []string{"?"}, wantScreen("cancel import", "next WARN/ERROR")},
		{"M captures the mouse wheel", nil, []string{"M"}, func(t *testing.T, h *harness) {
			if h.m.View().MouseMode != tea.MouseModeCellMotion {
				t.Fatal("mouse not captured")
			}
			h.requireScreen("[mouse wheel on]")
		}},
		{"M again releases it", nil, []string{"M", "M"}, func(t *testing.T, h *harness) {
			if h.m.View().MouseMode != tea.MouseModeNone {
				t.Fatal("mouse still captured")
			}
		}},
		// Stop now, while canceling.
		{"c while canceling offers to stop now", canceling, []string{"c"}, wantScreen("Stop job 12 now?", "y  stop now", "n/esc  wait for the checkpoint")},
		{"the help says c stops now while canceling", canceling, nil, wantScreen("c stop now")},
		{"c then y while canceling stops now", canceling, []string{"c", "y"}, func(t *testing.T, h *harness) {
			if len(h.b.stopped) != 1 || h.b.stopped[0] != 12 {
				t.Fatalf("stopped %v", h.b.stopped)
			}
			h.requireScreen("Stop requested: job 12 ends at once")
		}},
		{"c then n while canceling keeps waiting", canceling, []string{"c", "n"}, func(t *testing.T, h *harness) {
			if len(h.b.stopped) != 0 {
				t.Fatalf("stopped %v", h.b.stopped)
			}
			h.requireScreen("◐ CANCELING")
		}},
		{"stop now on Bitbucket says it stops only at its checkpoint", func(h *harness) {
			h.b.stopErr = model.ErrNotSupported
			canceling(h)
		}, []string{"c", "y"}, wantScreen("Bitbucket stops an import only at its next checkpoint")},

		// Another import runs.
		{"a start refused by a running import names it", runningElsewhere, []string{"enter", "y"}, wantScreen(
			"Another import is running", "job 11 (small.tar) is importing",
			"It is run by process 4242 (bbimport import small.tar) since 2026-11-25", "16:50:00.", "o/enter  open job 11")},
		{"o opens the running import", runningElsewhere, []string{"enter", "y", "o"}, wantScreen("Job 11 · small.tar", "● RUNNING")},
		{"esc leaves the running import alone", runningElsewhere, []string{"enter", "y", "esc"}, wantScreen("Archives (3)")},

		// The jobs list.
		{"h lists the jobs", withHistory, []string{"h"}, wantScreen("Jobs (3)", "#12", "● RUNNING", "#11", "✗ COMPLETED WITH ERRORS", "#10", "■ CANCELED")},
		{"the jobs list tells the highlighted job", withHistory, []string{"h", "j"}, wantScreen(
			"Archive       small.tar", "Started       2026-11-25 16:30:00", "Ended         2026-11-25 16:40:00 (ran 10m00s)",
			"Imported      1 project · 1 repository · 3 pull requests", "Problems      1 warning · 2 errors")},
		{"a job without counts says so", withHistory, []string{"h", "G"}, wantScreen("Imported      not reported", "(archive not known)")},
		{"enter opens a finished job", withHistory, []string{"h", "j", "enter"}, wantScreen("Job 11 · small.tar", "✗ COMPLETED WITH ERRORS")},
		{"enter on the watched job returns to it", func(h *harness) { startRunning(h); h.b.known = []model.Job{runningJob()}; h.press("esc") },
			[]string{"h", "enter"}, func(t *testing.T, h *harness) {
				h.requireScreen("Job 12 · Bitbucket_export_422.tar", "● RUNNING", "6/6 shown")
			}},
		{"esc leaves the jobs list", withHistory, []string{"h", "esc"}, wantScreen("Archives (3)")},
		{"w in the jobs list opens the running job", withHistory, []string{"h", "G", "w"}, wantScreen("Job 12 · Bitbucket_export_422.tar", "● RUNNING")},
		{"the jobs list offers w while a job runs", withHistory, []string{"h"}, wantScreen("w watch running job")},
		{"the jobs list offers no w when none runs", func(h *harness) {
			j := finishedJob(11, model.StateCompleted, "small.tar")
			h.b.known = []model.Job{j}
			h.b.set(j)
			h.init()
		}, []string{"h", "?"}, func(t *testing.T, h *harness) { h.requireNotScreen("watch running job") }},
		{"w in the jobs list never opens a finished job", func(h *harness) {
			j := finishedJob(11, model.StateCompleted, "small.tar")
			h.b.known = []model.Job{j}
			h.b.set(j)
			h.init()
		}, []string{"h", "w"}, func(t *testing.T, h *harness) {
			h.requireScreen("Jobs (1)", "No import is running")
			h.requireNotScreen("Job 11 · small.tar")
		}},
		{"the picker's help offers the jobs list", nil, nil, wantScreen("h jobs list")},
		{"the last job's end is reported on opening", func(h *harness) {
			j := finishedJob(11, model.StateFailed, "small.tar")
			h.b.known = []model.Job{j}
			h.b.set(j)
			h.init()
		}, nil, wantScreen("Last import: job 11 (small.tar) FAILED 20m00s ago; h lists jobs")},
		{"a job ended over a day ago is not reported", func(h *harness) {
			j := finishedJob(11, model.StateFailed, "small.tar")
			h.now = t0.Add(25 * time.Hour)
			h.b.known = []model.Job{j}
			h.b.set(j)
			h.init()
		}, nil, func(t *testing.T, h *harness) { h.requireNotScreen("Last import") }},

		{"reattach names the archive", func(h *harness) { h.b.known = []model.Job{runningJob()}; h.init() }, nil,
			wantScreen("Job 12 (Bitbucket_export_422.tar) is RUNNING at 42%")},
		{"reattach on y", func(h *harness) { h.b.known = []model.Job{runningJob()}; h.b.set(runningJob()); h.init() }, []string{"y"}, wantScreen("Job 12", "● RUNNING")},
		{"no reattach on n", func(h *harness) { h.b.known = []model.Job{runningJob()}; h.init() }, []string{"n"}, wantScreen("Archives (3)")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 80, 24)
			if tc.setup != nil {
				tc.setup(h)
			} else {
				h.init()
			}
			h.press(tc.keys...)
			tc.check(t, h)
		})
	}
}

func wantSelected(name string) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		t.Helper()
		if got := h.selectedArchive(); got != name {
			t.Fatalf("selected %q, want %q:\n%s", got, name, h.screen())
		}
	}
}

func wantScreen(s ...string) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		t.Helper()
		h.requireScreen(s...)
	}
}

func wantQuit(q bool) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		t.Helper()
		if h.quit != q {
			t.Fatalf("quit = %v, want %v", h.quit, q)
		}
	}
}

// The mouse wheel scrolls only once captured.
func TestWheel(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.init()
	wheel := tea.MouseWheelMsg{Button: tea.MouseWheelDown}
	h.send(wheel)
	wantSelected("Bitbucket_export_422.tar")(t, h)
	h.press("M")
	h.send(wheel)
	wantSelected("copy-in-progress.tar")(t, h)
}

// NO_COLOR with any non-empty value gives the no-colour theme; the colour
// theme differs from it only in colour.
func TestNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "yes")
	o := Options{}
	o.defaults()
	if !o.NoColor {
		t.Fatal("NO_COLOR=yes left colour on")
	}
	h := newHarness(t, 80, 24)
	h.init()
	if strings.Contains(h.m.render(), "\x1b[38") {
		t.Fatal("the no-colour theme wrote a colour")
	}
}

// The terminal's background answer switches to the light theme.
func TestBackgroundAnswer(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	m := newModel(t.Context(), Options{Backend: b, Archives: a, Now: func() time.Time { return t0 }})
	if !m.dark {
		t.Fatal("the default is not dark")
	}
	nm, _ := m.Update(tea.BackgroundColorMsg{Color: color.White})
	if nm.(Model).dark {
		t.Fatal("a white background kept the dark theme")
	}
}

// canceling is a running job whose cancel was accepted.
func canceling(h *harness) {
	startRunning(h)
	h.press("c", "y")
	h.fire()
}

// finishedJob ended at t0 - 20m after ten minutes.
func finishedJob(id int64, state model.State, archive string) model.Job {
	return model.Job{ID: id, State: state, Type: model.JobTypeImport, Archive: archive,
		StartDate: t0.Add(-30 * time.Minute).UnixMilli(), EndDate: t0.Add(-20 * time.Minute).UnixMilli(),
		UpdatedDate: t0.Add(-20 * time.Minute).UnixMilli(),
		Counts:      &model.ImportCounts{Projects: 1, Repositories: 1, PullRequests: 3}}
}

// withHistory is a backend that knows three jobs: 12 running, 11 completed
// with errors, 10 canceled and started by a client that did not say which
// archive (Bitbucket reports no counts).
func withHistory(h *harness) {
	j11 := finishedJob(11, model.StateCompleted, "small.tar")
	j10 := finishedJob(10, model.StateCanceled, "")
	j10.StartDate, j10.EndDate, j10.UpdatedDate, j10.Counts = t0.Add(-48*time.Hour).UnixMilli(), t0.Add(-47*time.Hour).UnixMilli(), t0.Add(-47*time.Hour).UnixMilli(), nil
	h.b.set(runningJob(), runningMessages...)
	h.b.set(j11,
		message(10, model.SeverityWarn, "SM/app", "Activity kind SUGGESTION:ADDED is not known; kept as a comment"),
		message(11, model.SeverityError, "SM/app#2", "Pull request 2 was not imported: its metadata.json is not valid JSON"),
		message(12, model.SeverityError, "SM/app#3", "Pull request 3 was not imported: its metadata.json is not valid JSON"))
	h.b.set(j10)
	h.b.known = []model.Job{runningJob(), j11, j10}
	h.init()
	h.press("n") // no reattach
}

// runningElsewhere is job 11 importing small.tar, started by another
// process: this console's start is refused.
func runningElsewhere(h *harness) {
	j := runningJob()
	j.ID, j.Archive = 11, "small.tar"
	h.b.set(j)
	h.b.known = []model.Job{j}
	h.b.startErr = &model.RunningImport{JobID: 11, PID: 4242, Command: "bbimport import small.tar", Since: t0.Add(-10 * time.Minute)}
	h.init()
	h.press("n")
}
