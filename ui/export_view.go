package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"bbimport/model"
	"bbimport/termsafe"
)

// exportView draws the selection over the preview and the archives: side
// by side from 120 columns, stacked below.
func (m *Model) exportView(w, h int) string {
	e := m.exportScr()
	// The preview's four lines below the list (five with the directory
	// from 120 columns); the archives take the rest.
	listH := max((h-6)/2+1, 5)
	lowH := h - listH
	if w >= 120 {
		// Side by side, the lower panes are as high as the archives need
		// (the preview's five lines at least): the list gets the rest.
		lowH = max(min(len(m.shelfRows())+2, h/2), 7)
		listH = h - lowH
	}
	list := box(m.theme, m.exportTitle(), m.exportLines(w-2, listH-2), w, listH, !e.shelfFocus)
	if w >= 120 {
		pw := w / 2
		return strings.Join([]string{list, sideBySide(
			box(m.theme, "Preview", m.exportPreviewLines(pw-2), pw, lowH, false),
			box(m.theme, m.shelfTitle(), m.shelfLines(w-pw-2, lowH-2), w-pw, lowH, e.shelfFocus),
		)}, "\n")
	}
	previewH := min(6, lowH/2+1)
	shelfH := lowH - previewH
	return strings.Join([]string{list,
		box(m.theme, "Preview", m.exportPreviewLines(w-2), w, previewH, false),
		box(m.theme, m.shelfTitle(), m.shelfLines(w-2, shelfH-2), w, shelfH, e.shelfFocus),
	}, "\n")
}

func (m *Model) exportTitle() string {
	e := m.exportScr()
	title := "Export · pick projects and repositories"
	if n := len(e.selected); n > 0 {
		title += fmt.Sprintf(" · %d selected", n)
	}
	return title
}

// exportLines are the selection list's rows.
func (m *Model) exportLines(w, h int) []string {
	return m.selectionLines(&m.exportScr().selection, errNoExporter, w, h)
}

// exportPreviewLines is the backend's preview of the selection.
func (m *Model) exportPreviewLines(w int) []string {
	return m.selectionPreviewLines(&m.exportScr().selection, w)
}

// exportPreviewData says what an export writes and whether it fits, for the
// pane and the confirmation alike.
func (m *Model) exportPreviewData(p model.ExportPreview, w int) []string {
	t := m.theme
	keys := make([]string, len(p.Projects))
	for i, pr := range p.Projects {
		keys[i] = pr.Key
	}
	lines := field(t, "Projects", fmt.Sprintf("%d: %s", len(p.Projects), strings.Join(keys, ", ")), w)
	lines = append(lines, field(t, "Repositories", fmt.Sprintf("%d (%s) in %s", p.Repositories, model.Plural(p.Forks, "fork", "forks"), model.Plural(p.Hierarchies, "fork hierarchy", "fork hierarchies")), w)...)
	prs := "unknown: the server does not count them"
	if p.PullRequests != model.Unknown {
		prs = fmt.Sprint(p.PullRequests)
	}
	lines = append(lines, field(t, "Pull requests", prs, w)...)
	// Neither ✓ nor ✗ when unknown: a Bitbucket does not estimate an export.
	size := "unknown: the server does not estimate it; check its free disk"
	if p.SizeKnown() {
		size = fmt.Sprintf("about %s, %s free", humanize.IBytes(uint64(p.EstimatedBytes)), humanize.IBytes(uint64(p.FreeBytes)))
		if p.Fits() {
			size = t.Good.Render("✓") + " " + size
		} else {
			size = t.Bad.Render("✗") + " " + size + ": free some space first; the export is refused"
		}
	}
	lines = append(lines, field(t, "Size", size, w)...)
	if p.Directory != "" {
		lines = append(lines, field(t, "Into", p.Directory, w)...)
	}
	return lines
}

func (m *Model) shelfTitle() string {
	return "Archives on disk"
}

// shelfLines list each directory and its archives with size and age; with
// a remote backend, why there is nothing to list.
func (m *Model) shelfLines(w, h int) []string {
	e, t := m.exportScr(), m.theme
	if len(m.opts.Shelves) == 0 {
		return wrapLines([]string{"A remote Bitbucket has no call to list or remove the archives of its export and import directories: look in its home's shared/data/migration directory on the server."}, w)
	}
	rows := m.shelfRows()
	if len(rows) == 0 {
		return []string{t.Dim.Render("Reading the export and import directories…")}
	}
	top := max(0, min(e.shelfCursor-h/2, len(rows)-h))
	var lines []string
	now := m.opts.Now()
	for i := top; i < len(rows) && i < top+h; i++ {
		r := rows[i]
		s, l := m.opts.Shelves[r.shelf], e.shelves[r.shelf]
		cursor := e.shelfFocus && i == e.shelfCursor
		var line string
		if r.file < 0 {
			line = t.Label.Render(s.Label()) + " " + t.Dim.Render(termsafe.String(s.Dir()))
			switch {
			case l.err != nil:
				line += " " + t.Bad.Render("✗ "+l.err.Error())
			case len(l.files) == 0:
				line += t.Dim.Render(" · no archives")
			}
		} else {
			f := l.files[r.file]
			tail := fmt.Sprintf("%10s %8s", humanize.IBytes(uint64(f.Size)), ageOf(now.Sub(f.ModTime))+" old")
			name := "  " + shownName(f)
			line = fit(name, max(w-len(tail)-1, 1)) + " " + tail
			switch {
			case f.Unusable != "":
				line = fit(name+" "+t.Dim.Render("✗ "+termsafe.String(f.Unusable)), w)
			case f.Growing:
				line = fit(name, max(w-len(tail)-1, 1)) + " " + t.Dim.Render(fmt.Sprintf("%19s", "copying…"))
			}
		}
		if cursor {
			line = t.Selected.Render(fit(line, w))
		}
		lines = append(lines, line)
	}
	return lines
}

// ageOf is how old an archive is, in the largest unit that says it: 45s,
// 12m, 3h, 9d.
func ageOf(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(int(d.Seconds()), 0))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
