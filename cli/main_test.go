package cli

import (
	"os"
	"testing"
)

// TestMain lets the test binary stand in for bbimport as the runner of the
// imports its in-process commands start: Start runs os.Executable()
// __runner, which is this binary under test.
func TestMain(m *testing.M) {
	// With BBIMPORT_TEST_AS_MAIN set it is bbimport whatever the command
	// (the migrate tests run serve with it rather than build a binary).
	if len(os.Args) > 1 && (os.Args[1] == runnerCommand || os.Args[1] == migrateRunnerCommand || os.Getenv("BBIMPORT_TEST_AS_MAIN") != "") {
		os.Exit(Main(nil))
	}
	os.Exit(m.Run())
}
