package archive

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"bbimport/model"
)

// checksumChunk is how much is read at a time: big enough that the two
// hashers' goroutine hand-off costs nothing, small enough to cancel fast.
const checksumChunk = 1 << 20

// progressEvery is how often Checksum reports progress at most.
const progressEvery = 100 * time.Millisecond

// Checksum computes the MD5 and the SHA-256 of the file at path, opened
// with Open: see ChecksumFile.
func Checksum(ctx context.Context, path string, progress func(done, total int64)) (model.Checksums, error) {
	f, err := Open(path, "")
	if err != nil {
		return model.Checksums{}, fmt.Errorf("checksum: %w", err)
	}
	defer f.Close()
	return ChecksumFile(ctx, f, progress)
}

// ChecksumFile computes the MD5 (which Atlassian's guide asks admins to
// compare) and the SHA-256 of f, from its start, in a single read. The two
// hashes run on two goroutines, so on two cores it takes about as long as
// md5sum alone. progress, if not nil, is called at most ten times a second
// and once at the end. It does not close f.
func ChecksumFile(ctx context.Context, f *os.File, progress func(done, total int64)) (model.Checksums, error) {
	fi, err := f.Stat()
	if err != nil {
		return model.Checksums{}, fmt.Errorf("checksum: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return model.Checksums{}, fmt.Errorf("checksum %s: %w", f.Name(), err)
	}
	total := fi.Size()
	m, s := md5.New(), sha256.New()
	done, err := hashBoth(ctx, f, m, s, func(done int64) {
		if progress != nil {
			progress(done, total)
		}
	})
	if err != nil {
		return model.Checksums{}, fmt.Errorf("checksum %s: %w", f.Name(), err)
	}
	return model.Checksums{MD5: hex.EncodeToString(m.Sum(nil)), SHA256: hex.EncodeToString(s.Sum(nil)), Bytes: done}, nil
}

// hashRing is how many chunks the second hash may lag behind the first.
const hashRing = 8

// hashBoth feeds everything r holds to a and b. This goroutine reads and
// runs a (give it the slower hash: MD5); another runs b on the same chunks,
// up to hashRing chunks behind. No barrier per chunk: on a busy machine a
// late wake-up of the second goroutine does not hold up the first.
func hashBoth(ctx context.Context, r io.Reader, a, b hash.Hash, progress func(done int64)) (int64, error) {
	free := make(chan []byte, hashRing)
	for range hashRing {
		free <- make([]byte, checksumChunk)
	}
	toB := make(chan []byte, hashRing)
	bDone := make(chan struct{})
	go func() {
		defer close(bDone)
		for chunk := range toB {
			b.Write(chunk)
			free <- chunk[:cap(chunk)]
		}
	}()
	var done int64
	var last time.Time
	var err error
	for err == nil {
		if err = ctx.Err(); err != nil {
			break
		}
		buf := <-free
		var n int
		n, err = io.ReadFull(r, buf)
		if n > 0 {
			toB <- buf[:n]
			a.Write(buf[:n])
			done += int64(n)
			if now := time.Now(); now.Sub(last) >= progressEvery {
				progress(done)
				last = now
			}
		}
	}
	close(toB)
	<-bDone
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	progress(done)
	return done, err
}
