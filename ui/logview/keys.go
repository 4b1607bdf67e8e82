package logview

import "charm.land/bubbles/v2/key"

// KeyMap is every key the pane answers to. The console's own keys (q, ?, c,
// tab, esc) are left alone, except that esc closes the detail pane or a
// prompt when one is open (see Model.WantsEsc).
type KeyMap struct {
	Up, Down         key.Binding
	PageUp, PageDown key.Binding
	HalfUp, HalfDown key.Binding
	Top, Bottom      key.Binding
	Follow           key.Binding
	ToggleInfo       key.Binding
	ToggleWarn       key.Binding
	ToggleError      key.Binding
	Subject          key.Binding
	Search           key.Binding
	NextProblem      key.Binding
	PrevProblem      key.Binding
	ClearFilters     key.Binding
	Detail           key.Binding
	Close            key.Binding
	Copy             key.Binding
	Save             key.Binding
	Accept, Cancel   key.Binding // inside a prompt
	ToggleRegex      key.Binding // inside the text filter prompt
}

// DefaultKeyMap follows less, k9s and lazygit.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:           key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:         key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		PageUp:       key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:     key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		HalfUp:       key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "half page up")),
		HalfDown:     key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "half page down")),
		Top:          key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g/home", "oldest")),
		Bottom:       key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G/end", "newest, follow")),
		Follow:       key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow on/off")),
		ToggleInfo:   key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "show/hide INFO")),
		ToggleWarn:   key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "show/hide WARN")),
		ToggleError:  key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "show/hide ERROR")),
		Subject:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "filter by subject")),
		Search:       key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter by text")),
		NextProblem:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next WARN/ERROR")),
		PrevProblem:  key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous WARN/ERROR")),
		ClearFilters: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "clear filters")),
		Detail:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "whole message")),
		Close:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
		Copy:         key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy message")),
		Save:         key.NewBinding(key.WithKeys("ctrl+s", "S"), key.WithHelp("S/ctrl+s", "save shown rows")),
		Accept:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
		Cancel:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		ToggleRegex:  key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "regex on/off")),
	}
}
