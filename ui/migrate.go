package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"bbimport/model"
	"bbimport/termsafe"
)

// The Migrate screen (t in the picker): pick the source and the target
// among the ends the console was opened with, select what to export from
// the source (the Export screen's selection), confirm, then follow the
// migration's steps in one view; below the selection, every recorded
// migration, to open, cancel or resume. model.Migrator does the work: a
// migration runs in a runner process of its own, which the console only
// starts, reads, signals and restarts.

// migratePollEvery paces the reads of the migration on screen.
const migratePollEvery = tickEvery / 2

type migrateScreen struct {
	ends  []model.MigrationEnd
	notes []string
	pair  int // which ordered pair of ends: from, to

	sel selection

	list       []model.MigrationStatus
	listErr    error
	listCursor int
	listFocus  bool

	// watching is the id of the migration on screen; "" while picking.
	watching  string
	status    *model.MigrationStatus
	statusErr error
	pollGen   int
	starting  bool
}

type (
	migrationsMsg struct {
		list []model.MigrationStatus
		err  error
	}
	migrationMsg struct {
		gen    int
		status model.MigrationStatus
		err    error
	}
	migratePollDue struct{ gen int }
	migrateChosen  struct{ req model.MigrationRequest }
	migrateStarted struct {
		status model.MigrationStatus
		err    error
		verb   string // start, resume
	}
	migrateCancelChosen struct{ id string }
	migrateCanceled     struct {
		id  string
		err error
	}
)

// errNoMigrator is why the screen has nothing with a console given no
// Migrator (tests of other screens, plain mode).
var errNoMigrator = errors.New("this console has no migrations to offer")

// errNoEnds is why there is no list with fewer than two ends; the notes
// above say what to do.
var errNoEnds = errors.New("a migration needs a source and a target: see above")

// errSourceCannotExport is why the selection is empty when the source's
// backend has no export calls.
var errSourceCannotExport = errors.New("the source cannot export from this console; d picks the other direction")

func newMigrateScreen() *migrateScreen { return &migrateScreen{sel: newSelection()} }

func (m *Model) migrateScr() *migrateScreen { return m.screens[onMigrate].(*migrateScreen) }

// openMigrate is t in the picker.
func (m *Model) openMigrate() tea.Cmd {
	g := m.migrateScr()
	g.sel.filter.SetStyles(m.theme.input())
	if mg := m.opts.Migrator; mg != nil && g.ends == nil {
		g.ends, g.notes = mg.Ends()
		g.ends = safeEnds(g.ends)
		// First from an end that can export, a home before a server: a
		// console opened on a home and a server offers to migrate the
		// home to the server; d offers the other way.
		ps := g.pairs()
		first := slices.IndexFunc(ps, func(p [2]int) bool { return g.ends[p[0]].Home != "" && mg.Exporter(g.ends[p[0]]) != nil })
		if first < 0 {
			first = slices.IndexFunc(ps, func(p [2]int) bool { return mg.Exporter(g.ends[p[0]]) != nil })
		}
		g.pair = max(first, 0)
	}
	if len(g.ends) < 2 {
		g.listFocus = true
	}
	m.show(onMigrate)
	return tea.Batch(m.loadSource(), m.listMigrations())
}

// pairs are the ordered pairs of distinct ends, in the order d steps
// through them.
func (g *migrateScreen) pairs() [][2]int {
	var ps [][2]int
	for i := range g.ends {
		for j := range g.ends {
			if i != j {
				ps = append(ps, [2]int{i, j})
			}
		}
	}
	return ps
}

// fromTo is the chosen source and target; ok is false with fewer than two
// ends.
func (g *migrateScreen) fromTo() (from, to model.MigrationEnd, ok bool) {
	ps := g.pairs()
	if len(ps) == 0 {
		return model.MigrationEnd{}, model.MigrationEnd{}, false
	}
	p := ps[g.pair%len(ps)]
	return g.ends[p[0]], g.ends[p[1]], true
}

