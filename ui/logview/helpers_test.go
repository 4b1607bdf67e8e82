package logview

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"bbimport/model"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden screens show times in the zone of the machine
	os.Exit(m.Run())
}

// start is the time of the first generated message: 2026-11-25 16:00:00 UTC.
const start = model.Millis(1795622400000)

// sampleMessages is a log like an import writes: mostly INFO, some WARN
// about renamed projects, some ERROR about pull requests, a few job-level.
func sampleMessages(n int) []model.Message {
	msgs := make([]model.Message, n)
	for i := range msgs {
		project := fmt.Sprintf("PRJ%d", i%7)
		msg := model.Message{ID: fmt.Sprint(i + 1), CreatedDate: start + model.Millis(i)*1500}
		switch {
		case i%50 == 0:
			msg.Severity, msg.Text = model.SeverityInfo, fmt.Sprintf("Import progress: %d%% of the archive read", i%100)
		case i%13 == 5:
			msg.Severity, msg.Subject = model.SeverityWarn, project
			msg.Text = fmt.Sprintf("Project key %s already exists on this instance; the imported project was renamed to %sA", project, project)
		case i%29 == 7:
			msg.Severity, msg.Subject = model.SeverityError, fmt.Sprintf("%s/repo%d#%d", project, i%11, i)
			msg.Text = fmt.Sprintf("Pull request #%d could not be imported: its source branch refs/heads/feature/f%d is missing from the git data", i, i)
		default:
			msg.Severity, msg.Subject = model.SeverityInfo, fmt.Sprintf("%s/repo%d", project, i%11)
			msg.Text = fmt.Sprintf("Imported repository %s/repo%d (fork hierarchy %d): %d pull requests, %d commits", project, i%11, i%5, i%17, i*3)
		}
		msgs[i] = msg
	}
	return msgs
}

// pane is a focused pane of the size given holding msgs, with every filter
// result already landed.
func pane(t testing.TB, w, h int, msgs []model.Message) Model {
	t.Helper()
	m := New(PlainStyles())
	m.SetJobID(42)
	m.SetSize(w, h)
	m, _ = run(m, m.Append(msgs))
	return m
}

// run executes a command as Bubble Tea would and feeds the pane's own
// results back to it; it returns what else the command produced.
func run(m Model, cmd tea.Cmd) (Model, []tea.Msg) {
	if cmd == nil {
		return m, nil
	}
	var others []tea.Msg
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			var more []tea.Msg
			m, more = run(m, c)
			others = append(others, more...)
		}
	case scannedMsg, savedMsg:
		var next tea.Cmd
		m, next = m.Update(msg)
		var more []tea.Msg
		m, more = run(m, next)
		others = append(others, more...)
	case nil:
	default:
		others = append(others, msg)
	}
	return m, others
}

// press sends keys, as a terminal would, running the commands they return.
func press(m Model, keys ...tea.KeyPressMsg) (Model, []tea.Msg) {
	var out []tea.Msg
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(k)
		var msgs []tea.Msg
		m, msgs = run(m, cmd)
		out = append(out, msgs...)
	}
	return m, out
}

// keyOf is the key press that Bubble Tea v2 decodes for a key named as in
// key.WithKeys: "j", "G", "pgup", "ctrl+s", "enter".
func keyOf(name string) tea.KeyPressMsg {
	special := map[string]rune{
		"up": tea.KeyUp, "down": tea.KeyDown, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
		"home": tea.KeyHome, "end": tea.KeyEnd, "enter": tea.KeyEnter, "esc": tea.KeyEscape,
		"backspace": tea.KeyBackspace,
	}
	if c, ok := special[name]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	if rest, ok := strings.CutPrefix(name, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: rune(rest[0]), Mod: tea.ModCtrl}
	}
	return tea.KeyPressMsg{Code: rune(name[0]), Text: name}
}

// keys turns names into presses; "type:abc" types the letters a, b, c.
func keys(names ...string) []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for _, n := range names {
		if text, ok := strings.CutPrefix(n, "type:"); ok {
			for _, r := range text {
				out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
			}
			continue
		}
		out = append(out, keyOf(n))
	}
	return out
}

// screen is the pane as an admin reads it: text without escape codes.
func screen(m Model) string { return ansi.Strip(m.View()) }

// statusOf is the last line of the screen.
func statusOf(m Model) string {
	lines := strings.Split(screen(m), "\n")
	return lines[len(lines)-1]
}

// selectedID is the id of the selected message, or "" when none.
func selectedID(m Model) string {
	msg, ok := m.Selected()
	if !ok {
		return ""
	}
	return msg.ID
}
