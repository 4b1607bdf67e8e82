package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dustin/go-humanize"

	"bbimport/model"
)

// migrateView is the pick (the ends, the selection, the migrations) or,
// with a migration open, its steps.
func (m *Model) migrateView(w, h int) string {
	g := m.migrateScr()
	if g.watching != "" {
		return box(m.theme, m.migrationTitle(), m.migrationLines(w-2), w, h, true)
	}
	ends := m.endsLines(w - 2)
	endsH := min(len(ends), 4) + 2
	listH := min(max(len(g.list), 1)+2, max(h/3, 5))
	selH := h - endsH - listH
	selW := w
	if w >= 120 {
		// The export's preview beside the selection.
		selW = w / 2
	}
	sel := box(m.theme, m.migrateSelTitle(), m.selectionLines(&g.sel, m.noSource(), selW-2, selH-2), selW, selH, !g.listFocus)
	if selW < w {
		sel = sideBySide(sel, box(m.theme, "Preview", m.selectionPreviewLines(&g.sel, w-selW-2), w-selW, selH, false))
	}
	return strings.Join([]string{
		box(m.theme, "Migrate · from the source to the target", ends, w, endsH, false),
		sel,
		box(m.theme, m.migrationsTitle(), m.migrationsLines(w-2, listH-2), w, listH, g.listFocus),
	}, "\n")
}

// endLine says what an end is and where its archives are.
func endLine(e model.MigrationEnd) string {
	if e.Home != "" {
		return e.Home + " · home on this machine"
	}
	s := e.URL
	if e.User != "" {
		s += " · as " + e.User
	}
	s += " · shared home " + e.SharedHome
	if e.SSH != "" {
		return s + " on " + e.SSH
	}
	return s
}

func (m *Model) endsLines(w int) []string {
	g, t := m.migrateScr(), m.theme
	from, to, ok := g.fromTo()
	switch {
	case m.opts.Migrator == nil:
		return []string{errNoMigrator.Error() + "."}
	case !ok:
		return wrapLines(g.notes, w)
	}
	lines := field(t, "From", endLine(from), w)
	lines = append(lines, field(t, "To", endLine(to), w)...)
	if len(g.pairs()) > 1 {
		lines = append(lines, t.Dim.Render(fit("d picks the other direction", w)))
	}
	return lines
}

func (m *Model) migrateSelTitle() string {
	g := m.migrateScr()
	title := "What to migrate"
	if n := len(g.sel.selected); n > 0 {
		title += fmt.Sprintf(" · %d selected", n)
	}
	if p := g.sel.preview; p != nil && p.EstimatedBytes != model.Unknown {
		title += " · about " + humanize.IBytes(uint64(p.EstimatedBytes))
	}
	return title
}

func (m *Model) migrationsTitle() string {
	return fmt.Sprintf("Migrations (%d)", len(m.migrateScr().list))
}

// migrationsLines list the recorded migrations, newest first.
func (m *Model) migrationsLines(w, h int) []string {
	g, t := m.migrateScr(), m.theme
	switch {
	case m.opts.Migrator == nil:
		return nil
	case g.listErr != nil:
		return wrapLines([]string{t.Bad.Render("✗") + " Could not list the migrations: " + g.listErr.Error()}, w)
	case len(g.list) == 0:
		return []string{t.Dim.Render("No migrations recorded yet.")}
	}
	top := max(0, min(g.listCursor-h/2, len(g.list)-h))
	var lines []string
	for i := top; i < len(g.list) && i < top+h; i++ {
		s := g.list[g.rowMigration(i)]
		row := fmt.Sprintf("%s  %s · %s → %s · %s", s.ID, stateWords(s), s.From, s.To, strings.Join(s.Selectors, " "))
		if g.listFocus && i == g.listCursor {
			row = t.Selected.Render(fit("▸ "+row, w))
		} else {
			row = "  " + row
		}
		lines = append(lines, fit(row, w))
	}
	return lines
}

// stepName is a step as the screen names it.
func stepName(step string) string {
	if step == model.MigrationDone {
		return "the end"
	}
	return "the " + step
}

// stateWords is a migration's state in a few words.
func stateWords(s model.MigrationStatus) string {
	switch {
	case s.Stopped:
		return "stopped at " + s.Step + ": r resumes it"
	case s.State == model.MigrationRunning:
		return "running: " + s.Step
	case s.State == model.MigrationFailed:
		return "failed at " + s.Step
	case s.State == model.MigrationCanceled:
		return "canceled at " + s.Step
	case s.State == model.MigrationIncomplete:
		return "incomplete: something is missing"
	}
	return s.State
}

