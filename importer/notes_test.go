package importer

import (
	"context"
	"testing"
	"time"

	"bbimport/archive/gen"
	"bbimport/model"
)

// What an admin overrode to start an import (a checksum that differs from
// the source's) is the job's first message, a job-level WARN, kept with the
// job for whoever reads its log later.
func TestStartRecordsNotes(t *testing.T) {
	in := openHome(t)
	note := "Started despite a checksum mismatch: expected MD5 00ff (pasted from the source), got 11ee"
	job, err := in.Start(context.Background(), place(t, in, generated(t, "notes", gen.Options{Seed: 4, Projects: 1, Repos: 1, PRs: 1, Commits: 1})), note)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := in.Wait(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	page, err := in.Messages(context.Background(), job.ID, model.MessageQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Values) != 1 {
		t.Fatalf("no messages")
	}
	if m := page.Values[0]; m.Severity != model.SeverityWarn || m.Subject != "" || m.Text != note {
		t.Errorf("first message %+v, want the note as a job-level WARN", m)
	}
}
