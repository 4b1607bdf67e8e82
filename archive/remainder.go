package archive

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// RemainderStats is what WriteRemainder wrote.
type RemainderStats struct {
	Members      int      // outer tar entries
	Bytes        int64    // size of the written archive
	Projects     []string // keys of the projects it holds, in archive order
	Hierarchies  []string // the fork hierarchies it holds, in archive order
	Repositories int      // origins and forks
	PullRequests int
}

// ErrRemainderExists is WriteRemainder's error (wrapped) when its
// destination exists: it never overwrites a file.
var ErrRemainderExists = errors.New("the file exists already: remove it or name another file")

// WriteRemainder writes to dst a new archive holding the fork hierarchies
// of the archive src named in hierarchies, whole, with the projects their
// repositories belong to and the instance details: an archive that
// imports what an interrupted import of src left out. Members are copied
// in src's order, bodies byte for byte (never decompressed) under the same
// tar headers, so the archive keeps src's layout and archiveVersion.
//
// It reads src twice through one handle: a first pass reads only instance
// details, projects, repositories (the metadata that says which hierarchy
// and project each repository id belongs to) and hierarchy markers, and
// seeks past the rest; the second copies. Nothing is kept per pull
// request.
//
// dst appears whole or not at all: the archive is written to a temporary
// file beside it, synced, and linked into place, which fails if dst exists
// (it is never overwritten). On an error or a cancel of ctx no file is
// left.
func WriteRemainder(ctx context.Context, src, dst string, hierarchies []string) (RemainderStats, error) {
	stats, err := writeRemainder(ctx, src, dst, hierarchies)
	if err != nil {
		return RemainderStats{}, fmt.Errorf("write remainder archive %s: %w", dst, err)
	}
	return stats, nil
}

