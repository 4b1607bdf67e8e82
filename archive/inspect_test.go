package archive

import (
	"archive/tar"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"bbimport/model"
)

func TestInspectSummarisesTheSample(t *testing.T) {
	b := sampleArchive(t)
	got, err := Inspect(writeFile(t, b), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var git int64
	for _, e := range sampleEntries(t) {
		if k, _ := ParseMemberName(e.name); k == KindGitMetadata || k == KindGitHooks || k == KindGitObjects {
			git += int64(len(e.body))
		}
	}
	want := model.ArchiveSummary{
		Instance:     sampleInstance,
		Projects:     []model.ProjectSummary{{Key: "FIX", Name: "Fixture Project", Repositories: 2}},
		Hierarchies:  []model.HierarchySummary{{ID: "h1", Origin: "FIX/golden", Forks: []string{"FIX/golden-fork"}}},
		Repositories: 2,
		Forks:        1,
		PullRequests: model.PullRequestCounts{Total: 1, Merged: 1},
		GitBytes:     git,
		ArchiveBytes: int64(len(b)),
		Members:      len(sampleEntries(t)),
		// What the pre-flight's rename plan needs, in archive order.
		RepositoryList: []model.ArchiveRepository{{Project: "FIX", Slug: "golden", Name: "golden"}, {Project: "FIX", Slug: "golden-fork", Name: "golden"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestInspectWarnsOfAMalformedMember(t *testing.T) {
	name := MemberName(KindPullRequestMetadata, idRepo)
	b := replaced(t, KindPullRequestMetadata, entry{name: name, body: gz(t, []byte("{"))})
	s, err := Inspect(writeFile(t, b), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`malformed archive member: member "` + name + `": it is not the JSON expected here: unexpected EOF`}
	if !reflect.DeepEqual(s.Warnings, want) || s.PullRequests.Total != 0 {
		t.Errorf("warnings %q, pull requests %+v", s.Warnings, s.PullRequests)
	}
}

func TestInspectRefusesUnsafeGitMetadata(t *testing.T) {
	metadata := MemberName(KindGitMetadata, idRepo)
	b := replaced(t, KindGitMetadata, entry{name: metadata, body: gz(t, tarOf(t, entry{name: "../../x", body: []byte("x")}))})
	_, err := Inspect(writeFile(t, b), Limits{})
	if !errors.Is(err, ErrUnsafe) {
		t.Fatalf("got %v, want an unsafe archive error", err)
	}
}

func TestChecksumMatchesMD5AndSHA256(t *testing.T) {
	// Several chunks and a partial last one.
	data := make([]byte, 3*checksumChunk+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	p := writeFile(t, data)
	var calls int
	var last int64
	got, err := Checksum(context.Background(), p, func(done, total int64) {
		calls++
		last = done
		if total != int64(len(data)) {
			t.Errorf("total %d, want %d", total, len(data))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	m, s := md5.Sum(data), sha256.Sum256(data)
	want := model.Checksums{MD5: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(s[:]), Bytes: int64(len(data))}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if calls == 0 || last != int64(len(data)) {
		t.Errorf("progress: %d calls, last at %d", calls, last)
	}
}

func TestChecksumStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Checksum(ctx, writeFile(t, make([]byte, 10)), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestListArchivesNewestFirstRegularTarsOnly(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int, age time.Duration) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(-age).Truncate(time.Second)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	write("Bitbucket_export_1.tar", 10, time.Hour)
	write("Bitbucket_export_2.tar", 20, time.Minute)
	write("notes.txt", 1, 0)
	outside := filepath.Join(t.TempDir(), "elsewhere.tar")
	os.WriteFile(outside, nil, 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "link.tar")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir.tar"), 0o755); err != nil {
		t.Fatal(err)
	}
	first, err := ListArchives(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := func(fs []model.ArchiveFile) (n []string) {
		for _, f := range fs {
			if f.Unusable != "" {
				continue // TestListArchivesSaysWhyAnEntryIsUnusable
			}
			n = append(n, f.Name)
			if f.Growing {
				n = append(n, "(growing)")
			}
		}
		return n
	}
	if got := names(first); !reflect.DeepEqual(got, []string{"Bitbucket_export_2.tar", "Bitbucket_export_1.tar"}) {
		t.Fatalf("listed %q", got)
	}
	if first[0].Path != filepath.Join(dir, "Bitbucket_export_2.tar") || first[0].Size != 20 {
		t.Errorf("first entry %+v", first[0])
	}
	// A copy in progress: the file grew since the last look.
	write("Bitbucket_export_1.tar", 30, time.Hour)
	second, err := ListArchives(dir, first)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(second); !reflect.DeepEqual(got, []string{"Bitbucket_export_2.tar", "Bitbucket_export_1.tar", "(growing)"}) {
		t.Fatalf("listed %q", got)
	}
}

func TestListArchivesMissingDirectorySaysHowToCreateIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared", "data", "migration", "import")
	_, err := ListArchives(dir, nil)
	want := "import directory " + dir + " does not exist: create it (mkdir -p " + dir + ") and copy the export archive into it"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestFreeBytes(t *testing.T) {
	n, err := FreeBytes(t.TempDir())
	if err != nil || n <= 0 {
		t.Fatalf("got %d, %v", n, err)
	}
	if _, err := FreeBytes(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("no error for a missing directory")
	}
}

// Inspect must refuse what an import refuses: the names and types inside
// the git objects tar and the pull request caches tar too, not only those
// of the small gzip'd inner tars.
func TestInspectRefusesWhatImportRefusesInEveryInnerTar(t *testing.T) {
	objects := MemberName(KindGitObjects, idRepo)
	caches := MemberName(KindPullRequestCaches, idRepo)
	cases := map[string][]byte{
		"objects ..":        replaced(t, KindGitObjects, entry{name: objects, body: tarOf(t, entry{name: "../../hooks/x", body: []byte("x")})}),
		"objects symlink":   replaced(t, KindGitObjects, entry{name: objects, body: tarOf(t, entry{name: "pack", typ: tar.TypeSymlink, link: "/etc"})}),
		"objects hard link": replaced(t, KindGitObjects, entry{name: objects, body: tarOf(t, entry{name: "ab/cd", body: []byte("x")}, entry{name: "ab/ef", typ: tar.TypeLink, link: "/etc/passwd"})}),
		"objects duplicate": replaced(t, KindGitObjects, entry{name: objects, body: tarOf(t, entry{name: "ab/cd", body: []byte("x")}, entry{name: "ab/cd", body: []byte("y")})}),
		"caches ..":         replaced(t, KindPullRequestCaches, entry{name: caches, body: gz(t, tarOf(t, entry{name: "../x", body: []byte("x")}))}),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, b)
			readErr := ReadFile(p, Limits{}, func(m *Member) error { return m.Files(func(File) error { return nil }) })
			_, err := Inspect(p, Limits{})
			if !errors.Is(readErr, ErrUnsafe) || !errors.Is(err, ErrUnsafe) {
				t.Fatalf("import read: %v\ninspect: %v\nwant both unsafe", readErr, err)
			}
			var ie, re *Error
			if !errors.As(err, &ie) || !errors.As(readErr, &re) || ie.Member != re.Member || ie.Inner != re.Inner || ie.Rule != re.Rule {
				t.Errorf("inspect says %v\nimport says %v", err, readErr)
			}
		})
	}
}

// A cut inside the git objects tar is found by inspect as by an import,
// although inspect seeks past the objects' bytes.
func TestInspectFindsAGitObjectsTarWithoutItsEndMarker(t *testing.T) {
	objects := MemberName(KindGitObjects, idRepo)
	whole := gitObjects(t)
	b := replaced(t, KindGitObjects, entry{name: objects, body: whole[:len(whole)-1024]})
	_, err := Inspect(writeFile(t, b), Limits{})
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v, want a truncated archive", err)
	}
}

func TestInspectWarnsOfDuplicatePullRequestIDs(t *testing.T) {
	es := sampleEntries(t)
	second := idRepo
	second.PullRequest = 4
	var out []entry
	for _, e := range es {
		out = append(out, e)
		if k, _ := ParseMemberName(e.name); k == KindPullRequestMetadata {
			out = append(out, member(KindPullRequestMetadata, second, jsonGz(t, samplePR))) // JSON id 3 again
		}
	}
	s, err := Inspect(writeFile(t, tarOf(t, out...)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"repository FIX/golden has more than one pull request with id 3"}
	if !reflect.DeepEqual(s.Warnings, want) || s.PullRequests.Total != 2 {
		t.Errorf("warnings %q, pull requests %+v", s.Warnings, s.PullRequests)
	}
}
