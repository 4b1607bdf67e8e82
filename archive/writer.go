package archive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sys/unix"
)

// FixedTime is the modification time a Writer gives every tar entry, outer
// and inner, unless told another (SetTime): a fixed time keeps the
// generator's same seed giving the same bytes.
var FixedTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TarFile is one file of an inner tar (git metadata, hooks, objects, caches).
// Data holds its content, or Path names a file on disk whose bytes are
// streamed, so that large packs never sit in memory. Typeflag and Linkname
// are zero for the regular files a real archive holds; tests set them to
// craft unsafe inner tars.
type TarFile struct {
	Name string
	Mode int64
	Data []byte
	Path string
	// Size is Path's size when the caller knows it (0: stat the file).
	Size     int64
	Typeflag byte
	Linkname string
}

// Writer writes a migration archive member by member, in the order the
// caller adds them, in Bitbucket's conventions: the generator and the
// exporter write whole archives with it, tests craft odd ones.
type Writer struct {
	tw     *tar.Writer
	out    *CountingWriter
	counts WriterCounts
	mtime  time.Time
}

// WriterCounts is what a Writer has written so far.
type WriterCounts struct {
	Members  int
	ByKind   map[Kind]int
	GitBytes int64 // bytes of git metadata, hooks and objects members
}

// NewWriter starts an archive on w. Close finishes it.
func NewWriter(w io.Writer) *Writer {
	cw := &CountingWriter{W: w}
	return &Writer{tw: tar.NewWriter(cw), out: cw, counts: WriterCounts{ByKind: map[Kind]int{}}, mtime: FixedTime}
}

// SetTime sets the modification time of the entries written from now on:
// Bitbucket gives them the time of the export.
func (w *Writer) SetTime(t time.Time) { w.mtime = t.Truncate(time.Second) }

// AddJSON writes v as the member of kind and ids: compact, or pretty as
// Jackson writes it when pretty (pull request metadata and activities:
// see Jackson), gzipped when the member name says so. HTML characters are
// not escaped, as Bitbucket's own writer does not escape them.
func (w *Writer) AddJSON(kind Kind, ids IDs, v any, pretty bool) error {
	name := MemberName(kind, ids)
	data, err := JSONMember(name, v, pretty)
	if err != nil {
		return err
	}
	return w.AddRaw(name, data)
}

// AddTar writes files as an inner tar member of kind and ids, gzipped when
// the member name says so. The objects tar is not compressed: it is streamed
// into the archive, its size worked out beforehand.
func (w *Writer) AddTar(kind Kind, ids IDs, files []TarFile) error {
	name := MemberName(kind, ids)
	if !strings.HasSuffix(name, ".atl.gz") {
		return w.addStreamedTar(name, files)
	}
	data, err := TarMember(name, files, w.mtime)
	if err != nil {
		return err
	}
	return w.AddRaw(name, data)
}

// JSONMember is the member name's bytes for v (see AddJSON). It needs no
// Writer, so that members can be made on several goroutines.
func JSONMember(name string, v any, pretty bool) ([]byte, error) {
	data, err := encodeJSON(v, pretty)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", name, err)
	}
	return CompressMember(name, data)
}

// TarMember is the member name's bytes for an inner tar of files held in
// memory, each entry dated mtime.
func TarMember(name string, files []TarFile, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeInnerTar(&buf, files, mtime); err != nil {
		return nil, fmt.Errorf("build %s: %w", name, err)
	}
	return CompressMember(name, buf.Bytes())
}

