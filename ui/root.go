package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"bbimport/model"
)

// The smallest terminal the console draws on.
const (
	minWidth  = 80
	minHeight = 24
)

// tickEvery paces the clock (elapsed time, "unreachable for 42s"); the
// archive list is re-read every listEvery ticks.
const (
	tickEvery = time.Second
	listEvery = 2
)

// Model is the console's root model. It owns the screen and routes: window
// size to every part, keys to the overlay on top (a dialog, the help),
// else to a focused prompt, then to the console's own keys, then to the
// screen that shows.
type Model struct {
	ctx   context.Context
	opts  Options
	keys  keyMap
	theme Theme
	dark  bool
	help  help.Model

	width, height int
	mouse         bool // wheel events captured; off so admins can select text

	identity    model.Identity
	identityErr error
	haveID      bool

	screens  []screen  // the router, by screenID
	screen   screenID  // the screen that shows
	overlays []overlay // over the screen, the last on top

	picker    picker
	hist      history
	job       *jobView    // the job being watched, nil before the first start
	verify    *verifyPane // the Verify pane's run, while it shows
	verifyGen int         // numbers verify runs, so a left one's answer is dropped

	notice    string // a one-off report above the help line
	noticeBad bool
	ticks     int

	queueRunning  bool       // the picker's queue starts its next archive when the watched job ends
	home          homeQueue  // the home's queue (Options.Queuer), as last read
	jobGen        int        // numbers job views, so a stale poll is dropped
	quitAfter     *model.Job // quit once the backend has accepted this job's cancel
	reportOutcome bool       // report the newest job's end once its problems are counted

	// after delivers msg after d; tests replace it to run timers by hand.
	after func(d time.Duration, msg tea.Msg) tea.Cmd

	farewell string // printed to Out after the console ends
}

type (
	tickMsg     struct{}
	identityMsg struct {
		id  model.Identity
		err error
	}
	knownJobsMsg struct {
		jobs []model.Job
		err  error
		why  listing
	}
	stopNowMsg struct {
		id  int64
		err error
	}
)

// listing is why the backend's jobs are listed.
type listing int

const (
	listRefresh listing = iota // the jobs list on screen
	listStartup                // the first list: offer to reattach, report the last job
	listQuit                   // q pressed: ask about a job still running
)

func newModel(ctx context.Context, opts Options) Model {
	h := help.New()
	m := Model{
		ctx:     ctx,
		opts:    opts,
		keys:    newKeyMap(),
		dark:    true, // until the terminal answers: most SSH terminals are dark
		help:    h,
		screens: newScreens(),
		picker:  newPicker(),
		after: func(d time.Duration, msg tea.Msg) tea.Cmd {
			return tea.Tick(d, func(time.Time) tea.Msg { return msg })
		},
	}
	m.setTheme()
	return m
}

func (m *Model) setTheme() {
	m.theme = newTheme(m.dark, !m.opts.NoColor)
	m.help.Styles = m.theme.Help
	m.picker.filter.SetStyles(m.theme.input())
	m.picker.compare.SetStyles(m.theme.input())
	if m.job != nil {
		m.job.log.SetStyles(m.theme.Log)
	}
}

// Init asks the terminal for its background, and the backend and the
// import directory for what the first screen shows.
func (m Model) Init() tea.Cmd {
	b := m.opts.Backend
	ctx := m.ctx
	return tea.Batch(
		tea.RequestBackgroundColor,
		func() tea.Msg {
			id, err := b.Identity(ctx)
			return identityMsg{id, err}
		},
		m.listJobs(listStartup),
		m.listArchives(),
		m.readQueue(),
		m.after(tickEvery, tickMsg{}),
	)
}

// Update applies one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	notice := m.notice
	cmd := m.update(msg)
	queue := ""
	if m.job != nil {
		queue, m.job.queueNote = m.job.queueNote, m.queueNote()
	}
	if m.notice != notice || (m.job != nil && m.job.queueNote != queue) {
		// The status line takes the rows its notice needs: the log above
		// it is sized anew.
		m.layoutJob()
	}
	return m, cmd
}

