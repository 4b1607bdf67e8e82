package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"bbimport/model"
	"bbimport/ui/logview"
)

// The finished job's summary: how it ended, its counts, and the subjects
// with the most warnings and errors, tallied as the messages arrive.

// JobSubject is the log's word for a message without a subject; the
// commands that list messages use it too, so that both read alike.
const JobSubject = logview.JobSubject

// tally counts the warnings and errors per subject for the summary, and
// keeps the newest job-level message.
func (j *jobView) tally(msgs []model.Message) {
	for _, msg := range msgs {
		s := msg.Subject
		if s == "" {
			j.lastJobMessage = msg.Text
		}
		if msg.Severity == model.SeverityInfo {
			continue
		}
		t := j.bySubject[s]
		if t == nil {
			t = &tally{}
			j.bySubject[s] = t
		}
		if msg.Severity == model.SeverityError {
			t.errs++
		} else {
			t.warn++
		}
	}
}

// summaryLines is the finished job in w cells and at most room lines.
// The last job-level message says how it ended and, after a cancel or an
// abort, what was not imported and what to do: it is kept whole, and the
// lines that only help go first when room is short.
func (j *jobView) summaryLines(t Theme, w, room int, now time.Time) []string {
	jb := j.job
	when := ""
	if jb.StartDate > 0 {
		start := time.UnixMilli(jb.StartDate)
		// The backend's end time, never this console's clock: a job seen
		// late, or after a lost connection, did not end when it was seen.
		if jb.EndDate > 0 {
			end := time.UnixMilli(jb.EndDate)
			when = fmt.Sprintf("  ran %s, %s → %s", formatDuration(end.Sub(start)),
				start.Format("15:04:05"), end.Format("15:04:05"))
		} else {
			when = "  started " + start.Format("15:04:05") + ", end not reported"
		}
	}
	lines := indent(wrapLines([]string{stateBadge(t, jb.State, j.hasErrors()) + when, j.counts(t)}, w-1))
	if j.lastJobMessage != "" {
		lines = append(lines, indent(wrapLines([]string{j.lastJobMessage}, w-2))...)
	}
	lines = append(lines, j.connectionNote(t, now)...)
	bySubject := append(labelled(t, "warnings by subject: ", j.topSubjects(func(c *tally) int { return c.warn }), w-1),
		labelled(t, "errors by subject:   ", j.topSubjects(func(c *tally) int { return c.errs }), w-1)...)
	for _, extra := range [][]string{
		indent(bySubject),
		{" " + t.Dim.Render("b back to the archives · q quit · the log below keeps every message")},
	} {
		if len(lines)+len(extra) > room {
			break
		}
		lines = append(lines, extra...)
	}
	return lines
}

// labelled is label and value in w cells, the value's wrapped lines
// indented under its first.
func labelled(t Theme, label, value string, w int) []string {
	lw := ansi.StringWidth(label)
	lines := wrapLines([]string{value}, max(w-lw, 1))
	for i := range lines {
		if i == 0 {
			lines[i] = t.Label.Render(label) + lines[i]
		} else {
			lines[i] = strings.Repeat(" ", lw) + lines[i]
		}
	}
	return lines
}

// topSubjects lists the subjects with the most warnings (or errors).
func (j *jobView) topSubjects(count func(*tally) int) string {
	type sc struct {
		subject string
		n       int
	}
	var all []sc
	for s, c := range j.bySubject {
		if n := count(c); n > 0 {
			if s == "" {
				s = JobSubject
			}
			all = append(all, sc{s, n})
		}
	}
	if len(all) == 0 {
		return "none"
	}
	sort.Slice(all, func(a, b int) bool {
		if all[a].n != all[b].n {
			return all[a].n > all[b].n
		}
		return all[a].subject < all[b].subject
	})
	var parts []string
	for i, s := range all {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(all)-5))
			break
		}
		// A no-break space: a subject and its count stay on one line.
		parts = append(parts, fmt.Sprintf("%s\u00a0%d", s.subject, s.n))
	}
	return strings.Join(parts, " · ")
}
