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
	// importDir is the in-process importer's import directory; empty
	// with --url, where only the server knows it.
	importDir string
}

// Close releases the backend; for the in-process importer it also stops a
// running import at once, leaving no half-built repository.
func (b *backend) Close() error { return b.close() }

// openBackend opens the in-process importer on the instance home, or
// (with --url) a remote Bitbucket.
func openBackend(ctx context.Context, g *globalFlags) (*backend, error) {
	if g.url != "" {
		b, err := openRemote(ctx, g)
		if err != nil {
			return nil, err
		}
		return &backend{Backend: b, close: func() error { return nil }}, nil
	}
	home, err := instanceHome(g.home)
	if err != nil {
		return nil, err
	}
	in, err := importer.Open(importer.Options{Home: home, ImportDir: g.importDir})
	if err != nil {
		return nil, err
	}
	return &backend{Backend: in, close: in.Close, importDir: in.ImportDir()}, nil
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
