package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"bbimport/archive"
	"bbimport/model"
	"bbimport/ui"
)

// shelf is a local directory of archives the console's Export screen lists
// and removes old ones from.
type shelf struct {
	label string
	dir   *archive.Dir
}

func (s shelf) Label() string { return s.label }

func (s shelf) Dir() string { return s.dir.Dir() }

// List lists the directory's archives; a directory not made yet (no
// export has run) holds none.
func (s shelf) List(ctx context.Context) ([]model.ArchiveFile, error) {
	if _, err := os.Stat(s.Dir()); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return s.dir.List(ctx)
}

// Remove deletes one archive the directory lists: a plain name ending in
// .tar, never a path, so that no other file can be named. A symbolic link
// is removed itself, not what it leads to.
func (s shelf) Remove(_ context.Context, name string) error {
	if name != filepath.Base(name) || !strings.HasSuffix(name, ".tar") || strings.HasPrefix(name, ".") {
		return fmt.Errorf("remove %q: not an archive of %s", name, s.Dir())
	}
	if err := os.Remove(filepath.Join(s.Dir(), name)); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// consoleExport gives the console the backend's exports and, in-process,
// the home's export and import directories.
func consoleExport(opts *ui.Options, b *backend, importDir string) {
	if x, ok := b.Backend.(model.Exporter); ok {
		opts.Exporter = x
	}
	if b.exportDir != "" {
		opts.Shelves = []ui.ArchiveShelf{
			shelf{"export", archive.NewDir(b.exportDir)},
			shelf{"import", archive.NewDir(importDir)},
		}
	}
}
