package gen

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha1" //nolint:gosec // git names objects by SHA-1
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"bbimport/archive"
)

// Git objects are made in Go, byte for byte as `git fast-import` makes them
// from the same commands: no git process runs. A repository's objects are
// either kept as loose objects in memory (small repositories) or streamed
// into one pack on disk, so memory stays flat whatever the blob sizes.

type objectID [20]byte

func (id objectID) String() string { return hex.EncodeToString(id[:]) }

func parseID(s string) (objectID, error) {
	var id objectID
	if len(s) != 40 {
		return id, fmt.Errorf("object id %q is not 40 hex digits", s)
	}
	_, err := hex.Decode(id[:], []byte(s))
	return id, err
}

// Pack object types, as a pack entry's header gives them.
const (
	objCommit = 1
	objTree   = 2
	objBlob   = 3
	objTag    = 4
)

var typeNames = map[int]string{objCommit: "commit", objTree: "tree", objBlob: "blob", objTag: "tag"}

// dirTree is one directory of a commit's tree: file name to blob. Trees
// are copied on write, so a commit's tree shares its unchanged directories
// with its parent's, and their ids are hashed once.
type dirTree struct {
	files map[string]objectID
	id    objectID
}

// treeState is a commit's whole tree: directory ("" for the top) to its
// files. The synthetic repositories' paths are at most one directory deep.
type treeState map[string]*dirTree

// objectWriter hashes and stores one repository's objects. Errors stick
// and surface at finish, as fastImport's did at Flush.
type objectWriter struct {
	seed   int64
	repo   uint64
	buf    []byte
	trees  map[string]treeState // commit id to its tree
	have   map[objectID]bool    // objects stored
	origin *objectWriter        // a fork's: its objects are borrowed, not stored again
	sink   objectSink
	err    error
}

// objectSink stores the objects a repository adds.
type objectSink interface {
	add(id objectID, typ int, header string, data []byte) error
}

func newObjectWriter(seed int64, repo uint64, sink objectSink, origin *objectWriter) *objectWriter {
	return &objectWriter{seed: seed, repo: repo, sink: sink, origin: origin,
		trees: map[string]treeState{}, have: map[objectID]bool{}}
}

func (w *objectWriter) has(id objectID) bool {
	return w.have[id] || (w.origin != nil && w.origin.has(id))
}

// treeOf is a commit's tree; a fork's commits start on its origin's.
func (w *objectWriter) treeOf(commit string) treeState {
	if t, ok := w.trees[commit]; ok || w.origin == nil {
		return t
	}
	return w.origin.treeOf(commit)
}

// store hashes an object and hands it to the sink unless the repository
// (or its origin) has it already.
func (w *objectWriter) store(typ int, data []byte) objectID {
	header := typeNames[typ] + " " + strconv.Itoa(len(data)) + "\x00"
	h := sha1.New() //nolint:gosec // git names objects by SHA-1
	h.Write([]byte(header))
	h.Write(data)
	var id objectID
	h.Sum(id[:0])
	if w.err != nil || w.has(id) {
		return id
	}
	w.have[id] = true
	w.err = w.sink.add(id, typ, header, data)
	return id
}

func (w *objectWriter) blob(data []byte) string { return w.store(objBlob, data).String() }

// randomBlob stores size seeded random bytes, the n-th blob of the
// repository: content that neither compresses nor deltifies, so the
// archive's size is what was asked for.
func (w *objectWriter) randomBlob(size int, n uint64) string {
	if cap(w.buf) < size {
		w.buf = make([]byte, size)
	}
	blobBytes(w.buf[:size], w.seed, w.repo, n)
	return w.blob(w.buf[:size])
}

// commit stores a commit whose tree is from's with changes applied (the
// first parent's, as fast-import does for merges too). Refs are not
// written here: they live in the metadata tar.
func (w *objectWriter) commit(who person, when int64, msg, from, merge string, changes []fileChange) string {
	tree := treeState{}
	if from != "" {
		tree = w.treeOf(from)
	}
	tree = w.apply(tree, changes)
	ident := fmt.Sprintf("%s <%s> %d +0000", who.id.DisplayName, who.email, when)
	var sb strings.Builder
	fmt.Fprintf(&sb, "tree %s\n", tree[""].id)
	for _, p := range []string{from, merge} {
		if p != "" {
			fmt.Fprintf(&sb, "parent %s\n", p)
		}
	}
	fmt.Fprintf(&sb, "author %s\ncommitter %s\n\n%s", ident, ident, msg)
	id := w.store(objCommit, []byte(sb.String())).String()
	w.trees[id] = tree
	return id
}

func (w *objectWriter) tag(name, from string, who person, when int64, msg string) string {
	data := fmt.Sprintf("object %s\ntype commit\ntag %s\ntagger %s <%s> %d +0000\n\n%s",
		from, name, who.id.DisplayName, who.email, when, msg)
	return w.store(objTag, []byte(data)).String()
}