// update applies one message: the terminal's and the console's own here,
// the watched job's in jobMessage, then the answers of dialogs and the
// screens'.
func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		for _, sc := range m.screens {
			sc.setSize(m)
		}
		return nil
	case tea.BackgroundColorMsg:
		m.dark = msg.IsDark()
		m.setTheme()
		return nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		if m.top() != nil {
			return nil // the overlay on top takes the input, and it has no prompt
		}
		return m.current().prompt(m, msg)
	case tea.MouseWheelMsg:
		if !m.mouse || m.top() != nil {
			return nil
		}
		return m.current().wheel(m, msg)
	case helpAsked:
		m.push(&helpOverlay{})
		return nil
	case quitAsked:
		return m.requestQuit()
	case tickMsg:
		m.ticks++
		cmds := []tea.Cmd{m.after(tickEvery, tickMsg{})}
		if m.ticks%listEvery == 0 {
			cmds = append(cmds, m.current().refresh(m), m.readQueue())
		}
		return tea.Batch(cmds...)
	case identityMsg:
		m.identity, m.identityErr, m.haveID = msg.id, msg.err, true
		if msg.err != nil {
			m.setNotice(fmt.Sprintf("Could not ask the backend who it is: %v", msg.err), true)
		}
		return nil
	case knownJobsMsg:
		return m.knownJobs(msg)
	case tallyMsg:
		return m.tallied(msg)
	case stopNowMsg:
		m.stopNowSent(msg)
		return nil
	}
	if cmd, ok := m.jobMessage(msg); ok {
		return cmd
	}
	if cmd, ok := m.rootAnswer(msg); ok {
		return cmd
	}
	for _, sc := range m.screens {
		if cmd, ok := sc.message(m, msg); ok {
			return cmd
		}
	}
	if m.job != nil {
		return m.job.updateLog(msg)
	}
	return nil
}

// jobMessage applies the messages of the watched job's life: its start,
// its polls and a cancel's answer.
func (m *Model) jobMessage(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case startedMsg:
		var running *model.RunningImport
		if errors.As(msg.err, &running) {
			m.notice = ""
			m.queueRunning = false
			m.whoRuns(msg.file, running)
			return nil, true
		}
		cmd := m.started(msg)
		// The in-process importer records the notes as the job's first
		// messages; Bitbucket cannot, so the console keeps them in its log.
		if msg.err == nil && m.job != nil && m.identity.Remote {
			for _, note := range msg.notes {
				cmd = tea.Batch(cmd, m.recordWarning(note))
			}
		}
		return cmd, true
	case cancelSentMsg:
		if m.quitAfter != nil {
			return m.quitCanceled(msg), true
		}
		m.cancelSent(msg)
		return nil, true
	case pollMsg:
		return m.polled(msg), true
	case pollDueMsg:
		if m.job != nil && msg.gen == m.job.gen {
			return m.poll(), true
		}
		return nil, true
	}
	return nil, false
}

// recordWarning adds a WARN line of the console's own to the watched job's
// log. The backend has no call to add a message to a job, so the line lives
// in this console only.
func (m *Model) recordWarning(text string) tea.Cmd {
	msg := model.Message{ID: "console", Severity: model.SeverityWarn, Text: text, CreatedDate: model.MillisOf(m.opts.Now())}
	m.job.tally([]model.Message{msg})
	return m.job.log.Append([]model.Message{msg})
}

func (m *Model) setNotice(s string, bad bool) {
	m.notice, m.noticeBad = s, bad
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.ForceQuit) {
		return m.quitNow()
	}
	if key.Matches(msg, m.keys.Redraw) {
		// After another program wrote over the screen (a wall message, a
		// background job), as in shells and editors.
		return tea.ClearScreen
	}
	if o := m.top(); o != nil {
		answer, closed := o.key(m, msg)
		if closed {
			m.pop()
		}
		if answer == nil {
			return nil
		}
		return m.update(answer)
	}
	sc := m.current()
	if sc.capturing(m) {
		return sc.prompt(m, msg)
	}
	m.notice = ""
	switch {
	case key.Matches(msg, m.keys.Help):
		m.push(&helpOverlay{})
		return nil
	case key.Matches(msg, m.keys.Quit):
		return m.requestQuit()
	case key.Matches(msg, m.keys.Mouse):
		m.mouse = !m.mouse
		if m.mouse {
			m.setNotice("Mouse wheel scrolls now; press M again to select text with the mouse.", false)
		} else {
			m.setNotice("Mouse released: select text with it; press M to scroll with the wheel.", false)
		}
		return nil
	}
	return sc.key(m, msg)
}

// View draws the whole screen.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "bbimport"
	if m.mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	return v
}

// render draws exactly width x height cells.
func (m Model) render() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	if m.width < minWidth || m.height < minHeight {
		return m.tooSmall()
	}
	bodyH := m.bodyHeight()
	body := m.current().view(&m, m.width, bodyH)
	for _, o := range m.overlays {
		body = o.view(&m, body, m.width, bodyH)
	}
	status := m.statusLines()
	rows := append([]string{m.header(), body}, fitLines(status, m.width, len(status))...)
	rows = append(rows, fit(m.shortHelp(m.currentHelp().ShortHelp()), m.width))
	return strings.Join(rows, "\n")
}