func writeRemainder(ctx context.Context, src, dst string, hierarchies []string) (RemainderStats, error) {
	if len(hierarchies) == 0 {
		return RemainderStats{}, errors.New("no fork hierarchy given: name at least one to keep")
	}
	if _, err := os.Lstat(dst); err == nil {
		return RemainderStats{}, ErrRemainderExists
	} else if !errors.Is(err, os.ErrNotExist) {
		return RemainderStats{}, err
	}
	f, err := Open(src, "")
	if err != nil {
		return RemainderStats{}, err
	}
	defer f.Close()
	sel, err := selectRemainder(ctx, f, hierarchies)
	if err != nil {
		return RemainderStats{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		return RemainderStats{}, fmt.Errorf("read archive %s: %w", f.Name(), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return RemainderStats{}, fmt.Errorf("create temporary file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	stats, err := sel.copy(ctx, f, tmp)
	if err != nil {
		return RemainderStats{}, err
	}
	// The remainder is readable by whoever could read the source: an
	// import run by another user than the one who wrote it.
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		return RemainderStats{}, fmt.Errorf("set the mode of %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return RemainderStats{}, fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	written, err := tmp.Stat()
	if err != nil {
		return RemainderStats{}, fmt.Errorf("stat %s: %w", tmp.Name(), err)
	}
	stats.Bytes = written.Size()
	if err := tmp.Close(); err != nil {
		return RemainderStats{}, fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	// A link, unlike a rename, fails when dst appeared meanwhile.
	if err := os.Link(tmp.Name(), dst); err != nil {
		if errors.Is(err, os.ErrExist) {
			return RemainderStats{}, ErrRemainderExists
		}
		return RemainderStats{}, fmt.Errorf("move the archive into place: %w", err)
	}
	done = true
	if err := os.Remove(tmp.Name()); err != nil {
		return stats, fmt.Errorf("remove the temporary file %s (the archive is whole): %w", tmp.Name(), err)
	}
	syncDir(filepath.Dir(dst))
	return stats, nil
}

// syncDir makes a new directory entry durable. Failing to is no error: the
// archive is whole either way, and some file systems refuse to sync
// directories.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	defer d.Close()
	_ = d.Sync()
}

// remainderSelection says which members of an archive a remainder keeps,
// by the ids in their names.
type remainderSelection struct {
	hierarchies  map[string]bool
	projects     map[string]bool
	repositories map[string]bool
	projectKeys  []string // of the kept projects, in archive order
}

// selectRemainder reads the metadata of the archive f, checking the
// archive's structure as an import does, and selects the members of the
// given hierarchies. Membership comes from the repository metadata: each
// names its hierarchy and project.
func selectRemainder(ctx context.Context, f *os.File, hierarchies []string) (*remainderSelection, error) {
	sel := &remainderSelection{hierarchies: map[string]bool{}, projects: map[string]bool{}, repositories: map[string]bool{}}
	for _, h := range hierarchies {
		sel.hierarchies[h] = true
	}
	type project struct{ id, key string }
	var projects []project
	found := map[string]bool{}
	// Git members are skipped unless their files are asked for; these
	// would be decoded. Hierarchy markers are read: the reader checks
	// that every hierarchy ends.
	skip := map[Kind]bool{KindProjectAllPermissions: true, KindProjectPermissions: true,
		KindRepositoryPermissions: true, KindLFSSettings: true, KindPullRequestMetadata: true,
		KindPullRequestActivities: true, KindPullRequestCaches: true}
	err := readOpened(f, Limits{}, skip, func(m *Member) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch m.Kind {
		case KindProject:
			projects = append(projects, project{m.Project.ID, m.Project.Key})
		case KindRepository:
			// The name's ids are those other members name the repository
			// and its project by.
			found[m.Repository.HierarchyID] = true
			if sel.hierarchies[m.Repository.HierarchyID] {
				sel.repositories[m.IDs.Repository] = true
				sel.projects[m.IDs.Project] = true
			}
		case KindHierarchyBegin:
			found[m.IDs.Hierarchy] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var unknown []string
	for _, h := range hierarchies {
		if !found[h] {
			unknown = append(unknown, h)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%s has no fork hierarchy %s: name hierarchies of this archive (bbimport inspect --json lists them)",
			f.Name(), strings.Join(unknown, ", "))
	}
	for _, p := range projects {
		if sel.projects[p.id] {
			sel.projectKeys = append(sel.projectKeys, p.key)
		}
	}
	return sel, nil
}

// keeps reports whether the remainder holds a member. An unknown member
// is kept inside a kept hierarchy's markers (the archive is sequential, so
// that is where it belongs), and left out elsewhere.
func (s *remainderSelection) keeps(k Kind, ids IDs, inKept bool) bool {
	switch k {
	case KindInstanceDetails:
		return true
	case KindProject, KindProjectAllPermissions, KindProjectPermissions:
		return s.projects[ids.Project]
	case KindHierarchyBegin, KindHierarchyEnd:
		return s.hierarchies[ids.Hierarchy]
	case KindUnknown:
		return inKept
	}
	return s.repositories[ids.Repository]
}

// copy writes the kept members of the archive f to out as a tar, reading
// f from its start with the safety rules of the outer tar and seeking
// past the members it leaves out.
func (s *remainderSelection) copy(ctx context.Context, f *os.File, out io.Writer) (RemainderStats, error) {
	stats := RemainderStats{Projects: s.projectKeys}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return stats, fmt.Errorf("read archive %s: %w", f.Name(), err)
	}
	in := newTarWalk(newSeekBuffer(f, 64<<10), "", DefaultLimits())
	bw := bufio.NewWriterSize(out, 1<<20)
	tw := tar.NewWriter(bw)
	buf := make([]byte, 1<<20)
	inKept := false
	for {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		hdr, err := in.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return stats, fmt.Errorf("read archive %s: %w", f.Name(), err)
		}
		kind, ids := ParseMemberName(hdr.Name)
		keep := s.keeps(kind, ids, inKept)
		switch kind {
		case KindHierarchyBegin:
			inKept = keep
		case KindHierarchyEnd:
			inKept = false
		}
		if !keep {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return stats, fmt.Errorf("write header of %s: %w", hdr.Name, err)
		}
		body := ctxReader{ctx: ctx, r: &checkedBody{r: in.tr, member: hdr.Name}}
		if _, err := io.CopyBuffer(tw, body, buf); err != nil {
			return stats, fmt.Errorf("copy %s: %w", hdr.Name, err)
		}
		stats.Members++
		switch kind {
		case KindHierarchyBegin:
			stats.Hierarchies = append(stats.Hierarchies, ids.Hierarchy)
		case KindRepository:
			stats.Repositories++
		case KindPullRequestMetadata:
			stats.PullRequests++
		}
	}
	if err := tw.Close(); err != nil {
		return stats, fmt.Errorf("write the end of the archive: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return stats, fmt.Errorf("write the archive: %w", err)
	}
	return stats, nil
}

// ctxReader stops a long copy (git objects can be gigabytes) when ctx is
// done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
