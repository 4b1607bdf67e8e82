package archive

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"bbimport/model"
)

// What a caller of the reader sees: its limits and errors, the Member a
// Handler receives, and Read. The pass itself is in reader_pass.go, a
// member's body in reader_body.go, the safety rules in safety.go.

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
