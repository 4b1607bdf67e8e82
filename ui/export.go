package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/dustin/go-humanize"

	"bbimport/model"
	"bbimport/termsafe"
)

// The Export screen (e in the picker): pick projects and repositories from
// the instance's own list (model.Exporter's Exportable), see what they
// would export (PreviewExport, redone at each change of the selection),
// confirm and start; the job is then watched in the job view, as an
// import's. Below, the export and import directories' archives, with size
// and age, an old one removable after a confirm.

// ArchiveShelf is a local directory of archives (the home's export or
// import directory) that the Export screen lists and removes from.
type ArchiveShelf interface {
	// Label names the directory on screen: "export", "import".
	Label() string
	Dir() string
	// List returns the directory's archives, newest first.
	List(ctx context.Context) ([]model.ArchiveFile, error)
	// Remove deletes the archive of that name (relative to Dir).
	Remove(ctx context.Context, name string) error
}

// exportRow is a line of the selection list: a project, or one of its
// repositories (repo >= 0).
type exportRow struct {
	project, repo int
}

// shelfRow is a line of the archives pane: a directory's heading (file
// < 0) or one of its archives.
type shelfRow struct {
	shelf, file int
}

type shelfListing struct {
	files []model.ArchiveFile
	err   error
}

// exportScreen holds the Export screen's state: it lives as long as the
// console, so a selection survives a visit to the job view.
type exportScreen struct {
	selection

	shelves     []shelfListing
	shelfCursor int
	shelfFocus  bool
	starting    bool
}

type (
	shelvesMsg       struct{ listings []shelfListing }
	exportChosen     struct{ req model.ExportRequest }
	exportStartedMsg struct {
		job model.Job
		err error
	}
	removeChosen struct {
		shelf int
		file  model.ArchiveFile
	}
	removedMsg struct {
		file model.ArchiveFile
		err  error
	}
)

func newExportScreen() *exportScreen {
	return &exportScreen{selection: newSelection()}
}

func (m *Model) exportScr() *exportScreen { return m.screens[onExport].(*exportScreen) }

// openExport is e in the picker.
func (m *Model) openExport() tea.Cmd {
	e := m.exportScr()
	e.filter.SetStyles(m.theme.input())
	m.show(onExport)
	return tea.Batch(m.loadExportable(), m.listShelves())
}

// errNoExporter is why the list is empty with a backend that cannot
// export: the screen still shows, with what it can say of the archives.
var errNoExporter = errors.New("this console cannot start exports on " +
	"this backend; run bbimport export on the server's home")

func (m *Model) loadExportable() tea.Cmd {
	return m.loadSelection(&m.exportScr().selection, m.opts.Exporter, errNoExporter)
}

func (m *Model) listShelves() tea.Cmd {
	shelves, ctx := m.opts.Shelves, m.ctx
	if len(shelves) == 0 {
		return nil
	}
	return func() tea.Msg {
		out := make([]shelfListing, len(shelves))
		for i, s := range shelves {
			files, err := s.List(ctx)
			out[i] = shelfListing{files, safeErr(err)}
		}
		return shelvesMsg{out}
	}
}

func (m *Model) exportKey(msg tea.KeyPressMsg) tea.Cmd {
	e := m.exportScr()
	k := m.keys
	switch {
	case key.Matches(msg, k.Back, k.Picker):
		return m.backToPicker()
	case key.Matches(msg, k.Tab):
		e.shelfFocus = !e.shelfFocus
		return nil
	case key.Matches(msg, k.Watch):
		return m.watchRunning()
	}
	if e.shelfFocus {
		return m.shelfKey(msg)
	}
	if key.Matches(msg, k.ExportStart) {
		return m.confirmExport()
	}
	return m.selectionKey(&e.selection, m.opts.Exporter, msg)
}

// shelfRows are the archives pane's lines: each directory, then its files.
func (m *Model) shelfRows() []shelfRow {
	var rows []shelfRow
	for si, l := range m.exportScr().shelves {
		rows = append(rows, shelfRow{si, -1})
		for fi := range l.files {
			rows = append(rows, shelfRow{si, fi})
		}
	}
	return rows
}