// gzipWriters are reused: a gzip writer's state is large.
var gzipWriters = sync.Pool{New: func() any {
	// The fastest level: members are small, and most of the time of a
	// higher one went into resetting its larger state for each of them.
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// CompressMember gzips data if name ends in .atl.gz. The gzip header
// carries no time and no name, so output is reproducible.
func CompressMember(name string, data []byte) ([]byte, error) {
	if !strings.HasSuffix(name, ".atl.gz") {
		return data, nil
	}
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(data); err != nil {
		return nil, fmt.Errorf("compress %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// AddRaw writes data under name exactly as given: no compression, no check.
func (w *Writer) AddRaw(name string, data []byte) error {
	return w.AddEntry(&tar.Header{Name: name, Mode: 0o644}, data)
}

// AddEntry writes an outer tar entry from hdr, filling in the size, a
// regular-file type when none is set, and the fixed time. Tests use it for
// links, devices and other entries a real archive never holds.
func (w *Writer) AddEntry(hdr *tar.Header, data []byte) error {
	h := *hdr
	if h.Typeflag == 0 {
		h.Typeflag = tar.TypeReg
	}
	if h.Typeflag == tar.TypeReg {
		h.Size = int64(len(data))
	}
	if h.ModTime.IsZero() {
		h.ModTime = w.mtime
	}
	if err := w.tw.WriteHeader(&h); err != nil {
		return fmt.Errorf("write header of %s: %w", h.Name, err)
	}
	if _, err := w.tw.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", h.Name, err)
	}
	w.count(h.Name, h.Size)
	return nil
}

// Close writes the end of the archive. It does not close the underlying writer.
func (w *Writer) Close() error {
	if err := w.tw.Close(); err != nil {
		return fmt.Errorf("finish archive: %w", err)
	}
	return nil
}

// Counts is what the Writer has written so far.
func (w *Writer) Counts() WriterCounts { return w.counts }

// Bytes is how many bytes the Writer has written so far.
func (w *Writer) Bytes() int64 { return w.out.N }

func (w *Writer) count(name string, size int64) {
	kind, _ := ParseMemberName(name)
	w.counts.Members++
	w.counts.ByKind[kind]++
	switch kind {
	case KindGitMetadata, KindGitHooks, KindGitObjects:
		w.counts.GitBytes += size
	}
}

// addStreamedTar writes an uncompressed inner tar straight into the outer
// one.
func (w *Writer) addStreamedTar(name string, files []TarFile) error {
	t, err := StartTar(files, w.mtime)
	if err != nil {
		return fmt.Errorf("size %s: %w", name, err)
	}
	return w.addStarted(name, t)
}

// AddStartedTar writes t as the uncompressed inner tar member of kind and
// ids (the objects member), and stops t.
func (w *Writer) AddStartedTar(kind Kind, ids IDs, t *StartedTar) error {
	return w.addStarted(MemberName(kind, ids), t)
}

func (w *Writer) addStarted(name string, t *StartedTar) error {
	defer t.Stop()
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: t.size, Typeflag: tar.TypeReg, ModTime: w.mtime}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write header of %s: %w", name, err)
	}
	if err := t.ahead.write(w.tw, t.files, t.mtime); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	w.count(name, t.size)
	return nil
}

// StartedTar is an uncompressed inner tar on its way into an archive:
// sized from its headers alone (the outer header needs the size first),
// its small files read ahead from the moment it starts, so that an
// exporter can start the next repository's objects while it writes one.
type StartedTar struct {
	files []TarFile
	mtime time.Time
	size  int64
	ahead *readAhead
}

// StartTar sizes the inner tar of files, each entry dated mtime, and
// starts reading its small files ahead. Stop (or writing it) ends that.
func StartTar(files []TarFile, mtime time.Time) (*StartedTar, error) {
	ahead, size, err := startReadAhead(files, mtime)
	if err != nil {
		return nil, err
	}
	return &StartedTar{files: files, mtime: mtime, size: size, ahead: ahead}, nil
}

// Stop ends the reading ahead of a tar that is not written after all. It
// may be called more than once.
func (t *StartedTar) Stop() {
	if t != nil {
		t.ahead.stop()
	}
}

// innerHeader is the header of f in an inner tar dated mtime, its size
// that of Data or of the file at Path.
func innerHeader(f TarFile, mtime time.Time) (tar.Header, error) {
	hdr := tar.Header{Name: f.Name, Mode: f.Mode, Typeflag: f.Typeflag, Linkname: f.Linkname, ModTime: mtime}
	if hdr.Typeflag == 0 {
		hdr.Typeflag = tar.TypeReg
	}
	if hdr.Mode == 0 {
		hdr.Mode = 0o644
	}
	if hdr.Typeflag != tar.TypeReg {
		return hdr, nil
	}
	hdr.Size = int64(len(f.Data))
	switch {
	case f.Path != "" && f.Size > 0:
		hdr.Size = f.Size
	case f.Path != "":
		var st unix.Stat_t
		if err := unix.Stat(f.Path, &st); err != nil {
			return hdr, &fs.PathError{Op: "stat", Path: f.Path, Err: err}
		}
		hdr.Size = st.Size
	}
	return hdr, nil
}

const blockSize = 512

// headerBytes is how many bytes a tar.Writer writes for hdr: one block
// when the ustar format holds it whole (every name an objects tar
// carries), else what writing it alone takes (extended headers).
func headerBytes(hdr *tar.Header) (int64, error) {
	if fitsUSTAR(hdr) {
		return blockSize, nil
	}
	n := &CountingWriter{W: io.Discard}
	h := *hdr // so that hdr itself need not live on the heap
	if err := tar.NewWriter(n).WriteHeader(&h); err != nil {
		return 0, err
	}
	return n.N, nil
}

// fitsUSTAR reports, conservatively, that hdr needs nothing but a ustar
// block: a short ASCII name, no link, and numbers within its octal fields.
func fitsUSTAR(hdr *tar.Header) bool {
	const maxOctal11 = 1<<33 - 1
	if len(hdr.Name) > 100 || hdr.Linkname != "" || hdr.Uname != "" || hdr.Gname != "" || hdr.PAXRecords != nil ||
		hdr.Uid != 0 || hdr.Gid != 0 || hdr.Mode < 0 || hdr.Mode > 0o7777777 || hdr.Size < 0 || hdr.Size > maxOctal11 ||
		hdr.ModTime.Nanosecond() != 0 || hdr.ModTime.Unix() < 0 || hdr.ModTime.Unix() > maxOctal11 ||
		!hdr.AccessTime.IsZero() || !hdr.ChangeTime.IsZero() || hdr.Format != tar.FormatUnknown {
		return false
	}
	for i := 0; i < len(hdr.Name); i++ {
		if c := hdr.Name[i]; c == 0 || c >= 0x80 {
			return false
		}
	}
	return true
}

// writeInnerTar writes files as a tar on out, reading Path files from
// disk: small ones ahead, on other goroutines, laid out as their stretch
// of the tar (see readAhead), since an objects tar holds many thousands
// of loose objects and each costs an open, a read and a close.
func writeInnerTar(out io.Writer, files []TarFile, mtime time.Time) error {
	ahead, _, err := startReadAhead(files, mtime)
	if err != nil {
		return err
	}
	defer ahead.stop()
	return ahead.write(out, files, mtime)
}

// write writes files as a tar on out, the stretches ra reads ahead as
// they are and the other files through a tar.Writer.
func (ra *readAhead) write(out io.Writer, files []TarFile, mtime time.Time) error {
	tw := tar.NewWriter(out)
	for i := 0; i < len(files); {
		if ra.at(i) {
			stretch, n, err := ra.take()
			if err == nil {
				// The tar.Writer's last entry is padded before the stretch.
				err = tw.Flush()
			}
			if err == nil {
				_, err = out.Write(stretch)
			}
			if err != nil {
				return fmt.Errorf("inner %s: %w", files[i].Name, err)
			}
			i += n
			continue
		}
		f := files[i]
		i++
		hdr, err := innerHeader(f, mtime)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			return fmt.Errorf("inner %s: %w", f.Name, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if f.Path != "" {
			err = copyFile(tw, f.Path, hdr.Size)
		} else {
			_, err = tw.Write(f.Data)
		}
		if err != nil {
			return fmt.Errorf("inner %s: %w", f.Name, err)
		}
	}
	// Close writes the inner tar's end blocks; a tar.Writer never closes
	// what it writes to, so the outer tar stays open.
	return tw.Close()
}

// copyFile streams size bytes of the file at path into w: the size is
// what the header said, so a file that changed meanwhile must not break
// the tar. Plain system calls, not an *os.File: registering each of many
// thousands of small files with the poller costs more than reading it.
func copyFile(w io.Writer, path string, size int64) error {
	fd, err := openFile(path)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	for left := size; left > 0; {
		n, err := readFull(fd, path, (*buf)[:min(left, int64(len(*buf)))])
		if err != nil {
			return err
		}
		if _, err := w.Write((*buf)[:n]); err != nil {
			return err
		}
		left -= int64(n)
	}
	return nil
}

func openFile(path string) (int, error) {
	fd, err := RetryOpen(func() (int, error) { return unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

// RetryOpen calls open until a signal does not interrupt it: the open
// system calls of the exporter and the archive's readers, made without
// the os package's own retry.
func RetryOpen(open func() (int, error)) (int, error) {
	for {
		fd, err := open()
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}

// readFull fills p from fd, or says the file is shorter than its header.
func readFull(fd int, path string, p []byte) (int, error) {
	got := 0
	for got < len(p) {
		n, err := unix.Read(fd, p[got:])
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return got, &fs.PathError{Op: "read", Path: path, Err: err}
		case n == 0:
			return got, fmt.Errorf("%s changed while it was written: it ended %d bytes short of its size", path, len(p)-got)
		}
		got += n
	}
	return got, nil
}

var copyBuffers = sync.Pool{New: func() any {
	b := make([]byte, 64<<10)
	return &b
}}

func encodeJSON(v any, pretty bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	data := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if pretty {
		return Jackson(data)
	}
	return data, nil
}

// CountingWriter counts the bytes written through it to W.
type CountingWriter struct {
	W io.Writer
	N int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}
