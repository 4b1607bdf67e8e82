package client_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"bbimport/client"
	"bbimport/importer"
	"bbimport/internal/backendtest"
	"bbimport/internal/restschema"
	"bbimport/server"
	"bbimport/wire"
)

// TestConformance runs the suite through the whole remote path: the client,
// the REST server and the in-process importer behind it. Nothing here can
// pause a job, so the suite cancels a big archive instead. It runs twice:
// against serve, and against serve without bbimport's namespace, as a
// real Bitbucket answers (the client then lists jobs from its state file
// and by discovery). Every answer under /rest/api is then checked against
// Bitbucket's schema: no field outside it.
func TestConformance(t *testing.T) {
	schema := restschema.Load(t, "../testdata/rest/bitbucket-8.19.schema.json")
	for _, asBitbucket := range []bool{false, true} {
		name := "serve"
		if asBitbucket {
			name = "without-namespace"
		}
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			backendtest.Run(t, backendtest.Harness{Remote: true, New: func(t *testing.T) backendtest.Target {
				in, err := importer.Open(importer.Options{Home: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { in.Close() })
				srv, err := server.New(server.Config{Importer: in, Admin: server.Credentials{User: "admin", Password: "pw"}, Version: "0.9.0"})
				if err != nil {
					t.Fatal(err)
				}
				var h http.Handler = srv
				if asBitbucket {
					h = withoutNamespace(srv)
				}
				hs := httptest.NewServer(rec.wrap(h))
				t.Cleanup(hs.Close)
				c, err := client.New(client.Config{BaseURL: hs.URL, User: "admin", Password: "pw", StateDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Check(t.Context()); err != nil {
					t.Fatal(err)
				}
				return backendtest.Target{Backend: c, ImportDir: in.ImportDir()}
			}})
			rec.check(t, schema, asBitbucket)
		})
	}
}

// withoutNamespace is serve as a real Bitbucket answers: no bbimport
// namespace, 404 with an HTML page there.
func withoutNamespace(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, wire.ExtensionPrefix) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "<html><head><title>Page not found - Bitbucket</title></head></html>")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// answer is one answer the server gave.
type answer struct {
	method, path string
	status       int
	body         []byte
}

// recorder keeps every answer a handler gives.
type recorder struct {
	mu      sync.Mutex
	answers []answer
}

type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capture) WriteHeader(status int) { c.status = status; c.ResponseWriter.WriteHeader(status) }
func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &capture{ResponseWriter: w}
		h.ServeHTTP(c, r)
		rec.mu.Lock()
		rec.answers = append(rec.answers, answer{r.Method, r.URL.Path, c.status, c.body.Bytes()})
		rec.mu.Unlock()
	})
}

// shapes names the schema definition of each answer under /rest/api by
// its path below the prefix; errors and 204 answers are told by status.
var shapes = []struct {
	path *regexp.Regexp
	def  string
}{
	{regexp.MustCompile(`^/application-properties$`), "RestApplicationProperties"},
	{regexp.MustCompile(`^/migration/(imports|exports)(/[^/]+)?$`), "RestJob"},
	{regexp.MustCompile(`^/migration/(imports|exports)/[^/]+/messages$`), "PageOfRestJobMessage"},
	{regexp.MustCompile(`^/migration/exports/preview$`), "RestScopesExample"},
	{regexp.MustCompile(`^/projects/[^/]+$`), "RestProject"},
	{regexp.MustCompile(`^/projects$`), "PageOfRestProject"},
	{regexp.MustCompile(`^/repos$`), "PageOfRestRepository"},
}

func (rec *recorder) check(t *testing.T, s *restschema.Doc, asBitbucket bool) {
	t.Helper()
	checked := map[string]int{}
	for _, a := range rec.answers {
		if strings.HasPrefix(a.path, wire.ExtensionPrefix) {
			checked["namespace"]++
			continue
		}
		var rest string
		for _, p := range wire.Prefixes {
			if r, ok := strings.CutPrefix(a.path, p); ok {
				rest = r
			}
		}
		if rest == "" {
			t.Errorf("%s %s: an answer outside the API", a.method, a.path)
			continue
		}
		def := ""
		switch {
		case a.status == http.StatusNoContent:
			if len(a.body) != 0 {
				t.Errorf("%s %s: 204 with a body %q", a.method, a.path, a.body)
			}
			continue
		case a.status >= 400:
			def = "RestErrors"
		default:
			for _, sh := range shapes {
				if sh.path.MatchString(rest) {
					def = sh.def
				}
			}
		}
		if def == "" {
			t.Errorf("%s %s (%d): no schema names this answer; add it to the test", a.method, a.path, a.status)
			continue
		}
		checked[def]++
		for _, p := range s.Validate(def, a.body) {
			t.Errorf("%s %s (%d): %s\n%s", a.method, a.path, a.status, p, a.body)
		}
	}
	want := []string{"RestApplicationProperties", "RestJob", "PageOfRestJobMessage", "RestErrors"}
	if !asBitbucket {
		want = append(want, "namespace")
	}
	for _, def := range want {
		if checked[def] == 0 {
			t.Errorf("no answer checked against %s: %v", def, checked)
		}
	}
	if asBitbucket && checked["namespace"] == 0 {
		t.Errorf("the client never looked for bbimport's namespace: %v", checked)
	}
	t.Logf("answers checked: %v", checked)
}
