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
	"bbimport/termsafe"
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

	picker    picker
	hist      history
	onHistory bool     // the jobs list is on screen
	job       *jobView // the job being watched, nil before the first start
	onJob     bool     // the job view is on screen, else the picker
	dialog    *dialog

	notice    string // a one-off report above the help line
	noticeBad bool
	ticks     int

	jobGen        int        // numbers job views, so a stale poll is dropped
	quitAfter     *model.Job // quit once the backend has accepted this job's cancel
	reportOutcome bool       // report the newest job's end once its problems are counted

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
		m.listJobs(listStartup),
		m.listArchives(),
		m.after(tickEvery, tickMsg{}),
	)
}

// Update applies one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	notice := m.notice
	cmd := m.update(msg)
	if m.notice != notice {
		// The status line takes the rows its notice needs: the log above
		// it is sized anew.
		m.layoutJob()
	}
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
		switch {
		case m.onHistory:
			m.hist.cursor = min(max(m.hist.cursor+wheelStep(msg), 0), max(len(m.hist.jobs)-1, 0))
			return nil
		case m.onJob && m.job != nil:
			return m.job.updateLog(msg)
		}
		return m.pickerWheel(msg)
	case tickMsg:
		m.ticks++
		cmds := []tea.Cmd{m.after(tickEvery, tickMsg{})}
		switch {
		case m.ticks%listEvery != 0:
		case m.onHistory:
			cmds = append(cmds, m.refreshHistory())
		case !m.onJob:
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
		return m.knownJobs(msg)
	case tallyMsg:
		return m.tallied(msg)
	case stopNowMsg:
		m.stopNowSent(msg)
		return nil
	case startedMsg:
		warning := m.startWarning
		m.startWarning = ""
		var running *model.RunningImport
		if errors.As(msg.err, &running) {
			m.notice = ""
			m.whoRuns(msg.file, running)
			return nil
		}
		cmd := m.started(msg)
		if warning != "" && msg.err == nil && m.job != nil {
			cmd = tea.Batch(cmd, m.recordWarning(warning))
		}
		return cmd
	case cancelSentMsg:
		if m.quitAfter != nil {
			return m.quitCanceled(msg)
		}
		m.cancelSent(msg)
		return nil
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
	if m.onHistory {
		return false
	}
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
	switch {
	case m.onHistory:
		return m.historyKey(msg)
	case m.onJob && m.job != nil:
		if key.Matches(msg, m.keys.Cancel) && m.canceling() {
			return m.confirmStopNow()
		}
		return m.jobKey(msg)
	}
	return m.pickerKey(msg)
}

// jobRunning reports whether a watched job has not finished yet.
func (m *Model) jobRunning() bool {
	return m.job != nil && !m.job.finished()
}

// watchedJob is the watched job as the backend last told it, named by its
// archive.
func (m *Model) watchedJob() model.Job {
	j := m.job.job
	j.ID, j.Archive = m.job.id, m.job.archiveName()
	return j
}

// runningJob is the job that goes on when the console quits: the watched
// one, else one of jobs, the backend's list (started from the jobs list,
// by bbimport import, or remotely by this client).
func (m *Model) runningJob(jobs []model.Job) (model.Job, bool) {
	if m.jobRunning() {
		return m.watchedJob(), true
	}
	for _, j := range jobs {
		// The watched job's own answer is newer than any list.
		if !j.State.Finished() && (m.job == nil || j.ID != m.job.id) {
			return j, true
		}
	}
	return model.Job{}, false
}

// quitNow is ctrl+c: no question asked, but the note after exit says how
// to follow the job, which goes on without the console. It asks the
// backend nothing: the last list of jobs says which runs.
func (m *Model) quitNow() tea.Cmd {
	if j, ok := m.runningJob(m.hist.jobs); ok {
		m.farewell = m.reattachNote(j)
	}
	return tea.Quit
}

// requestQuit is q. A job running elsewhere than the watched view is not
// on screen: the backend is asked for its jobs first.
func (m *Model) requestQuit() tea.Cmd {
	if j, ok := m.runningJob(nil); ok {
		m.confirmQuit(j)
		return nil
	}
	m.setNotice("Asking the backend whether a job is still running… (ctrl+c quits at once)", false)
	return m.listJobs(listQuit)
}

// quitLeaving quits, or first asks about the job of jobs still running.
func (m *Model) quitLeaving(jobs []model.Job) tea.Cmd {
	m.notice = ""
	j, ok := m.runningJob(jobs)
	if !ok {
		return tea.Quit
	}
	m.confirmQuit(j)
	return nil
}

