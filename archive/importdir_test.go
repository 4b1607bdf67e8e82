package archive

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A .tar entry that cannot be imported is listed, after the usable ones,
// with the reason an admin acts on.
func TestListArchivesSaysWhyAnEntryIsUnusable(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "good.tar"), make([]byte, 10), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "x.tar"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.tar"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nowhere/gone.tar", filepath.Join(dir, "dangling.tar")); err != nil {
		t.Fatal(err)
	}
	files, err := ListArchives(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Name] = f.Unusable
	}
	want := map[string]string{
		"good.tar":     "",
		"x.tar":        "a directory, not an archive file; an export archive is a single .tar file",
		"pipe.tar":     "a named pipe (FIFO), not an archive file; copy the archive file itself here",
		"dangling.tar": "a broken symbolic link: its target /nowhere/gone.tar does not exist; copy the archive file itself here",
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("%s: unusable %q (listed %v), want %q", name, g, ok, w)
		}
	}
	if files[0].Name != "good.tar" {
		t.Errorf("first listed %s, want the usable good.tar first", files[0].Name)
	}
}

// As a non-root user an unreadable archive names its owner and mode, so
// the admin knows whom to ask and what to change.
func TestListArchivesNamesOwnerAndModeOfUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "locked.tar")
	if err := os.WriteFile(p, make([]byte, 10), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o000); err != nil {
		t.Fatal(err)
	}
	files, err := ListArchives(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	got := files[0].Unusable
	for _, w := range []string{"permission denied", "owned by " + me.Username, "mode ----------"} {
		if !strings.Contains(got, w) {
			t.Errorf("unusable %q lacks %q", got, w)
		}
	}
}
