package archive

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
)

// TestStreamedObjectsTarSize checks the dry run that sizes an objects tar
// against the tar it then writes, with a name long enough to need an
// extended header.
func TestStreamedObjectsTarSize(t *testing.T) {
	long := bytes.Repeat([]byte("d/"), 80)
	files := []TarFile{{Name: string(long) + "f", Data: bytes.Repeat([]byte{1}, 1000)}, {Name: "ab/cd", Data: nil}}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.AddTar(KindGitObjects, IDs{Repository: "1"}, files); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	hdr, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := writeInnerTar(&want, files, FixedTime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, want.Bytes()) || hdr.Size != int64(want.Len()) {
		t.Fatalf("streamed objects tar: %d bytes, header says %d, want %d", len(body), hdr.Size, want.Len())
	}
}
