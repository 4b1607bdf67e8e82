package carry

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/pkg/sftp"
)

// Reads of a ReadFile go this far ahead of the caller: from readAheadMin
// after a seek (a reader that skips members by seeking wastes little),
// doubling while the caller reads on, up to readAheadMax (a reader going
// through the whole file has many SFTP requests in flight).
const (
	readAheadMin = 64 << 10
	readAheadMax = 4 << 20
)

// ReadFile is a file on a Remote opened for another part to read (verify
// reads the target's archive with it). pkg/sftp sends the requests of one
// read at once but no more, so that the small reads of an archive reader
// would wait a round trip each; ReadFile reads ahead instead.
type ReadFile struct {
	f     *sftp.File
	store []byte // the read-ahead buffer, grown as needed
	buf   []byte // what it holds: the bytes from bufAt
	bufAt int64
	pos   int64
	ahead int // how much the next fill reads
}

// Open opens p on r for reading.
func (r *Remote) Open(p string) (*ReadFile, error) {
	f, err := r.sftp.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open %s on %s: %w", p, r, err)
	}
	return &ReadFile{f: f, ahead: readAheadMin}, nil
}

func (f *ReadFile) Read(p []byte) (int, error) {
	if off := f.pos - f.bufAt; off >= 0 && off < int64(len(f.buf)) {
		n := copy(p, f.buf[off:])
		f.pos += int64(n)
		return n, nil
	}
	if f.pos == f.bufAt+int64(len(f.buf)) {
		f.ahead = min(2*f.ahead, readAheadMax)
	} else {
		f.ahead = readAheadMin
	}
	if len(p) >= f.ahead {
		n, err := f.f.ReadAt(p, f.pos)
		f.pos += int64(n)
		f.buf, f.bufAt = nil, f.pos
		if n > 0 && errors.Is(err, io.EOF) {
			err = nil // the next read says so
		}
		return n, err
	}
	if len(f.store) < f.ahead {
		f.store = make([]byte, f.ahead)
	}
	n, err := f.f.ReadAt(f.store[:f.ahead], f.pos)
	if err != nil && !errors.Is(err, io.EOF) {
		f.buf = nil
		return 0, err
	}
	f.buf, f.bufAt = f.store[:n], f.pos
	if n == 0 {
		return 0, io.EOF
	}
	k := copy(p, f.buf)
	f.pos += int64(k)
	return k, nil
}

// Seek moves where the next Read reads; bytes already read ahead stay for
// a seek that lands among them.
func (f *ReadFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		fi, err := f.f.Stat()
		if err != nil {
			return f.pos, err
		}
		offset += fi.Size()
	default:
		return f.pos, fmt.Errorf("seek %s: whence %d", f.Name(), whence)
	}
	if offset < 0 {
		return f.pos, fmt.Errorf("seek %s: negative position %d", f.Name(), offset)
	}
	f.pos = offset
	return offset, nil
}

// Name is the file's path on the server.
func (f *ReadFile) Name() string { return f.f.Name() }

// Stat is the file's size, mode and time, as the server says.
func (f *ReadFile) Stat() (fs.FileInfo, error) { return f.f.Stat() }

// Close closes the file.
func (f *ReadFile) Close() error { return f.f.Close() }
