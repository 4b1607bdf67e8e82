// Over 600 lines on purpose: the one-pass streaming reader (member
// dispatch, inner tars, streamed activities, unknown-field reporting) keeps
// its position, limits and per-pass state in one Reader; the safety rules,
// decoding and layout live in their own files.

package archive

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"bbimport/model"
)

// Limits bound what the reader accepts from an archive. DefaultLimits is
// sized for real archives; raise a limit for an unusually large one. A zero
// field means its default, so Limits{} is the same as DefaultLimits().
type Limits struct {
	MaxMemberBytes int64 // decompressed bytes of one gzip member, or of one file of a gzip'd inner tar
	MaxJSONBytes   int64 // bytes of one JSON document
	MaxJSONDepth   int   // nesting depth of one JSON document
	MaxInnerFiles  int   // files in one inner tar
	// MaxJSONObjects caps the objects and arrays of one JSON document:
	// each "{}" becomes a Go value of a few hundred bytes, so MaxJSONBytes
	// alone lets a document take a hundred times its size in memory.
	// Activities are decoded a record at a time: for them it bounds the
	// rows an import writes for one pull request, not memory.
	MaxJSONObjects int
	// MaxObjectFileBytes caps one file of a git objects tar. That tar is
	// not compressed, so a file there cannot be bigger than the archive
	// itself; the cap is high because one pack of a big repository is.
	MaxObjectFileBytes int64
}

