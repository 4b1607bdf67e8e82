package ui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"bbimport/model"
	"bbimport/termsafe"
)

// The picker drawn: the archive list, the preview with its checksum and
// pre-flight sections, and the preview's scrolling.

// topOf is the preview's first line for f: whatever way another archive
// got selected (keys, wheel, filter, a refreshed list), its preview starts
// at the top.
func (p *picker) topOf(f model.ArchiveFile) int {
	if p.previewOf != f.Path {
		return 0
	}
	return p.previewTop
}

func (p *picker) scrollPreview(f model.ArchiveFile, top int) {
	p.previewOf, p.previewTop = f.Path, top
}

func (m *Model) previewPage() int {
	_, _, _, ph := m.pickerLayout()
	return ph - 2
}

// previewLast is the last first line of f's preview that still fills it.
func (m *Model) previewLast(f model.ArchiveFile) int {
	_, _, pw, _ := m.pickerLayout()
	return max(0, len(m.previewLines(f, pw-2))-m.previewPage())
}

func (m *Model) pickerWheel(msg tea.MouseWheelMsg) tea.Cmd {
	p := &m.picker
	switch msg.Button {
	case tea.MouseWheelUp:
		if f, ok := p.selected(); ok && p.previewFocused {
			p.scrollPreview(f, max(0, p.topOf(f)-3))
		} else if p.cursor > 0 {
			p.cursor--
		}
	case tea.MouseWheelDown:
		if f, ok := p.selected(); ok && p.previewFocused {
			p.scrollPreview(f, min(p.topOf(f)+3, m.previewLast(f)))
		} else if p.cursor < len(p.shown)-1 {
			p.cursor++
		}
	}
	return m.fillPreview()
}

// scroll moves a position with the movement keys within [0, last].
func scroll(msg tea.KeyPressMsg, k keyMap, pos, last, page int) int {
	switch {
	case key.Matches(msg, k.Up):
		pos--
	case key.Matches(msg, k.Down):
		pos++
	case key.Matches(msg, k.PageUp):
		pos -= max(page, 1)
	case key.Matches(msg, k.PageDown):
		pos += max(page, 1)
	case key.Matches(msg, k.Top):
		pos = 0
	case key.Matches(msg, k.Bottom):
		pos = last
	}
	return max(0, min(pos, last))
}

// checksumLines is the checksum's state in w cells; a hash is never split
// across lines, so that it can be copied.
func checksumLines(t Theme, in *archiveInfo, w int) []string {
	check := func(s string) []string { return field(t, "Checksum", s, w) }
	switch {
	case in.summing:
		frac := 0.0
		if in.total > 0 {
			frac = float64(in.done) / float64(in.total)
		}
		return check(fmt.Sprintf("computing %3.0f%% ", frac*100) + bar(t, frac, 20))
	case in.sumErr != nil && errors.Is(in.sumErr, context.Canceled):
		return check("stopped; press m to compute it again")
	case in.sumErr != nil:
		return check(t.Problem.Render("could not be computed: " + in.sumErr.Error()))
	case in.sums == nil:
		return check(t.Dim.Render("not computed (m computes MD5 and SHA-256)"))
	}
	var verdict string
	switch in.source {
	case "":
		verdict = t.Dim.Render("not compared with the source (p pastes the source's checksum)")
	case in.sums.MD5:
		verdict = t.Good.Render("✓ MD5 matches the source")
	case in.sums.SHA256:
		verdict = t.Good.Render("✓ SHA-256 matches the source")
	default:
		verdict = t.Bad.Render("✗ differs from the source's " + in.source + ": copy the archive again")
	}
	if !in.recalled.IsZero() {
		verdict += t.Dim.Render(" (pasted " + in.recalled.Local().Format("Jan 02 15:04") + ")")
	}
	lines := check(verdict)
	lines = append(lines, field(t, "MD5", in.sums.MD5, w)...)
	return append(lines, field(t, "SHA-256", in.sums.SHA256, w)...)
}

