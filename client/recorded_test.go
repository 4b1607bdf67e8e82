package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"bbimport/model"
)

// Answers recorded from Bitbucket Data Center 9.4 and from proxies in
// front of it, replayed at the paths a client calls.
const (
	bbJob = `{"id":7,"state":"RUNNING","type":"com.atlassian.bitbucket.migration.import",
		"progress":{"message":"Importing repository PRJ/golden","percentage":42},
		"startDate":1497657601000,"updatedDate":1497657603000,
		"nodeId":"1bec7499-077a-4b58-b27c-996a9c2187a4",
		"initiator":{"name":"admin","id":1,"slug":"admin","displayName":"Admin","emailAddress":"admin@example.com","active":true,"type":"NORMAL"},
		"someNewField":{"x":1}}`
	bbJobNewState = `{"id":8,"state":"PAUSED","type":"com.atlassian.bitbucket.migration.import","progress":{"percentage":10}}`
	// A first page in millis, a second in ISO date-times; the second lacks
	// nextPageStart although isLastPage is false, as Bitbucket sometimes does.
	bbMessages0 = `{"size":2,"limit":2,"isLastPage":false,"start":0,"nextPageStart":2,"values":[
		{"id":"617","severity":"WARN","subject":"PRJ/golden","text":"Project PRJ renamed to PRJ1","createdDate":1497657601000},
		{"id":"618","severity":"INFO","text":"Job started","createdDate":"1497657602000"}]}`
	bbMessages2 = `{"size":1,"limit":2,"isLastPage":false,"start":2,"values":[
		{"id":"619","severity":"ERROR","subject":"PRJ/golden#12","text":"Pull request 12 failed","createdDate":"2017-06-17T00:00:03.000+0000","extra":true}]}`
	bb401 = `{"errors":[{"context":null,"message":"Authentication failed. Please check your credentials and try again.","exceptionName":"com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"}]}`
	bb404 = `{"errors":[{"context":null,"message":"No migration job with ID 99 exists.","exceptionName":"com.atlassian.bitbucket.migration.NoSuchMigrationJobException"}]}`
	bb409 = `{"errors":[{"context":null,"message":"The job has already finished.","exceptionName":null}]}`
	bb503 = `{"errors":[{"context":null,"message":"Another import is already running.","exceptionName":"com.atlassian.bitbucket.migration.MigrationJobRunningException"}]}`
	bb400 = `{"errors":[{"context":"archivePath","message":"The archive nope.tar does not exist in the import directory.","exceptionName":null}]}`

	nginx502 = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx/1.24.0</center>
</body>
</html>`
	loginPage = `<!DOCTYPE html><html><head><title>Log in - Bitbucket</title></head><body>…</body></html>`
)

type recorded struct {
	status      int
	contentType string
	body        string
}

// replay serves answers by method and path under a context path, counting
// the requests each got.
func replay(t *testing.T, answers map[string]recorded) (*httptest.Server, map[string]*atomic.Int32) {
	t.Helper()
	hits := map[string]*atomic.Int32{}
	for k := range answers {
		hits[k] = &atomic.Int32{}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.RequestURI()
		a, ok := answers[key]
		if !ok && strings.Contains(r.URL.Path, "/rest/bbimport/") {
			// Bitbucket has no bbimport namespace: its 404 page.
			http.NotFound(w, r)
			return
		}
		if !ok {
			t.Errorf("unexpected request %s", key)
			http.NotFound(w, r)
			return
		}
		hits[key].Add(1)
		ct := a.contentType
		if ct == "" {
			ct = "application/json;charset=UTF-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(a.status)
		w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	retryWait = time.Millisecond
	if cfg.User == "" && cfg.Token == "" {
		cfg.User, cfg.Password = "admin", "pw"
	}
	cfg.StateDir = t.TempDir()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const api = "/bitbucket/rest/api/1.0"

func TestRecordedJobAndMessages(t *testing.T) {
	srv, _ := replay(t, map[string]recorded{
		"GET " + api + "/migration/imports/7":                          {200, "", bbJob},
		"GET " + api + "/migration/imports/8":                          {200, "", bbJobNewState},
		"GET " + api + "/migration/imports/7/messages?limit=2&start=0": {200, "", bbMessages0},
		"GET " + api + "/migration/imports/7/messages?limit=2&start=2": {200, "", bbMessages2},
	})
	c := newTestClient(t, Config{BaseURL: srv.URL + "/bitbucket/"})
	ctx := context.Background()

	job, err := c.Job(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != model.StateRunning || job.Progress.Percentage != 42 || job.Initiator.Name != "admin" || job.UpdatedDate != 1497657603000 {
		t.Errorf("job %+v", job)
	}
	if job.Counts != nil {
		t.Errorf("Bitbucket sends no counts, so they are not reported, not %+v", *job.Counts)
	}
	job, err = c.Job(ctx, 8)
	if err != nil || job.State != "PAUSED" || job.State.Finished() {
		t.Errorf("an unknown state must come through as it is and count as unfinished: %+v %v", job, err)
	}

	r := NewMessageReader(c, 7, model.MessageQuery{Limit: 2})
	msgs, err := r.Unseen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3 (and no loop on the page without nextPageStart)", len(msgs))
	}
	want := []time.Time{
		time.Date(2017, 6, 17, 0, 0, 1, 0, time.UTC),
		time.Date(2017, 6, 17, 0, 0, 2, 0, time.UTC),
		time.Date(2017, 6, 17, 0, 0, 3, 0, time.UTC),
	}
	for i, m := range msgs {
		if !m.CreatedDate.Time().Equal(want[i]) {
			t.Errorf("message %s created %v, want %v", m.ID, m.CreatedDate.Time(), want[i])
		}
	}
	if msgs[1].Subject != "" || msgs[2].Subject != "PRJ/golden#12" {
		t.Errorf("subjects %q %q", msgs[1].Subject, msgs[2].Subject)
	}
}

func TestRecordedErrorsReadAsSentences(t *testing.T) {
	srv, hits := replay(t, map[string]recorded{
		"GET " + api + "/migration/imports/1":  {401, "", bb401},
		"GET " + api + "/migration/imports/99": {404, "", bb404},
		// A job this client did not start may be an export: looked for there too.
		"GET " + api + "/migration/exports/99":        {404, "", bb404},
		"POST " + api + "/migration/imports/5/cancel": {409, "", bb409},
		"POST " + api + "/migration/imports":          {503, "", bb503},
		"GET " + api + "/migration/imports/2":         {502, "text/html", nginx502},
		"GET " + api + "/migration/imports/3":         {200, "text/html;charset=UTF-8", loginPage},
		"GET " + api + "/migration/imports/4":         {404, "text/html", "<html><head><title>404 Not Found</title></head></html>"},
	})
	c := newTestClient(t, Config{BaseURL: srv.URL + "/bitbucket"})
	ctx := context.Background()

	cases := []struct {
		name     string
		call     func() error
		sentence string
		sentinel error
	}{
		{"401", func() error { _, err := c.Job(ctx, 1); return err },
			"read import job 1: Authentication failed. Please check your credentials and try again (HTTP 401 Unauthorized); check the user and password; the user needs global ADMIN", nil},
		{"404", func() error { _, err := c.Job(ctx, 99); return err },
			"read import job 99: No migration job with ID 99 exists (HTTP 404 Not Found); check the job id with `bbimport jobs`", model.ErrJobNotFound},
		{"409", func() error { return c.Cancel(ctx, 5) },
			"cancel import job 5: The job has already finished (HTTP 409 Conflict); the job has finished or is being canceled already, so there is nothing to cancel", model.ErrJobFinished},
		{"503", func() error { _, err := c.Start(ctx, "a.tar"); return err },
			"start the import of a.tar: Another import is already running (HTTP 503 Service Unavailable); only one import runs at a time; wait for the running one to finish (see `bbimport jobs`), then start again", model.ErrImportRunning},
		{"502 from a proxy", func() error { _, err := c.Job(ctx, 2); return err },
			`read import job 2: the server answered HTTP 502 Bad Gateway with an HTML page ("502 Bad Gateway"), not Bitbucket's JSON; a proxy in front of Bitbucket could not get an answer from it; check that Bitbucket is running, then try again`, nil},
		{"login page", func() error { _, err := c.Job(ctx, 3); return err },
			`read import job 3: the server answered HTTP 200 OK with an HTML page ("Log in - Bitbucket"), not Bitbucket's JSON; something other than Bitbucket answered (a login page or a proxy); check --url: it must be Bitbucket's base URL, with its context path if it has one (https://host/bitbucket)`, nil},
		{"HTML 404: a wrong URL, not a missing job", func() error { _, err := c.Job(ctx, 4); return err },
			`read import job 4: the server answered HTTP 404 Not Found with an HTML page ("404 Not Found"), not Bitbucket's JSON; check --url: it must be Bitbucket's base URL, with its context path if it has one (https://host/bitbucket)`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.sentence {
				t.Errorf("the admin sees\n  %s\nwant\n  %s", err, tc.sentence)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(%v) is false", tc.sentinel)
			}
			for _, s := range []error{model.ErrJobNotFound, model.ErrJobFinished, model.ErrImportRunning, model.ErrBadArchivePath} {
				if !errors.Is(tc.sentinel, s) && errors.Is(err, s) {
					t.Errorf("error wrongly matches %v", s)
				}
			}
		})
	}
	if n := hits["GET "+api+"/migration/imports/2"].Load(); n != retries+1 {
		t.Errorf("a GET answered 502 was tried %d times, want %d", n, retries+1)
	}
	if n := hits["POST "+api+"/migration/imports"].Load(); n != 1 {
		t.Errorf("the POST that starts an import was sent %d times, want 1", n)
	}
	if n := hits["GET "+api+"/migration/imports/99"].Load(); n != 1 {
		t.Errorf("a 404 was retried: %d tries", n)
	}
}

