package ui

import (
	"errors"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"bbimport/model"
	"bbimport/termsafe"
)

// selection is a pick of projects and repositories from an instance's own
// list (model.Exporter's Exportable), with the preview of what they would
// export: the Export screen and the Migrate screen each hold one. Its
// answers name it, so that each screen takes only its own.
type selection struct {
	loaded   bool
	loadErr  error
	projects []model.ExportableProject
	rows     []exportRow
	cursor   int
	selected map[string]bool // "PRJ/slug", as the instance spells it

	filter    textinput.Model
	filtering bool

	previewGen int
	preview    *model.ExportPreview
	previewErr error
	previewing bool
}

type (
	exportableMsg struct {
		sel      *selection
		projects []model.ExportableProject
		err      error
	}
	exportPreviewMsg struct {
		sel *selection
		gen int
		p   model.ExportPreview
		err error
	}
)

func newSelection() selection {
	f := textinput.New()
	f.Prompt = "/ "
	f.Placeholder = "filter by key, slug or name"
	return selection{selected: map[string]bool{}, filter: f}
}

// reset forgets the list and what was selected: another instance's list
// comes.
func (e *selection) reset() {
	e.loaded, e.loadErr, e.projects, e.rows, e.cursor = false, nil, nil, nil, 0
	e.selected = map[string]bool{}
	e.previewGen++
	e.preview, e.previewErr, e.previewing = nil, nil, false
}

// loadSelection asks x for its projects; without x, none is the reason.
func (m *Model) loadSelection(s *selection, x model.Exporter, none error) tea.Cmd {
	ctx := m.ctx
	if x == nil {
		return func() tea.Msg { return exportableMsg{s, nil, none} }
	}
	return func() tea.Msg {
		ps, err := x.Exportable(ctx)
		return exportableMsg{s, ps, safeErr(err)}
	}
}

// selectionLoaded takes the list; a repository gone since is no longer
// selected, and the preview is asked for again.
func (m *Model) selectionLoaded(msg exportableMsg, x model.Exporter) tea.Cmd {
	e := msg.sel
	e.loaded, e.loadErr = true, msg.err
	if msg.err != nil {
		return nil
	}
	e.projects = safeExportable(msg.projects)
	known := map[string]bool{}
	for _, p := range e.projects {
		for _, r := range p.Repositories {
			known[repoPath(p, r)] = true
		}
	}
	changed := false
	for path := range e.selected {
		if !known[path] {
			delete(e.selected, path)
			changed = true
		}
	}
	e.relayout()
	if changed {
		return m.previewSelection(e, x)
	}
	return nil
}

// previewSelection asks for the preview of the selection as it now is; an
// older answer is dropped by its generation.
func (m *Model) previewSelection(e *selection, x model.Exporter) tea.Cmd {
	e.previewGen++
	e.preview, e.previewErr = nil, nil
	req := e.request()
	if len(req.RepositoriesRequest.Includes) == 0 || x == nil {
		e.previewing = false
		return nil
	}
	e.previewing = true
	gen, ctx := e.previewGen, m.ctx
	return func() tea.Msg {
		p, err := x.PreviewExport(ctx, req)
		return exportPreviewMsg{e, gen, p, safeErr(err)}
	}
}

func (e *selection) previewed(msg exportPreviewMsg) {
	if msg.gen != e.previewGen {
		return
	}
	e.previewing = false
	if msg.err != nil {
		e.previewErr = msg.err
		return
	}
	p := safePreview(msg.p)
	e.preview = &p
}

// selectionKey takes the list's keys: / filters, space selects, a takes
// the whole project, the moves move.
func (m *Model) selectionKey(e *selection, x model.Exporter, msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.ExportFilter):
		e.filtering = true
		return e.filter.Focus()
	case key.Matches(msg, k.ExportSelect, k.ExportProject):
		if e.cursor >= len(e.rows) {
			return nil
		}
		r := e.rows[e.cursor]
		p := e.projects[r.project]
		if r.repo < 0 || key.Matches(msg, k.ExportProject) {
			e.setProject(r.project, !e.projectWhole(r.project))
		} else {
			path := repoPath(p, p.Repositories[r.repo])
			if e.selected[path] {
				delete(e.selected, path)
			} else {
				e.selected[path] = true
			}
		}
		return m.previewSelection(e, x)
	}
	e.cursor = scroll(msg, k, e.cursor, len(e.rows)-1, m.height/2)
	return nil
}

func (m *Model) selectionPrompt(e *selection, msg tea.Msg) tea.Cmd {
	return m.filterPrompt(msg, &e.filter, &e.filtering, func(bool) {
		e.cursor = 0
		e.relayout()
	})
}

func (e *selection) wheel(msg tea.MouseWheelMsg) {
	e.cursor = max(0, min(e.cursor+wheelStep(msg), len(e.rows)-1))
}

func repoPath(p model.ExportableProject, r model.ExportableRepository) string {
	return p.Key + "/" + r.Slug
}

// relayout recomputes the rows the filter shows, keeping the cursor in range.
func (e *selection) relayout() {
	needle := strings.ToLower(strings.TrimSpace(e.filter.Value()))
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(strings.ToLower(x), needle) {
				return true
			}
		}
		return false
	}
	e.rows = e.rows[:0]
	for pi, p := range e.projects {
		projectHit := needle == "" || has(p.Key, p.Name)
		var repos []exportRow
		for ri, r := range p.Repositories {
			if projectHit || has(repoPath(p, r), r.Name) {
				repos = append(repos, exportRow{pi, ri})
			}
		}
		if projectHit || len(repos) > 0 {
			e.rows = append(e.rows, exportRow{pi, -1})
			e.rows = append(e.rows, repos...)
		}
	}
	e.cursor = max(0, min(e.cursor, len(e.rows)-1))
}

