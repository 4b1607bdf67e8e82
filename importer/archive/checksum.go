package archive

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"time"

	"bbimport/model"
)

// checksumChunk is how much is read at a time: big enough that the two
// hashers' goroutine hand-off costs nothing, small enough to cancel fast.
const checksumChunk = 1 << 20

// progressEvery is how often Checksum reports progress at most.
const progressEvery = 100 * time.Millisecond

// Checksum computes the MD5 (which Atlassian's guide asks admins to
// compare) and the SHA-256 of the file at path in a single read. The two
// hashes run on two goroutines while the next chunk is read, so on two
// cores it takes about as long as md5sum alone. progress, if not nil, is
// called at most ten times a second and once at the end.
func Checksum(ctx context.Context, path string, progress func(done, total int64)) (model.Checksums, error) {
	f, err := os.Open(path)
	if err != nil {
		return model.Checksums{}, fmt.Errorf("checksum: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return model.Checksums{}, fmt.Errorf("checksum: %w", err)
	}
	total := fi.Size()
	m, s := md5.New(), sha256.New()
	done, err := hashBoth(ctx, f, m, s, func(done int64) {
		if progress != nil {
			progress(done, total)
		}
	})
	if err != nil {
		return model.Checksums{}, fmt.Errorf("checksum %s: %w", path, err)
	}
	return model.Checksums{MD5: hex.EncodeToString(m.Sum(nil)), SHA256: hex.EncodeToString(s.Sum(nil)), Bytes: done}, nil
}

// hashBoth feeds everything r holds to a and b, each on its own goroutine,
// reading the next chunk meanwhile (double buffering).
func hashBoth(ctx context.Context, r io.Reader, a, b hash.Hash, progress func(done int64)) (int64, error) {
	bufs := [2][]byte{make([]byte, checksumChunk), make([]byte, checksumChunk)}
	var done int64
	var last time.Time
	n, err := io.ReadFull(r, bufs[0])
	for cur := 0; n > 0; cur = 1 - cur {
		if cerr := ctx.Err(); cerr != nil {
			return done, cerr
		}
		var wg sync.WaitGroup
		chunk := bufs[cur][:n]
		wg.Go(func() { a.Write(chunk) })
		wg.Go(func() { b.Write(chunk) })
		next, nextErr := 0, err
		if err == nil {
			next, nextErr = io.ReadFull(r, bufs[1-cur])
		}
		wg.Wait()
		done += int64(n)
		if now := time.Now(); now.Sub(last) >= progressEvery {
			progress(done)
			last = now
		}
		n, err = next, nextErr
	}
	progress(done)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return done, err
	}
	return done, nil
}
