package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// dialog is a question that takes the screen until answered: start an
// import, cancel one, quit, reattach. Each choice is a key; a choice
// without an action just closes the dialog, and esc always closes it.
type dialog struct {
	title   string
	lines   []string
	body    func(m *Model, w int) []string // instead of lines, for a dialog whose facts still arrive; w is the text's width
	choices []choice
}

type choice struct {
	key key.Binding
	do  func(m *Model) tea.Cmd
}

func (m *Model) dialogKey(msg tea.KeyPressMsg) tea.Cmd {
	d := m.dialog
	for _, c := range d.choices {
		if key.Matches(msg, c.key) {
			m.dialog = nil
			if c.do == nil {
				return nil
			}
			return c.do(m)
		}
	}
	if key.Matches(msg, m.keys.Back) {
		m.dialog = nil
	}
	return nil
}

func (d *dialog) help(k keyMap) bindings {
	short := make([]key.Binding, 0, len(d.choices)+1)
	for _, c := range d.choices {
		short = append(short, c.key)
	}
	short = append(short, k.ForceQuit)
	return bindings{short: short, full: [][]key.Binding{short}}
}

// view centres the dialog in a w x h body.
func (d *dialog) view(m *Model, w, h int) string {
	t := m.theme
	bw := min(w-2, 90)
	inner := bw - 4
	text := d.lines
	if d.body != nil {
		text = d.body(m, inner)
	}
	var lines []string
	lines = append(lines, "")
	for _, l := range text {
		for _, wl := range wrapLines([]string{l}, inner) {
			lines = append(lines, " "+wl)
		}
	}
	lines = append(lines, "")
	for _, c := range d.choices {
		hl := c.key.Help()
		lines = append(lines, " "+t.Prompt.Render(hl.Key)+"  "+hl.Desc)
	}
	bh := min(len(lines)+2, h)
	b := box(t, d.title, lines, bw, bh, true)
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, b)
}
