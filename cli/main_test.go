package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// TestMain lets the test binary stand in for bbimport as the runner of the
// imports its in-process commands start: Start runs os.Executable()
// __runner, which is this binary under test. It also removes the bbimport
// binary that buildBinary built for this run.
func TestMain(m *testing.M) {
	// With BBIMPORT_TEST_AS_MAIN set it is bbimport whatever the command
	// (the migrate tests run serve with it rather than build a binary).
	if len(os.Args) > 1 && (os.Args[1] == runnerCommand || os.Args[1] == migrateRunnerCommand || os.Getenv("BBIMPORT_TEST_AS_MAIN") != "") {
		os.Exit(Main(nil))
	}
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// built is the bbimport binary of this test run: linking it takes seconds
// on a loaded machine, and a dozen tests run it as a child process.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// consoleBinary skips a console end-to-end test where it cannot run (no
// tmux, or -short: it builds the binary and drives it in tmux) and returns
// the binary it drives.
func consoleBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (CI installs it): the console's end-to-end test drives it in tmux")
	}
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux: not with -short")
	}
	return buildBinary(t)
}

// gitOrSkip is the real git, which the tests' git wrapper (gitHold) hands
// on to; a test that holds an import in its git data skips without it.
func gitOrSkip(t *testing.T) string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	return git
}

// buildBinary builds bbimport once per test run, for tests that run it as
// a child process; every caller gets the same file and must not change it.
func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "bbimport-cli-test-")
		if err != nil {
			built.err = err
			return
		}
		built.dir, built.bin = dir, filepath.Join(dir, "bbimport")
		if out, err := exec.Command("go", "build", "-o", built.bin, "..").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}
