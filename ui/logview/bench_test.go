package logview

import (
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"bbimport/model"
)

// The benchmarks work on a log of a million messages, the size the console
// must stay smooth with. Commands and figures are in docs/logview.md.
const million = 1_000_000

var (
	millionOnce sync.Once
	millionLog  []model.Message
)

func millionMessages() []model.Message {
	millionOnce.Do(func() { millionLog = sampleMessages(million) })
	return millionLog
}

// millionPane is a 140x40 pane holding the million messages.
func millionPane(b *testing.B) Model {
	b.Helper()
	msgs := millionMessages()
	m := New(DefaultStyles(true))
	m.SetSize(140, 40)
	m, _ = run(m, m.Append(msgs))
	runtime.GC() // the garbage of building the log is not the frame's
	return m
}

// BenchmarkFrame is the time to draw one frame of the pane.
func BenchmarkFrame(b *testing.B) {
	for _, bc := range []struct{ name, filter string }{
		{"following", ""},
		{"text_filter_highlighting", "repo1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := millionPane(b)
			if bc.filter != "" {
				m, _ = press(m, keys("/", "type:"+bc.filter, "enter")...)
			}
			m, _ = press(m, keys("g", "n")...) // the middle of the screen
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkScrollKey is a key press that scrolls and the frame after it.
func BenchmarkScrollKey(b *testing.B) {
	m := millionPane(b)
	m, _ = press(m, keyOf("g"))
	down, up := keyOf("j"), keyOf("k")
	for i := 0; b.Loop(); i++ {
		k := down
		if i%2 == 1 {
			k = up
		}
		m, _ = m.Update(k)
		_ = m.View()
	}
}

// BenchmarkFilterKeystroke is a key press that changes the filter, its
// scan in the command, and the result landing, over a million messages.
func BenchmarkFilterKeystroke(b *testing.B) {
	for _, bc := range []struct {
		name  string
		setup []string // keys before
		key   string   // the keystroke measured
	}{
		{"first_letter", []string{"/"}, "p"},
		{"literal_backspace_whole_log", []string{"/", "type:renamed to PRJ3x"}, "backspace"},
		{"literal_narrowing", []string{"/", "type:renamed to PRJ"}, "3"},
		{"regex_whole_log", []string{"/", "ctrl+r", "type:feature/f[0-9]+"}, "7"},
		{"toggle_severity", nil, "1"},
		{"subject_prefix", []string{"s", "type:PRJ3/repo"}, "1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := millionPane(b)
			m, _ = press(m, keys(bc.setup...)...)
			k := keyOf(bc.key)
			for b.Loop() {
				next, cmd := m.Update(k)
				next, _ = run(next, cmd)
				if next.scanning {
					b.Fatal("the scan did not land")
				}
			}
			after, _ := run(m.Update(k))
			b.ReportMetric(float64(len(after.view)), "rows_shown")
		})
	}
}

// BenchmarkMatch compares ways to match a literal, case-insensitively, over
// a million message texts on one core: the search used (containsFold), a
// lowered copy kept per message, and a (?i) regular expression.
func BenchmarkMatch(b *testing.B) {
	msgs := millionMessages()
	texts := make([]string, len(msgs))
	lowered := make([]string, len(msgs))
	for i, msg := range msgs {
		texts[i], lowered[i] = msg.Text, strings.ToLower(msg.Text)
	}
	needle := "renamed to prj3a"
	count := func(match func(i int) bool) int {
		n := 0
		for i := range texts {
			if match(i) {
				n++
			}
		}
		return n
	}
	b.Run("containsFold", func(b *testing.B) {
		for b.Loop() {
			count(func(i int) bool { return containsFold(texts[i], needle) })
		}
	})
	b.Run("lowered_copy", func(b *testing.B) {
		for b.Loop() {
			count(func(i int) bool { return strings.Contains(lowered[i], needle) })
		}
	})
	b.Run("regexp_i", func(b *testing.B) {
		re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(needle))
		for b.Loop() {
			count(func(i int) bool { return re.MatchString(texts[i]) })
		}
	})
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkMemoryPerMessage reports the heap held per message: by the pane
// (text, id, entry, index in the view, interned subject), and by a plain
// []model.Message for comparison. The messages are made anew each time so
// that only what is kept counts.
func BenchmarkMemoryPerMessage(b *testing.B) {
	b.Run("pane", func(b *testing.B) {
		for b.Loop() {
			before := heapInUse()
			m := New(PlainStyles())
			m.Append(sampleMessages(million))
			b.ReportMetric(float64(heapInUse()-before)/million, "bytes/msg")
			runtime.KeepAlive(m)
		}
	})
	b.Run("slice_of_model.Message", func(b *testing.B) {
		for b.Loop() {
			before := heapInUse()
			msgs := sampleMessages(million)
			b.ReportMetric(float64(heapInUse()-before)/million, "bytes/msg")
			runtime.KeepAlive(msgs)
		}
	})
}

// BenchmarkStockViewport is what the pane was measured against: the
// bubbles viewport holding the same million rows, scrolled one line and
// drawn, with and without soft wrapping. It measures the width of every
// line on each call when wrapping.
func BenchmarkStockViewport(b *testing.B) {
	m := millionPane(b)
	m.Blur()
	lines := make([]string, len(m.entries))
	for i := range m.entries {
		lines[i] = m.row(&m.entries[i], false)
	}
	for _, wrap := range []bool{false, true} {
		name := "no_wrap"
		if wrap {
			name = "soft_wrap"
		}
		b.Run(name, func(b *testing.B) {
			vp := viewport.New(viewport.WithWidth(140), viewport.WithHeight(39))
			vp.SoftWrap = wrap
			vp.SetContentLines(lines)
			down := tea.KeyPressMsg{Code: 'j', Text: "j"}
			for b.Loop() {
				vp, _ = vp.Update(down)
				_ = vp.View()
			}
		})
	}
}
