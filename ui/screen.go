package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// What is on screen is one screen (the picker, the jobs list, a job, the
// Verify pane) with a stack of overlays over it (dialogs, the help). The
// overlay on top takes the keys and is drawn last; with none, the screen
// takes them. docs/console.md says how to add a screen.

// screenID names a screen of the console.
type screenID int

const (
	onPicker screenID = iota
	onJobs
	onJob
	onVerify
	onExport
	onMigrate
	onQueue
)

// screen is one screen of the console. Its state lives in the model (the
// picker, the jobs list and the watched job keep theirs while another
// screen shows), so every method is given the model.
type screen interface {
	// view draws the body: exactly w x h cells.
	view(m *Model, w, h int) string
	// key takes a key that neither an overlay nor the console's own keys
	// (help, quit, mouse) took.
	key(m *Model, msg tea.KeyPressMsg) tea.Cmd
	// help is the screen's keys, for the help line and the help overlay;
	// while a prompt has focus, the prompt's.
	help(m *Model) bindings
	// capturing reports whether a text prompt has focus: it then gets
	// every key but ctrl+c and ctrl+l.
	capturing(m *Model) bool
	// prompt takes a key while capturing, and every paste.
	prompt(m *Model, msg tea.Msg) tea.Cmd
	wheel(m *Model, msg tea.MouseWheelMsg) tea.Cmd
	// refresh re-reads what the screen lists, every listEvery ticks while
	// it shows.
	refresh(m *Model) tea.Cmd
	// message applies a background result or a dialog's answer meant for
	// this screen, whether it shows or not; ok is false for any other.
	message(m *Model, msg tea.Msg) (cmd tea.Cmd, ok bool)
	// setSize follows a new terminal size or status line.
	setSize(m *Model)
}

// newScreens is the router: every screen, by its id. A new screen is a
// file with its type and one line here.
func newScreens() []screen {
	return []screen{
		onPicker:  pickerScreen{},
		onJobs:    jobsScreen{},
		onJob:     jobScreen{},
		onVerify:  verifyScreen{},
		onExport:  newExportScreen(),
		onMigrate: newMigrateScreen(),
		onQueue:   queueScreen{},
	}
}

func (m *Model) current() screen { return m.screens[m.screen] }

// show puts a screen on screen.
func (m *Model) show(id screenID) { m.screen = id }

// overlay is a layer over the screen: a dialog or the help.
type overlay interface {
	// key takes a key while the overlay is on top. answer, when not nil,
	// is applied by the root as any message is; closed takes the overlay
	// off the stack first.
	key(m *Model, msg tea.KeyPressMsg) (answer tea.Msg, closed bool)
	// view draws the overlay over under, which is exactly w x h cells.
	view(m *Model, under string, w, h int) string
	help(m *Model) bindings
}

// Answers of the overlays that the root acts on.
type (
	helpAsked struct{}
	quitAsked struct{}
)

func (m *Model) push(o overlay) { m.overlays = append(m.overlays, o) }

func (m *Model) top() overlay {
	if len(m.overlays) == 0 {
		return nil
	}
	return m.overlays[len(m.overlays)-1]
}

func (m *Model) pop() {
	if n := len(m.overlays); n > 0 {
		m.overlays[n-1] = nil
		m.overlays = m.overlays[:n-1]
	}
}

// dialogOpen reports whether a question waits for an answer.
func (m *Model) dialogOpen() bool {
	for _, o := range m.overlays {
		if _, ok := o.(*dialog); ok {
			return true
		}
	}
	return false
}

// helpBelow is the help of what lies under the overlay o: the overlay
// under it, else the screen.
func (m *Model) helpBelow(o overlay) bindings {
	for i := len(m.overlays) - 1; i > 0; i-- {
		if m.overlays[i] == o {
			return m.overlays[i-1].help(m)
		}
	}
	return m.current().help(m)
}

// helpOverlay is the full help of what lies under it.
type helpOverlay struct{}

func (h *helpOverlay) key(m *Model, msg tea.KeyPressMsg) (tea.Msg, bool) {
	switch {
	case key.Matches(msg, m.keys.Help, m.keys.Back):
		return nil, true
	case key.Matches(msg, m.keys.Quit):
		return quitAsked{}, false
	}
	return nil, false
}

func (h *helpOverlay) view(m *Model, _ string, w, hgt int) string {
	return m.fullHelp(m.helpBelow(h), w, hgt)
}

func (h *helpOverlay) help(m *Model) bindings {
	return bindings{short: []key.Binding{m.keys.Help, m.keys.Back, m.keys.Quit}}
}