func preflightLines(t Theme, f model.ArchiveFile, in *archiveInfo) []string {
	head := t.Title.Render("Pre-flight")
	switch {
	case in.summaryErr != nil:
		return []string{head, t.Problem.Render("✗ the archive could not be read: " + in.summaryErr.Error())}
	case in.summary == nil || in.preflight == nil:
		return []string{head, t.Dim.Render("checking…")}
	}
	pf := in.preflight
	lines := []string{head}
	switch {
	case pf.earlierErr != nil:
		lines = append(lines, t.Problem.Render("✗ earlier imports unknown: "+termsafe.String(pf.earlierErr.Error())))
	case len(pf.earlier) > 0:
		lines = append(lines, t.Caution.Render("!")+" imported into this target before (same SHA-256): "+earlierList(pf.earlier)+"; again, it is a second copy")
	}
	switch {
	case pf.checkErr != nil:
		lines = append(lines, t.Problem.Render("✗ "+termsafe.String(pf.checkErr.Error())))
	case len(pf.renames) == 0:
		lines = append(lines, t.Good.Render("✓")+" nothing renamed: no key, slug or name is taken on the target")
	default:
		for _, r := range pf.renames {
			lines = append(lines, t.Caution.Render("!")+" "+termsafe.String(foreseen(r)))
		}
	}
	switch {
	case pf.remote:
		// Not this machine's: the server's, which its API does not tell.
		lines = append(lines, t.Dim.Render("?")+fmt.Sprintf(" free disk on the target: unknown (remote): the import needs about %s free there", humanize.IBytes(uint64(2*f.Size))))
	case pf.freeErr != nil:
		lines = append(lines, t.Problem.Render("✗ free disk space unknown: "+pf.freeErr.Error()))
	case pf.free < f.Size:
		lines = append(lines, t.Bad.Render("✗")+fmt.Sprintf(" only %s free for %s archive: free some space first", humanize.IBytes(uint64(pf.free)), sized(f.Size)))
	case pf.free < 2*f.Size:
		lines = append(lines, t.Caution.Render("!")+fmt.Sprintf(" %s free for %s archive: tight, the repositories take about as much again", humanize.IBytes(uint64(pf.free)), sized(f.Size)))
	default:
		lines = append(lines, t.Good.Render("✓")+fmt.Sprintf(" %s free for %s archive", humanize.IBytes(uint64(pf.free)), sized(f.Size)))
	}
	return lines
}

// sized is "an 18 MiB", "a 2.0 GiB": a size with its article.
func sized(n int64) string {
	s := humanize.IBytes(uint64(n))
	return model.Article(s) + " " + s
}

// foreseen is a rename the import will make, said before it does.
func foreseen(r model.Rename) string {
	switch r.Kind {
	case model.RenameInvalidKey:
		return fmt.Sprintf("project key %s is not valid: it will be imported as %s", r.From, r.To)
	case model.RenameProjectKey:
		return fmt.Sprintf("project %s exists: it will be imported as %s", r.From, r.To)
	case model.RenameProjectName:
		return fmt.Sprintf("a project named %q exists: %s will be named %q", r.From, r.Project, r.To)
	case model.RenameInvalidSlug:
		return fmt.Sprintf("slug %q is not valid: it will be imported as %s/%s", r.From, r.Project, r.To)
	case model.RenameRepositorySlug:
		return fmt.Sprintf("%s/%s exists: it will be imported as %s/%s", r.Project, r.From, r.Project, r.To)
	}
	return fmt.Sprintf("a repository named %q exists in %s: it will be named %q", r.From, r.Project, r.To)
}

// earlierList names earlier imports: "job 3 (2026-12-07 14:02)".
func earlierList(list []model.ImportedArchive) string {
	s := make([]string, len(list))
	for i, ia := range list {
		s[i] = fmt.Sprintf("job %d (%s)", ia.Job, time.UnixMilli(ia.StartDate).Local().Format("2006-01-02 15:04"))
	}
	return strings.Join(s, ", ")
}

// sideBySideFrom is the width from which the list and the preview sit
// side by side; below it the preview goes under the list, full width, so
// that names and checksums are not cut at 80 columns.
const sideBySideFrom = 120

// labelW is the width of the field names in the preview and the dialogs.
const labelW = 14

// hashW is the width of a SHA-256 in hex: the preview is never narrower,
// so that the hash is never split.
const hashW = 64

// The archive list's columns beside the name, and the least it keeps for
// names when its width is shared with the preview.
const (
	archiveSizeW  = 10
	archiveDateW  = 12
	archiveOtherW = 2 + 1 + archiveSizeW + 1 + archiveDateW // cursor, size, date
	archiveNameW  = 20
)