func TestTokenRefusedSaysWhy(t *testing.T) {
	srv, _ := replay(t, map[string]recorded{"GET " + api + "/migration/imports/1": {401, "", bb401}})
	c := newTestClient(t, Config{BaseURL: srv.URL + "/bitbucket", Token: "BBDC-abc"})
	_, err := c.Job(context.Background(), 1)
	want := "read import job 1: Authentication failed. Please check your credentials and try again (HTTP 401 Unauthorized); the server refused the access token: current Bitbucket versions refuse tokens on the admin endpoints of the migration API, so use --user with a password (BITBUCKET_PASSWORD, ~/.netrc or the prompt) instead"
	if err == nil || err.Error() != want {
		t.Errorf("got %v", err)
	}
}

func TestBadArchivePathMapsBack(t *testing.T) {
	srv, _ := replay(t, map[string]recorded{"POST " + api + "/migration/imports": {400, "", bb400}})
	c := newTestClient(t, Config{BaseURL: srv.URL + "/bitbucket"})
	_, err := c.Start(context.Background(), "nope.tar")
	if !errors.Is(err, model.ErrBadArchivePath) || !strings.HasPrefix(err.Error(), "start the import of nope.tar: The archive nope.tar does not exist in the import directory (HTTP 400 Bad Request); the archive path must name") {
		t.Errorf("got %v", err)
	}
}

