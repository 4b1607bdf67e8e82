package archive

import (
	"encoding/json"
	"errors"
	"io"

	"bbimport/model"
)

// Limits bound what the reader accepts from an archive. DefaultLimits is
// sized for real archives; raise a limit for an unusually large one.
type Limits struct {
	MaxMemberBytes int64 // decompressed bytes of one member or of one inner file
	MaxJSONBytes   int64 // bytes of one JSON document
	MaxJSONDepth   int   // nesting depth of one JSON document
	MaxInnerFiles  int   // files in one inner tar
}

// DefaultLimits returns limits sized for real archives.
func DefaultLimits() Limits {
	panic("not built yet")
}

// Sentinel errors, wrapped in *Error.
var (
	ErrUnsafe             = errors.New("unsafe archive")
	ErrTruncated          = errors.New("archive is truncated")
	ErrUnsupportedVersion = errors.New("unsupported archiveVersion")
	ErrNotAnArchive       = errors.New("not a Bitbucket migration archive")
	ErrLimit              = errors.New("over a limit")
)

// Error is a safety or format violation. It names the member (and the inner
// file, for inner tars) and the rule broken.
type Error struct {
	Member string // outer member name
	Inner  string // inner file name, for inner tars
	Rule   string // e.g. "names must be clean relative paths"
	Err    error  // one of the sentinels above
}

func (e *Error) Error() string { panic("not built yet") }
func (e *Error) Unwrap() error { return e.Err }

// Member is one member of the outer tar, decoded. Exactly the fields of its
// Kind are set. A Member is valid only during the Handler call.
type Member struct {
	Name   string
	Kind   Kind
	IDs    IDs
	Size   int64 // bytes of the member in the outer tar
	Offset int64 // bytes of the archive consumed when this member starts

	Instance       *model.InstanceDetails // KindInstanceDetails
	Project        *model.Project         // KindProject
	Repository     *model.Repository      // KindRepository
	Permissions    []model.Permission     // KindProjectPermissions, KindRepositoryPermissions
	AllPermissions json.RawMessage        // KindProjectAllPermissions (shape not known)
	PullRequest    *model.PullRequest     // KindPullRequestMetadata
	Activities     []model.Activity       // KindPullRequestActivities
	Ancestor       *model.AncestorCache   // KindPullRequestCaches
	LFS            *model.GitLFSSettings  // KindLFSSettings

	// Notes are things to log, not errors: unknown JSON fields, unknown
	// inner files, an unknown member (KindUnknown).
	Notes []string

	files func(fn func(File) error) error
}

// File is one regular file of an inner tar; its name is already checked.
type File struct {
	Name string
	Size int64
	Mode int64
	Body io.Reader
}

// Files calls fn for each file of an inner tar member (git metadata, hooks,
// objects), in order, checking each name and size before fn sees it. fn may
// read Body or leave it. For other kinds it returns nil at once.
func (m *Member) Files(fn func(File) error) error {
	if m.files == nil {
		return nil
	}
	return m.files(fn)
}

// Handler receives each member in archive order.
type Handler func(m *Member) error

// Read reads an archive in one pass over r.
func Read(r io.Reader, lim Limits, h Handler) error {
	panic("not built yet")
}

// ReadFile reads the archive at path. On a seekable file, the bytes of
// inner tars that the handler does not read are skipped by seeking.
func ReadFile(path string, lim Limits, h Handler) error {
	panic("not built yet")
}