// DefaultLimits returns limits sized for real archives.
func DefaultLimits() Limits {
	return Limits{
		// Refs, reflogs and hooks of a repository with many thousand refs
		// stay far below this; a gzip bomb stops here.
		MaxMemberBytes: 1 << 30,
		// A pull request with thousands of comments is a few MB.
		MaxJSONBytes: 64 << 20,
		// Replies nest two levels (array, object) per reply.
		MaxJSONDepth:       512,
		MaxInnerFiles:      1 << 20,
		MaxObjectFileBytes: 256 << 30,
		// Activities hold one object or array per 140 bytes or so, so real
		// ones reach this only past MaxJSONBytes; this many empty ones
		// decode to some 400 MB; 16 MiB of them, under MaxJSONBytes, to 5 GB.
		MaxJSONObjects: 1 << 19,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxMemberBytes <= 0 {
		l.MaxMemberBytes = d.MaxMemberBytes
	}
	if l.MaxJSONBytes <= 0 {
		l.MaxJSONBytes = d.MaxJSONBytes
	}
	if l.MaxJSONDepth <= 0 {
		l.MaxJSONDepth = d.MaxJSONDepth
	}
	if l.MaxJSONObjects <= 0 {
		l.MaxJSONObjects = d.MaxJSONObjects
	}
	if l.MaxInnerFiles <= 0 {
		l.MaxInnerFiles = d.MaxInnerFiles
	}
	if l.MaxObjectFileBytes <= 0 {
		l.MaxObjectFileBytes = d.MaxObjectFileBytes
	}
	return l
}

// Sentinel errors, wrapped in *Error.
var (
	ErrUnsafe             = errors.New("unsafe archive")
	ErrTruncated          = errors.New("archive is truncated")
	ErrUnsupportedVersion = errors.New("unsupported archiveVersion")
	ErrNotAnArchive       = errors.New("not a Bitbucket migration archive")
	ErrLimit              = errors.New("over a limit")
	ErrMalformed          = errors.New("malformed archive member")
)

// Error is a safety or format violation. It names the member (and the inner
// file, for inner tars) and the rule broken.
type Error struct {
	Member string // outer member name
	Inner  string // inner file name, for inner tars
	Rule   string // e.g. "names must be clean relative paths"
	Err    error  // one of the sentinels above
}

func (e *Error) Error() string {
	s := "archive error"
	if e.Err != nil {
		s = e.Err.Error()
	}
	if e.Member != "" {
		s += ": member " + strconv.Quote(e.Member)
	}
	if e.Inner != "" {
		s += ", file " + strconv.Quote(e.Inner)
	}
	return s + ": " + e.Rule
}

func (e *Error) Unwrap() error { return e.Err }

// Member is one member of the outer tar, decoded. Exactly the fields of its
// Kind are set. A Member is valid only during the Handler call.
type Member struct {
	Name   string
	Kind   Kind
	IDs    IDs
	Size   int64 // bytes of the member in the outer tar
	Offset int64 // bytes of the archive consumed when this member starts (its data's offset)

	Instance       *model.InstanceDetails // KindInstanceDetails
	Project        *model.Project         // KindProject
	Repository     *model.Repository      // KindRepository
	Permissions    []model.Permission     // KindProjectPermissions, KindRepositoryPermissions
	AllPermissions json.RawMessage        // KindProjectAllPermissions (shape not known)
	PullRequest    *model.PullRequest     // KindPullRequestMetadata
	Ancestor       *model.AncestorCache   // KindPullRequestCaches
	LFS            *model.GitLFSSettings  // KindLFSSettings

	// Raw is the member's JSON document as the archive holds it,
	// gunzipped: every field, known or not, for an importer that keeps
	// what it read so that an export writes it back. It is set for the
	// JSON kinds; for activities once Activities has read them whole. It
	// is valid only during the Handler call.
	Raw []byte

	// Notes are things to log, not errors: unknown inner files, an
	// unknown member (KindUnknown).
	Notes []string

	// UnknownFields are the paths of JSON fields of this member that
	// bbimport does not read ("comment.thread.x": see the package doc),
	// each given once per pass for its member Kind: a field that the
	// archive's writer puts in every pull request comes with the first
	// member that holds it only. They are ignored; a caller logs each once,
	// with the Kind. A pass names at most maxUnknownFields of them, then
	// says in a note that it stops.
	UnknownFields []string

	// Malformed is set, and the value field of the kind left nil, when the
	// member's gzip or JSON could not be decoded (ErrMalformed). That harms
	// nothing else in the archive, so the reader goes on: the caller
	// reports the one item and decides. Instance details, projects and
	// repositories are never delivered malformed: the archive's structure
	// hangs on them, so the reader stops with the error instead. Pull
	// request activities are decoded while Activities runs, which sets
	// Malformed as it returns the error.
	Malformed *Error

	files      func(fn func(File) error) error
	activities func(fn func(*model.Activity) error) error
}

// File is one regular file of an inner tar; its name is already checked.
// Directory entries of inner tars are checked too but never handed over:
// a caller creates parent directories from file names.
type File struct {
	Name string
	Size int64
	Mode int64
	Body io.Reader
}

// Files calls fn for each file of an inner tar member (git metadata, hooks,
// objects), in order, checking each name and size before fn sees it. fn may
// read Body or leave it. For other kinds it returns nil at once. It may be
// called once, during the Handler call.
func (m *Member) Files(fn func(File) error) error {
	if m.files == nil {
		return nil
	}
	return m.files(fn)
}

// Activities calls fn with each record of a pull request activities
// member, in order. Records are decoded one at a time as fn asks for
// them, so that memory does not grow with the pull request: the record
// is valid only during its fn call. The JSON limits apply to the whole
// document as they do to others; UnknownFields and Notes grow as records
// are decoded. It returns fn's error unchanged, else an *Error: with
// ErrMalformed (also put in Malformed) when the document cannot be
// decoded, records before the fault having reached fn. For other kinds it
// returns nil at once. It may be called once, during the Handler call.
func (m *Member) Activities(fn func(*model.Activity) error) error {
	if m.activities == nil {
		return nil
	}
	return m.activities(fn)
}

// Handler receives each member in archive order.
type Handler func(m *Member) error

// Read reads an archive in one pass over r. Errors the handler (or a Files
// callback) returns come back unchanged; the reader's own are *Error or
// wrapped I/O errors.
func Read(r io.Reader, lim Limits, h Handler) error {
	return unwrapCallerError(newReader(r, lim).run(h))
}

// ReadFile reads the archive at path. On a seekable file, the bytes of
// members that the handler does not read are skipped by seeking.
func ReadFile(path string, lim Limits, h Handler) error {
	return readFile(path, lim, nil, h)
}

// readFile is ReadFile that leaves the members of the kinds in skip
// unread and undecoded (delivered with their value field nil).
func readFile(path string, lim Limits, skip map[Kind]bool, h Handler) error {
	f, err := Open(path, "")
	if err != nil {
		return err
	}
	defer f.Close()
	return readOpened(f, lim, skip, h)
}

// callerError marks an error of the handler so that it reaches the caller
// as it was returned, without the reader's context around it.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }
func (e callerError) Unwrap() error { return e.err }

func unwrapCallerError(err error) error {
	var ce callerError
	if errors.As(err, &ce) {
		return ce.err
	}
	return err
}

// reader is the state of one pass over an archive.
type reader struct {
	lim   Limits
	src   *counter
	outer *tarWalk
	// gz reads every gzip member, from the member through br: a
	// gzip.Reader on a reader without ReadByte makes a bufio.Reader of
	// its own at each Reset, 4 KiB for each of millions of members.
	gz      *gzip.Reader
	br      *bufio.Reader
	buf     bytes.Buffer // a JSON document or cache file being read: see readAll
	rawActs bytes.Buffer // the activities document being streamed, for Member.Raw
	current *Member      // the member whose Handler call is running
	open    map[string]bool
	skip    map[Kind]bool
	// briefPullRequests decodes pull request metadata into its id and
	// state only, for inspect: the full decode is a fifth of its time.
	briefPullRequests bool
	unknown           map[unknownField]bool // every UnknownFields entry given so far
	// unknownCapped is set once the pass has named maxUnknownFields.
	unknownCapped bool
}

// unknownField is an unknown JSON field path in members of one kind.
type unknownField struct {
	kind Kind
	path string
}

// maxUnknownFields bounds the unknown fields one pass names: an archive
// can make up field names without end, and a log must not follow it.
const maxUnknownFields = 200

func newReader(r io.Reader, lim Limits) *reader {
	lim = lim.withDefaults()
	rd := &reader{lim: lim, open: map[string]bool{}, unknown: map[unknownField]bool{}}
	rd.outer = newTarWalk(r, "", lim)
	rd.src = rd.outer.src
	return rd
}

func (rd *reader) run(h Handler) error {
	for first := true; ; first = false {
		hdr, err := rd.outer.next()
		if errors.Is(err, io.EOF) {
			if first {
				return &Error{Err: ErrNotAnArchive, Rule: "it is empty"}
			}
			for id := range rd.open {
				return &Error{Member: MemberName(KindHierarchyBegin, IDs{Hierarchy: id}), Err: ErrTruncated,
					Rule: "the archive ends before this fork hierarchy's end marker"}
			}
			return nil
		}
		if err != nil {
			// A short text file or a zip is no tar, rather than a cut one.
			if first && (errors.Is(err, ErrMalformed) || errors.Is(err, ErrTruncated) && rd.src.pos < 512) {
				return &Error{Err: ErrNotAnArchive, Rule: rd.notATarRule()}
			}
			return err
		}
		kind, ids := ParseMemberName(hdr.Name)
		if first && kind != KindInstanceDetails {
			return &Error{Member: hdr.Name, Err: ErrNotAnArchive,
				Rule: "an archive starts with instance-details.json.atl.gz, this one with this member"}
		}
		m := &Member{Name: hdr.Name, Kind: kind, IDs: ids, Size: hdr.Size, Offset: rd.src.pos}
		if err := rd.decode(m); err != nil {
			var e *Error
			if structural(kind) || !errors.As(err, &e) || !errors.Is(e.Err, ErrMalformed) {
				return err
			}
			*m = Member{Name: m.Name, Kind: m.Kind, IDs: m.IDs, Size: m.Size, Offset: m.Offset, Notes: m.Notes,
				UnknownFields: m.UnknownFields, Malformed: e}
		}
		rd.current = m
		err = h(m)
		rd.current = nil
		var e *Error
		if errors.As(err, &e) {
			// A violation met in Files, passed on by the handler.
			return err
		}
		if err != nil {
			return callerError{err}
		}
	}
}

// structural reports whether the archive cannot be read on without a
// member of this kind.
func structural(k Kind) bool {
	return k == KindInstanceDetails || k == KindProject || k == KindRepository
}

// notATarRule says why the first header did not parse, with a hint for
// the usual mistake of compressing the archive for the copy.
func (rd *reader) notATarRule() string {
	if h := rd.src.head; len(h) >= 2 && h[0] == 0x1f && h[1] == 0x8b {
		return "it is gzip-compressed, and Bitbucket writes a plain tar: decompress it (gunzip) first"
	}
	return "it is not a tar file"
}

// decode fills the fields of m's kind, reading the member's body from the
// outer tar when it is small metadata, or arming m.Files for inner tars.
func (rd *reader) decode(m *Member) error {
	body := rd.outer.tr
	if rd.skip[m.Kind] {
		return nil
	}
	switch m.Kind {
	case KindInstanceDetails:
		m.Instance = new(model.InstanceDetails)
		if err := rd.decodeJSON(m, m.Instance); err != nil {
			return err
		}
		if v := m.Instance.ArchiveVersion; !model.ArchiveVersionSupported(v) {
			return &Error{Member: m.Name, Err: ErrUnsupportedVersion,
				Rule: fmt.Sprintf("the archive has archiveVersion %d, and this bbimport reads archiveVersion %d and %d only",
					v, model.OldestArchiveVersion, model.NewestArchiveVersion)}
		}
		return nil
	case KindProject:
		m.Project = new(model.Project)
		return rd.decodeJSON(m, m.Project)
	case KindRepository:
		m.Repository = new(model.Repository)
		return rd.decodeJSON(m, m.Repository)
	case KindProjectPermissions, KindRepositoryPermissions:
		return rd.decodeJSON(m, &m.Permissions)
	case KindProjectAllPermissions:
		return rd.decodeJSON(m, &m.AllPermissions)
	case KindPullRequestMetadata:
		if rd.briefPullRequests {
			return rd.decodeBriefPullRequest(m)
		}
		m.PullRequest = new(model.PullRequest)
		return rd.decodeJSON(m, m.PullRequest)
	case KindPullRequestActivities:
		m.activities = rd.activityStream(m)
	case KindLFSSettings:
		m.LFS = new(model.GitLFSSettings)
		return rd.decodeJSON(m, m.LFS)
	case KindPullRequestCaches:
		return rd.readAncestorCache(m)
	case KindGitMetadata, KindGitHooks:
		m.files = rd.innerFiles(m, body, true)
	case KindGitObjects:
		m.files = rd.innerFiles(m, body, false)
	case KindHierarchyBegin:
		rd.open[m.IDs.Hierarchy] = true
	case KindHierarchyEnd:
		if !rd.open[m.IDs.Hierarchy] {
			m.Notes = append(m.Notes, fmt.Sprintf("end of fork hierarchy %s, which did not begin", m.IDs.Hierarchy))
		}
		delete(rd.open, m.IDs.Hierarchy)
	case KindUnknown:
		m.Notes = append(m.Notes, fmt.Sprintf("unknown member %s, skipped", m.Name))
	}
	if (m.Kind == KindHierarchyBegin || m.Kind == KindHierarchyEnd) && m.Size > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("hierarchy marker %s holds %d bytes; they are ignored", m.Name, m.Size))
	}
	return nil
}

