package logview

// The pane's Update: keys, the mouse wheel, prompts and the detail view.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Update handles keys, the mouse wheel, and the results of the commands the
// pane returned.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case scannedMsg:
		return m.landScan(msg), nil
	case savedMsg:
		if msg.pane == m.pane {
			m.notice, m.problem = msg.report()
		}
		return m, nil
	case tea.KeyPressMsg:
		if !m.focused {
			return m, nil
		}
		m.notice, m.problem = "", false
		switch {
		case m.prompt != promptNone:
			return m.updatePrompt(msg)
		case m.detail:
			return m.updateDetail(msg)
		}
		return m.updateList(msg)
	case tea.MouseWheelMsg:
		if !m.focused {
			return m, nil
		}
		switch msg.Button {
		case tea.MouseWheelUp:
			m.wheel(-wheelRows)
		case tea.MouseWheelDown:
			m.wheel(wheelRows)
		}
		return m, nil
	}
	if m.prompt != promptNone {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m *Model) wheel(rows int) {
	if m.detail {
		m.detailTop = max(0, m.detailTop+rows)
		return
	}
	m.move(rows)
}

func (m Model) updateList(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k, page := m.keys, max(1, m.listRows())
	switch {
	case key.Matches(msg, k.Up):
		m.move(-1)
	case key.Matches(msg, k.Down):
		m.move(1)
	case key.Matches(msg, k.PageUp):
		m.move(-page)
	case key.Matches(msg, k.PageDown):
		m.move(page)
	case key.Matches(msg, k.HalfUp):
		m.move(-max(1, page/2))
	case key.Matches(msg, k.HalfDown):
		m.move(max(1, page/2))
	case key.Matches(msg, k.Top):
		m.move(-len(m.view))
	case key.Matches(msg, k.Bottom):
		m.follow = true
		m.scroll()
	case key.Matches(msg, k.Follow):
		m.follow = !m.follow
		m.scroll()
	case key.Matches(msg, k.ToggleInfo):
		return m.toggle(sevInfo)
	case key.Matches(msg, k.ToggleWarn):
		return m.toggle(sevWarn)
	case key.Matches(msg, k.ToggleError):
		return m.toggle(sevError)
	case key.Matches(msg, k.ClearFilters):
		m.want = filter{}
		cmd := m.refilter()
		return m, cmd
	case key.Matches(msg, k.NextProblem):
		m.jumpToProblem(1)
	case key.Matches(msg, k.PrevProblem):
		m.jumpToProblem(-1)
	case key.Matches(msg, k.Search):
		return m.openPrompt(promptText, m.want.text)
	case key.Matches(msg, k.Subject):
		return m.openPrompt(promptSubject, m.want.subject)
	case key.Matches(msg, k.Save):
		return m.openPrompt(promptSave, fmt.Sprintf("bbimport-job-%d-messages.json", m.jobID))
	case key.Matches(msg, k.Detail):
		if len(m.view) > 0 {
			m.detail, m.detailTop = true, 0
		}
	case key.Matches(msg, k.Copy):
		cmd := m.copySelected()
		return m, cmd
	}
	return m, nil
}

func (m Model) toggle(s severity) (Model, tea.Cmd) {
	m.want.hidden[s] = !m.want.hidden[s]
	cmd := m.refilter()
	return m, cmd
}

// jumpToProblem moves to the next (dir 1) or previous (dir -1) WARN or
// ERROR among the rows shown.
func (m *Model) jumpToProblem(dir int) {
	for i := m.cursor + dir; i >= 0 && i < len(m.view); i += dir {
		if m.metas[m.view[i]].sev >= sevWarn {
			m.move(i - m.cursor)
			return
		}
	}
	where := "below"
	if dir < 0 {
		where = "above"
	}
	m.notice = fmt.Sprintf("No WARN or ERROR %s among the rows shown.", where)
}

func (m *Model) copySelected() tea.Cmd {
	msg, ok := m.Selected()
	if !ok {
		return nil
	}
	m.notice = fmt.Sprintf("Copied message %s to the clipboard (OSC 52: the terminal must allow it).", msg.ID)
	return tea.SetClipboard(msg.Text)
}

