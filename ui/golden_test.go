package ui

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"bbimport/model"
)

// TestMain draws every screen in UTC: the console shows times in the
// machine's zone, and the goldens must not depend on where they run.
func TestMain(m *testing.M) {
	time.Local = time.UTC
	os.Exit(m.Run())
}

func message(sec int, sev model.Severity, subject, text string) model.Message {
	return model.Message{ID: fmt.Sprint(sec), Severity: sev, Subject: subject, Text: text,
		CreatedDate: model.MillisOf(t0.Add(time.Duration(sec-120) * time.Second))}
}

// The messages of a job two minutes into Bitbucket_export_422.tar.
var runningMessages = []model.Message{
	message(0, model.SeverityInfo, "", "Importing Bitbucket_export_422.tar (700.0 MiB)"),
	message(1, model.SeverityInfo, "", `The archive was written by Bitbucket 9.4.3 (archiveVersion 2, instance "acme-bitbucket")`),
	message(2, model.SeverityWarn, "PRJ", "Project key PRJ exists on this instance: the archive's project PRJ is imported as PRJ1, name \"Project (1)\""),
	message(40, model.SeverityInfo, "PRJ/golden", "Fork hierarchy of PRJ/golden imported and verified: 3 repositories, 120 pull requests in 38s"),
	message(55, model.SeverityWarn, "PRJ/api#7", "Activity kind SUGGESTION:ADDED is not known; kept as a comment"),
	message(70, model.SeverityWarn, "PRJ/api#9", "Reviewer ghost|Ghost||NORMAL is not a user here; added as an inactive stub user"),
}

func runningJob() model.Job {
	return model.Job{ID: 12, State: model.StateRunning, Type: model.JobTypeImport,
		Progress:  model.Progress{Message: "Importing PRJ/api: pull request 12", Percentage: 42},
		StartDate: t0.Add(-2 * time.Minute).UnixMilli(), UpdatedDate: t0.Add(-time.Second).UnixMilli(),
		Counts: &model.ImportCounts{Projects: 1, Repositories: 3, PullRequests: 120}, Archive: "Bitbucket_export_422.tar"}
}

// startRunning picks the first archive, starts it and lets one poll land.
func startRunning(h *harness) {
	h.init()
	h.press("enter", "y")
	h.b.set(runningJob(), runningMessages...)
	h.fire()
}

func finish(h *harness, state model.State, msgs ...model.Message) {
	finishCounted(h, state, runningJob().Counts, msgs...)
}

// finishCounted ends the job with the counts the importer reports at its end.
func finishCounted(h *harness, state model.State, counts *model.ImportCounts, msgs ...model.Message) {
	j := runningJob()
	j.State, j.Counts = state, counts
	j.EndDate = t0.UnixMilli()
	j.UpdatedDate = j.EndDate
	h.b.set(j, msgs...)
	h.fire()
}