// gunzip opens a gzip member of the outer tar, reusing one decompressor.
func (rd *reader) gunzip(m *Member) (io.Reader, error) {
	var err error
	if rd.gz == nil {
		rd.br = bufio.NewReader(rd.outer.tr)
		rd.gz, err = gzip.NewReader(rd.br)
	} else {
		rd.br.Reset(rd.outer.tr)
		err = rd.gz.Reset(rd.br)
	}
	if err != nil {
		return nil, classify(err, m.Name, "")
	}
	return &capReader{r: rd.gz, max: rd.lim.MaxMemberBytes, member: m.Name}, nil
}

// readJSON reads m's JSON document, gunzipped, within MaxJSONBytes, into
// the reader's one buffer: valid until the next member's.
func (rd *reader) readJSON(m *Member) ([]byte, error) {
	r, err := rd.gunzip(m)
	if err != nil {
		return nil, err
	}
	return readAll(&rd.buf, r, rd.lim.MaxJSONBytes, m.Name, "", "JSON document", "MaxJSONBytes")
}

func (rd *reader) decodeJSON(m *Member, v any) error {
	data, err := rd.readJSON(m)
	if err != nil {
		return err
	}
	m.Raw = data
	unknown, err := decodeJSON(data, rd.lim, v)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Member = m.Name
		}
		return err
	}
	rd.noteUnknown(m, unknown)
	return nil
}