func (m *Model) sourceExporter() model.Exporter {
	from, _, ok := m.migrateScr().fromTo()
	if !ok || m.opts.Migrator == nil {
		return nil
	}
	return m.opts.Migrator.Exporter(from)
}

func (m *Model) loadSource() tea.Cmd {
	return m.loadSelection(&m.migrateScr().sel, m.sourceExporter(), m.noSource())
}

// noSource is why there is no list to pick from, said as it is.
func (m *Model) noSource() error {
	g := m.migrateScr()
	switch {
	case m.opts.Migrator == nil:
		return errNoMigrator
	case len(g.ends) < 2:
		return errNoEnds
	}
	return errSourceCannotExport
}

func (m *Model) listMigrations() tea.Cmd {
	mg, ctx := m.opts.Migrator, m.ctx
	if mg == nil {
		return nil
	}
	return func() tea.Msg {
		l, err := mg.Migrations(ctx)
		return migrationsMsg{l, safeErr(err)}
	}
}

// readMigration reads the migration on screen; its answer carries the
// poll's generation, so that one for a migration left is dropped.
func (m *Model) readMigration() tea.Cmd {
	g := m.migrateScr()
	mg, ctx, id, gen := m.opts.Migrator, m.ctx, g.watching, g.pollGen
	return func() tea.Msg {
		s, err := mg.Migration(ctx, id)
		return migrationMsg{gen, s, safeErr(err)}
	}
}

// watchMigration shows one migration's steps, read until it ends.
func (m *Model) watchMigration(s model.MigrationStatus) tea.Cmd {
	g := m.migrateScr()
	s = safeMigration(s)
	g.watching, g.status, g.statusErr = s.ID, &s, nil
	g.pollGen++
	m.show(onMigrate)
	return m.readMigration()
}

// leaveMigration goes from a migration's view back to the pick; its polls
// stop.
func (m *Model) leaveMigration() tea.Cmd {
	g := m.migrateScr()
	g.watching, g.status, g.statusErr = "", nil, nil
	g.pollGen++
	return m.listMigrations()
}

func (m *Model) migrateKey(msg tea.KeyPressMsg) tea.Cmd {
	g := m.migrateScr()
	k := m.keys
	if g.watching != "" {
		switch {
		case key.Matches(msg, k.Back):
			return m.leaveMigration()
		case key.Matches(msg, k.Picker):
			m.leaveMigration()
			return m.backToPicker()
		case key.Matches(msg, k.MigrateCancel):
			return m.confirmMigrateCancel()
		case key.Matches(msg, k.MigrateResume):
			return m.resumeMigration(g.watching)
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Back, k.Picker):
		return m.backToPicker()
	case key.Matches(msg, k.Tab):
		g.listFocus = !g.listFocus
		return nil
	case key.Matches(msg, k.MigrateEnds):
		if len(g.pairs()) < 2 {
			return nil
		}
		g.pair = (g.pair + 1) % len(g.pairs())
		g.sel.reset()
		return m.loadSource()
	}
	if g.listFocus {
		return m.migrationsKey(msg)
	}
	if key.Matches(msg, k.MigrateStart) {
		return m.confirmMigrate()
	}
	return m.selectionKey(&g.sel, m.sourceExporter(), msg)
}

// migrationsKey is the keys of the migrations pane.
func (m *Model) migrationsKey(msg tea.KeyPressMsg) tea.Cmd {
	g := m.migrateScr()
	k := m.keys
	if g.listCursor >= len(g.list) {
		return nil
	}
	s := g.list[g.rowMigration(g.listCursor)]
	switch {
	case key.Matches(msg, k.MigrateOpen):
		return m.watchMigration(s)
	case key.Matches(msg, k.MigrateResume):
		return m.resumeMigration(s.ID)
	}
	g.listCursor = scroll(msg, k, g.listCursor, len(g.list)-1, m.height/2)
	return nil
}

