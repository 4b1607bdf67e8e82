package client

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// A proxy that redirects http to https (301) must not turn the POSTs that
// start and cancel an import into GETs: Go's client follows a 301, 302 or
// 303 with a GET, which Bitbucket answers 405. The admin is told where the
// server points instead; GETs still follow the redirect.
func TestRedirectDoesNotTurnPostIntoGet(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/rest/bbimport/") {
			http.NotFound(w, r) // a Bitbucket: no bbimport namespace
			return
		}
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(strings.ReplaceAll(bbJob, "\n", "")))
	}))
	defer target.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	defer front.Close()
	c := newTestClient(t, Config{BaseURL: front.URL + "/bitbucket"})
	ctx := context.Background()

	_, err := c.Start(ctx, "a.tar")
	want := "start the import of a.tar: the server answered HTTP 301 Moved Permanently with "
	hint := "; it redirects to " + target.URL + "/bitbucket: give that address as --url"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), hint) {
		t.Errorf("start through a redirect: the admin sees\n  %v\nwant\n  %s…%s", err, want, hint)
	}
	err = c.Cancel(ctx, 7)
	if err == nil || !strings.HasPrefix(err.Error(), "cancel import job 7: the server answered HTTP 301") || !strings.HasSuffix(err.Error(), hint) {
		t.Errorf("cancel through a redirect: %v", err)
	}
	if job, err := c.Job(ctx, 7); err != nil || job.ID != 7 {
		t.Errorf("a GET follows the redirect: %+v %v", job, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, "|") != "GET /bitbucket/rest/api/1.0/migration/imports/7" {
		t.Errorf("the redirect target got %q; a POST must not arrive there as a GET", seen)
	}
}

// When the answer to the start is lost, the job id never reaches the
// client, so `bbimport jobs` (the jobs this client recorded) cannot list
// the job; the sentence must not send the admin there alone.
func TestLostStartAnswerSaysHowToFindTheJob(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	c := newTestClient(t, Config{BaseURL: srv.URL})
	_, err := c.Start(context.Background(), "a.tar")
	want := "; the server may have started the import, but its job id never came back, so `bbimport jobs` cannot list it; " +
		"before starting again, try `bbimport status` with the ids after the newest one `bbimport jobs` shows"
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("the admin sees\n  %v\nwant it to end\n  %s", err, want)
	}
	if jobs, lerr := c.jobs.list(); lerr != nil || len(jobs) != 0 {
		t.Errorf("recorded jobs %v %v", jobs, lerr)
	}
}

// The --insecure warning goes to stderr and logs: it must not repeat a
// password the admin left in --url.
func TestInsecureWarningHidesURLPassword(t *testing.T) {
	var warned bytes.Buffer
	warnings = &warned
	defer func() { warnings = os.Stderr }()
	newTestClient(t, Config{BaseURL: "https://admin:s3cret@bb.example.com/bitbucket", Insecure: true})
	want := "bbimport: warning: --insecure: the certificate of https://bb.example.com/bitbucket is not checked; anyone on the network path can read the password\n"
	if warned.String() != want {
		t.Errorf("warning %q, want %q", warned.String(), want)
	}
}