// decodeBriefPullRequest sets m.PullRequest's id and state only. The
// document is checked against the JSON limits and parsed whole, so that
// broken JSON is still malformed, but its other fields are neither
// decoded nor checked for their types or for unknown fields.
func (rd *reader) decodeBriefPullRequest(m *Member) error {
	data, err := rd.readJSON(m)
	if err != nil {
		return err
	}
	var brief struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
	}
	b := jsonBudget{lim: rd.lim}
	if err = b.take(data); err == nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		if err = dec.Decode(&brief); err == nil {
			err = endOfJSON(dec)
		}
	}
	if err != nil {
		err = jsonError(err)
		var e *Error
		if errors.As(err, &e) {
			e.Member = m.Name
		}
		return err
	}
	m.PullRequest = &model.PullRequest{ID: brief.ID, State: brief.State}
	return nil
}

// noteUnknown gives m the unknown fields of its kind that no earlier
// member gave, up to maxUnknownFields in the pass.
func (rd *reader) noteUnknown(m *Member, paths []string) {
	for _, p := range paths {
		f := unknownField{m.Kind, p}
		if rd.unknown[f] {
			continue
		}
		if len(rd.unknown) == maxUnknownFields {
			if !rd.unknownCapped {
				rd.unknownCapped = true
				m.Notes = append(m.Notes, fmt.Sprintf("more than %d distinct unknown JSON fields: the others, from %s on, are ignored without being named", maxUnknownFields, m.Name))
			}
			return
		}
		rd.unknown[f] = true
		m.UnknownFields = append(m.UnknownFields, p)
	}
}

