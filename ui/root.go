package ui

import (
	"context"
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
// size to every part, keys to a focused prompt first, then to an open
// dialog, then to the console's own keys, then to the visible screen.
type Model struct {
	ctx   context.Context
	opts  Options
	keys  keyMap
	theme Theme
	dark  bool
	help  help.Model

	width, height int
	showHelp      bool
	mouse         bool // wheel events captured; off so admins can select text

	identity    model.Identity
	identityErr error
	haveID      bool

	picker picker
	job    *jobView // the job being watched, nil before the first start
	onJob  bool     // the job view is on screen, else the picker
	dialog *dialog

	notice    string // a one-off report above the help line
	noticeBad bool
	ticks     int

	jobGen          int  // numbers job views, so a stale poll is dropped
	quitWhenStopped bool // quit once the watched job has stopped

	// after delivers msg after d; tests replace it to run timers by hand.
	after func(d time.Duration, msg tea.Msg) tea.Cmd

	farewell string // printed to Out after the console ends

	// startWarning goes into the log of the job being started: the start
	// was forced past a differing checksum.
	startWarning string
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
	}
)

func newModel(ctx context.Context, opts Options) Model {
	h := help.New()
	m := Model{
		ctx:    ctx,
		opts:   opts,
		keys:   newKeyMap(),
		dark:   true, // until the terminal answers: most SSH terminals are dark
		help:   h,
		picker: newPicker(),
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
		func() tea.Msg {
			jobs, err := b.KnownJobs(ctx)
			return knownJobsMsg{jobs, err}
		},
		m.listArchives(),
		m.after(tickEvery, tickMsg{}),
	)
}

// Update applies one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.layoutJob()
		return nil
	case tea.BackgroundColorMsg:
		m.dark = msg.IsDark()
		m.setTheme()
		return nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		return m.routeToPrompt(msg)
	case tea.MouseWheelMsg:
		if !m.mouse {
			return nil
		}
		if m.onJob && m.job != nil {
			return m.job.updateLog(msg)
		}
		return m.pickerWheel(msg)
	case tickMsg:
		m.ticks++
		cmds := []tea.Cmd{m.after(tickEvery, tickMsg{})}
		if !m.onJob && m.ticks%listEvery == 0 {
			cmds = append(cmds, m.listArchives())
		}
		return tea.Batch(cmds...)
	case identityMsg:
		m.identity, m.identityErr, m.haveID = msg.id, msg.err, true
		if msg.err != nil {
			m.setNotice(fmt.Sprintf("Could not ask the backend who it is: %v", msg.err), true)
		}
		return nil
	case knownJobsMsg:
		return m.offerReattach(msg)
	case startedMsg:
		warning := m.startWarning
		m.startWarning = ""
		cmd := m.started(msg)
		if warning != "" && msg.err == nil && m.job != nil {
			cmd = tea.Batch(cmd, m.recordWarning(warning))
		}
		return cmd
	case cancelSentMsg:
		return m.cancelSent(msg)
	case pollMsg:
		return m.polled(msg)
	case pollDueMsg:
		if m.job != nil && msg.gen == m.job.gen {
			return m.poll()
		}
		return nil
	}
	if cmd, ok := m.pickerMessage(msg); ok {
		return cmd
	}
	if m.job != nil {
		return m.job.updateLog(msg)
	}
	return nil
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

// capturing reports whether a text prompt has focus: it then gets every
// key but ctrl+c.
func (m *Model) capturing() bool {
	if m.onJob {
		return m.job != nil && m.job.log.Capturing()
	}
	return m.picker.capturing()
}

func (m *Model) routeToPrompt(msg tea.Msg) tea.Cmd {
	if m.onJob {
		if m.job != nil {
			return m.job.updateLog(msg)
		}
		return nil
	}
	return m.pickerPrompt(msg)
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
	if m.capturing() {
		return m.routeToPrompt(msg)
	}
	if m.dialog != nil {
		return m.dialogKey(msg)
	}
	if m.showHelp {
		switch {
		case key.Matches(msg, m.keys.Help, m.keys.Back):
			m.showHelp = false
		case key.Matches(msg, m.keys.Quit):
			return m.requestQuit()
		}
		return nil
	}
	m.notice = ""
	switch {
	case key.Matches(msg, m.keys.Help):
		m.showHelp = true
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
	if m.onJob && m.job != nil {
		return m.jobKey(msg)
	}
	return m.pickerKey(msg)
}

// jobRunning reports whether a watched job has not finished yet.
func (m *Model) jobRunning() bool {
	return m.job != nil && !m.job.finished()
}

// quitNow is ctrl+c: no question asked, but the note after exit says what
// happens to a running job.
func (m *Model) quitNow() tea.Cmd {
	if m.jobRunning() {
		if m.identity.Remote {
			m.farewell = m.reattachNote()
		} else {
			m.farewell = fmt.Sprintf("Job %d ran in this process and is stopped as bbimport exits; "+
				"what finished stays imported, nothing half-built is left.", m.job.id)
		}
	}
	return tea.Quit
}

// requestQuit is q: a remote job goes on, so say so; an in-process job
// would die with the process, so ask.
func (m *Model) requestQuit() tea.Cmd {
	if !m.jobRunning() {
		return tea.Quit
	}
	if m.identity.Remote {
		m.dialog = &dialog{
			title: "Quit the console?",
			lines: strings.Split(m.reattachNote(), "\n"),
			choices: []choice{
				{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y", "quit, the job goes on")), func(m *Model) tea.Cmd {
					m.farewell = m.reattachNote()
					return tea.Quit
				}},
				{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "stay")), nil},
			},
		}
		return nil
	}
	m.dialog = &dialog{
		title: "Quit while the import runs?",
		lines: []string{
			fmt.Sprintf("Job %d runs inside this process: it cannot go on without the console.", m.job.id),
			"Cancel it at its next checkpoint and quit once it has stopped, or keep watching it.",
		},
		choices: []choice{
			{key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cancel at next checkpoint, then quit")), func(m *Model) tea.Cmd {
				m.quitWhenStopped = true
				return m.sendCancel()
			}},
			{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "keep waiting")), nil},
		},
	}
	return nil
}