// apply returns base with changes made, storing the trees that change.
func (w *objectWriter) apply(base treeState, changes []fileChange) treeState {
	tree := make(treeState, len(base)+1)
	for k, v := range base {
		tree[k] = v
	}
	var changed []string // in order: a pack's object order must not vary
	for _, c := range changes {
		dir, name := "", c.path
		if i := strings.LastIndexByte(c.path, '/'); i >= 0 {
			dir, name = c.path[:i], c.path[i+1:]
		}
		if !slices.Contains(changed, dir) {
			changed = append(changed, dir)
			d := &dirTree{files: map[string]objectID{}}
			if old := tree[dir]; old != nil {
				for k, v := range old.files {
					d.files[k] = v
				}
			}
			tree[dir] = d
		}
		id, err := parseID(c.blob)
		if err != nil && w.err == nil {
			w.err = err
		}
		tree[dir].files[name] = id
	}
	for _, dir := range changed {
		if dir != "" {
			tree[dir].id = w.storeTree(tree[dir].files, nil)
		}
	}
	top := tree[""]
	if top == nil {
		top = &dirTree{files: map[string]objectID{}}
	}
	subdirs := map[string]objectID{}
	for dir, d := range tree {
		if dir != "" {
			subdirs[dir] = d.id
		}
	}
	tree[""] = &dirTree{files: top.files, id: w.storeTree(top.files, subdirs)}
	return tree
}

// storeTree stores a tree of files and subdirectories. Git sorts entries
// by name, a directory's name compared as if it ended in "/".
func (w *objectWriter) storeTree(files, dirs map[string]objectID) objectID {
	type entry struct {
		key, mode, name string
		id              objectID
	}
	entries := make([]entry, 0, len(files)+len(dirs))
	for name, id := range files {
		entries = append(entries, entry{name, "100644", name, id})
	}
	for name, id := range dirs {
		entries = append(entries, entry{name + "/", "40000", name, id})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	var buf bytes.Buffer
	for _, e := range entries {
		buf.WriteString(e.mode)
		buf.WriteByte(' ')
		buf.WriteString(e.name)
		buf.WriteByte(0)
		buf.Write(e.id[:])
	}
	return w.store(objTree, buf.Bytes())
}

// looseSink keeps each object as git stores a loose one: the zlib stream
// of its header and content (stored, see newPackSink), named
// <2 hex>/<38 hex>.
type looseSink struct {
	files map[objectID][]byte
	buf   bytes.Buffer
	zw    *zlib.Writer
}

func newLooseSink() *looseSink {
	s := &looseSink{files: map[objectID][]byte{}}
	s.zw, _ = zlib.NewWriterLevel(&s.buf, zlib.NoCompression) // see newPackSink
	return s
}

func (s *looseSink) add(id objectID, _ int, header string, data []byte) error {
	s.buf.Reset()
	s.zw.Reset(&s.buf)
	s.zw.Write([]byte(header)) //nolint:errcheck // a bytes.Buffer does not fail; Close reports the rest
	s.zw.Write(data)           //nolint:errcheck // as above
	if err := s.zw.Close(); err != nil {
		return fmt.Errorf("compress object %s: %w", id, err)
	}
	s.files[id] = bytes.Clone(s.buf.Bytes())
	return nil
}

// finish lists the objects as a real objects tar holds them: mode 0400,
// not in name order (Mesh writes them in the order it walks its store;
// here, by the last 38 digits, so that the order is still the same in
// every run), leaving out those in drop (returned as dropped).
func (s *looseSink) finish(drop []string) (files []File, dropped []string) {
	for id, data := range s.files {
		name := id.String()
		if slices.Contains(drop, name) {
			dropped = append(dropped, name)
			continue
		}
		files = append(files, File{Name: name[:2] + "/" + name[2:], Mode: 0o400, Data: data})
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name[3:], b.Name[3:]) })
	slices.Sort(dropped)
	return files, dropped
}

// packSink streams objects, undeltified, into a version 2 pack on disk;
// finish writes its trailer and index.
type packSink struct {
	dir     string
	f       *os.File
	bw      *bufio.Writer
	off     int64
	entries []packEntry
	zw      *zlib.Writer
	crc     hash.Hash32
}

type packEntry struct {
	id     objectID
	offset int64
	crc    uint32
}

const packHeaderSize = 12

