package logview

import (
	"charm.land/lipgloss/v2"
)

// Styles holds every visual choice of the pane, so the console's one theme
// decides them all. Styles must not add padding, margins, borders or a
// width: the pane measures and cuts text itself.
type Styles struct {
	Time    lipgloss.Style
	Info    lipgloss.Style // the word INFO
	Warn    lipgloss.Style // the word WARN
	Error   lipgloss.Style // the word ERROR
	Subject lipgloss.Style
	Text    lipgloss.Style
	// Selected marks the row under the cursor. Keep reverse or bold in it so
	// the selection shows without colour.
	Selected lipgloss.Style
	// Match marks text that the free-text filter matched.
	Match lipgloss.Style
	// Status is the line of counts, filters and follow state.
	Status lipgloss.Style
	// Prompt is the label of a text prompt (filter, subject, save path).
	Prompt lipgloss.Style
	// Notice is a one-off report such as "saved 12 messages to …".
	Notice lipgloss.Style
	// Problem is a report of something that went wrong (save failed,
	// invalid regular expression).
	Problem lipgloss.Style
	// Label is a field name in the detail pane.
	Label lipgloss.Style
}

// PlainStyles uses no colour at all, only bold and reverse: the theme for
// NO_COLOR and for terminals without colour.
func PlainStyles() Styles {
	s := lipgloss.NewStyle()
	return Styles{
		Time:     s,
		Info:     s,
		Warn:     s.Bold(true),
		Error:    s.Bold(true),
		Subject:  s,
		Text:     s,
		Selected: s.Reverse(true),
		Match:    s.Underline(true).Bold(true),
		Status:   s,
		Prompt:   s.Bold(true),
		Notice:   s,
		Problem:  s.Bold(true),
		Label:    s.Bold(true),
	}
}

// DefaultStyles is a starting point in 256 colours for a dark or a light
// background; the console's theme may override any of it.
func DefaultStyles(isDark bool) Styles {
	c := lipgloss.LightDark(isDark)
	s := PlainStyles()
	s.Time = s.Time.Foreground(c(lipgloss.Color("244"), lipgloss.Color("245")))
	s.Info = s.Info.Foreground(c(lipgloss.Color("25"), lipgloss.Color("75")))
	s.Warn = s.Warn.Foreground(c(lipgloss.Color("130"), lipgloss.Color("214")))
	s.Error = s.Error.Foreground(c(lipgloss.Color("160"), lipgloss.Color("203")))
	s.Subject = s.Subject.Foreground(c(lipgloss.Color("90"), lipgloss.Color("176")))
	s.Match = s.Match.Foreground(c(lipgloss.Color("0"), lipgloss.Color("0"))).
		Background(c(lipgloss.Color("220"), lipgloss.Color("220")))
	s.Status = s.Status.Foreground(c(lipgloss.Color("238"), lipgloss.Color("250")))
	s.Prompt = s.Prompt.Foreground(c(lipgloss.Color("25"), lipgloss.Color("75")))
	s.Notice = s.Notice.Foreground(c(lipgloss.Color("28"), lipgloss.Color("114")))
	s.Problem = s.Problem.Foreground(c(lipgloss.Color("160"), lipgloss.Color("203")))
	return s
}
