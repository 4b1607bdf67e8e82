package ui

import (
	"testing"

	"bbimport/internal/backendtest"
	"bbimport/server/servertest"
)

// TestFakeConformance holds the console's fake to what the importer does:
// with nothing scripted, it is a backend like the others.
func TestFakeConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{New: func(t *testing.T) backendtest.Target {
		f := newFakeBackendIn(t.TempDir())
		return backendtest.Target{Backend: f, ImportDir: f.ImportDir, Step: f.Step, Hold: servertest.Held}
	}})
}
