package logview

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"bbimport/model"
)

// states are the pane's screens, each reached by keys from a log of 300
// messages; the log of one state is empty.
var states = []struct {
	name string
	msgs int
	keys []string
}{
	{"following", 300, nil},
	{"empty", 0, nil},
	{"scrolled", 300, []string{"g", "n", "n"}},
	{"warn_and_error_only", 300, []string{"1"}},
	{"text_filter_prompt", 300, []string{"/", "type:renamed"}},
	{"regex_error", 300, []string{"/", "ctrl+r", "type:repo(1"}},
	{"subject_filter", 300, []string{"s", "type:PRJ3/repo1", "enter", "k"}},
	{"no_match", 300, []string{"/", "type:no such thing", "enter"}},
	{"detail", 300, []string{"N", "N", "enter"}},
	{"save_prompt", 300, []string{"S"}},
	{"notice", 300, []string{"g", "N"}},
}

// TestGolden keeps each state's screen, escape codes stripped, at the two
// sizes the console gives the pane at 80x24 and 140x40. Run with -update
// to write them again.
func TestGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {140, 40}} {
		for _, st := range states {
			t.Run(fmt.Sprintf("%dx%d/%s", size[0], size[1], st.name), func(t *testing.T) {
				m, _ := press(pane(t, size[0], size[1], sampleMessages(st.msgs)), keys(st.keys...)...)
				golden.RequireEqual(t, screen(m))
			})
		}
	}
}

// TestEveryLineFillsTheWidth checks the layout at many sizes, in every
// state, with colour styles on and messages with wide and control
// characters: View is exactly height lines of exactly width cells.
func TestEveryLineFillsTheWidth(t *testing.T) {
	msgs := sampleMessages(300)
	msgs[299].Text = "リポジトリ「設計」をインポートしました 🚀 with wide characters\tand a tab\nand a newline"
	msgs[298].Subject = "PRJ/日本語のリポジトリ#1"
	for _, st := range states {
		for w := 1; w <= 160; w += 13 {
			for h := 1; h <= 45; h += 6 {
				m := New(DefaultStyles(true))
				m.SetSize(w, h)
				if st.msgs > 0 {
					m, _ = run(m, m.Append(msgs))
				}
				m, _ = press(m, keys(st.keys...)...)
				checkSize(t, st.name, m, w, h)
				m.SetSize(h+20, w/2+1) // and after a resize
				checkSize(t, st.name+" resized", m, h+20, w/2+1)
			}
		}
	}
}

func checkSize(t *testing.T, state string, m Model, w, h int) {
	t.Helper()
	lines := strings.Split(m.View(), "\n")
	if len(lines) != h {
		t.Errorf("%s at %dx%d: %d lines", state, w, h, len(lines))
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got != w {
			t.Errorf("%s at %dx%d: line %d is %d cells: %q", state, w, h, i, got, ansi.Strip(l))
			return
		}
	}
}

func TestZeroSizeDrawsNothing(t *testing.T) {
	m := pane(t, 0, 0, []model.Message{{ID: "1", Text: "x"}})
	if v := m.View(); v != "" {
		t.Errorf("View at 0x0 = %q", v)
	}
}

// A background answer that comes after the pane was made restyles it.
func TestSetStylesRepaints(t *testing.T) {
	m := New(DefaultStyles(true))
	m.SetSize(60, 5)
	m.Append([]model.Message{{ID: "1", Severity: model.SeverityWarn, Text: "late background"}})
	dark := m.View()
	m.SetStyles(DefaultStyles(false))
	if light := m.View(); light == dark {
		t.Fatal("the view did not change with light styles")
	}
	m.SetStyles(DefaultStyles(true))
	if again := m.View(); again != dark {
		t.Fatal("dark styles again do not give the dark view")
	}
}
