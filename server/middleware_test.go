package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"bbimport/model"
	"bbimport/server/servertest"
)

// stuck is an importer whose Project call waits until release is closed,
// so that a test can hold every slot of the server.
type stuck struct {
	*servertest.Fake
	arrived chan struct{}
	release chan struct{}
}

func (s *stuck) Project(ctx context.Context, key string) (model.RestProject, error) {
	s.arrived <- struct{}{}
	<-s.release
	return s.Fake.Project(ctx, key)
}

// A request beyond maxInFlight that finds no slot in time is answered 503
// with Retry-After and the error JSON, and the server recovers after.
func TestFullServerAnswers503(t *testing.T) {
	imp := &stuck{Fake: servertest.New(t.TempDir()), arrived: make(chan struct{}), release: make(chan struct{})}
	srv, err := New(Config{Importer: imp, Admin: Credentials{User: "admin", Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	get := func(path string) (status int, header http.Header, body string) {
		req, _ := http.NewRequest("GET", hs.URL+"/rest/api/1.0"+path, nil)
		req.SetBasicAuth("admin", "pw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	var wg sync.WaitGroup
	for range maxInFlight {
		wg.Go(func() { get("/projects/PRJ") })
		<-imp.arrived
	}
	status, header, body := get("/projects")
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") != "1" ||
		!strings.Contains(body, `"errors":[{"context":null,"message":"The server is handling as many requests as it can`) {
		t.Errorf("full server: %d, Retry-After %q, %s", status, header.Get("Retry-After"), body)
	}
	close(imp.release)
	wg.Wait()
	if status, _, body := get("/projects"); status != http.StatusOK {
		t.Errorf("after the load: %d %s", status, body)
	}
}
