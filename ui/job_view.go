package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"bbimport/model"
)

// The job view drawn: the progress pane (or, once finished, the summary of
// job_summary.go) over the message log, and the state line every screen
// shares.

// minLogHeight is the least the message log keeps, borders included,
// when the pane above it grows to hold a long summary.
const minLogHeight = 6

// paneLines are the lines of the pane above the log, in a pane w cells
// wide in a body h lines high: the progress while running, the summary
// once finished. The pane grows to hold them all.
func (j *jobView) paneLines(t Theme, w, h int, now time.Time) []string {
	room := max(h-minLogHeight-2, 1)
	if j.finished() {
		return j.summaryLines(t, w-2, room, now)
	}
	return j.progressLines(t, w-2, now)
}

// paneHeight is the height of the pane that holds lines: at least the
// usual one, so that the log does not jump with every note.
func (j *jobView) paneHeight(lines []string, h int) int {
	least := 8
	if j.finished() {
		least = 0 // the summary no longer moves: the log gets every row it leaves
	}
	return min(max(len(lines)+2, least), max(h-minLogHeight, 3))
}

// stateBadge is the state's word with a glyph, in its colour: the word and
// glyph carry the meaning without colour. COMPLETED with ERROR messages is
// shown as a failure.
func stateBadge(t Theme, s model.State, hasErrors bool) string {
	switch {
	case s == model.StateCompleted && hasErrors:
		return t.Bad.Render("✗ COMPLETED WITH ERRORS")
	case s == model.StateCompleted:
		return t.Good.Render("✓ COMPLETED")
	case s.Failed(hasErrors):
		return t.Bad.Render("✗ " + string(s))
	case s == model.StateCanceling:
		return t.Caution.Render("◐ CANCELING")
	case s == model.StateCanceled:
		return t.Caution.Render("■ CANCELED")
	}
	return t.Busy.Render("● " + string(s))
}

// view draws the progress pane (or the summary) above the log.
func (j *jobView) view(t Theme, w, h int, now time.Time) string {
	title := fmt.Sprintf("Job %d", j.id)
	if name := j.archiveName(); name != "" {
		title += " · " + name
	}
	lines := j.paneLines(t, w, h, now)
	ph := j.paneHeight(lines, h)
	top := box(t, title, lines, w, ph, !j.logFocused)
	logBox := box(t, "Messages", strings.Split(j.log.View(), "\n"), w, h-ph, j.logFocused)
	return top + "\n" + logBox
}

// archiveName is the archive as the console shows it: the import
// directory's file, else the name the backend reports (the file may have
// left the directory since); "" when neither says.
func (j *jobView) archiveName() string {
	if j.archive != nil {
		return shownName(*j.archive)
	}
	return j.job.Archive
}

// problemCounts is "3 warnings · 0 errors", coloured when there are any.
func problemCounts(t Theme, warn, errs int) string {
	w := model.Plural(warn, "warning", "warnings")
	if warn > 0 {
		w = t.Caution.Render(w)
	}
	e := model.Plural(errs, "error", "errors")
	if errs > 0 {
		e = t.Bad.Render(e)
	}
	return w + " · " + e
}

func (j *jobView) counts(t Theme) string {
	c := j.log.Counts()
	problems := problemCounts(t, c.Warn, c.Error)
	// Only bbimport reports counts; Bitbucket's job JSON has none.
	done := "imported"
	if isExport(j.job) {
		done = "exported"
	}
	items := done + ": not reported"
	if c := j.job.Counts; c != nil {
		items = done + " " + projectsWords(c) + " · " +
			model.Plural(c.Repositories, "repo", "repos") + " · " + model.Plural(c.PullRequests, "PR", "PRs")
	}
	return items + " · " + problems
}