// pickerLayout sizes the two panes in a w x h body; names is the widest
// archive name listed. Side by side, the list takes what its names need,
// and the preview the rest: from 80 cells inside, a SHA-256 sits beside
// its label, and it never has less than the hash and its indent.
func pickerLayout(w, h, rows, names int, filtered bool) (listW, listH, prevW, prevH int) {
	if w >= sideBySideFrom {
		listW = min(max(names, archiveNameW)+archiveOtherW+2, w-(hashW+underIndent+2))
		return listW, h, w - listW, h
	}
	if rows == 0 {
		rows = 4 // room to say there is nothing, and what to do
	}
	listH = rows + 2
	if filtered {
		listH++
	}
	listH = min(max(listH, 5), h/2)
	return w, listH, w, h - listH
}

func (m Model) pickerLayout() (listW, listH, prevW, prevH int) {
	p := m.picker
	names := 0
	for _, i := range p.shown {
		names = max(names, ansi.StringWidth(shownName(p.files[i])))
	}
	return pickerLayout(m.width, m.bodyHeight(), len(p.shown), names, p.filtering || p.filter.Value() != "")
}

// pickerView draws the archive list and the preview.
func (m Model) pickerView() string {
	lw, lh, pw, ph := m.pickerLayout()
	list, prev := m.archiveList(lw, lh), m.preview(pw, ph)
	if lh == ph {
		return sideBySide(list, prev)
	}
	return list + "\n" + prev
}

func (m Model) archiveList(w, h int) string {
	p := m.picker
	t := m.theme
	inner := w - 2
	var lines []string
	if p.filtering || p.filter.Value() != "" {
		fi := p.filter
		fi.SetWidth(inner - 4)
		lines = append(lines, fi.View())
	}
	rows := h - 2 - len(lines)
	switch {
	case !p.loaded:
		lines = append(lines, t.Dim.Render("reading the import directory…"))
	case p.listErr != nil:
		lines = append(lines, wrapLines([]string{t.Problem.Render(p.listErr.Error())}, inner)...)
	case len(p.files) == 0:
		lines = append(lines, wrapLines([]string{
			"No archives yet.",
			"",
			"Copy an export archive (.tar) into " + m.opts.Archives.Dir() + "; this list refreshes every 2 seconds.",
		}, inner)...)
	case len(p.shown) == 0:
		lines = append(lines, t.Dim.Render("no archive name contains "+fmt.Sprintf("%q", p.filter.Value())))
	default:
		top := max(0, p.cursor-rows+1) // the cursor stays in sight
		for i := top; i < len(p.shown) && i < top+rows; i++ {
			lines = append(lines, m.archiveRow(p.files[p.shown[i]], i == p.cursor, inner))
		}
	}
	title := fmt.Sprintf("Archives (%d)", len(p.files))
	if len(p.shown) != len(p.files) {
		title = fmt.Sprintf("Archives (%d of %d)", len(p.shown), len(p.files))
	}
	if n := len(p.queued); n > 0 {
		title += fmt.Sprintf(" · %d queued", n)
		if m.queueRunning {
			title += ", running"
		}
	}
	if n := len(m.home.waiting()); n > 0 {
		title += fmt.Sprintf(" · %d waiting in the queue (u)", n)
	}
	return box(t, title, lines, w, h, !p.previewFocused)
}

// archiveRow is "▸ name   size   modified", the date replaced by
// "copying…" while the file still grows.
func (m Model) archiveRow(f model.ArchiveFile, selected bool, w int) string {
	t := m.theme
	const sizeW, dateW = archiveSizeW, archiveDateW
	// While a queue is being made, a column says each archive's place.
	queueW := 0
	if len(m.picker.queued) > 0 {
		queueW = 1
	}
	nameW := max(w-archiveOtherW-queueW, 8)
	date := f.ModTime.Format("Jan 02 15:04")
	if f.Growing {
		date = "copying…"
	}
	mark := " "
	if selected {
		mark = "▸"
	}
	switch pos := m.picker.queuePos(f.Path); {
	case queueW == 0:
		mark += " "
	case pos == 0:
		mark += "  "
	case pos < 10:
		mark += fmt.Sprint(pos) + " "
	default:
		mark += "+ "
	}
	name := shownName(f)
	row := mark + fit(name, nameW) + " " + fmt.Sprintf("%*s", sizeW, humanize.IBytes(uint64(f.Size))) + " " + fmt.Sprintf("%-*s", dateW, date)
	if f.Unusable != "" {
		// The reason replaces size and date: the preview says it whole.
		row = mark + fit(name, nameW) + " ✗ " + termsafe.String(f.Unusable)
	}
	row = fit(row, w)
	switch {
	case selected:
		return t.Selected.Render(row)
	case f.Growing:
		return t.Caution.Render(row)
	case f.Unusable != "":
		return t.Dim.Render(row)
	}
	return row
}

