package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// dialog is a question over the screen until answered: start an import,
// cancel one, quit, reattach. Each choice is a key and the answer it
// gives, a message the root applies once the dialog is closed; a choice
// without an answer just closes the dialog, and esc always closes it.
type dialog struct {
	title   string
	lines   []string
	body    func(m *Model, w int) []string // instead of lines, for a dialog whose facts still arrive; w is the text's width
	choices []choice
}

type choice struct {
	key    key.Binding
	answer tea.Msg
}

func (d *dialog) key(m *Model, msg tea.KeyPressMsg) (tea.Msg, bool) {
	for _, c := range d.choices {
		if key.Matches(msg, c.key) {
			return c.answer, true
		}
	}
	switch {
	case key.Matches(msg, m.keys.Back):
		return nil, true
	case key.Matches(msg, m.keys.Help):
		return helpAsked{}, false
	}
	return nil, false
}

func (d *dialog) help(m *Model) bindings {
	short := make([]key.Binding, 0, len(d.choices)+1)
	for _, c := range d.choices {
		short = append(short, c.key)
	}
	short = append(short, m.keys.ForceQuit)
	return bindings{short: short, full: [][]key.Binding{short}}
}

// view centres the dialog in a w x h body.
func (d *dialog) view(m *Model, _ string, w, h int) string {
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
	var choices []string
	for _, c := range d.choices {
		hl := c.key.Help()
		choices = append(choices, " "+t.Prompt.Render(hl.Key)+"  "+hl.Desc)
	}
	// The choices always show: on a short screen the text gives way,
	// and says so.
	if room := h - 2 - 1 - len(choices); len(lines) > room {
		lines = append(lines[:max(room-1, 0)], t.Dim.Render(" … more: enlarge the window to read it all"))
	}
	lines = append(append(lines, ""), choices...)
	bh := min(len(lines)+2, h)
	b := box(t, d.title, lines, bw, bh, true)
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, b)
}
