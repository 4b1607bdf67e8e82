package importer

import (
	"context"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"bbimport/model"
)

// BenchmarkMessagesPage reads page 1 and page 40,000 (start 999,975) of a
// job's 1,000,000 messages, unfiltered and filtered by severity (INFO, nine
// messages in ten: its deepest full page, start 899,975, reached as a client
// does, at the nextPageStart of the page before), and, for comparison, page
// 40,000 as the OFFSET query read it before messages were numbered.
//
//	go test -run '^$' -bench 'MessagesPage/^(page|INFO)' -benchtime 200x ./importer/
//	go test -run '^$' -bench 'MessagesPage/offset' -benchtime 3x ./importer/
//
// (the OFFSET query takes about as long as all the others together).
func BenchmarkMessagesPage(b *testing.B) {
	const n, limit = 1_000_000, 25
	in, err := Open(Options{Home: filepath.Join(b.TempDir(), "home")})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	job := addJob(b, in.db, true)
	addMessages(b, in.db, slices.Repeat([]int64{job}, n)...)
	ctx := context.Background()
	info := []model.Severity{model.SeverityInfo}
	read := func(b *testing.B, q model.MessageQuery) {
		b.Helper()
		page, err := in.Messages(ctx, job, q)
		if err != nil || page.Size != limit {
			b.Fatalf("page at %d: %d messages, %v", q.Start, page.Size, err)
		}
	}
	for _, c := range []struct {
		name string
		q    model.MessageQuery
	}{
		{"page-1", model.MessageQuery{Limit: limit}},
		{"page-40000", model.MessageQuery{Start: n - limit, Limit: limit}},
		{"INFO-page-1", model.MessageQuery{Limit: limit, Severities: info}},
		{"INFO-page-36000", model.MessageQuery{Start: n*9/10 - limit, Limit: limit, Severities: info}},
	} {
		b.Run(c.name, func(b *testing.B) {
			if c.q.Start > 0 {
				before := c.q
				before.Start -= limit
				read(b, before)
			}
			cpu := cpuTime(b)
			for b.Loop() {
				read(b, c.q)
			}
			b.ReportMetric(float64((cpuTime(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
	b.Run("offset-page-40000", func(b *testing.B) {
		for b.Loop() {
			rows, err := in.db.QueryContext(ctx, `SELECT id, severity, subject, text, created_date FROM messages
				WHERE job_id = ? ORDER BY id LIMIT ? OFFSET ?`, job, limit+1, n-limit)
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for ; rows.Next(); got++ {
				var m model.Message
				if err := rows.Scan(&m.ID, &m.Severity, &m.Subject, &m.Text, &m.CreatedDate); err != nil {
					b.Fatal(err)
				}
			}
			if err := rows.Close(); err != nil || got != limit {
				b.Fatalf("page: %d messages, %v", got, err)
			}
		}
	})
}

// cpuTime is the CPU time this process has used: on a loaded machine it
// says more about a page's cost than the wall clock does.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
