package ui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"bbimport/model"
)

// The Verify pane drawn: the totals, the differences and their columns.

// verifyRows is how many differences the list shows at once.
func (m *Model) verifyRows() int {
	return max(m.bodyHeight()-verifyTotalsH-2-1, 1)
}

// verifyTotalsH is the height of the totals pane, borders included.
const verifyTotalsH = 9

// verifyView draws the totals over the differences.
func (m Model) verifyView(w, h int) string {
	v := m.verify
	t := m.theme
	title := "Verify · job " + fmt.Sprint(v.job.ID)
	if v.job.Archive != "" {
		title += " · " + v.job.Archive
	}
	inner := w - 2
	switch {
	case errors.Is(v.err, model.ErrArchiveUnknown):
		// Bitbucket's jobs do not name their archive: said here, with
		// the command that can be told which.
		lines := wrapLines([]string{"", t.Problem.Render(fmt.Sprintf("Job %d does not say which archive it imported: "+
			"Bitbucket's jobs do not name it, and bbimport did not start this one from this machine.", v.job.ID)),
			"", "Verify it from a shell, naming its archive:"}, inner-1)
		// Two lines joined by the shell: a command cut at the edge is
		// copied broken.
		lines = append(lines, "  "+m.self()+" "+m.connection()+` \`, fmt.Sprintf("    verify %d --archive FILE", v.job.ID))
		lines = append(lines, wrapLines([]string{"", t.Dim.Render("esc goes back.")}, inner-1)...)
		return box(t, title, indent(lines), w, h, true)
	case v.err != nil:
		lines := wrapLines([]string{"", t.Problem.Render(fmt.Sprintf("Could not verify job %d: %s.", v.job.ID, sentence(v.err))),
			"", t.Dim.Render("esc goes back.")}, inner-1)
		return box(t, title, indent(lines), w, h, true)
	case v.report == nil:
		frames := verifySpin.Frames
		lines := []string{"", t.Busy.Render(frames[v.frame%len(frames)]) + fmt.Sprintf(" Comparing the archive of job %d with the target…", v.job.ID),
			"", t.Dim.Render("This reads the archive again and asks the target for every repository, ref and pull request; " +
				"it can take minutes. esc stops it.")}
		return box(t, title, indent(wrapLines(lines, inner-1)), w, h, true)
	}
	top := box(t, title, v.totalsLines(t, inner), w, verifyTotalsH, false)
	return top + "\n" + v.differencesBox(t, w, h-verifyTotalsH)
}

// totalsLines is the verdict and the counts per kind.
func (v *verifyPane) totalsLines(t Theme, w int) []string {
	r := v.report
	verdict := t.Good.Render("✓ Everything in the archive is on the target.")
	if !r.Complete() {
		verdict = t.Bad.Render("✗ "+hierarchiesSaid(r)) + ": " +
			model.Plural(len(r.Differences), "difference", "differences") + " listed below."
	}
	if v.busy != "" {
		verdict = t.Busy.Render(v.busy)
	}
	row := func(label string, a, b, c, d string) string {
		return fmt.Sprintf(" %-14s%10s%10s%10s%11s", label, a, b, c, d)
	}
	count := func(label string, c model.VerifyCount) string {
		return row(label, fmt.Sprint(c.Expected), fmt.Sprint(c.Present), fmt.Sprint(c.Missing), fmt.Sprint(c.Differing))
	}
	lines := []string{
		" " + verdict,
		"",
		t.Label.Render(row("", "expected", "present", "missing", "differing")),
		count("Hierarchies", r.Totals.Hierarchies),
		count("Repositories", r.Totals.Repositories),
		count("Refs", r.Totals.Refs),
		count("Pull requests", r.Totals.PullRequests),
	}
	return fitLines(lines, w, len(lines))
}

// hierarchiesSaid is "2 fork hierarchies missing, 1 incomplete, 1
// changed": missing and incomplete ones are what a remainder archive would
// hold; a changed one is all there but not as in the archive.
func hierarchiesSaid(r *model.VerifyReport) string {
	var missing, incomplete, changed int
	for i := range r.Hierarchies {
		h := &r.Hierarchies[i]
		switch {
		case h.Status == model.VerifyMissing:
			missing++
		case h.Status == model.VerifyDiffers && h.Lacking():
			incomplete++
		case h.Status == model.VerifyDiffers:
			changed++
		}
	}
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{missing, "missing"}, {incomplete, model.VerifyIncomplete}, {changed, model.VerifyChanged}} {
		if p.n == 0 {
			continue
		}
		n := fmt.Sprint(p.n)
		if len(parts) == 0 {
			n = model.Plural(p.n, "fork hierarchy", "fork hierarchies")
		}
		parts = append(parts, n+" "+p.what)
	}
	return strings.Join(parts, ", ")
}

// differencesBox is the differences, one line each, scrolled to the
// cursor, under the filter when one is set.
func (v *verifyPane) differencesBox(t Theme, w, h int) string {
	r := v.report
	inner := w - 2
	title := fmt.Sprintf("Differences (%d)", len(r.Differences))
	if v.filter.Value() != "" || v.filtering {
		title = fmt.Sprintf("Differences (%d of %d)", len(v.shown), len(r.Differences))
	}
	var lines []string
	if v.filtering || v.filter.Value() != "" {
		lines = append(lines, v.filter.View())
	}
	rows := max(h-2-len(lines), 1)
	top := max(0, v.cursor-rows+1)
	if len(v.shown) > rows {
		// Which of them show: the list goes on beyond the pane.
		title += fmt.Sprintf(" · %d–%d", top+1, min(top+rows, len(v.shown)))
	}
	switch {
	case r.Complete():
		lines = append(lines, "")
		for _, l := range wrapLines([]string{"Nothing to list: every hierarchy, repository, ref and pull request of the archive is on the target as in the archive."}, inner-2) {
			lines = append(lines, " "+l)
		}
	case len(v.shown) == 0:
		lines = append(lines, " "+t.Dim.Render(fmt.Sprintf("no difference contains %q", v.filter.Value())))
	default:
		widths := differenceWidths(v.cells, inner-2)
		for i := top; i < len(v.shown) && i < top+rows; i++ {
			line := differenceLine(t, r.Differences[v.shown[i]], widths, i == v.cursor)
			if i == v.cursor {
				line = t.Selected.Render(fit("▸ "+ansi.Strip(line), inner))
			} else {
				line = "  " + line
			}
			lines = append(lines, line)
		}
	}
	return box(t, title, lines, w, h, true)
}

// differenceCells are a difference's columns: repository, item, what
// differs, expected → found.
func differenceCells(d model.VerifyDifference) []string {
	repo := d.Repository
	if d.Target != "" && d.Target != d.Repository {
		repo += " (" + d.Target + ")"
	}
	item := d.Item
	if item == "" {
		item = d.Kind
	}
	what := d.Status
	if d.Status == model.VerifyDiffers && d.Field != "" {
		what = d.Field
	}
	change := ""
	if d.Expected != "" || d.Found != "" {
		found := d.Found
		if found == "" {
			found = "none"
		}
		change = shortHash(d.Expected) + " → " + shortHash(found)
	}
	return []string{repo, item, what, change}
}

// shortHash shortens a commit id as git log --oneline does; other values
// stay whole.
func shortHash(s string) string {
	if len(s) == 40 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == "" {
		return s[:12]
	}
	return s
}

// differenceLines is what the pane needs of every difference, made once
// per report with the report, off the update loop: the widest cell of each
// column, and each line in lower case for the filter to search.
type differenceLines struct {
	widest [4]int
	lower  []string
}

func measureDifferences(ds []model.VerifyDifference) differenceLines {
	l := differenceLines{lower: make([]string, len(ds))}
	for i, d := range ds {
		cells := differenceCells(d)
		for j, c := range cells {
			l.widest[j] = max(l.widest[j], ansi.StringWidth(c))
		}
		l.lower[i] = strings.ToLower(strings.Join(cells, " "))
	}
	return l
}

// differenceWidths sizes the repository, item and what columns to the
// widest, with a gap; when a line would not fit in w, the repository
// column, then the item column, give way down to a fifth of w each.
func differenceWidths(widest [4]int, w int) [3]int {
	ws := [3]int{widest[0] + 2, widest[1] + 2, widest[2] + 2}
	over := ws[0] + ws[1] + ws[2] + widest[3] - w
	for i := 0; i < 2 && over > 0; i++ {
		give := min(over, max(ws[i]-w/5, 0))
		ws[i] -= give
		over -= give
	}
	return ws
}

// column is s in a column w cells wide, cut short of its last cell so
// that a cut value does not run into the next column.
func column(s string, w int) string { return fit(s, w-1) + " " }

func differenceLine(t Theme, d model.VerifyDifference, ws [3]int, selected bool) string {
	c := differenceCells(d)
	what := column(c[2], ws[2])
	if !selected {
		st := t.Caution
		if d.Status == model.VerifyMissing {
			st = t.Bad
		}
		what = st.Render(strings.TrimRight(what, " ")) + strings.Repeat(" ", ws[2]-ansi.StringWidth(strings.TrimRight(what, " ")))
	}
	return column(c[0], ws[0]) + column(c[1], ws[1]) + what + c[3]
}