func (m Model) preview(w, h int) string {
	p := m.picker
	f, ok := p.selected()
	if !ok {
		return box(m.theme, "Preview", nil, w, h, p.previewFocused)
	}
	lines := m.previewLines(f, w-2)
	top := min(p.topOf(f), max(0, len(lines)-(h-2)))
	lines = lines[top:]
	if rows := h - 2; len(lines) > rows && rows > 1 {
		// What does not fit is not silently cut: the pre-flight's last
		// line (free disk space) is often the one below the fold.
		more := len(lines) - rows + 1
		scroll := "tab, then ↓ scrolls"
		if p.previewFocused {
			scroll = "↓ scrolls"
		}
		lines = append(lines[:rows-1:rows-1], m.theme.Dim.Render(fmt.Sprintf("↓ %s below: %s", model.Plural(more, "more line", "more lines"), scroll)))
	}
	return box(m.theme, "Preview · "+shownName(f), lines, w, h, p.previewFocused)
}

// previewLines is what the preview shows of f, wrapped to w cells.
func (m Model) previewLines(f model.ArchiveFile, w int) []string {
	p := m.picker
	t := m.theme
	in := p.info[f.Path]
	if in == nil || in.stamp != stampOf(f) {
		in = &archiveInfo{}
	}
	if f.Unusable != "" {
		return wrapLines([]string{t.Problem.Render("✗ cannot be imported: " + termsafe.String(f.Unusable) + ".")}, w)
	}
	lines := []string{t.Dim.Render(humanize.IBytes(uint64(f.Size)) + " · modified " + f.ModTime.Format("2006-01-02 15:04"))}
	switch {
	case f.Growing:
		lines = append(lines, "", t.Caution.Render("copying…")+" the file is still growing; it can be inspected and started once its size settles.")
	case in.summaryErr != nil:
		lines = append(lines, "", t.Problem.Render("✗ not a readable archive: "+in.summaryErr.Error()))
	case in.summary == nil:
		lines = append(lines, "", t.Dim.Render("inspecting…"))
	default:
		lines = append(lines, summaryLinesIn(t, *in.summary, w)...)
	}
	lines = append(lines, "")
	lines = append(lines, checksumLines(m.theme, in, w)...)
	if !f.Growing {
		lines = append(lines, "")
		lines = append(lines, preflightLines(m.theme, f, in)...)
	}
	lines = wrapLines(lines, w)
	if p.comparing {
		ci := p.compare
		ci.SetWidth(w - ansi.StringWidth(ci.Prompt) - 1)
		// The prompt goes first so that it is in sight whatever the scroll.
		lines = append([]string{ci.View(), ""}, lines...)
	}
	return lines
}

// summaryLines is what inspect tells of an archive, a line per fact, for
// the plain console, whose terminal wraps.
func summaryLines(t Theme, s model.ArchiveSummary) []string {
	return summaryLinesIn(t, s, math.MaxInt32)
}

// summaryLinesIn is what inspect tells of an archive in w cells.
func summaryLinesIn(t Theme, s model.ArchiveSummary, w int) []string {
	keys := make([]string, len(s.Projects))
	for i, pr := range s.Projects {
		keys[i] = pr.Key
	}
	var lines []string
	for _, f := range [][2]string{
		{"Source", fmt.Sprintf("%s (%s %s)", s.Instance.InstanceName, s.Instance.Product, s.Instance.Version)},
		{"Projects", fmt.Sprintf("%d: %s", len(s.Projects), strings.Join(keys, ", "))},
		{"Hierarchies", fmt.Sprint(len(s.Hierarchies))},
		{"Repositories", fmt.Sprintf("%d (%s)", s.Repositories, model.Plural(s.Forks, "fork", "forks"))},
		{"Pull requests", fmt.Sprintf("%d: %d open, %d merged, %d declined", s.PullRequests.Total, s.PullRequests.Open, s.PullRequests.Merged, s.PullRequests.Declined)},
		{"Git data", humanize.IBytes(uint64(s.GitBytes))},
	} {
		lines = append(lines, field(t, f[0], f[1], w)...)
	}
	for _, warn := range s.Warnings {
		lines = append(lines, t.Caution.Render("! ")+warn)
	}
	return lines
}