// ancestorFile is the only file of a pull request caches tar.
const ancestorFile = "cached-ancestor.txt"

// readAncestorCache reads a caches tar whole: it is a few bytes, and a
// damaged cache is only a note, since the importer can recompute it.
func (rd *reader) readAncestorCache(m *Member) error {
	gz, err := rd.gunzip(m)
	if err != nil {
		return err
	}
	inner := newTarWalk(gz, m.Name, rd.lim)
	for {
		hdr, err := inner.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if hdr.Name != ancestorFile {
			m.Notes = append(m.Notes, fmt.Sprintf("unknown file %s in %s, skipped", hdr.Name, m.Name))
			continue
		}
		data, err := readAll(&rd.buf, inner.tr, rd.lim.MaxJSONBytes, m.Name, hdr.Name, "cache file", "MaxJSONBytes")
		if err != nil {
			return err
		}
		a, perr := model.ParseAncestorCache(string(data))
		if perr != nil {
			m.Notes = append(m.Notes, fmt.Sprintf("%s in %s: %v; ignored", ancestorFile, m.Name, perr))
			continue
		}
		m.Ancestor = &a
	}
	if m.Ancestor == nil {
		m.Notes = append(m.Notes, fmt.Sprintf("no usable %s in %s", ancestorFile, m.Name))
	}
	return drain(gz, m.Name)
}

