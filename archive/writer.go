package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
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
	if err := writeInnerTar(&buf, files, false, mtime); err != nil {
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
// one. The outer header needs the size first: a dry run over a counting
// writer gives it exactly, whatever header format each inner name needs.
func (w *Writer) addStreamedTar(name string, files []TarFile) error {
	size := &CountingWriter{W: io.Discard}
	if err := writeInnerTar(size, files, true, w.mtime); err != nil {
		return fmt.Errorf("size %s: %w", name, err)
	}
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: size.N, Typeflag: tar.TypeReg, ModTime: w.mtime}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write header of %s: %w", name, err)
	}
	if err := writeInnerTar(w.tw, files, false, w.mtime); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	w.count(name, size.N)
	return nil
}

// writeInnerTar writes files as a tar on out, reading Path files from disk;
// a dry run writes zeros in their place, to learn the tar's size cheaply.
func writeInnerTar(out io.Writer, files []TarFile, dryRun bool, mtime time.Time) error {
	tw := tar.NewWriter(out)
	for _, f := range files {
		hdr := &tar.Header{Name: f.Name, Mode: f.Mode, Typeflag: f.Typeflag, Linkname: f.Linkname, ModTime: mtime}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		size := int64(len(f.Data))
		if f.Path != "" && f.Size > 0 {
			size = f.Size
		} else if f.Path != "" {
			st, err := os.Stat(f.Path)
			if err != nil {
				return err
			}
			size = st.Size()
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = size
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("inner %s: %w", f.Name, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if err := copyFileBody(tw, f, size, dryRun); err != nil {
			return fmt.Errorf("inner %s: %w", f.Name, err)
		}
	}
	// Close writes the inner tar's end blocks; a tar.Writer never closes
	// what it writes to, so the outer tar stays open.
	return tw.Close()
}

func copyFileBody(tw io.Writer, f TarFile, size int64, dryRun bool) error {
	switch {
	case f.Path == "":
		_, err := tw.Write(f.Data)
		return err
	case dryRun:
		_, err := io.Copy(tw, io.LimitReader(zeros{}, size))
		return err
	}
	fh, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer fh.Close()
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	// Not io.Copy: an *os.File's WriteTo makes a buffer for each file,
	// and an objects tar holds many thousands of small ones. The size is
	// what the header said: a file that grew meanwhile must not break the
	// tar.
	n, err := io.CopyBuffer(tw, io.LimitReader(struct{ io.Reader }{fh}, size), *buf)
	if err == nil && n != size {
		err = fmt.Errorf("%s changed while it was written: %d bytes where there were %d", f.Path, n, size)
	}
	return err
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

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
