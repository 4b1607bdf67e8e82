package archive

import "io"

// seekBuffer buffers reads from an archive file and keeps it seekable:
// archive/tar then reads the many small headers and metadata members of an
// archive without one system call each, and still seeks past the large
// members that the handler does not read.
type seekBuffer struct {
	f    io.ReadSeeker
	buf  []byte
	r, w int   // the unread bytes are buf[r:w]
	pos  int64 // the file's position: that of buf[w]
}

func newSeekBuffer(f io.ReadSeeker, size int) *seekBuffer {
	return &seekBuffer{f: f, buf: make([]byte, size)}
}

func (b *seekBuffer) Read(p []byte) (int, error) {
	if b.r == b.w {
		if len(p) >= len(b.buf) {
			// A big read gains nothing from a copy through the buffer.
			n, err := b.f.Read(p)
			b.pos += int64(n)
			b.r, b.w = 0, 0
			return n, err
		}
		n, err := b.f.Read(b.buf)
		b.pos += int64(n)
		b.r, b.w = 0, n
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

func (b *seekBuffer) Seek(offset int64, whence int) (int64, error) {
	start := b.pos - int64(b.w) // file position of buf[0]
	var target int64
	switch whence {
	case io.SeekStart:
		target = offset
	case io.SeekCurrent:
		target = start + int64(b.r) + offset
	default:
		abs, err := b.f.Seek(offset, whence)
		if err == nil {
			b.pos, b.r, b.w = abs, 0, 0
		}
		return abs, err
	}
	if target >= start && target <= b.pos {
		b.r = int(target - start)
		return target, nil
	}
	abs, err := b.f.Seek(target, io.SeekStart)
	if err != nil {
		return abs, err
	}
	b.pos, b.r, b.w = abs, 0, 0
	return abs, nil
}
