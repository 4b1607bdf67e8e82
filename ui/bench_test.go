package ui

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"bbimport/model"
	"bbimport/wire"
)

// manyMessages is n messages of a busy import, a tenth of them WARN.
func manyMessages(n int) []model.Message { return messagesFrom(0, n) }

// messagesFrom is messages first to first+n-1.
func messagesFrom(first, n int) []model.Message {
	msgs := make([]model.Message, n)
	for k := range msgs {
		i := first + k
		sev := model.SeverityInfo
		if i%10 == 0 {
			sev = model.SeverityWarn
		}
		msgs[k] = model.Message{ID: fmt.Sprint(i), Severity: sev, Subject: fmt.Sprintf("PRJ%d/repo%d#%d", i%7, i%300, i),
			Text: fmt.Sprintf("Pull request %d imported with %d comments and %d activities", i, i%13, i%29), CreatedDate: model.MillisOf(t0)}
	}
	return msgs
}

// BenchmarkJobFrame is the time to draw the whole job view (progress pane,
// log, help) with a million messages in the log, at 80x24 and 200x60.
func BenchmarkJobFrame(b *testing.B) {
	msgs := manyMessages(1_000_000)
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			h := newHarness(b, size[0], size[1])
			h.init()
			h.press("enter", "y")
			j := runningJob()
			h.b.set(j, msgs...)
			// What the console holds per message: the heap after the
			// backlog is in, less before (the backend's copy is in both).
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			h.fire()
			for range 1_000_000 / (wire.MaxLimit * pagesPerPoll) {
				h.fire() // drain the backlog
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			if got := h.m.job.log.Counts().Total(); got != len(msgs) {
				b.Fatalf("log holds %d messages, want %d", got, len(msgs))
			}
			b.ResetTimer()
			for b.Loop() {
				_ = h.m.render()
			}
			// Reported after the loop: ResetTimer drops earlier metrics.
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(len(msgs)), "held-B/message")
		})
	}
}

// countingWriter counts the bytes the program writes to the terminal.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// BenchmarkTerminalBytes runs the real event loop for three seconds on a
// job that logs 2,000 messages a second and moves its progress every
// 50 ms, and reports the bytes written to the terminal per second. Run it
// with -benchtime 1x: each iteration takes three seconds.
func BenchmarkTerminalBytes(b *testing.B) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) { terminalBytes(b, size[0], size[1]) })
	}
}

func terminalBytes(b *testing.B, w, h int) {
	const run = 3 * time.Second
	for b.Loop() {
		fb, fa := newFakeBackend(), newFakeArchives()
		j := runningJob()
		fb.set(j)
		ctx, cancel := context.WithCancel(context.Background())
		m := newModel(ctx, Options{Backend: fb, Archives: fa, Now: time.Now, NoColor: false})
		m.openJob(j, nil) // its first poll is sent below, once the loop runs
		out := &countingWriter{}
		p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(&bytes.Buffer{}), tea.WithOutput(out),
			tea.WithWindowSize(w, h), tea.WithoutSignals())
		go func() {
			p.Send(pollDueMsg{gen: m.job.gen})
			start := time.Now()
			next := 0
			for time.Since(start) < run {
				time.Sleep(50 * time.Millisecond)
				j.Progress.Percentage = min(99, int(time.Since(start)*100/run))
				j.UpdatedDate = time.Now().UnixMilli()
				fb.set(j, messagesFrom(next, 100)...)
				next += 100
			}
			p.Quit()
		}()
		if _, err := p.Run(); err != nil && ctx.Err() == nil {
			b.Fatal(err)
		}
		cancel()
		b.ReportMetric(float64(out.n.Load())/run.Seconds(), "terminal-B/s")
	}
}
