// Command clientcheck drives `bbimport serve` with a published third-party
// Bitbucket Server client library (github.com/gfleury/go-bitbucket-v1),
// decoding into the library's own types, and compares what it gets with
// what the generated archive holds. It prints one line per call and exits 1
// when any call errors or decodes a wrong value.
//
// It lives in its own module so that the main module never depends on the
// library: run it with `cd scripts/clientcheck && go run .`.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bitbucketv1 "github.com/gfleury/go-bitbucket-v1"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/importer"
	"bbimport/model"
	"bbimport/server"
	"bbimport/wire"
)

// want is what the archive says, for the first repository of the first project.
type want struct {
	project model.Project
	keys    []string // every project's key
	repo    model.Repository
	head    string
	refs    []string // refs/heads/… and refs/tags/… from the git metadata
	prs     map[int64]model.PullRequest
	acts    map[int64]int // activities per pull request
}

var failures int

func check(call string, err error, problems ...string) {
	var bad []string
	for _, p := range problems {
		if p != "" {
			bad = append(bad, p)
		}
	}
	switch {
	case err != nil:
		failures++
		fmt.Printf("FAIL %-40s %v\n", call, err)
	case len(bad) > 0:
		failures++
		fmt.Printf("FAIL %-40s %s\n", call, strings.Join(bad, "; "))
	default:
		fmt.Printf("ok   %s\n", call)
	}
}

func differ(what string, got, want any) string {
	if fmt.Sprint(got) == fmt.Sprint(want) {
		return ""
	}
	return fmt.Sprintf("%s = %v, archive has %v", what, got, want)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "clientcheck:", err)
		os.Exit(2)
	}
	if failures > 0 {
		fmt.Printf("%d call(s) failed\n", failures)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	home, err := os.MkdirTemp("", "clientcheck")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	in, err := importer.Open(importer.Options{Home: home})
	if err != nil {
		return err
	}
	defer in.Close()
	path := filepath.Join(in.ImportDir(), "check.tar")
	opts := gen.Options{Projects: 1, Repos: 2, Forks: 1, PRs: 12, Commits: 3, Seed: 7, TempDir: home}
	if _, err := gen.GenerateFile(ctx, path, opts); err != nil {
		return fmt.Errorf("generate archive: %w", err)
	}
	w, err := readArchive(path)
	if err != nil {
		return err
	}
	job, err := in.Start(ctx, "check.tar")
	if err != nil {
		return err
	}
	if job, err = in.Wait(ctx, job.ID); err != nil {
		return err
	}
	if job.State != model.StateCompleted {
		return fmt.Errorf("import ended %s", job.State)
	}
	srv, err := server.New(server.Config{Importer: in, Admin: server.Credentials{User: "admin", Password: "pw", Token: "tok"}, Version: "clientcheck"})
	if err != nil {
		return err
	}
	hs := httptest.NewServer(srv) // loopback only
	defer hs.Close()

	auth := context.WithValue(ctx, bitbucketv1.ContextBasicAuth, bitbucketv1.BasicAuth{UserName: "admin", Password: "pw"})
	api := bitbucketv1.NewAPIClient(auth, bitbucketv1.NewConfiguration(hs.URL+"/rest")).DefaultApi
	calls(api, w)

	bad := bitbucketv1.NewAPIClient(context.WithValue(ctx, bitbucketv1.ContextBasicAuth,
		bitbucketv1.BasicAuth{UserName: "admin", Password: "wrong"}), bitbucketv1.NewConfiguration(hs.URL+"/rest")).DefaultApi
	r, err := bad.GetProjects(nil)
	check("401 wrong password", nil, wantError(r, err, 401, "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"))
	none := bitbucketv1.NewAPIClient(ctx, bitbucketv1.NewConfiguration(hs.URL+"/rest")).DefaultApi
	r, err = none.GetProjects(nil)
	check("401 no credentials", nil, wantError(r, err, 401, "com.atlassian.bitbucket.AuthorisationException"))
	bearer := bitbucketv1.NewAPIClient(context.WithValue(ctx, bitbucketv1.ContextAccessToken, "tok"),
		bitbucketv1.NewConfiguration(hs.URL+"/rest")).DefaultApi
	r, err = bearer.GetProject(w.project.Key)
	if err == nil {
		p, err := bitbucketv1.GetRrojectResponse(r)
		check("get project with a Bearer token", err, differ("key", p.Key, w.project.Key))
	} else {
		check("get project with a Bearer token", err)
	}
	return nil
}

