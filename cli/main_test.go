package cli

import (
	"os"
	"testing"
)

// TestMain lets the test binary stand in for bbimport as the runner of the
// imports its in-process commands start: Start runs os.Executable()
// __runner, which is this binary under test.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == runnerCommand || os.Args[1] == migrateRunnerCommand) {
		os.Exit(Main(nil))
	}
	os.Exit(m.Run())
}
