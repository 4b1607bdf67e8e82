package importer

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"

	"bbimport/archive"
)

// An import keeps what it read beside what it made of it: each JSON
// document (project, permissions, repository, git-lfs settings, pull
// request metadata and activities) as the archive held it, and the git
// metadata and hooks tars, gzipped, owned by the project, repository or
// pull request they describe. The database's rows stay the truth for
// identity (ids, keys, slugs, names) and state; an export writes these
// documents back with the target's identity, so that every field the
// archive carried comes back out, known to bbimport or not.

// keep stores the document of a member the import has just taken in,
// for its owner as imported here. A member whose owner was not imported
// (a failed repository, a skipped pull request) is not kept.
func (im *importRun) keep(m *archive.Member) error {
	if m.Raw == nil {
		return nil
	}
	var owner documentOwner
	var id int64
	switch m.Kind {
	case archive.KindProject, archive.KindProjectPermissions, archive.KindProjectAllPermissions:
		p := im.projects[m.IDs.Project]
		if p == nil {
			return nil
		}
		owner, id = ownedByProject, p.id
	case archive.KindRepository, archive.KindRepositoryPermissions, archive.KindLFSSettings:
		r := im.repos[m.IDs.Repository]
		if r == nil || r.failed || r.id == 0 {
			return nil
		}
		owner, id = ownedByRepository, r.id
	case archive.KindPullRequestMetadata, archive.KindPullRequestActivities:
		pr := im.pr
		if pr == nil || pr.scoped != m.IDs.PullRequest || pr.repo.archiveID != m.IDs.Repository {
			return nil
		}
		owner, id = ownedByPullRequest, pr.id
	default:
		return nil
	}
	gz, err := keptBody(m.Kind, m.Raw)
	if err != nil {
		return fmt.Errorf("keep the %s document: %w", m.Kind, err)
	}
	return im.st.keepDocument(owner, id, m.Kind.String(), gz)
}

// keptBody is how a document is kept. Those an export writes back
// unchanged (pull request metadata and activities, permissions, git-lfs
// settings) are kept as the very member bytes an export writes, in
// Bitbucket's conventions (see archive.Jackson), so that an export copies
// them without decoding; project and repository metadata, which an export
// rewrites with this instance's ids, names and keys, as read.
func keptBody(kind archive.Kind, raw []byte) ([]byte, error) {
	var doc []byte
	var err error
	switch kind {
	case archive.KindProject, archive.KindRepository:
		return gzipDocument(raw)
	case archive.KindPullRequestMetadata, archive.KindPullRequestActivities:
		doc, err = archive.Jackson(raw)
	default:
		doc, err = archive.Compact(raw)
	}
	if err != nil {
		return nil, err
	}
	return archive.CompressMember(".atl.gz", doc)
}

// innerCapture keeps the files of an inner tar (git metadata, hooks) as
// a tar of their names, modes and bytes while the build takes them in.
type innerCapture struct {
	buf bytes.Buffer
	tw  *tar.Writer
}

func newInnerCapture() *innerCapture {
	c := &innerCapture{}
	c.tw = tar.NewWriter(&c.buf)
	return c
}

// wrap reads each file whole (the reader caps it), records it, and hands
// store a copy to read as it likes.
func (c *innerCapture) wrap(store func(archive.File) error) func(archive.File) error {
	return func(f archive.File) error {
		data, err := io.ReadAll(f.Body)
		if err != nil {
			return err
		}
		if err := c.tw.WriteHeader(&tar.Header{Name: f.Name, Mode: f.Mode, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return fmt.Errorf("keep %s: %w", f.Name, err)
		}
		if _, err := c.tw.Write(data); err != nil {
			return fmt.Errorf("keep %s: %w", f.Name, err)
		}
		f.Body = bytes.NewReader(data)
		return store(f)
	}
}

// keepInner stores the captured tar for the repository being built.
func (im *importRun) keepInner(kind archive.Kind, c *innerCapture) error {
	if err := c.tw.Close(); err != nil {
		return fmt.Errorf("keep the %s: %w", kind, err)
	}
	gz, err := gzipDocument(c.buf.Bytes())
	if err != nil {
		return fmt.Errorf("keep the %s: %w", kind, err)
	}
	return im.st.keepDocument(ownedByRepository, im.buildRepo.id, kind.String(), gz)
}

var documentGzips = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

func gzipDocument(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := documentGzips.Get().(*gzip.Writer)
	defer documentGzips.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gunzipDocument reads back what gzipDocument kept.
func gunzipDocument(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}