// wantError checks an error answer as the library hands it over: the status,
// and Bitbucket's error JSON decoded into APIResponse.Values.
func wantError(r *bitbucketv1.APIResponse, err error, status int, exception string) string {
	if err == nil || r == nil || r.Response == nil {
		return fmt.Sprintf("no error (err %v)", err)
	}
	if r.StatusCode != status {
		return fmt.Sprintf("status %d, want %d", r.StatusCode, status)
	}
	errs, _ := r.Values["errors"].([]any)
	if len(errs) != 1 {
		return fmt.Sprintf("errors = %v", r.Values["errors"])
	}
	e, _ := errs[0].(map[string]any)
	if e["exceptionName"] != exception || e["message"] == "" {
		return fmt.Sprintf("error = %v", e)
	}
	return ""
}

func calls(api *bitbucketv1.DefaultApiService, w want) {
	key, slug := w.project.Key, w.repo.Slug

	r, err := api.GetApplicationProperties()
	if err == nil {
		check("application properties", nil, differ("version", r.Values["version"], wire.BitbucketVersion))
	} else {
		check("application properties", err)
	}

	r, err = api.GetProjects(nil)
	if err == nil {
		ps, err := bitbucketv1.GetProjectsResponse(r)
		check("list projects", err, differ("keys", sorted(keysOf(ps)), sorted(w.keys)))
	} else {
		check("list projects", err)
	}

	r, err = api.GetProject(key)
	if err == nil {
		p, err := bitbucketv1.GetRrojectResponse(r)
		check("get project", err, differ("key", p.Key, key), differ("name", p.Name, w.project.Name),
			differ("type", p.Type, w.project.Type.String()), selfLink("links.self", p.Links.Self, "/projects/"+key))
	} else {
		check("get project", err)
	}

	r, err = api.GetRepositoriesWithOptions(key, map[string]any{"limit": 1})
	var slugs []string
	for err == nil {
		rs, derr := bitbucketv1.GetRepositoriesResponse(r)
		if derr != nil {
			err = derr
			break
		}
		for _, x := range rs {
			slugs = append(slugs, x.Slug)
		}
		more, next := bitbucketv1.HasNextPage(r)
		if !more {
			break
		}
		r, err = api.GetRepositoriesWithOptions(key, map[string]any{"limit": 1, "start": next})
	}
	check("list repos (paged, limit 1)", err, contains("slugs", slugs, slug))

	r, err = api.GetRepository(key, slug)
	if err == nil {
		x, err := bitbucketv1.GetRepositoryResponse(r)
		var clone []string
		if x.Links != nil {
			for _, c := range x.Links.Clone {
				clone = append(clone, c.Name)
			}
		}
		slices.Sort(clone)
		check("get repo", err, differ("slug", x.Slug, slug), differ("name", x.Name, w.repo.Name),
			differ("scmId", x.ScmID, w.repo.ScmID), differ("forkable", x.Forkable, w.repo.Forkable),
			differ("project.key", projectKey(x.Project), key), differ("clone", clone, []string{"http", "ssh"}))
	} else {
		check("get repo", err)
	}

	r, err = api.GetBranches(key, slug, map[string]any{"limit": 1000})
	if err == nil {
		bs, err := bitbucketv1.GetBranchesResponse(r)
		var ids []string
		def := ""
		for _, b := range bs {
			ids = append(ids, b.ID)
			if b.IsDefault {
				def = b.ID
			}
		}
		check("list branches", err, differ("ids", sorted(ids), refsOf(w.refs, "refs/heads/")), differ("isDefault", def, w.head))
	} else {
		check("list branches", err)
	}

	r, err = api.GetDefaultBranch(key, slug)
	if err == nil {
		b, err := bitbucketv1.GetBranchResponse(r)
		check("default branch", err, differ("id", b.ID, w.head))
	} else {
		check("default branch", err)
	}

	r, err = api.GetTags(key, slug, map[string]any{"limit": 1000})
	if err == nil {
		ts, err := bitbucketv1.GetTagsResponse(r)
		var ids []string
		for _, t := range ts {
			ids = append(ids, t.ID)
		}
		check("list tags", err, differ("ids", sorted(ids), refsOf(w.refs, "refs/tags/")))
	} else {
		check("list tags", err)
	}

	for _, state := range []string{"ALL", "OPEN", "MERGED", "DECLINED"} {
		var got []int
		start := 0
		for {
			r, err = api.GetPullRequestsPage(key, slug, map[string]any{"state": state, "order": "OLDEST", "limit": 5, "start": start})
			if err != nil {
				break
			}
			prs, derr := bitbucketv1.GetPullRequestsResponse(r)
			if err = derr; err != nil {
				break
			}
			for _, p := range prs {
				got = append(got, p.ID)
				if a, ok := w.prs[int64(p.ID)]; ok && (p.Title != a.Title || p.State != a.State) {
					err = fmt.Errorf("pull request %d decoded as %q %s, archive has %q %s", p.ID, p.Title, p.State, a.Title, a.State)
				}
			}
			more, next := bitbucketv1.HasNextPage(r)
			if err != nil || !more {
				break
			}
			start = next
		}
		var want []int
		for id, p := range w.prs {
			if state == "ALL" || p.State == state {
				want = append(want, int(id))
			}
		}
		slices.Sort(want)
		check("list pull requests state="+state+" (paged)", err, differ("ids", got, want))
	}

	// Filters the library offers: at (a target branch) and OUTGOING from a
	// source branch.
	for _, dir := range []string{"INCOMING", "OUTGOING"} {
		var got, want []int
		for _, p := range w.prs {
			at := p.ToRef.ID
			if dir == "OUTGOING" {
				at = p.FromRef.ID
			}
			want, got = nil, nil
			for id, q := range w.prs {
				if (dir == "INCOMING" && q.ToRef.ID == at) || (dir == "OUTGOING" && q.FromRef.ID == at) {
					want = append(want, int(id))
				}
			}
			slices.Sort(want)
			r, err = api.GetPullRequestsPage(key, slug, map[string]any{"state": "ALL", "at": at, "direction": dir, "order": "OLDEST", "limit": 1000})
			if err != nil {
				break
			}
			prs, derr := bitbucketv1.GetPullRequestsResponse(r)
			if err = derr; err != nil {
				break
			}
			for _, q := range prs {
				got = append(got, q.ID)
			}
			if !slices.Equal(got, want) {
				break
			}
		}
		check("list pull requests at=… direction="+dir, err, differ("ids", got, want))
	}

	ids := make([]int64, 0, len(w.prs))
	for id := range w.prs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		a := w.prs[id]
		r, err = api.GetPullRequest(key, slug, int(id))
		if err != nil {
			check(fmt.Sprintf("get pull request %d", id), err)
			continue
		}
		p, err := bitbucketv1.GetPullRequestResponse(r)
		check(fmt.Sprintf("get pull request %d", id), err, differ("title", p.Title, a.Title), differ("state", p.State, a.State),
			differ("fromRef", p.FromRef.ID, a.FromRef.ID), differ("toRef", p.ToRef.ID, a.ToRef.ID),
			differ("createdDate", p.CreatedDate, a.CreatedTimestamp), differ("toRef.repository.slug", p.ToRef.Repository.Slug, slug),
			selfLink("links.self", p.Links.Self, fmt.Sprintf("/projects/%s/repos/%s/pull-requests/%d", key, slug, id)))

		r, err = api.GetActivities(key, slug, int(id), map[string]any{"limit": 1000})
		if err != nil {
			check(fmt.Sprintf("activities of %d", id), err)
			continue
		}
		acts, err := bitbucketv1.GetActivitiesResponse(r)
		check(fmt.Sprintf("activities of %d", id), err, differ("count", len(acts.Values), w.acts[id]), lastPage(acts))
		n, err := pagedActivities(api, key, slug, int(id))
		check(fmt.Sprintf("activities of %d (paged, limit 2)", id), err, differ("count", n, w.acts[id]))
	}

	r, err = api.GetPullRequest(key, slug, 999999)
	check("404 no such pull request", nil, wantError(r, err, 404, "com.atlassian.bitbucket.pull.NoSuchPullRequestException"))
	r, err = api.GetProject("NOSUCH")
	check("404 no such project", nil, wantError(r, err, 404, "com.atlassian.bitbucket.project.NoSuchProjectException"))
}

