package archive

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ReadOpened reads the archive f, opened by Open (or a file on another
// machine: any Source), from its start. The bytes of members that the
// handler does not read are skipped by seeking. It does not close f.
func ReadOpened(f Source, lim Limits, h Handler) error {
	return runSource(f, lim, func(*reader) {}, h)
}

// readOpened is ReadOpened that leaves the members of the kinds in skip
// unread and undecoded (delivered with their value field nil).
func readOpened(f *os.File, lim Limits, skip map[Kind]bool, h Handler) error {
	return runOpened(f, lim, func(rd *reader) { rd.skip = skip }, h)
}

// runOpened reads the archive f from its start with a reader that set
// has configured.
func runOpened(f *os.File, lim Limits, set func(*reader), h Handler) error {
	return runSource(f, lim, set, h)
}

// Source is what the reader reads an archive from: a file (on this
// machine, or another's over SFTP), or a Digest of one.
type Source interface {
	io.ReadSeeker
	Name() string
}

// runSource reads the archive from src's start with a reader that set
// has configured.
func runSource(src Source, lim Limits, set func(*reader), h Handler) error {
	// The seek buffer counts positions from 0: Member.Offset is then an
	// offset in the file, where InspectFile finds a member's bytes again.
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read archive %s: %w", src.Name(), err)
	}
	rd := newReader(newSeekBuffer(src, 64<<10), lim)
	set(rd)
	err := rd.run(h)
	var ce callerError
	if err == nil || errors.As(err, &ce) {
		return unwrapCallerError(err)
	}
	return fmt.Errorf("read archive %s: %w", src.Name(), err)
}
