package archive

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"hash"
	"io"
	"os"
	"testing"
)

// readAllFiles is a handler that reads every inner file, as an import does.
func readAllFiles(m *Member) error {
	return m.Files(func(f File) error {
		_, err := io.Copy(io.Discard, f.Body)
		return err
	})
}

// BenchmarkFullRead reads the archive at $BBIMPORT_BENCH_ARCHIVE whole,
// every inner file included; scripts/bench-archive.sh runs it under
// /usr/bin/time for its peak memory.
func BenchmarkFullRead(b *testing.B) {
	path := os.Getenv("BBIMPORT_BENCH_ARCHIVE")
	if path == "" {
		b.Skip("set BBIMPORT_BENCH_ARCHIVE to an archive (scripts/bench-archive.sh does)")
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for b.Loop() {
		if err := ReadFile(path, Limits{}, readAllFiles); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInspect inspects the archive at $BBIMPORT_BENCH_ARCHIVE.
func BenchmarkInspect(b *testing.B) {
	path := os.Getenv("BBIMPORT_BENCH_ARCHIVE")
	if path == "" {
		b.Skip("set BBIMPORT_BENCH_ARCHIVE to an archive (scripts/bench-archive.sh does)")
	}
	for b.Loop() {
		if _, err := Inspect(path, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadSample(b *testing.B) {
	data := sampleArchive(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := Read(bytes.NewReader(data), Limits{}, readAllFiles); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashBoth compares the two ways of computing MD5 and SHA-256 in
// one read: each hash on its own goroutine (what Checksum does) against
// one io.MultiWriter that runs them one after the other.
func BenchmarkHashBoth(b *testing.B) {
	data := make([]byte, 64<<20)
	for i := range data {
		data[i] = byte(i*31 + i>>9)
	}
	b.Run("goroutines", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := hashBoth(context.Background(), bytes.NewReader(data), md5.New(), sha256.New(), func(int64) {}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("multiwriter", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := make([]byte, checksumChunk)
		for b.Loop() {
			if _, err := io.CopyBuffer(io.MultiWriter(md5.New(), sha256.New()), bytes.NewReader(data), buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, h := range map[string]func() hash.Hash{"md5-only": md5.New, "sha256-only": sha256.New} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			buf := make([]byte, checksumChunk)
			for b.Loop() {
				if _, err := io.CopyBuffer(h(), bytes.NewReader(data), buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