// confirmQuit asks about j, which goes on without the console (on the
// server, or in the in-process importer's runner): quitting asks only
// whether to let it run, the default, or cancel it at its next checkpoint.
func (m *Model) confirmQuit(j model.Job) {
	lines := []string{fmt.Sprintf("%s is %s at %d%%.", capitalize(jobName(j)), j.State, j.Progress.Percentage)}
	// Short key descriptions: the three choices and ctrl+c fit the help
	// line at 80 columns; the lines above say the rest.
	choices := []choice{
		{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "quit, job runs on")), func(m *Model) tea.Cmd {
			m.farewell = m.reattachNote(j)
			return tea.Quit
		}},
	}
	if j.State == model.StateCanceling {
		lines = append(lines, "It is canceling and stops at its next checkpoint, with or without the console.")
	} else {
		lines = append(lines, "It keeps running when the console quits, unless you cancel it: it then stops at its next checkpoint.")
		choices = append(choices, choice{key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cancel job, quit")), func(m *Model) tea.Cmd {
			m.quitAfter = &j
			return m.sendCancel(j.ID)
		}})
	}
	lines = append(lines, "", "To follow it afterwards:", "  "+m.statusCommand(j.ID))
	m.dialog = &dialog{
		title: "Quit the console?",
		lines: lines,
		choices: append(choices,
			choice{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "stay")), nil}),
	}
}

// quitCanceled ends the console once the cancel asked for on quitting is
// accepted: the job stops at its checkpoint without the console.
func (m *Model) quitCanceled(msg cancelSentMsg) tea.Cmd {
	j := *m.quitAfter
	m.quitAfter = nil
	name := capitalize(jobName(j))
	switch {
	case errors.Is(msg.err, model.ErrJobFinished):
		m.farewell = fmt.Sprintf("%s had already ended.\nTo see how:\n  %s", name, m.statusCommand(j.ID))
	case msg.err != nil:
		m.setNotice(fmt.Sprintf("Cancel was not accepted: %v. Press q to try again.", msg.err), true)
		return nil
	default:
		m.farewell = fmt.Sprintf("%s stops at its next checkpoint; what was imported before it stays.\nTo follow it:\n  %s",
			name, m.statusCommand(j.ID))
	}
	return tea.Quit
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// connection is the flags that reach this backend again: --home for the
// in-process importer, --url and --user for a remote one. Credentials are
// asked for, or read from the environment.
func (m *Model) connection() string {
	if !m.identity.Remote {
		return "--home " + shellQuote(m.identity.Location)
	}
	conn := "--url " + shellQuote(m.identity.Location)
	if m.identity.User != "" {
		conn += " --user " + shellQuote(m.identity.User)
	}
	return conn
}

func (m *Model) statusCommand(id int64) string {
	return fmt.Sprintf("bbimport status %d %s", id, m.connection())
}

// reattachNote says how to come back to the job; the commands work as
// written. Each command is on a line of its own: a wrapped command is
// copied broken.
func (m *Model) reattachNote(j model.Job) string {
	where := "on " + m.identity.Location
	if !m.identity.Remote {
		where = "in the background on home " + m.identity.Location
	}
	return fmt.Sprintf("%s keeps running %s.\nTo come back (it offers to reattach):\n  bbimport %s\n"+
		"To follow it:\n  %s", capitalize(jobName(j)), where, m.connection(), m.statusCommand(j.ID))
}

// shellQuote quotes s for a POSIX shell when it holds anything but the
// characters of plain URLs, paths and user names.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@+=%,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// knownJobs takes a list of the backend's jobs. The first one, at
// start-up, also offers to reattach to a running job, or else reports how
// the newest job ended.
func (m *Model) knownJobs(msg knownJobsMsg) tea.Cmd {
	h := &m.hist
	if msg.err != nil && msg.why == listQuit {
		return m.quitLeaving(h.jobs) // the last list the backend gave
	}
	if msg.err != nil {
		h.loaded, h.err = true, msg.err
		m.setNotice(fmt.Sprintf("Could not list known jobs: %v", msg.err), true)
		return nil
	}
	h.err = nil
	h.setJobs(msg.jobs)
	if msg.why == listQuit {
		return m.quitLeaving(msg.jobs)
	}
	if msg.why == listStartup && !m.offerReattach(msg.jobs) {
		m.reportOutcome = len(msg.jobs) > 0 && msg.jobs[0].State.Finished()
	}
	return m.countNext()
}

// offerReattach asks, at start-up, to watch a job that is still running.
func (m *Model) offerReattach(jobs []model.Job) bool {
	for _, j := range jobs {
		if j.State.Finished() || m.job != nil {
			continue
		}
		m.dialog = &dialog{
			title: "A job is still running",
			lines: []string{
				fmt.Sprintf("%s is %s at %d%%: %s", capitalize(jobName(j)), j.State, j.Progress.Percentage, j.Progress.Message),
				"Watch it now? Another import cannot start until it ends.",
			},
			choices: []choice{
				{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "watch it")), func(m *Model) tea.Cmd {
					return m.openJob(j, m.archiveFile(j.Archive))
				}},
				{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "go to the archives")), nil},
			},
		}
		return true
	}
	return false
}

