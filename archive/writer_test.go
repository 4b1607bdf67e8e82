package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStreamedObjectsTarSize checks the dry run that sizes an objects tar
// against the tar it then writes, with a name long enough to need an
// extended header.
func TestStreamedObjectsTarSize(t *testing.T) {
	long := bytes.Repeat([]byte("d/"), 80)
	files := []TarFile{{Name: string(long) + "f", Data: bytes.Repeat([]byte{1}, 1000)}, {Name: "ab/cd", Data: nil}}
	hdr, body := objectsMember(t, files)
	var want bytes.Buffer
	if err := writeInnerTar(&want, files, FixedTime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, want.Bytes()) || hdr.Size != int64(want.Len()) {
		t.Fatalf("streamed objects tar: %d bytes, header says %d, want %d", len(body), hdr.Size, want.Len())
	}
}

// TestObjectsTarFromDisk writes an objects tar of files on disk, small
// ones read ahead and one too large for that streamed, between files
// held in memory, and reads it back: every name and body in order, and
// the outer header's size that of the tar.
func TestObjectsTarFromDisk(t *testing.T) {
	dir := t.TempDir()
	var files []TarFile
	want := map[string][]byte{}
	var order []string
	for i := range 300 {
		name := fmt.Sprintf("%02x/%038x", i%256, i)
		body := bytes.Repeat([]byte{byte(i)}, 1+i*7)
		if i == 150 {
			body = bytes.Repeat([]byte("large"), aheadMaxSize/5+100)
		}
		f := TarFile{Name: name, Mode: 0o400, Data: body}
		if i%3 != 0 {
			path := filepath.Join(dir, strconv.Itoa(i))
			if err := os.WriteFile(path, body, 0o600); err != nil {
				t.Fatal(err)
			}
			f = TarFile{Name: name, Mode: 0o400, Path: path, Size: int64(len(body))}
			if i%7 == 0 {
				f.Size = 0 // unknown: stat'ed, then streamed
			}
		}
		files = append(files, f)
		want[name] = body
		order = append(order, name)
	}
	hdr, inner := objectsMember(t, files)
	if hdr.Size != int64(len(inner)) {
		t.Fatalf("outer header says %d bytes, the objects tar has %d", hdr.Size, len(inner))
	}
	tr := tar.NewReader(bytes.NewReader(inner))
	for i := 0; ; i++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if i != len(order) {
				t.Fatalf("%d entries, want %d", i, len(order))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if h.Name != order[i] || !bytes.Equal(body, want[h.Name]) || h.Mode != 0o400 {
			t.Fatalf("entry %d: %s mode %o, %d bytes; want %s mode 400, %d bytes", i, h.Name, h.Mode, len(body), order[i], len(want[order[i]]))
		}
	}
}

// TestObjectsTarFileShrank: a file shorter than the size it was listed
// with fails the member with its name, rather than writing a tar whose
// header lies.
func TestObjectsTarFileShrank(t *testing.T) {
	for _, size := range []int64{100, aheadMaxSize + 100} {
		path := filepath.Join(t.TempDir(), "obj")
		if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
			t.Fatal(err)
		}
		w := NewWriter(io.Discard)
		err := w.AddTar(KindGitObjects, IDs{Repository: "1"}, []TarFile{{Name: "ab/cd", Path: path, Size: size}})
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "changed while it was written") {
			t.Errorf("size %d: %v; want an error naming %s that says it changed", size, err, path)
		}
	}
}

// TestHeaderBytes holds the shortcut that sizes an objects tar without
// writing it against what a tar.Writer writes, on both sides of each
// limit of the ustar format.
func TestHeaderBytes(t *testing.T) {
	for _, hdr := range []tar.Header{
		{Name: "ab/" + strings.Repeat("c", 38), Size: 10},
		{Name: strings.Repeat("n", 100), Size: 10},
		{Name: strings.Repeat("n", 101), Size: 10},
		{Name: strings.Repeat("d/", 60) + "f", Size: 10},
		{Name: "pack/é.pack", Size: 10},
		{Name: "pack/big.pack", Size: 1<<33 - 1},
		{Name: "pack/huge.pack", Size: 1 << 33},
		{Name: "ab/cd", Size: 1, Mode: 0o7777777},
		{Name: "ab/cd", Size: 1, Mode: 0o17777777},
	} {
		hdr.Typeflag = tar.TypeReg
		hdr.ModTime = FixedTime
		if hdr.Mode == 0 {
			hdr.Mode = 0o400
		}
		got, err := headerBytes(&hdr)
		if err != nil {
			t.Fatal(err)
		}
		n := &CountingWriter{W: io.Discard}
		if err := tar.NewWriter(n).WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if got != n.N {
			t.Errorf("%.20s… size %d mode %o: %d header bytes, a tar.Writer writes %d", hdr.Name, hdr.Size, hdr.Mode, got, n.N)
		}
	}
}

// TestInnerTarIsTheLibrarys: the stretches the readers lay out
// themselves (see setHeader) are byte for byte what a tar.Writer writes
// for the same files: names of every length up to the ustar limit, sizes
// on both sides of a block, modes, and files held in memory or too large
// to read ahead between them.
func TestInnerTarIsTheLibrarys(t *testing.T) {
	dir := t.TempDir()
	var files []TarFile
	sizes := []int{1, 511, 512, 513, 1024, 4095, 77, aheadMaxSize, aheadMaxSize + 1, 3000}
	for i := range 400 {
		size := sizes[i%len(sizes)] + i/len(sizes)
		if size > aheadMaxSize && i%len(sizes) == 7 {
			size = aheadMaxSize
		}
		body := bytes.Repeat([]byte{byte(i), byte(i >> 8), 'x'}, size/3+1)[:size]
		name := fmt.Sprintf("%02x/%s", i%256, strings.Repeat("n", 1+i%98))
		mode := int64(0o400)
		if i%5 == 0 {
			mode = 0o644
		}
		path := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		f := TarFile{Name: name, Mode: mode, Path: path, Size: int64(size)}
		if i%11 == 0 {
			f = TarFile{Name: name, Mode: mode, Data: body}
		}
		files = append(files, f)
	}
	var got bytes.Buffer
	if err := writeInnerTar(&got, files, FixedTime); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	tw := tar.NewWriter(&want)
	for _, f := range files {
		body := f.Data
		if f.Path != "" {
			var err error
			if body, err = os.ReadFile(f.Path); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.Name, Mode: f.Mode, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: FixedTime}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		g, w := got.Bytes(), want.Bytes()
		i := 0
		for i < min(len(g), len(w)) && g[i] == w[i] {
			i++
		}
		t.Fatalf("the inner tar differs from a tar.Writer's at byte %d (block %d) of %d, want %d bytes", i, i/blockSize, len(g), len(w))
	}
}

// objectsMember writes files as an archive's one objects member and reads
// back that member's outer header and its bytes (the inner tar).
func objectsMember(t *testing.T, files []TarFile) (*tar.Header, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.AddTar(KindGitObjects, IDs{Repository: "1"}, files); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	outer := tar.NewReader(&buf)
	hdr, err := outer.Next()
	if err != nil {
		t.Fatal(err)
	}
	inner, err := io.ReadAll(outer)
	if err != nil {
		t.Fatal(err)
	}
	return hdr, inner
}