// pagedActivities follows Activities.NextPageStart, the library's only paging
// for activities (GetActivities leaves APIResponse.Values empty).
func pagedActivities(api *bitbucketv1.DefaultApiService, key, slug string, id int) (int, error) {
	n := 0
	for start := 0; ; {
		r, err := api.GetActivities(key, slug, id, map[string]any{"limit": 2, "start": start})
		if err != nil {
			return n, err
		}
		acts, err := bitbucketv1.GetActivitiesResponse(r)
		if err != nil {
			return n, err
		}
		if acts.Start != start || acts.Size != len(acts.Values) {
			return n, fmt.Errorf("page at %d: start %d size %d of %d values", start, acts.Start, acts.Size, len(acts.Values))
		}
		n += len(acts.Values)
		if acts.IsLastPage {
			return n, nil
		}
		if acts.NextPageStart != start+acts.Size {
			return n, fmt.Errorf("page at %d: nextPageStart %d", start, acts.NextPageStart)
		}
		start = acts.NextPageStart
	}
}

func lastPage(a bitbucketv1.Activities) string {
	if !a.IsLastPage || a.Size != len(a.Values) {
		return fmt.Sprintf("page isLastPage %v size %d of %d values", a.IsLastPage, a.Size, len(a.Values))
	}
	return ""
}

