// Package gitcmd is the one way bbimport runs git: on one repository, blind
// to the caller's GIT_* variables and to the user's and the system's git
// configuration, so that neither the environment nor an archive can change
// what git does.
package gitcmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Cmd is git about to run. Its Wait and Run put what git said on stderr
// into the error, unless the caller took Stderr for itself.
type Cmd struct {
	*exec.Cmd
	args   []string
	stderr stderrBuffer
}

// Command returns git with args on the repository gitDir, not yet started:
// callers that stream its stdin or stdout use the embedded exec.Cmd. It
// runs in gitDir with HOME pointing there, so no file of the user's is
// read, and with hooks and fsmonitor off whatever the repository's config
// says, and with blobs over bigFileThreshold streamed.
//
// It runs in a process group of its own: a terminal's Ctrl+C goes to the
// foreground group and must reach only bbimport (which cancels at a
// checkpoint), not kill git half-way through a verification. Canceling ctx
// still kills it.
func Command(ctx context.Context, gitDir string, args ...string) *Cmd {
	if abs, err := filepath.Abs(gitDir); err == nil {
		gitDir = abs // GIT_DIR must not be read relative to Dir
	}
	full := append([]string{"-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
		"-c", "core.bigFileThreshold=" + bigFileThreshold}, args...)
	c := &Cmd{Cmd: exec.CommandContext(ctx, "git", full...), args: args}
	c.Dir = gitDir
	c.Env = env(gitDir)
	c.Stderr = &c.stderr
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return c
}

// bigFileThreshold is the size above which git streams a blob rather than
// holding it whole in memory (index-pack hashing a pack's objects among
// others): by default 512 MiB, so that an import's memory followed its
// largest blob. Ordinary repositories have few blobs above it, and those
// cost the same streamed.
const bigFileThreshold = "1m"

// env is git's whole environment: of the caller's, only PATH, so that no
// GIT_* variable (GIT_DIR, GIT_ALTERNATE_OBJECT_DIRECTORIES…) leaks in.
func env(gitDir string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + gitDir, "LC_ALL=C", "GIT_DIR=" + gitDir,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0"}
}

// Wait waits for git to exit; a failure is an *Error.
func (c *Cmd) Wait() error {
	if err := c.Cmd.Wait(); err != nil {
		return &Error{Args: c.args, Err: err, Stderr: strings.TrimSpace(c.stderr.String())}
	}
	return nil
}

// Run starts git and waits for it.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return &Error{Args: c.args, Err: err}
	}
	return c.Wait()
}

// Run runs git with args on gitDir and returns its standard output,
// trimmed, also when git fails; a failure is an *Error.
func Run(ctx context.Context, gitDir string, args ...string) (string, error) {
	c := Command(ctx, gitDir, args...)
	var stdout bytes.Buffer
	c.Stdout = &stdout
	err := c.Run()
	return strings.TrimSpace(stdout.String()), err
}

// Error is a git run that failed.
type Error struct {
	Args   []string
	Err    error  // the exit status, or why git did not start
	Stderr string // what git said, trimmed
}

func (e *Error) Error() string {
	name := "git"
	for i := 0; i < len(e.Args); i++ {
		if e.Args[i] == "-c" {
			i++ // its value
		} else if !strings.HasPrefix(e.Args[i], "-") {
			name += " " + e.Args[i]
			break
		}
	}
	if e.Stderr == "" {
		return fmt.Sprintf("%s: %v", name, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", name, e.Err, e.Stderr)
}

func (e *Error) Unwrap() error { return e.Err }
