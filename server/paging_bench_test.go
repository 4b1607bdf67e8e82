package server_test

import (
	"database/sql"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"bbimport/client"
	"bbimport/importer"
	"bbimport/internal/backendtest"
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
	backendtest.MessagePages(b, c, job, n, limit)
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
