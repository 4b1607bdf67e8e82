package archive

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Open opens the archive at path for reading, once: a caller checks and
// reads through the one handle it returns, so that swapping the file at
// path after the open changes nothing (a check by name, then an open by
// name, lets a symbolic link to any file slip in between).
//
// It refuses a symbolic link as the last element of path, and anything
// that is not a regular file: a FIFO or a device would hang or feed the
// reader. Opening a FIFO does not block (O_NONBLOCK, which reads of a
// regular file ignore).
//
// If dir is not "", the file must lie inside dir: a relative path is taken
// relative to dir, and an absolute one must name a file under dir (as
// given, or with its symbolic links resolved). It is opened through a
// handle on dir, so that neither ".." nor a symbolic link on the way
// leads out of it, whatever changes meanwhile. Links inside dir that stay
// inside it are followed, except as the last element. A hard link is a
// file like any other: it is inside dir if one of its names is.
func Open(path, dir string) (*os.File, error) {
	const flags = os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	var f *os.File
	var err error
	if dir == "" {
		f, err = os.OpenFile(path, flags, 0)
	} else {
		f, err = openIn(dir, path, flags)
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("open archive %s: it is a symbolic link; name the archive file itself", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file; name an archive file", path)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open archive: %w", err)
	}
	return f, nil
}

// openIn opens path, which must lie inside dir, relative to a handle on
// dir. os.Root keeps the walk to the parent directory inside dir; the last
// element is opened with openat and O_NOFOLLOW, since os.Root would
// follow a last symbolic link that stays inside.
func openIn(dir, path string, flags int) (*os.File, error) {
	rel, err := relativeTo(dir, path)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer root.Close()
	parent, err := root.Open(filepath.Dir(rel))
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	fd, err := unix.Openat(int(parent.Fd()), filepath.Base(rel), flags, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// relativeTo returns path relative to dir, refusing a path outside it.
func relativeTo(dir, path string) (string, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", path, err)
	}
	candidates := []string{dir}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		candidates = append(candidates, real)
	}
	for _, d := range candidates {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", fmt.Errorf("resolve directory %s: %w", d, err)
		}
		rel, err := filepath.Rel(abs, path)
		if err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return rel, nil
		}
	}
	return "", fmt.Errorf("%s is not inside the directory %s; move the archive there", path, dir)
}