// A POST whose answer is lost may have started the import: it is not sent
// again, and the sentence says how to find the job.
func TestLostAnswerToStart(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	c := newTestClient(t, Config{BaseURL: srv.URL})
	_, err := c.Start(context.Background(), "a.tar")
	if err == nil || !strings.HasSuffix(err.Error(), "; the server may have started the import, but its job id never came back, so `bbimport jobs` cannot list it; before starting again, try `bbimport status` with the ids after the newest one `bbimport jobs` shows") {
		t.Errorf("got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "start the import of a.tar: the connection to 127.0.0.1:") {
		t.Errorf("got %v", err)
	}
	if posts.Load() != 1 {
		t.Errorf("POST sent %d times", posts.Load())
	}
}

func TestUnreachableAndTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newTestClient(t, Config{BaseURL: "http://" + addr})
	_, err = c.Start(context.Background(), "a.tar")
	if err == nil || err.Error() != "start the import of a.tar: nothing is listening at "+addr+" (connection refused); check the port in --url and that the server is running" {
		t.Errorf("refused connection: %v", err)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	c = newTestClient(t, Config{BaseURL: slow.URL, Timeout: 50 * time.Millisecond})
	_, err = c.Job(context.Background(), 1)
	if err == nil || err.Error() != "read import job 1: no answer from "+strings.TrimPrefix(slow.URL, "http://")+" in time; check that the server is running and not overloaded, then try again" {
		t.Errorf("timeout: %v", err)
	}
}

func TestBaseURLForms(t *testing.T) {
	for in, want := range map[string]string{
		"https://BB.example.com/":                     "https://bb.example.com",
		"https://bb.example.com/bitbucket":            "https://bb.example.com/bitbucket",
		"http://bb:7990/bitbucket/rest/api/1.0/":      "http://bb:7990/bitbucket",
		"http://bb:7990/rest/api/latest":              "http://bb:7990",
		"https://admin:pw@bb.example.com/bitbucket?x": "https://bb.example.com/bitbucket",
	} {
		got, err := normaliseBaseURL(in)
		if err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := normaliseBaseURL("bb.example.com"); err == nil || !strings.Contains(err.Error(), "not an http:// or https:// URL") {
		t.Errorf("no scheme: %v", err)
	}
}
