package logview

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Column widths of a row. The subject column takes a fifth of the width,
// within these bounds; the text gets the rest.
const (
	timeLayout     = "15:04:05"
	timeWidth      = len(timeLayout)
	severityWidth  = len("ERROR")
	minSubjectCols = 8
	maxSubjectCols = 28
	// maxHighlights caps the matches marked in one row: a one-letter
	// filter on a long line would otherwise style every other cell.
	maxHighlights = 16
	// cursorMark starts the selected row, so the selection shows in a
	// terminal without reverse video and to a screen reader. ASCII: a
	// symbol of ambiguous width would break the layout in CJK locales.
	cursorMark = ">"
)

// JobSubject stands for the subject of a message about the whole job,
// which has none, wherever messages are listed with their subjects.
const JobSubject = "(job)"

// listRows is the number of message rows on screen: all but the status
// line and, when shown, the prompt or notice line.
func (m Model) listRows() int {
	rows := m.height - 1
	if m.prompt != promptNone || m.notice != "" {
		rows--
	}
	return max(0, rows)
}

// View draws exactly height lines of exactly width cells.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := make([]string, 0, m.height)
	if m.detail {
		lines = m.appendDetail(lines)
	} else {
		lines = m.appendRows(lines)
	}
	if len(lines) < m.height-1 { // room for a prompt or notice line
		switch {
		case m.prompt != promptNone:
			lines = append(lines, m.promptLine())
		case m.notice != "":
			st := m.styles.Notice
			if m.problem {
				st = m.styles.Problem
			}
			lines = append(lines, fit(st.Render(m.notice), m.width))
		}
	}
	return strings.Join(append(lines, m.statusLine()), "\n")
}

func (m Model) appendRows(lines []string) []string {
	rows := m.listRows()
	for r := range rows {
		i := m.top + r
		switch {
		case i < len(m.view):
			lines = append(lines, m.row(m.view[i], m.focused && i == m.cursor))
		case r == 0 && len(m.entries) == 0:
			lines = append(lines, fit("No messages yet.", m.width))
		case r == 0 && !m.scanning:
			lines = append(lines, fit("No message matches the filters: x clears them.", m.width))
		default:
			lines = append(lines, strings.Repeat(" ", m.width))
		}
	}
	return lines
}

// row draws one message: time, severity word, subject, text, cut with an
// ellipsis at the width.
func (m Model) row(i int32, selected bool) string {
	e, mt := &m.entries[i], &m.metas[i]
	p := &m.paints[0]
	if selected {
		p = &m.paints[1]
	}
	subjectCols := max(minSubjectCols, min(maxSubjectCols, m.width/5))
	textCols := m.width - len(cursorMark) - timeWidth - severityWidth - subjectCols - 3

	subject := m.subjects.names[mt.subject]
	if subject == "" {
		subject = JobSubject
	}
	var b strings.Builder
	b.Grow(2 * m.width)
	if selected {
		b.WriteString(cursorMark)
	} else {
		b.WriteString(strings.Repeat(" ", len(cursorMark)))
	}
	b.WriteString(p.time.render(e.created.Time().Local().Format(timeLayout)))
	b.WriteString(p.gap.render(" "))
	b.WriteString(p.sev[mt.sev].render(severityWords[mt.sev]))
	b.WriteString(p.gap.render(" "))
	m.highlight(&b, subject, subjectCols, p.subject, p.match)
	b.WriteString(p.gap.render(" "))
	m.highlight(&b, e.text, textCols, p.text, p.match)
	if textCols <= 0 {
		return fit(b.String(), m.width) // too narrow for the columns
	}
	return b.String() // every column is cut and padded to its width
}

// severityWords are the severities padded to one width.
var severityWords = [sevCount]string{"INFO ", "WARN ", "ERROR"}

// highlight writes s cut to cols cells and padded to them, marking the
// matches of the text filter in what is visible.
func (m Model) highlight(b *strings.Builder, s string, cols int, base, match paint) {
	if cols <= 0 {
		return
	}
	s = oneLine(s)
	shown, width := cut(s, cols)
	visible := len(shown) // bytes of s on screen
	if shown != s {
		visible = len(strings.TrimSuffix(shown, "…"))
	}
	at := 0
	for _, r := range m.matches(s[:visible]) {
		b.WriteString(base.render(shown[at:r[0]]))
		b.WriteString(match.render(shown[r[0]:r[1]]))
		at = r[1]
	}
	b.WriteString(base.render(shown[at:] + strings.Repeat(" ", max(0, cols-width))))
}

// cut cuts s to cols cells with an ellipsis, and says how wide the result
// is. Most log text is ASCII, where a byte is a cell: no grapheme walk.
func cut(s string, cols int) (string, int) {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < utf8.RuneSelf
	}
	if !ascii {
		shown := ansi.Truncate(s, cols, "…")
		return shown, ansi.StringWidth(shown)
	}
	if len(s) <= cols {
		return s, len(s)
	}
	return s[:cols-1] + "…", cols
}

