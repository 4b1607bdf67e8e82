package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A home its reader cannot write (another admin's, or one mounted
// read-only) can still be listed: reading needs no write. As root the
// commands run as nobody on a home root owns; as anyone else, on a home
// whose write bits are gone.
func TestReadOnlyHomeIsListed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bbimport and imports an archive: not with -short")
	}
	bin := buildBinary(t)
	home, name := homeWithArchive(t, smallArchive)
	if out, errOut, code := runBin(t, bin, "--home", home, "import", name, "--wait"); code != exitOK {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	var cred *syscall.Credential
	if os.Getuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		// nobody must reach the binary and the home through the test's
		// private temporary directories, but may not write there.
		for _, p := range []string{bin, home} {
			for d := filepath.Dir(p); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
	} else {
		err := filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			return os.Chmod(p, info.Mode().Perm()&^0o222)
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = filepath.WalkDir(home, func(p string, d os.DirEntry, _ error) error { return os.Chmod(p, 0o755) })
		})
	}
	run := func(args ...string) (string, int) {
		var out bytes.Buffer
		cmd := exec.Command(bin, append([]string{"--home", home}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"jobs"}, name},
		{[]string{"status", "1"}, "COMPLETED"},
		{[]string{"messages", "1"}, "Import finished"},
	} {
		if out, code := run(c.args...); code != exitOK || !strings.Contains(out, c.want) {
			t.Errorf("%v on a read-only home: exit %d, want 0 and %q\n%s", c.args, code, c.want, out)
		}
	}
	if out, code := run("import", name, "--wait"); code != exitNotStarted || !strings.Contains(out, "read-only for this user") {
		t.Errorf("import on a read-only home: exit %d, want %d and the read-only sentence\n%s", code, exitNotStarted, out)
	}
}
