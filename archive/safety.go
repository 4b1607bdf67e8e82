package archive

import (
	"archive/tar"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"
)

// The rules of the safety checks, as an *Error names them.
const (
	ruleEmptyName   = "names must not be empty"
	ruleNUL         = "names must not contain NUL"
	ruleBackslash   = "names must not contain backslashes"
	rulePrintable   = "names must be printable UTF-8"
	ruleAbsolute    = "names must be relative, not absolute"
	ruleDotDot      = `names must not contain ".." elements`
	ruleClean       = "names must be clean relative paths"
	ruleDuplicate   = "names must be unique: this name appeared before"
	ruleReopened    = "names must be unique: this member is of repository %s, whose fork hierarchy already ended, so its name may have appeared before"
	ruleRegularOnly = "only regular files are allowed"
	ruleSparse      = "sparse files are not allowed"
	ruleNoEndMarker = "the tar ends without its end-of-archive marker"
)

// checkName returns the rule a tar entry name breaks, or "".
func checkName(name string) string {
	switch {
	case name == "":
		return ruleEmptyName
	case strings.IndexByte(name, 0) >= 0:
		return ruleNUL
	case strings.IndexByte(name, '\\') >= 0:
		return ruleBackslash
	case !printable(name):
		return rulePrintable
	case strings.HasPrefix(name, "/"):
		return ruleAbsolute
	case name == ".." || strings.HasPrefix(name, "../") || strings.HasSuffix(name, "/..") || strings.Contains(name, "/../"):
		return ruleDotDot
	case name == "." || path.Clean(name) != name:
		return ruleClean
	}
	return ""
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// typeName says what a non-regular tar entry is, for the error message.
func typeName(h *tar.Header) string {
	switch h.Typeflag {
	case tar.TypeSymlink:
		return fmt.Sprintf("a symbolic link (to %q)", h.Linkname)
	case tar.TypeLink:
		return fmt.Sprintf("a hard link (to %q)", h.Linkname)
	case tar.TypeChar:
		return "a character device"
	case tar.TypeBlock:
		return "a block device"
	case tar.TypeFifo:
		return "a FIFO"
	case tar.TypeDir:
		return "a directory"
	case tar.TypeXGlobalHeader:
		return "a global pax header"
	case tar.TypeCont:
		return "a contiguous file"
	}
	return fmt.Sprintf("an entry of type %q", h.Typeflag)
}

// nameSet remembers names by a 128-bit hash, so that remembering every
// file of an inner tar stays small.
type nameSet map[[16]byte]struct{}

func nameKey(name string) [16]byte {
	sum := sha256.Sum256([]byte(name))
	var k [16]byte
	copy(k[:], sum[:])
	return k
}

// add returns the rule name breaks, or "" when it is new.
func (s nameSet) add(name string) string {
	k := nameKey(name)
	if _, ok := s[k]; ok {
		return ruleDuplicate
	}
	s[k] = struct{}{}
	return ""
}

// uniqueNames checks that the names of one tar are unique.
type uniqueNames interface {
	add(name string) (rule string)
}

// memberNames checks that the outer tar's names are unique in memory that
// does not grow with the number of members. An archive holds millions of
// members, nearly all of them a repository's, and every member of a
// repository lies inside its fork hierarchy's markers: those names are
// remembered while the hierarchy is open and forgotten at its end, when
// only the repository's id is kept, to refuse any later member that names
// that repository again. Other names (instance details, projects, markers,
// unknown members) are thousands and kept for the whole archive.
type memberNames struct {
	archive nameSet
	scope   nameSet         // names of repository members in the open hierarchies
	named   map[string]bool // ids of the repositories in scope
	closed  map[string]bool // ids of the repositories whose hierarchy ended
	open    map[string]bool // ids of the open hierarchies
}

func newMemberNames() *memberNames {
	return &memberNames{archive: nameSet{}, scope: nameSet{}, named: map[string]bool{},
		closed: map[string]bool{}, open: map[string]bool{}}
}

func (n *memberNames) add(name string) string {
	kind, ids := ParseMemberName(name)
	k := nameKey(name)
	_, inArchive := n.archive[k]
	_, inScope := n.scope[k]
	if inArchive || inScope {
		return ruleDuplicate
	}
	repo := ids.Repository
	if repo != "" && n.closed[repo] {
		return fmt.Sprintf(ruleReopened, repo)
	}
	switch {
	case repo != "" && len(n.open) > 0:
		n.scope[k] = struct{}{}
		n.named[repo] = true
		return ""
	case kind == KindHierarchyBegin:
		n.open[ids.Hierarchy] = true
	case kind == KindHierarchyEnd:
		delete(n.open, ids.Hierarchy)
		if len(n.open) == 0 {
			for id := range n.named {
				n.closed[id] = true
			}
			// New maps, not clear: clear keeps the largest hierarchy's buckets.
			n.scope, n.named = nameSet{}, map[string]bool{}
		}
	}
	n.archive[k] = struct{}{}
	return ""
}

// tarWalk walks the headers of one tar, outer or inner, enforcing every
// safety rule before returning a header.
type tarWalk struct {
	tr     *tar.Reader
	src    *counter
	member string // the outer member an inner tar is in; "" for the outer tar
	lim    Limits
	seen   uniqueNames
	files  int
	last   string // the last entry's name, to say where a tar was cut
	end    int64  // where the last entry's data (with padding) ends
}

func newTarWalk(r io.Reader, member string, lim Limits) *tarWalk {
	c := newCounter(r, member == "")
	var tr *tar.Reader
	if c.seeker != nil {
		tr = tar.NewReader(seekCounter{c})
	} else {
		tr = tar.NewReader(c)
	}
	w := &tarWalk{tr: tr, src: c, member: member, lim: lim, seen: nameSet{}}
	if !w.inner() {
		w.seen = newMemberNames()
	}
	return w
}

func (w *tarWalk) inner() bool { return w.member != "" }

// fail builds an *Error about entry name of this tar.
func (w *tarWalk) fail(name string, sentinel error, rule string) *Error {
	if w.inner() {
		return &Error{Member: w.member, Inner: name, Err: sentinel, Rule: rule}
	}
	return &Error{Member: name, Err: sentinel, Rule: rule}
}

// next returns the next regular file's header, or io.EOF at a clean end.
// Directory entries of inner tars are checked and skipped.
func (w *tarWalk) next() (*tar.Header, error) {
	for {
		hdr, err := w.tr.Next()
		if errors.Is(err, io.EOF) {
			// archive/tar also calls a tar that simply stops between two
			// entries complete; only the end marker tells it from a cut.
			// An empty stream is an empty tar, not a cut one.
			if w.src.pos != 0 && w.src.pos < w.end+2*512 {
				return nil, w.fail(w.last, ErrTruncated, ruleNoEndMarker)
			}
			return nil, io.EOF
		}
		// With GODEBUG=tarinsecurepath=0 archive/tar flags some unsafe
		// names itself; the checks below name the rule.
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			if w.inner() {
				return nil, classify(err, w.member, w.last)
			}
			return nil, classify(err, w.last, "")
		}
		w.last = hdr.Name
		w.end = w.src.pos + (hdr.Size+511)/512*512
		name := hdr.Name
		dir := hdr.Typeflag == tar.TypeDir
		if dir && w.inner() {
			name = strings.TrimSuffix(name, "/")
		} else if hdr.Typeflag != tar.TypeReg {
			return nil, w.fail(name, ErrUnsafe, typeName(hdr)+": "+ruleRegularOnly)
		}
		if rule := checkName(name); rule != "" {
			return nil, w.fail(name, ErrUnsafe, rule)
		}
		if dir {
			continue
		}
		for k := range hdr.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				return nil, w.fail(name, ErrUnsafe, ruleSparse)
			}
		}
		if w.inner() {
			if hdr.Size > w.lim.MaxMemberBytes {
				return nil, w.fail(name, ErrLimit, fmt.Sprintf("the file is %d bytes, over the limit of %d", hdr.Size, w.lim.MaxMemberBytes))
			}
			if w.files++; w.files > w.lim.MaxInnerFiles {
				return nil, w.fail(name, ErrLimit, fmt.Sprintf("the tar holds more than %d files (MaxInnerFiles)", w.lim.MaxInnerFiles))
			}
		}
		if rule := w.seen.add(name); rule != "" {
			return nil, w.fail(name, ErrUnsafe, rule)
		}
		hdr.Name = name
		return hdr, nil
	}
}

