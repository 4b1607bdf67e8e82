package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"bbimport/model"
)

// Bitbucket's answers to the export calls, with its fields only: the job
// fields of Atlassian's schema, pages, error JSON; no bbimport namespace.
const (
	bbProjects = `{"size":2,"limit":1000,"isLastPage":true,"start":0,"values":[
		{"key":"PRJ","id":1,"name":"Project","public":false,"type":"NORMAL","links":{"self":[{"href":"http://bb/projects/PRJ"}]}},
		{"key":"OPS","id":2,"name":"Operations","public":false,"type":"NORMAL","links":{"self":[{"href":"http://bb/projects/OPS"}]}}]}`
	bbRepos = `{"size":4,"limit":1000,"isLastPage":true,"start":0,"values":[
		{"slug":"api","id":11,"name":"API","hierarchyId":"a1","scmId":"git","state":"AVAILABLE","statusMessage":"Available","forkable":true,
		 "project":{"key":"PRJ","id":1,"name":"Project","public":false,"type":"NORMAL"},"public":false,"archived":false},
		{"slug":"golden","id":12,"name":"Golden","hierarchyId":"g1","scmId":"git","state":"AVAILABLE","statusMessage":"Available","forkable":true,
		 "project":{"key":"PRJ","id":1,"name":"Project","public":false,"type":"NORMAL"},"public":false,"archived":false},
		{"slug":"golden-fork","id":13,"name":"Golden fork","hierarchyId":"g1","scmId":"git","state":"AVAILABLE","statusMessage":"Available","forkable":true,
		 "project":{"key":"OPS","id":2,"name":"Operations","public":false,"type":"NORMAL"},"public":false,"archived":false,
		 "origin":{"slug":"golden","id":12,"name":"Golden","hierarchyId":"g1","project":{"key":"PRJ","id":1,"name":"Project","type":"NORMAL"}}},
		{"slug":"scratch","id":14,"name":"Scratch","hierarchyId":"s1","scmId":"git","state":"AVAILABLE","statusMessage":"Available","forkable":true,
		 "project":{"key":"~ALICE","id":3,"name":"Alice","public":false,"type":"PERSONAL"},"public":false,"archived":false}]}`
	// Atlassian publishes no item shape for a scope: resource ids here.
	bbScopes = `{"scopes":[{"type":"PROJECT","resourceId":1},{"type":"REPOSITORY","resourceId":12},
		{"type":"PROJECT","resourceId":2},{"type":"REPOSITORY","resourceId":13}]}`
	bbImportJob1 = `{"id":1,"state":"COMPLETED","type":"com.atlassian.bitbucket.migration.import","progress":{"message":"Done","percentage":100},
		"startDate":1497657601000,"updatedDate":1497657603000,"endDate":1497657603000,"nodeId":"n1"}`
	bbExportStarted = `{"id":2,"state":"INITIALISING","type":"com.atlassian.bitbucket.migration.export","progress":{"message":"","percentage":0},
		"startDate":1497657701000,"updatedDate":1497657701000,"nodeId":"n1",
		"initiator":{"name":"admin","id":1,"slug":"admin","displayName":"Admin","emailAddress":"admin@example.com","active":true,"type":"NORMAL"}}`
	bbExportDone = `{"id":2,"state":"COMPLETED","type":"com.atlassian.bitbucket.migration.export","progress":{"message":"Export complete","percentage":100},
		"startDate":1497657701000,"updatedDate":1497657801000,"endDate":1497657801000,"nodeId":"n1"}`
	bbExportMessages = `{"size":1,"limit":25,"isLastPage":true,"start":0,"values":[
		{"id":"901","severity":"INFO","subject":"PRJ/golden","text":"Exported repository PRJ/golden","createdDate":1497657750000}]}`
	bbNoJob           = `{"errors":[{"context":null,"message":"No migration job with that ID exists.","exceptionName":"com.atlassian.bitbucket.migration.NoSuchMigrationJobException"}]}`
	bbNoProject       = `{"errors":[{"context":null,"message":"Project NOPE does not exist.","exceptionName":"com.atlassian.bitbucket.project.NoSuchProjectException"}]}`
	bbExportsRunning  = `{"errors":[{"context":null,"message":"The maximum number of concurrent exports is reached.","exceptionName":null}]}`
	bbExportCancelled = `{"errors":[{"context":null,"message":"The job has already finished.","exceptionName":null}]}`
)

