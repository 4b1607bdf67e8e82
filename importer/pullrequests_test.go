package importer

import (
	"bytes"
	"compress/gzip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/model"
)

const (
	ada       = "ada|Ada Lovelace||NORMAL"
	missingID = "1111111111111111111111111111111111111111"
)

// prArchive writes an archive of one origin (repository 7, holding
// commit) and its fork (repository 8, whose objects are its origin's),
// with the pull requests fill adds after each.
func prArchive(t *testing.T, in *Instance, name string, fill func(w *prWriter, repo string)) string {
	t.Helper()
	pack, commit := packedRepository(t)
	meta := []gen.File{
		{Name: "HEAD", Mode: 0o644, Data: []byte("ref: refs/heads/main\n")},
		{Name: "refs/heads/main", Mode: 0o644, Data: []byte(commit + "\n")},
	}
	return writeArchive(t, in, name, func(w *gen.Writer) {
		origin := archive.IDs{Project: "1", Repository: "7", Hierarchy: "h1"}
		fork := archive.IDs{Project: "1", Repository: "8", Hierarchy: "h1"}
		w.AddJSON(archive.KindInstanceDetails, archive.IDs{}, model.InstanceDetails{ArchiveVersion: 2}, false)
		w.AddJSON(archive.KindProject, origin, model.Project{ID: "1", Key: "PRJ", Name: "Project"}, false)
		w.AddRaw(archive.MemberName(archive.KindHierarchyBegin, origin), nil)
		w.AddJSON(archive.KindRepository, origin, model.Repository{ID: "7", Slug: "golden", Name: "golden", ProjectID: "1", HierarchyID: "h1", ScmID: "git"}, false)
		w.AddTar(archive.KindGitMetadata, origin, meta)
		w.AddTar(archive.KindGitObjects, origin, []gen.File{{Name: "pack/" + filepath.Base(pack), Mode: 0o444, Path: pack}})
		pw := &prWriter{t: t, w: w, commit: commit}
		fill(pw, "7")
		w.AddJSON(archive.KindRepository, fork, model.Repository{ID: "8", Slug: "fork", Name: "fork", ProjectID: "1", HierarchyID: "h1", OriginID: "7", ScmID: "git"}, false)
		w.AddTar(archive.KindGitMetadata, fork, meta)
		w.AddTar(archive.KindGitObjects, fork, nil)
		fill(pw, "8")
		w.AddRaw(archive.MemberName(archive.KindHierarchyEnd, origin), nil)
	})
}

type prWriter struct {
	t      *testing.T
	w      *gen.Writer
	commit string // the repositories' one commit
}

// pr returns a pull request with id whose refs point at the commit.
func (p *prWriter) pr(id int64) model.PullRequest {
	return model.PullRequest{ID: id, Title: "t", State: model.PROpen, Version: 1,
		FromRef:         model.Ref{ID: "refs/heads/topic", DisplayID: "topic", LatestCommit: p.commit},
		ToRef:           model.Ref{ID: "refs/heads/main", DisplayID: "main", LatestCommit: p.commit},
		AllParticipants: []model.Participant{{Role: model.RoleAuthor, Status: model.StatusUnapproved, UserID: ada}}}
}

// add writes a pull request's metadata and activities under member id n.
func (p *prWriter) add(repo string, n int64, pr model.PullRequest, acts ...model.Activity) {
	ids := archive.IDs{Repository: repo, PullRequest: n}
	p.w.AddJSON(archive.KindPullRequestMetadata, ids, pr, true)
	if acts == nil {
		acts = []model.Activity{}
	}
	p.w.AddJSON(archive.KindPullRequestActivities, ids, acts, true)
}

func (p *prWriter) addCache(repo string, n int64, a model.AncestorCache) {
	p.w.AddTar(archive.KindPullRequestCaches, archive.IDs{Repository: repo, PullRequest: n},
		[]gen.File{{Name: "cached-ancestor.txt", Mode: 0o644, Data: []byte(a.String())}})
}

// addRawActivities writes an activities member of exactly doc.
func (p *prWriter) addRawActivities(repo string, n int64, doc string) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(doc))
	zw.Close()
	p.w.AddRaw(archive.MemberName(archive.KindPullRequestActivities, archive.IDs{Repository: repo, PullRequest: n}), buf.Bytes())
}

func comment(id string, anchor *model.Anchor) model.Activity {
	return model.Activity{Kind: model.KindCommentAdded, CreatedTimestamp: 2, UserID: ada,
		Comment: &model.Comment{ID: id, AuthorID: ada, Text: "c" + id, Severity: model.SeverityNormal, State: model.CommentOpen,
			Thread: &model.Thread{Anchor: anchor}}}
}

