package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/importer"
	"bbimport/model"
	"bbimport/server"
	"bbimport/wire"
)

// The read API on the real importer, compared with what the archive says:
// what serve answers must be what the source Bitbucket answered for the
// same data. Expected values come from reading the archive, never from
// serve.

// source is what the archive holds, by archive id.
type source struct {
	projects map[string]model.Project
	repos    []sourceRepo
}

type sourceRepo struct {
	model.Repository
	project  model.Project
	origin   *model.Repository
	head     string            // the ref HEAD names
	branches map[string]string // ref → commit
	tags     map[string][2]string
	prs      []sourcePR
}

type sourcePR struct {
	model.PullRequest
	activities []model.Activity
}

func readSource(t *testing.T, path string) source {
	t.Helper()
	src := source{projects: map[string]model.Project{}}
	byID := map[string]*sourceRepo{}
	var order []string
	err := archive.ReadFile(path, archive.DefaultLimits(), func(m *archive.Member) error {
		switch m.Kind {
		case archive.KindProject:
			src.projects[m.Project.ID] = *m.Project
		case archive.KindRepository:
			r := &sourceRepo{Repository: *m.Repository, project: src.projects[m.Repository.ProjectID],
				branches: map[string]string{}, tags: map[string][2]string{}}
			if o := byID[m.Repository.OriginID]; o != nil {
				r.origin = &o.Repository
			}
			byID[r.ID], order = r, append(order, r.ID)
		case archive.KindGitMetadata:
			return m.Files(func(f archive.File) error { return readRefs(byID[m.IDs.Repository], f) })
		case archive.KindPullRequestMetadata:
			r := byID[m.IDs.Repository]
			r.prs = append(r.prs, sourcePR{PullRequest: *m.PullRequest})
		case archive.KindPullRequestActivities:
			pr := &byID[m.IDs.Repository].prs[len(byID[m.IDs.Repository].prs)-1]
			return m.Activities(func(a *model.Activity) error {
				pr.activities = append(pr.activities, *a)
				return nil
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range order {
		src.repos = append(src.repos, *byID[id])
	}
	return src
}

// readRefs takes branches (loose ref files), tags (packed-refs, with the
// commit an annotated tag peels to) and HEAD from the git metadata.
func readRefs(r *sourceRepo, f archive.File) error {
	data, err := io.ReadAll(f.Body)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(string(data))
	switch {
	case f.Name == "HEAD":
		r.head = strings.TrimPrefix(text, "ref: ")
	case strings.HasPrefix(f.Name, "refs/heads/"):
		r.branches[f.Name] = text
	case f.Name == "packed-refs":
		sc := bufio.NewScanner(strings.NewReader(text))
		var last string
		for sc.Scan() {
			line := sc.Text()
			if peeled, ok := strings.CutPrefix(line, "^"); ok {
				r.tags[last] = [2]string{r.tags[last][0], peeled}
				continue
			}
			id, name, ok := strings.Cut(line, " ")
			if ok && strings.HasPrefix(name, "refs/tags/") {
				r.tags[name], last = [2]string{id, ""}, name
			}
		}
	}
	return nil
}

type readFixture struct {
	*fixture
	src source
}

// imported imports one generated archive into a real importer behind a
// real server.
func imported(t *testing.T) *readFixture {
	t.Helper()
	if testing.Short() {
		t.Skip("generates and imports an archive")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	in, err := importer.Open(importer.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	path := filepath.Join(in.ImportDir(), "read.tar")
	opts := gen.Options{Projects: 1, Repos: 2, Forks: 1, PRs: 8, Commits: 3, Seed: 11, TempDir: t.TempDir()}
	if _, err := gen.GenerateFile(ctx, path, opts); err != nil {
		t.Fatal(err)
	}
	job, err := in.Start(ctx, "read.tar")
	if err != nil {
		t.Fatal(err)
	}
	for !job.State.Finished() {
		time.Sleep(20 * time.Millisecond)
		if job, err = in.Job(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
	}
	if job.State != model.StateCompleted {
		t.Fatalf("import ended %s", job.State)
	}
	srv, err := server.New(server.Config{Importer: in, Admin: server.Credentials{User: "admin", Password: "pw"}, Version: "read"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &readFixture{fixture: &fixture{t: t, srv: srv, url: hs.URL}, src: readSource(t, path)}
}

// in returns the fixture for a subtest, so that failures name it.
func (f *readFixture) in(t *testing.T) *readFixture {
	c := *f.fixture
	c.t = t
	return &readFixture{fixture: &c, src: f.src}
}

// getAll follows nextPageStart with pages of limit values, as a client
// does, and checks the paging fields on the way.
func getAll[T any](f *readFixture, path string, limit int) []T {
	f.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []T
	for start := 0; ; {
		a := f.do("GET", fmt.Sprintf("%s%s%sstart=%d&limit=%d", base, path, sep, start, limit), "", "")
		if a.status != 200 {
			f.t.Fatalf("GET %s: status %d: %s", path, a.status, a.body)
		}
		page := decode[model.Page[T]](f.t, a)
		if page.Start != start || page.Size != len(page.Values) || page.Size > limit {
			f.t.Fatalf("GET %s at %d: page start %d size %d of %d values", path, start, page.Start, page.Size, len(page.Values))
		}
		all = append(all, page.Values...)
		if page.IsLastPage {
			if page.NextPageStart != nil {
				f.t.Fatalf("GET %s: last page has nextPageStart %d", path, *page.NextPageStart)
			}
			return all
		}
		if page.NextPageStart == nil || *page.NextPageStart != start+page.Size || page.Size == 0 {
			f.t.Fatalf("GET %s at %d: nextPageStart %v after %d values", path, start, page.NextPageStart, page.Size)
		}
		start = *page.NextPageStart
	}
}

func repoPath(r sourceRepo) string {
	return "/projects/" + url.PathEscape(r.project.Key) + "/repos/" + url.PathEscape(r.Slug)
}

func slugOf(userID string) string {
	u, err := model.ParseUserID(userID)
	if err != nil {
		return ""
	}
	return u.Slug
}

func TestReadAPIMatchesArchive(t *testing.T) {
	f := imported(t)
	t.Run("projects", func(t *testing.T) { f.in(t).checkProjects() })
	t.Run("repositories", func(t *testing.T) { f.in(t).checkRepositories() })
	t.Run("branches and tags", func(t *testing.T) { f.in(t).checkRefs() })
	t.Run("pull requests", func(t *testing.T) { f.in(t).checkPullRequests() })
	t.Run("pull request filters", func(t *testing.T) { f.in(t).checkPullRequestFilters() })
	t.Run("activities", func(t *testing.T) { f.in(t).checkActivities() })
	t.Run("placements", func(t *testing.T) { f.in(t).checkPlacements() })
}

// checkPlacements reads bbimport's extension: where job 1 put each
// repository of the archive (as the archive named it: nothing collided),
// paged, admin-only, and a job that does not exist named as Bitbucket
// names one.
func (f *readFixture) checkPlacements() {
	t := f.t
	path := wire.ExtensionPrefix + "/imports/1/placements"
	page := decode[model.Page[model.Placement]](t, f.do("GET", path, "", ""))
	var got, want []string
	for _, p := range page.Values {
		got = append(got, p.HierarchyID+" "+p.ArchiveProject+"/"+p.ArchiveSlug+" → "+p.Project+"/"+p.Slug)
		if p.Job != 1 {
			t.Errorf("placement %+v names job %d", p, p.Job)
		}
	}
	for _, r := range f.src.repos {
		want = append(want, r.HierarchyID+" "+r.project.Key+"/"+r.Slug+" → "+r.project.Key+"/"+r.Slug)
	}
	if !page.IsLastPage || !slices.Equal(got, want) {
		t.Errorf("placements (last page %v):\n got %v\nwant %v", page.IsLastPage, got, want)
	}
	second := decode[model.Page[model.Placement]](t, f.do("GET", path+"?start=1&limit=1", "", ""))
	if second.Start != 1 || second.Size != 1 || second.IsLastPage || second.NextPageStart == nil || *second.NextPageStart != 2 ||
		second.Values[0] != page.Values[1] {
		t.Errorf("placements at 1 of 1: %+v", second)
	}
	wantError(t, f.do("GET", path, "", "", "Authorization", "Basic "+basic("admin", "wrong")), 401, "", "Authentication failed")
	a := f.do("GET", wire.ExtensionPrefix+"/imports/99/placements", "", "")
	wantError(t, a, 404, "", "99")
	if got := exceptionName(t, a); got != wire.ExceptionNoSuchJob {
		t.Errorf("placements of job 99: exceptionName %s, want %s", got, wire.ExceptionNoSuchJob)
	}
}

func (f *readFixture) checkProjects() {
	t := f.t
	got := map[string]model.RestProject{}
	for _, p := range getAll[model.RestProject](f, "/projects", 1) {
		got[p.Key] = p
	}
	if len(got) != len(f.src.projects) {
		t.Errorf("%d projects, archive has %d", len(got), len(f.src.projects))
	}
	for _, want := range f.src.projects {
		p, ok := got[want.Key]
		if !ok {
			t.Errorf("project %s missing", want.Key)
			continue
		}
		if p.Name != want.Name || p.Description != want.Description || p.Public != want.Public || p.Type != want.Type.String() {
			t.Errorf("project %s: %+v, archive %+v", want.Key, p, want)
		}
		if p.Links == nil || len(p.Links.Self) != 1 || p.Links.Self[0].Href != f.url+"/projects/"+want.Key {
			t.Errorf("project %s links %+v", want.Key, p.Links)
		}
		one := decode[model.RestProject](t, f.do("GET", base+"/projects/"+url.PathEscape(want.Key), "", ""))
		slashed := decode[model.RestProject](t, f.do("GET", base+"/projects/"+url.PathEscape(want.Key)+"/", "", ""))
		if !reflect.DeepEqual(one, p) || !reflect.DeepEqual(slashed, p) {
			t.Errorf("project %s alone %+v, with a trailing slash %+v, in the list %+v", want.Key, one, slashed, p)
		}
	}
	// name= is a part of the name, in any case.
	for _, want := range f.src.projects {
		part := strings.ToLower(want.Name[1:4])
		var names []string
		for _, p := range f.src.projects {
			if strings.Contains(strings.ToLower(p.Name), part) {
				names = append(names, p.Key)
			}
		}
		var keys []string
		for _, p := range getAll[model.RestProject](f, "/projects?permission=REPO_READ&name="+url.QueryEscape(part), 1) {
			keys = append(keys, p.Key)
		}
		slices.Sort(names)
		if !slices.Equal(keys, names) {
			t.Errorf("projects named like %q: %v, want %v", part, keys, names)
		}
	}
	if n := len(getAll[model.RestProject](f, "/projects?name=no-such-project", 25)); n != 0 {
		t.Errorf("name=no-such-project: %d projects", n)
	}
}

func (f *readFixture) checkRepositories() {
	t := f.t
	for _, want := range f.src.repos {
		r := decode[model.RestRepository](t, f.do("GET", base+repoPath(want), "", ""))
		if r.Slug != want.Slug || r.Name != want.Name || r.HierarchyID != want.HierarchyID || r.Forkable != want.Forkable ||
			r.Public != want.Public || r.ScmID != want.ScmID || r.State != "AVAILABLE" || r.Project.Key != want.project.Key {
			t.Errorf("repository %s: %+v, archive %+v", repoPath(want), r, want.Repository)
		}
		if (r.Origin == nil) != (want.origin == nil) || (r.Origin != nil && r.Origin.Slug != want.origin.Slug) {
			t.Errorf("repository %s origin %+v, archive %+v", repoPath(want), r.Origin, want.origin)
		}
		lower := strings.ToLower(want.project.Key)
		host := strings.TrimPrefix(f.url, "http://")
		wantLinks := &model.Links{
			Self: []model.Link{{Href: f.url + repoPath(want) + "/browse"}},
			Clone: []model.Link{{Href: f.url + "/scm/" + url.PathEscape(lower) + "/" + want.Slug + ".git", Name: "http"},
				{Href: "ssh://git@" + strings.Split(host, ":")[0] + ":7999/" + url.PathEscape(lower) + "/" + want.Slug + ".git", Name: "ssh"}},
		}
		if !reflect.DeepEqual(r.Links, wantLinks) {
			t.Errorf("repository %s links %+v, want %+v", repoPath(want), r.Links, wantLinks)
		}
		if r.Project.Links == nil || r.Project.Links.Self[0].Href != f.url+"/projects/"+url.PathEscape(want.project.Key) {
			t.Errorf("repository %s: project links %+v", repoPath(want), r.Project.Links)
		}
	}
	// GET /repos with its filters, and GET /users/{slug}/repos.
	key := func(p, s string) string { return p + "/" + s }
	list := func(path string) []string {
		var keys []string
		for _, r := range getAll[model.RestRepository](f, path, 2) {
			keys = append(keys, key(r.Project.Key, r.Slug))
		}
		return keys
	}
	expect := func(match func(sourceRepo) bool) []string {
		var keys []string
		for _, r := range f.src.repos {
			if match(r) {
				keys = append(keys, key(r.project.Key, r.Slug))
			}
		}
		slices.Sort(keys)
		return keys
	}
	if got, want := list("/repos"), expect(func(sourceRepo) bool { return true }); !slices.Equal(got, want) {
		t.Errorf("/repos: %v, want %v", got, want)
	}
	first := f.src.repos[0]
	part := strings.ToUpper(first.Name[:3])
	if got, want := list("/repos?name="+url.QueryEscape(part)), expect(func(r sourceRepo) bool {
		return strings.Contains(strings.ToUpper(r.Name), part)
	}); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("/repos?name=%s: %v, want %v", part, got, want)
	}
	if got, want := list("/repos?projectname="+url.QueryEscape(first.project.Name)), expect(func(r sourceRepo) bool {
		return strings.Contains(r.project.Name, first.project.Name)
	}); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("/repos?projectname=%s: %v, want %v", first.project.Name, got, want)
	}
	personal := 0
	for _, p := range f.src.projects {
		if !p.Personal() {
			continue
		}
		personal++
		user := strings.ToLower(strings.TrimPrefix(p.Key, "~"))
		if got, want := list("/users/"+user+"/repos"), expect(func(r sourceRepo) bool { return r.project.Key == p.Key }); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("/users/%s/repos: %v, want %v", user, got, want)
		}
		// A current Python client library keeps the tilde.
		if got, want := list("/users/~"+user+"/repos"), list("/users/"+user+"/repos"); !slices.Equal(got, want) {
			t.Errorf("/users/~%s/repos: %v, want %v as without the tilde", user, got, want)
		}
	}
	if personal == 0 {
		t.Fatal("the archive has no personal project to test /users/{slug}/repos with")
	}
	if got := list("/users/nobody/repos"); len(got) != 0 {
		t.Errorf("/users/nobody/repos: %v", got)
	}
}

func (f *readFixture) checkRefs() {
	t := f.t
	for _, want := range f.src.repos {
		branches := getAll[model.RestBranchOrTag](f, repoPath(want)+"/branches", 2)
		got := map[string]string{}
		var names []string
		for _, b := range branches {
			got[b.ID] = b.LatestCommit
			names = append(names, b.DisplayID)
			if b.Type != "BRANCH" || b.LatestChangeset != b.LatestCommit || "refs/heads/"+b.DisplayID != b.ID ||
				b.IsDefault == nil || *b.IsDefault != (b.ID == want.head) || b.Hash != "" {
				t.Errorf("%s branch %+v (HEAD %s)", repoPath(want), b, want.head)
			}
		}
		if !reflect.DeepEqual(got, want.branches) {
			t.Errorf("%s branches %v, archive %v", repoPath(want), got, want.branches)
		}
		if !slices.IsSorted(names) {
			t.Errorf("%s branches not in ALPHABETICAL order: %v", repoPath(want), names)
		}
		def := decode[model.RestBranchOrTag](t, f.do("GET", base+repoPath(want)+"/branches/default", "", ""))
		if def.ID != want.head || def.LatestCommit != want.branches[want.head] {
			t.Errorf("%s default branch %+v, archive HEAD %s at %s", repoPath(want), def, want.head, want.branches[want.head])
		}
		filter := strings.TrimPrefix(want.head, "refs/heads/")
		for _, b := range getAll[model.RestBranchOrTag](f, repoPath(want)+"/branches?orderBy=MODIFICATION&filterText="+strings.ToUpper(filter), 25) {
			if !strings.Contains(b.DisplayID, filter) {
				t.Errorf("%s branches?filterText=%s gave %s", repoPath(want), filter, b.DisplayID)
			}
		}

		tags := map[string][2]string{}
		for _, tag := range getAll[model.RestBranchOrTag](f, repoPath(want)+"/tags", 1) {
			if tag.Type != "TAG" || tag.IsDefault != nil || tag.LatestChangeset != tag.LatestCommit {
				t.Errorf("%s tag %+v", repoPath(want), tag)
			}
			// packed-refs: the tag object, then the commit it peels to;
			// a lightweight tag is the commit alone.
			if tag.Hash != "" {
				tags[tag.ID] = [2]string{tag.Hash, tag.LatestCommit}
			} else {
				tags[tag.ID] = [2]string{tag.LatestCommit, ""}
			}
		}
		if !reflect.DeepEqual(tags, want.tags) {
			t.Errorf("%s tags %v, archive %v", repoPath(want), tags, want.tags)
		}
	}
	annotated := false
	for _, r := range f.src.repos {
		for _, tag := range r.tags {
			annotated = annotated || tag[1] != ""
		}
	}
	if !annotated {
		t.Error("the archive has no annotated tag to test with")
	}
	wantError(t, f.do("GET", base+"/projects/NOPE/repos/x/branches", "", ""), 404, "", "NOPE")
	wantError(t, f.do("GET", base+repoPath(f.src.repos[0])+"/branches?orderBy=SIZE", "", ""), 400, "orderBy", "SIZE")
}

// prView is what fidelity compares of a pull request.
type prView struct {
	ID                             int64
	Title, Description, State      string
	Created, Updated, Closed       int64
	Draft                          bool
	From, FromCommit, To, ToCommit string
	Author                         string
	Reviewers                      []string // slug:status
	Participants                   []string
}

func viewOfArchive(pr model.PullRequest) prView {
	v := prView{ID: pr.ID, Title: pr.Title, Description: pr.Description, State: pr.State, Created: pr.CreatedTimestamp,
		Updated: pr.UpdatedTimestamp, Closed: pr.ClosedTimestamp, Draft: pr.Draft, From: pr.FromRef.ID, FromCommit: pr.FromRef.LatestCommit,
		To: pr.ToRef.ID, ToCommit: pr.ToRef.LatestCommit}
	for _, p := range pr.AllParticipants {
		switch p.Role {
		case model.RoleAuthor:
			v.Author = slugOf(p.UserID)
		case model.RoleReviewer:
			v.Reviewers = append(v.Reviewers, slugOf(p.UserID)+":"+p.Status)
		default:
			v.Participants = append(v.Participants, slugOf(p.UserID)+":"+p.Status)
		}
	}
	return v
}

func viewOfServed(pr model.RestPullRequest) prView {
	v := prView{ID: pr.ID, Title: pr.Title, Description: pr.Description, State: pr.State, Created: pr.CreatedDate,
		Updated: pr.UpdatedDate, Closed: pr.ClosedDate, Draft: pr.Draft, From: pr.FromRef.ID, FromCommit: pr.FromRef.LatestCommit,
		To: pr.ToRef.ID, ToCommit: pr.ToRef.LatestCommit, Author: pr.Author.User.Slug}
	for _, p := range pr.Reviewers {
		v.Reviewers = append(v.Reviewers, p.User.Slug+":"+p.Status)
	}
	for _, p := range pr.Participants {
		v.Participants = append(v.Participants, p.User.Slug+":"+p.Status)
	}
	return v
}

func (f *readFixture) checkPullRequests() {
	t := f.t
	for _, repo := range f.src.repos {
		var want []prView
		for i := len(repo.prs) - 1; i >= 0; i-- { // newest first
			want = append(want, viewOfArchive(repo.prs[i].PullRequest))
		}
		var got []prView
		for _, pr := range getAll[model.RestPullRequest](f, repoPath(repo)+"/pull-requests?state=ALL", 3) {
			got = append(got, viewOfServed(pr))
			wantSelf := f.url + repoPath(repo) + fmt.Sprintf("/pull-requests/%d", pr.ID)
			if pr.Links == nil || pr.Links.Self[0].Href != wantSelf {
				t.Errorf("pull request %d links %+v, want self %s", pr.ID, pr.Links, wantSelf)
			}
			if pr.FromRef.Repository == nil || pr.FromRef.Repository.Links == nil || pr.FromRef.Type != "BRANCH" {
				t.Errorf("pull request %d fromRef %+v", pr.ID, pr.FromRef)
			}
			// Alone, as in the list, but without the properties, which
			// Bitbucket sends in lists only.
			one := decode[model.RestPullRequest](t, f.do("GET", base+repoPath(repo)+fmt.Sprintf("/pull-requests/%d", pr.ID), "", ""))
			listed := pr
			listed.Properties = nil
			if !reflect.DeepEqual(one, listed) {
				t.Errorf("pull request %d alone %+v, in the list %+v", pr.ID, one, listed)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s pull requests:\n got %+v\nwant %+v", repoPath(repo), got, want)
		}
	}
	// Found by go-bitbucket-v1 (scripts/clientcheck): the missing pull
	// request itself, not only its activities, names Bitbucket's exception.
	for _, p := range []string{"/pull-requests/999", "/pull-requests/999/activities"} {
		a := f.do("GET", base+repoPath(f.src.repos[0])+p, "", "")
		wantError(t, a, 404, "", "999")
		if got := exceptionName(t, a); got != wire.ExceptionNoSuchPullRequest {
			t.Errorf("GET %s: exceptionName %s, want %s", p, got, wire.ExceptionNoSuchPullRequest)
		}
	}
	wantError(t, f.do("GET", base+repoPath(f.src.repos[0])+"/pull-requests/x", "", ""), 400, "pullRequestId", "x")
}

func (f *readFixture) checkPullRequestFilters() {
	t := f.t
	repo := f.src.repos[0]
	ids := func(query string) []int64 {
		var ids []int64
		for _, pr := range getAll[model.RestPullRequest](f, repoPath(repo)+"/pull-requests"+query, 2) {
			ids = append(ids, pr.ID)
		}
		return ids
	}
	expect := func(oldestFirst bool, match func(sourcePR) bool) []int64 {
		var ids []int64
		for _, pr := range repo.prs {
			if match(pr) {
				ids = append(ids, pr.ID)
			}
		}
		if !oldestFirst {
			slices.Reverse(ids)
		}
		return ids
	}
	has := func(pr sourcePR, role, slug string) bool {
		for _, p := range pr.AllParticipants {
			if (role == "" || p.Role == role) && slugOf(p.UserID) == slug {
				return true
			}
		}
		return false
	}
	reviewer := slugOf(repo.prs[0].AllParticipants[1].UserID)
	author := slugOf(repo.prs[0].AllParticipants[0].UserID)
	word := strings.Fields(repo.prs[0].Title)[0]
	states := map[string]int{}
	for _, pr := range repo.prs {
		states[pr.State]++
	}
	if len(states) < 2 {
		t.Fatalf("the archive's pull requests are all %v: no state filter to test", states)
	}
	cases := []struct {
		query       string
		oldestFirst bool
		match       func(sourcePR) bool
	}{
		{"", false, func(pr sourcePR) bool { return pr.State == model.PROpen }},
		{"?state=merged", false, func(pr sourcePR) bool { return pr.State == model.PRMerged }},
		{"?state=DECLINED&order=OLDEST", true, func(pr sourcePR) bool { return pr.State == model.PRDeclined }},
		{"?state=ALL&order=oldest", true, func(sourcePR) bool { return true }},
		{"?state=ALL&at=main", false, func(pr sourcePR) bool { return pr.ToRef.ID == "refs/heads/main" }},
		{"?state=ALL&at=" + url.QueryEscape(repo.prs[0].FromRef.ID) + "&direction=OUTGOING", false,
			func(pr sourcePR) bool { return pr.FromRef.ID == repo.prs[0].FromRef.ID }},
		{"?state=ALL&at=" + url.QueryEscape(repo.prs[0].FromRef.ID), false,
			func(pr sourcePR) bool { return pr.ToRef.ID == repo.prs[0].FromRef.ID }},
		{"?state=ALL&filterText=" + url.QueryEscape(strings.ToLower(word)), false, func(pr sourcePR) bool {
			return strings.Contains(strings.ToLower(pr.Title+"\n"+pr.Description), strings.ToLower(word))
		}},
		{"?state=ALL&role.1=REVIEWER&username.1=" + reviewer, false, func(pr sourcePR) bool { return has(pr, model.RoleReviewer, reviewer) }},
		{"?state=ALL&username.1=" + reviewer, false, func(pr sourcePR) bool { return has(pr, "", reviewer) }},
		{"?state=ALL&role.1=AUTHOR&username.1=" + author + "&role.2=REVIEWER&username.2=" + reviewer, false, func(pr sourcePR) bool {
			return has(pr, model.RoleAuthor, author) && has(pr, model.RoleReviewer, reviewer)
		}},
		{"?state=ALL&role.1=AUTHOR&username.1=" + reviewer, false, func(pr sourcePR) bool { return has(pr, model.RoleAuthor, reviewer) }},
	}
	for _, c := range cases {
		want := expect(c.oldestFirst, c.match)
		if got := ids(c.query); !slices.Equal(got, want) {
			t.Errorf("pull-requests%s: %v, want %v", c.query, got, want)
		}
	}
	prs := base + repoPath(repo) + "/pull-requests"
	wantError(t, f.do("GET", prs+"?state=SHUT", "", ""), 400, "state", "SHUT")
	wantError(t, f.do("GET", prs+"?order=BIGGEST", "", ""), 400, "order", "BIGGEST")
	wantError(t, f.do("GET", prs+"?direction=UP", "", ""), 400, "direction", "UP")
	wantError(t, f.do("GET", prs+"?role.1=AUTHOR", "", ""), 400, "role.1", "username.1")
	wantError(t, f.do("GET", prs+"?role.1=BOSS&username.1=x", "", ""), 400, "role.1", "BOSS")
}

// commentView is what fidelity compares of a comment and its replies.
type commentView struct {
	Text, Severity, State, Author, Resolver string
	Created, Updated, Resolved              int64
	ThreadResolved                          bool
	Anchor                                  *model.RestCommentAnchor
	Replies                                 []commentView
}

func commentOfArchive(c model.Comment, threadResolved bool, anchor *model.Anchor) commentView {
	v := commentView{Text: c.Text, Severity: c.Severity, State: c.State, Author: slugOf(c.AuthorID), Created: c.CreatedTimestamp,
		Updated: c.UpdatedTimestamp, Resolved: c.ResolvedTimestamp, ThreadResolved: threadResolved, Replies: []commentView{}}
	if c.ResolverID != "" {
		v.Resolver = slugOf(c.ResolverID)
	}
	if anchor != nil {
		v.Anchor = &model.RestCommentAnchor{Path: anchor.Path, Line: anchor.Line, LineType: anchor.LineType, FileType: anchor.FileType,
			DiffType: anchor.DiffType, FromHash: anchor.FromHash, ToHash: anchor.ToHash, Orphaned: anchor.Orphaned}
	}
	for _, r := range c.Comments {
		v.Replies = append(v.Replies, commentOfArchive(r, threadResolved, nil))
	}
	return v
}

func commentOfServed(c model.RestComment) commentView {
	v := commentView{Text: c.Text, Severity: c.Severity, State: c.State, Author: c.Author.Slug, Created: c.CreatedDate,
		Updated: c.UpdatedDate, Resolved: c.ResolvedDate, ThreadResolved: c.ThreadResolved, Anchor: c.Anchor, Replies: []commentView{}}
	if c.Resolver != nil {
		v.Resolver = c.Resolver.Slug
	}
	for _, r := range c.Comments {
		v.Replies = append(v.Replies, commentOfServed(r))
	}
	return v
}

// countProperties adds a comment and its replies to a pull request's
// counts: every comment, and tasks (BLOCKER comments) by state.
func countProperties(c commentView, p *model.RestPullRequestProperties) {
	p.CommentCount++
	if c.Severity == model.SeverityBlocker {
		switch c.State {
		case model.CommentOpen:
			p.OpenTaskCount++
		case model.CommentResolved:
			p.ResolvedTaskCount++
		}
	}
	for _, r := range c.Replies {
		countProperties(r, p)
	}
}

func (f *readFixture) checkActivities() {
	t := f.t
	var tasks, resolved, anchors, nested int
	for _, repo := range f.src.repos {
		listed := map[int64]model.RestPullRequest{}
		for _, p := range getAll[model.RestPullRequest](f, repoPath(repo)+"/pull-requests?state=ALL", 25) {
			listed[p.ID] = p
		}
		for _, pr := range repo.prs {
			path := repoPath(repo) + fmt.Sprintf("/pull-requests/%d/activities", pr.ID)
			got := getAll[model.RestActivity](f, path, 4)
			if len(got) != len(pr.activities) {
				t.Errorf("%s: %d activities, archive has %d", path, len(got), len(pr.activities))
				continue
			}
			for i := 1; i < len(got); i++ {
				if got[i].CreatedDate > got[i-1].CreatedDate {
					t.Errorf("%s: activity %d is newer than the one before: not newest first", path, i)
				}
			}
			// The archive's comments, and the served COMMENTED/ADDED
			// records, in time order.
			var want, served []commentView
			actions := map[string]int{}
			for _, a := range pr.activities {
				switch a.Kind {
				case model.KindCommentAdded:
					c := a.Comment
					var anchor *model.Anchor
					if c.Thread != nil {
						anchor = c.Thread.Anchor
					}
					want = append(want, commentOfArchive(*c, c.Thread != nil && c.Thread.Resolved, anchor))
					actions["COMMENTED"]++
				case model.KindCommentOther:
					actions["COMMENTED"]++
				case model.KindReviewersUpdated:
					actions["UPDATED"]++
				case model.KindActivity:
					actions[a.Action]++
				default:
					actions[a.Kind]++
				}
			}
			gotActions := map[string]int{}
			for i := len(got) - 1; i >= 0; i-- {
				a := got[i]
				gotActions[a.Action]++
				if a.User.Slug == "" {
					t.Errorf("%s: activity %d has no user", path, a.ID)
				}
				if a.Action == "COMMENTED" && a.CommentAction == "ADDED" && a.Comment != nil {
					served = append(served, commentOfServed(*a.Comment))
					if !reflect.DeepEqual(a.CommentAnchor, a.Comment.Anchor) {
						t.Errorf("%s: commentAnchor %+v, comment anchor %+v", path, a.CommentAnchor, a.Comment.Anchor)
					}
				}
			}
			if !reflect.DeepEqual(gotActions, actions) {
				t.Errorf("%s: actions %v, archive %v", path, gotActions, actions)
			}
			if !reflect.DeepEqual(served, want) {
				t.Errorf("%s comments:\n got %+v\nwant %+v", path, served, want)
			}
			// The pull request's properties count the archive's comments.
			var props model.RestPullRequestProperties
			for _, c := range want {
				countProperties(c, &props)
			}
			if got := listed[pr.ID].Properties; got == nil || *got != props {
				t.Errorf("%s: properties in the list %+v, the archive's comments give %+v", path, got, props)
			}
			// Bitbucket sends properties in lists only, not with one pull request.
			one := decode[map[string]any](t, f.do("GET", base+repoPath(repo)+fmt.Sprintf("/pull-requests/%d", pr.ID), "", ""))
			if _, ok := one["properties"]; ok {
				t.Errorf("%s: a single pull request carries properties: %v", path, one["properties"])
			}
			for _, c := range want {
				if c.Severity == model.SeverityBlocker {
					tasks++
				}
				if c.State == model.CommentResolved {
					resolved++
				}
				if c.Anchor != nil {
					anchors++
				}
				if len(c.Replies) > 0 && len(c.Replies[0].Replies) > 0 {
					nested++
				}
			}
		}
	}
	if tasks == 0 || resolved == 0 || anchors == 0 || nested == 0 {
		t.Errorf("the archive lacks a case: %d tasks, %d resolved, %d anchors, %d nested replies", tasks, resolved, anchors, nested)
	}
}
