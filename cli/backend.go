package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"bbimport/importer"
	"bbimport/model"
)

// backend is what the commands drive, opened by openBackend.
type backend struct {
	model.Backend
	close func() error
	// remote: a Bitbucket or bbimport serve at --url, where a started job
	// is not followed unless asked.
	remote bool
	// importDir is the import directory on this machine: the in-process
	// importer's; with --url the server's as --import-dir or
	// $BITBUCKET_HOME name it, empty when neither does.
	importDir string
	// exportDir is the in-process importer's export directory; empty
	// with --url.
	exportDir string
	// creds signed in to --url: a migration the console starts hands them
	// to its runner.
	creds remoteCreds
}

// Close releases the backend. An import runs in a runner process of its
// own and goes on.
func (b *backend) Close() error { return b.close() }

// openBackend opens the in-process importer on the instance home, or
// (with --url) a remote Bitbucket. Only the commands that write a home
// (import, serve, the console) create one; the others refuse a home that
// does not exist, and read a directory without a database as empty.
func openBackend(ctx context.Context, g *globalFlags, creates bool) (*backend, error) {
	if g.url != "" {
		b, creds, err := openRemote(ctx, g)
		if err != nil {
			return nil, err
		}
		dir := g.importDir
		if dir == "" && os.Getenv("BITBUCKET_HOME") != "" {
			dir = filepath.Join(os.Getenv("BITBUCKET_HOME"), "shared", "data", "migration", "import")
		}
		return &backend{Backend: b, close: func() error { return nil }, remote: true, importDir: dir, creds: creds}, nil
	}
	in, err := openImporter(g, creates)
	if err != nil {
		return nil, err
	}
	return &backend{Backend: in, close: in.Close, importDir: in.ImportDir(), exportDir: in.ExportDir()}, nil
}

// runnerCommand is the hidden command a runner process runs.
const runnerCommand = "__runner"

// openImporter opens the instance home; its imports run in runner
// processes of this same executable, so that they outlive the terminal.
func openImporter(g *globalFlags, creates bool) (*importer.Instance, error) {
	opts, err := runnerOptions(g)
	if err != nil {
		return nil, err
	}
	opts.Existing = !creates
	return importer.Open(opts)
}

// runnerOptions are importerOptions with the runner command: the imports
// a process starts (a runner too, the queue's next) run in runners.
func runnerOptions(g *globalFlags) (importer.Options, error) {
	opts, err := importerOptions(g)
	if err != nil {
		return importer.Options{}, err
	}
	exe, err := os.Executable()
	if err != nil {
		return importer.Options{}, fmt.Errorf("find the bbimport executable to run imports with: %w", err)
	}
	opts.Runner = []string{exe, runnerCommand, "--home", opts.Home}
	if opts.ImportDir != "" {
		opts.Runner = append(opts.Runner, "--import-dir", opts.ImportDir)
	}
	return opts, nil
}

// importerOptions are the home and import directory the flags name, made
// absolute so that a runner started elsewhere finds the same ones.
func importerOptions(g *globalFlags) (importer.Options, error) {
	home, err := instanceHome(g.home)
	if err != nil {
		return importer.Options{}, err
	}
	if home, err = filepath.Abs(home); err != nil {
		return importer.Options{}, fmt.Errorf("instance home %s: %w", g.home, err)
	}
	opts := importer.Options{Home: home}
	if g.importDir != "" {
		if opts.ImportDir, err = filepath.Abs(g.importDir); err != nil {
			return importer.Options{}, fmt.Errorf("import directory %s: %w", g.importDir, err)
		}
	}
	return opts, nil
}

// instanceHome is --home, else $BBIMPORT_HOME (the flag's default), else
// $XDG_DATA_HOME/bbimport, else ~/.local/share/bbimport.
func instanceHome(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if xdg := os.Getenv("XDG_DATA_HOME"); xdg != "" {
		return filepath.Join(xdg, "bbimport"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no instance home: pass --home or set BBIMPORT_HOME (%w)", err)
	}
	return filepath.Join(home, ".local", "share", "bbimport"), nil
}
