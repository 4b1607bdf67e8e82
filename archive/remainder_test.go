package archive_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/importer"
	"bbimport/model"
)

// remainderSources are archives with forks in personal projects, made once
// per archive version: generating builds real git repositories.
var remainderSources sync.Map // version -> *generatedArchive

type generatedArchive struct {
	once  sync.Once
	path  string
	stats gen.Stats
	err   error
}

func remainderSource(t *testing.T, version int) (string, gen.Stats) {
	t.Helper()
	v, _ := remainderSources.LoadOrStore(version, &generatedArchive{})
	g := v.(*generatedArchive)
	g.once.Do(func() {
		dir, err := os.MkdirTemp("", "bbimport-remainder-")
		if err != nil {
			g.err = err
			return
		}
		g.path = filepath.Join(dir, "source.tar")
		g.stats, g.err = gen.GenerateFile(context.Background(), g.path, gen.Options{
			Projects: 2, Repos: 2, Forks: 2, PRs: 3, Commits: 3, BlobKiB: 1, Seed: 11, ArchiveVersion: version})
	})
	if g.err != nil {
		t.Fatalf("generate the source archive: %v", g.err)
	}
	return g.path, g.stats
}

// rawMember is an outer tar entry as archive/tar alone reads it.
type rawMember struct {
	hdr  *tar.Header
	body []byte
}

func rawMembers(t *testing.T, path string) []rawMember {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var out []rawMember
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("%s: read %s: %v", path, hdr.Name, err)
		}
		out = append(out, rawMember{hdr, body})
	}
}

