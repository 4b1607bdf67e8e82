package backendtest

import (
	"context"
	"testing"

	"bbimport/model"
)

// MessagePages benchmarks page 1 and the deepest full page of job's n
// messages read through backend, limit a page: unfiltered, and filtered by
// INFO (nine messages in ten, so its deepest full page starts at
// n*9/10-limit). A deep page is reached as a client reaches it, at the
// nextPageStart of the page before. The CPU time this process spent per
// page is reported beside the wall clock: on a loaded machine it says more.
func MessagePages(b *testing.B, backend model.Backend, job int64, n, limit int) {
	ctx := context.Background()
	read := func(b *testing.B, q model.MessageQuery) {
		b.Helper()
		page, err := backend.Messages(ctx, job, q)
		if err != nil || page.Size != limit {
			b.Fatalf("page at %d: %d messages, %v", q.Start, page.Size, err)
		}
	}
	info := []model.Severity{model.SeverityInfo}
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
			cpu, ok := cpuTime()
			for b.Loop() {
				read(b, c.q)
			}
			if end, _ := cpuTime(); ok {
				b.ReportMetric(float64((end-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
