package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"testing"

	"bbimport/model"
)

// secondHierarchy is a fork hierarchy h2 of repository 25 holding e.
func secondHierarchy(t *testing.T, e ...entry) []entry {
	repo := sampleRepo
	repo.ID, repo.HierarchyID, repo.Slug = "25", "h2", "silver"
	id := IDs{Project: "1", Repository: "25", Hierarchy: "h2", PullRequest: 3}
	out := []entry{member(KindHierarchyBegin, id, nil), member(KindRepository, id, jsonGz(t, repo))}
	out = append(out, e...)
	return append(out, member(KindHierarchyEnd, id, nil))
}

func TestDuplicateMemberNamesWithinAndAcrossHierarchies(t *testing.T) {
	pr := member(KindPullRequestMetadata, idRepo, jsonGz(t, samplePR))
	withPRTwice := func() []byte {
		var out []entry
		for _, e := range sampleEntries(t) {
			out = append(out, e)
			if e.name == pr.name {
				out = append(out, e)
			}
		}
		return tarOf(t, out...)
	}
	checkViolation(t, violation{archive: withPRTwice(), err: ErrUnsafe, member: pr.name, rule: ruleDuplicate, seen: 1})

	// The name of a member of h1's repository, again in h2 after h1 ended.
	across := tarOf(t, append(sampleEntries(t), secondHierarchy(t, pr)...)...)
	checkViolation(t, violation{archive: across, err: ErrUnsafe, member: pr.name, rule: "names must be unique", seen: 1})

	// And after every hierarchy ended.
	after := tarOf(t, append(sampleEntries(t), pr)...)
	checkViolation(t, violation{archive: after, err: ErrUnsafe, member: pr.name, rule: "names must be unique", seen: 1})

	// A hierarchy begun again.
	begin := member(KindHierarchyBegin, idRepo, nil)
	again := tarOf(t, append(sampleEntries(t), begin, member(KindHierarchyEnd, idRepo, nil))...)
	checkViolation(t, violation{archive: again, err: ErrUnsafe, member: begin.name, rule: ruleDuplicate, seen: 1})

	// A project member, outside every hierarchy, again after one.
	project := member(KindProject, idRepo, jsonGz(t, sampleProject))
	checkViolation(t, violation{archive: tarOf(t, append(sampleEntries(t), project)...), err: ErrUnsafe, member: project.name, rule: ruleDuplicate, seen: 1})
}

func TestSameNamesInAnotherHierarchyAreFine(t *testing.T) {
	// Repository 25's pull request 3 in h2: same pull request id and file
	// names as repository 15's in h1, in another repository.
	id := IDs{Project: "1", Repository: "25", Hierarchy: "h2", PullRequest: 3}
	b := tarOf(t, append(sampleEntries(t), secondHierarchy(t,
		member(KindPullRequestMetadata, id, jsonGz(t, samplePR)),
		member(KindPullRequestMetadata, IDs{Repository: "25", PullRequest: 4}, jsonGz(t, samplePR)), // JSON id 3 again
	)...)...)
	s, err := Inspect(writeFile(t, b), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"repository FIX/silver has more than one pull request with id 3"}
	if !reflect.DeepEqual(s.Warnings, want) || s.PullRequests.Total != 3 || s.Repositories != 3 {
		t.Errorf("warnings %q, repositories %d, pull requests %+v", s.Warnings, s.Repositories, s.PullRequests)
	}
}

// writeScaleArchive writes an archive of n fork hierarchies, each of one
// repository with prs pull requests (metadata and activities), and
// returns its path and the name of its last member.
func writeScaleArchive(t *testing.T, n, prs int) (path, last string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "scale.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	write := func(name string, v any) {
		var body []byte
		if v != nil {
			zbuf.Reset()
			zw.Reset(&zbuf)
			if err := json.NewEncoder(zw).Encode(v); err != nil {
				t.Fatal(err)
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			body = zbuf.Bytes()
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
		last = name
	}
	write(MemberName(KindInstanceDetails, IDs{}), sampleInstance)
	write(MemberName(KindProject, idRepo), sampleProject)
	for h := range n {
		id := IDs{Project: "1", Repository: strconv.Itoa(100 + h), Hierarchy: "h" + strconv.Itoa(h)}
		repo := sampleRepo
		repo.ID, repo.HierarchyID, repo.Slug = id.Repository, id.Hierarchy, "r"+id.Repository
		write(MemberName(KindHierarchyBegin, id), nil)
		write(MemberName(KindRepository, id), repo)
		for p := range prs {
			id.PullRequest = int64(p + 1)
			pr := samplePR
			pr.ID = id.PullRequest
			write(MemberName(KindPullRequestMetadata, id), pr)
			write(MemberName(KindPullRequestActivities, id), []model.Activity{})
		}
		write(MemberName(KindHierarchyEnd, id), nil)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return path, last
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestReadingMemoryDoesNotGrowWithMembers reads archives of 12,000 and
// 48,000 members, as an import and as inspect do, and measures the live
// heap at their last member, while all the state of the pass is held:
// remembering each member name or pull request would add megabytes.
func TestReadingMemoryDoesNotGrowWithMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 60 MB of archives")
	}
	const prs = 100
	// What grows with the hierarchies (their markers, the summary's list
	// of them) is some 150 bytes each, 22 KB for the 150 added here.
	const allowed = 256 << 10
	passes := map[string]func(path, last string) (uint64, error){
		"read": func(path, last string) (heap uint64, err error) {
			err = ReadFile(path, Limits{}, func(m *Member) error {
				if m.Name == last {
					heap = liveHeap()
				}
				return readAllFiles(m)
			})
			return heap, err
		},
		"inspect": func(path, last string) (heap uint64, err error) {
			f, err := os.Open(path)
			if err != nil {
				return 0, err
			}
			defer f.Close()
			s := newSummary(f, DefaultLimits())
			err = runOpened(f, DefaultLimits(), inspectPass, func(m *Member) error {
				err := s.member(m)
				if m.Name == last {
					heap = liveHeap()
				}
				return err
			})
			if len(s.Warnings) > 0 {
				t.Errorf("warnings %q", s.Warnings)
			}
			return heap, err
		},
	}
	small, smallLast := writeScaleArchive(t, 50, prs)
	big, bigLast := writeScaleArchive(t, 200, prs)
	for name, pass := range passes {
		before, err := pass(small, smallLast)
		if err != nil {
			t.Fatal(err)
		}
		after, err := pass(big, bigLast)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: live heap %d bytes at 1x the members, %d at 4x", name, before, after)
		if after > before+allowed {
			t.Errorf("%s: the live heap grew by %d bytes from 12,000 to 48,000 members, over %d", name, after-before, allowed)
		}
	}
}

func TestInspectKeepsTheJSONLimitsOfPullRequests(t *testing.T) {
	deep := []byte(`{"id":3,"state":"OPEN","x":[[[[[[[[[[1]]]]]]]]]]}`)
	b := replaced(t, KindPullRequestMetadata, member(KindPullRequestMetadata, idRepo, gz(t, deep)))
	_, err := Inspect(writeFile(t, b), Limits{MaxJSONDepth: 8})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrLimit) || e.Member != MemberName(KindPullRequestMetadata, idRepo) {
		t.Fatalf("got %v, want the pull request over MaxJSONDepth", err)
	}
	s, err := Inspect(writeFile(t, b), Limits{})
	if err != nil || s.PullRequests.Open != 1 || len(s.Warnings) != 0 {
		t.Errorf("got %+v, %q, %v; want one open pull request", s.PullRequests, s.Warnings, err)
	}
}