func (m *Model) migrationTitle() string {
	g := m.migrateScr()
	title := "Migration " + g.watching
	if s := g.status; s != nil {
		title += " · " + stateWords(*s)
	}
	return title
}

// stepMark is how far a row of the steps is: done, the one at work (or
// where the migration stopped, and how), or to come.
type stepMark int

const (
	stepToCome stepMark = iota
	stepAtWork
	stepHasDone
)

// migrationLines is the one view of a migration: its ends, what it
// carries, each step with its progress, and what to do next.
func (m *Model) migrationLines(w int) []string {
	g, t := m.migrateScr(), m.theme
	s := g.status
	if s == nil {
		if g.statusErr != nil {
			return wrapLines([]string{t.Bad.Render("✗") + " Could not read the migration: " + g.statusErr.Error()}, w)
		}
		return []string{t.Dim.Render("Reading the migration…")}
	}
	lines := field(t, "From", endLine(s.From), w)
	lines = append(lines, field(t, "To", endLine(s.To), w)...)
	lines = append(lines, field(t, "What", strings.Join(s.Selectors, " "), w)...)
	lines = append(lines, "")
	at := slices.Index(model.MigrationSteps, s.Step)
	if s.Step == model.MigrationDone {
		at = len(model.MigrationSteps)
	}
	c := s.Carry
	summing := c != nil && s.Step == model.MigrationCarry && (c.Step == "source-md5" || c.Step == "target-md5")
	mark := func(step string) stepMark {
		i := slices.Index(model.MigrationSteps, step)
		switch {
		case i < at:
			return stepHasDone
		case i == at:
			return stepAtWork
		}
		return stepToCome
	}
	// The checksums are the carry's last part: a row of their own.
	carryMark, sumsMark := mark(model.MigrationCarry), mark(model.MigrationCarry)
	switch {
	case summing:
		carryMark = stepHasDone
	case carryMark == stepAtWork:
		sumsMark = stepToCome
	}
	rows := []struct {
		name   string
		mark   stepMark
		detail string
	}{
		{"preview", mark(model.MigrationPreview), m.previewDetail(s)},
		{"export", mark(model.MigrationExport), m.jobDetail(s.ExportJob, s.Export, "exporting", s.Archive, w)},
		{"carry", carryMark, m.carryDetail(s, carryMark, w)},
		{"checksums", sumsMark, m.sumsDetail(s, sumsMark)},
		{"import", mark(model.MigrationImport), m.jobDetail(s.ImportJob, s.Import, "importing", "", w)},
		{"verify", mark(model.MigrationVerify), m.verifyDetail(s)},
	}
	for _, r := range rows {
		var detail string
		if r.mark != stepToCome {
			detail = r.detail
		}
		head := m.stepGlyph(s, r.mark) + " " + t.Label.Render(fmt.Sprintf("%-10s", r.name))
		wrapped := wrapLines([]string{detail}, max(w-13, 10))
		for i, l := range wrapped {
			if i == 0 {
				lines = append(lines, head+" "+l)
			} else {
				lines = append(lines, strings.Repeat(" ", 13)+l)
			}
		}
	}
	lines = append(lines, "")
	return append(lines, wrapLines(m.migrationOutcome(*s), w)...)
}

// stepGlyph marks a row: ✓ done, ○ to come, and the row at work as the
// migration stands there (● running, ✗ failed, ■ canceled, ◌ stopped).
func (m *Model) stepGlyph(s *model.MigrationStatus, mark stepMark) string {
	t := m.theme
	switch mark {
	case stepHasDone:
		return t.Good.Render("✓")
	case stepToCome:
		return t.Dim.Render("○")
	}
	switch {
	case s.Stopped:
		return t.Bad.Render("◌")
	case s.State == model.MigrationFailed:
		return t.Bad.Render("✗")
	case s.State == model.MigrationCanceled:
		return t.Bad.Render("■")
	}
	return "●"
}

func (m *Model) previewDetail(s *model.MigrationStatus) string {
	if s.Preview != "" {
		return s.Preview
	}
	return "comparing the two ends' releases, working out what the export writes"
}