// rowMigration is the migration on row i of the pane: newest first.
func (g *migrateScreen) rowMigration(i int) int { return len(g.list) - 1 - i }

// confirmMigrate is enter: the ends, the selection and its preview as a
// question.
func (m *Model) confirmMigrate() tea.Cmd {
	g := m.migrateScr()
	from, to, ok := g.fromTo()
	req := g.sel.request()
	switch {
	case !ok:
		m.setNotice(strings.Join(g.notes, " "), true)
		return nil
	case len(req.RepositoriesRequest.Includes) == 0:
		m.setNotice("Nothing is selected: space selects a repository, a a whole project.", false)
		return nil
	case g.starting:
		return nil
	}
	var selectors []string
	for _, s := range req.RepositoriesRequest.Includes {
		selectors = append(selectors, s.String())
	}
	body := func(m *Model, w int) []string {
		t := m.theme
		lines := field(t, "From", endLine(from), w)
		lines = append(lines, field(t, "To", endLine(to), w)...)
		lines = append(lines, field(t, "What", strings.Join(selectors, " "), w)...)
		switch {
		case g.sel.previewErr != nil:
			lines = append(lines, t.Bad.Render("✗")+" "+g.sel.previewErr.Error())
		case g.sel.preview != nil:
			lines = append(lines, m.exportPreviewData(*g.sel.preview, w)...)
		default:
			lines = append(lines, "Working out what the selection exports…")
		}
		return append(lines, "",
			"Export, carry with both MD5s compared, import and verify run in a process of their own: quitting the console does not stop them.")
	}
	back := choice{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "back to the selection")), nil}
	start := choice{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "start the migration")),
		migrateChosen{model.MigrationRequest{From: from, To: to, Selectors: selectors}}}
	choices := []choice{start, back}
	if p := g.sel.preview; p != nil && !p.Fits() {
		choices = []choice{back}
	}
	m.push(&dialog{title: "Start the migration?", body: body, choices: choices})
	return nil
}

func (m *Model) startMigration(req model.MigrationRequest) tea.Cmd {
	g := m.migrateScr()
	g.starting = true
	m.setNotice("Starting the migration…", false)
	mg, ctx := m.opts.Migrator, m.ctx
	return func() tea.Msg {
		s, err := mg.StartMigration(ctx, req)
		return migrateStarted{s, safeErr(err), "start"}
	}
}

func (m *Model) resumeMigration(id string) tea.Cmd {
	g := m.migrateScr()
	s := g.find(id)
	if s == nil || !s.Resumable() {
		m.setNotice("Only a migration that failed, was canceled or stopped can be resumed.", false)
		return nil
	}
	m.setNotice("Resuming migration "+id+"…", false)
	mg, ctx := m.opts.Migrator, m.ctx
	return func() tea.Msg {
		s, err := mg.ResumeMigration(ctx, id)
		return migrateStarted{s, safeErr(err), "resume"}
	}
}

// find is the migration of that id as last read: the one on screen, else
// the list's.
func (g *migrateScreen) find(id string) *model.MigrationStatus {
	if g.status != nil && g.status.ID == id {
		return g.status
	}
	for i := range g.list {
		if g.list[i].ID == id {
			return &g.list[i]
		}
	}
	return nil
}

// cancelConsequence is what canceling does at a step.
func cancelConsequence(step string) string {
	switch step {
	case model.MigrationPreview, model.MigrationExport:
		return "The export stops at once and leaves no archive; r starts it again."
	case model.MigrationCarry:
		return "The carry stops; r resumes it at the byte where it stopped."
	case model.MigrationImport:
		return "The import stops at its next checkpoint; what it imported stays on the target."
	}
	return "Verify stops; r runs it again."
}

