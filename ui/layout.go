package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// fit cuts or pads a (possibly styled) line to exactly w cells, so that
// every line of a frame is the frame's width.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if sw := ansi.StringWidth(s); sw > w {
		s = ansi.Truncate(s, w, "…")
	}
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// fitLines makes exactly h lines of exactly w cells.
func fitLines(lines []string, w, h int) []string {
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = fit(lines[i], w)
		} else {
			out[i] = strings.Repeat(" ", w)
		}
	}
	return out
}

// wrapLines word-wraps each line to w cells, keeping styles; the preview
// and dialogs read better wrapped than cut. It breaks at spaces only, never
// at a slash or a dash inside a key, slug, path or hash, which would then
// be copied broken; only a word wider than w is cut, where it must be.
func wrapLines(lines []string, w int) []string {
	var out []string
	for _, l := range lines {
		out = append(out, wrapAtSpaces(l, w)...)
	}
	return out
}

func wrapAtSpaces(s string, w int) []string {
	if w <= 0 || ansi.StringWidth(s) <= w {
		return []string{s}
	}
	var lines []string
	line, lineW := "", 0
	for i, word := range strings.Split(s, " ") {
		ww := ansi.StringWidth(word)
		switch {
		case i == 0:
			line, lineW = word, ww
		case lineW+1+ww <= w:
			line, lineW = line+" "+word, lineW+1+ww
		case ww == 0:
			continue // a space where the line breaks
		default:
			lines = append(lines, line)
			line, lineW = word, ww
		}
		for lineW > w {
			lines = append(lines, ansi.Cut(line, 0, w))
			line, lineW = ansi.Cut(line, w, lineW), lineW-w
		}
	}
	return append(lines, line)
}

// underIndent is how far a value that goes on the lines under its label is
// indented, room permitting, so that it still reads as the label's.
const underIndent = 2

// field is "Label         value" in w cells, the value's wrapped lines
// indented under its first; a value with a word too long to sit beside the
// label (a hash in a narrow pane) goes whole on the lines under the label.
func field(t Theme, label, value string, w int) []string {
	head := t.Label.Render(fmt.Sprintf("%-*s", labelW, label))
	longest := 0
	for _, word := range strings.Fields(ansi.Strip(value)) {
		longest = max(longest, ansi.StringWidth(word))
	}
	if longest > w-labelW {
		pad := strings.Repeat(" ", min(underIndent, max(w-longest, 0)))
		under := wrapLines([]string{value}, w-len(pad))
		for i := range under {
			under[i] = pad + under[i]
		}
		return append([]string{strings.TrimRight(head, " ")}, under...)
	}
	lines := wrapLines([]string{value}, w-labelW)
	for i := range lines {
		if i == 0 {
			lines[i] = head + lines[i]
		} else {
			lines[i] = strings.Repeat(" ", labelW) + lines[i]
		}
	}
	return lines
}

// box draws a pane of exactly w x h cells: a rounded border with the title
// in the top edge, and the lines inside cut or padded to fit. A focused
// pane shows its title in the focus style with a ▸ so focus shows without
// colour too.
func box(t Theme, title string, lines []string, w, h int, focused bool) string {
	if w < 4 || h < 2 {
		return strings.Join(fitLines(nil, max(w, 0), max(h, 0)), "\n")
	}
	border := t.Border
	titleStyle := t.Title
	mark := " "
	if focused {
		border, titleStyle, mark = t.Focused, t.Focused, "▸"
	}
	inner := w - 2
	head := ansi.Truncate(mark+title+" ", inner-1, "… ")
	top := border.Render("╭─") + titleStyle.Render(head) +
		border.Render(strings.Repeat("─", max(0, inner-1-ansi.StringWidth(head)))+"╮")
	rows := make([]string, 0, h)
	rows = append(rows, top)
	for _, l := range fitLines(lines, inner, h-2) {
		rows = append(rows, border.Render("│")+l+border.Render("│"))
	}
	rows = append(rows, border.Render("╰"+strings.Repeat("─", inner)+"╯"))
	return strings.Join(rows, "\n")
}

// sideBySide joins two blocks of equal height line by line.
func sideBySide(left, right string) string {
	return lipgloss.JoinHorizontal(lipgloss.Top, left, right)
}

// formatDuration writes a duration as an admin reads it: 42s, 3m07s, 2h05m.
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// bar draws a progress bar of w cells; the filled part is a different
// glyph from the empty part so it reads without colour.
func bar(t Theme, fraction float64, w int) string {
	fraction = min(max(fraction, 0), 1)
	full := int(fraction*float64(w) + 0.5)
	return t.BarFull.Render(strings.Repeat("█", full)) + t.BarEmpty.Render(strings.Repeat("░", w-full))
}
