package archive

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"bbimport/model"
)

// One pass over the outer tar: the reader's state, the walk from member to
// member, and the dispatch of each member to the decoding of its kind
// in reader_body.go.

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
