package importer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"bbimport/internal/realshape"
	"bbimport/model"
)

// An archive in the shapes a real Bitbucket export carries, written by hand
// from the text (internal/realshape), imports whole: COMPLETED, no WARN or
// ERROR, every pull request in its state, nothing synthesised where the
// archive had nothing.
func TestRealShapesImportWhole(t *testing.T) {
	for _, version := range []int{2, 1} {
		t.Run(fmt.Sprintf("archiveVersion %d", version), func(t *testing.T) {
			fx, err := realshape.Build(context.Background(), t.TempDir(), version)
			if err != nil {
				t.Fatal(err)
			}
			in := openHome(t)
			job := importArchive(t, in, fx.Path)
			if job.State != model.StateCompleted {
				t.Fatalf("import ended %s: %v", job.State, messages(t, in, job.ID, model.SeverityWarn, model.SeverityError))
			}
			if bad := messages(t, in, job.ID, model.SeverityWarn, model.SeverityError); len(bad) != 0 {
				t.Errorf("WARN/ERROR messages:\n%s", strings.Join(bad, "\n"))
			}
			ctx := context.Background()
			var states []string
			for id := int64(1); id <= 5; id++ {
				pr, err := in.PullRequest(ctx, "FIX", "golden", id)
				if err != nil {
					t.Fatalf("pull request %d: %v", id, err)
				}
				states = append(states, fmt.Sprintf("%d %s closed=%v", id, pr.State, pr.ClosedDate != 0))
			}
			want := []string{"1 OPEN closed=false", "2 DECLINED closed=true", "3 OPEN closed=false", "4 MERGED closed=true", "5 MERGED closed=true"}
			if !slices.Equal(states, want) {
				t.Errorf("pull requests:\n got %v\nwant %v", states, want)
			}
			// The stacked pull request's MERGED record keeps no hash: none
			// was in the archive.
			var detail string
			if err := in.db.QueryRow(`SELECT a.detail FROM pr_activities a JOIN pull_requests pr ON pr.id = a.pull_request_id
				WHERE pr.scoped_id = 4 AND a.kind = 'MERGED'`).Scan(&detail); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(detail, `"hash"`) {
				t.Errorf("MERGED of #4 stored as %s: a hash was made up", detail)
			}
			// Refs as the archive holds them: both tags, pull request refs of
			// the open ones, stash refs of all, no reflog or app-info used.
			dir := in.repositoryDir(1)
			refs := runGit(t, dir, "--git-dir", dir, "for-each-ref", "--format=%(refname) %(objectname)")
			o := fx.Objects
			for _, r := range []string{
				"refs/heads/main " + o["M1"], "refs/tags/v1.0 " + o["C1"], "refs/tags/v1.1 " + o["TAG"],
				"refs/pull-requests/1/from " + o["O2"], "refs/pull-requests/3/from " + o["T1"],
			} {
				if !strings.Contains(refs, r+"\n") {
					t.Errorf("ref %q missing from:\n%s", r, refs)
				}
			}
			if strings.Contains(refs, "refs/pull-requests/4/") {
				t.Errorf("a closed pull request got a refs/pull-requests ref:\n%s", refs)
			}
			for pr, id := range map[int]string{2: o["D1"], 4: o["A1"], 5: o["B1"]} {
				if got := runGit(t, dir, "--git-dir", dir, "cat-file", "-t", id); got != "commit\n" {
					t.Errorf("source tip of #%d (%s): %q", pr, id, got)
				}
			}
			assertClean(t, in)
		})
	}
}