// projectWhole reports whether every repository of project pi is selected.
func (e *selection) projectWhole(pi int) bool {
	p := e.projects[pi]
	if len(p.Repositories) == 0 {
		return false
	}
	for _, r := range p.Repositories {
		if !e.selected[repoPath(p, r)] {
			return false
		}
	}
	return true
}

func (e *selection) setProject(pi int, on bool) {
	p := e.projects[pi]
	for _, r := range p.Repositories {
		if on {
			e.selected[repoPath(p, r)] = true
		} else {
			delete(e.selected, repoPath(p, r))
		}
	}
}

// request is the selection as Bitbucket's selectors: PRJ/* for a project
// whose every repository is selected, PRJ/slug for the others.
func (e *selection) request() model.ExportRequest {
	var req model.ExportRequest
	inc := []model.RepositorySelector{}
	for pi, p := range e.projects {
		if e.projectWhole(pi) {
			inc = append(inc, model.RepositorySelector{ProjectKey: p.Key, Slug: "*"})
			continue
		}
		for _, r := range p.Repositories {
			if e.selected[repoPath(p, r)] {
				inc = append(inc, model.RepositorySelector{ProjectKey: p.Key, Slug: r.Slug})
			}
		}
	}
	req.RepositoriesRequest.Includes = inc
	return req
}

func safeExportable(ps []model.ExportableProject) []model.ExportableProject {
	out := slices.Clone(ps)
	for i := range out {
		out[i].Name = termsafe.String(out[i].Name)
		rs := slices.Clone(out[i].Repositories)
		for j := range rs {
			rs[j].Name = termsafe.String(rs[j].Name)
			rs[j].Origin = termsafe.String(rs[j].Origin)
		}
		out[i].Repositories = rs
	}
	return out
}

func safePreview(p model.ExportPreview) model.ExportPreview {
	p.Directory = termsafe.String(p.Directory)
	ps := slices.Clone(p.Projects)
	for i := range ps {
		ps[i].Name = termsafe.String(ps[i].Name)
	}
	p.Projects = ps
	return p
}

// selectionLines are the list's rows, scrolled to keep the cursor in the h
// rows; the filter prompt takes the first row while used. A load error
// that is none is why the list is empty, said as it is.
func (m *Model) selectionLines(e *selection, none error, w, h int) []string {
	t := m.theme
	var lines []string
	if e.filtering || e.filter.Value() != "" {
		e.filter.SetWidth(max(w-4, 1))
		lines = append(lines, e.filter.View())
		h--
	}
	switch {
	case !e.loaded:
		return append(lines, t.Dim.Render("Asking the instance for its projects…"))
	case e.loadErr != nil:
		if none != nil && errors.Is(e.loadErr, none) {
			return append(lines, wrapLines([]string{capitalize(e.loadErr.Error()) + "."}, w)...)
		}
		return append(lines, wrapLines([]string{t.Bad.Render("✗") + " Could not list the projects: " + e.loadErr.Error()}, w)...)
	case len(e.projects) == 0:
		return append(lines, "The instance has no repositories to export: import an archive first.")
	case len(e.rows) == 0:
		return append(lines, "No project or repository matches the filter; esc clears it.")
	}
	top := max(0, min(e.cursor-h/2, len(e.rows)-h))
	for i := top; i < len(e.rows) && i < top+h; i++ {
		lines = append(lines, m.selectionRow(e, e.rows[i], i == e.cursor, w))
	}
	return lines
}

func (m *Model) selectionRow(e *selection, r exportRow, cursor bool, w int) string {
	t := m.theme
	p := e.projects[r.project]
	mark := "  "
	if cursor {
		mark = "▸ "
	}
	var row string
	if r.repo < 0 {
		box := "[ ]"
		n := 0
		for _, rp := range p.Repositories {
			if e.selected[repoPath(p, rp)] {
				n++
			}
		}
		switch {
		case e.projectWhole(r.project):
			box = "[x]"
		case n > 0:
			box = "[-]"
		}
		row = mark + box + " " + p.Key + "  " + p.Name + t.Dim.Render(" · "+model.Plural(len(p.Repositories), "repository", "repositories"))
	} else {
		rp := p.Repositories[r.repo]
		box := "[ ]"
		if e.selected[repoPath(p, rp)] {
			box = "[x]"
		}
		var extra string
		if rp.PullRequests != model.Unknown {
			extra = " · " + model.Plural(rp.PullRequests, "pull request", "pull requests")
		}
		if rp.Origin != "" {
			extra += " · fork of " + rp.Origin
		}
		row = mark + "    " + box + " " + rp.Slug + t.Dim.Render(extra)
	}
	if cursor {
		return t.Selected.Render(fit(row, w))
	}
	return row
}

// selectionPreviewLines is the backend's preview of the selection, or why
// there is none.
func (m *Model) selectionPreviewLines(e *selection, w int) []string {
	t := m.theme
	switch {
	case len(e.selected) == 0:
		return []string{t.Dim.Render("Select repositories (space) or whole projects (a): their preview shows here.")}
	case e.previewErr != nil:
		return wrapLines([]string{t.Bad.Render("✗") + " " + e.previewErr.Error()}, w)
	case e.preview == nil:
		return []string{t.Dim.Render("Working out what the selection exports…")}
	}
	return m.exportPreviewData(*e.preview, w)
}