func TestPullRequestsNamingBadCommitsAreItemErrors(t *testing.T) {
	in := openHome(t)
	var commit string
	p := prArchive(t, in, "bad-commits.tar", func(w *prWriter, repo string) {
		commit = w.commit
		if repo == "8" {
			// The fork's commits are its origin's, found through alternates.
			w.add(repo, 1, w.pr(1))
			w.addCache(repo, 1, model.AncestorCache{FromTip: w.commit, ToTip: w.commit, MergeBase: w.commit})
			return
		}
		opened := model.Activity{Kind: model.KindActivity, Action: model.ActionOpened, CreatedTimestamp: 1, UserID: ada}
		// History that a force push took away is imported, with a warning.
		rescoped := model.Activity{Kind: model.KindRescoped, CreatedTimestamp: 3, UserID: ada, FromHash: w.commit, ToHash: w.commit,
			PreviousFromHash: missingID, PreviousToHash: w.commit, Commits: []model.RescopeCommit{{Action: "REMOVED", CommitID: missingID}}}
		merged := model.Activity{Kind: model.KindMerged, CreatedTimestamp: 4, UserID: ada, Hash: w.commit}
		w.add(repo, 1, w.pr(1), comment("10", &model.Anchor{FromHash: w.commit, ToHash: w.commit, Path: "f"}), opened, rescoped, merged)
		w.addCache(repo, 1, model.AncestorCache{FromTip: w.commit, ToTip: "../x", MergeBase: w.commit})

		fromMissing := w.pr(2)
		fromMissing.FromRef.LatestCommit = missingID
		w.add(repo, 2, fromMissing, opened)

		toTraversal := w.pr(3)
		toTraversal.ToRef.LatestCommit = "../../../etc/passwd"
		w.add(repo, 3, toTraversal)

		// Records before the bad one are stored by then, and must go.
		badMerge := merged
		badMerge.Hash = strings.Repeat("a", 40)
		w.add(repo, 4, w.pr(4), comment("40", nil), opened, badMerge)

		badRescope := rescoped
		badRescope.Commits = []model.RescopeCommit{{Action: "ADDED", CommitID: "HEAD"}}
		w.add(repo, 5, w.pr(5), badRescope)

		badAnchor := comment("60", nil)
		badAnchor.Comment.Comments = []model.Comment{*comment("61", &model.Anchor{FromHash: w.commit, ToHash: "main"}).Comment}
		w.add(repo, 6, w.pr(6), badAnchor)

		// Activities that break after a good record: the pull request
		// stays, without any of them.
		w.w.AddJSON(archive.KindPullRequestMetadata, archive.IDs{Repository: repo, PullRequest: 7}, w.pr(7), true)
		w.addRawActivities(repo, 7, `[{"kind":"COMMENT:ADDED","createdTimestamp":1,"userId":"`+ada+`","comment":{"id":"70","text":"x"}},{"kind":`)
	})
	job := importArchive(t, in, p)
	msgs := messages(t, in, job.ID)
	if job.State != model.StateFailed {
		t.Fatalf("job ended %s, want FAILED:\n%s", job.State, strings.Join(msgs, "\n"))
	}
	for _, want := range [][]string{
		{"ERROR PRJ/golden#2: Pull request PRJ/golden#2 was not imported: its fromRef.latestCommit is \"" + missingID + "\", which is not a commit of PRJ/golden"},
		{"ERROR PRJ/golden#3: Pull request PRJ/golden#3 was not imported: its toRef.latestCommit is \"../../../etc/passwd\", which is not a full commit id"},
		{"ERROR PRJ/golden#4:", "not imported", "the hash of its \"MERGED\" activity is \"" + strings.Repeat("a", 40) + "\", which is not a commit of PRJ/golden"},
		{"ERROR PRJ/golden#5:", "not imported", "commits[0].commitId of its \"RESCOPED\" activity is \"HEAD\", which is not a full commit id"},
		{"ERROR PRJ/golden#6:", "not imported", "the anchor toHash of comment \"61\" is \"main\", which is not a full commit id"},
		{"ERROR PRJ/golden#7:", "pull request activities member cannot be read"},
		{"WARN PRJ/golden#1:", "2 commits that its history names are not in PRJ/golden", missingID},
		{"WARN PRJ/golden#1: The cached ancestor of pull request PRJ/golden#1 names \"../x\", which is not a commit of PRJ/golden; the cache was ignored"},
	} {
		if !hasMessage(msgs, want...) {
			t.Errorf("no message with %q:\n%s", want, strings.Join(msgs, "\n"))
		}
	}
	if errs := messages(t, in, job.ID, model.SeverityError); len(errs) != 6 {
		t.Errorf("%d errors, want 6:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	got := strings.Join(strings.Fields(queryStrings(t, in, `SELECT r.slug || '#' || p.scoped_id || ':' ||
		(SELECT COUNT(*) FROM comments c WHERE c.pull_request_id = p.id) || ':' ||
		(SELECT COUNT(*) FROM pr_activities a WHERE a.pull_request_id = p.id)
		FROM pull_requests p JOIN repositories r ON r.id = p.repository_id ORDER BY r.slug, p.scoped_id`)), " ")
	if want := "fork#1:0:0 golden#1:1:4 golden#7:0:0"; got != want {
		t.Errorf("pull requests (slug#id:comments:activities) %q, want %q", got, want)
	}
	if job.Counts == nil || job.Counts.PullRequests != 3 {
		t.Errorf("job counts %+v, want 3 pull requests", job.Counts)
	}
	if n := count(t, in, `SELECT COUNT(*) FROM pull_requests WHERE ancestor_to IS NOT NULL`); n != 1 {
		t.Errorf("%d pull requests with a cached ancestor, want the fork's only", n)
	}
	if n := count(t, in, `SELECT COUNT(*) FROM comments`); n != 1 {
		t.Errorf("%d comments stored, want the one of golden#1", n)
	}
	if n := count(t, in, `SELECT COUNT(*) FROM pull_requests WHERE from_commit != ? OR to_commit != ?`, commit, commit); n != 0 {
		t.Errorf("%d pull requests point elsewhere than the commit", n)
	}
	assertClean(t, in)
}

func TestDuplicatePullRequestIDIsAnItemError(t *testing.T) {
	in := openHome(t)
	p := prArchive(t, in, "duplicate.tar", func(w *prWriter, repo string) {
		if repo == "8" {
			w.add(repo, 1, w.pr(1)) // the same id in another repository is no duplicate
			return
		}
		first, second := w.pr(1), w.pr(1)
		second.Title = "second"
		w.add(repo, 1, first, comment("1", nil))
		w.add(repo, 2, second, comment("2", nil))
		w.add(repo, 3, w.pr(3))
	})
	job := importArchive(t, in, p)
	msgs := messages(t, in, job.ID)
	if job.State != model.StateFailed {
		t.Fatalf("job ended %s, want FAILED:\n%s", job.State, strings.Join(msgs, "\n"))
	}
	errs := messages(t, in, job.ID, model.SeverityError)
	if len(errs) != 1 || !hasMessage(errs, "ERROR PRJ/golden#2: Pull request PRJ/golden#2 was not imported: an earlier pull request of PRJ/golden in the archive has the same id 1") {
		t.Errorf("errors:\n%s", strings.Join(errs, "\n"))
	}
	got := strings.Join(strings.Fields(queryStrings(t, in, `SELECT r.slug || '#' || p.scoped_id || ':' || p.title ||
		':' || (SELECT COUNT(*) FROM comments c WHERE c.pull_request_id = p.id)
		FROM pull_requests p JOIN repositories r ON r.id = p.repository_id ORDER BY r.slug, p.scoped_id`)), " ")
	if want := "fork#1:t:0 golden#1:t:1 golden#3:t:0"; got != want {
		t.Errorf("pull requests (slug#id:title:comments) %q, want %q", got, want)
	}
	if job.Counts == nil || job.Counts.PullRequests != 3 {
		t.Errorf("job counts %+v, want 3 pull requests", job.Counts)
	}
	assertClean(t, in)
}

// queryStrings returns the one-column rows of query, a line each.
func queryStrings(t *testing.T, in *Instance, query string, args ...any) string {
	t.Helper()
	rows, err := in.db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n")
}

// TestActivitiesOverALimitLeaveNoHalfHistory: the records of a pull
// request are stored as they are read; when a limit stops the import
// part-way through them, those stored before go.
func TestActivitiesOverALimitLeaveNoHalfHistory(t *testing.T) {
	in, err := Open(Options{Home: t.TempDir(), Limits: archive.Limits{MaxJSONObjects: 40}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	p := prArchive(t, in, "many.tar", func(w *prWriter, repo string) {
		if repo == "7" {
			var acts []model.Activity
			for i := range 30 {
				acts = append(acts, comment(strconv.Itoa(i), nil))
			}
			w.add(repo, 1, w.pr(1), acts...)
		}
	})
	job := importArchive(t, in, p)
	msgs := messages(t, in, job.ID)
	if job.State != model.StateAborted || !hasMessage(msgs, "ERROR", "MaxJSONObjects") {
		t.Fatalf("job ended %s:\n%s", job.State, strings.Join(msgs, "\n"))
	}
	if n := count(t, in, `SELECT COUNT(*) FROM comments`) + count(t, in, `SELECT COUNT(*) FROM pr_activities`); n != 0 {
		t.Errorf("%d comments and activities of the pull request were left", n)
	}
	assertClean(t, in)
}
