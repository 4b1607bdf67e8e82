package importer

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/model"
)

// TestRefsUnderAnotherRefAreDroppedWhateverSortsBetween imports refs
// refs/heads/a and refs/heads/a/c with refs/heads/a-b sorting between
// them: git cannot hold a and a/c together, and a repository that has both
// in packed-refs passes fsck but cannot be cloned.
func TestRefsUnderAnotherRefAreDroppedWhateverSortsBetween(t *testing.T) {
	pack, commit := packedRepository(t)
	in := openHome(t)
	p := oneRepositoryArchive(t, in, "clash.tar", "", []gen.File{
		{Name: "HEAD", Mode: 0o644, Data: []byte("ref: refs/heads/a-b\n")},
		{Name: "refs/heads/a", Mode: 0o644, Data: []byte(commit + "\n")},
		{Name: "refs/heads/a-b", Mode: 0o644, Data: []byte(commit + "\n")},
		{Name: "refs/heads/a/c", Mode: 0o644, Data: []byte(commit + "\n")},
	}, []gen.File{{Name: "pack/" + filepath.Base(pack), Mode: 0o444, Path: pack}})
	job := importArchive(t, in, p)
	msgs := messages(t, in, job.ID)
	if !hasMessage(msgs, "ERROR PRJ/golden:", `"refs/heads/a" clashes with "refs/heads/a/c"`) {
		t.Errorf("no error naming the clash:\n%s", strings.Join(msgs, "\n"))
	}
	dir := in.repositoryDir(newID(t, in, job.ID, "repository", "7"))
	refs := strings.Fields(runGit(t, dir, "--git-dir=.", "for-each-ref", "--format=%(refname)"))
	if strings.Join(refs, " ") != "refs/heads/a-b refs/heads/a/c" {
		t.Errorf("refs %q", refs)
	}
	runGit(t, t.TempDir(), "clone", "-q", dir, filepath.Join(t.TempDir(), "clone"))
	assertClean(t, in)
}

// TestStashRefsUnderAnotherDoNotAbort: stash-refs/x and stash-refs/x/y
// cannot both be files; that must not abort the whole import.
func TestStashRefsUnderAnotherDoNotAbort(t *testing.T) {
	pack, commit := packedRepository(t)
	in := openHome(t)
	p := oneRepositoryArchive(t, in, "stash.tar", "", []gen.File{
		{Name: "HEAD", Mode: 0o644, Data: []byte("ref: refs/heads/main\n")},
		{Name: "refs/heads/main", Mode: 0o644, Data: []byte(commit + "\n")},
		{Name: "stash-refs/pull-requests/1", Mode: 0o644, Data: []byte(commit + "\n")},
		{Name: "stash-refs/pull-requests/1/from", Mode: 0o644, Data: []byte(commit + "\n")},
	}, []gen.File{{Name: "pack/" + filepath.Base(pack), Mode: 0o444, Path: pack}})
	job := importArchive(t, in, p)
	if job.State == model.StateAborted {
		t.Fatalf("job ended %s:\n%s", job.State, strings.Join(messages(t, in, job.ID), "\n"))
	}
	if n := count(t, in, `SELECT COUNT(*) FROM repositories`); n != 1 {
		t.Errorf("%d repositories imported, want 1", n)
	}
	assertClean(t, in)
}