// canceling reports whether the watched job waits for its checkpoint.
func (m *Model) canceling() bool {
	return m.job != nil && m.job.have && m.job.job.State == model.StateCanceling
}

// confirmStopNow is the second cancel: the job is already waiting for its
// checkpoint, and the admin may not want to wait.
func (m *Model) confirmStopNow() tea.Cmd {
	id := m.job.id
	m.dialog = &dialog{
		title: fmt.Sprintf("Stop job %d now?", id),
		lines: []string{
			fmt.Sprintf("Job %d is canceling: it stops at its next checkpoint (the end of the current fork hierarchy, "+
				"the next repository or the next pull request).", id),
			"Stop now ends it at once, without waiting: the repository being imported is discarded; " +
				"what was imported before it stays.",
		},
		choices: []choice{
			{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "stop now")), func(m *Model) tea.Cmd {
				b, ctx := m.opts.Backend, m.ctx
				return func() tea.Msg { return stopNowMsg{id, b.StopNow(ctx, id)} }
			}},
			{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "wait for the checkpoint")), nil},
		},
	}
	return nil
}

func (m *Model) stopNowSent(msg stopNowMsg) {
	switch {
	case errors.Is(msg.err, model.ErrNotSupported):
		m.setNotice("Bitbucket stops an import only at its next checkpoint: it cannot stop one now.", false)
	case errors.Is(msg.err, model.ErrJobFinished):
		m.setNotice(fmt.Sprintf("Job %d has already stopped.", msg.id), false)
	case msg.err != nil:
		m.setNotice(fmt.Sprintf("Stop now was not accepted: %v. Press c to try again.", msg.err), true)
	default:
		m.setNotice(fmt.Sprintf("Stop requested: job %d ends at once; what was imported before stays.", msg.id), false)
	}
}

// whoRuns explains a start refused because another import runs, naming
// it, and offers to open it.
func (m *Model) whoRuns(f model.ArchiveFile, r *model.RunningImport) {
	j := m.knownJob(r.JobID)
	lines := []string{fmt.Sprintf("%s was not started: %s is importing, and one import runs at a time.", shownName(f), jobName(j))}
	since := ""
	if !r.Since.IsZero() {
		since = " since " + r.Since.Local().Format("2006-01-02 15:04:05")
	}
	switch {
	case r.PID != 0 && r.Command != "":
		// errors.As reached past the safe error: the command is the backend's.
		lines = append(lines, fmt.Sprintf("It is run by process %d (%s)%s.", r.PID, termsafe.String(r.Command), since))
	case r.PID != 0:
		lines = append(lines, fmt.Sprintf("It is run by process %d%s.", r.PID, since))
	case since != "":
		lines = append(lines, "It has run"+since+".")
	}
	lines = append(lines, "Open it to watch or cancel it; start this archive once it has ended.")
	m.dialog = &dialog{
		title: "Another import is running",
		lines: lines,
		choices: []choice{
			{key.NewBinding(key.WithKeys("o", "enter"), key.WithHelp("o/enter", fmt.Sprintf("open job %d", r.JobID))), func(m *Model) tea.Cmd {
				return m.showJob(j)
			}},
			{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to the archives")), nil},
		},
	}
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
	var body string
	switch {
	case m.showHelp:
		body = m.fullHelp(bodyH)
	case m.dialog != nil:
		body = m.dialog.view(&m, m.width, bodyH)
	case m.onHistory:
		body = m.historyView()
	case m.onJob && m.job != nil:
		body = m.job.view(m.theme, m.width, bodyH, m.opts.Now())
	default:
		body = m.pickerView()
	}
	status := m.statusLines()
	rows := append([]string{m.header(), body}, fitLines(status, m.width, len(status))...)
	rows = append(rows, fit(m.help.ShortHelpView(m.currentHelp().ShortHelp()), m.width))
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
	case m.onHistory:
		return m.historyHelp()
	case m.onJob && m.job != nil:
		if m.canceling() {
			m.keys.Cancel.SetHelp("c", "stop now")
		}
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