func (m *Model) confirmMigrateCancel() tea.Cmd {
	s := m.migrateScr().status
	if s == nil || !s.Running() {
		m.setNotice("The migration is not running.", false)
		return nil
	}
	m.push(&dialog{
		title: "Cancel migration " + s.ID + "?",
		lines: []string{"It is at " + stepName(s.Step) + ". " + cancelConsequence(s.Step)},
		choices: []choice{
			{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "cancel the migration")), migrateCancelChosen{s.ID}},
			{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "keep migrating")), nil},
		},
	})
	return nil
}

func (m *Model) migrateMessage(msg tea.Msg) (tea.Cmd, bool) {
	g := m.migrateScr()
	switch msg := msg.(type) {
	case exportableMsg:
		if msg.sel != &g.sel {
			return nil, false
		}
		return m.selectionLoaded(msg, m.sourceExporter()), true
	case exportPreviewMsg:
		if msg.sel != &g.sel {
			return nil, false
		}
		g.sel.previewed(msg)
		return nil, true
	case migrationsMsg:
		g.list, g.listErr = safeMigrations(msg.list), msg.err
		g.listCursor = max(0, min(g.listCursor, len(g.list)-1))
		return nil, true
	case migrationMsg:
		if msg.gen != g.pollGen || g.watching == "" {
			return nil, true
		}
		if msg.err != nil {
			g.statusErr = msg.err
		} else {
			s := safeMigration(msg.status)
			g.status, g.statusErr = &s, nil
		}
		if g.status != nil && !g.status.Running() && g.statusErr == nil {
			return nil, true // ended or stopped: nothing moves until r
		}
		return m.after(migratePollEvery, migratePollDue{g.pollGen}), true
	case migratePollDue:
		if msg.gen != g.pollGen || g.watching == "" {
			return nil, true
		}
		return m.readMigration(), true
	case migrateChosen:
		return m.startMigration(msg.req), true
	case migrateStarted:
		g.starting = false
		m.notice = ""
		if msg.err != nil {
			m.push(&dialog{
				title: "The migration did not " + msg.verb,
				lines: []string{capitalize(msg.err.Error()) + "."},
				choices: []choice{
					{key.NewBinding(key.WithKeys("enter", "esc"), key.WithHelp("enter/esc", "back")), nil},
				},
			})
			return nil, true
		}
		g.sel.selected = map[string]bool{}
		g.sel.previewGen++
		g.sel.preview, g.sel.previewErr = nil, nil
		return tea.Batch(m.watchMigration(msg.status), m.listMigrations()), true
	case migrateCancelChosen:
		mg, ctx, id := m.opts.Migrator, m.ctx, msg.id
		return func() tea.Msg { return migrateCanceled{id, safeErr(mg.CancelMigration(ctx, id))} }, true
	case migrateCanceled:
		if msg.err != nil {
			m.setNotice(fmt.Sprintf("Could not cancel migration %s: %v", msg.id, msg.err), true)
		} else {
			m.setNotice("Migration "+msg.id+" is being canceled.", false)
		}
		return nil, true
	}
	return nil, false
}

func (m *Model) migrateHelp() bindings {
	k := m.keys
	g := m.migrateScr()
	general := k.general()
	switch {
	case g.sel.filtering:
		return k.promptHelp()
	case g.watching != "":
		var actions []key.Binding
		if s := g.status; s != nil && s.Running() {
			actions = append(actions, k.MigrateCancel)
		}
		if s := g.status; s != nil && s.Resumable() {
			actions = append(actions, k.MigrateResume)
		}
		actions = append(actions, k.Back, k.Picker)
		return bindings{short: append(slices.Clone(actions), k.Help, k.Quit), full: [][]key.Binding{actions, general}}
	case g.listFocus:
		actions := []key.Binding{k.MigrateOpen, k.MigrateResume, k.Tab, k.Back}
		return bindings{short: append(slices.Clone(actions), k.Help, k.Quit), full: [][]key.Binding{k.moves(), actions, general}}
	}
	actions := []key.Binding{k.MigrateStart, k.ExportSelect, k.ExportProject, k.ExportFilter, k.MigrateEnds, k.Tab, k.Back}
	return bindings{short: append(slices.Clone(actions), k.Help, k.Quit), full: [][]key.Binding{k.moves(), actions, general}}
}

