package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serve's log stays on stderr in the foreground, goes to --log FILE when
// given, and to <home>/log/serve.log, said once on stderr, when serve runs
// in a terminal's background.
func TestServeLogPlace(t *testing.T) {
	home := t.TempDir()
	foreground := func(io.Writer) bool { return false }
	background := func(io.Writer) bool { return true }
	for _, c := range []struct {
		name       string
		file       string
		inBack     func(io.Writer) bool
		wantFile   string
		wantStderr string
	}{
		{"foreground", "", foreground, "", "msg=hello\n"},
		{"--log", filepath.Join(home, "mine.log"), background, filepath.Join(home, "mine.log"), ""},
		{"background", "", background, filepath.Join(home, "log", "serve.log"),
			"bbimport serve: in the background of this terminal; the log goes to " + filepath.Join(home, "log", "serve.log") + "\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			w, closeLog, err := serveLog(c.file, home, &stderr, c.inBack)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, "msg=hello\n")
			if err := closeLog(); err != nil {
				t.Fatal(err)
			}
			if got := stderr.String(); got != c.wantStderr {
				t.Errorf("stderr %q, want %q", got, c.wantStderr)
			}
			if c.wantFile != "" {
				b, err := os.ReadFile(c.wantFile)
				if err != nil || !strings.HasSuffix(string(b), "msg=hello\n") {
					t.Errorf("log file: %q, %v", b, err)
				}
			}
		})
	}
}
