package gen

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

	"bbimport/archive"
)

// archiveTime is the modification time of every tar entry, outer and inner:
// a fixed time keeps the same seed giving the same bytes.
var archiveTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one file of an inner tar (git metadata, hooks, objects, caches).
// Data holds its content, or Path names a file on disk whose bytes are
// streamed, so that large packs never sit in memory. Typeflag and Linkname
// are zero for the regular files a real archive holds; tests set them to
// craft unsafe inner tars.
type File struct {
	Name     string
	Mode     int64
	Data     []byte
	Path     string
	Typeflag byte
	Linkname string
}

// Writer writes a migration archive member by member, in the order the
// caller adds them. Generate uses it for whole archives; tests use it to
// craft odd ones.
type Writer struct {
	tw     *tar.Writer
	out    *countingWriter
	counts memberCounts
}

// memberCounts is what a Writer has written so far.
type memberCounts struct {
	members  int
	byKind   map[archive.Kind]int
	gitBytes int64
}

// NewWriter starts an archive on w. Close finishes it.
func NewWriter(w io.Writer) *Writer {
	cw := &countingWriter{w: w}
	return &Writer{tw: tar.NewWriter(cw), out: cw, counts: memberCounts{byKind: map[archive.Kind]int{}}}
}

// AddJSON writes v as the member of kind and ids: compact, or indented by
// two spaces when pretty (pull request metadata and activities), gzipped
// when the member name says so. HTML characters are not escaped, as
// Bitbucket's own writer does not escape them.
func (w *Writer) AddJSON(kind archive.Kind, ids archive.IDs, v any, pretty bool) error {
	name := archive.MemberName(kind, ids)
	data, err := jsonMember(name, v, pretty)
	if err != nil {
		return err
	}
	return w.AddRaw(name, data)
}

// AddTar writes files as an inner tar member of kind and ids, gzipped when
// the member name says so. The objects tar is not compressed: it is streamed
// into the archive, its size worked out beforehand.
func (w *Writer) AddTar(kind archive.Kind, ids archive.IDs, files []File) error {
	name := archive.MemberName(kind, ids)
	if !strings.HasSuffix(name, ".atl.gz") {
		return w.addStreamedTar(name, files)
	}
	data, err := tarMember(name, files)
	if err != nil {
		return err
	}
	return w.AddRaw(name, data)
}

// jsonMember is the member name's bytes for v (see AddJSON). It needs no
// Writer, so that members can be made on several goroutines.
func jsonMember(name string, v any, pretty bool) ([]byte, error) {
	data, err := encodeJSON(v, pretty)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", name, err)
	}
	return compressMember(name, data)
}

// tarMember is the member name's bytes for an inner tar of files held in
// memory.
func tarMember(name string, files []File) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeInnerTar(&buf, files, false); err != nil {
		return nil, fmt.Errorf("build %s: %w", name, err)
	}
	return compressMember(name, buf.Bytes())
}

// gzipWriters are reused: a gzip writer's state is large.
var gzipWriters = sync.Pool{New: func() any {
	// The fastest level: members are small, and most of the time of a
	// higher one went into resetting its larger state for each of them.
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// compressMember gzips data if name ends in .atl.gz. The gzip header
// carries no time and no name, so output is reproducible.
func compressMember(name string, data []byte) ([]byte, error) {
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
		h.ModTime = archiveTime
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

// Bytes is how many bytes the Writer has written so far.
func (w *Writer) Bytes() int64 { return w.out.n }

func (w *Writer) count(name string, size int64) {
	kind, _ := archive.ParseMemberName(name)
	w.counts.members++
	w.counts.byKind[kind]++
	switch kind {
	case archive.KindGitMetadata, archive.KindGitHooks, archive.KindGitObjects:
		w.counts.gitBytes += size
	}
}

// addStreamedTar writes an uncompressed inner tar straight into the outer
// one. The outer header needs the size first: a dry run over a counting
// writer gives it exactly, whatever header format each inner name needs.
func (w *Writer) addStreamedTar(name string, files []File) error {
	size := &countingWriter{w: io.Discard}
	if err := writeInnerTar(size, files, true); err != nil {
		return fmt.Errorf("size %s: %w", name, err)
	}
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: size.n, Typeflag: tar.TypeReg, ModTime: archiveTime}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write header of %s: %w", name, err)
	}
	if err := writeInnerTar(w.tw, files, false); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	w.count(name, size.n)
	return nil
}

// writeInnerTar writes files as a tar on out, reading Path files from disk;
// a dry run writes zeros in their place, to learn the tar's size cheaply.
func writeInnerTar(out io.Writer, files []File, dryRun bool) error {
	tw := tar.NewWriter(out)
	for _, f := range files {
		hdr := &tar.Header{Name: f.Name, Mode: f.Mode, Typeflag: f.Typeflag, Linkname: f.Linkname, ModTime: archiveTime}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		size := int64(len(f.Data))
		if f.Path != "" {
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

func copyFileBody(tw io.Writer, f File, size int64, dryRun bool) error {
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
	_, err = io.Copy(tw, fh)
	return err
}

func encodeJSON(v any, pretty bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
