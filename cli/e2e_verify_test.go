package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/model"
)

// The Verify pane end to end, on the real binary in a 100x30 tmux: an
// import canceled in its first fork hierarchy's git data (held there by the
// git wrapper, so the cancel lands at a known checkpoint), verified; its
// remainder archive written from the pane, imported, and verified in turn.
func TestE2EConsoleVerify(t *testing.T) {
	bin := consoleBinary(t)
	realGit := gitOrSkip(t)

	// smallArchive holds two fork hierarchies: ORBI/api (forked to
	// ~KAREN1/api) and ORBI/web (forked to ORBI/web-fork1), 3 pull
	// requests in each repository.
	home, name := homeWithArchive(t, smallArchive)
	t.Cleanup(func() { stopRunner(t, home) })
	hold := gitHold(t, realGit)
	t.Cleanup(func() { _ = os.WriteFile(filepath.Join(hold, "release"), nil, 0o644) })
	s := startTmux(t, []string{bin, "--home", home}, []string{"PATH=" + hold + string(os.PathListSeparator) + os.Getenv("PATH")})
	// The brief's size, smaller than startTmux's: the pane's list and its
	// dialog must read at it.
	s.tmux("resize-window", "-x", "100", "-y", "30")

	s.wait("Preview · " + name)
	s.keys("Enter")
	s.wait("Start the import?")
	s.keys("y")
	s.wait("Job 1 · "+name, "RUNNING")
	waitForFile(t, filepath.Join(hold, "held"))
	s.keys("c")
	s.wait("Cancel job 1?")
	s.keys("y")
	s.wait("CANCELING")
	release(t, hold)
	s.wait("■ CANCELED", "v verify")

	// Canceled during ORBI/api's git data: that hierarchy arrived without
	// its pull requests, ORBI/web not at all.
	s.keys("v")
	screen := s.wait("Verify · job 1 · "+name, "✗ 1 fork hierarchy missing, 1 incomplete: 10 differences listed below.")
	requireFields(t, screen,
		"Hierarchies 2 0 1 1",
		"Repositories 4 0 2 2",
		"Pull requests 12 0 12 0",
		"ORBI/api hierarchy incomplete",
		"ORBI/api #1 missing",
		"ORBI/web hierarchy missing",
		"ORBI/web repository missing",
		"ORBI/web-fork1 repository missing",
		"/ filter • w write remainder archive")

	s.keys("/")
	s.tmux("send-keys", "-l", "web")
	screen = s.wait("Differences (3 of 10)", "/ web")
	if strings.Contains(screen, "ORBI/api") || strings.Contains(screen, "KAREN1") {
		t.Fatalf("the filter web left other repositories' differences:\n%s", screen)
	}
	s.keys("Enter")
	s.keys("Escape") // clears the filter
	s.wait("Differences (10)")

	s.keys("w")
	screen = s.wait("Write the remainder archive?", "export-remainder-1.tar")
	requireFields(t, screen,
		// The dialog may wrap after a slash: its names are asserted apart.
		"It holds 2 fork hierarchies, 4 repositories and 12 pull requests of export.tar:",
		"api, ORBI/web.",
		"the next free one): ORBI → ORBI1.",
		"It reuses 1 personal project: ~KAREN1.",
		"Imported again whole, beside the partial copy on the target: ORBI/api (1 incomplete hierarchy).")
	s.keys("y")
	s.wait("Wrote export-remainder-1.tar (4 repositories, 12 pull requests): enter imports it.",
		"▸ export-remainder-1.tar", "Preview · export-remainder-1.tar")

	// The file on disk is an archive of both hierarchies, whole.
	dir := filepath.Join(home, "shared", "data", "migration", "import")
	out, err := exec.Command(bin, "inspect", filepath.Join(dir, "export-remainder-1.tar"), "--json").Output()
	if err != nil {
		t.Fatalf("inspect the remainder: %v", err)
	}
	var summary model.ArchiveSummary
	if err := json.Unmarshal(out, &summary); err != nil {
		t.Fatalf("inspect --json printed %q: %v", out, err)
	}
	if summary.Repositories != 4 || len(summary.Hierarchies) != 2 || summary.PullRequests.Total != 12 {
		t.Errorf("the remainder holds %+v, want both hierarchies: 4 repositories, 12 pull requests", summary)
	}

	s.keys("Enter")
	s.wait("Start the import?")
	s.keys("y")
	s.wait("Job 2 · export-remainder-1.tar", "✓ COMPLETED", "v verify")

	// Job 2 against its own archive, the remainder, following its renames
	// (ORBI → ORBI1): everything arrived.
	s.keys("v")
	screen = s.wait("Verify · job 2 · export-remainder-1.tar", "✓ Everything in the archive is on the target.")
	requireFields(t, screen,
		"Hierarchies 2 2 0 0",
		"Repositories 4 4 0 0",
		"Pull requests 12 12 0 0",
		"Differences (0)")
	if strings.Contains(screen, "w write") {
		t.Errorf("w offered with nothing to write:\n%s", screen)
	}
	s.keys("Escape")
	s.wait("Job 2 · export-remainder-1.tar")
	s.keys("q")
	s.wait("[exit 0]")
}

// The same pane through serve (--url): small.tar imported whole verifies
// complete, its renames and all, by the REST calls.
func TestE2EConsoleVerifyThroughServe(t *testing.T) {
	bin := consoleBinary(t)
	home, dir := e2eHome(t, bin)
	url := startServe(t, bin, home)
	s := startTmux(t, []string{bin, "--url", url, "--user", "admin", "--import-dir", dir},
		[]string{"BITBUCKET_PASSWORD=pw", "XDG_STATE_HOME=" + t.TempDir()})
	s.tmux("resize-window", "-x", "100", "-y", "30")
	s.wait("Preview · small.tar")
	s.keys("Enter")
	s.wait("Start the import?")
	s.keys("y")
	s.wait("Job 1 · small.tar", "✓ COMPLETED", "v verify")
	s.keys("v")
	screen := s.wait("Verify · job 1 · small.tar", "✓ Everything in the archive is on the target.")
	requireFields(t, screen, "Pull requests 96 96 0 0", "Differences (0)")
	s.keys("q")
	s.wait("[exit 0]")
}

// requireFields fails unless the screen, its words joined by single spaces
// (borders and padding dropped, lines run together), holds each text.
func requireFields(t *testing.T, screen string, want ...string) {
	t.Helper()
	var words []string
	for _, l := range strings.Split(screen, "\n") {
		words = append(words, strings.Fields(strings.Trim(l, "│ "))...)
	}
	text := strings.Join(words, " ")
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Fatalf("the screen lacks %q:\n%s", w, screen)
		}
	}
}
