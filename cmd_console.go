package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"bbimport/importer/archivegen"
	"bbimport/model"
	"bbimport/ui"
)

// runConsole opens the console: full screen on a terminal, plain lines
// with --plain or when stdout is not a terminal.
func runConsole(cmd *cobra.Command, g *globalFlags) error {
	ctx := cmd.Context()
	if g.demo {
		home, err := demoHome(ctx)
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

// demoHome makes a fresh instance home in a temporary directory with
// generated archives in its import directory.
func demoHome(ctx context.Context) (string, error) {
	home, err := os.MkdirTemp("", "bbimport-demo-")
	if err != nil {
		return "", fmt.Errorf("make the demo home: %w", err)
	}
	dir := filepath.Join(home, "shared", "data", "migration", "import")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("make the demo import directory: %w", err)
	}
	small := archivegen.DefaultOptions()
	small.Projects, small.Repos, small.PRs = 1, 1, 3
	for name, opts := range map[string]archivegen.Options{"small.tar": small, "default.tar": archivegen.DefaultOptions()} {
		if _, err := archivegen.GenerateFile(ctx, filepath.Join(dir, name), opts); err != nil {
			return "", fmt.Errorf("generate the demo archive %s: %w", name, err)
		}
	}
	return home, nil
}

// importDir is the console's view of the import directory.
type importDir struct {
	dir  string
	mu   sync.Mutex
	prev map[string]model.ArchiveFile
}

func (d *importDir) Dir() string { return d.dir }

// List returns the .tar files, newest first; a file whose size or time
// changed since the last look is still being copied.
func (d *importDir) List(context.Context) ([]model.ArchiveFile, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("read the import directory %s: %w (create it, or pass --import-dir)", d.dir, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[string]model.ArchiveFile{}
	var files []model.ArchiveFile
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".tar") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed since ReadDir
		}
		f := model.ArchiveFile{Name: e.Name(), Path: filepath.Join(d.dir, e.Name()), Size: fi.Size(), ModTime: fi.ModTime()}
		if p, ok := d.prev[f.Name]; ok && (p.Size != f.Size || !p.ModTime.Equal(f.ModTime)) {
			f.Growing = true
		}
		seen[f.Name] = f
		files = append(files, f)
	}
	d.prev = seen
	sort.Slice(files, func(i, j int) bool { return files[i].ModTime.After(files[j].ModTime) })
	return files, nil
}

var errNotYet = errors.New("not available in this build yet")

func (d *importDir) Inspect(context.Context, string) (model.ArchiveSummary, error) {
	return model.ArchiveSummary{}, fmt.Errorf("inspect: %w", errNotYet)
}

func (d *importDir) Checksum(context.Context, string, func(done, total int64)) (model.Checksums, error) {
	return model.Checksums{}, fmt.Errorf("checksum: %w", errNotYet)
}

func (d *importDir) FreeBytes(context.Context) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.dir, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", d.dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
