package importer

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"bbimport/archive"
	"bbimport/model"
)

// repository records a repository as INITIALISING and starts building it
// aside. A repository whose project or origin did not make it is not
// imported, and says why.
func (im *importRun) repository(r *model.Repository) error {
	repo := &importedRepo{archiveID: r.ID, subject: "?/" + r.Slug}
	im.repos[r.ID] = repo
	proj := im.projects[r.ProjectID]
	if proj == nil {
		repo.failed, repo.skipReason = true, "its project was not imported"
		im.error(repo.subject, "Repository %s was not imported: the archive has no project with id %s for it", r.Slug, r.ProjectID)
		return nil
	}
	slug := model.RepositorySlugs.Valid(r.Slug)
	repo.subject = proj.key + "/" + slug
	var origin *importedRepo
	if r.IsFork() {
		// origin == repo: a repository that names itself as its origin.
		if origin = im.repos[r.OriginID]; origin == nil || origin.failed || origin == repo {
			repo.failed, repo.skipReason = true, "its origin was not imported"
			im.error(repo.subject, "Fork %s was not imported: its origin (archive id %s) was not imported, and a fork shares its origin's objects", repo.subject, r.OriginID)
			if h := im.hierarchy; h != nil {
				h.leftOut = append(h.leftOut, "fork "+repo.subject)
			}
			return nil
		}
	}
	im.run.setProgress("Importing "+repo.subject+": git data", 0)

	place, renames, err := model.PlaceRepository(proj.key, r.Slug, r.Name, storeNames{st: im.st, projectID: proj.id})
	if err != nil {
		return err
	}
	newSlug, newName := place.Slug, place.Name
	repo.subject = proj.key + "/" + newSlug
	for _, rn := range renames {
		im.warn(rn.Subject, "%s", rn)
	}
	var originID sql.NullInt64
	if origin != nil {
		originID = sql.NullInt64{Int64: origin.id, Valid: true}
	}
	repo.id, err = im.st.insertRepository(proj.id, newSlug, newName, r, originID)
	if err != nil {
		return fmt.Errorf("create repository %s: %w", repo.subject, err)
	}
	if err := im.st.mapID("repository", r.ID, repo.id); err != nil {
		return err
	}
	if err := im.st.recordArchiveRepository(r, proj.archiveKey); err != nil {
		return err
	}
	b, err := newRepositoryBuild(im.in.buildDir(repo.id), im.in.repositoryDir(repo.id))
	if err != nil {
		im.dropOnTheWayOut(repo)
		return err
	}
	if origin != nil {
		b.alternates = filepath.Join("..", "..", "..", "repositories", strconv.FormatInt(origin.id, 10), "objects")
	}
	if im.hierarchy != nil && im.hierarchy.origin == "" {
		im.hierarchy.origin = repo.subject
	}
	im.build, im.buildRepo = b, repo
	return nil
}

// gitData feeds the files of a git member into the repository being built.
func (im *importRun) gitData(m *archive.Member) error {
	if im.build == nil || m.IDs.Repository != im.buildRepo.archiveID {
		return nil // a repository that is not being imported
	}
	b := im.build
	var store func(archive.File) error
	var kept *innerCapture // the metadata and hooks as they came, for an export
	switch m.Kind {
	case archive.KindGitMetadata:
		kept = newInnerCapture()
		store = kept.wrap(b.readMetadata)
	case archive.KindGitHooks:
		kept = newInnerCapture()
		store = kept.wrap(b.writeHook)
	case archive.KindGitObjects:
		if hook := im.in.beforeCheckpoint; hook != nil {
			hook(pointGitData)
		}
		store = b.writeObject
	}
	consumed := m.Offset
	err := m.Files(func(f archive.File) error {
		if im.run.ctx.Err() != nil {
			return errStoppedNow
		}
		f.Body = &countingReader{r: f.Body, n: &consumed}
		err := store(f)
		im.run.setProgress("", consumed)
		return err
	})
	if err != nil {
		return err
	}
	if kept != nil {
		return im.keepInner(m.Kind, kept)
	}
	// Recorded after git has run: a write now would open the writer's
	// transaction and hold the write lock through the git data's
	// verification, keeping another process's cancel waiting.
	id := im.buildRepo.id
	if err := im.finishRepository(); err != nil {
		return err
	}
	return im.st.setGitBytes(id, m.Size)
}

type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// finishRepository verifies the repository being built and moves it into
// place; incomplete or damaged git data is an item error, the import goes
// on.
func (im *importRun) finishRepository() error {
	b, repo := im.build, im.buildRepo
	im.build, im.buildRepo = nil, nil
	err := b.finish(im.run.ctx)
	switch {
	case im.run.ctx.Err() != nil:
		im.dropOnTheWayOut(repo)
		return errStoppedNow
	case errors.Is(err, errVerify), errors.Is(err, errDamaged):
		repo.failed, repo.skipReason = true, "the repository was not imported"
		var hint string
		if errors.Is(err, errDamaged) {
			hint = ". The archive changed after Bitbucket wrote it: copy it again, or export the repository again"
		}
		im.error(repo.subject, "Repository %s was not imported: %v%s", repo.subject, err, hint)
		if h := im.hierarchy; h != nil && h.origin == repo.subject {
			// Without its origin no repository of the hierarchy is
			// imported: none is said to be verified at its end.
			im.hierarchy = nil
		} else if h != nil {
			h.leftOut = append(h.leftOut, "repository "+repo.subject)
		}
		return im.dropRepository(repo)
	case err != nil:
		im.dropOnTheWayOut(repo)
		return fmt.Errorf("build repository %s: %w", repo.subject, err)
	}
	for _, lost := range b.lost {
		im.error(repo.subject, "A ref was not imported: %s", lost)
	}
	if b.lostMore > 0 {
		im.error(repo.subject, "%d more refs were not imported, for reasons like those above", b.lostMore)
	}
	for _, note := range b.notes {
		im.warn(repo.subject, "%s", note)
	}
	if b.hooks > 0 {
		im.warn(repo.subject, "%s from the archive %s kept inert in %s and %s not installed",
			model.Plural(b.hooks, "hook file", "hook files"), wasWere(b.hooks), filepath.Join(im.in.repositoryDir(repo.id), hooksDir), isAre(b.hooks))
	}
	if err := im.st.setRepositoryAvailable(repo.id); err != nil {
		return err
	}
	im.counts.Repositories++
	if im.hierarchy != nil {
		im.hierarchy.repos++
	}
	im.lastRepo = repo
	// Outside hierarchy markers there is no hierarchy end to wait for: the
	// next checkpoint stops the import.
	im.in.readRequests(im.run.ctx, im.run)
	if im.run.canceling() && im.hierarchy != nil {
		im.finishHierarchy = true
	}
	return im.commit()
}

// dropRepository removes a repository that will not be imported: its row
// (with its permissions) and whatever directory it had.
func (im *importRun) dropRepository(repo *importedRepo) error {
	_ = os.RemoveAll(im.in.buildDir(repo.id))
	_ = os.RemoveAll(im.in.repositoryDir(repo.id))
	return im.st.deleteRepository(repo.id)
}

// dropOnTheWayOut drops a repository as the import ends: why it ends is the
// error to report, so a failure to drop is logged beside it.
func (im *importRun) dropOnTheWayOut(repo *importedRepo) {
	if err := im.dropRepository(repo); err != nil {
		im.error(repo.subject, "Repository %s was not imported, and what was written of it could not be removed: %v", repo.subject, err)
	}
}