// jobDetail is an export's or an import's row: its job, and while it runs
// its percentage as the job's end last answered.
func (m *Model) jobDetail(id int64, j *model.Job, doing, archive string, w int) string {
	if id == 0 {
		return "starting"
	}
	if j == nil || j.State.Finished() {
		s := fmt.Sprintf("job %d", id)
		if j != nil {
			s += " " + string(j.State)
		}
		if archive != "" {
			s += " · " + archive
		}
		return s
	}
	pct := j.Progress.Percentage
	s := bar(m.theme, float64(pct)/100, min(20, w/5)) + fmt.Sprintf(" %3d%% · job %d", pct, id)
	if j.State != model.StateRunning {
		s += " " + string(j.State)
	}
	if j.Progress.Message != "" {
		s += " · " + j.Progress.Message
	}
	return s
}

func (m *Model) carryDetail(s *model.MigrationStatus, mark stepMark, w int) string {
	c := s.Carry
	switch {
	case c == nil || c.Total == 0:
		return "starting: into the target's import directory"
	case mark == stepHasDone || c.Path != "":
		d := humanize.IBytes(uint64(c.Total)) + " into the target's import directory"
		switch {
		case c.Attempts > 1 && c.Sent > 0:
			d += fmt.Sprintf(" (%s sent in %d attempts)", humanize.IBytes(uint64(c.Sent)), c.Attempts)
		case c.Attempts > 1:
			d += fmt.Sprintf(" (%d attempts)", c.Attempts)
		}
		return d
	}
	d := bar(m.theme, float64(c.Done)/float64(c.Total), min(20, w/5)) +
		fmt.Sprintf(" %s of %s", humanize.IBytes(uint64(c.Done)), humanize.IBytes(uint64(c.Total)))
	if c.Rate > 0 && s.Running() {
		d += " · " + humanize.IBytes(uint64(c.Rate)) + "/s"
	}
	if c.Step == "prefix" {
		d += " · hashing what was sent before"
	}
	if c.Attempts > 1 {
		d += fmt.Sprintf(" · attempt %d", c.Attempts)
	}
	return d
}

func (m *Model) sumsDetail(s *model.MigrationStatus, mark stepMark) string {
	c := s.Carry
	switch {
	case c == nil:
		return ""
	case mark == stepHasDone:
		return fmt.Sprintf("MD5 %s at the source, %s at the target: %s", c.SourceMD5, c.TargetMD5, m.theme.Good.Render("the same"))
	case mark == stepAtWork && c.Total > 0:
		return fmt.Sprintf("MD5 on each machine: %s of %s", humanize.IBytes(uint64(c.Done)), humanize.IBytes(uint64(c.Total)))
	}
	return ""
}

func (m *Model) verifyDetail(s *model.MigrationStatus) string {
	v, t := s.Verify, m.theme
	if v == nil {
		return "comparing the target with the archive"
	}
	counts := fmt.Sprintf("%d of %d repositories, %d of %d pull requests", v.Totals.Repositories.Present, v.Totals.Repositories.Expected,
		v.Totals.PullRequests.Present, v.Totals.PullRequests.Expected)
	if v.Complete {
		return t.Good.Render("complete") + ": " + counts
	}
	return t.Bad.Render(model.Plural(v.Differences, "difference", "differences")) + ": " + counts
}

// migrationOutcome is how the migration stands, and what to do about it.
func (m *Model) migrationOutcome(s model.MigrationStatus) []string {
	t := m.theme
	switch {
	case s.Stopped:
		return []string{t.Bad.Render("Its runner stopped at " + s.Step + " without a word (its log: " + s.Log + "). r resumes it from there.")}
	case s.State == model.MigrationRunning:
		return []string{t.Dim.Render("It runs in a process of its own: quitting the console does not stop it. c cancels it. " + cancelConsequence(s.Step))}
	case s.State == model.MigrationComplete:
		return []string{t.Good.Render("Everything in the archive is on the target.")}
	case s.State == model.MigrationIncomplete:
		return []string{t.Bad.Render("Something is missing on the target.") + " Write the remainder as an archive, then import it:", "  " + s.Remainder}
	case s.State == model.MigrationCanceled:
		return []string{t.Bad.Render("Canceled at "+s.Step+".") + " r resumes it from there" + resumeNote(s.Step)}
	}
	return []string{t.Bad.Render("Failed at "+s.Step+": ") + s.Error, "r resumes it from there" + resumeNote(s.Step)}
}

// resumeNote says what a resume at step keeps.
func resumeNote(step string) string {
	switch step {
	case model.MigrationCarry:
		return ", at the byte where the carry stopped."
	case model.MigrationExport:
		return "; the export it started is followed, or started again if it ended without an archive."
	case model.MigrationImport:
		return "; the import it started is followed, not started again, and verified for what arrived."
	}
	return "."
}
