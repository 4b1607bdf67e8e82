package importer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/archive/gen"
	"bbimport/model"
)

// packedRepository makes a repository with one commit in a single pack and
// returns the pack's path and the commit.
func packedRepository(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"commit", "-q", "--allow-empty", "-m", "one"}, {"repack", "-q", "-a", "-d"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(gitEnv(dir), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@b", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@b")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	packs, _ := filepath.Glob(filepath.Join(dir, ".git", "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs: %v", packs)
	}
	return packs[0], strings.TrimSpace(runGit(t, dir, "rev-parse", "HEAD"))
}

// TestGitDataIsCheckedAndIndexed imports a repository whose pack comes
// without its index, whose object store carries an alternates file, and
// whose refs include names git refuses.
func TestGitDataIsCheckedAndIndexed(t *testing.T) {
	pack, commit := packedRepository(t)
	in := openHome(t)
	p := oneRepositoryArchive(t, in, "crafted.tar", "", []gen.File{
		{Name: "HEAD", Mode: 0o644, Data: []byte("ref: refs/heads/main\n")},
		{Name: "config", Mode: 0o644, Data: []byte("[core]\n\tfsmonitor = touch /tmp/never\n")},
		{Name: "refs/heads/main", Mode: 0o644, Data: []byte(commit + "\n")},
		{Name: "refs/heads/bad..name", Mode: 0o644, Data: []byte(commit + "\n")},
		{Name: "refs/tags/not-an-object", Mode: 0o644, Data: []byte("xyz\n")},
		{Name: "stash-refs/pull-requests/1/from", Mode: 0o644, Data: []byte(commit + "\n")},
	}, []gen.File{
		{Name: "info/alternates", Mode: 0o644, Data: []byte("/elsewhere/objects\n")},
		{Name: "pack/" + filepath.Base(pack), Mode: 0o444, Path: pack},
	})
	job := importArchive(t, in, p)
	if job.State != model.StateFailed {
		t.Fatalf("job ended %s:\n%s", job.State, strings.Join(messages(t, in, job.ID), "\n"))
	}
	msgs := messages(t, in, job.ID)
	for _, want := range [][]string{
		{"ERROR PRJ/golden:", "refs/heads/bad..name", "contains .."},
		{"ERROR PRJ/golden:", "refs/tags/not-an-object", "not an object name"},
		{"WARN PRJ/golden:", "info/alternates", "left out"},
	} {
		if !hasMessage(msgs, want...) {
			t.Errorf("no message with %q:\n%s", want, strings.Join(msgs, "\n"))
		}
	}
	dir := in.repositoryDir(newID(t, in, job.ID, "repository", "7"))
	if refs := strings.TrimSpace(runGit(t, dir, "--git-dir=.", "for-each-ref", "--format=%(refname)")); refs != "refs/heads/main" {
		t.Errorf("refs %q", refs)
	}
	runGit(t, dir, "--git-dir=.", "fsck", "--no-progress")
	if idx, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx")); len(idx) != 1 {
		t.Errorf("the pack was not indexed: %v", idx)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "stash-refs", "pull-requests", "1", "from")); strings.TrimSpace(string(data)) != commit {
		t.Errorf("stash ref holds %q", data)
	}
	if _, err := os.Stat(filepath.Join(dir, "objects", "info", "alternates")); err == nil {
		t.Error("the archive's alternates file was kept")
	}
	assertClean(t, in)
}