func (m *Model) shelfKey(msg tea.KeyPressMsg) tea.Cmd {
	e := m.exportScr()
	k := m.keys
	rows := m.shelfRows()
	if key.Matches(msg, k.Remove) {
		if len(m.opts.Shelves) == 0 {
			m.setNotice("A remote Bitbucket has no call to remove an archive: remove it on the server, in its home's shared/data/migration directory.", true)
			return nil
		}
		if e.shelfCursor >= len(rows) || rows[e.shelfCursor].file < 0 {
			m.setNotice("Highlight an archive to remove.", false)
			return nil
		}
		r := rows[e.shelfCursor]
		f := e.shelves[r.shelf].files[r.file]
		s := m.opts.Shelves[r.shelf]
		if f.Unusable != "" {
			m.setNotice(shownName(f)+" is not an archive file; x removes archive files only.", true)
			return nil
		}
		m.push(&dialog{
			title: "Remove the archive?",
			lines: []string{
				fmt.Sprintf("%s (%s, %s old) in the %s directory %s is deleted from the disk.",
					shownName(f), humanize.IBytes(uint64(f.Size)), ageOf(m.opts.Now().Sub(f.ModTime)), s.Label(), termsafe.String(s.Dir())),
				"This cannot be undone.",
			},
			choices: []choice{
				{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "remove it")), removeChosen{r.shelf, f}},
				{key.NewBinding(key.WithKeys("n", "esc", "enter"), key.WithHelp("n/esc", "keep it")), nil},
			},
		})
		return nil
	}
	e.shelfCursor = scroll(msg, k, e.shelfCursor, len(rows)-1, m.height/2)
	return nil
}

// confirmExport is enter: the preview as a question.
func (m *Model) confirmExport() tea.Cmd {
	e := m.exportScr()
	req := e.request()
	switch {
	case len(req.RepositoriesRequest.Includes) == 0:
		m.setNotice("Nothing is selected: space selects a repository, a a whole project.", false)
		return nil
	case e.starting:
		return nil
	}
	body := func(m *Model, w int) []string {
		e := m.exportScr()
		if e.previewErr != nil {
			return []string{m.theme.Bad.Render("✗") + " " + e.previewErr.Error()}
		}
		if e.preview == nil {
			return []string{"Working out what the selection exports…"}
		}
		lines := m.exportPreviewData(*e.preview, w)
		lines = append(lines, "")
		for _, p := range e.preview.Projects {
			lines = append(lines, field(m.theme, "  "+p.Key, strings.Join(p.Repositories, " "), w)...)
		}
		lines = append(lines, "", "An export can be canceled at any time; a canceled export leaves no archive.")
		return lines
	}
	back := choice{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "back to the selection")), nil}
	start := choice{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "start the export")), exportChosen{req}}
	choices := []choice{start, back}
	if e.preview != nil && !e.preview.Fits() {
		choices = []choice{back}
	}
	m.push(&dialog{title: "Start the export?", body: body, choices: choices})
	return nil
}

func (m *Model) startExport(req model.ExportRequest) tea.Cmd {
	e := m.exportScr()
	if e.preview != nil && !e.preview.Fits() {
		return nil
	}
	e.starting = true
	m.setNotice("Starting the export…", false)
	x, ctx := m.opts.Exporter, m.ctx
	return func() tea.Msg {
		j, err := x.StartExport(ctx, req)
		return exportStartedMsg{safeJob(j), safeErr(err)}
	}
}

func (m *Model) exportMessage(msg tea.Msg) (tea.Cmd, bool) {
	e := m.exportScr()
	switch msg := msg.(type) {
	case exportableMsg:
		if msg.sel != &e.selection {
			return nil, false
		}
		return m.selectionLoaded(msg, m.opts.Exporter), true
	case exportPreviewMsg:
		if msg.sel != &e.selection {
			return nil, false
		}
		e.previewed(msg)
		return nil, true
	case shelvesMsg:
		e.shelves = msg.listings
		e.shelfCursor = max(0, min(e.shelfCursor, len(m.shelfRows())-1))
		return nil, true
	case exportChosen:
		return m.startExport(msg.req), true
	case exportStartedMsg:
		e.starting = false
		m.notice = ""
		if msg.err != nil {
			why := msg.err.Error()
			if errors.Is(msg.err, model.ErrExportsRunning) {
				why = "Two exports are running already; start this one when one of them ends."
			}
			m.push(&dialog{
				title: "The export did not start",
				lines: []string{why},
				choices: []choice{
					{key.NewBinding(key.WithKeys("enter", "esc"), key.WithHelp("enter/esc", "back to the selection")), nil},
				},
			})
			return nil, true
		}
		return m.openJob(msg.job, nil), true
	case removeChosen:
		s, ctx := m.opts.Shelves[msg.shelf], m.ctx
		f := msg.file
		return tea.Batch(func() tea.Msg {
			return removedMsg{f, safeErr(s.Remove(ctx, f.Name))}
		}), true
	case removedMsg:
		if msg.err != nil {
			m.setNotice(fmt.Sprintf("Could not remove %s: %v", shownName(msg.file), msg.err), true)
		} else {
			m.setNotice("Removed "+shownName(msg.file)+".", false)
		}
		return m.listShelves(), true
	}
	return nil, false
}

