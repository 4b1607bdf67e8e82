package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// A Digest reads an archive file for the reader and hashes every byte it
// reads: members the handler does not read are read through rather than
// skipped by a seek, so that one pass both imports (or verifies) the
// archive and computes its SHA-256. Finish reads whatever the pass left
// (the tar's end, or the rest of an archive whose import stopped early).
type Digest struct {
	f   Source
	sum hash.Hash
	pos int64
}

// NewDigest hashes f from its start.
func NewDigest(f Source) (*Digest, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read archive %s: %w", f.Name(), err)
	}
	return &Digest{f: f, sum: sha256.New()}, nil
}

// Name is the file's name, for errors.
func (d *Digest) Name() string { return d.f.Name() }

func (d *Digest) Read(p []byte) (int, error) {
	n, err := d.f.Read(p)
	d.sum.Write(p[:n])
	d.pos += int64(n)
	return n, err
}

// errSeekBack is a seek the pass never makes: a digest reads forward only.
var errSeekBack = errors.New("a digest reads forward only")

// Seek moves forward by reading (and hashing) the bytes it passes over.
func (d *Digest) Seek(offset int64, whence int) (int64, error) {
	var target int64
	switch whence {
	case io.SeekStart:
		target = offset
	case io.SeekCurrent:
		target = d.pos + offset
	default:
		return d.pos, errSeekBack
	}
	if target < d.pos {
		return d.pos, errSeekBack
	}
	n, err := io.CopyN(d.sum, d.f, target-d.pos)
	d.pos += n
	if errors.Is(err, io.EOF) {
		err = nil // past the end, as a seek may go; the next read says EOF
	}
	return d.pos, err
}

// Finish reads the rest of the file and returns its SHA-256 in hex and its
// size. ctx ending stops it.
func (d *Digest) Finish(ctx context.Context) (sha string, size int64, err error) {
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", d.pos, err
		}
		n, err := d.f.Read(buf)
		d.sum.Write(buf[:n])
		d.pos += int64(n)
		if errors.Is(err, io.EOF) {
			return hex.EncodeToString(d.sum.Sum(nil)), d.pos, nil
		}
		if err != nil {
			return "", d.pos, fmt.Errorf("read archive %s: %w", d.f.Name(), err)
		}
	}
}

// ReadDigest reads the archive through d from its start, as ReadOpened
// does, hashing all it reads; d.Finish then gives the SHA-256.
func ReadDigest(d *Digest, lim Limits, h Handler) error {
	return runSource(d, lim, func(*reader) {}, h)
}
