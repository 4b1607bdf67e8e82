package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/model"
)

// TestWriteHugePullRequestArchive writes, when BBIMPORT_HUGE_PR names a
// file, an archive of one repository and one pull request of
// BBIMPORT_HUGE_PR_COMMENTS comments (default 50,000) of
// BBIMPORT_HUGE_PR_TEXT bytes each (default 64): the input of the
// memory measurement in docs/importer.md. Otherwise it is skipped.
func TestWriteHugePullRequestArchive(t *testing.T) {
	out := os.Getenv("BBIMPORT_HUGE_PR")
	if out == "" {
		t.Skip("BBIMPORT_HUGE_PR is not set")
	}
	comments, text := envInt(t, "BBIMPORT_HUGE_PR_COMMENTS", 50000), envInt(t, "BBIMPORT_HUGE_PR_TEXT", 64)
	pack, commit := packedRepository(t)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := gen.NewWriter(f)
	ids := archive.IDs{Project: "1", Repository: "7", Hierarchy: "h1", PullRequest: 1}
	w.AddJSON(archive.KindInstanceDetails, archive.IDs{}, model.InstanceDetails{ArchiveVersion: 2}, false)
	w.AddJSON(archive.KindProject, ids, model.Project{ID: "1", Key: "PRJ", Name: "Project"}, false)
	w.AddRaw(archive.MemberName(archive.KindHierarchyBegin, ids), nil)
	w.AddJSON(archive.KindRepository, ids, model.Repository{ID: "7", Slug: "golden", Name: "golden", ProjectID: "1", HierarchyID: "h1", ScmID: "git"}, false)
	w.AddTar(archive.KindGitMetadata, ids, []gen.File{
		{Name: "HEAD", Mode: 0o644, Data: []byte("ref: refs/heads/main\n")},
		{Name: "refs/heads/main", Mode: 0o644, Data: []byte(commit + "\n")},
	})
	w.AddTar(archive.KindGitObjects, ids, []gen.File{{Name: "pack/" + filepath.Base(pack), Mode: 0o444, Path: pack}})
	pw := &prWriter{t: t, w: w, commit: commit}
	acts := make([]model.Activity, comments)
	body := strings.Repeat("x", text)
	for i := range acts {
		acts[i] = comment(strconv.Itoa(i+1), nil)
		acts[i].Comment.Text = body
	}
	pw.add("7", 1, pw.pr(1), acts...)
	w.AddRaw(archive.MemberName(archive.KindHierarchyEnd, ids), nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("wrote %s: one pull request of %d comments of %d bytes\n", out, comments, text)
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}
