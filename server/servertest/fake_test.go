package servertest_test

import (
	"testing"

	"bbimport/internal/backendtest"
	"bbimport/server/servertest"
)

// TestConformance holds the fake to what the importer does. Its jobs move
// only when told, so holding one needs nothing.
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{New: func(t *testing.T) backendtest.Target {
		f := servertest.New(t.TempDir())
		return backendtest.Target{Backend: f, ImportDir: f.ImportDir, Step: f.Step, Hold: servertest.Held}
	}})
}
