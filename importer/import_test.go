package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/model"
)

// archiveContent is what an archive holds, read back with the reader, to
// compare with what an import stored.
type archiveContent struct {
	projects map[string]model.Project
	repos    map[string]model.Repository
	refs     map[string]map[string]string // repo id -> ref -> object
	head     map[string]string
	prs      map[string][]model.PullRequest // repo id -> pull requests
	acts     map[string][]model.Activity    // "rid#prid" -> activities
}

func readArchive(t *testing.T, path string) archiveContent {
	t.Helper()
	c := archiveContent{projects: map[string]model.Project{}, repos: map[string]model.Repository{},
		refs: map[string]map[string]string{}, head: map[string]string{},
		prs: map[string][]model.PullRequest{}, acts: map[string][]model.Activity{}}
	err := archive.ReadFile(path, archive.DefaultLimits(), func(m *archive.Member) error {
		switch m.Kind {
		case archive.KindProject:
			c.projects[m.Project.ID] = *m.Project
		case archive.KindRepository:
			c.repos[m.Repository.ID] = *m.Repository
		case archive.KindGitMetadata:
			refs := map[string]string{}
			c.refs[m.IDs.Repository] = refs
			return m.Files(func(f archive.File) error {
				data, _ := io.ReadAll(f.Body)
				s := strings.TrimSpace(string(data))
				switch {
				case f.Name == "HEAD":
					c.head[m.IDs.Repository] = strings.TrimPrefix(s, "ref: ")
				case f.Name == "packed-refs":
					for _, line := range strings.Split(s, "\n") {
						if obj, name, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "^") {
							if _, loose := refs[name]; !loose {
								refs[name] = obj
							}
						}
					}
				case strings.HasPrefix(f.Name, "refs/"):
					refs[f.Name] = s
				}
				return nil
			})
		case archive.KindPullRequestMetadata:
			c.prs[m.IDs.Repository] = append(c.prs[m.IDs.Repository], *m.PullRequest)
		case archive.KindPullRequestActivities:
			var acts []model.Activity
			err := m.Activities(func(a *model.Activity) error { acts = append(acts, *a); return nil })
			c.acts[fmt.Sprintf("%s#%d", m.IDs.Repository, m.IDs.PullRequest)] = acts
			if m.Malformed == nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newID(t *testing.T, in *Instance, job int64, kind, archiveID string) int64 {
	t.Helper()
	var id int64
	if err := in.db.QueryRow(`SELECT new_id FROM id_map WHERE job_id = ? AND kind = ? AND archive_id = ?`, job, kind, archiveID).Scan(&id); err != nil {
		t.Fatalf("%s %s of job %d has no new id: %v", kind, archiveID, job, err)
	}
	return id
}

func TestImportStoresEverythingTheArchiveHolds(t *testing.T) {
	in := openHome(t)
	opts := gen.DefaultOptions()
	p := generated(t, "default", opts)
	job := importArchive(t, in, p)
	if job.State != model.StateCompleted || job.Progress.Percentage != 100 {
		t.Fatalf("job ended %s at %d%%; messages:\n%s", job.State, job.Progress.Percentage, strings.Join(messages(t, in, job.ID), "\n"))
	}
	if errs := messages(t, in, job.ID, model.SeverityError); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	assertClean(t, in)
	want := readArchive(t, p)

	for aid, pr := range want.projects {
		id := newID(t, in, job.ID, "project", aid)
		var key, name, desc, typ string
		var public bool
		if err := in.db.QueryRow(`SELECT key, name, description, public, type FROM projects WHERE id = ?`, id).Scan(&key, &name, &desc, &public, &typ); err != nil {
			t.Fatal(err)
		}
		wantType := "NORMAL"
		if pr.Personal() {
			wantType = "PERSONAL"
		}
		if key != pr.Key || name != pr.Name || desc != pr.Description || public != pr.Public || typ != wantType {
			t.Errorf("project %s stored as %s %q %q %v %s", pr.Key, key, name, desc, public, typ)
		}
	}

	forks := 0
	for aid, r := range want.repos {
		id := newID(t, in, job.ID, "repository", aid)
		var slug, name, hier, state string
		var origin sql.NullInt64
		var project int64
		var forkable, public bool
		if err := in.db.QueryRow(`SELECT slug, name, hierarchy_id, state, origin_id, project_id, forkable, public FROM repositories WHERE id = ?`, id).
			Scan(&slug, &name, &hier, &state, &origin, &project, &forkable, &public); err != nil {
			t.Fatal(err)
		}
		if slug != r.Slug || name != r.Name || hier != r.HierarchyID || state != "AVAILABLE" || forkable != r.Forkable || public != r.Public ||
			project != newID(t, in, job.ID, "project", r.ProjectID) {
			t.Errorf("repository %s stored as %s %q %s %s project %d", r.Slug, slug, name, hier, state, project)
		}
		if r.IsFork() {
			forks++
			if !origin.Valid || origin.Int64 != newID(t, in, job.ID, "repository", r.OriginID) {
				t.Errorf("fork %s has origin %v, want the import of %s", r.Slug, origin, r.OriginID)
			}
		} else if origin.Valid {
			t.Errorf("repository %s is no fork but has origin %d", r.Slug, origin.Int64)
		}

		dir := in.repositoryDir(id)
		runGit(t, dir, "--git-dir=.", "fsck", "--no-progress")
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(runGit(t, dir, "--git-dir=.", "for-each-ref", "--format=%(objectname) %(refname)")), "\n") {
			obj, name, _ := strings.Cut(line, " ")
			got[name] = obj
		}
		if fmt.Sprint(got) != fmt.Sprint(want.refs[aid]) {
			t.Errorf("repository %s has refs\n%v\nwant\n%v", r.Slug, got, want.refs[aid])
		}
		if head := strings.TrimSpace(runGit(t, dir, "--git-dir=.", "symbolic-ref", "HEAD")); head != want.head[aid] {
			t.Errorf("repository %s HEAD %s, want %s", r.Slug, head, want.head[aid])
		}
		clone := filepath.Join(t.TempDir(), "clone")
		runGit(t, t.TempDir(), "clone", "-q", dir, clone)
		runGit(t, clone, "fsck", "--no-progress")
	}
	if forks != opts.Projects*opts.Repos*opts.Forks {
		t.Errorf("%d forks in the archive, want %d", forks, opts.Projects*opts.Repos*opts.Forks)
	}

	for aid, prs := range want.prs {
		repoID := newID(t, in, job.ID, "repository", aid)
		for _, pr := range prs {
			var rowID int64
			var title, desc, state, fromRef, fromCommit, toRef, toCommit string
			var draft bool
			var version int
			var created, updated int64
			var closed sql.NullInt64
			err := in.db.QueryRow(`SELECT id, title, description, state, draft, version, created_date, updated_date, closed_date,
				from_ref, from_commit, to_ref, to_commit FROM pull_requests WHERE repository_id = ? AND scoped_id = ?`, repoID, pr.ID).
				Scan(&rowID, &title, &desc, &state, &draft, &version, &created, &updated, &closed, &fromRef, &fromCommit, &toRef, &toCommit)
			if err != nil {
				t.Fatalf("pull request %s#%d: %v", aid, pr.ID, err)
			}
			if title != pr.Title || desc != pr.Description || state != pr.State || draft != pr.Draft || version != pr.Version ||
				created != pr.CreatedTimestamp || updated != pr.UpdatedTimestamp || closed.Int64 != pr.ClosedTimestamp ||
				fromRef != pr.FromRef.ID || fromCommit != pr.FromRef.LatestCommit || toRef != pr.ToRef.ID || toCommit != pr.ToRef.LatestCommit {
				t.Errorf("pull request %s#%d stored with other values", aid, pr.ID)
			}
			var gotParts []string
			rows, err := in.db.Query(`SELECT u.slug, u.display_name, u.type, u.active, COALESCE(u.email, ''), pp.role, pp.status, COALESCE(pp.last_reviewed_commit, '')
				FROM pr_participants pp JOIN users u ON u.id = pp.user_id WHERE pp.pull_request_id = ? ORDER BY pp.id`, rowID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var slug, dn, typ, email, role, status, lrc string
				var active bool
				rows.Scan(&slug, &dn, &typ, &active, &email, &role, &status, &lrc)
				if active || email != "" {
					t.Errorf("user %s is a stub but active=%v email=%q", slug, active, email)
				}
				gotParts = append(gotParts, slug+"|"+dn+"||"+typ+" "+role+" "+status+" "+lrc)
			}
			rows.Close()
			var wantParts []string
			for _, pp := range pr.AllParticipants {
				wantParts = append(wantParts, pp.UserID+" "+pp.Role+" "+pp.Status+" "+pp.LastReviewedCommit)
			}
			if fmt.Sprint(gotParts) != fmt.Sprint(wantParts) {
				t.Errorf("pull request %s#%d participants\n%v\nwant\n%v", aid, pr.ID, gotParts, wantParts)
			}

			acts := want.acts[fmt.Sprintf("%s#%d", aid, pr.ID)]
			var wantActs, wantComments []string
			var walk func(c model.Comment, depth int)
			walk = func(c model.Comment, depth int) {
				wantComments = append(wantComments, fmt.Sprintf("%d %s %s %s %s", depth, c.ID, c.Text, c.Severity, c.State))
				for _, r := range c.Comments {
					walk(r, depth+1)
				}
			}
			for _, a := range acts {
				wantActs = append(wantActs, a.Kind+" "+a.Action+" "+a.UserID)
				if a.Comment != nil {
					walk(*a.Comment, 0)
				}
			}
			var gotActs []string
			rows, err = in.db.Query(`SELECT a.kind, COALESCE(a.action, ''), u.slug || '|' || u.display_name || '||' || u.type
				FROM pr_activities a JOIN users u ON u.id = a.user_id WHERE a.pull_request_id = ? ORDER BY a.id`, rowID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var kind, action, user string
				rows.Scan(&kind, &action, &user)
				gotActs = append(gotActs, kind+" "+action+" "+user)
			}
			rows.Close()
			if fmt.Sprint(gotActs) != fmt.Sprint(wantActs) {
				t.Errorf("pull request %s#%d activities\n%v\nwant\n%v", aid, pr.ID, gotActs, wantActs)
			}
			var gotComments []string
			rows, err = in.db.Query(`WITH RECURSIVE tree(id, depth) AS (
					SELECT id, 0 FROM comments WHERE pull_request_id = ? AND parent_id IS NULL
					UNION ALL SELECT c.id, t.depth + 1 FROM comments c JOIN tree t ON c.parent_id = t.id)
				SELECT t.depth, c.archive_id, c.text, c.severity, c.state FROM tree t JOIN comments c ON c.id = t.id ORDER BY c.id`, rowID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var depth int
				var id, text, sev, st string
				rows.Scan(&depth, &id, &text, &sev, &st)
				gotComments = append(gotComments, fmt.Sprintf("%d %s %s %s %s", depth, id, text, sev, st))
			}
			rows.Close()
			if fmt.Sprint(gotComments) != fmt.Sprint(wantComments) {
				t.Errorf("pull request %s#%d comments\n%v\nwant\n%v", aid, pr.ID, gotComments, wantComments)
			}
		}
	}
	if n, want := count(t, in, `SELECT COUNT(*) FROM tasks`), countTasks(want); n != want || n == 0 {
		t.Errorf("%d tasks stored, the archive has %d", n, want)
	}
}

func countTasks(c archiveContent) int {
	n := 0
	var walk func(cm model.Comment)
	walk = func(cm model.Comment) {
		if cm.IsTask() {
			n++
		}
		for _, r := range cm.Comments {
			walk(r)
		}
	}
	for _, acts := range c.acts {
		for _, a := range acts {
			if a.Comment != nil {
				walk(*a.Comment)
			}
		}
	}
	return n
}

// TestImportedReposComeOutOfTheREST checks the read-only queries the REST
// server serves from an imported home.
func TestImportedReposComeOutOfTheREST(t *testing.T) {
	in := openHome(t)
	job := importArchive(t, in, generated(t, "default", gen.DefaultOptions()))
	if job.State != model.StateCompleted {
		t.Fatalf("job ended %s", job.State)
	}
	ctx := context.Background()
	projects, err := in.Projects(ctx, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if projects.Size != 2 || projects.IsLastPage || projects.NextPageStart == nil || *projects.NextPageStart != 2 {
		t.Fatalf("first page of projects: %+v", projects)
	}
	var keys []string
	for start := 0; ; {
		page, err := in.Projects(ctx, start, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Values {
			keys = append(keys, p.Key)
		}
		if page.IsLastPage {
			break
		}
		start = *page.NextPageStart
	}
	if !sort.StringsAreSorted(keys) || len(keys) != count(t, in, `SELECT COUNT(*) FROM projects`) {
		t.Errorf("paged project keys %v", keys)
	}
	var forkSlug, forkProject string
	in.db.QueryRow(`SELECT r.slug, p.key FROM repositories r JOIN projects p ON p.id = r.project_id WHERE r.origin_id IS NOT NULL LIMIT 1`).Scan(&forkSlug, &forkProject)
	fork, err := in.Repository(ctx, forkProject, forkSlug)
	if err != nil {
		t.Fatal(err)
	}
	if fork.Origin == nil || fork.Origin.Project.Key == "" || fork.State != "AVAILABLE" {
		t.Errorf("fork %s/%s: %+v", forkProject, forkSlug, fork)
	}
	prs, err := in.PullRequests(ctx, forkProject, forkSlug, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if prs.Size != gen.DefaultOptions().PRs || prs.Values[0].Author.User.Slug == "" || prs.Values[0].Author.Role != model.RoleAuthor {
		t.Errorf("pull requests of the fork: %d, first author %+v", prs.Size, prs.Values[0].Author)
	}
	if _, err := in.Project(ctx, "NOPE"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("missing project: %v", err)
	}
	if _, err := in.Repository(ctx, forkProject, "nope"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("missing repository: %v", err)
	}
	if exists, _ := in.ProjectExists(ctx, strings.ToLower(forkProject)); !exists {
		t.Errorf("ProjectExists(%s) is false", forkProject)
	}
}

func TestMain(m *testing.M) {
	if home := os.Getenv(childHomeEnv); home != "" {
		os.Exit(runChild(home))
	}
	if home := os.Getenv(runnerHomeEnv); home != "" {
		os.Exit(runAsRunner(home))
	}
	code := m.Run()
	for _, p := range archiveCache {
		os.RemoveAll(filepath.Dir(p))
	}
	os.Exit(code)
}
