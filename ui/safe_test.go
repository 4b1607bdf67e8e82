package ui

import (
	"strings"
	"testing"

	"bbimport/model"
)

// hostile is text an archive or a server might hold: it would retitle the
// terminal, clear it, and erase the line to forge what was printed.
const hostile = "PRJ\x1b]0;x\x07 \x1b[2J\r\x1b[Kforged"

// requireInert fails if out holds any of the hostile sequences as they are;
// the frame's own styles (ESC [ ... m) may stay.
func requireInert(t *testing.T, out string) {
	t.Helper()
	for _, bad := range []string{"\x1b]", "\x07", "\x1b[2J", "\r", "\x1b[K"} {
		if strings.Contains(out, bad) {
			t.Fatalf("output holds %q:\n%q", bad, out)
		}
	}
}

func hostileArchives(a *fakeArchives) {
	s := a.summaries["/srv/import/Bitbucket_export_422.tar"]
	s.Projects = append([]model.ProjectSummary{{Key: hostile, Name: hostile, Repositories: 1}}, s.Projects...)
	s.Warnings = []string{"member " + hostile + " is odd"}
	a.summaries["/srv/import/"+hostile+".tar"] = s
	a.files[0].Name, a.files[0].Path = hostile+".tar", "/srv/import/"+hostile+".tar"
}

func hostileJob() (model.Job, []model.Message) {
	j := runningJob()
	j.Progress.Message = "Importing " + hostile
	return j, []model.Message{
		message(1, model.SeverityWarn, hostile, "project name "+hostile),
		message(2, model.SeverityInfo, "", "job text "+hostile),
	}
}

// The console shows archive names, archive contents, job progress and
// messages with their escape sequences made visible and inert.
func TestConsoleShowsHostileTextInert(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {140, 40}} {
		h := newHarness(t, size[0], size[1])
		hostileArchives(h.a)
		h.b.importFrom(t, hostile+".tar")
		h.init()
		requireInert(t, h.m.render())
		h.requireScreen(`PRJ\x1b]0;x\x07`)

		h.press("enter")
		requireInert(t, h.m.render())
		h.press("y")
		j, msgs := hostileJob()
		h.b.set(j, msgs...)
		h.fire()
		requireInert(t, h.m.render())
		h.requireScreen(`Importing PRJ\x1b]0;x\x07 \x1b[2J\x0d\x1b[Kforged`)

		j.State, j.EndDate = model.StateCanceled, t0.UnixMilli()
		h.b.set(j, message(3, model.SeverityWarn, "", "Import canceled: "+hostile))
		h.fire()
		requireInert(t, h.m.render())
		h.requireScreen(`Import canceled: PRJ\x1b]0;x\x07`)
	}
}

func TestPlainShowsHostileTextInert(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	hostileArchives(a)
	j, msgs := hostileJob()
	b.known = []model.Job{j}
	j.State = model.StateFailed
	b.set(j, msgs...)
	out, _, err := runPlainWith(t, b, a, "n\n1\n\n\n")
	if err != nil {
		t.Fatal(err)
	}
	requireInert(t, out)
	for _, want := range []string{`1. PRJ\x1b]0;x\x07`, `! member PRJ\x1b]0;x\x07`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// Following the job prints its progress and messages.
	b, a = newFakeBackend(), newFakeArchives()
	j, msgs = hostileJob()
	b.known = []model.Job{j}
	j.State = model.StateFailed
	b.set(j, msgs...)
	out, _, err = runPlainWith(t, b, a, "y\n")
	if err != nil {
		t.Fatal(err)
	}
	requireInert(t, out)
	if !strings.Contains(out, `WARN PRJ\x1b]0;x\x07`) || !strings.Contains(out, `FAILED 42% Importing PRJ\x1b]0;x`) {
		t.Errorf("the job's text is not shown escaped:\n%s", out)
	}
}

// The backend's list of jobs is made safe where it enters: the dialog
// offering to reattach quotes a running job's progress, and the jobs list
// names each job's archive.
func TestKnownJobsShownInert(t *testing.T) {
	h := newHarness(t, 120, 40)
	j, _ := hostileJob()
	j.Archive = hostile + ".tar"
	h.b.set(j)
	h.b.known = []model.Job{j}
	h.init()
	requireInert(t, h.m.render())
	if want := `is RUNNING at 42%: Importing PRJ\x1b]0;x\x07`; !strings.Contains(paneText(h.screen()), want) {
		t.Fatalf("the dialog does not quote %q:\n%s", want, h.screen())
	}

	h.press("n", "h")
	requireInert(t, h.m.render())
	h.requireScreen(`PRJ\x1b]0;x\x07`)
}
