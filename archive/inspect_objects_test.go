package archive

import (
	"bytes"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// readBytes is the bytes this process has read through system calls so
// far (rchar in /proc/self/io), or false where Linux does not tell.
func readBytes(t *testing.T) (int64, bool) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// TestInspectReadsNoGitObjectBytes gives inspect an archive whose git
// objects are 8 MiB of garbage: it must tell the same structure as for
// the sample, count the bytes as git data, and read next to none of them.
func TestInspectReadsNoGitObjectBytes(t *testing.T) {
	const packBytes = 8 << 20
	garbage := bytes.Repeat([]byte("not a pack\x00"), packBytes/11+1)
	objects := tarOf(t,
		entry{name: "ab/cdef", body: bytes.Repeat([]byte{0xff}, 4096)}, // not a zlib stream
		entry{name: "pack/pack-1.pack", body: garbage},
	)
	path := writeFile(t, replaced(t, KindGitObjects, member(KindGitObjects, idRepo, objects)))
	before, counted := readBytes(t)
	got, err := Inspect(path, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := readBytes(t)
	size := got.ArchiveBytes

	sample, err := Inspect(writeFile(t, sampleArchive(t)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GitBytes-sample.GitBytes < packBytes {
		t.Errorf("git data %d bytes, want the %d of the garbage pack on top of the sample's %d", got.GitBytes, packBytes, sample.GitBytes)
	}
	got.GitBytes, got.ArchiveBytes = sample.GitBytes, sample.ArchiveBytes
	if !reflect.DeepEqual(got, sample) {
		t.Errorf("with garbage objects: %+v\nthe sample:           %+v", got, sample)
	}
	if !counted {
		t.Skip("no /proc/self/io here to count the bytes read")
	}
	if read := after - before; read > 1<<20 { // the sample's members, headers and buffers: a few KiB
		t.Errorf("inspect read %d bytes of a %d-byte archive; the git objects should be skipped by seeking", read, size)
	}
}