// expectedRemainder lists, in order, the names of the members of src that
// a remainder of the hierarchies keep holds, as the layout defines them:
// the instance details, the members of the projects of the kept
// repositories, and every member naming a kept repository or hierarchy.
func expectedRemainder(t *testing.T, src string, keep []string) []string {
	t.Helper()
	repos, projects := map[string]bool{}, map[string]bool{}
	err := archive.ReadFile(src, archive.Limits{}, func(m *archive.Member) error {
		if m.Kind == archive.KindRepository && slices.Contains(keep, m.Repository.HierarchyID) {
			repos[m.Repository.ID] = true
			projects[m.Repository.ProjectID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range rawMembers(t, src) {
		kind, ids := archive.ParseMemberName(m.hdr.Name)
		var in bool
		switch kind {
		case archive.KindInstanceDetails:
			in = true
		case archive.KindProject, archive.KindProjectAllPermissions, archive.KindProjectPermissions:
			in = projects[ids.Project]
		case archive.KindHierarchyBegin, archive.KindHierarchyEnd:
			in = slices.Contains(keep, ids.Hierarchy)
		default:
			in = repos[ids.Repository]
		}
		if in {
			names = append(names, m.hdr.Name)
		}
	}
	return names
}

func TestRemainderHoldsTheKeptHierarchiesByteForByte(t *testing.T) {
	for _, version := range []int{1, 2} {
		t.Run("archiveVersion"+string(rune('0'+version)), func(t *testing.T) {
			src, _ := remainderSource(t, version)
			whole, err := archive.Inspect(src, archive.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(whole.Hierarchies) != 4 {
				t.Fatalf("the source has %d hierarchies, want 4", len(whole.Hierarchies))
			}
			kept := []model.HierarchySummary{whole.Hierarchies[1], whole.Hierarchies[3]}
			keep := []string{kept[0].ID, kept[1].ID}
			dst := filepath.Join(t.TempDir(), "remainder.tar")
			stats, err := archive.WriteRemainder(context.Background(), src, dst, keep)
			if err != nil {
				t.Fatal(err)
			}

			// What a reader of the remainder finds.
			sum, err := archive.Inspect(dst, archive.Limits{})
			if err != nil {
				t.Fatalf("inspect the remainder: %v", err)
			}
			if len(sum.Warnings) != 0 {
				t.Errorf("inspect of the remainder warns: %q", sum.Warnings)
			}
			if sum.Instance != whole.Instance || sum.Instance.ArchiveVersion != version {
				t.Errorf("instance details %+v, want the source's %+v", sum.Instance, whole.Instance)
			}
			if !slices.EqualFunc(sum.Hierarchies, kept, func(a, b model.HierarchySummary) bool {
				return a.ID == b.ID && a.Origin == b.Origin && slices.Equal(a.Forks, b.Forks)
			}) {
				t.Errorf("hierarchies %+v, want %+v", sum.Hierarchies, kept)
			}
			var keys []string
			personal := false
			for _, p := range sum.Projects {
				keys = append(keys, p.Key)
				personal = personal || strings.HasPrefix(p.Key, "~")
			}
			if !slices.Equal(keys, stats.Projects) || !personal || len(keys) >= len(whole.Projects) {
				t.Errorf("projects %q (stats %q), want those of the kept repositories, a personal one among them, fewer than the source's %d",
					keys, stats.Projects, len(whole.Projects))
			}
			if sum.Repositories != 6 || stats.Repositories != 6 || sum.Forks != 4 {
				t.Errorf("%d repositories (%d forks; stats %d), want 6 (4 forks)", sum.Repositories, sum.Forks, stats.Repositories)
			}
			if sum.PullRequests.Total != 6*3 || stats.PullRequests != 6*3 {
				t.Errorf("%d pull requests (stats %d), want 18", sum.PullRequests.Total, stats.PullRequests)
			}
			if !slices.Equal(stats.Hierarchies, keep) {
				t.Errorf("stats hierarchies %q, want %q", stats.Hierarchies, keep)
			}

			// The members, their headers and their bytes.
			got := rawMembers(t, dst)
			var names []string
			for _, m := range got {
				names = append(names, m.hdr.Name)
			}
			if want := expectedRemainder(t, src, keep); !slices.Equal(names, want) {
				t.Fatalf("members:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
			}
			source := map[string]rawMember{}
			for _, m := range rawMembers(t, src) {
				source[m.hdr.Name] = m
			}
			for _, m := range got {
				s := source[m.hdr.Name]
				if !bytes.Equal(m.body, s.body) {
					t.Errorf("%s: the bytes differ from the source's", m.hdr.Name)
				}
				h, sh := m.hdr, s.hdr
				if h.Size != sh.Size || h.Mode != sh.Mode || !h.ModTime.Equal(sh.ModTime) || h.Typeflag != sh.Typeflag ||
					h.Uid != sh.Uid || h.Gid != sh.Gid || h.Uname != sh.Uname || h.Gname != sh.Gname {
					t.Errorf("%s: header %+v, want the source's %+v", h.Name, h, sh)
				}
			}
			if stats.Members != len(got) {
				t.Errorf("stats say %d members, the file holds %d", stats.Members, len(got))
			}
			if fi, err := os.Stat(dst); err != nil || fi.Size() != stats.Bytes {
				t.Errorf("stats say %d bytes; the file: %v, %v", stats.Bytes, fi, err)
			}
		})
	}
}

func TestRemainderImports(t *testing.T) {
	src, _ := remainderSource(t, 2)
	whole, err := archive.Inspect(src, archive.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := importer.Open(importer.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(in.ImportDir(), "remainder.tar")
	stats, err := archive.WriteRemainder(context.Background(), src, dst, []string{whole.Hierarchies[2].ID})
	if err != nil {
		t.Fatal(err)
	}
	job, err := in.Start(context.Background(), filepath.Base(dst))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	final, err := in.Wait(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := model.ImportCounts{Projects: len(stats.Projects), Repositories: 3, PullRequests: 9}
	if final.State != model.StateCompleted || final.Counts == nil || *final.Counts != want {
		t.Fatalf("import of the remainder: %s, counts %+v; want %s, %+v", final.State, final.Counts, model.StateCompleted, want)
	}
}

func TestRemainderRefuses(t *testing.T) {
	src, _ := remainderSource(t, 2)
	whole, err := archive.Inspect(src, archive.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	id := whole.Hierarchies[0].ID
	ctx := context.Background()

	t.Run("existing destination", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "remainder.tar")
		if err := os.WriteFile(dst, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := archive.WriteRemainder(ctx, src, dst, []string{id})
		if !errors.Is(err, archive.ErrRemainderExists) {
			t.Fatalf("error %v, want ErrRemainderExists", err)
		}
		if data, _ := os.ReadFile(dst); string(data) != "keep me" {
			t.Errorf("the existing file now holds %q", data)
		}
		assertOnly(t, filepath.Dir(dst), "remainder.tar")
	})
	t.Run("unknown hierarchy", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "remainder.tar")
		_, err := archive.WriteRemainder(ctx, src, dst, []string{id, "nosuchid1", "nosuchid2"})
		if err == nil || !strings.Contains(err.Error(), "no fork hierarchy nosuchid1, nosuchid2") {
			t.Fatalf("error %v, want one naming both unknown ids", err)
		}
		assertOnly(t, filepath.Dir(dst))
	})
	t.Run("no hierarchy", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "remainder.tar")
		_, err := archive.WriteRemainder(ctx, src, dst, nil)
		if err == nil || !strings.Contains(err.Error(), "no fork hierarchy given") {
			t.Fatalf("error %v, want one saying none was given", err)
		}
		assertOnly(t, filepath.Dir(dst))
	})
	t.Run("not an archive", func(t *testing.T) {
		dir := t.TempDir()
		notTar := filepath.Join(dir, "notes.txt")
		if err := os.WriteFile(notTar, []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := archive.WriteRemainder(ctx, notTar, filepath.Join(dir, "remainder.tar"), []string{id})
		if !errors.Is(err, archive.ErrNotAnArchive) {
			t.Fatalf("error %v, want ErrNotAnArchive", err)
		}
		assertOnly(t, dir, "notes.txt")
	})
}

// TestRemainderCanceledLeavesNoFile cancels before the start, during the
// first pass and during the copy: no file, temporary or final, remains.
func TestRemainderCanceledLeavesNoFile(t *testing.T) {
	src, gen := remainderSource(t, 2)
	whole, err := archive.Inspect(src, archive.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, after := range []int{0, gen.Members / 2, gen.Members + 20, gen.Members + 200} {
		ctx := &cancelAfter{Context: context.Background(), left: after}
		dst := filepath.Join(t.TempDir(), "remainder.tar")
		_, err := archive.WriteRemainder(ctx, src, dst, []string{whole.Hierarchies[0].ID, whole.Hierarchies[3].ID})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("canceled after %d checks: error %v, want context.Canceled", after, err)
		}
		assertOnly(t, filepath.Dir(dst))
	}
}

// cancelAfter is a context that is canceled after its Err has been asked
// left times: it cancels at a given point of the work, not of the clock.
type cancelAfter struct {
	context.Context
	mu   sync.Mutex
	left int
}

func (c *cancelAfter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left == 0 {
		return context.Canceled
	}
	c.left--
	return nil
}

// assertOnly checks that dir holds exactly the files named.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

// TestRemainderOfACutArchive: a source whose last hierarchy never ends is
// refused as an import refuses it, and nothing is written.
func TestRemainderOfACutArchive(t *testing.T) {
	src, _ := remainderSource(t, 2)
	members := rawMembers(t, src)
	end := len(members) - 1
	for kind(members[end]) != archive.KindHierarchyEnd {
		end--
	}
	var cut bytes.Buffer
	tw := tar.NewWriter(&cut)
	for i, m := range members {
		if i == end {
			continue
		}
		if err := tw.WriteHeader(m.hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cutPath := filepath.Join(dir, "cut.tar")
	if err := os.WriteFile(cutPath, cut.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, ids := archive.ParseMemberName(members[end].hdr.Name)
	_, err := archive.WriteRemainder(context.Background(), cutPath, filepath.Join(dir, "remainder.tar"), []string{ids.Hierarchy})
	if !errors.Is(err, archive.ErrTruncated) {
		t.Fatalf("error %v, want ErrTruncated", err)
	}
	assertOnly(t, dir, "cut.tar")
}

func kind(m rawMember) archive.Kind {
	k, _ := archive.ParseMemberName(m.hdr.Name)
	return k
}

// BenchmarkWriteRemainder writes the remainder of the first half of the
// hierarchies of the archive at $BBIMPORT_BENCH_ARCHIVE; run under
// /usr/bin/time for its peak memory.
func BenchmarkWriteRemainder(b *testing.B) {
	src := os.Getenv("BBIMPORT_BENCH_ARCHIVE")
	if src == "" {
		b.Skip("set BBIMPORT_BENCH_ARCHIVE to an archive")
	}
	// Not Inspect: it remembers every pull request, and the peak memory
	// measured must be WriteRemainder's.
	var hierarchies []string
	err := archive.ReadFile(src, archive.Limits{}, func(m *archive.Member) error {
		if m.Kind == archive.KindHierarchyBegin {
			hierarchies = append(hierarchies, m.IDs.Hierarchy)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	keep := hierarchies[:max(1, len(hierarchies)/2)]
	dir := b.TempDir()
	for b.Loop() {
		dst := filepath.Join(dir, "remainder.tar")
		st, err := archive.WriteRemainder(context.Background(), src, dst, keep)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(st.Bytes)
		if err := os.Remove(dst); err != nil {
			b.Fatal(err)
		}
	}
}
