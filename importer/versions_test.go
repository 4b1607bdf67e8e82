package importer

import (
	"strings"
	"testing"

	"bbimport/archive/gen"
	"bbimport/model"
)

// An archive written by Bitbucket 5.x–7.x (archiveVersion 1) with the
// fields a newer Bitbucket adds imports completely, says once which version
// it read, names each unknown field once as INFO, and warns of nothing.
func TestImportArchiveVersion1WithUnknownFields(t *testing.T) {
	in := openHome(t)
	opts := gen.Options{Seed: 9, Projects: 1, Repos: 2, PRs: 4, Commits: 2, ArchiveVersion: 1, UnknownFields: true}
	job := importArchive(t, in, generated(t, "v1-unknown", opts))
	if job.State != model.StateCompleted {
		t.Fatalf("state %s, want COMPLETED; messages:\n%s", job.State, strings.Join(messages(t, in, job.ID), "\n"))
	}
	if warn := messages(t, in, job.ID, model.SeverityWarn, model.SeverityError); len(warn) != 0 {
		t.Fatalf("a real-shaped archive logged warnings or errors:\n%s", strings.Join(warn, "\n"))
	}
	info := messages(t, in, job.ID, model.SeverityInfo)
	var versionLines int
	seen := map[string]int{}
	for _, line := range info {
		if strings.Contains(line, "(archiveVersion 1,") {
			versionLines++
		}
		if i := strings.Index(line, "Field \""); i >= 0 {
			seen[line]++
		}
	}
	if versionLines != 1 {
		t.Errorf("%d INFO lines name archiveVersion 1, want 1:\n%s", versionLines, strings.Join(info, "\n"))
	}
	if len(seen) == 0 {
		t.Fatalf("no INFO names an unknown field:\n%s", strings.Join(info, "\n"))
	}
	for line, n := range seen {
		if n != 1 {
			t.Errorf("%q logged %d times, want once", line, n)
		}
	}
	if job.Counts == nil || job.Counts.Repositories != 2 || job.Counts.PullRequests == 0 {
		t.Errorf("counts %+v, want 2 repositories and some pull requests", job.Counts)
	}
}
