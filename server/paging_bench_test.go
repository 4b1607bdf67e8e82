package server_test

import (
	"context"
	"database/sql"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"bbimport/client"
	"bbimport/importer"
	"bbimport/model"
	"bbimport/server"
)

// BenchmarkServeMessagesPage reads page 1 and page 40,000 (start 999,975)
// of a job's 1,000,000 messages through serve, with the REST client, as
// the console and `bbimport messages` do; the filtered deep page is
// reached at the nextPageStart of the page before.
//
//	go test -run '^$' -bench ServeMessagesPage -benchtime 200x ./server/
func BenchmarkServeMessagesPage(b *testing.B) {
	const n, limit = 1_000_000, 25
	in, err := importer.Open(importer.Options{Home: filepath.Join(b.TempDir(), "home")})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	job := logMessages(b, filepath.Join(in.Home(), "shared", "data", "bbimport.db"), n)
	srv, err := server.New(server.Config{Importer: in, Admin: admin, Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, err := client.New(client.Config{BaseURL: hs.URL, User: admin.User, Password: admin.Password})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	read := func(b *testing.B, q model.MessageQuery) {
		b.Helper()
		page, err := c.Messages(ctx, job, q)
		if err != nil || page.Size != limit {
			b.Fatalf("page at %d: %d messages, %v", q.Start, page.Size, err)
		}
	}
	info := []model.Severity{model.SeverityInfo}
	for _, bc := range []struct {
		name string
		q    model.MessageQuery
	}{
		{"page-1", model.MessageQuery{Limit: limit}},
		{"page-40000", model.MessageQuery{Start: n - limit, Limit: limit}},
		{"INFO-page-1", model.MessageQuery{Limit: limit, Severities: info}},
		{"INFO-page-36000", model.MessageQuery{Start: n*9/10 - limit, Limit: limit, Severities: info}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.q.Start > 0 {
				before := bc.q
				before.Start -= limit
				read(b, before)
			}
			cpu := cpuTime(b)
			for b.Loop() {
				read(b, bc.q)
			}
			b.ReportMetric(float64((cpuTime(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// logMessages records a finished job with n messages, every tenth a WARN,
// straight into the home's database (an import that logs a million
// messages would take far longer), numbered as the importer numbers them.
func logMessages(b *testing.B, dbPath string, n int) int64 {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`INSERT INTO jobs(state, archive_path, start_date, updated_date, end_date, heartbeat)
		VALUES ('COMPLETED', 'bench.tar', 1, 1, 1, 1)`)
	if err != nil {
		b.Fatal(err)
	}
	job, _ := res.LastInsertId()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO messages(job_id, seq, severity, subject, text, created_date) VALUES (?, ?, ?, 'PRJ/repo', 'A message of the benchmark', 1497657601000)`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		sev := model.SeverityInfo
		if i%10 == 9 {
			sev = model.SeverityWarn
		}
		if _, err := stmt.Exec(job, i, sev); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return job
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
