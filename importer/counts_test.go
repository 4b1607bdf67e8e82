package importer

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"bbimport/archive/gen"
	"bbimport/model"
)

// summaryCounts reads the counts out of the job's final message, the one
// a person reads.
var summaryCounts = regexp.MustCompile(`(\d+) projects?, (\d+) repositor(?:y|ies) and (\d+) pull requests? imported`)

// dbCounts counts what the job put in the database, as far as committed.
func dbCounts(t *testing.T, in *Instance, id int64) model.ImportCounts {
	t.Helper()
	return model.ImportCounts{
		Projects:     count(t, in, `SELECT COUNT(*) FROM projects WHERE job_id = ?`, id),
		Repositories: count(t, in, `SELECT COUNT(*) FROM repositories WHERE job_id = ? AND state = 'AVAILABLE'`, id),
		PullRequests: count(t, in, `SELECT COUNT(*) FROM pull_requests pr JOIN repositories r ON r.id = pr.repository_id WHERE r.job_id = ?`, id),
	}
}

// assertFinalCounts checks that the job's counts, wherever it is read from,
// equal its final message and the database.
func assertFinalCounts(t *testing.T, in *Instance, final model.Job) {
	t.Helper()
	if final.Counts == nil {
		t.Fatalf("job %d has no counts", final.ID)
	}
	msgs := messages(t, in, final.ID)
	last := msgs[len(msgs)-1]
	m := summaryCounts.FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("the last message has no summary: %s", last)
	}
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	// The message does not say how many personal projects were reused.
	said := model.ImportCounts{Projects: n(m[1]), Repositories: n(m[2]), PullRequests: n(m[3]), PersonalReused: final.Counts.PersonalReused}
	if *final.Counts != said {
		t.Errorf("job %d counts %+v, its message says %q", final.ID, *final.Counts, last)
	}
	db := dbCounts(t, in, final.ID)
	db.PersonalReused = final.Counts.PersonalReused
	if *final.Counts != db {
		t.Errorf("job %d counts %+v, the database holds %+v", final.ID, *final.Counts, db)
	}
	stored, err := in.Job(context.Background(), final.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Counts == nil || *stored.Counts != *final.Counts {
		t.Errorf("Job(%d) counts %v, Wait returned %+v", final.ID, stored.Counts, *final.Counts)
	}
	jobs, err := in.KnownJobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.ID == final.ID && (j.Counts == nil || *j.Counts != *final.Counts) {
			t.Errorf("KnownJobs counts %v for job %d, Wait returned %+v", j.Counts, j.ID, *final.Counts)
		}
	}
}

func TestCountsMatchTheMessageAndTheDatabase(t *testing.T) {
	in := openHome(t)
	path := generated(t, "default", gen.DefaultOptions())
	// The live counts are those committed: at each checkpoint they equal
	// what another connection sees in the database.
	var live []string
	in.beforeCheckpoint = func(string) {
		j, err := in.Job(context.Background(), in.running.id)
		if err != nil || j.Counts == nil {
			live = append(live, "no counts: "+errString(err))
			return
		}
		if db := dbCounts(t, in, j.ID); *j.Counts != db {
			live = append(live, "live "+strconv.Itoa(j.Counts.PullRequests)+" pull requests, committed "+strconv.Itoa(db.PullRequests))
		}
	}
	first := importArchive(t, in, path)
	in.beforeCheckpoint = nil
	if len(live) > 0 {
		t.Errorf("live counts differ from the database:\n%s", strings.Join(live, "\n"))
	}
	if first.State != model.StateCompleted || first.Counts == nil || first.Counts.Repositories == 0 || first.Counts.PullRequests == 0 {
		t.Fatalf("first import: %s with counts %v", first.State, first.Counts)
	}
	assertFinalCounts(t, in, first)
	// The second import renames everything it brings, and reuses the
	// personal projects, which it does not count as imported.
	second := importArchive(t, in, path)
	assertFinalCounts(t, in, second)
	personal := count(t, in, `SELECT COUNT(*) FROM projects WHERE type = 'PERSONAL' AND job_id = ?`, first.ID)
	if want := first.Counts.Projects - personal; second.Counts.Projects != want {
		t.Errorf("the second import counts %d projects, want %d: the %d personal projects exist already", second.Counts.Projects, want, personal)
	}
	if first.Counts.PersonalReused != 0 || second.Counts.PersonalReused != personal || personal == 0 {
		t.Errorf("personal projects reused: first import %d, second %d, want 0 and %d", first.Counts.PersonalReused, second.Counts.PersonalReused, personal)
	}
}

func TestCountsOfACanceledJob(t *testing.T) {
	in := openHome(t)
	seen := 0
	cancelAt(in, checkpointPullRequest, func() bool { seen++; return seen == 5 })
	job := importArchive(t, in, generated(t, "default", gen.DefaultOptions()))
	if job.State != model.StateCanceled {
		t.Fatalf("job ended %s", job.State)
	}
	if job.Counts == nil || job.Counts.PullRequests != 4 {
		t.Errorf("canceled job counts %v, want 4 pull requests", job.Counts)
	}
	assertFinalCounts(t, in, job)
}

// A job recorded before bbimport counted has no counts, not zero ones.
func TestJobsWithoutCountsReportNone(t *testing.T) {
	in := openHome(t)
	job := importArchive(t, in, generated(t, "default", gen.DefaultOptions()))
	if _, err := in.db.Exec(`UPDATE jobs SET imported_projects = NULL, imported_repositories = NULL, imported_pull_requests = NULL`); err != nil {
		t.Fatal(err)
	}
	j, err := in.Job(context.Background(), job.ID)
	if err != nil || j.Counts != nil {
		t.Errorf("Job = counts %v, %v; want no counts", j.Counts, err)
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}
