package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"bbimport/model"
)

// The importer's own words when a job ended CANCELED or ABORTED: each
// ends with what the admin must know or do.
const (
	canceledWords = "Import canceled at the checkpoint after the git data of the current fork hierarchy: " +
		"2 projects, 7 repositories and 338 pull requests imported. Not imported: the next fork hierarchy and everything after it in the archive. " +
		"To import the rest: bbimport verify 3 --remainder FILE writes it to a remainder archive FILE; import that."
	abortedWords = "The process running this import stopped while the job was RUNNING (killed or power loss); the job was aborted " +
		"when bbimport next opened this home. What was finished before stays; the repository being built was removed. To import the rest: bbimport verify 3 --remainder FILE writes it to a remainder archive FILE; import that."
)

// At the smallest size, the summary of a canceled or aborted job shows its
// last sentence whole, up to its last words.
func TestSummaryKeepsTheSentenceWhole(t *testing.T) {
	for _, c := range []struct {
		state model.State
		words string
	}{
		{model.StateCanceled, canceledWords},
		{model.StateAborted, abortedWords},
	} {
		for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
			h := newHarness(t, size[0], size[1])
			startRunning(h)
			finish(h, c.state, message(90, model.SeverityWarn, "", c.words))
			requireFrame(t, h.m.render(), size[0], size[1])
			top := strings.SplitN(h.screen(), "╭─▸Messages", 2)[0]
			if !strings.Contains(paneText(top), c.words) {
				t.Errorf("%s at %dx%d: the summary does not hold the whole message:\n%s", c.state, size[0], size[1], h.screen())
			}
			if strings.Contains(top, "…") {
				t.Errorf("%s at %dx%d: the summary cuts a line:\n%s", c.state, size[0], size[1], top)
			}
		}
	}
}

// With the backend unreachable, the job's state is unknown since the last
// answer, with no speed and no time left; once the backend answers again,
// its state shows, and a job that ended while unreachable shows the end
// time the backend reports.
func TestUnreachableBackendMakesTheStateUnknown(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.b.identity = model.Identity{Remote: true, Location: "https://bitbucket.example.com", Product: "Bitbucket", Version: "9.4.3", User: "admin"}
	h.now = t0.Add(8 * time.Minute) // running long enough to show a speed and a time left
	startRunning(h)
	h.requireScreen("● RUNNING", "/s ·", "left")

	h.b.jobErr = errors.New("dial tcp 127.0.0.1:7990: connect: connection refused")
	h.now = t0.Add(8*time.Minute + 5*time.Second)
	h.fire()
	h.now = t0.Add(30 * time.Minute)
	h.requireScreen("? UNKNOWN — no answer from https://bitbucket.example.com since 17:08:00",
		"last answer: RUNNING 42% · Importing PRJ/api: pull request 12",
		"✗ unreachable for 22m00s, retrying", "connection refused")
	h.requireNotScreen("● RUNNING", "/s", "left")

	h.b.jobErr = nil
	j := runningJob()
	j.State, j.EndDate = model.StateCompleted, t0.Add(10*time.Minute).UnixMilli()
	h.b.set(j)
	h.fire()
	h.requireScreen("✓ COMPLETED  ran 12m00s, 16:58:00 → 17:10:00")
	h.requireNotScreen("UNKNOWN", "unreachable")
}

// A finished job whose backend reports no end time is not given this
// console's clock as its end.
func TestSummaryWithoutEndTime(t *testing.T) {
	h := newHarness(t, 80, 24)
	startRunning(h)
	j := runningJob()
	j.State = model.StateFailed
	h.b.set(j)
	h.now = t0.Add(time.Hour)
	h.fire()
	h.requireScreen("✗ FAILED  started 16:58:00, end not reported")
	h.requireNotScreen("ran ")
}

// paneText is the text inside a pane's borders, its lines joined as the
// sentences they wrap.
func paneText(pane string) string {
	var words []string
	for _, l := range strings.Split(pane, "\n") {
		words = append(words, strings.Fields(strings.Trim(l, "│ "))...)
	}
	return strings.Join(words, " ")
}

// A job opened from the jobs list whose archive has left the import
// directory is still named in its title, by the name the backend reports.
func TestJobTitleNamesAnArchiveNoLongerThere(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.a.files = h.a.files[:2] // small.tar was moved away after its import
	withHistory(h)
	h.press("h", "j", "enter")
	h.fire()
	h.requireScreen("Job 11 · small.tar ")
}

// A notice that wraps takes a row from the log, which is sized anew: its
// newest message and its status line stay in sight.
func TestWrappedNoticeKeepsTheNewestMessageInSight(t *testing.T) {
	h := newHarness(t, 80, 24)
	canceling(h)
	h.requireScreen("Reviewer ghost|Ghost||NORMAL", "INFO 3  WARN 3  ERROR 0")
	h.b.stopErr = errors.New("the server answered 503 Service Unavailable (POST /rest/api/1.0/migration/imports/12/stop): try again later")
	h.press("c", "y")
	h.requireScreen("Stop now was not accepted", "Press c to try again.")
	requireFrame(t, h.m.render(), 80, 24)
	h.requireScreen("Reviewer ghost|Ghost||NORMAL", "INFO 3  WARN 3  ERROR 0")
}

// Times are the machine's local time everywhere, the zone named once, in
// the header.
func TestTimesAreLocalWithTheZoneInTheHeader(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.FixedZone("CET", 3600)
	h := newHarness(t, 120, 40)
	startRunning(h)
	finish(h, model.StateCompleted)
	h.requireScreen("times in CET", "ran 2m00s, 17:58:00 → 18:00:00", "17:58:02 WARN")
	h.requireNotScreen("UTC")
	h.b.known = []model.Job{finishedJob(11, model.StateCompleted, "small.tar")}
	h.press("b", "h")
	h.requireScreen("Nov 25 17:30", "2026-11-25 17:30:00", "times in CET")
}
