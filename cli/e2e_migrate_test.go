package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The console's Migrate screen end to end, on the real binary in an 80x24
// tmux: a source home that imported small.tar, and bbimport serve on
// another home as the target, its import directory on this machine. The
// console is opened with --home (the source) and --url (the target); t
// opens the screen, a selects the first project, enter asks, y starts, and
// the one view follows the steps to the target verified complete. The
// record, the carried archive and the target's import are then on disk.
func TestE2EConsoleMigrate(t *testing.T) {
	bin := consoleBinary(t)
	source := t.TempDir()
	srcImport := filepath.Join(source, "shared", "data", "migration", "import")
	if err := os.MkdirAll(srcImport, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join("..", "testdata", "samples", "small.tar"), filepath.Join(srcImport, "small.tar"))
	if out, err := exec.Command(bin, "import", "small.tar", "--home", source).CombinedOutput(); err != nil {
		t.Fatalf("import small.tar: %v\n%s", err, out)
	}
	target := t.TempDir()
	tgtImport := filepath.Join(target, "shared", "data", "migration", "import")
	if err := os.MkdirAll(tgtImport, 0o755); err != nil {
		t.Fatal(err)
	}
	url := startServe(t, bin, target)
	state := t.TempDir()

	s := startTmux(t, []string{bin, "--home", source, "--url", url, "--user", "admin", "--import-dir", tgtImport, "--no-notify"},
		[]string{"XDG_STATE_HOME=" + state, "BITBUCKET_PASSWORD=pw"})
	s.tmux("resize-window", "-x", "80", "-y", "24")
	s.wait("as admin")
	s.keys("t")
	// The source offered first is the home: it can export.
	s.wait("Migrate · from the source to the target", "home on this machine", "[ ] PULS", "Migrations (0)")
	s.keys("a")
	s.wait("4 selected")
	s.keys("Enter")
	s.wait("Start the migration?", "What          PULS/*", "Projects      2: PULS, ~MARGARET7")
	s.keys("y")
	s.wait("Migration ", "✓ checksums", "✓ verify     complete: 6 of 6 repositories", "Everything in the archive is on the target.")

	records, err := filepath.Glob(filepath.Join(state, "bbimport", "migrations", "*.json"))
	if err != nil || len(records) != 1 {
		t.Fatalf("migration records %v (%v), want one", records, err)
	}
	b, err := os.ReadFile(records[0])
	if err != nil {
		t.Fatal(err)
	}
	var m migration
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.State != migrationComplete || m.ImportJob == 0 || m.Carry == nil || m.Carry.SourceMD5 != m.Carry.TargetMD5 || m.To.URL != url {
		t.Fatalf("record: %s", b)
	}
	if _, err := os.Stat(filepath.Join(tgtImport, m.Archive)); err != nil {
		t.Fatalf("the carried archive: %v", err)
	}

	s.keys("Escape")
	s.wait("Migrations (1)", m.ID+"  complete")
	s.keys("q")
	s.wait("[exit 0]")
}
