package logview

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// paint is a style reduced to the escape codes it puts around a text.
// lipgloss's Render measures and splits every string it is given, which
// took most of a frame's time; rows use paints made once in New instead.
type paint struct {
	pre, post string
	style     lipgloss.Style
	exact     bool // pre+text+post is what Render gives; else use Render
}

func paintOf(st lipgloss.Style) paint {
	const probe = "x"
	r := st.Render(probe)
	i := strings.Index(r, probe)
	if i < 0 || strings.Count(r, probe) != 1 || strings.Contains(r, "\n") {
		return paint{style: st} // a style that transforms or pads: no shortcut
	}
	return paint{pre: r[:i], post: r[i+len(probe):], exact: true}
}

func (p paint) render(s string) string {
	switch {
	case s == "":
		return ""
	case p.exact:
		return p.pre + s + p.post
	}
	return p.style.Render(s)
}

// rowPaints are the paints of one kind of row.
type rowPaints struct {
	time, subject, text, gap, match paint
	sev                             [sevCount]paint
}

// paintRows makes the paints of a plain row and of the selected row.
func paintRows(st Styles) [2]rowPaints {
	plain := rowPaints{
		time: paintOf(st.Time), subject: paintOf(st.Subject), text: paintOf(st.Text),
		gap: paintOf(lipgloss.NewStyle()), match: paintOf(st.Match),
		sev: [sevCount]paint{paintOf(st.Info), paintOf(st.Warn), paintOf(st.Error)},
	}
	sel := paintOf(st.Selected)
	selected := rowPaints{
		time: sel, subject: sel, text: sel, gap: sel, match: paintOf(st.Selected.Inherit(st.Match)),
		sev: [sevCount]paint{paintOf(st.Selected.Inherit(st.Info)), paintOf(st.Selected.Inherit(st.Warn)),
			paintOf(st.Selected.Inherit(st.Error))},
	}
	return [2]rowPaints{plain, selected}
}