func selfLink(what string, links []bitbucketv1.SelfLink, suffix string) string {
	if len(links) != 1 || !strings.HasSuffix(links[0].Href, suffix) {
		return fmt.Sprintf("%s = %v, want one ending %s", what, links, suffix)
	}
	return ""
}

func contains(what string, got []string, want string) string {
	if slices.Contains(got, want) {
		return ""
	}
	return fmt.Sprintf("%s = %v, missing %s", what, got, want)
}

func projectKey(p *bitbucketv1.Project) string {
	if p == nil {
		return ""
	}
	return p.Key
}

func keysOf(ps []bitbucketv1.Project) []string {
	var ks []string
	for _, p := range ps {
		ks = append(ks, p.Key)
	}
	return ks
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

func refsOf(refs []string, prefix string) []string {
	var out []string
	for _, r := range refs {
		if strings.HasPrefix(r, prefix) {
			out = append(out, r)
		}
	}
	return sorted(out)
}

// readArchive takes the first project and its first repository, with their
// refs, pull requests and how many activities each has.
func readArchive(path string) (want, error) {
	w := want{prs: map[int64]model.PullRequest{}, acts: map[int64]int{}}
	var repoID string
	var last int64
	err := archive.ReadFile(path, archive.DefaultLimits(), func(m *archive.Member) error {
		switch {
		case m.Kind == archive.KindProject:
			w.keys = append(w.keys, m.Project.Key)
			if w.project.Key == "" {
				w.project = *m.Project
			}
		case m.Kind == archive.KindRepository && repoID == "" && m.Repository.ProjectID == w.project.ID && !m.Repository.IsFork():
			w.repo, repoID = *m.Repository, m.Repository.ID
		case m.IDs.Repository != repoID || repoID == "":
		case m.Kind == archive.KindGitMetadata:
			return m.Files(func(f archive.File) error { return w.readRef(f) })
		case m.Kind == archive.KindPullRequestMetadata:
			w.prs[m.PullRequest.ID], last = *m.PullRequest, m.PullRequest.ID
		case m.Kind == archive.KindPullRequestActivities:
			return m.Activities(func(*model.Activity) error {
				w.acts[last]++
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return w, fmt.Errorf("read %s: %w", path, err)
	}
	return w, nil
}

// readRef takes HEAD, loose branches and packed tags from the git metadata.
func (w *want) readRef(f archive.File) error {
	data, err := io.ReadAll(f.Body)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(string(data))
	switch {
	case f.Name == "HEAD":
		w.head = strings.TrimPrefix(text, "ref: ")
	case strings.HasPrefix(f.Name, "refs/heads/"):
		w.refs = append(w.refs, f.Name)
	case f.Name == "packed-refs":
		for line := range strings.Lines(text) {
			if _, name, ok := strings.Cut(strings.TrimSpace(line), " "); ok && strings.HasPrefix(name, "refs/") {
				w.refs = append(w.refs, name)
			}
		}
	}
	return nil
}