// reattachNote says how to come back to the job; the commands work as
// written, credentials aside (asked for, or read from the environment).
func (m *Model) reattachNote() string {
	conn := "--url " + shellQuote(m.identity.Location)
	if m.identity.User != "" {
		conn += " --user " + shellQuote(m.identity.User)
	}
	// Each command on a line of its own: a wrapped command is copied broken.
	return fmt.Sprintf("Job %d keeps running on %s.\nTo come back (it offers to reattach):\n  bbimport %s\n"+
		"To follow it:\n  bbimport status %d %s", m.job.id, m.identity.Location, conn, m.job.id, conn)
}

// shellQuote quotes s for a POSIX shell when it holds anything but the
// characters of plain URLs and user names.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@+=%,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// offerReattach asks, at start-up, to watch a job that is still running.
func (m *Model) offerReattach(msg knownJobsMsg) tea.Cmd {
	if msg.err != nil {
		m.setNotice(fmt.Sprintf("Could not list known jobs: %v", msg.err), true)
		return nil
	}
	for _, j := range msg.jobs {
		if j.State.Finished() || m.job != nil {
			continue
		}
		j := j
		m.dialog = &dialog{
			title: "A job is still running",
			lines: []string{
				fmt.Sprintf("Job %d is %s at %d%%: %s", j.ID, j.State, j.Progress.Percentage, j.Progress.Message),
				"Watch it now? Another import cannot start until it ends.",
			},
			choices: []choice{
				{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "watch it")), func(m *Model) tea.Cmd {
					return m.openJob(j, nil)
				}},
				{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "go to the archives")), nil},
			},
		}
		return nil
	}
	return nil
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
	// The status line is always there, so that a notice never moves the
	// panes (and the log keeps its size).
	bodyH := m.bodyHeight()
	st := m.theme.Notice
	if m.noticeBad {
		st = m.theme.Problem
	}
	status := fit(st.Render(m.notice), m.width)
	var body string
	switch {
	case m.showHelp:
		body = m.fullHelp(bodyH)
	case m.dialog != nil:
		body = m.dialog.view(&m, m.width, bodyH)
	case m.onJob && m.job != nil:
		body = m.job.view(m.theme, m.width, bodyH, m.opts.Now())
	default:
		body = m.pickerView()
	}
	return strings.Join([]string{m.header(), body, status,
		fit(m.help.ShortHelpView(m.currentHelp().ShortHelp()), m.width)}, "\n")
}

// tooSmall is the screen below minWidth x minHeight: every sentence
// wrapped, none cut, and the watched job's state first, so that an admin
// who shrank the window still sees how the import goes.
func (m Model) tooSmall() string {
	var text []string
	if m.job != nil {
		text = append(text, fmt.Sprintf("Job %d: ", m.job.id)+stateBadge(m.theme, m.job.job.State, m.job.hasErrors()))
	}
	text = append(text, fmt.Sprintf("The terminal is too small: the console needs %dx%d, this one is %dx%d.", minWidth, minHeight, m.width, m.height))
	if m.dialog != nil {
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
	right := ""
	if m.mouse {
		right = "[mouse wheel on] "
	}
	const name = " bbimport "
	rest := m.width - ansi.StringWidth(name) - ansi.StringWidth(right)
	return t.HeaderKey.Render(name) + t.Header.Render(fit(" "+where, rest)) + t.Header.Render(right)
}

func (m Model) currentHelp() bindings {
	switch {
	case m.capturing():
		if m.onJob {
			return bindings{short: m.job.log.ShortHelp(), full: m.job.log.FullHelp()}
		}
		return m.keys.promptHelp()
	case m.dialog != nil:
		return m.dialog.help(m.keys)
	case m.showHelp:
		return bindings{short: []key.Binding{m.keys.Help, m.keys.Back, m.keys.Quit}}
	case m.onJob && m.job != nil:
		if m.job.finished() {
			// A finished job cannot be canceled: help does not offer it (a
			// press still says why, from the console's own keys).
			m.keys.Cancel.SetEnabled(false)
		}
		return m.jobHelp()
	}
	return m.keys.pickerHelp(m.jobRunning())
}

// fullHelp lays the help's columns out in rows that fit the width: the job
// view has more keys than one row of columns holds at 80 cells.
func (m Model) fullHelp(h int) string {
	var rows, row []string
	used := 0
	for _, group := range m.currentHelpForFull().FullHelp() {
		col := m.help.FullHelpView([][]key.Binding{group})
		cw := lipgloss.Width(col) + 4
		if used > 0 && used+cw > m.width-2 {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...), "")
			row, used = nil, 0
		}
		row = append(row, lipgloss.NewStyle().PaddingRight(4).Render(col))
		used += cw
	}
	rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	return box(m.theme, "Keys (? or esc closes)", strings.Split(strings.Join(rows, "\n"), "\n"), m.width, h, true)
}

// currentHelpForFull is the help of the screen under the help overlay.
func (m Model) currentHelpForFull() bindings {
	m.showHelp = false
	return m.currentHelp()
}
