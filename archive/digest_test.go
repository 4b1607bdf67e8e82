package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// One pass of the reader through a Digest gives the file's SHA-256, read
// whole or stopped early, as sha256 of the whole file says.
func TestDigestHashesTheWholeFile(t *testing.T) {
	path := filepath.Join("..", "testdata", "samples", "small.tar")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	for _, stopEarly := range []bool{false, true} {
		f, err := Open(path, "")
		if err != nil {
			t.Fatal(err)
		}
		d, err := NewDigest(f)
		if err != nil {
			t.Fatal(err)
		}
		members := 0
		err = ReadDigest(d, DefaultLimits(), func(m *Member) error {
			members++
			if stopEarly && members == 5 {
				return context.Canceled
			}
			return nil
		})
		if stopEarly != (err != nil) {
			t.Fatalf("stopEarly %v: read: %v", stopEarly, err)
		}
		got, size, err := d.Finish(context.Background())
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != want || size != int64(len(data)) {
			t.Errorf("stopEarly %v: digest %s of %d bytes; want %s of %d", stopEarly, got, size, want, len(data))
		}
	}
}