// matches finds the applied text filter's matches in s, at most
// maxHighlights of them, as byte ranges.
func (m Model) matches(s string) [][]int {
	mt := m.applied
	switch {
	case mt.text == "":
		return nil
	case mt.re != nil:
		return mt.re.FindAllStringIndex(s, maxHighlights)
	}
	var found [][]int
	for at := 0; len(found) < maxHighlights; {
		i := mt.literal.index(s[at:])
		if i < 0 {
			break
		}
		n := len(mt.literal.text)
		found = append(found, []int{at + i, at + i + n})
		at += i + max(1, n)
	}
	return found
}

func (m Model) promptLabel() string {
	switch {
	case m.promptErr != "":
		return "Invalid regex, " + m.promptErr + " (esc undoes): "
	case m.prompt == promptText:
		if m.want.regex {
			return "Filter text (regex, ctrl+r literal): "
		}
		return "Filter text (ctrl+r regex): "
	case m.prompt == promptSubject:
		return "Subject starts with: "
	case m.prompt == promptSave:
		return "Save shown rows to (.csv for CSV): "
	}
	return ""
}

func (m Model) promptLine() string {
	label, st := m.promptLabel(), m.styles.Prompt
	if m.promptErr != "" {
		st = m.styles.Problem
	}
	in := m.input
	in.SetWidth(max(1, m.width-ansi.StringWidth(label)-1))
	return fit(st.Render(label)+in.View(), m.width)
}

// statusLine shows, most important first: counts per severity, rows shown
// of all, follow, and the filters in force.
func (m Model) statusLine() string {
	st := m.styles
	c := m.counts
	parts := []string{
		st.Info.Render("INFO") + st.Status.Render(" "+count(c.Info)) + "  " +
			st.Warn.Render("WARN") + st.Status.Render(" "+count(c.Warn)) + "  " +
			st.Error.Render("ERROR") + st.Status.Render(" "+count(c.Error)),
		st.Status.Render(fmt.Sprintf("%s/%s shown", count(len(m.view)), count(c.Total()))),
	}
	if m.partial { // the rows of the frame only, so far
		parts[1] = st.Status.Render(fmt.Sprintf("≥%s/%s shown", count(len(m.view)), count(c.Total())))
	}
	if m.follow {
		parts = append(parts, st.Status.Render("follow on"))
	} else {
		parts = append(parts, st.Status.Render("follow off"))
	}
	if m.scanning {
		parts = append(parts, st.Status.Render("filtering…"))
	}
	if f := m.applied.describe(); f != "" {
		parts = append(parts, st.Status.Render(f))
	}
	return fit(strings.Join(parts, st.Status.Render(" │ ")), m.width)
}

// describe says what the filter hides, in words.
func (f filter) describe() string {
	var parts []string
	var hidden []string
	for s := range sevCount {
		if f.hidden[s] {
			hidden = append(hidden, s.String())
		}
	}
	if len(hidden) > 0 {
		parts = append(parts, "hiding "+strings.Join(hidden, ","))
	}
	if f.subject != "" {
		parts = append(parts, "subject "+oneLine(f.subject)+"*")
	}
	if f.text != "" {
		kind := "text"
		if f.regex {
			kind = "regex"
		}
		parts = append(parts, fmt.Sprintf("%s %q", kind, f.text))
	}
	return strings.Join(parts, ", ")
}

// detailLines is the selected message in full, wrapped to the width.
func (m Model) detailLines() []string {
	if len(m.view) == 0 || m.width <= 0 {
		return nil
	}
	e, mt := &m.entries[m.view[m.cursor]], &m.metas[m.view[m.cursor]]
	st := m.styles
	sev := [sevCount]lipgloss.Style{st.Info, st.Warn, st.Error}[mt.sev]
	subject := m.subjects.names[mt.subject]
	if subject == "" {
		subject = "(the job itself)"
	}
	lines := []string{
		st.Label.Render("Severity ") + sev.Render(mt.sev.String()),
		st.Label.Render("Subject  ") + st.Subject.Render(oneLine(subject)),
		st.Label.Render("Time     ") + st.Time.Render(e.created.Time().Local().Format("2006-01-02 15:04:05.000 MST")),
		st.Label.Render("ID       ") + oneLine(e.id),
		"",
	}
	text := ansi.Wrap(printable(e.text), m.width, "")
	for _, l := range strings.Split(text, "\n") {
		lines = append(lines, st.Text.Render(l))
	}
	return lines
}

func (m Model) appendDetail(lines []string) []string {
	all := m.detailLines()
	for r := range m.listRows() {
		if i := m.detailTop + r; i < len(all) {
			lines = append(lines, fit(all[i], m.width))
		} else {
			lines = append(lines, strings.Repeat(" ", m.width))
		}
	}
	return lines
}

// fit cuts s to w cells and pads it to exactly w.
func fit(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// count writes n with thousands separators: 1,000,000.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// oneLine makes text from the archive safe for one row: control characters
// (newlines, tabs, escape sequences a crafted archive might carry) become
// spaces, so they cannot move the cursor or restyle the terminal.
func oneLine(s string) string {
	if !hasControl(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

// printable is oneLine that keeps line breaks, for the detail pane.
func printable(s string) string {
	if !hasControl(s) {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\t", "    ")
	return strings.Map(func(r rune) rune {
		if r != '\n' && isControl(r) {
			return ' '
		}
		return r
	}, s)
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b == 0x7f || b == 0xc2 {
			return true // 0xc2 starts the C1 controls; a false alarm costs a Map
		}
	}
	return false
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }
