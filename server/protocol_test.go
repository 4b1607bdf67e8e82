package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"bbimport/importer"
	"bbimport/model"
	"bbimport/server"
	"bbimport/wire"
)

// onImporter is serve on a real importer over a fresh home: nothing
// imported, so every project, repository and job is missing.
func onImporter(t *testing.T, admin server.Credentials) (*fixture, *importer.Instance) {
	t.Helper()
	in, err := importer.Open(importer.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	srv, err := server.New(server.Config{Importer: in, Admin: admin, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &fixture{t: t, srv: srv, url: hs.URL}, in
}

var admin = server.Credentials{User: "admin", Password: "pw"}

// exceptionName is the first error's exceptionName, "null" for none.
func exceptionName(t *testing.T, a answer) string {
	t.Helper()
	var eb wire.ErrorBody
	if err := json.Unmarshal([]byte(a.body), &eb); err != nil || len(eb.Errors) != 1 {
		t.Fatalf("body %s is not Bitbucket's error JSON with one error (%v)", a.body, err)
	}
	if eb.Errors[0].ExceptionName == nil {
		return "null"
	}
	return *eb.Errors[0].ExceptionName
}

func TestExceptionNames(t *testing.T) {
	f, _ := onImporter(t, admin)
	fake := newFixture(t)
	fake.fake.ProjectList = []model.RestProject{{Key: "PRJ", ID: 1, Name: "Project", Type: "NORMAL"}}
	cases := []struct {
		name      string
		f         *fixture
		method    string
		path      string
		header    []string
		status    int
		exception string
	}{
		{"no project", f, "GET", base + "/projects/NOPE", nil, 404, wire.ExceptionNoSuchProject},
		{"repos of no project", f, "GET", base + "/projects/NOPE/repos", nil, 404, wire.ExceptionNoSuchProject},
		{"no repository", fake, "GET", base + "/projects/PRJ/repos/nope", nil, 404, wire.ExceptionNoSuchRepository},
		{"pull requests of no repository", fake, "GET", base + "/projects/PRJ/repos/nope/pull-requests", nil, 404, wire.ExceptionNoSuchRepository},
		{"no job", f, "GET", base + "/migration/imports/99", nil, 404, wire.ExceptionNoSuchJob},
		{"cancel no job", f, "POST", base + "/migration/imports/99/cancel", nil, 404, wire.ExceptionNoSuchJob},
		{"bad password", f, "GET", base + "/migration/imports/1", []string{"Authorization", "Basic " + basic("admin", "wrong")}, 401, wire.ExceptionIncorrectPassword},
		{"no credentials", f, "GET", base + "/migration/imports/1", []string{"Authorization", "Negotiate x"}, 401, wire.ExceptionNotAuthorised},
		{"unknown path", f, "GET", base + "/nothing", nil, 404, "null"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.f.do(c.method, c.path, "application/json", "", c.header...)
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			if got := exceptionName(t, a); got != c.exception {
				t.Errorf("exceptionName %s, want %s", got, c.exception)
			}
		})
	}
	a := f.start("../outside.tar")
	wantError(t, a, 400, "archivePath", "")
	if got := exceptionName(t, a); got != wire.ExceptionInvalidArgument {
		t.Errorf("bad archive path: exceptionName %s", got)
	}
}

// Every 401 challenges for Basic, so that curl --anyauth and wget send the
// credentials they hold.
func TestUnauthorizedChallenges(t *testing.T) {
	f, _ := onImporter(t, admin)
	path := base + "/migration/imports/1"
	for _, auth := range []string{"Basic " + basic("admin", "wrong"), "Bearer abc", "Negotiate x"} {
		a := f.do("GET", path, "", "", "Authorization", auth)
		if a.status != 401 || a.header.Get("WWW-Authenticate") != `Basic realm="Bitbucket"` {
			t.Errorf("%s: %d, WWW-Authenticate %q", auth, a.status, a.header.Get("WWW-Authenticate"))
		}
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl to try --anyauth with")
	}
	out, err := exec.Command("curl", "-s", "--anyauth", "-u", "admin:pw", "-w", " %{http_code}", f.url+base+"/projects/NOPE").Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	if !strings.Contains(string(out), "NoSuchProjectException") || !strings.HasSuffix(string(out), " 404") {
		t.Errorf("curl --anyauth did not get past authentication: %s", out)
	}
}

func TestBearerToken(t *testing.T) {
	f, _ := onImporter(t, server.Credentials{User: "admin", Password: "pw", Token: "BBDC-secret"})
	path := base + "/projects"
	if a := f.do("GET", path, "", "", "Authorization", "Bearer BBDC-secret"); a.status != 200 {
		t.Errorf("right token: %d %s", a.status, a.body)
	}
	a := f.do("GET", path, "", "", "Authorization", "Bearer BBDC-wrong")
	wantError(t, a, 401, "", "Authentication failed")
	if got := exceptionName(t, a); got != wire.ExceptionIncorrectPassword {
		t.Errorf("wrong token: exceptionName %s", got)
	}
	if a := f.do("GET", path, "", ""); a.status != 200 {
		t.Errorf("Basic beside a token: %d %s", a.status, a.body)
	}
}

func TestApplicationPropertiesReportBitbucketRelease(t *testing.T) {
	f, _ := onImporter(t, admin)
	a := f.do("GET", base+"/application-properties", "", "")
	want := `{"version":"9.4.18","buildNumber":"9004018","buildDate":"1751328000000","displayName":"bbimport"}`
	if a.status != 200 || strings.TrimSpace(a.body) != want {
		t.Errorf("got %d %s, want %s", a.status, a.body, want)
	}
}

func TestRequestIDOnEveryAnswer(t *testing.T) {
	f, _ := onImporter(t, admin)
	shape := regexp.MustCompile(`^\d+x\d+x\d+$`)
	seen := map[string]bool{}
	for _, a := range []answer{
		f.do("GET", base+"/application-properties", "", ""),
		f.do("GET", base+"/projects", "", ""),
		f.do("GET", base+"/projects/NOPE", "", ""),
		f.do("GET", base+"/projects", "", "", "Authorization", "Bearer x"),
		f.do("DELETE", base+"/projects", "", ""),
		f.do("GET", "/nothing", "", ""),
	} {
		id := a.header.Get("X-AREQUESTID")
		if !shape.MatchString(id) || seen[id] {
			t.Errorf("answer %d: X-AREQUESTID %q is not a new {minute}x{counter}x{inFlight}", a.status, id)
		}
		seen[id] = true
	}
}

func TestTrailingSlash(t *testing.T) {
	f, _ := onImporter(t, admin)
	for _, p := range []string{"/application-properties", "/projects", "/projects/NOPE", "/migration/imports/7"} {
		without, with := f.do("GET", base+p, "", ""), f.do("GET", base+p+"/", "", "")
		if with.status != without.status || with.body != without.body {
			t.Errorf("%s/: %d %s; without the slash: %d %s", p, with.status, with.body, without.status, without.body)
		}
	}
}

// raw sends a request as written, past any client's own cleaning, and
// returns the status line, headers and body.
func raw(t *testing.T, url, request string) (status int, header http.Header, body string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// Paths that are not clean answer as paths serve does not have, after
// authentication, in JSON: never the HTML redirect of Go's ServeMux.
func TestPathsThatAreNotClean(t *testing.T) {
	f, _ := onImporter(t, admin)
	auth := "Authorization: Basic " + basic("admin", "pw") + "\r\n"
	for _, p := range []string{
		"/rest/api/1.0//migration/imports/1",
		"/rest/api/1.0/./projects",
		"/rest/api/1.0/projects/..",
		"/rest/api/1.0/projects/%2e%2e/x",
		"//rest/api/1.0/projects",
	} {
		for _, c := range []struct {
			auth   string
			status int
		}{{"", 401}, {auth, 404}} {
			status, header, body := raw(t, f.url, "GET "+p+" HTTP/1.1\r\nHost: x\r\n"+c.auth+"Connection: close\r\n\r\n")
			wantError(t, answer{status, header, body}, c.status, "", "")
			if header.Get("Location") != "" || !strings.HasPrefix(header.Get("Content-Type"), "application/json") {
				t.Errorf("%s: Location %q, Content-Type %q", p, header.Get("Location"), header.Get("Content-Type"))
			}
		}
	}
}

func TestOversizedHeaderAnswersJSON(t *testing.T) {
	f, _ := onImporter(t, admin)
	a := f.do("GET", base+"/projects", "", "", "X-Padding", strings.Repeat("a", 100<<10))
	wantError(t, a, 431, "", "headers are")
}

// Many concurrent requests on the real importer: each is answered 200, or
// 503 with Retry-After when the server had no room in time, never 500; and
// the database files stay open a bounded number of times.
func TestBoundedUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 concurrent requests")
	}
	f, in := onImporter(t, admin)
	const clients = 2000
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	dbFiles := make(chan int, 1)
	stop := make(chan struct{})
	go func() { dbFiles <- maxOpenFilesUnder(in.Home(), stop) }()

	var (
		mu     sync.Mutex
		counts = map[int]int{}
		bad    []string
		wg     sync.WaitGroup
	)
	for i := range clients {
		wg.Go(func() {
			path := base + "/projects"
			if i%2 == 1 {
				path = base + "/migration/imports/1"
			}
			req, _ := http.NewRequest("GET", f.url+path, nil)
			req.SetBasicAuth("admin", "pw")
			resp, err := hc.Do(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				bad = append(bad, err.Error())
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			counts[resp.StatusCode]++
			switch resp.StatusCode {
			case 200, 404:
			case 503:
				if resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(b), `"errors"`) {
					bad = append(bad, fmt.Sprintf("503 without Retry-After or error JSON: %s", b))
				}
			default:
				bad = append(bad, fmt.Sprintf("%d: %s", resp.StatusCode, b))
			}
		})
	}
	wg.Wait()
	close(stop)
	t.Logf("answers by status: %v", counts)
	if len(bad) > 0 {
		t.Errorf("%d bad answers, e.g. %s", len(bad), bad[0])
	}
	if n := <-dbFiles; n > 3*16 {
		t.Errorf("the database files were open %d times at once; the pool allows 16 connections", n)
	}
}

// maxOpenFilesUnder samples this process's open files until stop and
// returns the most that lay under dir at once.
func maxOpenFilesUnder(dir string, stop <-chan struct{}) int {
	most := 0
	for {
		select {
		case <-stop:
			return most
		default:
		}
		fds, _ := os.ReadDir("/proc/self/fd")
		n := 0
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(target, dir) {
				n++
			}
		}
		most = max(most, n)
		time.Sleep(5 * time.Millisecond) // a sampling pace, not an assertion
	}
}

func TestLoadCredentialsWithToken(t *testing.T) {
	env := map[string]string{"BBIMPORT_ADMIN_USER": "admin", "BBIMPORT_ADMIN_PASSWORD": "pw", "BBIMPORT_ADMIN_TOKEN": "BBDC-env"}
	getenv := func(k string) string { return env[k] }
	if c, err := server.LoadCredentials("", getenv); err != nil || c.Token != "BBDC-env" {
		t.Errorf("env: %+v %v", c, err)
	}
	env["BBIMPORT_ADMIN_TOKEN"] = "two words"
	if _, err := server.LoadCredentials("", getenv); err == nil || !strings.Contains(err.Error(), "BBIMPORT_ADMIN_TOKEN holds spaces") {
		t.Errorf("token with a space: %v", err)
	}
	for _, c := range []struct{ content, token, err string }{
		{"root:pw\ntoken=BBDC-file\n", "BBDC-file", ""},
		{"# the admin\ntoken=BBDC-first\nroot:pw\n", "BBDC-first", ""},
		{"root:pw\n", "", ""},
		{"root:pw\nother:pw\n", "", "neither token=<token> nor a # comment"},
		{"token=BBDC-only\n", "", "holds no user:password line"},
	} {
		file := filepath.Join(t.TempDir(), "creds")
		if err := os.WriteFile(file, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := server.LoadCredentials(file, getenv)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want an error saying %q", c.content, err, c.err)
			}
			continue
		}
		if err != nil || got.User != "root" || got.Password != "pw" || got.Token != c.token {
			t.Errorf("%q: %+v %v", c.content, got, err)
		}
	}
}