// bodyHeight is what the header, the status line and the help line leave.
func (m *Model) bodyHeight() int { return m.height - 2 - len(m.statusLines()) }

// statusLines is the notice wrapped to the width: it is a sentence an
// admin acts on, so it is not cut. The line is always there, so that a
// one-line notice does not move the panes (and the log keeps its size); a
// longer one takes the rows it needs, up to a quarter of the screen.
func (m *Model) statusLines() []string {
	st := m.theme.Notice
	if m.noticeBad {
		st = m.theme.Problem
	}
	lines := wrapLines([]string{st.Render(m.notice)}, m.width)
	if most := max(m.height/4, 1); len(lines) > most {
		lines = lines[:most]
		lines[most-1] = ansi.Truncate(lines[most-1], m.width-1, "") + "…"
	}
	return lines
}

// tooSmall is the screen below minWidth x minHeight: every sentence
// wrapped, none cut, and the watched job's state first, so that an admin
// who shrank the window still sees how the import goes.
func (m Model) tooSmall() string {
	var text []string
	if m.job != nil {
		text = append(text, fmt.Sprintf("Job %d: ", m.job.id)+m.job.stateHead(m.theme))
	}
	text = append(text, fmt.Sprintf("The terminal is too small: the console needs %dx%d, this one is %dx%d.", minWidth, minHeight, m.width, m.height))
	if m.dialogOpen() {
		text = append(text, "A question waits: enlarge the window to answer it.")
	} else {
		text = append(text, "Enlarge the window, or press q to quit.")
	}
	lines := wrapLines(text, m.width)
	lines = lines[:min(len(lines), m.height)]
	block := lipgloss.NewStyle().Width(m.width).Align(lipgloss.Center).Render(strings.Join(lines, "\n"))
	return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, block)
}

// header says which backend the console drives.
func (m Model) header() string {
	t := m.theme
	var where string
	switch {
	case !m.haveID:
		where = "connecting…"
	case m.identityErr != nil:
		where = "backend not answering"
	case m.identity.Remote:
		where = fmt.Sprintf("%s · %s %s · as %s", m.identity.Location, m.identity.Product, m.identity.Version, m.identity.User)
	default:
		where = fmt.Sprintf("in-process · home %s", m.identity.Location)
	}
	const name = " bbimport "
	// Every time on screen is the machine's local time; the header names
	// its zone, once, in fewer words where the backend's name needs them.
	zone := m.opts.Now().Local().Format("MST")
	right := " times in " + zone + " "
	if m.mouse {
		right = " [mouse wheel on]" + right
	}
	if ansi.StringWidth(name)+ansi.StringWidth(" "+where)+ansi.StringWidth(right) > m.width {
		right = strings.Replace(right, " times in ", " ", 1)
	}
	rest := m.width - ansi.StringWidth(name) - ansi.StringWidth(right)
	return t.HeaderKey.Render(name) + t.Header.Render(fit(" "+where, rest)) + t.Header.Render(right)
}

// currentHelp is the keys of the overlay on top, else of the screen.
func (m Model) currentHelp() bindings {
	if o := m.top(); o != nil {
		return o.help(&m)
	}
	return m.current().help(&m)
}

// shortHelp is the one-line help in the width: whole keys only, the ones
// that do not fit left for ? to show, and a … that says so.
func (m Model) shortHelp(keys []key.Binding) string {
	for n := len(keys); n > 0; n-- {
		s := m.help.ShortHelpView(keys[:n])
		if n < len(keys) {
			s += m.help.Styles.Ellipsis.Render(" …")
		}
		if ansi.StringWidth(s) <= m.width {
			return s
		}
	}
	return ""
}

// fullHelp lays the help's columns out in rows that fit the width: the job
// view has more keys than one row of columns holds at 80 cells.
func (m *Model) fullHelp(of bindings, w, h int) string {
	var rows, row []string
	used := 0
	for _, group := range of.FullHelp() {
		col := m.help.FullHelpView([][]key.Binding{group})
		cw := lipgloss.Width(col) + 4
		if used > 0 && used+cw > w-2 {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...), "")
			row, used = nil, 0
		}
		row = append(row, lipgloss.NewStyle().PaddingRight(4).Render(col))
		used += cw
	}
	rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	return box(m.theme, "Keys (? or esc closes)", strings.Split(strings.Join(rows, "\n"), "\n"), w, h, true)
}
