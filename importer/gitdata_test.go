package importer

import (
	"context"
	"errors"
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

// The connectivity check finds a missing object, and a replace ref the
// archive brought cannot stand in for it.
func TestVerifyFindsAMissingObjectWhateverReplaceRefsSay(t *testing.T) {
	dir := t.TempDir()
	runGit(t, dir, "init", "--bare", "-q", ".")
	hash := func(content string) string {
		cmd := exec.Command("git", "--git-dir=.", "hash-object", "-w", "--stdin")
		cmd.Dir, cmd.Env, cmd.Stdin = dir, gitEnv(dir), strings.NewReader(content)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	lost, kept := hash("lost\n"), hash("kept\n")
	mktree := exec.Command("git", "--git-dir=.", "mktree")
	mktree.Dir, mktree.Env, mktree.Stdin = dir, gitEnv(dir), strings.NewReader("100644 blob "+lost+"\ta\n")
	tree, err := mktree.Output()
	if err != nil {
		t.Fatal(err)
	}
	commit := strings.TrimSpace(runGit(t, dir, "--git-dir=.", "-c", "user.name=t", "-c", "user.email=t@example.com",
		"commit-tree", strings.TrimSpace(string(tree)), "-m", "one"))
	runGit(t, dir, "--git-dir=.", "update-ref", "refs/heads/master", commit)
	b := &repositoryBuild{dir: dir}
	if err := b.verify(context.Background()); err != nil {
		t.Fatalf("a whole repository: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "objects", lost[:2], lost[2:])); err != nil {
		t.Fatal(err)
	}
	runGit(t, dir, "--git-dir=.", "update-ref", "refs/replace/"+lost, kept)
	err = b.verify(context.Background())
	if !errors.Is(err, errVerify) || !strings.Contains(err.Error(), lost) {
		t.Errorf("blob %s missing: got %v, want git data is incomplete naming it", lost, err)
	}
}
