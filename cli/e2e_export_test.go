package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The console's Export screen end to end, on the real binary in an 80x24
// tmux: a home that imported small.tar; e opens the screen, a selects the
// first project, enter shows the preview as a question, y starts the
// export and the job view follows it to COMPLETED; the archive is then on
// disk, listed in the archives pane, and removed there after a confirm.
func TestE2EConsoleExport(t *testing.T) {
	bin := consoleBinary(t)
	home, _ := e2eHome(t, bin)
	if out, err := exec.Command(bin, "import", "small.tar", "--home", home).CombinedOutput(); err != nil {
		t.Fatalf("import small.tar: %v\n%s", err, out)
	}
	s := startTmux(t, []string{bin, "--home", home, "--no-notify"}, []string{"XDG_STATE_HOME=" + t.TempDir()})
	s.tmux("resize-window", "-x", "80", "-y", "24")

	s.wait("Preview · small.tar")
	s.keys("e")
	s.wait("Export · pick projects and repositories", "[ ] PULS", "export ", "import ", "small.tar")
	s.keys("a")
	// PULS/api has a fork in ~MARGARET7: the hierarchy comes whole.
	s.wait("4 selected", "Projects      2: PULS, ~MARGARET7", "Size          ✓ about")
	s.keys("Enter")
	s.wait("Start the export?", "Into", "/shared/data/migration/export", "~MARGARET7  api web")
	s.keys("y")
	s.wait("Job 2 · Bitbucket_export_2.tar", "✓ COMPLETED")

	archive := filepath.Join(home, "shared", "data", "migration", "export", "Bitbucket_export_2.tar")
	if fi, err := os.Stat(archive); err != nil || fi.Size() == 0 {
		t.Fatalf("the export's archive %s: %v", archive, err)
	}

	s.keys("b")
	s.wait("Archives (3)")
	s.keys("e")
	s.wait("Export · pick projects and repositories", "Bitbucket_export_2.tar")
	s.keys("Tab", "j", "x")
	s.wait("Remove the archive?", "Bitbucket_export_2.tar (")
	s.keys("y")
	s.wait("Removed Bitbucket_export_2.tar.")
	if _, err := os.Stat(archive); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the removed archive %s: %v", archive, err)
	}
	s.keys("q")
	s.wait("[exit 0]")
}
