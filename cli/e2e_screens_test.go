package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// The console's overlays and queue end to end, on the real binary in an
// 80x24 tmux: two archives queued; while the first is held in its git
// data, the help and then the quit dialog over it (the dialog shows and
// takes the keys, closing it shows the help again); once released, the
// console starts the second archive itself.
func TestE2EConsoleQueueAndOverlays(t *testing.T) {
	bin := consoleBinary(t)
	realGit := gitOrSkip(t)
	home, _ := e2eHome(t, bin)
	t.Cleanup(func() { stopRunner(t, home) })
	hold := gitHold(t, realGit)
	t.Cleanup(func() { _ = os.WriteFile(filepath.Join(hold, "release"), nil, 0o644) })
	s := startTmux(t, []string{bin, "--home", home, "--no-notify"},
		[]string{"PATH=" + hold + string(os.PathListSeparator) + os.Getenv("PATH"), "XDG_STATE_HOME=" + t.TempDir()})
	s.tmux("resize-window", "-x", "80", "-y", "24")

	s.wait("Preview · small.tar")
	s.keys("Space", "j", "Space")
	s.wait("Archives (3) · 2 queued", "1 small.tar", "2 collide.tar")
	s.keys("Enter")
	s.wait("Import 2 archives one after another?", "1. small.tar", "2. collide.tar")
	s.keys("y")
	s.wait("Job 1 · small.tar", "queue: next collide.tar")
	waitForFile(t, filepath.Join(hold, "held"))

	s.keys("?")
	s.wait("Keys (? or esc closes)")
	s.keys("q")
	s.wait("Quit the console?", "the importer starts the queue's 1 waiting")
	s.keys("n")
	s.wait("Keys (? or esc closes)")
	s.keys("Escape")
	s.wait("Job 1 · small.tar", "● RUNNING")

	release(t, hold)
	s.wait("Job 2 · collide.tar", "✓ COMPLETED")
	s.keys("b")
	s.wait("Archives (3)")
	s.keys("w")
	s.wait("No import is running")
	s.keys("q")
	s.wait("[exit 0]")
}
