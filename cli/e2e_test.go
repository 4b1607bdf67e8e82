package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The console end to end: the real binary in tmux, driven by keys and read
// back from the screen, on the in-process importer and through serve.

// e2eWait bounds each wait for the screen; a wait ends as soon as the text
// shows, so this only matters when something is wrong.
const e2eWait = 90 * time.Second

func TestE2EConsole(t *testing.T) {
	bin := consoleBinary(t)

	t.Run("in-process", func(t *testing.T) {
		home, _ := e2eHome(t, bin)
		console := []string{bin, "--home", home}
		importThenCollide(t, console, nil)
		cancelRun(t, console, nil)
	})

	t.Run("serve", func(t *testing.T) {
		home, dir := e2eHome(t, bin)
		url := startServe(t, bin, home)
		console := []string{bin, "--url", url, "--user", "admin", "--import-dir", dir}
		env := []string{"BITBUCKET_PASSWORD=pw", "XDG_STATE_HOME=" + t.TempDir()}
		importThenCollide(t, console, env)
		cancelRun(t, console, env)
	})
}

// importThenCollide imports small.tar, then collide.tar, whose project key
// small.tar took: the log filtered to WARN shows the rename.
func importThenCollide(t *testing.T, console, env []string) {
	s := startTmux(t, console, env)
	s.wait("Preview · small.tar", "Pull requests 96")
	s.keys("Enter")
	s.wait("Start the import?")
	s.keys("y")
	s.wait("Job 1 · small.tar", "✓ COMPLETED")
	s.keys("b")
	s.wait("Archives (3)")
	s.keys("j")
	s.wait("Preview · collide.tar", "project PULS exists")
	s.keys("Enter")
	s.wait("Start the import?", "it will be imported as PULS1")
	s.keys("y")
	s.wait("Job 2 · collide.tar", "✓ COMPLETED")
	s.keys("1", "3") // hide INFO and ERROR: WARN only
	screen := s.wait("hiding INFO,ERROR", "A project with key PULS exists already")
	if strings.Contains(screen, " INFO  ") {
		t.Fatalf("INFO rows shown with INFO hidden:\n%s", screen)
	}
	s.keys("q")
	s.wait("[exit 0]")
}

// cancelRun starts the large archive and cancels it at once.
func cancelRun(t *testing.T, console, env []string) {
	s := startTmux(t, console, env)
	s.wait("Archives (3)")
	s.keys("G")
	s.wait("Preview · large.tar", "Pull requests")
	s.keys("Enter")
	s.wait("Start the import?")
	s.keys("y")
	s.wait("Job 3 · large.tar")
	s.keys("c")
	s.wait("Cancel job 3?", "before the next pull request")
	s.keys("y")
	s.wait("■ CANCELED", "Import canceled at the checkpoint")
	s.keys("q")
	s.wait("[exit 0]")
}

// e2eHome is an instance home whose import directory holds the two samples
// and a generated archive large enough to cancel, listed in that order.
func e2eHome(t *testing.T, bin string) (home, dir string) {
	t.Helper()
	home = t.TempDir()
	dir = filepath.Join(home, "shared", "data", "migration", "import")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	large := filepath.Join(dir, "large.tar")
	if out, err := exec.Command(bin, "gen", "--out", large, "--projects", "2", "--repos", "10", "--prs", "40").CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	now := time.Now()
	for i, name := range []string{"small.tar", "collide.tar"} {
		copyFile(t, filepath.Join("..", "testdata", "samples", name), filepath.Join(dir, name))
		if err := os.Chtimes(filepath.Join(dir, name), now, now.Add(-time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(large, now, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	return home, dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startServe runs bbimport serve on a free port and returns its base URL.
func startServe(t *testing.T, bin, home string) string {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--home", home, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "BBIMPORT_ADMIN_USER=admin", "BBIMPORT_ADMIN_PASSWORD=pw")
	logs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, logs)
	}()
	select {
	case url := <-found:
		return url
	case <-time.After(e2eWait):
		t.Fatal("serve did not say where it listens")
	}
	return ""
}

// tmuxSession is the console running in a tmux server of the test's own.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func startTmux(t *testing.T, command, env []string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, socket: fmt.Sprintf("bbimport-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	quoted := make([]string, 0, len(env)+len(command))
	for _, a := range append(append([]string{}, env...), command...) {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	// The shell keeps the pane open after the console exits, to read its
	// exit status.
	script := "env " + strings.Join(quoted, " ") + `; echo "[exit $?]"; sleep 600`
	s.tmux("new-session", "-d", "-x", "160", "-y", "45", "sh", "-c", script)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		s.tmux("send-keys", k)
	}
}

// wait returns the screen once it shows every text wanted.
func (s *tmuxSession) wait(want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(e2eWait)
	for {
		screen := s.tmux("capture-pane", "-p")
		missing := ""
		for _, w := range want {
			if !strings.Contains(screen, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen never showed %q:\n%s", missing, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