func newPackSink(dir string) (*packSink, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("make pack directory: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "tmp.pack"))
	if err != nil {
		return nil, fmt.Errorf("create pack: %w", err)
	}
	s := &packSink{dir: dir, f: f, bw: bufio.NewWriterSize(f, 1<<16), off: packHeaderSize, crc: crc32.NewIEEE()}
	// The object count is filled in by finish.
	s.bw.Write(make([]byte, packHeaderSize)) //nolint:errcheck // sticks until Flush
	// Stored, not compressed: objects are small trees, commits and texts,
	// or random bytes; compressing them took more than half of gen's time
	// (200 repositories, 10,000 pull requests: 8.6 s of CPU, 6.5 s
	// stored) for 4% of the archive's size.
	s.zw, _ = zlib.NewWriterLevel(nil, zlib.NoCompression)
	return s, nil
}

func (s *packSink) add(id objectID, typ int, _ string, data []byte) error {
	s.crc.Reset()
	out := io.MultiWriter(s.bw, s.crc)
	// The entry header: type and size, 4 bits of size in the first byte,
	// 7 in each next one, low bits first.
	size := len(data)
	hdr := []byte{byte(typ<<4 | size&0x0f)}
	for size >>= 4; size > 0; size >>= 7 {
		hdr[len(hdr)-1] |= 0x80
		hdr = append(hdr, byte(size&0x7f))
	}
	cw := &archive.CountingWriter{W: out}
	cw.Write(hdr) //nolint:errcheck // sticks in the bufio.Writer until Flush
	s.zw.Reset(cw)
	s.zw.Write(data) //nolint:errcheck // as above
	if err := s.zw.Close(); err != nil {
		return fmt.Errorf("pack object %s: %w", id, err)
	}
	s.entries = append(s.entries, packEntry{id: id, offset: s.off, crc: s.crc.Sum32()})
	s.off += cw.N
	return nil
}

// finish completes the pack (count, trailing checksum), names it
// pack-<checksum> as git does, writes its index, and lists both.
func (s *packSink) finish() (files []File, err error) {
	defer s.f.Close()
	if err := s.bw.Flush(); err != nil {
		return nil, fmt.Errorf("write pack: %w", err)
	}
	var header [packHeaderSize]byte
	copy(header[:], "PACK")
	binary.BigEndian.PutUint32(header[4:], 2)
	binary.BigEndian.PutUint32(header[8:], uint32(len(s.entries)))
	if _, err := s.f.WriteAt(header[:], 0); err != nil {
		return nil, fmt.Errorf("write pack: %w", err)
	}
	h := sha1.New() //nolint:gosec // git's pack checksum is SHA-1
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read pack: %w", err)
	}
	if _, err := io.Copy(h, s.f); err != nil {
		return nil, fmt.Errorf("read pack: %w", err)
	}
	sum := h.Sum(nil)
	if _, err := s.f.Write(sum); err != nil {
		return nil, fmt.Errorf("write pack: %w", err)
	}
	name := "pack-" + hex.EncodeToString(sum)
	packPath, idxPath := filepath.Join(s.dir, name+".pack"), filepath.Join(s.dir, name+".idx")
	if err := os.Rename(s.f.Name(), packPath); err != nil {
		return nil, fmt.Errorf("name pack: %w", err)
	}
	if err := os.WriteFile(idxPath, s.index(sum), 0o644); err != nil {
		return nil, fmt.Errorf("write pack index: %w", err)
	}
	return []File{{Name: "pack/" + name + ".idx", Mode: 0o444, Path: idxPath},
		{Name: "pack/" + name + ".pack", Mode: 0o444, Path: packPath}}, nil
}

// index is the version 2 pack index: header, fan-out, sorted ids, CRCs,
// offsets (with a table of 64-bit ones past 2 GiB), the pack's checksum
// and its own.
func (s *packSink) index(packSum []byte) []byte {
	entries := slices.Clone(s.entries)
	slices.SortFunc(entries, func(a, b packEntry) int { return bytes.Compare(a.id[:], b.id[:]) })
	var buf bytes.Buffer
	buf.Write([]byte{0xff, 't', 'O', 'c', 0, 0, 0, 2})
	var fan [256]uint32
	for _, e := range entries {
		fan[e.id[0]]++
	}
	for i, total := 0, uint32(0); i < 256; i++ {
		total += fan[i]
		buf.Write(binary.BigEndian.AppendUint32(nil, total))
	}
	for _, e := range entries {
		buf.Write(e.id[:])
	}
	for _, e := range entries {
		buf.Write(binary.BigEndian.AppendUint32(nil, e.crc))
	}
	var large []int64
	for _, e := range entries {
		off := uint32(e.offset)
		if e.offset >= 1<<31 {
			off = 1<<31 | uint32(len(large))
			large = append(large, e.offset)
		}
		buf.Write(binary.BigEndian.AppendUint32(nil, off))
	}
	for _, off := range large {
		buf.Write(binary.BigEndian.AppendUint64(nil, uint64(off)))
	}
	buf.Write(packSum)
	sum := sha1.Sum(buf.Bytes()) //nolint:gosec // git's index checksum is SHA-1
	buf.Write(sum[:])
	return buf.Bytes()
}
