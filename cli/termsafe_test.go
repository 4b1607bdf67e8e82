package cli

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/model"
	"bbimport/server"
	"bbimport/server/servertest"
)

// hostileText is text an archive or a server might hold: it would retitle the
// terminal, clear it, and erase the line to forge what was printed.
const hostileText = "PRJ\x1b]0;x\x07 \x1b[2J\r\x1b[Kforged"

// TestServerTextReachesNoTerminalAsIs runs the commands that print a job
// against a server whose job and messages hold escape sequences: nothing
// they print may carry ESC, BEL or CR, and the text stays readable.
func TestServerTextReachesNoTerminalAsIs(t *testing.T) {
	dir := t.TempDir()
	archive := "Bitbucket_export\x1b[2J.tar"
	if err := os.WriteFile(filepath.Join(dir, archive), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fake := servertest.New(dir)
	job, err := fake.Start(context.Background(), archive)
	if err != nil {
		t.Fatal(err)
	}
	fake.AddMessages(job.ID,
		model.Message{Severity: model.SeverityWarn, Subject: hostileText, Text: "project name " + hostileText},
		model.Message{Severity: model.SeverityInfo, Text: "about the whole job"})
	srv, err := server.New(server.Config{Importer: fake, Admin: server.Credentials{User: "admin", Password: "pw"}, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	t.Setenv("BITBUCKET_PASSWORD", "pw")

	for _, args := range [][]string{
		{"messages", "1"},
		{"messages", "--json", "1"},
		{"status", "1"},
		{"status", "--json", "1"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, code, err := runCmd(t, append([]string{"--url", hs.URL, "--user", "admin"}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %v", code, err)
			}
			if i := strings.IndexAny(out, "\x1b\x07\r"); i >= 0 {
				t.Fatalf("output holds a control byte %q at %d:\n%q", out[i], i, out)
			}
			if !strings.Contains(out, `2J`) {
				t.Fatalf("the escaped text is not shown:\n%s", out)
			}
		})
	}
	out, _, _ := runCmd(t, "--url", hs.URL, "--user", "admin", "messages", "1")
	for _, want := range []string{`WARN      PRJ\x1b]0;x\x07 \x1b[2J\x0d\x1b[Kforged`, "INFO      (job)"} {
		if !strings.Contains(out, want) {
			t.Errorf("messages lacks %q:\n%s", want, out)
		}
	}
}
