package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"bbimport/importer/archive"
	"bbimport/model"
	"bbimport/ui"
)

// runConsole opens the console: full screen on a terminal, plain lines
// with --plain or when stdout is not a terminal.
func runConsole(cmd *cobra.Command, g *globalFlags) error {
	ctx := cmd.Context()
	if g.demo {
		home, err := demoHome()
		if err != nil {
			return &exitError{code: exitNotStarted, err: err}
		}
		g.home, g.url, g.importDir = home, "", ""
		fmt.Fprintln(cmd.ErrOrStderr(), "bbimport: demo home", home, "(remove it when done)")
	}
	b, closeBackend, err := openBackend(ctx, g)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	defer closeBackend()
	dir, err := consoleImportDir(g, b)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	out := cmd.OutOrStdout()
	opts := ui.Options{
		Backend:  b,
		Archives: &importDir{dir: dir},
		Plain:    g.plain || !isTerminal(out) || !term.IsTerminal(int(os.Stdin.Fd())),
		In:       cmd.InOrStdin(),
		Out:      out,
		Watch: func(ctx context.Context, id int64) error {
			job, err := watchJob(ctx, b, id, out, false)
			if err != nil {
				return &exitError{code: exitFailed, err: fmt.Errorf("follow job %d: %w", id, err)}
			}
			return finishJob(ctx, b, job, out, false)
		},
	}
	return ui.Run(ctx, opts)
}

// consoleImportDir is where the console picks archives from: the console
// runs on the server, so even with --url the directory is local.
func consoleImportDir(g *globalFlags, b model.Backend) (string, error) {
	if g.importDir != "" {
		return g.importDir, nil
	}
	if in, ok := b.(interface{ ImportDir() string }); ok {
		return in.ImportDir(), nil
	}
	if bh := os.Getenv("BITBUCKET_HOME"); bh != "" {
		return filepath.Join(bh, "shared", "data", "migration", "import"), nil
	}
	return "", errors.New("with --url the console needs the server's import directory: pass --import-dir or set BITBUCKET_HOME")
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

// importDir is the console's view of the import directory.
type importDir struct {
	dir  string
	mu   sync.Mutex
	prev []model.ArchiveFile // the last listing, to see copies in progress
}

func (d *importDir) Dir() string { return d.dir }

func (d *importDir) List(context.Context) ([]model.ArchiveFile, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	files, err := archive.ListArchives(d.dir, d.prev)
	if err == nil {
		d.prev = files
	}
	return files, err
}

func (d *importDir) Inspect(_ context.Context, file string) (model.ArchiveSummary, error) {
	return archive.Inspect(file, archive.DefaultLimits())
}

func (d *importDir) Checksum(ctx context.Context, file string, progress func(done, total int64)) (model.Checksums, error) {
	return archive.Checksum(ctx, file, progress)
}

func (d *importDir) FreeBytes(context.Context) (int64, error) { return archive.FreeBytes(d.dir) }
