package importer

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha1"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/archive/gen"
	"bbimport/model"
)

// TestDamagedGitDataIsAnItemError imports archives whose first repository
// has all its objects, every ref resolving, but one pack or loose object
// whose bytes do not match its name: a connectivity check alone passes
// them. Each must be an ERROR naming the repository and what is damaged,
// the job FAILED, and neither the repository nor its fork imported.
func TestDamagedGitDataIsAnItemError(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*gen.Options)
		what func(damaged string) string // how the error names the damage
	}{
		{"flipped byte in a pack", func(o *gen.Options) { o.DamagePack = true },
			func(d string) string { return "pack " + path.Base(d) }},
		{"loose object with other content", func(o *gen.Options) { o.DamageObject = true },
			func(d string) string { return "object " + strings.ReplaceAll(d, "/", "") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := gen.DefaultOptions()
			opts.Projects, opts.Repos, opts.PRs = 1, 2, 2 // two hierarchies: the damaged one and one to go on with
			tc.set(&opts)
			p := filepath.Join(t.TempDir(), "damaged.tar")
			st, err := gen.GenerateFile(context.Background(), p, opts)
			if err != nil {
				t.Fatal(err)
			}
			in := openHome(t)
			job := importArchive(t, in, p)
			msgs := strings.Join(messages(t, in, job.ID), "\n")
			if job.State != model.StateFailed {
				t.Fatalf("job ended %s, want FAILED:\n%s", job.State, msgs)
			}
			want := readArchive(t, p)
			first := want.repos["1"]
			subject := want.projects[first.ProjectID].Key + "/" + first.Slug
			errs := messages(t, in, job.ID, model.SeverityError)
			if !hasMessage(errs, "ERROR "+subject+": Repository "+subject+" was not imported: git data is damaged", tc.what(st.Damaged)) {
				t.Errorf("no error naming %s and %s:\n%s", subject, tc.what(st.Damaged), msgs)
			}
			if hasMessage(messages(t, in, job.ID, model.SeverityInfo), "Fork hierarchy of "+subject+" imported and verified") {
				t.Errorf("the damaged hierarchy is said to be verified:\n%s", msgs)
			}
			if n := count(t, in, `SELECT COUNT(*) FROM repositories r JOIN projects p ON p.id = r.project_id WHERE p.key = ? AND r.slug = ?`,
				want.projects[first.ProjectID].Key, first.Slug); n != 0 {
				t.Errorf("the damaged repository %s was imported", subject)
			}
			forks := 0
			for _, r := range want.repos {
				if r.OriginID == "1" {
					forks++
				}
			}
			if n := count(t, in, `SELECT COUNT(*) FROM repositories`); n != len(want.repos)-1-forks {
				t.Errorf("%d of %d repositories imported, want all but %s and its %d fork(s)", n, len(want.repos), subject, forks)
			}
			assertClean(t, in)
			assertRepositoriesVerify(t, in)
		})
	}
}

// TestGoodGitDataIsVerifiedInFull imports good archives, with loose objects
// and with packs, and runs git fsck (--full, its default) on every
// repository imported.
func TestGoodGitDataIsVerifiedInFull(t *testing.T) {
	packed := gen.DefaultOptions()
	packed.Packed = true
	for name, opts := range map[string]gen.Options{"default": gen.DefaultOptions(), "packed": packed} {
		t.Run(name, func(t *testing.T) {
			in := openHome(t)
			p := generated(t, name, opts)
			job := importArchive(t, in, p)
			if job.State != model.StateCompleted {
				t.Fatalf("job ended %s:\n%s", job.State, strings.Join(messages(t, in, job.ID), "\n"))
			}
			if n, want := count(t, in, `SELECT COUNT(*) FROM repositories`), len(readArchive(t, p).repos); n != want {
				t.Fatalf("%d of %d repositories imported", n, want)
			}
			assertRepositoriesVerify(t, in)
		})
	}
}

// TestMalformedLooseObjectIsDamage imports a repository whose refs resolve
// through a good pack and which also holds one loose object that is not
// what git writes, whatever its name.
func TestMalformedLooseObjectIsDamage(t *testing.T) {
	pack, commit := packedRepository(t)
	for _, tc := range []struct {
		name     string
		inflated string
		zipped   func([]byte) []byte
		want     string
	}{
		{"bytes after the zlib stream", "blob 5\x00hello", func(z []byte) []byte { return append(z, "xx"...) }, "2 bytes after the compressed object"},
		{"size unlike the content", "blob 7\x00hello", nil, "5 bytes of content where the header says 7"},
		{"unknown type", "blub 5\x00hello", nil, `object type "blub"`},
		{"not zlib", "", func([]byte) []byte { return []byte("blob 5\x00hello") }, "not a valid loose object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write([]byte(tc.inflated))
			zw.Close()
			data := z.Bytes()
			if tc.zipped != nil {
				data = tc.zipped(data)
			}
			id := fmt.Sprintf("%x", sha1.Sum([]byte(tc.inflated)))
			in := openHome(t)
			p := oneRepositoryArchive(t, in, "loose.tar", "", []gen.File{
				{Name: "HEAD", Mode: 0o644, Data: []byte("ref: refs/heads/main\n")},
				{Name: "refs/heads/main", Mode: 0o644, Data: []byte(commit + "\n")},
			}, []gen.File{
				{Name: id[:2] + "/" + id[2:], Mode: 0o444, Data: data},
				{Name: "pack/" + filepath.Base(pack), Mode: 0o444, Path: pack},
			})
			job := importArchive(t, in, p)
			msgs := messages(t, in, job.ID)
			if job.State != model.StateFailed {
				t.Fatalf("job ended %s:\n%s", job.State, strings.Join(msgs, "\n"))
			}
			if !hasMessage(msgs, "ERROR PRJ/golden: Repository PRJ/golden was not imported: git data is damaged: object "+id, tc.want) {
				t.Errorf("no error about object %s with %q:\n%s", id, tc.want, strings.Join(msgs, "\n"))
			}
			if n := count(t, in, `SELECT COUNT(*) FROM repositories`); n != 0 {
				t.Errorf("%d repositories imported", n)
			}
			assertClean(t, in)
		})
	}
}
