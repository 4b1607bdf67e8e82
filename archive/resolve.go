package archive

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"bbimport/model"
)

// Resolve applies Bitbucket's rule for an import's archivePath: relative to
// the import directory dir, or absolute inside it, naming a regular file
// that is still inside dir once symbolic links are resolved. It returns the
// resolved path; every refusal wraps model.ErrBadArchivePath and says what
// to do. Open then opens that path once, by handle.
func Resolve(dir, p string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", fmt.Errorf("%w: no archive path given; name a file in %s", model.ErrBadArchivePath, dir)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	realDir := RealDir(dir)
	if !inside(dir, p) && !inside(realDir, p) {
		return "", fmt.Errorf("%w: %s is outside the import directory %s; move the archive there", model.ErrBadArchivePath, p, dir)
	}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: %s does not exist; copy the archive into %s first", model.ErrBadArchivePath, p, dir)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", model.ErrBadArchivePath, p, err)
	}
	if !inside(realDir, real) {
		return "", fmt.Errorf("%w: %s leads outside the import directory %s; move the archive there", model.ErrBadArchivePath, p, dir)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", model.ErrBadArchivePath, p, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %s is not a regular file; name an archive file", model.ErrBadArchivePath, p)
	}
	return real, nil
}

// RealDir is dir with its symbolic links resolved, or dir cleaned when it
// cannot be resolved.
func RealDir(dir string) string {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return filepath.Clean(dir)
	}
	return real
}

// inside reports whether p lies below dir (dir itself is not inside).
func inside(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
