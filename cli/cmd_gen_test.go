package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestGenCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.tar")
	args := []string{"gen", "--out", path, "--projects", "1", "--repos", "2", "--forks", "1", "--prs", "4", "--commits", "2", "--blob-kib", "0"}
	out, code, err := runCmd(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %v", code, err)
	}
	summary := regexp.MustCompile(`^.*a\.tar: 2 projects \(1 personal\), 4 repositories \(2 forks\), 16 pull requests \(\d+ open, \d+ merged, \d+ declined\), \d+ comments, \d+ tasks, [\d.]+ KiB in [\d.]+m?s\n$`)
	if !summary.MatchString(out) {
		t.Errorf("summary %q", out)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	_, code, err = runCmd(t, args...)
	if code != exitNotStarted || err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second gen onto the same file: exit %d, %v; want a refusal that names --force", code, err)
	}
	if _, code, err = runCmd(t, append(args, "--force", "--seed", "2")...); code != exitOK {
		t.Fatalf("gen --force: exit %d: %v", code, err)
	}
	second, _ := os.ReadFile(path)
	if string(first) == string(second) {
		t.Error("gen --force --seed 2 left the archive as it was")
	}

	old := filepath.Join(t.TempDir(), "old.tar")
	if _, code, err = runCmd(t, append(args[:2:2], old, "--projects", "1", "--repos", "1", "--prs", "1", "--commits", "1",
		"--archive-version", "1", "--unknown-fields")...); code != exitOK {
		t.Fatalf("gen --archive-version 1: exit %d: %v", code, err)
	}
	if out, code, err = runCmd(t, "inspect", old); code != exitOK || !strings.Contains(out, "archiveVersion 1,") {
		t.Errorf("inspect of a version-1 archive: exit %d, %v:\n%s", code, err, out)
	}
	if _, code, err = runCmd(t, "gen", "--out", filepath.Join(t.TempDir(), "c.tar"), "--archive-version", "3"); code != exitNotStarted ||
		!strings.Contains(err.Error(), "archive version is 3: it must be 1 or 2") {
		t.Errorf("gen --archive-version 3: exit %d, %v", code, err)
	}
	if _, code, err = runCmd(t, "gen"); code != exitNotStarted || !strings.Contains(err.Error(), "--out") {
		t.Errorf("gen without --out: exit %d, %v", code, err)
	}
	if _, code, err = runCmd(t, "gen", "--out", filepath.Join(t.TempDir(), "b.tar"), "--commits", "0"); code != exitNotStarted ||
		!strings.Contains(err.Error(), "commits") {
		t.Errorf("gen --commits 0: exit %d, %v", code, err)
	}
}
