package archive

import (
	"errors"
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
		return "", model.RefuseArchive("no archive path given; name a file in %s", dir)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	realDir := RealDir(dir)
	if !inside(dir, p) && !inside(realDir, p) {
		return "", model.RefuseArchive("%s is outside the import directory %s; move the archive there", p, dir)
	}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", model.RefuseArchive("%s does not exist; copy the archive into %s first", p, dir)
	}
	if errors.Is(err, os.ErrPermission) {
		return "", model.RefuseArchive("%s: %s", p, deniedOnTheWay(p, false))
	}
	if err != nil {
		return "", model.RefuseArchive("%s: %w", p, err)
	}
	if !inside(realDir, real) {
		return "", model.RefuseArchive("%s leads outside the import directory %s; move the archive there", p, dir)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", model.RefuseArchive("%s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return "", model.RefuseArchive("%s is not a regular file; name an archive file", p)
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
