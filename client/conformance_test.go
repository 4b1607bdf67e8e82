package client_test

import (
	"net/http/httptest"
	"testing"

	"bbimport/client"
	"bbimport/importer"
	"bbimport/internal/backendtest"
	"bbimport/server"
)

// TestConformance runs the suite through the whole remote path: the client,
// the REST server and the in-process importer behind it. Nothing here can
// pause a job, so the suite cancels a big archive instead.
func TestConformance(t *testing.T) {
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
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		c, err := client.New(client.Config{BaseURL: hs.URL, User: "admin", Password: "pw", StateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return backendtest.Target{Backend: c, ImportDir: in.ImportDir()}
	}})
}