func (m *Model) exportPrompt(msg tea.Msg) tea.Cmd {
	return m.selectionPrompt(&m.exportScr().selection, msg)
}

// filterPrompt sends a key or a paste to a pane's filter, which narrows
// its list as it is typed: enter keeps it, esc clears it. changed says
// the filter's text is not what it was before this key.
func (m *Model) filterPrompt(msg tea.Msg, filter *textinput.Model, filtering *bool, narrow func(changed bool)) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, m.keys.Accept):
			*filtering = false
			filter.Blur()
			return nil
		case key.Matches(k, m.keys.Dismiss):
			*filtering = false
			filter.Blur()
			filter.SetValue("")
			narrow(true)
			return nil
		}
	}
	was := filter.Value()
	var cmd tea.Cmd
	*filter, cmd = filter.Update(msg)
	narrow(filter.Value() != was)
	return cmd
}

func (m *Model) exportHelp() bindings {
	k := m.keys
	e := m.exportScr()
	if e.filtering {
		return k.promptHelp()
	}
	general := k.general()
	if e.shelfFocus {
		short := []key.Binding{k.Remove, k.Tab, k.Back, k.Help, k.Quit}
		return bindings{short: short, full: [][]key.Binding{k.moves(), {k.Remove, k.Back}, general}}
	}
	actions := []key.Binding{k.ExportStart, k.ExportSelect, k.ExportProject, k.ExportFilter, k.Tab, k.Back}
	short := []key.Binding{k.ExportStart, k.ExportSelect, k.ExportProject, k.ExportFilter, k.Tab, k.Back}
	if m.jobRunning() {
		actions = append(actions, k.Watch)
	}
	return bindings{short: append(short, k.Help, k.Quit), full: [][]key.Binding{k.moves(), actions, general}}
}

func (*exportScreen) view(m *Model, w, h int) string { return m.exportView(w, h) }

func (*exportScreen) key(m *Model, msg tea.KeyPressMsg) tea.Cmd { return m.exportKey(msg) }

func (*exportScreen) help(m *Model) bindings { return m.exportHelp() }

func (*exportScreen) capturing(m *Model) bool { return m.exportScr().filtering }

func (*exportScreen) prompt(m *Model, msg tea.Msg) tea.Cmd { return m.exportPrompt(msg) }

func (*exportScreen) wheel(m *Model, msg tea.MouseWheelMsg) tea.Cmd {
	m.exportScr().selection.wheel(msg)
	return nil
}

func (*exportScreen) refresh(m *Model) tea.Cmd {
	return tea.Batch(m.loadExportable(), m.listShelves())
}

func (*exportScreen) message(m *Model, msg tea.Msg) (tea.Cmd, bool) { return m.exportMessage(msg) }

func (*exportScreen) setSize(*Model) {}

// isExport reports whether j is an export: it has no archive of the
// import directory to verify, and no checkpoints to wait for.
func isExport(j model.Job) bool { return j.Type == model.JobTypeExport }

// exportCancelDialog asks before stopping an export, which stops at once.
func exportCancelDialog(id int64) *dialog {
	return &dialog{
		title: fmt.Sprintf("Cancel job %d?", id),
		lines: []string{"The export stops at once and leaves no archive: its partial file is removed."},
		choices: []choice{
			{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "cancel the export")), cancelChosen{id}},
			{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "keep exporting")), nil},
		},
	}
}