// screens are the console's screens and states, each reached by keys and
// answers as a user would reach it.
var screens = []struct {
	name  string
	reach func(h *harness)
}{
	{"picker", func(h *harness) {
		h.b.existing["PRJ"], h.b.existing["PRJ1"] = true, true
		h.init()
		h.press("m", "p")
		h.send(tea.PasteMsg{Content: "9E107D9D372BB6826BD81D3542A419D6"})
		h.press("enter")
	}},
	{"picker-remote", func(h *harness) {
		h.b.identity = model.Identity{Remote: true, Location: "https://bitbucket.example.com", Product: "Bitbucket", Version: "9.4.3", User: "admin"}
		h.init()
	}},
	{"picker-empty", func(h *harness) {
		h.a.files = nil
		h.init()
	}},
	{"picker-filter", func(h *harness) {
		h.init()
		h.press("/", "s", "m")
	}},
	{"picker-copying", func(h *harness) {
		h.init()
		h.press("j")
	}},
	{"picker-copying-refused", func(h *harness) {
		h.init()
		h.press("j", "enter")
	}},
	{"picker-unreadable", func(h *harness) {
		h.a.files = append(h.a.files, model.ArchiveFile{Name: "notes.tar", Path: "/srv/import/notes.tar", Size: 10240, ModTime: t0.Add(-48 * time.Hour)})
		h.init()
		h.press("G")
	}},
	{"picker-unusable", func(h *harness) {
		h.a.files = append(h.a.files,
			model.ArchiveFile{Name: "x.tar", Path: "/srv/import/x.tar", Size: 4096, ModTime: t0.Add(-time.Hour),
				Unusable: "a directory, not an archive file; an export archive is a single .tar file"},
			model.ArchiveFile{Name: "locked.tar", Path: "/srv/import/locked.tar", Size: 10240, ModTime: t0.Add(-time.Hour),
				Unusable: "permission denied: owned by root with mode -rw-------, not readable by bbimport; make it readable (chmod a+r, or chown)"})
		h.init()
		h.press("G")
	}},
	{"refuse-unusable", func(h *harness) {
		h.a.files = append(h.a.files, model.ArchiveFile{Name: "pipe.tar", Path: "/srv/import/pipe.tar", ModTime: t0.Add(-time.Hour),
			Unusable: "a named pipe (FIFO), not an archive file; copy the archive file itself here"})
		h.init()
		h.press("G", "enter")
	}},
	{"refuse-unreadable", func(h *harness) {
		h.a.files = append(h.a.files, model.ArchiveFile{Name: "truncated.tar", Path: "/srv/import/truncated.tar", Size: 10240, ModTime: t0.Add(-48 * time.Hour)})
		h.init()
		h.press("G", "enter")
	}},
	{"confirm-mismatch", func(h *harness) {
		h.init()
		h.press("m", "p")
		h.send(tea.PasteMsg{Content: "0123456789abcdef0123456789abcdef"})
		h.press("enter", "enter")
	}},
	{"started-despite-mismatch", func(h *harness) {
		h.init()
		h.press("m", "p")
		h.send(tea.PasteMsg{Content: "0123456789abcdef0123456789abcdef"})
		h.press("enter", "enter", "O")
		h.b.set(runningJob(), runningMessages...)
		h.fire()
	}},
	{"confirm", func(h *harness) {
		h.b.existing["PRJ"] = true
		h.init()
		h.press("m", "enter")
	}},
	{"queue", func(h *harness) {
		h.init()
		h.press("G", "space", "g", "space")
	}},
	{"queue-confirm", func(h *harness) {
		h.init()
		h.press("G", "space", "g", "space", "enter")
	}},
	{"queue-running", func(h *harness) {
		h.init()
		h.press("G", "space", "g", "space", "enter", "y")
		h.b.set(runningJob(), runningMessages...)
		h.fire()
	}},
	{"queue-home-confirm", func(h *harness) {
		withHomeQueue(h)
		h.init()
		h.press("G", "space", "g", "space", "enter")
	}},
	{"queue-home-running", func(h *harness) {
		withHomeQueue(h)
		h.init()
		h.press("G", "space", "g", "space", "enter", "y")
		j := runningJob()
		j.Archive = "small.tar"
		h.b.set(j, runningMessages...)
		h.fire()
	}},
	{"queue-view", func(h *harness) {
		withDropped(h)
		h.init()
		h.press("u", "j")
	}},
	{"queue-view-empty", func(h *harness) {
		withHomeQueue(h)
		h.init()
		h.press("u")
	}},
	{"reattach", func(h *harness) {
		h.b.known = []model.Job{runningJob()}
		h.init()
	}},
	{"running", startRunning},
	{"cancel-confirm", func(h *harness) {
		startRunning(h)
		h.press("c")
	}},
	{"canceling", func(h *harness) {
		startRunning(h)
		h.press("c", "y")
		h.fire()
	}},
	{"canceled", func(h *harness) {
		startRunning(h)
		h.press("c", "y")
		finish(h, model.StateCanceled, message(90, model.SeverityWarn, "",
			"Import canceled at the checkpoint before the next repository: 1 project(s), 3 repositories and 120 pull request(s) imported. Not imported: repository api and everything after it in the archive"))
	}},
	{"failed", func(h *harness) {
		startRunning(h)
		finishCounted(h, model.StateFailed, &model.ImportCounts{Projects: 2, Repositories: 7, PullRequests: 338},
			message(80, model.SeverityError, "PRJ/api#12", "Pull request 12 was not imported: its metadata.json is not valid JSON"),
			message(81, model.SeverityError, "PRJ/api#13", "Pull request 13 was not imported: its metadata.json is not valid JSON"),
			message(90, model.SeverityInfo, "", "Import finished in 2m0s: 2 project(s), 7 repositories and 338 pull request(s) imported, 2 error(s)"))
	}},
	{"completed-with-warnings", func(h *harness) {
		startRunning(h)
		finishCounted(h, model.StateCompleted, &model.ImportCounts{Projects: 2, Repositories: 7, PullRequests: 340},
			message(90, model.SeverityInfo, "", "Import finished in 2m0s: 2 project(s), 7 repositories and 340 pull request(s) imported, 0 error(s)"))
	}},
	{"disconnected", func(h *harness) {
		startRunning(h)
		h.b.jobErr = errors.New("the server did not answer within 20s (GET /rest/api/1.0/migration/imports/12)")
		h.now = t0.Add(5 * time.Second)
		h.fire()
		h.now = t0.Add(42 * time.Second)
	}},
	{"stalled", func(h *harness) {
		startRunning(h)
		h.now = t0.Add(6 * time.Minute)
		h.fire()
	}},
	{"help", func(h *harness) {
		h.init()
		h.press("?")
	}},
	{"help-finished-job", func(h *harness) {
		startRunning(h)
		finish(h, model.StateCompleted)
		h.press("?")
	}},
	{"quit-remote", func(h *harness) {
		h.b.identity = model.Identity{Remote: true, Location: "https://bitbucket.example.com", Product: "Bitbucket", Version: "9.4.3", User: "admin"}
		startRunning(h)
		h.press("q")
	}},
	{"quit-in-process", func(h *harness) {
		startRunning(h)
		h.press("q")
	}},
	{"quit-unwatched", func(h *harness) {
		runningElsewhere(h)
		h.press("q")
	}},
	{"stop-now", func(h *harness) {
		canceling(h)
		h.press("c")
	}},
	{"stop-now-remote", func(h *harness) {
		h.b.identity = model.Identity{Remote: true, Location: "https://bitbucket.example.com", Product: "Bitbucket", Version: "9.4.3", User: "admin"}
		h.b.stopErr = model.ErrNotSupported
		canceling(h)
		h.press("c", "y")
	}},
	{"running-import", func(h *harness) {
		runningElsewhere(h)
		h.press("enter", "y")
	}},
	{"history", func(h *harness) {
		withHistory(h)
		h.press("h", "j")
	}},
	{"history-bitbucket", func(h *harness) {
		h.b.identity = model.Identity{Remote: true, Location: "https://bitbucket.example.com", Product: "Bitbucket", Version: "9.4.3", User: "admin", PartialJobs: true}
		withHistory(h)
		h.press("h")
	}},
	{"history-empty", func(h *harness) {
		h.init()
		h.press("h")
	}},
	{"last-outcome", func(h *harness) {
		j := finishedJob(11, model.StateCompleted, "small.tar")
		h.b.known = []model.Job{j}
		h.b.set(j, message(12, model.SeverityError, "SM/app#3", "Pull request 3 was not imported: its metadata.json is not valid JSON"))
		h.init()
	}},
}