// fakeBitbucket answers the export calls as Bitbucket does, keeping every
// request and the body of every POST.
type fakeBitbucket struct {
	t        *testing.T
	mu       sync.Mutex
	requests []string // "METHOD /path?query", the context path cut
	bodies   []string
	done     bool // job 2 has finished
}

func (f *fakeBitbucket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Method + " " + strings.TrimPrefix(r.URL.RequestURI(), "/bitbucket/rest/api/1.0")
	f.mu.Lock()
	f.requests = append(f.requests, key)
	if r.Method == http.MethodPost {
		f.bodies = append(f.bodies, string(body))
	}
	done := f.done
	f.mu.Unlock()
	answer := func(status int, json string) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		io.WriteString(w, json)
	}
	path := key[:strings.IndexAny(key+"?", "?")]
	switch {
	case strings.HasPrefix(r.URL.Path, "/bitbucket/rest/bbimport/"):
		http.NotFound(w, r) // Bitbucket has no such namespace
	case key == "GET /projects?limit=1000&start=0":
		answer(200, bbProjects)
	case key == "GET /repos?limit=1000&start=0":
		answer(200, bbRepos)
	case key == "POST /migration/exports/preview":
		answer(200, bbScopes)
	case key == "POST /migration/exports" && strings.Contains(string(body), "NOPE"):
		answer(400, bbNoProject)
	case key == "POST /migration/exports" && strings.Contains(string(body), "OPS"):
		answer(503, bbExportsRunning)
	case key == "POST /migration/exports":
		answer(200, bbExportStarted)
	case key == "GET /migration/imports/1":
		answer(200, bbImportJob1)
	case key == "GET /migration/exports/2" && done:
		answer(200, bbExportDone)
	case key == "GET /migration/exports/2":
		answer(200, strings.Replace(bbExportStarted, "INITIALISING", "RUNNING", 1))
	case path == "GET /migration/exports/2/messages":
		answer(200, bbExportMessages)
	case key == "POST /migration/exports/2/cancel" && done:
		answer(409, bbExportCancelled)
	case strings.HasPrefix(key, "GET /migration/"), strings.HasPrefix(key, "POST /migration/"):
		answer(404, bbNoJob)
	default:
		f.t.Errorf("unexpected request %s", key)
		http.NotFound(w, r)
	}
}

// take returns the requests since the last take, and the POST bodies.
func (f *fakeBitbucket) take() (requests, bodies []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	requests, bodies = f.requests, f.bodies
	f.requests, f.bodies = nil, nil
	return requests, bodies
}

