package gen

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"bbimport/archive"
	"bbimport/importer/gitcmd"
)

// member is one outer tar entry as the tests see it, read with archive/tar
// alone so that the generator is checked independently of our reader.
type member struct {
	hdr  *tar.Header
	kind archive.Kind
	ids  archive.IDs
	raw  []byte // as stored in the archive
	body []byte // gunzipped when the name ends in .atl.gz
}

// innerFile is one entry of an inner tar.
type innerFile struct {
	hdr  *tar.Header
	body []byte
}

func readArchive(t testing.TB, data []byte) []member {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var out []member
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("outer tar: %v", err)
		}
		raw, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", hdr.Name, err)
		}
		m := member{hdr: hdr, raw: raw, body: raw}
		m.kind, m.ids = archive.ParseMemberName(hdr.Name)
		if strings.HasSuffix(hdr.Name, ".atl.gz") {
			m.body = gunzip(t, hdr.Name, raw)
		}
		out = append(out, m)
	}
}

func gunzip(t testing.TB, name string, raw []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s is not gzip: %v", name, err)
	}
	zr.Multistream(false)
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip %s: %v", name, err)
	}
	return body
}

func (m member) files(t testing.TB) []innerFile {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(m.body))
	var out []innerFile
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("inner tar of %s: %v", m.hdr.Name, err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("inner tar of %s: %v", m.hdr.Name, err)
		}
		out = append(out, innerFile{hdr, body})
	}
}

func (m member) file(t testing.TB, name string) []byte {
	t.Helper()
	for _, f := range m.files(t) {
		if f.hdr.Name == name {
			return f.body
		}
	}
	t.Fatalf("%s holds no %s", m.hdr.Name, name)
	return nil
}

// generate writes an archive into memory.
func generate(t testing.TB, opts Options) ([]byte, Stats) {
	t.Helper()
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	var buf bytes.Buffer
	st, err := Generate(context.Background(), &buf, opts)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if int64(buf.Len()) != st.Bytes {
		t.Fatalf("Stats.Bytes %d, wrote %d", st.Bytes, buf.Len())
	}
	return buf.Bytes(), st
}

// testOptions is small but has every feature: forks in a personal project
// and in the origin's project, every pull request state.
func testOptions() Options {
	return Options{Projects: 2, Repos: 2, Forks: 2, PRs: 5, Commits: 6, BlobKiB: 1, Seed: 7}
}

var (
	sharedOnce    sync.Once
	sharedArchive []byte
	sharedStats   Stats
	sharedErr     error
)

// shared is one archive of testOptions, generated once for the tests that
// only read it.
func shared(t testing.TB) ([]byte, Stats) {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "archivegen-test-")
		if err != nil {
			sharedErr = err
			return
		}
		defer os.RemoveAll(dir)
		opts := testOptions()
		opts.TempDir = dir
		var buf bytes.Buffer
		sharedStats, sharedErr = Generate(context.Background(), &buf, opts)
		sharedArchive = buf.Bytes()
	})
	if sharedErr != nil {
		t.Fatalf("Generate: %v", sharedErr)
	}
	return sharedArchive, sharedStats
}

// materialize builds the bare repository of every repository in the
// archive the way an importer would: the metadata skeleton with a fresh
// config, the objects, and alternates to the origin for forks. It returns
// the git dir of each repository id.
func materialize(t testing.TB, members []member) map[string]string {
	t.Helper()
	root := t.TempDir()
	dirs := map[string]string{}
	origin := map[string]string{} // hierarchy id to origin repository id
	for _, m := range members {
		rid := m.ids.Repository
		dir := filepath.Join(root, rid+".git")
		switch m.kind {
		case archive.KindRepository:
			dirs[rid] = dir
			var repo struct{ HierarchyID, OriginID string }
			mustUnmarshal(t, m.body, &repo)
			if repo.OriginID == "" {
				origin[repo.HierarchyID] = rid
			} else {
				if origin[repo.HierarchyID] != repo.OriginID {
					t.Fatalf("fork %s names origin %s, its hierarchy's origin is %s", rid, repo.OriginID, origin[repo.HierarchyID])
				}
				writeFile(t, filepath.Join(dir, "objects", "info", "alternates"), filepath.Join(root, repo.OriginID+".git", "objects")+"\n")
			}
		case archive.KindGitMetadata:
			for _, f := range m.files(t) {
				writeFile(t, filepath.Join(dir, f.hdr.Name), string(f.body))
			}
			writeFile(t, filepath.Join(dir, "config"), "[core]\n\trepositoryformatversion = 0\n\tbare = true\n")
			os.RemoveAll(filepath.Join(dir, "hooks"))
		case archive.KindGitObjects:
			for _, f := range m.files(t) {
				writeFile(t, filepath.Join(dir, "objects", f.hdr.Name), string(f.body))
			}
		}
	}
	return dirs
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// git runs git on gitDir and returns its trimmed output.
func git(t testing.TB, gitDir string, args ...string) (string, error) {
	t.Helper()
	cmd := gitcmd.Command(context.Background(), gitDir, args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(out.String()), nil
}