// innerFiles arms Member.Files for an inner tar read from body, the
// member's bytes in the outer tar.
func (rd *reader) innerFiles(m *Member, body io.Reader, gzipped bool) func(func(File) error) error {
	used := false
	return func(fn func(File) error) error {
		if rd.current != m {
			return fmt.Errorf("files of %s: Files called after the handler returned", m.Name)
		}
		if used {
			return fmt.Errorf("files of %s: Files called twice", m.Name)
		}
		used = true
		src, lim := body, rd.lim
		if gzipped {
			gz, err := rd.gunzip(m)
			if err != nil {
				return err
			}
			src = gz
		} else {
			lim.MaxMemberBytes = lim.MaxObjectFileBytes
		}
		inner := newTarWalk(src, m.Name, lim)
		for {
			hdr, err := inner.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			f := File{Name: hdr.Name, Size: hdr.Size, Mode: hdr.Mode,
				Body: &checkedBody{r: inner.tr, member: m.Name, inner: hdr.Name}}
			if err := fn(f); err != nil {
				return err
			}
		}
		if gzipped {
			return drain(src, m.Name)
		}
		return nil
	}
}

// activityStream arms Member.Activities for a pull request activities
// member: a JSON array, decoded record by record.
func (rd *reader) activityStream(m *Member) func(func(*model.Activity) error) error {
	used := false
	return func(fn func(*model.Activity) error) error {
		if rd.current != m {
			return fmt.Errorf("activities of %s: Activities called after the handler returned", m.Name)
		}
		if used {
			return fmt.Errorf("activities of %s: Activities called twice", m.Name)
		}
		used = true
		err := rd.streamActivities(m, fn)
		var ce callerError
		if errors.As(err, &ce) {
			return ce.err
		}
		var e *Error
		if errors.As(err, &e) {
			e.Member = m.Name
			if errors.Is(e.Err, ErrMalformed) {
				m.Malformed = e
			}
		}
		return err
	}
}

func (rd *reader) streamActivities(m *Member, fn func(*model.Activity) error) error {
	gz, err := rd.gunzip(m)
	if err != nil {
		return err
	}
	rd.rawActs.Reset()
	dec := json.NewDecoder(newJSONSource(io.TeeReader(gz, &rd.rawActs), rd.lim.MaxJSONBytes, m.Name))
	tok, err := dec.Token()
	if err != nil {
		return jsonError(err)
	}
	if tok != json.Delim('[') {
		if tok != nil { // null: no activities
			return &Error{Err: ErrMalformed, Rule: "it is not the JSON expected here: the activities are not an array"}
		}
		return endOfJSON(dec)
	}
	// The array is a level and an object of its own.
	budget := jsonBudget{lim: rd.lim, depth: 1, objects: 1}
	var raw json.RawMessage
	for dec.More() {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			return jsonError(err)
		}
		if err := budget.take(raw); err != nil {
			return err
		}
		a := new(model.Activity)
		unknown, err := decodeValue(raw, a)
		if err != nil {
			return err
		}
		rd.noteUnknown(m, unknown)
		if err := fn(a); err != nil {
			return callerError{err}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return jsonError(err)
	}
	if err := endOfJSON(dec); err != nil {
		return err
	}
	m.Raw = rd.rawActs.Bytes()
	return nil
}

// endOfJSON checks that the document ends after its value, reading the
// gzip stream to its end, where gzip checks the CRC.
func endOfJSON(dec *json.Decoder) error {
	switch _, err := dec.Token(); {
	case err == nil:
		return &Error{Err: ErrMalformed, Rule: "it holds data after its JSON document"}
	case errors.Is(err, io.EOF):
		return nil
	default:
		return jsonError(err)
	}
}

// jsonError passes on the reader's own errors, which jsonSource made
// *Error, and makes any other (the JSON's) ErrMalformed.
func jsonError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return malformedJSON(err)
}

// jsonSource is a JSON document streamed from a member: its read errors
// are *Error values, and it holds at most MaxJSONBytes (the cap is
// capReader's, naming that limit).
type jsonSource struct{ capReader }

func newJSONSource(r io.Reader, max int64, member string) *jsonSource {
	return &jsonSource{capReader{r: r, max: max, member: member,
		rule: fmt.Sprintf("the JSON document is over %d bytes (MaxJSONBytes)", max)}}
}

func (s *jsonSource) Read(p []byte) (int, error) {
	n, err := s.capReader.Read(p)
	var archiveErr *Error
	if err != nil && !errors.Is(err, io.EOF) && !errors.As(err, &archiveErr) {
		err = classify(err, s.member, "")
	}
	return n, err
}