func (m Model) updateDetail(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k, page := m.keys, max(1, m.listRows())
	var cmd tea.Cmd
	switch {
	case key.Matches(msg, k.Close, k.Detail):
		m.detail = false
	case key.Matches(msg, k.Up):
		m.detailTop--
	case key.Matches(msg, k.Down):
		m.detailTop++
	case key.Matches(msg, k.PageUp, k.HalfUp):
		m.detailTop -= page
	case key.Matches(msg, k.PageDown, k.HalfDown):
		m.detailTop += page
	case key.Matches(msg, k.Top):
		m.detailTop = 0
	case key.Matches(msg, k.Bottom):
		m.detailTop = len(m.detailLines())
	case key.Matches(msg, k.Copy):
		cmd = m.copySelected()
	}
	m.detailTop = max(0, min(m.detailTop, len(m.detailLines())-m.listRows()))
	return m, cmd
}

func (m Model) openPrompt(p prompt, value string) (Model, tea.Cmd) {
	m.prompt, m.before, m.promptErr = p, m.want, ""
	m.input.SetValue(value)
	m.input.CursorEnd()
	m.scroll()
	cmd := m.input.Focus()
	return m, cmd
}

func (m Model) closePrompt() Model {
	m.prompt, m.promptErr = promptNone, ""
	m.input.Blur()
	m.scroll()
	return m
}

func (m Model) updatePrompt(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Cancel):
		changed := m.want != m.before
		m.want = m.before
		m = m.closePrompt()
		if !changed {
			return m, nil
		}
		cmd := m.refilter()
		return m, cmd
	case key.Matches(msg, k.Accept):
		if m.promptErr != "" {
			return m, nil // the regex does not compile: fix it or press esc
		}
		if m.prompt == promptSave {
			path := strings.TrimSpace(m.input.Value())
			m = m.closePrompt()
			if path == "" {
				return m, nil
			}
			if m.partial {
				m.notice, m.problem = "Still filtering: press S again when the count is final.", true
				return m, nil
			}
			cmd := m.save(path)
			return m, cmd
		}
		return m.closePrompt(), nil
	case m.prompt == promptText && key.Matches(msg, k.ToggleRegex):
		m.want.regex = !m.want.regex
		cmd := m.refilter()
		return m, cmd
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	value := m.input.Value()
	switch {
	case m.prompt == promptText && value != m.want.text:
		m.want.text = value
	case m.prompt == promptSubject && value != m.want.subject:
		m.want.subject = value
	default:
		return m, cmd
	}
	scan := m.refilter()
	return m, tea.Batch(cmd, scan)
}

// expandHome turns a leading ~/ into the home directory, as a shell would.
func expandHome(path string) string {
	rest, ok := strings.CutPrefix(path, "~/")
	if !ok {
		return path
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return path
	}
	return filepath.Join(home, rest)
}

// ShortHelp is the one-line help of the pane's current mode.
func (m Model) ShortHelp() []key.Binding {
	k := m.keys
	switch {
	case m.prompt == promptText:
		return []key.Binding{k.Accept, k.Cancel, k.ToggleRegex}
	case m.prompt != promptNone:
		return []key.Binding{k.Accept, k.Cancel}
	case m.detail:
		return []key.Binding{k.Close, k.Up, k.Down, k.Copy}
	}
	severities := key.NewBinding(key.WithKeys("1", "2", "3"), key.WithHelp("1/2/3", "INFO/WARN/ERROR"))
	return []key.Binding{k.Search, k.Subject, severities, k.NextProblem, k.Follow, k.Detail}
}

// FullHelp is every key of the pane's current mode, in groups.
func (m Model) FullHelp() [][]key.Binding {
	k := m.keys
	if m.prompt != promptNone || m.detail {
		return [][]key.Binding{m.ShortHelp()}
	}
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom},
		{k.Follow, k.ToggleInfo, k.ToggleWarn, k.ToggleError, k.Subject, k.Search, k.ClearFilters},
		{k.NextProblem, k.PrevProblem, k.Detail, k.Copy, k.Save},
	}
}