// TestGoldenScreens compares every screen, escape codes stripped, with its
// golden file at 80x24, 120x40 (where the panes first sit side by side)
// 140x40 and 200x60 (go test ./ui -run Golden -update rewrites them).
func TestGoldenScreens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {140, 40}, {200, 60}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				h := newHarness(t, size[0], size[1])
				sc.reach(h)
				requireFrame(t, h.m.render(), size[0], size[1])
				golden.RequireEqual(t, h.screen())
			})
		}
	}
}

func TestGoldenTooSmall(t *testing.T) {
	h := newHarness(t, 79, 23)
	h.init()
	requireFrame(t, h.m.render(), 79, 23)
	golden.RequireEqual(t, h.screen())
}

// Shrunk to a phone-sized window while a job runs: the job's state first,
// and every sentence whole.
func TestGoldenTooSmallWithJob(t *testing.T) {
	h := newHarness(t, 80, 24)
	startRunning(h)
	h.send(tea.WindowSizeMsg{Width: 30, Height: 10})
	requireFrame(t, h.m.render(), 30, 10)
	golden.RequireEqual(t, h.screen())
}

// Shrunk while the backend does not answer: the state is UNKNOWN there
// too, as in the job view, never the last RUNNING it heard.
func TestGoldenTooSmallUnreachable(t *testing.T) {
	h := newHarness(t, 80, 24)
	startRunning(h)
	h.b.jobErr = errors.New("dial tcp 127.0.0.1:7990: connect: connection refused")
	h.now = t0.Add(5 * time.Second)
	h.fire()
	h.send(tea.WindowSizeMsg{Width: 60, Height: 12})
	requireFrame(t, h.m.render(), 60, 12)
	if want := "Job 12: ? UNKNOWN — no answer from the importer since 17:00:00"; !strings.Contains(paneText(h.screen()), want) {
		t.Fatalf("the screen does not say %q:\n%s", want, h.screen())
	}
	h.requireNotScreen("RUNNING")
	golden.RequireEqual(t, h.screen())
}

// TestFrameAtEverySize checks, for every screen at many sizes, that the
// frame has exactly the terminal's height and every line its width.
func TestFrameAtEverySize(t *testing.T) {
	sizes := [][2]int{{80, 24}, {81, 25}, {99, 30}, {119, 33}, {120, 34}, {160, 50}, {200, 60}, {60, 20}, {80, 23}, {79, 24}}
	for _, sc := range screens {
		for _, size := range sizes {
			h := newHarness(t, size[0], size[1])
			sc.reach(h)
			if t.Failed() {
				return
			}
			t.Run(fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				requireFrame(t, h.m.render(), size[0], size[1])
			})
		}
	}
}

// A resize reaches every part: the frame fits the new size at once.
func TestResize(t *testing.T) {
	h := newHarness(t, 200, 60)
	startRunning(h)
	for _, size := range [][2]int{{80, 24}, {140, 40}, {79, 24}, {100, 30}} {
		h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		requireFrame(t, h.m.render(), size[0], size[1])
	}
}

func requireFrame(t *testing.T, frame string, w, h int) {
	t.Helper()
	lines := strings.Split(frame, "\n")
	if len(lines) != h {
		t.Fatalf("frame has %d lines, want %d:\n%s", len(lines), h, ansi.Strip(frame))
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got != w {
			t.Fatalf("line %d is %d cells wide, want %d: %q", i+1, got, w, ansi.Strip(l))
		}
	}
}