func (j *jobView) progressLines(t Theme, w int, now time.Time) []string {
	if !j.have {
		lines := []string{t.Dim.Render("asking the backend for job " + fmt.Sprint(j.id) + "…")}
		return append(lines, j.connectionNote(t, now)...)
	}
	if j.unreachable() {
		return j.unknownLines(t, w, now)
	}
	jb := j.job
	pct := jb.Progress.Percentage
	badge := stateBadge(t, jb.State, j.hasErrors())
	barW := max(w-2-ansi.StringWidth(badge)-7, 10)
	lines := []string{
		" " + badge + "  " + bar(t, float64(pct)/100, barW) + fmt.Sprintf(" %3d%%", pct),
		" " + jb.Progress.Message,
		" " + j.pace(now),
		" " + j.counts(t),
	}
	if jb.State == model.StateCanceling {
		lines = append(lines, " "+t.Caution.Render("waiting for the next checkpoint:")+" hierarchy end, next repository or next PR")
	}
	lines = append(lines, j.connectionNote(t, now)...)
	if j.queueNote != "" {
		lines = append(lines, indent(wrapLines([]string{t.Dim.Render(j.queueNote)}, w-1))...)
	}
	return lines
}

// unknownLines is the progress pane while the backend does not answer:
// the job's state is then unknown, so neither is its speed nor its time
// left. What it last said stays, marked as such; the next answer shows the
// backend's own state again.
func (j *jobView) unknownLines(t Theme, w int, now time.Time) []string {
	jb := j.job
	last := fmt.Sprintf("last answer: %s %d%% · %s", jb.State, jb.Progress.Percentage, jb.Progress.Message)
	return indent(wrapLines([]string{j.stateHead(t), t.Dim.Render(last), j.counts(t),
		t.Bad.Render(fmt.Sprintf("✗ unreachable for %s, retrying", formatDuration(now.Sub(j.silentSince())))),
		t.Dim.Render(j.lastErr.Error())}, w-1))
}

// unreachable reports whether the backend's last answer was an error.
func (j *jobView) unreachable() bool { return !j.failingSince.IsZero() }

// silentSince is when the backend last answered, or when it first failed
// to if it never did.
func (j *jobView) silentSince() time.Time {
	if j.lastAnswer.IsZero() {
		return j.failingSince
	}
	return j.lastAnswer
}

// stateHead is the job's state as every screen shows it: its badge, or,
// while the backend does not answer, UNKNOWN since its last answer.
func (j *jobView) stateHead(t Theme) string {
	if j.unreachable() {
		return t.Caution.Render("? UNKNOWN") + " — no answer from " + j.backend + " since " + j.silentSince().Local().Format("15:04:05")
	}
	return stateBadge(t, j.job.State, j.hasErrors())
}

// pace is elapsed time, throughput and ETA, each once meaningful.
func (j *jobView) pace(now time.Time) string {
	jb := j.job
	if jb.StartDate == 0 {
		return "not started yet"
	}
	started := time.UnixMilli(jb.StartDate)
	elapsed := now.Sub(started)
	parts := []string{"elapsed " + formatDuration(elapsed)}
	pct := jb.Progress.Percentage
	if pct > 0 && elapsed >= etaAfter && jb.State == model.StateRunning {
		if j.archive != nil {
			done := float64(j.archive.Size) * float64(pct) / 100
			parts = append(parts, humanize.IBytes(uint64(done/elapsed.Seconds()))+"/s")
		}
		eta := time.Duration(float64(elapsed) * float64(100-pct) / float64(pct))
		parts = append(parts, "about "+formatDuration(eta)+" left")
	}
	return strings.Join(parts, " · ")
}

// connectionNote says when the backend has not answered, or the job has
// not moved, for a while.
func (j *jobView) connectionNote(t Theme, now time.Time) []string {
	if j.unreachable() {
		return []string{
			" " + t.Bad.Render(fmt.Sprintf("✗ backend unreachable for %s, retrying", formatDuration(now.Sub(j.silentSince())))),
			" " + t.Dim.Render(j.lastErr.Error()),
		}
	}
	if j.have && !j.job.State.Finished() && j.job.UpdatedDate > 0 {
		if idle := now.Sub(time.UnixMilli(j.job.UpdatedDate)); idle >= stallAfter {
			return []string{" " + t.Caution.Render(fmt.Sprintf("! no update from the job for %s", formatDuration(idle)))}
		}
	}
	return nil
}

// indent puts the pane's one-cell margin before each line.
func indent(lines []string) []string {
	for i, l := range lines {
		lines[i] = " " + l
	}
	return lines
}