// TestCancelInGitDataWaitsForForksInAPersonalProject: a fork into a
// personal project brings that project's metadata in the middle of the
// hierarchy ("a project's metadata always comes before the first
// repository that belongs to it"); a cancel that came in the origin's git
// data must still wait for the end of the hierarchy.
func TestCancelInGitDataWaitsForForksInAPersonalProject(t *testing.T) {
	pack, commit := packedRepository(t)
	in := openHome(t)
	origin := archive.IDs{Project: "1", Repository: "7", Hierarchy: "h1"}
	fork := archive.IDs{Project: "2", Repository: "8", Hierarchy: "h1"}
	meta := []gen.File{
		{Name: "HEAD", Mode: 0o644, Data: []byte("ref: refs/heads/main\n")},
		{Name: "refs/heads/main", Mode: 0o644, Data: []byte(commit + "\n")},
	}
	p := writeArchive(t, in, "personal-fork.tar", func(w *gen.Writer) {
		w.AddJSON(archive.KindInstanceDetails, archive.IDs{}, model.InstanceDetails{ArchiveVersion: 2}, false)
		w.AddJSON(archive.KindProject, origin, model.Project{ID: "1", Key: "PRJ", Name: "Project"}, false)
		w.AddRaw(archive.MemberName(archive.KindHierarchyBegin, origin), nil)
		w.AddJSON(archive.KindRepository, origin, model.Repository{ID: "7", Slug: "golden", Name: "golden", ProjectID: "1", HierarchyID: "h1", ScmID: "git"}, false)
		w.AddTar(archive.KindGitMetadata, origin, meta)
		w.AddTar(archive.KindGitObjects, origin, []gen.File{{Name: "pack/" + filepath.Base(pack), Mode: 0o444, Path: pack}})
		w.AddJSON(archive.KindProject, fork, model.Project{ID: "2", Key: "~ADA", Name: "Ada"}, false)
		w.AddJSON(archive.KindRepository, fork, model.Repository{ID: "8", Slug: "golden", Name: "golden", ProjectID: "2", HierarchyID: "h1", OriginID: "7", ScmID: "git"}, false)
		w.AddTar(archive.KindGitMetadata, fork, meta)
		w.AddTar(archive.KindGitObjects, fork, nil)
		w.AddRaw(archive.MemberName(archive.KindHierarchyEnd, origin), nil)
	})
	cancelAt(in, pointGitData, func() bool { return true })
	job := importArchive(t, in, p)
	msgs := messages(t, in, job.ID)
	if job.State != model.StateCanceled || !hasMessage(msgs, "canceled at the checkpoint after the git data of the current fork hierarchy") {
		t.Errorf("job ended %s:\n%s", job.State, strings.Join(msgs, "\n"))
	}
	if n := count(t, in, `SELECT COUNT(*) FROM repositories`); n != 2 {
		t.Errorf("%d repositories, want the whole hierarchy (origin and its fork)", n)
	}
	assertClean(t, in)
	assertRepositoriesVerify(t, in)
}

// endless is a ref file body that never ends; it counts what was read.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.n += int64(len(p))
	return len(p), nil
}

// TestRefFilesAreNotReadWhole: a loose ref, HEAD or stash ref is one line;
// a huge one (the reader allows a gigabyte per file of a gzip'd tar) must
// not be read into memory whole.
func TestRefFilesAreNotReadWhole(t *testing.T) {
	b, err := newRepositoryBuild(filepath.Join(t.TempDir(), "build"), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"HEAD", "refs/heads/huge", "stash-refs/pull-requests/1/from"} {
		body := &endless{}
		// The limit stands in for the reader's per-file cap, so that a
		// failing test ends rather than eating the machine's memory.
		_ = b.readMetadata(archive.File{Name: name, Body: io.LimitReader(body, 64<<20)})
		if body.n > 1<<20 {
			t.Errorf("%s: %d bytes read into memory for one ref", name, body.n)
		}
	}
	if _, ok := b.refs["refs/heads/huge"]; ok {
		t.Error("a huge ref file was kept as a ref")
	}
}

// TestBadPackedRefsAreCounted: a packed-refs of many bad lines (one gzip'd
// member can hold a gigabyte of them) must not keep one message per line in
// memory, nor write one ERROR per line into the log.
func TestBadPackedRefsAreCounted(t *testing.T) {
	pack, commit := packedRepository(t)
	in := openHome(t)
	bad := maxLost + 500
	packed := strings.Repeat("x refs/heads/bad..name\n", bad) + commit + " refs/heads/main\n"
	p := oneRepositoryArchive(t, in, "packed.tar", "", []gen.File{
		{Name: "HEAD", Mode: 0o644, Data: []byte("ref: refs/heads/main\n")},
		{Name: "packed-refs", Mode: 0o644, Data: []byte(packed)},
	}, []gen.File{{Name: "pack/" + filepath.Base(pack), Mode: 0o444, Path: pack}})
	job := importArchive(t, in, p)
	errs := messages(t, in, job.ID, model.SeverityError)
	if len(errs) > maxLost+1 {
		t.Errorf("%d ERROR messages for %d bad packed-refs lines", len(errs), bad)
	}
	if !hasMessage(errs, "500 more refs were not imported") {
		t.Errorf("the rest of the bad refs is not counted: last message %q", errs[len(errs)-1])
	}
	dir := in.repositoryDir(newID(t, in, job.ID, "repository", "7"))
	if refs := strings.TrimSpace(runGit(t, dir, "--git-dir=.", "for-each-ref", "--format=%(refname)")); refs != "refs/heads/main" {
		t.Errorf("refs %q", refs)
	}
	assertClean(t, in)
}