// An export driven against a Bitbucket, which answers its own fields
// only: the client sends exactly Bitbucket's bodies, reads the preview's
// scopes against the read API's lists (pull requests, size and free disk
// unknown), follows the job at the export's paths as GitHub's migration
// CLI does, and reads Bitbucket's refusals as the model's errors. The job
// is recorded as an export: a later process and a client that did not
// start it (by discovery) find it at its own paths.
func TestExportAgainstBitbucket(t *testing.T) {
	fake := &fakeBitbucket{t: t}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := newTestClient(t, Config{BaseURL: srv.URL + "/bitbucket"})
	ctx := context.Background()
	one := model.ExportRequest{RepositoriesRequest: model.RepositoriesRequest{Includes: []model.RepositorySelector{{ProjectKey: "PRJ", Slug: "golden"}}}}

	projects, err := c.Exportable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, p := range projects {
		for _, r := range p.Repositories {
			listed = append(listed, p.Key+"/"+r.Slug+"<"+r.Origin)
			if r.PullRequests != model.Unknown {
				t.Errorf("%s/%s: %d pull requests, want unknown", p.Key, r.Slug, r.PullRequests)
			}
		}
	}
	if strings.Join(listed, " ") != "PRJ/api< PRJ/golden< OPS/golden-fork<PRJ/golden ~ALICE/scratch<" || !projects[2].Personal {
		t.Errorf("exportable %v %+v", listed, projects)
	}
	fake.take()

	p, err := c.PreviewExport(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Projects) != 2 || p.Projects[0].Key != "PRJ" || !slices.Equal(p.Projects[1].Repositories, []string{"golden-fork"}) ||
		p.Repositories != 2 || p.Forks != 1 || p.Hierarchies != 1 {
		t.Errorf("preview %+v", p)
	}
	if p.PullRequests != model.Unknown || p.EstimatedBytes != model.Unknown || p.FreeBytes != model.Unknown || !p.Fits() || p.SizeKnown() {
		t.Errorf("a Bitbucket's preview tells no pull requests, size or free disk: %+v", p)
	}
	_, bodies := fake.take()
	if want := `{"repositoriesRequest":{"includes":[{"projectKey":"PRJ","slug":"golden"}]}}`; len(bodies) != 1 || bodies[0] != want {
		t.Errorf("preview sent %q, want %s", bodies, want)
	}

	one.ExportLocation, one.Force = "nightly", true
	job, err := c.StartExport(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	if job.ID != 2 || job.Type != model.JobTypeExport || job.Archive != "nightly/Bitbucket_export_2.tar" {
		t.Errorf("started %+v", job)
	}
	requests, bodies := fake.take()
	if want := `{"repositoriesRequest":{"includes":[{"projectKey":"PRJ","slug":"golden"}]},"exportLocation":"nightly"}`; !slices.Equal(bodies, []string{want}) ||
		!slices.Equal(requests, []string{"POST /migration/exports"}) {
		t.Errorf("start sent %q %q, want only %s", requests, bodies, want)
	}

	if j, err := c.Job(ctx, 2); err != nil || j.State != model.StateRunning || j.Archive != "nightly/Bitbucket_export_2.tar" {
		t.Errorf("running: %+v %v", j, err)
	}
	fake.mu.Lock()
	fake.done = true
	fake.mu.Unlock()
	if j, err := c.Job(ctx, 2); err != nil || j.State != model.StateCompleted || j.Progress.Percentage != 100 {
		t.Errorf("done: %+v %v", j, err)
	}
	msgs, err := NewMessageReader(c, 2, model.MessageQuery{}).Unseen(ctx)
	if err != nil || len(msgs) != 1 || msgs[0].Subject != "PRJ/golden" {
		t.Errorf("messages %+v %v", msgs, err)
	}
	err = c.Cancel(ctx, 2)
	if !errors.Is(err, model.ErrJobFinished) || !strings.HasPrefix(err.Error(), "cancel export job 2: The job has already finished (HTTP 409 Conflict)") {
		t.Errorf("cancel of a finished export: %v", err)
	}
	requests, _ = fake.take()
	for _, r := range requests {
		if !strings.HasPrefix(r, "GET /migration/exports/2") && r != "POST /migration/exports/2/cancel" {
			t.Errorf("following the export asked %s: an export is followed at its own paths", r)
		}
	}

	nope := model.ExportRequest{RepositoriesRequest: model.RepositoriesRequest{Includes: []model.RepositorySelector{{ProjectKey: "NOPE", Slug: "x"}}}}
	_, err = c.StartExport(ctx, nope)
	if !errors.Is(err, model.ErrNoSuchSelection) || !strings.HasPrefix(err.Error(), "start the export of NOPE/x: Project NOPE does not exist (HTTP 400 Bad Request); ") {
		t.Errorf("a project Bitbucket does not have: %v", err)
	}
	ops := model.ExportRequest{RepositoriesRequest: model.RepositoriesRequest{Includes: []model.RepositorySelector{{ProjectKey: "OPS", Slug: "*"}}}}
	if _, err = c.StartExport(ctx, ops); !errors.Is(err, model.ErrExportsRunning) || !strings.Contains(err.Error(), "(HTTP 503 Service Unavailable); ") {
		t.Errorf("a third export: %v", err)
	}

	// Another process of the same user: the state file says job 2 is an
	// export, so it is read at once where it is.
	again := newTestClientIn(t, Config{BaseURL: srv.URL + "/bitbucket"}, c.jobs.path)
	fake.take()
	if _, err := again.Messages(ctx, 2, model.MessageQuery{}); err != nil {
		t.Fatal(err)
	}
	if requests, _ := fake.take(); len(requests) != 1 || !strings.HasPrefix(requests[0], "GET /migration/exports/2/messages?") {
		t.Errorf("a recorded export's messages asked %q", requests)
	}

	// A client that started nothing finds both jobs past its newest, each
	// of its kind, and remembers which is an export.
	other := newTestClient(t, Config{BaseURL: srv.URL + "/bitbucket"})
	jobs, err := other.KnownJobs(ctx)
	if err != nil || len(jobs) != 2 || jobs[0].ID != 2 || jobs[0].Type != model.JobTypeExport || jobs[1].Type != model.JobTypeImport {
		t.Fatalf("discovered %+v %v", jobs, err)
	}
	if rec, ok := other.jobs.find(2); !ok || rec.Type != model.JobTypeExport || !rec.Discovered {
		t.Errorf("discovered export recorded as %+v", rec)
	}
}

// newTestClientIn is newTestClient on an existing state file: another
// process of the same user.
func newTestClientIn(t *testing.T, cfg Config, stateFile string) *Client {
	t.Helper()
	c := newTestClient(t, cfg)
	c.jobs.path = stateFile
	return c
}

// Each shape a preview's scope may have names its repository; a project,
// or a shape that names none, names nothing.
func TestScopeShapes(t *testing.T) {
	ids := map[int64]string{12: "PRJ/golden"}
	id := int64(12)
	for _, tc := range []struct {
		s    scope
		want string
	}{
		{scope{ProjectKey: "PRJ", Slug: "golden"}, "PRJ/golden"},
		{scope{Slug: "golden", Project: &scopeKey{Key: "PRJ"}}, "PRJ/golden"},
		{scope{Repository: &scopeRepo{Slug: "golden", Project: scopeKey{Key: "PRJ"}}}, "PRJ/golden"},
		{scope{Type: "REPOSITORY", ResourceID: &id}, "PRJ/golden"},
		{scope{Type: "repository", ID: &id}, "PRJ/golden"},
		{scope{Type: "PROJECT", ResourceID: &id}, ""},
		{scope{Project: &scopeKey{Key: "PRJ"}}, ""},
		{scope{ProjectKey: "PRJ", Slug: "*"}, ""},
	} {
		if got := tc.s.repository(ids); got != tc.want {
			t.Errorf("%+v names %q, want %q", tc.s, got, tc.want)
		}
	}
}

// A preview whose scopes name no repository in a shape read here is worked
// out from the selectors and the lists: whole hierarchies, each once.
func TestPreviewOfUnreadableScopes(t *testing.T) {
	projects := []model.ExportableProject{
		{Key: "PRJ", Name: "Project", Repositories: []model.ExportableRepository{{Slug: "api"}, {Slug: "golden"}}},
		{Key: "OPS", Name: "Operations", Repositories: []model.ExportableRepository{{Slug: "golden-fork", Origin: "PRJ/golden"}, {Slug: "tools"}}},
	}
	for _, tc := range []struct {
		selectors []model.RepositorySelector
		want      string
	}{
		{[]model.RepositorySelector{{ProjectKey: "OPS", Slug: "golden-fork"}}, "PRJ:golden OPS:golden-fork"},
		{[]model.RepositorySelector{{ProjectKey: "prj", Slug: "*"}}, "PRJ:api,golden OPS:golden-fork"},
		{[]model.RepositorySelector{{ProjectKey: "*", Slug: "*"}, {ProjectKey: "OPS", Slug: "tools"}}, "PRJ:api,golden OPS:golden-fork,tools"},
	} {
		p := previewOf(projects, expand(projects, tc.selectors))
		var got []string
		for _, pr := range p.Projects {
			got = append(got, pr.Key+":"+strings.Join(pr.Repositories, ","))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%v previews %v, want %s", tc.selectors, got, tc.want)
		}
	}
}