func (*migrateScreen) view(m *Model, w, h int) string { return m.migrateView(w, h) }

func (*migrateScreen) key(m *Model, msg tea.KeyPressMsg) tea.Cmd { return m.migrateKey(msg) }

func (*migrateScreen) help(m *Model) bindings { return m.migrateHelp() }

func (*migrateScreen) capturing(m *Model) bool {
	g := m.migrateScr()
	return g.watching == "" && g.sel.filtering
}

func (*migrateScreen) prompt(m *Model, msg tea.Msg) tea.Cmd {
	return m.selectionPrompt(&m.migrateScr().sel, msg)
}

func (*migrateScreen) wheel(m *Model, msg tea.MouseWheelMsg) tea.Cmd {
	g := m.migrateScr()
	if g.listFocus {
		g.listCursor = max(0, min(g.listCursor+wheelStep(msg), len(g.list)-1))
	} else {
		g.sel.wheel(msg)
	}
	return nil
}

// refresh re-reads the list and the source's projects while picking; a
// migration on screen has its own polls.
func (*migrateScreen) refresh(m *Model) tea.Cmd {
	if m.migrateScr().watching != "" {
		return nil
	}
	return tea.Batch(m.loadSource(), m.listMigrations())
}

func (*migrateScreen) message(m *Model, msg tea.Msg) (tea.Cmd, bool) { return m.migrateMessage(msg) }

func (*migrateScreen) setSize(*Model) {}

func safeEnds(es []model.MigrationEnd) []model.MigrationEnd {
	out := slices.Clone(es)
	for i := range out {
		out[i] = safeEnd(out[i])
	}
	return out
}

func safeEnd(e model.MigrationEnd) model.MigrationEnd {
	e.Home, e.URL, e.User = termsafe.String(e.Home), termsafe.String(e.URL), termsafe.String(e.User)
	e.SSH, e.SharedHome = termsafe.String(e.SSH), termsafe.String(e.SharedHome)
	return e
}

// safeMigration makes a record's text safe to print: a record is a file
// anyone with the state directory may have written.
func safeMigration(s model.MigrationStatus) model.MigrationStatus {
	s.ID = termsafe.String(s.ID)
	s.From, s.To = safeEnd(s.From), safeEnd(s.To)
	s.Selectors = slices.Clone(s.Selectors)
	for i := range s.Selectors {
		s.Selectors[i] = termsafe.String(s.Selectors[i])
	}
	s.Step, s.Error, s.Preview = termsafe.String(s.Step), termsafe.String(s.Error), termsafe.String(s.Preview)
	s.Archive, s.Remainder = termsafe.String(s.Archive), termsafe.String(s.Remainder)
	if s.Carry != nil {
		c := *s.Carry
		c.Path, c.SourceMD5, c.TargetMD5, c.Step = termsafe.String(c.Path), termsafe.String(c.SourceMD5), termsafe.String(c.TargetMD5), termsafe.String(c.Step)
		c.Sums.MD5, c.Sums.SHA256 = termsafe.String(c.Sums.MD5), termsafe.String(c.Sums.SHA256)
		c.Notes = slices.Clone(c.Notes)
		for i := range c.Notes {
			c.Notes[i] = termsafe.String(c.Notes[i])
		}
		s.Carry = &c
	}
	if s.Export != nil {
		j := safeJob(*s.Export)
		s.Export = &j
	}
	if s.Import != nil {
		j := safeJob(*s.Import)
		s.Import = &j
	}
	return s
}

func safeMigrations(l []model.MigrationStatus) []model.MigrationStatus {
	out := make([]model.MigrationStatus, len(l))
	for i, s := range l {
		out[i] = safeMigration(s)
	}
	return out
}