// TestRepositoryThatCannotBeLaidOutLeavesNoRow: when the build directory
// cannot be made (a full or broken disk), the import aborts without a
// repository left INITIALISING.
func TestRepositoryThatCannotBeLaidOutLeavesNoRow(t *testing.T) {
	in := openHome(t)
	p := oneRepositoryArchive(t, in, "nobuild.tar", "", nil, nil)
	// A file where the build directories go: no build can be laid out.
	if err := os.RemoveAll(in.tmpDir()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in.tmpDir(), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	job := importArchive(t, in, p)
	if job.State != model.StateAborted {
		t.Fatalf("job ended %s", job.State)
	}
	if n := count(t, in, `SELECT COUNT(*) FROM repositories WHERE state = 'INITIALISING'`); n != 0 {
		t.Errorf("%d repositories left INITIALISING", n)
	}
}

// TestForkOfItselfIsAnItemError: a repository naming itself as its origin
// is one bad item, not a reason to abort the import.
func TestForkOfItselfIsAnItemError(t *testing.T) {
	in := openHome(t)
	p := oneRepositoryArchive(t, in, "selffork.tar", "7", nil, []gen.File{})
	job := importArchive(t, in, p)
	msgs := messages(t, in, job.ID)
	if job.State != model.StateFailed || !hasMessage(msgs, "ERROR PRJ/golden:", "origin") {
		t.Errorf("job ended %s:\n%s", job.State, strings.Join(msgs, "\n"))
	}
	assertClean(t, in)
}

// TestCancelWithoutHierarchyMarkersStops: an archive whose repositories
// stand outside hierarchy markers has no hierarchy end to wait for; a
// cancel in git data must still stop the import, not let it run to
// COMPLETED with every later pull request left out.
func TestCancelWithoutHierarchyMarkersStops(t *testing.T) {
	pack, commit := packedRepository(t)
	in := openHome(t)
	meta := []gen.File{
		{Name: "HEAD", Mode: 0o644, Data: []byte("ref: refs/heads/main\n")},
		{Name: "refs/heads/main", Mode: 0o644, Data: []byte(commit + "\n")},
	}
	p := writeArchive(t, in, "nomarkers.tar", func(w *gen.Writer) {
		w.AddJSON(archive.KindInstanceDetails, archive.IDs{}, model.InstanceDetails{ArchiveVersion: 2}, false)
		w.AddJSON(archive.KindProject, archive.IDs{Project: "1"}, model.Project{ID: "1", Key: "PRJ", Name: "Project"}, false)
		for _, rid := range []string{"7", "8"} {
			ids := archive.IDs{Project: "1", Repository: rid}
			w.AddJSON(archive.KindRepository, ids, model.Repository{ID: rid, Slug: "r" + rid, Name: "r" + rid, ProjectID: "1", HierarchyID: "h" + rid, ScmID: "git"}, false)
			w.AddTar(archive.KindGitMetadata, ids, meta)
			w.AddTar(archive.KindGitObjects, ids, []gen.File{{Name: "pack/" + filepath.Base(pack), Mode: 0o444, Path: pack}})
		}
	})
	cancelAt(in, pointGitData, func() bool { return true })
	job := importArchive(t, in, p)
	if job.State != model.StateCanceled {
		t.Errorf("job ended %s:\n%s", job.State, strings.Join(messages(t, in, job.ID), "\n"))
	}
	if n := count(t, in, `SELECT COUNT(*) FROM repositories`); n != 1 {
		t.Errorf("%d repositories imported after a cancel, want 1", n)
	}
	assertClean(t, in)
}

// oneRepositoryArchive writes an archive of one project, PRJ, holding one
// repository, golden (archive id 7, origin originID if not empty), whose
// git metadata and objects tars hold the given files: nil leaves that
// member out, an empty slice writes an empty tar.
func oneRepositoryArchive(t *testing.T, in *Instance, name, originID string, meta, objects []gen.File) string {
	t.Helper()
	ids := archive.IDs{Project: "1", Repository: "7", Hierarchy: "h1"}
	return writeArchive(t, in, name, func(w *gen.Writer) {
		w.AddJSON(archive.KindInstanceDetails, archive.IDs{}, model.InstanceDetails{ArchiveVersion: 2}, false)
		w.AddJSON(archive.KindProject, ids, model.Project{ID: "1", Key: "PRJ", Name: "Project"}, false)
		w.AddRaw(archive.MemberName(archive.KindHierarchyBegin, ids), nil)
		w.AddJSON(archive.KindRepository, ids, model.Repository{ID: "7", Slug: "golden", Name: "golden", ProjectID: "1", HierarchyID: "h1", OriginID: originID, ScmID: "git"}, false)
		if meta != nil {
			w.AddTar(archive.KindGitMetadata, ids, meta)
		}
		if objects != nil {
			w.AddTar(archive.KindGitObjects, ids, objects)
		}
		w.AddRaw(archive.MemberName(archive.KindHierarchyEnd, ids), nil)
	})
}
