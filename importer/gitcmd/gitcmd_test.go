package gitcmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// bareRepo lays out an empty bare repository by hand.
func bareRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"objects/info", "objects/pack", "refs/heads", "refs/tags"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string]string{"HEAD": "ref: refs/heads/main\n", "config": "[core]\n\trepositoryformatversion = 0\n\tbare = true\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCallersGitSettingsDoNotReachGit(t *testing.T) {
	dir := bareRepo(t)
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[user]\n\tname = From Home\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("GIT_DIR", t.TempDir())
	t.Setenv("GIT_CONFIG_PARAMETERS", "'user.email'='leaked@example.com'")
	t.Setenv("GIT_AUTHOR_NAME", "Leaked")
	got, err := Run(context.Background(), dir, "rev-parse", "--absolute-git-dir")
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.EvalSymlinks(dir); got != want && got != dir {
		t.Errorf("git ran on %s, want %s", got, dir)
	}
	out, _ := Run(context.Background(), dir, "config", "--list")
	if strings.Contains(out, "From Home") || strings.Contains(out, "leaked") {
		t.Errorf("git read the caller's configuration:\n%s", out)
	}
	ident, _ := Run(context.Background(), dir, "var", "GIT_AUTHOR_IDENT")
	if strings.Contains(ident, "Leaked") {
		t.Errorf("git took the caller's GIT_AUTHOR_NAME: %s", ident)
	}
}

func TestFailureCarriesWhatGitSaid(t *testing.T) {
	dir := bareRepo(t)
	_, err := Run(context.Background(), dir, "-c", "core.fsync=none", "rev-parse", "--verify", "refs/heads/none")
	var gerr *Error
	if !errors.As(err, &gerr) {
		t.Fatalf("error %v is not a git error", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "git rev-parse: exit status") || !strings.Contains(msg, "Needed a single revision") {
		t.Errorf("error %q does not name the command and what git said", msg)
	}
}

func TestGitRunsInItsOwnProcessGroup(t *testing.T) {
	dir := bareRepo(t)
	cmd := Command(context.Background(), dir, "cat-file", "--batch")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid, err := syscall.Getpgid(cmd.Process.Pid)
	stdin.Close()
	if werr := cmd.Wait(); werr != nil {
		t.Errorf("git cat-file: %v", werr)
	}
	if err != nil || pgid != cmd.Process.Pid || pgid == syscall.Getpgrp() {
		t.Errorf("git's process group is %d (%v), want its own (pid %d)", pgid, err, cmd.Process.Pid)
	}
}

// git that says a great deal on stderr before it fails costs a bounded
// buffer, and the error keeps what it said first and last.
func TestStderrIsCappedKeepingItsStartAndEnd(t *testing.T) {
	dir := bareRepo(t)
	// A shell alias prints 1 MiB between its first and last lines.
	script := `!echo first line >&2; head -c 1048576 /dev/zero | tr '\0' x >&2; echo; echo last line >&2; exit 3`
	_, err := Run(context.Background(), dir, "-c", "alias.noisy="+script, "noisy")
	var gerr *Error
	if !errors.As(err, &gerr) {
		t.Fatalf("want an *Error, got %v", err)
	}
	if len(gerr.Stderr) > 3*stderrKept {
		t.Errorf("stderr kept %d bytes, want at most %d", len(gerr.Stderr), 3*stderrKept)
	}
	for _, want := range []string{"first line", "last line", "bytes of git's output left out"} {
		if !strings.Contains(gerr.Stderr, want) {
			t.Errorf("stderr lacks %q: %.200q…%.200q", want, gerr.Stderr, gerr.Stderr[max(0, len(gerr.Stderr)-200):])
		}
	}
}

func TestStderrBufferKeepsShortOutputWhole(t *testing.T) {
	var b stderrBuffer
	for _, s := range []string{"fatal: ", "bad object", "\n"} {
		_, _ = b.Write([]byte(s))
	}
	if got := b.String(); got != "fatal: bad object\n" {
		t.Errorf("got %q", got)
	}
	var big stderrBuffer
	data := strings.Repeat("a", stderrKept) + strings.Repeat("b", stderrKept+10) + "end"
	_, _ = big.Write([]byte(data))
	want := strings.Repeat("a", stderrKept) + "\n[… 13 bytes of git's output left out …]\n" + strings.Repeat("b", stderrKept-3) + "end"
	if got := big.String(); got != want {
		t.Errorf("got %d bytes, want %d", len(got), len(want))
	}
}

// Every git bbimport runs streams blobs over a small size rather than
// holding them whole: an import's memory must not follow its largest blob
// (scripts/bench-bigblob.sh measures it).
func TestGitStreamsBigBlobs(t *testing.T) {
	got, err := Run(context.Background(), bareRepo(t), "config", "--get", "core.bigFileThreshold")
	if err != nil || got != bigFileThreshold {
		t.Errorf("core.bigFileThreshold: %q (%v), want %q", got, err, bigFileThreshold)
	}
}
