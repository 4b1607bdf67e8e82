package cli

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The errors a new admin meets first are one sentence each that says what
// to do, as bbimport prints them on stderr: these run the real binary.
func TestErrorSentencesSayWhatToDo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bbimport: not with -short")
	}
	bin := buildBinary(t)

	t.Run("unreadable import directory", func(t *testing.T) {
		home, name := homeWithArchive(t, smallArchive)
		dir := filepath.Join(home, "shared", "data", "migration", "import")
		cred := otherUser(t, home, bin)
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if cred == nil {
			if err := os.Chmod(dir, 0o000); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		}
		_, errOut, code := runAs(t, cred, bin, "--home", home, "--plain")
		wantSentence(t, "console", errOut, code, exitNotStarted,
			"import directory "+dir+": permission denied: owned by ", "with mode drwx------", "chmod a+rx "+dir)
		if strings.Count(errOut, "import directory") != 1 {
			t.Errorf("the import directory is named more than once:\n%s", errOut)
		}
		_, errOut, code = runAs(t, cred, bin, "--home", home, "import", name)
		wantSentence(t, "import", errOut, code, exitNotStarted,
			"permission denied: the directory "+dir+" on the way is owned by ", "chmod a+x "+dir)
	})

	t.Run("unreadable archive", func(t *testing.T) {
		home, name := homeWithArchive(t, smallArchive)
		path := filepath.Join(home, "shared", "data", "migration", "import", name)
		cred := otherUser(t, home, bin)
		mode := os.FileMode(0o600)
		if cred == nil {
			mode = 0
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := runAs(t, cred, bin, "inspect", path)
		wantSentence(t, "inspect", errOut, code, exitFailed,
			path+": permission denied: owned by ", "not readable by", "chmod a+r")
		if strings.Contains(errOut, "open archive") {
			t.Errorf("the cause is said twice:\n%s", errOut)
		}
	})

	t.Run("port in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		cmd := exec.Command(bin, "--home", t.TempDir(), "serve", "--listen", ln.Addr().String())
		cmd.Env = append(os.Environ(), "BBIMPORT_ADMIN_USER=admin", "BBIMPORT_ADMIN_PASSWORD=pw")
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		code := 0
		var ee *exec.ExitError
		if err := cmd.Run(); errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		wantSentence(t, "serve", errOut.String(), code, exitNotStarted, ln.Addr().String(), "in use", "choose another address with --listen")
	})

	t.Run("truncated archive", func(t *testing.T) {
		path, _ := generated(t)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(t.TempDir(), "cut.tar")
		if err := os.WriteFile(cut, data[:len(data)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := runBin(t, bin, "inspect", cut)
		wantSentence(t, "inspect", errOut, code, exitFailed, "archive is truncated", "copy it again from the source")
	})

	t.Run("import aborted by a damaged member", func(t *testing.T) {
		home, name := homeWithArchive(t, smallArchive)
		damageGitData(t, filepath.Join(home, "shared", "data", "migration", "import", name))
		_, _, code := runBin(t, bin, "--home", home, "import", name, "--wait")
		out, _, _ := runBin(t, bin, "--home", home, "messages", "1", "--severity", "ERROR")
		if code != exitFailed || !strings.Contains(out, "Import aborted: read archive "+name+": ") {
			t.Errorf("import of a damaged archive: exit %d, want %d and the archive named once\n%s", code, exitFailed, out)
		}
	})
}

// wantSentence checks that a command exited with code and said every one
// of want on stderr, once, as one line.
func wantSentence(t *testing.T, what, errOut string, code, wantCode int, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			t.Errorf("%s: stderr lacks %q:\n%s", what, w, errOut)
		}
	}
	if code != wantCode {
		t.Errorf("%s: exit %d, want %d", what, code, wantCode)
	}
}

// otherUser returns the credential of nobody when the tests run as root,
// who reads every file, and gives nobody the home and the binary; nil
// otherwise, when the files' modes refuse the user running the tests.
func otherUser(t *testing.T, home, bin string) *syscall.Credential {
	t.Helper()
	if os.Getuid() != 0 {
		return nil
	}
	for _, p := range []string{bin, home} {
		for d := filepath.Dir(p); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	// nobody may write the home; the import directory and the archive stay
	// root's, for a test to keep from nobody.
	if err := filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if filepath.Base(p) == "import" || filepath.Base(filepath.Dir(p)) == "import" {
			return nil
		}
		return os.Lchown(p, 65534, 65534)
	}); err != nil {
		t.Fatal(err)
	}
	return &syscall.Credential{Uid: 65534, Gid: 65534}
}

// runAs is runBin as the user cred names (nil: this one).
func runAs(t *testing.T, cred *syscall.Credential, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader("")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// damageGitData spoils the first header of the first inner git tar of the
// archive at path: the start check seeks over that member's bytes, and the
// import, which reads them, aborts.
func damageGitData(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatal("no objects.atl.tar in the archive")
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(h.Name, "objects.atl.tar") {
			continue
		}
		// The reader stands at the member's data.
		at, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("XXXX"), at+10); err != nil {
			t.Fatal(err)
		}
		return
	}
}