// counter counts the bytes read from r; through seekCounter it also
// follows seeks, so that archive/tar still skips members by seeking.
type counter struct {
	r      io.Reader
	seeker io.Seeker // nil when r cannot seek
	base   int64     // r's position when counting began
	pos    int64     // bytes consumed since then
	head   []byte    // the first bytes, to recognise a gzip'd archive
	keep   bool
}

func newCounter(r io.Reader, keepHead bool) *counter {
	c := &counter{r: r, keep: keepHead}
	// os.Stdin is an io.Seeker that cannot seek: try before relying on it.
	if s, ok := r.(io.Seeker); ok {
		if base, err := s.Seek(0, io.SeekCurrent); err == nil {
			c.seeker, c.base = s, base
		}
	}
	return c
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.keep && len(c.head) < 4 {
		c.head = append(c.head, p[:min(n, 4-len(c.head))]...)
	}
	c.pos += int64(n)
	return n, err
}

type seekCounter struct{ *counter }

func (c seekCounter) Seek(offset int64, whence int) (int64, error) {
	abs, err := c.seeker.Seek(offset, whence)
	if err == nil {
		c.pos = abs - c.base
	}
	return abs, err
}

// capReader fails with ErrLimit as soon as more than max bytes come out of
// r: a gzip bomb stops at the cap, not after.
type capReader struct {
	r      io.Reader
	n, max int64
	member string
	rule   string // the limit's words; "" names MaxMemberBytes
}

