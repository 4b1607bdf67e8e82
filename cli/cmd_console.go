package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"bbimport/archive"
	"bbimport/model"
	"bbimport/ui"
	"bbimport/verify"
)

// runConsole opens the console: full screen on a terminal, plain lines
// with --plain or when stdin or stdout is not a terminal. It reads the
// console's own flags from g (--demo changes the home they name).
func runConsole(cmd *cobra.Command, g *globalFlags, f *Factory) error {
	ctx := cmd.Context()
	if g.demo {
		home, err := demoHome()
		if err != nil {
			return &exitError{code: exitNotStarted, err: err}
		}
		g.home, g.url, g.importDir = home, "", ""
		fmt.Fprintln(f.IO.errOut, "bbimport: demo home", home, "(remove it when done)")
	}
	if g.url == "" {
		if err := askToCreateHome(g); err != nil {
			return &exitError{code: exitNotStarted, err: err}
		}
	}
	b, err := f.Backend(ctx, true)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	defer b.Close()
	dir, err := consoleImportDir(b)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	opts := ui.Options{
		Backend:    b,
		Archives:   archive.NewDir(dir),
		Plain:      g.plain || !f.IO.outTTY || !f.IO.inTTY,
		In:         f.IO.in,
		InTerminal: f.IO.inTTY,
		Out:        f.IO.out,
		// As the shell was told: the console's hints then run as written.
		Self:     binaryName(),
		NoNotify: g.noNotify,
		StateDir: stateDir(),
	}
	// The pane does not show the target, so no target name: asking a
	// server for it here would hold the console's start until it answers.
	if v, err := newVerifier(b, dir, "", false, "", verify.DefaultConcurrency); err == nil {
		opts.Verifier = v
	}
	consoleExport(&opts, b, dir)
	if !opts.Plain {
		mg := consoleMigrator(g, b, dir)
		defer mg.Close()
		opts.Migrator = mg
	}
	// In-process, the queue is the home's, and goes on without the
	// console; a remote backend has none, and the console keeps its own.
	if q, ok := b.Backend.(model.Queuer); ok {
		opts.Queuer = q
	}
	res, err := ui.Run(ctx, opts)
	if res.Job.ID == 0 || res.Detached {
		return err
	}
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	return finishJob(ctx, b, res.Job, f.IO.out, jobTable)
}

// stateDir is where the console keeps what it remembers between runs
// ($XDG_STATE_HOME/bbimport, by default ~/.local/state/bbimport); "" when
// there is no home directory to put it under.
func stateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "bbimport")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".local", "state", "bbimport")
}

// askToCreateHome asks before the console makes an instance home that does
// not exist: a typo in --home must not make one unasked.
func askToCreateHome(g *globalFlags) error {
	opts, err := importerOptions(g)
	if err != nil {
		return err
	}
	if _, err := os.Stat(opts.Home); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	fmt.Fprintf(g.io.errOut, "Instance home %s does not exist. Create it? [y/N] ", opts.Home)
	answer := readLine(g.io.in)
	if !g.io.inTTY {
		fmt.Fprintln(g.io.errOut, strings.TrimSpace(answer))
	}
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return fmt.Errorf("instance home %s does not exist and was not created: check --home or BBIMPORT_HOME", opts.Home)
	}
	return nil
}

// readLine reads one line a byte at a time, leaving the rest of the input
// to the console's own questions.
func readLine(r io.Reader) string {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 && b[0] != '\n' {
			line = append(line, b[0])
		}
		if err != nil || n == 1 && b[0] == '\n' {
			return string(line)
		}
	}
}

// consoleImportDir is where the console picks archives from, and verify
// looks for archives and puts remainders: the console runs on the server,
// so even with --url the directory is local.
func consoleImportDir(b *backend) (string, error) {
	if b.importDir == "" {
		return "", errors.New("with --url the console needs the server's import directory: pass --import-dir or set BITBUCKET_HOME")
	}
	return b.importDir, nil
}

// demoArchives are the sample archives a --demo home starts with; main
// embeds them (an embed cannot reach above its package) and hands them in.
var demoArchives fs.FS

// demoHome makes a fresh instance home in a temporary directory whose
// import directory holds the sample archives.
func demoHome() (string, error) {
	home, err := os.MkdirTemp("", "bbimport-demo-")
	if err != nil {
		return "", fmt.Errorf("make the demo home: %w", err)
	}
	dir := filepath.Join(home, "shared", "data", "migration", "import")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("make the demo import directory: %w", err)
	}
	samples, err := fs.Glob(demoArchives, "*.tar")
	if err != nil {
		return "", fmt.Errorf("list the demo archives: %w", err)
	}
	for _, name := range samples {
		b, err := fs.ReadFile(demoArchives, name)
		if err != nil {
			return "", fmt.Errorf("read the demo archive %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, path.Base(name)), b, 0o644); err != nil {
			return "", fmt.Errorf("seed the demo import directory: %w", err)
		}
	}
	return home, nil
}
