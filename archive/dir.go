package archive

import (
	"context"
	"sync"

	"bbimport/model"
)

// Dir is an import directory as the console sees it: the archives it
// holds, what each contains, and the space left beside them.
type Dir struct {
	dir  string
	mu   sync.Mutex
	prev []model.ArchiveFile // the last listing, to see copies in progress
}

// NewDir opens the import directory dir; nothing is read until asked.
func NewDir(dir string) *Dir { return &Dir{dir: dir} }

// Dir is the directory's path.
func (d *Dir) Dir() string { return d.dir }

// List lists the archives, newest first; Growing marks a file that changed
// since the previous List: a copy in progress.
func (d *Dir) List(context.Context) ([]model.ArchiveFile, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	files, err := ListArchives(d.dir, d.prev)
	if err == nil {
		d.prev = files
	}
	return files, err
}

// Inspect tells what the archive at path holds, within the default limits.
func (d *Dir) Inspect(_ context.Context, path string) (model.ArchiveSummary, error) {
	return Inspect(path, DefaultLimits())
}

// Checksum computes the archive's MD5 and SHA-256, reporting bytes read.
func (d *Dir) Checksum(ctx context.Context, path string, progress func(done, total int64)) (model.Checksums, error) {
	return Checksum(ctx, path, progress)
}

// CheckStart applies the start rule of an import (OpenToImport) to the
// archive name, relative to the directory or absolute inside it.
func (d *Dir) CheckStart(_ context.Context, name string) error {
	f, err := OpenToImport(d.dir, name, StartCheck{})
	if err == nil {
		f.Close()
	}
	return err
}

// FreeBytes is the space left on the directory's file system.
func (d *Dir) FreeBytes(context.Context) (int64, error) { return FreeBytes(d.dir) }