func (c *capReader) Read(p []byte) (int, error) {
	if room := c.max - c.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		rule := c.rule
		if rule == "" {
			rule = fmt.Sprintf("it decompresses to more than %d bytes (MaxMemberBytes)", c.max)
		}
		return 0, &Error{Member: c.member, Err: ErrLimit, Rule: rule}
	}
	return n, err
}

// keptBuffer is the largest buffer readAll keeps for the next document: a
// pass reads millions of small ones, and one of MaxJSONBytes must not stay.
const keptBuffer = 1 << 20

// readAll reads a small document whole, up to max bytes, into buf, which
// it reuses: the bytes are valid until the next call.
func readAll(buf *bytes.Buffer, r io.Reader, max int64, member, inner, what, limitName string) ([]byte, error) {
	if buf.Cap() > keptBuffer {
		*buf = bytes.Buffer{}
	}
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, classify(err, member, inner)
	}
	if n > max {
		return nil, &Error{Member: member, Inner: inner, Err: ErrLimit,
			Rule: fmt.Sprintf("the %s is over %d bytes (%s)", what, max, limitName)}
	}
	return buf.Bytes(), nil
}

// drain reads a gzip stream to its end, where gzip checks the CRC.
func drain(r io.Reader, member string) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return classify(err, member, "")
	}
	return nil
}

// classify turns what archive/tar, gzip and flate return into *Error.
func classify(err error, member, inner string) error {
	var e *Error
	var corrupt flate.CorruptInputError
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Member: member, Inner: inner, Err: ErrTruncated, Rule: "the data ends in the middle of an entry"}
	case errors.Is(err, io.EOF): // gzip.NewReader on no bytes at all
		return &Error{Member: member, Inner: inner, Err: ErrMalformed, Rule: "it is empty, where gzip data was expected"}
	case errors.Is(err, gzip.ErrChecksum):
		return &Error{Member: member, Inner: inner, Err: ErrTruncated, Rule: "gzip checksum mismatch: the data is damaged or cut short"}
	case errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		return &Error{Member: member, Inner: inner, Err: ErrMalformed, Rule: "it is not valid gzip data"}
	case errors.Is(err, tar.ErrHeader), errors.Is(err, tar.ErrFieldTooLong):
		return &Error{Member: member, Inner: inner, Err: ErrMalformed, Rule: "it is not a valid tar: " + err.Error()}
	}
	if inner != "" {
		return fmt.Errorf("read %s in %s: %w", inner, member, err)
	}
	if member != "" {
		return fmt.Errorf("read %s: %w", member, err)
	}
	return err
}

// checkedBody is an inner file's body; its errors are *Error values.
type checkedBody struct {
	r             io.Reader
	member, inner string
}

func (b *checkedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = classify(err, b.member, b.inner)
	}
	return n, err
}

// checkObjectsTar applies the rules of Member.Files to every header of a
// git objects tar, read from r, the member's bytes. It reads headers only:
// when r can seek, archive/tar seeks past each file's data, so checking
// the git objects of a large archive costs what reading their headers does.
func checkObjectsTar(r io.Reader, member string, lim Limits) error {
	// That tar is not compressed, so a file there cannot be bigger than
	// the archive: Member.Files caps it with MaxObjectFileBytes as well.
	lim.MaxMemberBytes = lim.MaxObjectFileBytes
	w := newTarWalk(r, member, lim)
	for {
		if _, err := w.next(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}
