package importer

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"bbimport/internal/backendtest"
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
	backendtest.MessagePages(b, in, job, n, limit)
	ctx := context.Background()
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
