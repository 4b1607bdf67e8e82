package ui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"bbimport/ui/logview"
)

// Theme holds every visual choice of the console; no other file makes a
// style. Colour is never the only signal: states carry a word and a glyph,
// the selection is reversed, the focused pane's title is marked.
type Theme struct {
	Header    lipgloss.Style // the backend line at the top
	HeaderKey lipgloss.Style // "bbimport" in the header
	Title     lipgloss.Style // a pane's title
	Focused   lipgloss.Style // a focused pane's title and border
	Border    lipgloss.Style // an unfocused pane's border
	Selected  lipgloss.Style // the highlighted archive
	Dim       lipgloss.Style // secondary text: sizes, dates, hints
	Label     lipgloss.Style // field names in the preview and the job pane
	Notice    lipgloss.Style // a one-off report in the status line
	Problem   lipgloss.Style // something that went wrong
	Prompt    lipgloss.Style // the label of a text prompt
	Good      lipgloss.Style // COMPLETED, a matching checksum, enough disk
	Busy      lipgloss.Style // INITIALISING, RUNNING, FINALISING
	Caution   lipgloss.Style // CANCELING, CANCELED, warnings, renames
	Bad       lipgloss.Style // FAILED, ABORTED, errors, a differing checksum
	BarFull   lipgloss.Style
	BarEmpty  lipgloss.Style

	Help help.Styles
	Log  logview.Styles
}

// newTheme builds the theme for a dark or light background, or the
// no-colour theme that keeps bold and reverse so selection still shows.
func newTheme(dark, color bool) Theme {
	s := lipgloss.NewStyle()
	t := Theme{
		Header:    s,
		HeaderKey: s.Bold(true),
		Title:     s.Bold(true),
		Focused:   s.Bold(true),
		Border:    s,
		Selected:  s.Reverse(true),
		Dim:       s,
		Label:     s,
		Notice:    s,
		Problem:   s.Bold(true),
		Prompt:    s.Bold(true),
		Good:      s.Bold(true),
		Busy:      s.Bold(true),
		Caution:   s.Bold(true),
		Bad:       s.Bold(true).Reverse(true),
		BarFull:   s,
		BarEmpty:  s,
		Help: help.Styles{
			Ellipsis: s, ShortKey: s.Bold(true), ShortDesc: s, ShortSeparator: s,
			FullKey: s.Bold(true), FullDesc: s, FullSeparator: s,
		},
		Log: logview.PlainStyles(),
	}
	if !color {
		return t
	}
	c := lipgloss.LightDark(dark)
	fg := func(light, dark string) lipgloss.Style {
		return s.Foreground(c(lipgloss.Color(light), lipgloss.Color(dark)))
	}
	t.Header = fg("236", "252").Background(c(lipgloss.Color("254"), lipgloss.Color("236")))
	t.HeaderKey = t.Header.Bold(true).Foreground(c(lipgloss.Color("25"), lipgloss.Color("75")))
	t.Title = fg("236", "252").Bold(true)
	t.Focused = fg("25", "75").Bold(true)
	t.Border = fg("250", "240")
	t.Selected = s.Reverse(true).Bold(true)
	t.Dim = fg("244", "245")
	t.Label = fg("241", "248")
	t.Notice = fg("28", "114")
	t.Problem = fg("160", "203").Bold(true)
	t.Prompt = fg("25", "75").Bold(true)
	t.Good = fg("28", "114").Bold(true)
	t.Busy = fg("25", "75").Bold(true)
	t.Caution = fg("130", "214").Bold(true)
	t.Bad = fg("160", "203").Bold(true)
	t.BarFull = fg("25", "75")
	t.BarEmpty = fg("252", "238")
	t.Help = help.DefaultStyles(dark)
	t.Log = logview.DefaultStyles(dark)
	return t
}

// input styles a text prompt. The cursor does not blink: a blinking cursor
// redraws the screen twice a second over a slow SSH link for nothing.
func (t Theme) input() textinput.Styles {
	field := textinput.StyleState{Text: lipgloss.NewStyle(), Prompt: t.Prompt, Placeholder: t.Dim}
	return textinput.Styles{Focused: field, Blurred: field, Cursor: textinput.CursorStyle{Blink: false}}
}
