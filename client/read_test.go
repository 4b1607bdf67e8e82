package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"bbimport/archive/gen"
	"bbimport/client"
	"bbimport/importer"
	"bbimport/model"
	"bbimport/server"
	"bbimport/wire"
)

// readTarget is one archive imported twice into a real importer (the
// second import renamed by collision), served by serve, and a client of it.
type readTarget struct {
	in   *importer.Instance
	c    *client.Client
	jobs []model.Job
}

func importedTwice(t *testing.T) readTarget {
	t.Helper()
	if testing.Short() {
		t.Skip("generates and imports an archive twice")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	in, err := importer.Open(importer.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	opts := gen.Options{Projects: 1, Repos: 2, Forks: 1, PRs: 8, Commits: 3, Seed: 11, TempDir: t.TempDir()}
	if _, err := gen.GenerateFile(ctx, filepath.Join(in.ImportDir(), "read.tar"), opts); err != nil {
		t.Fatal(err)
	}
	var jobs []model.Job
	for range 2 {
		job, err := in.Start(ctx, "read.tar")
		if err != nil {
			t.Fatal(err)
		}
		if job, err = in.Wait(ctx, job.ID); err != nil || job.State != model.StateCompleted {
			t.Fatalf("import ended %s: %v", job.State, err)
		}
		jobs = append(jobs, job)
	}
	srv, err := server.New(server.Config{Importer: in, Admin: server.Credentials{User: "admin", Password: "pw"}, Version: "read"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return readTarget{in: in, c: dial(t, hs.URL, "pw", t.TempDir()), jobs: jobs}
}

// readCall is one call of model.Reader, made alike on any reader.
type readCall struct {
	name string
	call func(ctx context.Context, r model.Reader) (any, error)
}

// readCalls covers every Reader method, with every filter of each, on
// what the importer holds.
func readCalls(t *testing.T, ctx context.Context, in model.Reader) []readCall {
	t.Helper()
	projects, err := in.ListProjects(ctx, model.ProjectQuery{}, 0, wire.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	repos, err := in.ListRepositories(ctx, model.RepositoryQuery{}, 0, wire.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	var calls []readCall
	add := func(name string, call func(ctx context.Context, r model.Reader) (any, error)) {
		calls = append(calls, readCall{name: name, call: call})
	}
	project := projects.Values[0]
	for _, q := range []struct {
		q             model.ProjectQuery
		start, limit  int
		name, comment string
	}{
		{model.ProjectQuery{}, 0, 0, "", "the default page"},
		{model.ProjectQuery{}, 1, 1, "", "the second of one"},
		{model.ProjectQuery{Name: strings.ToLower(project.Name[1:4])}, 0, 25, "", "a part of a name"},
		{model.ProjectQuery{Name: "no-such-project"}, 0, 25, "", "no match"},
	} {
		add(fmt.Sprintf("ListProjects(%+v, %d, %d)", q.q, q.start, q.limit), func(ctx context.Context, r model.Reader) (any, error) {
			return r.ListProjects(ctx, q.q, q.start, q.limit)
		})
	}
	for _, key := range append(keysOf(projects.Values), "NOPE") {
		add("Project("+key+")", func(ctx context.Context, r model.Reader) (any, error) { return r.Project(ctx, key) })
	}
	repoQueries := []model.RepositoryQuery{{}, {Name: strings.ToUpper(repos.Values[0].Name[:3])},
		{ProjectName: project.Name}, {ProjectKey: "NOPE"}}
	for _, key := range keysOf(projects.Values) {
		repoQueries = append(repoQueries, model.RepositoryQuery{ProjectKey: key})
	}
	for _, q := range repoQueries {
		for _, page := range [][2]int{{0, 0}, {1, 2}} {
			add(fmt.Sprintf("ListRepositories(%+v, %d, %d)", q, page[0], page[1]), func(ctx context.Context, r model.Reader) (any, error) {
				return r.ListRepositories(ctx, q, page[0], page[1])
			})
		}
	}
	add("Repository(NOPE/x)", func(ctx context.Context, r model.Reader) (any, error) { return r.Repository(ctx, "NOPE", "x") })
	add("Repository(KEY/nope)", func(ctx context.Context, r model.Reader) (any, error) { return r.Repository(ctx, project.Key, "nope") })
	for _, repo := range repos.Values {
		key, slug := repo.Project.Key, repo.Slug
		name := key + "/" + slug
		add("Repository("+name+")", func(ctx context.Context, r model.Reader) (any, error) { return r.Repository(ctx, key, slug) })
		add("DefaultBranch("+name+")", func(ctx context.Context, r model.Reader) (any, error) { return r.DefaultBranch(ctx, key, slug) })
		for _, q := range []model.RefQuery{{}, {OrderBy: model.OrderModification}, {FilterText: "MAI"}} {
			add(fmt.Sprintf("Branches(%s, %+v)", name, q), func(ctx context.Context, r model.Reader) (any, error) {
				return r.Branches(ctx, key, slug, q, 0, 0)
			})
			add(fmt.Sprintf("Tags(%s, %+v)", name, q), func(ctx context.Context, r model.Reader) (any, error) {
				return r.Tags(ctx, key, slug, q, 0, 0)
			})
		}
		prs, err := in.ListPullRequests(ctx, key, slug, model.PullRequestQuery{State: model.PRStateAll}, 0, wire.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		prQueries := []model.PullRequestQuery{{}, {State: model.PRStateAll}, {State: model.PRMerged, Order: model.OrderOldest},
			{State: model.PRDeclined}}
		if len(prs.Values) > 0 {
			pr := prs.Values[0]
			prQueries = append(prQueries,
				model.PullRequestQuery{State: model.PRStateAll, At: pr.ToRef.ID},
				model.PullRequestQuery{State: model.PRStateAll, At: pr.FromRef.ID, Direction: model.DirectionOutgoing},
				model.PullRequestQuery{State: model.PRStateAll, FilterText: strings.ToUpper(strings.Fields(pr.Title)[0])},
				model.PullRequestQuery{State: model.PRStateAll, Participants: []model.ParticipantFilter{{Username: pr.Author.User.Name}}},
				model.PullRequestQuery{State: model.PRStateAll, Participants: []model.ParticipantFilter{
					{Role: model.RoleAuthor, Username: pr.Author.User.Name}, {Role: model.RoleReviewer, Username: pr.Author.User.Name}}})
			for _, p := range pr.Reviewers {
				prQueries = append(prQueries, model.PullRequestQuery{State: model.PRStateAll,
					Participants: []model.ParticipantFilter{{Role: model.RoleReviewer, Username: p.User.Name}}})
			}
		}
		for _, q := range prQueries {
			add(fmt.Sprintf("ListPullRequests(%s, %+v)", name, q), func(ctx context.Context, r model.Reader) (any, error) {
				return r.ListPullRequests(ctx, key, slug, q, 0, 0)
			})
		}
		for _, pr := range append(prs.Values, model.RestPullRequest{ID: 999}) {
			id := pr.ID
			add(fmt.Sprintf("PullRequest(%s#%d)", name, id), func(ctx context.Context, r model.Reader) (any, error) {
				return r.PullRequest(ctx, key, slug, id)
			})
			add(fmt.Sprintf("Activities(%s#%d)", name, id), func(ctx context.Context, r model.Reader) (any, error) {
				return r.Activities(ctx, key, slug, id, 0, 0)
			})
		}
	}
	add("ListPullRequests(NOPE/x)", func(ctx context.Context, r model.Reader) (any, error) {
		return r.ListPullRequests(ctx, "NOPE", "x", model.PullRequestQuery{}, 0, 0)
	})
	add("Branches(KEY/nope)", func(ctx context.Context, r model.Reader) (any, error) {
		return r.Branches(ctx, project.Key, "nope", model.RefQuery{}, 0, 0)
	})
	return calls
}

func keysOf(ps []model.RestProject) []string {
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.Key
	}
	return keys
}

// notFoundKinds name the model's errors of a missing item.
var notFoundKinds = map[error]string{
	model.ErrNoSuchProject:     "no such project",
	model.ErrNoSuchRepository:  "no such repository",
	model.ErrNoSuchPullRequest: "no such pull request",
}

// kindOf names err's kind as a caller tells it apart.
func kindOf(err error) string {
	if err == nil {
		return "ok"
	}
	for kind, name := range notFoundKinds {
		if errors.Is(err, kind) {
			return name
		}
	}
	return "other error: " + err.Error()
}

// withoutLinks is v's JSON with every links field left out: links name
// the server a client reached, which the importer in-process has none of.
func withoutLinks(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	var strip func(any)
	strip = func(n any) {
		switch n := n.(type) {
		case map[string]any:
			delete(n, "links")
			for _, c := range n {
				strip(c)
			}
		case []any:
			for _, c := range n {
				strip(c)
			}
		}
	}
	strip(tree)
	return tree
}

// firstDiff names the first place where JSON trees want and got differ,
// or is empty.
func firstDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: through serve %v, in-process an object", path, got)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Sprintf("%s.%s: through serve %v, in-process absent", path, k, g[k])
			}
		}
		for k := range w {
			if d := firstDiff(path+"."+k, w[k], g[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: through serve %d values, in-process %d", path, len(g), len(w))
		}
		for i := range w {
			if d := firstDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Sprintf("%s: through serve %v, in-process %v", path, got, want)
	}
	return ""
}

// Every Reader call gives the same through the client and serve as
// in-process: the same values (links aside), pages and error kinds.
func TestReaderThroughServeMatchesInProcess(t *testing.T) {
	rt := importedTwice(t)
	ctx := context.Background()
	seen := map[string]int{} // kind of answer → calls
	for _, rc := range readCalls(t, ctx, rt.in) {
		want, werr := rc.call(ctx, rt.in)
		got, gerr := rc.call(ctx, rt.c)
		if kindOf(gerr) != kindOf(werr) {
			t.Errorf("%s: through serve %s, in-process %s", rc.name, kindOf(gerr), kindOf(werr))
			continue
		}
		seen[kindOf(werr)]++
		if werr != nil {
			continue
		}
		if d := firstDiff("", withoutLinks(t, want), withoutLinks(t, got)); d != "" {
			t.Errorf("%s: %s", rc.name, d)
		}
	}
	for _, kind := range []string{"ok", "no such project", "no such repository", "no such pull request"} {
		if seen[kind] == 0 {
			t.Errorf("no call answered %s: %v", kind, seen)
		}
	}

	// The client keeps what only the server knows: the links to follow.
	repos, err := rt.c.ListRepositories(ctx, model.RepositoryQuery{}, 0, 1)
	if err != nil || len(repos.Values) != 1 || repos.Values[0].Links == nil || len(repos.Values[0].Links.Clone) != 2 {
		t.Errorf("repositories through serve: %+v, %v", repos, err)
	}

	t.Run("paging", func(t *testing.T) { checkReadPaging(t, rt) })
	t.Run("placements", func(t *testing.T) { checkPlacements(t, rt) })
}

// checkReadPaging follows pages of one value with wire.Each through the
// client: every page starts where asked and holds at most the limit, and
// together they hold what one large page in-process does.
func checkReadPaging(t *testing.T, rt readTarget) {
	ctx := context.Background()
	repos, err := rt.in.ListRepositories(ctx, model.RepositoryQuery{}, 0, wire.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	key, slug := repos.Values[0].Project.Key, repos.Values[0].Slug
	all := model.PullRequestQuery{State: model.PRStateAll}
	want, err := rt.in.ListPullRequests(ctx, key, slug, all, 0, wire.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 3} {
		var got []int64
		pages := 0
		_, err := wire.Each(ctx, 0, func(ctx context.Context, start int) (model.Page[model.RestPullRequest], error) {
			p, err := rt.c.ListPullRequests(ctx, key, slug, all, start, limit)
			if err == nil && (p.Start != start || p.Limit != limit || len(p.Values) > limit) {
				t.Errorf("page asked at %d of %d: start %d, limit %d, %d values", start, limit, p.Start, p.Limit, len(p.Values))
			}
			pages++
			return p, err
		}, func(pr model.RestPullRequest) error {
			got = append(got, pr.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, pr := range want.Values {
			ids = append(ids, pr.ID)
		}
		if !reflect.DeepEqual(got, ids) || len(ids) < 3 || pages < (len(ids)+limit-1)/limit {
			t.Errorf("pages of %d: %v in %d pages, in-process %v", limit, got, pages, ids)
		}
	}
}

// checkPlacements: the second import, renamed by collision, is placed
// under KEY1 through serve as in-process; pages of placements are
// followed whole.
func checkPlacements(t *testing.T, rt readTarget) {
	ctx := context.Background()
	for _, job := range rt.jobs {
		want, err := rt.in.Placements(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rt.c.Placements(ctx, job.ID)
		if err != nil || !reflect.DeepEqual(got, want) || len(want) == 0 {
			t.Errorf("job %d placements through serve %+v (%v), in-process %+v", job.ID, got, err, want)
		}
	}
	second, err := rt.c.Placements(ctx, rt.jobs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	renamed := 0
	for _, p := range second {
		if !strings.HasPrefix(p.ArchiveProject, "~") {
			renamed++
			if p.Project != p.ArchiveProject+"1" {
				t.Errorf("job 2 placed %s/%s at %s/%s, want project %s1", p.ArchiveProject, p.ArchiveSlug, p.Project, p.Slug, p.ArchiveProject)
			}
		}
	}
	if renamed == 0 {
		t.Errorf("job 2 placed no repository of a normal project: %+v", second)
	}
	if _, err := rt.c.Placements(ctx, rt.jobs[1].ID+1); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("placements of an unknown job: %v", err)
	}
}

// A real Bitbucket has no placements route: its 404, Bitbucket's error
// JSON or a plain page, reads as ErrNotSupported, with a sentence that
// says so.
func TestPlacementsWithoutTheRoute(t *testing.T) {
	for name, answer := range map[string]func(http.ResponseWriter){
		"error JSON": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"context":null,"message":"No resource at /rest/bbimport/1.0/imports/1/placements","exceptionName":null}]}`)
		},
		"HTML page": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<html><title>Page not found</title></html>`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { answer(w) }))
			defer hs.Close()
			_, err := dial(t, hs.URL, "pw", t.TempDir()).Placements(context.Background(), 1)
			if !errors.Is(err, model.ErrNotSupported) || errors.Is(err, model.ErrJobNotFound) ||
				!strings.Contains(err.Error(), "only bbimport serve does") {
				t.Errorf("placements from a server without the route: %v", err)
			}
		})
	}
}

// A 404 names what is missing by its exceptionName; one with none the
// client knows (null, or another product's) is what the call asked for.
func TestReadNotFoundKinds(t *testing.T) {
	for _, c := range []struct {
		exception string // "" for null
		want      error
	}{
		{"", model.ErrNoSuchRepository},
		{"com.example.SomethingElse", model.ErrNoSuchRepository},
		{wire.ExceptionNoSuchProject, model.ErrNoSuchProject},
		{wire.ExceptionNoSuchRepository, model.ErrNoSuchRepository},
	} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			body := wire.NewErrorBody("", "Repository PRJ/nope does not exist.")
			if c.exception != "" {
				body.Errors[0].ExceptionName = &c.exception
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(body)
		}))
		_, err := dial(t, hs.URL, "pw", t.TempDir()).Branches(context.Background(), "PRJ", "nope", model.RefQuery{}, 0, 0)
		hs.Close()
		if kindOf(err) != kindOf(c.want) || !strings.Contains(err.Error(), "read the branches of repository PRJ/nope: Repository PRJ/nope does not exist (HTTP 404 Not Found)") {
			t.Errorf("exceptionName %q: %v, want %s", c.exception, err, kindOf(c.want))
		}
	}
}
