package logview

import (
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	rvp "github.com/robinovitch61/viewport/viewport"
	"github.com/robinovitch61/viewport/viewport/item"

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

// loop runs f as the benchmark's body and also reports the CPU time per
// run. The machine is shared: wall time grows with everyone else's load,
// CPU time much less. A scan split across both cores counts both.
func loop(b *testing.B, f func()) {
	b.Helper()
	start, n := cpuTime(), 0
	for b.Loop() {
		f()
		n++
	}
	b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(n)/1e6, "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
			loop(b, func() { _ = m.View() })
		})
	}
}

// BenchmarkScrollKey is a key press that scrolls and the frame after it.
func BenchmarkScrollKey(b *testing.B) {
	m := millionPane(b)
	m, _ = press(m, keyOf("g"))
	down, up := keyOf("j"), keyOf("k")
	i := 0
	loop(b, func() {
		k := down
		if i%2 == 1 {
			k = up
		}
		i++
		m, _ = m.Update(k)
		_ = m.View()
	})
}

// filterKeystrokes are the keystrokes the filter benchmarks measure.
var filterKeystrokes = []struct {
	name  string
	setup []string // keys before
	key   string   // the keystroke measured
}{
	{"first_letter", []string{"/"}, "p"},                     // all 1M match
	{"first_letter_matching_none", []string{"/"}, "z"},       // none match
	{"second_letter_all_rows", []string{"/", "type:p"}, "r"}, // narrows 1M rows
	{"literal_backspace_whole_log", []string{"/", "type:renamed to PRJ3x"}, "backspace"},
	{"backspace_to_first_letter", []string{"/", "type:pr"}, "backspace"}, // widens to all 1M
	{"literal_narrowing", []string{"/", "type:renamed to PRJ"}, "3"},
	{"regex_whole_log", []string{"/", "ctrl+r", "type:feature/f[0-9]+"}, "7"},
	{"toggle_severity", nil, "1"},                // hide INFO
	{"toggle_severity_back", []string{"1"}, "1"}, // show INFO again: whole log
	{"toggle_under_text", []string{"/", "type:repo", "enter"}, "1"},
	{"subject_prefix", []string{"s", "type:PRJ3/repo"}, "1"},
	{"not_following_toggle", []string{"g", "pgdown", "pgdown"}, "1"}, // the rows around the selected one
}

// BenchmarkFilterKeystroke is a key press that changes the filter over a
// million messages and the frame that shows its result: Update and View,
// and the whole scan too when the keystroke ran out of time to find the
// rows of the frame (a rare match; the frame is right only when it lands).
// frames_waiting_scan counts those. The rest of the scan runs off the
// loop: BenchmarkFilterLanded measures it.
func BenchmarkFilterKeystroke(b *testing.B) {
	for _, bc := range filterKeystrokes {
		b.Run(bc.name, func(b *testing.B) {
			m := millionPane(b)
			m, _ = press(m, keys(bc.setup...)...)
			runtime.GC()
			k := keyOf(bc.key)
			waited, n := 0, 0
			loop(b, func() {
				next, cmd := m.Update(k)
				if next.short {
					next, _ = run(next, cmd)
					waited++
				}
				_ = next.View()
				n++
			})
			b.ReportMetric(float64(waited)/float64(n), "frames_waiting_scan")
		})
	}
}

// BenchmarkFilterLanded is the same keystrokes until the whole result has
// landed: the keystroke, its scan in the command, and the result landing.
func BenchmarkFilterLanded(b *testing.B) {
	for _, bc := range filterKeystrokes {
		b.Run(bc.name, func(b *testing.B) {
			m := millionPane(b)
			m, _ = press(m, keys(bc.setup...)...)
			runtime.GC()
			k := keyOf(bc.key)
			loop(b, func() {
				next, cmd := m.Update(k)
				if next, _ = run(next, cmd); next.scanning {
					b.Fatal("the scan did not land")
				}
			})
			after, _ := run(m.Update(k))
			b.ReportMetric(float64(len(after.view)), "rows_shown")
		})
	}
}

// BenchmarkMatch compares ways to match a literal, case-insensitively, over
// a million message texts on one core: the search used (literal, anchored on its rarest byte), a
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
	b.Run("literal_anchored", func(b *testing.B) {
		l := newLiteral(needle)
		loop(b, func() { count(func(i int) bool { return l.contains(texts[i]) }) })
	})
	b.Run("lowered_copy", func(b *testing.B) {
		loop(b, func() { count(func(i int) bool { return strings.Contains(lowered[i], needle) }) })
	})
	b.Run("regexp_i", func(b *testing.B) {
		re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(needle))
		loop(b, func() { count(func(i int) bool { return re.MatchString(texts[i]) }) })
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
			held := float64(heapInUse() - before)
			textBytes := 0
			for i := range m.entries {
				textBytes += len(m.entries[i].text) + len(m.entries[i].id)
			}
			b.ReportMetric(held/million, "bytes/msg")
			b.ReportMetric((held-float64(textBytes))/million, "overhead_bytes/msg")
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
		lines[i] = m.row(int32(i), false)
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
			loop(b, func() {
				vp, _ = vp.Update(down)
				_ = vp.View()
			})
		})
	}
}

// logItem is a row for robinovitch61/viewport, which holds items.
type logItem struct{ item item.SingleItem }

func (o logItem) GetItem() item.Item { return o.item }

// BenchmarkRobinovitchViewport is the virtualised viewport the issue
// suggests, holding the same million rows: the heap its items hold per
// message (the rows themselves not counted), and a key press and frame.
func BenchmarkRobinovitchViewport(b *testing.B) {
	m := millionPane(b)
	m.Blur()
	rows := make([]string, len(m.entries))
	for i := range m.entries {
		rows[i] = m.row(int32(i), false)
	}
	before := heapInUse()
	objects := make([]logItem, len(rows))
	for i, r := range rows {
		objects[i] = logItem{item.NewItem(r)}
	}
	itemBytes := float64(heapInUse()-before) / million
	vp := rvp.New[logItem](140, 39, rvp.WithSelectionEnabled[logItem](true))
	vp.SetObjects(objects)
	down := tea.KeyPressMsg{Code: 'j', Text: "j"}
	loop(b, func() {
		vp, _ = vp.Update(down)
		_ = vp.View()
	})
	b.ReportMetric(itemBytes, "item_bytes/msg") // after the loop, which resets metrics
}
