package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bbimport/model"
	"bbimport/server"
	"bbimport/server/servertest"
)

const base = "/rest/api/1.0"

type fixture struct {
	t    *testing.T
	fake *servertest.Fake
	srv  *server.Server
	url  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"a.tar", "b.tar"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("archive"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.tar"), 0o755); err != nil {
		t.Fatal(err)
	}
	fake := servertest.New(dir)
	srv, err := server.New(server.Config{Importer: fake, Admin: server.Credentials{User: "admin", Password: "pw"}, Version: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &fixture{t: t, fake: fake, srv: srv, url: hs.URL}
}

type answer struct {
	status int
	header http.Header
	body   string
}

// do sends a request as admin:pw unless header sets Authorization.
func (f *fixture) do(method, path, contentType, body string, header ...string) answer {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if req.Header.Get("Authorization") == "" {
		req.SetBasicAuth("admin", "pw")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func (f *fixture) start(path string) answer {
	f.t.Helper()
	return f.do("POST", base+"/migration/imports", "application/json", fmt.Sprintf(`{"archivePath":%q}`, path))
}

// wantError checks Bitbucket's error shape: status, context and a message part.
func wantError(t *testing.T, a answer, status int, context, message string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body %s", a.status, status, a.body)
	}
	var eb struct {
		Errors []struct {
			Context       *string `json:"context"`
			Message       string  `json:"message"`
			ExceptionName *string `json:"exceptionName"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(a.body), &eb); err != nil || len(eb.Errors) != 1 {
		t.Fatalf("body %s is not Bitbucket's error JSON with one error (%v)", a.body, err)
	}
	e := eb.Errors[0]
	gotContext := ""
	if e.Context != nil {
		gotContext = *e.Context
	}
	if gotContext != context {
		t.Errorf("context %q, want %q (body %s)", gotContext, context, a.body)
	}
	if !strings.Contains(e.Message, message) {
		t.Errorf("message %q does not say %q", e.Message, message)
	}
	if !strings.Contains(a.body, `"context":`) || !strings.Contains(a.body, `"exceptionName":`) {
		t.Errorf("body %s lacks context or exceptionName keys", a.body)
	}
}

func decode[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
	return v
}

func TestApplicationPropertiesNeedNoAuth(t *testing.T) {
	f := newFixture(t)
	a := f.do("GET", base+"/application-properties", "", "", "Authorization", "Basic Zm9vOmJhcg==")
	if a.status != 200 || !strings.Contains(a.body, `"displayName":"bbimport"`) || !strings.Contains(a.body, `"version":"9.4.18"`) {
		t.Fatalf("got %d %s", a.status, a.body)
	}
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	path := base + "/migration/imports/1"
	wantError(t, f.do("GET", path, "", "", "Authorization", "Basic "+basic("admin", "wrong")), 401, "", "Authentication failed")
	wantError(t, f.do("GET", path, "", "", "Authorization", "Basic "+basic("root", "pw")), 401, "", "Authentication failed")
	wantError(t, f.do("GET", path, "", "", "Authorization", "Bearer abc"), 401, "", "tokens are not accepted")
	resp, err := http.Get(f.url + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("no credentials: %d, want 401", resp.StatusCode)
	}
}

func basic(user, password string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, password)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestStartImport(t *testing.T) {
	f := newFixture(t)
	a := f.start("a.tar")
	if a.status != 200 {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	job := decode[model.Job](t, a)
	if job.ID != 1 || job.State != model.StateRunning || job.Type != model.JobTypeImport {
		t.Errorf("job %+v", job)
	}
	if job.Initiator == nil || job.Initiator.Name != "admin" || job.Initiator.Slug != "admin" {
		t.Errorf("initiator %+v, want the authenticated admin", job.Initiator)
	}
	if !strings.Contains(a.body, `"id":1,`) {
		t.Errorf("job id must be a JSON number: %s", a.body)
	}
	wantError(t, f.start("b.tar"), 503, "", "already running")

	got := decode[model.Job](t, f.do("GET", "/rest/api/latest/migration/imports/1", "", ""))
	if got.ID != 1 || got.State != model.StateRunning {
		t.Errorf("GET via latest: %+v", got)
	}
}

func TestStartImportRefusesBadRequests(t *testing.T) {
	f := newFixture(t)
	imports := base + "/migration/imports"
	outside := filepath.Join(filepath.Dir(f.fake.ImportDir), "x.tar")
	cases := []struct {
		name, contentType, body string
		status                  int
		context, message        string
	}{
		{"empty body", "application/json", "", 400, "archivePath", "body is empty"},
		{"not JSON", "application/json", "{archivePath", 400, "", "not valid JSON"},
		{"no archivePath", "application/json", `{"path":"a.tar"}`, 400, "archivePath", "archivePath is required"},
		{"blank archivePath", "application/json", `{"archivePath":"  "}`, 400, "archivePath", "archivePath is required"},
		{"relative escape", "application/json", `{"archivePath":"../x.tar"}`, 400, "archivePath", "outside the import directory"},
		{"absolute outside", "application/json", fmt.Sprintf(`{"archivePath":%q}`, outside), 400, "archivePath", "outside the import directory"},
		{"missing file", "application/json", `{"archivePath":"nope.tar"}`, 400, "archivePath", "does not exist"},
		{"directory", "application/json", `{"archivePath":"sub.tar"}`, 400, "archivePath", "not a regular file"},
		{"no content type", "", `{"archivePath":"a.tar"}`, 415, "", "application/json"},
		{"form content type", "application/x-www-form-urlencoded", `{"archivePath":"a.tar"}`, 415, "", "application/json"},
		{"too big", "application/json", `{"archivePath":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "", "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, f.do("POST", imports, c.contentType, c.body), c.status, c.context, c.message)
		})
	}
	if jobs, _ := f.fake.KnownJobs(context.Background()); len(jobs) != 0 {
		t.Errorf("a refused request started %d jobs", len(jobs))
	}
	// A JSON content type with a charset is JSON.
	if a := f.do("POST", imports, "application/json; charset=UTF-8", `{"archivePath":"a.tar"}`); a.status != 200 {
		t.Errorf("charset: %d %s", a.status, a.body)
	}
}

func TestWrongMethodAndUnknownPath(t *testing.T) {
	f := newFixture(t)
	a := f.do("GET", base+"/migration/imports", "", "")
	wantError(t, a, 405, "", "GET is not supported")
	if a.header.Get("Allow") != "POST" {
		t.Errorf("Allow %q, want POST", a.header.Get("Allow"))
	}
	a = f.do("DELETE", base+"/migration/imports/1", "", "")
	wantError(t, a, 405, "", "")
	if a.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow %q, want GET, HEAD", a.header.Get("Allow"))
	}
	wantError(t, f.do("GET", "/rest/api/1.0/nothing", "", ""), 404, "", "No resource")
	wantError(t, f.do("POST", base+"/migration/exports", "application/json", `{}`), 501, "", "Export is not supported")
	wantError(t, f.do("GET", base+"/migration/exports/3/messages", "", ""), 501, "", "Export is not supported")
	wantError(t, f.do("POST", base+"/migration/exports/preview", "application/json", `{}`), 501, "", "Export is not supported")
}

func TestJobAndCancel(t *testing.T) {
	f := newFixture(t)
	wantError(t, f.do("GET", base+"/migration/imports/7", "", ""), 404, "", "Import job 7")
	wantError(t, f.do("GET", base+"/migration/imports/x7", "", ""), 404, "", `"x7"`)
	wantError(t, f.do("POST", base+"/migration/imports/7/cancel", "application/json", ""), 404, "", "")
	f.start("a.tar")
	// The import guide's exact request: JSON content type, empty body.
	if a := f.do("POST", base+"/migration/imports/1/cancel", "application/json", ""); a.status != 204 || a.body != "" {
		t.Fatalf("cancel: %d %q", a.status, a.body)
	}
	if j := decode[model.Job](t, f.do("GET", base+"/migration/imports/1", "", "")); j.State != model.StateCanceling {
		t.Errorf("state after cancel %s", j.State)
	}
	wantError(t, f.do("POST", base+"/migration/imports/1/cancel", "application/json", ""), 409, "", "already finished")
	f.fake.Finish(1, model.StateCanceled)
	wantError(t, f.do("POST", base+"/migration/imports/1/cancel", "", ""), 409, "", "CANCELED")
}

func TestMessagePaging(t *testing.T) {
	f := newFixture(t)
	f.start("a.tar")
	for i := range 60 {
		sev := model.Severities[i%3]
		f.fake.AddMessages(1, model.Message{Severity: sev, Subject: fmt.Sprintf("PRJ/r%d", i%2), Text: fmt.Sprint("m", i), CreatedDate: 1497657601000})
	}
	type page = model.Page[model.Message]
	msgs := base + "/migration/imports/1/messages"

	var starts []int
	for start := 0; ; {
		a := f.do("GET", fmt.Sprintf("%s?start=%d", msgs, start), "", "")
		p := decode[page](t, a)
		starts = append(starts, p.Start)
		if p.Limit != 25 || p.Size != len(p.Values) {
			t.Fatalf("page at %d: limit %d size %d values %d", start, p.Limit, p.Size, len(p.Values))
		}
		if p.IsLastPage {
			if strings.Contains(a.body, "nextPageStart") {
				t.Errorf("last page has nextPageStart: %s", a.body)
			}
			if p.Size != 10 {
				t.Errorf("last page size %d, want 10", p.Size)
			}
			break
		}
		if p.NextPageStart == nil || *p.NextPageStart != start+25 {
			t.Fatalf("page at %d: nextPageStart %v", start, p.NextPageStart)
		}
		start = *p.NextPageStart
	}
	if fmt.Sprint(starts) != "[0 25 50]" {
		t.Errorf("page starts %v", starts)
	}

	p := decode[page](t, f.do("GET", msgs+"?limit=5000", "", ""))
	if p.Limit != 1000 || p.Size != 60 || !p.IsLastPage {
		t.Errorf("limit 5000: limit %d size %d last %v", p.Limit, p.Size, p.IsLastPage)
	}
	p = decode[page](t, f.do("GET", msgs+"?severity=WARN&severity=ERROR&limit=100", "", ""))
	if p.Size != 40 {
		t.Errorf("WARN+ERROR: %d messages, want 40", p.Size)
	}
	for _, m := range p.Values {
		if m.Severity == model.SeverityInfo {
			t.Errorf("INFO message %s passed a WARN,ERROR filter", m.ID)
		}
	}
	p = decode[page](t, f.do("GET", msgs+"?subject=PRJ/r1&severity=error&limit=100", "", ""))
	if p.Size != 10 {
		t.Errorf("subject PRJ/r1 ERROR: %d messages, want 10", p.Size)
	}
	a := f.do("GET", msgs+"?limit=1", "", "")
	if !strings.Contains(a.body, `"id":"1"`) || !strings.Contains(a.body, `"createdDate":1497657601000`) {
		t.Errorf("message id must be a string, createdDate epoch ms: %s", a.body)
	}
	wantError(t, f.do("GET", msgs+"?severity=FATAL", "", ""), 400, "severity", "FATAL")
	wantError(t, f.do("GET", msgs+"?limit=ten", "", ""), 400, "limit", "whole number")
	wantError(t, f.do("GET", base+"/migration/imports/9/messages", "", ""), 404, "", "")
}

func TestBrowse(t *testing.T) {
	f := newFixture(t)
	prj := model.RestProject{Key: "PRJ", ID: 1, Name: "Project", Type: "NORMAL"}
	f.fake.ProjectList = []model.RestProject{prj}
	f.fake.RepoList = []model.RestRepository{{Slug: "golden", ID: 1, Name: "golden", Project: prj, State: "AVAILABLE"}}
	for i, s := range []string{model.PROpen, model.PRMerged, model.PRDeclined, model.PROpen} {
		f.fake.PRList = append(f.fake.PRList, model.RestPullRequest{ID: int64(i + 1), State: s})
	}
	if p := decode[model.Page[model.RestProject]](t, f.do("GET", base+"/projects", "", "")); p.Size != 1 || p.Values[0].Key != "PRJ" {
		t.Errorf("projects %+v", p)
	}
	wantError(t, f.do("GET", base+"/projects/NOPE", "", ""), 404, "", "Project NOPE")
	if r := decode[model.RestRepository](t, f.do("GET", base+"/projects/PRJ/repos/golden", "", "")); r.Project.Key != "PRJ" {
		t.Errorf("repo %+v", r)
	}
	prs := base + "/projects/PRJ/repos/golden/pull-requests"
	count := func(q string) int {
		return decode[model.Page[model.RestPullRequest]](t, f.do("GET", prs+q, "", "")).Size
	}
	if n := count(""); n != 2 {
		t.Errorf("default state OPEN: %d, want 2", n)
	}
	if n := count("?state=ALL"); n != 4 {
		t.Errorf("ALL: %d, want 4", n)
	}
	if n := count("?state=MERGED"); n != 1 {
		t.Errorf("MERGED: %d, want 1", n)
	}
	p := decode[model.Page[model.RestPullRequest]](t, f.do("GET", prs+"?state=OPEN&limit=1", "", ""))
	if p.IsLastPage || p.NextPageStart == nil || *p.NextPageStart != 1 || p.Values[0].ID != 1 {
		t.Errorf("OPEN page 1 of 2: %+v", p)
	}
	wantError(t, f.do("GET", prs+"?state=SHUT", "", ""), 400, "state", "SHUT")
}

// On SIGTERM (Serve's context done) new imports get 503 at once while the
// running import winds down and can still be polled.
func TestServeDrainsOnShutdown(t *testing.T) {
	f := newFixture(t)
	f.fake.ShutdownGate = make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.url = "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(ctx, ln, 5*time.Second) }()

	if a := f.start("a.tar"); a.status != 200 {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	f.fake.Finish(1, model.StateCompleted)
	stop()
	for !f.fake.IsShutdown() {
		time.Sleep(time.Millisecond)
	}
	wantError(t, f.start("b.tar"), 503, "", "shutting down")
	if a := f.do("GET", base+"/migration/imports/1", "", ""); a.status != 200 {
		t.Errorf("poll while draining: %d", a.status)
	}
	close(f.fake.ShutdownGate)
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if resp, err := http.Get(f.url + base + "/application-properties"); err == nil {
		resp.Body.Close()
		t.Error("the listener still answers after Serve returned")
	}
}

func TestLoadCredentials(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if _, err := server.LoadCredentials("", getenv); err == nil || !strings.Contains(err.Error(), "BBIMPORT_ADMIN_USER") {
		t.Errorf("no account: %v", err)
	}
	env["BBIMPORT_ADMIN_USER"], env["BBIMPORT_ADMIN_PASSWORD"] = "admin", "pw"
	if c, err := server.LoadCredentials("", getenv); err != nil || c.User != "admin" || c.Password != "pw" {
		t.Errorf("env: %+v %v", c, err)
	}
	file := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(file, []byte("# admin\nroot:p:w\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := server.LoadCredentials(file, getenv); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable file: %v", err)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := server.LoadCredentials(file, getenv); err != nil || c.User != "root" || c.Password != "p:w" {
		t.Errorf("file: %+v %v", c, err)
	}
	if _, err := server.New(server.Config{Importer: servertest.New(t.TempDir())}); err == nil {
		t.Error("New without an admin account must fail")
	}
}

func TestStartRefusedForDiskSpace(t *testing.T) {
	f := newFixture(t)
	f.fake.StartErr = fmt.Errorf("%w: the import needs about 2.0 GiB but /srv has 1.0 GiB free; free some space or use another --home", model.ErrNotEnoughDisk)
	wantError(t, f.start("a.tar"), 400, "", "Not enough free disk space: the import needs about 2.0 GiB")
}
