package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/client"
	"bbimport/model"
	"bbimport/server"
	"bbimport/server/servertest"
	"bbimport/wire"
)

// Every way of pointing at the wrong place says so in a sentence of its
// own, before any job is asked for.
func TestCheckSaysWhatIsWrong(t *testing.T) {
	_, serve := loopback(t)
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	tlsServe := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsServe.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	servePort := strings.TrimPrefix(serve, "http://")

	for _, tc := range []struct {
		name, url, password string
		want                string
		is                  error
	}{
		{"unresolvable", "http://bitbukcet.invalid:7990", "pw",
			"reach http://bitbukcet.invalid:7990: no host named bitbukcet.invalid can be found (", nil},
		{"closed port", "http://" + closed, "pw",
			"reach http://" + closed + ": nothing is listening at " + closed + " (connection refused); check the port in --url and that the server is running", nil},
		{"https against http", "https://" + servePort, "pw",
			"reach https://" + servePort + ": this server speaks http: use http://" + servePort, nil},
		{"http against https", strings.Replace(tlsServe.URL, "https:", "http:", 1), "pw",
			strings.Replace(tlsServe.URL, "https:", "http:", 1) + ": this server speaks https: use " + tlsServe.URL, nil},
		{"wrong context path", serve + "/bitbucket", "pw",
			serve + "/bitbucket answers, but not as Bitbucket: /rest/api/1.0/application-properties is not found there (HTTP 404 Not Found); the context path /bitbucket looks wrong", nil},
		{"not Bitbucket", plain.URL, "pw",
			plain.URL + " answers, but not as Bitbucket", nil},
		{"wrong password", serve, "nope",
			serve + " refused the password of user admin (HTTP 401 Unauthorized): check the user and password", client.ErrCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := client.New(client.Config{BaseURL: tc.url, User: "admin", Password: tc.password, StateDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Check(context.Background())
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("the admin reads\n  %v\nwant\n  %s…", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v is not %v", err, tc.is)
			}
			if err != nil && strings.Count(err.Error(), "looks wrong")+strings.Count(err.Error(), "check --url") > 1 {
				t.Errorf("said twice: %v", err)
			}
		})
	}
	c := dial(t, serve, "pw", t.TempDir())
	if p, err := c.Check(context.Background()); err != nil || p.DisplayName != server.DisplayName {
		t.Errorf("check of serve with the right password: %+v %v", p, err)
	}
}

// Bitbucket answers 401 both for a wrong password and for a user without
// global ADMIN: a call any signed-in user may make tells them apart.
func TestCheckTellsNotAdminFromBadPassword(t *testing.T) {
	_, serve := loopback(t)
	target, err := http.NewRequest(http.MethodGet, serve, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A Bitbucket where ada (password ada) is a user, not an admin.
	bb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, _ := r.BasicAuth()
		if r.URL.Path == wire.Prefix+wire.PathUsers && user == "ada" && pw == "ada" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"size":0,"limit":1,"isLastPage":true,"start":0,"values":[]}`))
			return
		}
		r.URL.Host, r.URL.Scheme = target.URL.Host, "http"
		r.RequestURI = ""
		r.Host = target.URL.Host
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer bb.Close()
	for user, want := range map[string]error{"ada": client.ErrNotAdmin, "eve": client.ErrCredentials} {
		c, err := client.New(client.Config{BaseURL: bb.URL, User: user, Password: "ada", StateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Check(context.Background())
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", user, err, want)
		}
		if user == "ada" && (err == nil || err.Error() != "user ada signs in to "+bb.URL+" but is not a global admin: the migration API needs global ADMIN permission; use an admin's account") {
			t.Errorf("not an admin: %v", err)
		}
	}
}

// Against a Bitbucket (serve without its namespace), the client lists the
// jobs it started, from its state file, and finds one started with curl
// past them by discovery; a start refused because that job runs names it.
func TestJobsDiscoveredWithoutNamespace(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.tar", "b.tar", "c.tar"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("archive"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fake := servertest.New(dir)
	srv, err := server.New(server.Config{Importer: fake, Admin: server.Credentials{User: "admin", Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(withoutNamespace(srv))
	defer hs.Close()
	state := t.TempDir()
	ctx := context.Background()

	mine, err := dial(t, hs.URL, "pw", state).Start(ctx, "a.tar")
	if err != nil {
		t.Fatal(err)
	}
	fake.Finish(mine.ID, model.StateCompleted)
	req, err := http.NewRequest(http.MethodPost, hs.URL+wire.Prefix+wire.PathImports, strings.NewReader(`{"archivePath":"b.tar"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", "pw")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("curl's start: %v %v", resp, err)
	}
	resp.Body.Close()

	later := dial(t, hs.URL, "pw", state)
	jobs, err := later.KnownJobs(ctx)
	if err != nil || len(jobs) != 2 || jobs[0].ID != mine.ID+1 || jobs[1].ID != mine.ID || jobs[1].Archive != "a.tar" || jobs[0].Archive != "" {
		t.Fatalf("known jobs %+v %v; want curl's job found past job %d, then job %d of a.tar", jobs, err, mine.ID, mine.ID)
	}
	_, err = later.Start(ctx, "c.tar")
	var running *model.RunningImport
	if !errors.As(err, &running) || running.JobID != mine.ID+1 || !errors.Is(err, model.ErrImportRunning) {
		t.Errorf("start while curl's job runs: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "job 2 is importing") {
		t.Errorf("the sentence names the job: %v", err)
	}
	// The discovered job is remembered: another client finds it without
	// searching from the start.
	b, err := os.ReadFile(filepath.Join(state, "jobs.json"))
	if err != nil || !strings.Contains(string(b), `"discovered": true`) {
		t.Errorf("state file %s %v", b, err)
	}
}
