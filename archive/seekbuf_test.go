package archive

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// seekBuffer must read and seek exactly as the file under it would.
func TestSeekBufferBehavesAsTheFile(t *testing.T) {
	data := make([]byte, 10000)
	for i := range data {
		data[i] = byte(i * 13)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	want := bytes.NewReader(data)
	got := newSeekBuffer(bytes.NewReader(data), 64)
	for step := range 5000 {
		switch rng.IntN(3) {
		case 0, 1:
			n := rng.IntN(150)
			a, b := make([]byte, n), make([]byte, n)
			na, ea := io.ReadFull(want, a)
			nb, eb := io.ReadFull(got, b)
			if na != nb || !errors.Is(eb, ea) || !bytes.Equal(a[:na], b[:nb]) {
				t.Fatalf("step %d: read %d: file gave %d %v, buffer %d %v", step, n, na, ea, nb, eb)
			}
		case 2:
			off, whence := int64(rng.IntN(400))-100, rng.IntN(2)
			if whence == io.SeekStart {
				off = int64(rng.IntN(len(data)))
			}
			pa, ea := want.Seek(off, whence)
			pb, eb := got.Seek(off, whence)
			if (ea == nil) != (eb == nil) || ea == nil && pa != pb {
				t.Fatalf("step %d: seek %d,%d: file gave %d %v, buffer %d %v", step, off, whence, pa, ea, pb, eb)
			}
		}
	}
}
