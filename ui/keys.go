package ui

import "charm.land/bubbles/v2/key"

// keyMap is every key of the console outside the message log, whose keys
// live in ui/logview. Conventions of k9s, lazygit and gh-dash.
type keyMap struct {
	Quit, ForceQuit, Help, Back, Mouse, Tab, Redraw key.Binding

	Up, Down, PageUp, PageDown, Top, Bottom key.Binding

	Filter, Start, Checksum, Compare, Queue   key.Binding // picker
	QueueView, Dequeue, StartQueue            key.Binding // the home's queue
	Cancel, Picker, Watch                     key.Binding // job view
	History, Open                             key.Binding // the jobs list
	Verify, Remainder                         key.Binding // a finished job; the Verify pane
	Export, ExportProject, Remove             key.Binding // the Export screen
	ExportSelect, ExportStart, ExportFilter   key.Binding
	Migrate, MigrateEnds, MigrateStart        key.Binding // the Migrate screen
	MigrateOpen, MigrateCancel, MigrateResume key.Binding

	Accept, Dismiss key.Binding // inside a prompt
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Quit:      b([]string{"q"}, "q", "quit"),
		ForceQuit: b([]string{"ctrl+c"}, "ctrl+c", "quit now"),
		Help:      b([]string{"?"}, "?", "help"),
		Back:      b([]string{"esc"}, "esc", "back"),
		Mouse:     b([]string{"M"}, "M", "mouse wheel on/off"),
		Tab:       b([]string{"tab", "shift+tab"}, "tab", "next pane"),
		Redraw:    b([]string{"ctrl+l"}, "ctrl+l", "redraw the screen"),

		Up:       b([]string{"k", "up"}, "↑/k", "up"),
		Down:     b([]string{"j", "down"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+f"}, "pgdn", "page down"),
		Top:      b([]string{"g", "home"}, "g/home", "first"),
		Bottom:   b([]string{"G", "end"}, "G/end", "last"),

		Filter:   b([]string{"/"}, "/", "filter by name"),
		Start:    b([]string{"enter", "s"}, "enter/s", "start import"),
		Checksum: b([]string{"m"}, "m", "MD5 + SHA-256"),
		Compare:  b([]string{"p"}, "p", "paste source checksum"),
		Queue:    b([]string{"space"}, "space", "queue / unqueue"),

		QueueView:  b([]string{"u"}, "u", "the queue"),
		Dequeue:    b([]string{"x"}, "x", "take off the queue"),
		StartQueue: b([]string{"s"}, "s", "start the queue now"),

		Cancel: b([]string{"c"}, "c", "cancel import"),
		Picker: b([]string{"b"}, "b", "back to archives"),
		Watch:  b([]string{"w"}, "w", "watch running job"),

		History: b([]string{"h"}, "h", "jobs list"),
		Open:    b([]string{"enter"}, "enter", "open job"),

		Verify:    b([]string{"v"}, "v", "verify on the target"),
		Remainder: b([]string{"w"}, "w", "write remainder archive"),

		Export:        b([]string{"e"}, "e", "export"),
		ExportProject: b([]string{"a"}, "a", "whole project"),
		Remove:        b([]string{"x"}, "x", "remove archive"),
		ExportSelect:  b([]string{"space"}, "space", "select"),
		ExportStart:   b([]string{"enter"}, "enter", "preview and export"),
		ExportFilter:  b([]string{"/"}, "/", "filter"),

		Migrate:       b([]string{"t"}, "t", "migrate"),
		MigrateEnds:   b([]string{"d"}, "d", "other direction"),
		MigrateStart:  b([]string{"enter"}, "enter", "confirm and migrate"),
		MigrateOpen:   b([]string{"enter"}, "enter", "open migration"),
		MigrateCancel: b([]string{"c"}, "c", "cancel migration"),
		MigrateResume: b([]string{"r"}, "r", "resume migration"),

		Accept:  b([]string{"enter"}, "enter", "apply"),
		Dismiss: b([]string{"esc"}, "esc", "cancel"),
	}
}

// bindings is a help.KeyMap built per view: short help for the one-line
// help, full help in columns, always ending with help and quit.
type bindings struct {
	short []key.Binding
	full  [][]key.Binding
}

func (b bindings) ShortHelp() []key.Binding  { return b.short }
func (b bindings) FullHelp() [][]key.Binding { return b.full }

// general is the keys of every view; esc is not among them: each view
// lists it once, with what it does there.
func (k keyMap) general() []key.Binding {
	return []key.Binding{k.Tab, k.Mouse, k.Redraw, k.Help, k.Quit, k.ForceQuit}
}

func (k keyMap) moves() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}

func (k keyMap) pickerHelp(jobRunning bool) bindings {
	actions := []key.Binding{k.Start, k.Queue, k.QueueView, k.Filter, k.Checksum, k.Compare, k.History, k.Export, k.Migrate, k.Back}
	// Short words on the one line, so that e fits it at 80 columns.
	filter := k.Filter
	filter.SetHelp("/", "filter")
	short := []key.Binding{k.Start, filter, k.Checksum, k.History, k.Export, k.Tab}
	if jobRunning {
		actions = append(actions, k.Watch)
		short = append([]key.Binding{k.Watch}, short...)
	}
	return bindings{
		short: append(short, k.Help, k.Quit),
		full:  [][]key.Binding{k.moves(), actions, k.general()},
	}
}

func (k keyMap) promptHelp() bindings {
	return bindings{
		short: []key.Binding{k.Accept, k.Dismiss, k.ForceQuit},
		full:  [][]key.Binding{{k.Accept, k.Dismiss, k.ForceQuit}},
	}
}
