package carry

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Side is a machine a file is carried from or to: Local, or a Remote
// reached over SSH.
type Side interface {
	String() string
	user() string
	stat(p string) (fs.FileInfo, error)
	open(p string) (io.ReadSeekCloser, error)
	// openWrite opens p for writing from off, creating it, and cutting
	// what lies beyond off.
	openWrite(p string, off int64) (writeFile, error)
	rename(from, to string) error
	chmod(p string, mode fs.FileMode) error
	remove(p string) error
	join(dir, name string) string
	// free is the room in dir for an unprivileged user; errNoStatvfs when
	// the side cannot tell.
	free(dir string) (int64, error)
	// md5 computes p's MD5 on this side's machine.
	md5(ctx context.Context, p string, size int64, step Step, progress func(Progress)) (EndMD5, error)
}

type writeFile interface {
	io.ReaderFrom
	io.Closer
}

var errNoStatvfs = errors.New("free space not reported")

// Local is this machine.
var Local Side = local{}

type local struct{}

func isLocal(s Side) bool { _, ok := s.(local); return ok }

func (local) String() string                         { return "this machine" }
func (local) user() string                           { return localUser() }
func (local) stat(p string) (fs.FileInfo, error)     { return os.Stat(p) }
func (local) rename(from, to string) error           { return os.Rename(from, to) }
func (local) chmod(p string, mode fs.FileMode) error { return os.Chmod(p, mode) }
func (local) remove(p string) error                  { return os.Remove(p) }
func (local) join(dir, name string) string           { return filepath.Join(dir, name) }

func (local) open(p string) (io.ReadSeekCloser, error) { return os.Open(p) }

func (local) openWrite(p string, off int64) (writeFile, error) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(off); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (local) free(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * st.Bsize, nil
}

func (local) md5(ctx context.Context, p string, size int64, step Step, progress func(Progress)) (EndMD5, error) {
	f, err := os.Open(p)
	if err != nil {
		return EndMD5{}, err
	}
	defer f.Close()
	sum, err := readMD5(ctx, f, size, step, progress)
	return EndMD5{MD5: sum, How: "read"}, err
}

// readMD5 hashes r, reporting progress as step.
func readMD5(ctx context.Context, r io.Reader, size int64, step Step, progress func(Progress)) (string, error) {
	m := md5.New()
	rep := newReporter(step, size, 0, progress)
	n, err := hashStream(ctx, r, m, rep.report)
	if err != nil {
		return "", err
	}
	rep.done(n)
	return hex.EncodeToString(m.Sum(nil)), nil
}

// tryLink makes tmp a hard link to src, reporting whether it could: across
// file systems, or where the kernel forbids linking another user's file,
// the caller copies instead.
func tryLink(src, tmp string) bool {
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	return os.Link(src, tmp) == nil
}

// finishLink checks and names a file hard-linked as tmp: one file with
// two names, so its MD5 is read once, on this machine, and is both ends'.
func finishLink(ctx context.Context, res Result, src, tmp string, opts Options) (Result, error) {
	res.Method = "link"
	f, err := os.Open(tmp)
	if err != nil {
		return res, err
	}
	defer f.Close()
	m, s := md5.New(), sha256.New()
	rep := newReporter(StepCarry, res.Bytes, 0, opts.Progress)
	n, err := hashStream(ctx, f, io.MultiWriter(m, s), rep.report)
	if err != nil {
		os.Remove(tmp)
		return res, fmt.Errorf("hash %s: %w", src, err)
	}
	rep.done(n)
	res.Sums.MD5, res.Sums.SHA256, res.Sums.Bytes = hex.EncodeToString(m.Sum(nil)), hex.EncodeToString(s.Sum(nil)), n
	res.Source = EndMD5{MD5: res.Sums.MD5, How: "carried"}
	res.Target = EndMD5{MD5: res.Sums.MD5, How: "hard link"}
	fi, err := f.Stat()
	if err != nil {
		return res, err
	}
	if fi.Mode().Perm() != opts.Mode {
		if err := os.Chmod(tmp, opts.Mode); err != nil {
			return res, fmt.Errorf("chmod %s: %w", tmp, err)
		}
		res.Notes = append(res.Notes, fmt.Sprintf("%s is a hard link to %s: setting its mode to %04o set the source's too", res.Path, src, opts.Mode))
	}
	if opts.Checked != nil {
		opts.Checked(res)
	}
	if err := os.Rename(tmp, res.Path); err != nil {
		return res, fmt.Errorf("rename %s to %s: %w", tmp, res.Path, err)
	}
	return res, nil
}
