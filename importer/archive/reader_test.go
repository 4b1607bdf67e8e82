package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"bbimport/model"
)

// seen is what a handler that reads everything records of an archive.
type seen struct {
	kinds  []Kind
	files  map[string]string // "<rid>/<kind>/<name>" -> content
	notes  []string
	byKind map[Kind]*Member
}

// readEverything reads an archive with a handler that reads every inner
// file, as the import engine does.
func readEverything(r io.Reader) (*seen, error) {
	s := &seen{files: map[string]string{}, byKind: map[Kind]*Member{}}
	err := Read(r, DefaultLimits(), func(m *Member) error {
		s.kinds = append(s.kinds, m.Kind)
		s.notes = append(s.notes, m.Notes...)
		if _, ok := s.byKind[m.Kind]; !ok {
			s.byKind[m.Kind] = m
		}
		return m.Files(func(f File) error {
			b, err := io.ReadAll(f.Body)
			if err != nil {
				return err
			}
			s.files[fmt.Sprintf("%s/%v/%s", m.IDs.Repository, m.Kind, f.Name)] = string(b)
			return nil
		})
	})
	return s, err
}

func TestReadDeliversEveryMemberDecodedInOrder(t *testing.T) {
	s, err := readEverything(bytes.NewReader(sampleArchive(t)))
	if err != nil {
		t.Fatal(err)
	}
	var want []Kind
	for _, e := range sampleEntries(t) {
		k, _ := ParseMemberName(e.name)
		want = append(want, k)
	}
	if !reflect.DeepEqual(s.kinds, want) {
		t.Errorf("kinds %v, want %v", s.kinds, want)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	check("instance", *s.byKind[KindInstanceDetails].Instance, sampleInstance)
	check("project", *s.byKind[KindProject].Project, sampleProject)
	check("permissions", s.byKind[KindProjectPermissions].Permissions, samplePerms)
	check("all-permissions", string(s.byKind[KindProjectAllPermissions].AllPermissions), `{"admin":true}`)
	check("repository", *s.byKind[KindRepository].Repository, sampleRepo)
	check("pull request", *s.byKind[KindPullRequestMetadata].PullRequest, samplePR)
	check("activities", s.byKind[KindPullRequestActivities].Activities, sampleActivities)
	check("ancestor", *s.byKind[KindPullRequestCaches].Ancestor, model.AncestorCache{FromTip: "aa", ToTip: "bb", MergeBase: "cc"})
	check("lfs", *s.byKind[KindLFSSettings].LFS, model.GitLFSSettings{})
	check("files", s.files, map[string]string{
		"15/git metadata/HEAD":            "ref: refs/heads/main\n",
		"15/git metadata/refs/heads/main": "bb\n",
		"15/git objects/ab/cdef":          "loose object",
		"15/git objects/pack/p.pack":      strings.Repeat("P", 3000),
		"16/git metadata/HEAD":            "ref: refs/heads/main\n",
		"16/git metadata/refs/heads/main": "bb\n",
		"16/git objects/ab/cdef":          "loose object",
		"16/git objects/pack/p.pack":      strings.Repeat("P", 3000),
	})
	if len(s.notes) != 0 {
		t.Errorf("notes on a clean archive: %q", s.notes)
	}
}

func TestReadFileSkipsUnreadMembersAndReportsOffsets(t *testing.T) {
	b := sampleArchive(t)
	var offsets []int64
	err := ReadFile(writeFile(t, b), Limits{}, func(m *Member) error {
		// The data at Offset is the member's own bytes.
		if m.Size > 0 && m.Kind == KindGitObjects {
			if !bytes.Equal(b[m.Offset:m.Offset+m.Size], gitObjects(t)) {
				t.Errorf("%s: Offset %d does not point at its data", m.Name, m.Offset)
			}
		}
		offsets = append(offsets, m.Offset)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(offsets) != len(sampleEntries(t)) || offsets[0] != 512 {
		t.Errorf("offsets %v", offsets)
	}
}

func TestUnknownMemberIsANoteAndUnknownFieldIsData(t *testing.T) {
	proj := map[string]any{"id": "1", "key": "FIX", "name": "Fixture Project", "description": "", "public": false, "type": 0, "colour": "red"}
	es := sampleEntries(t)
	es[1] = member(KindProject, idRepo, jsonGz(t, proj))
	es = append(es, entry{name: "com.atlassian.bitbucket.server.bitbucket-new_thing/x.json.atl.gz", body: []byte("?")})
	s, err := readEverything(bytes.NewReader(tarOf(t, es...)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"unknown member com.atlassian.bitbucket.server.bitbucket-new_thing/x.json.atl.gz, skipped"}
	if !reflect.DeepEqual(s.notes, want) {
		t.Errorf("notes %q, want %q", s.notes, want)
	}
	if got := s.byKind[KindProject].UnknownFields; !reflect.DeepEqual(got, []string{"colour"}) {
		t.Errorf("unknown fields of the project %q, want [colour]", got)
	}
	if s.byKind[KindProject].Project.Key != "FIX" {
		t.Errorf("project with an unknown field decoded as %+v", s.byKind[KindProject].Project)
	}
	if s.kinds[len(s.kinds)-1] != KindUnknown {
		t.Errorf("unknown member not delivered: %v", s.kinds)
	}
}

func TestMissingOptionalMembersAreFine(t *testing.T) {
	var es []entry
	for _, e := range sampleEntries(t) {
		switch k, _ := ParseMemberName(e.name); k {
		case KindGitHooks, KindLFSSettings, KindPullRequestCaches:
		default:
			es = append(es, e)
		}
	}
	if _, err := readEverything(bytes.NewReader(tarOf(t, es...))); err != nil {
		t.Fatal(err)
	}
}

func TestHandlerErrorComesBackUnchanged(t *testing.T) {
	stop := errors.New("stop here")
	err := ReadFile(writeFile(t, sampleArchive(t)), Limits{}, func(m *Member) error {
		if m.Kind == KindGitObjects {
			return m.Files(func(File) error { return stop })
		}
		return nil
	})
	if err != stop {
		t.Fatalf("got %v, want the handler's own error", err)
	}
}

func TestFilesOnlyDuringTheHandlerCall(t *testing.T) {
	var kept *Member
	err := Read(bytes.NewReader(sampleArchive(t)), Limits{}, func(m *Member) error {
		if m.Kind == KindGitMetadata && kept == nil {
			kept = m
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := kept.Files(func(File) error { return nil }); err == nil {
		t.Fatal("Files after the handler returned did not fail")
	}
}

// readCounter is a seekable archive that counts the bytes read from it.
type readCounter struct {
	*bytes.Reader
	read int64
}

func (r *readCounter) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	r.read += int64(n)
	return n, err
}

func TestUnreadMembersAreSkippedBySeeking(t *testing.T) {
	objects := MemberName(KindGitObjects, idRepo)
	big := tarOf(t, entry{name: "pack/p.pack", body: make([]byte, 4<<20)})
	src := &readCounter{Reader: bytes.NewReader(replaced(t, KindGitObjects, entry{name: objects, body: big}))}
	if err := Read(src, Limits{}, func(*Member) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if src.read > 1<<20 {
		t.Fatalf("read %d bytes of a %d-byte archive whose objects nobody wanted", src.read, src.Size())
	}
}

func TestMalformedJSONIsDeliveredAsAnItemProblem(t *testing.T) {
	activities := MemberName(KindPullRequestActivities, idRepo)
	b := replaced(t, KindPullRequestActivities, entry{name: activities, body: gz(t, []byte(`[{"kind":`))})
	s, err := readEverything(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("a malformed pull request stopped the read: %v", err)
	}
	m := s.byKind[KindPullRequestActivities]
	if m.Malformed == nil || !errors.Is(m.Malformed, ErrMalformed) || m.Activities != nil {
		t.Fatalf("member delivered as %+v", m)
	}
	want := `malformed archive member: member "` + activities + `": it is not the JSON expected here: unexpected EOF`
	if m.Malformed.Error() != want {
		t.Errorf("got %q, want %q", m.Malformed.Error(), want)
	}
	if len(s.kinds) != len(sampleEntries(t)) {
		t.Errorf("%d members delivered, want all %d", len(s.kinds), len(sampleEntries(t)))
	}
}

func TestEmptyGzipMemberIsMalformedNotTruncated(t *testing.T) {
	lfs := MemberName(KindLFSSettings, idRepo)
	s, err := readEverything(bytes.NewReader(replaced(t, KindLFSSettings, entry{name: lfs})))
	if err != nil {
		t.Fatal(err)
	}
	if m := s.byKind[KindLFSSettings]; m.Malformed == nil || m.Malformed.Rule != "it is empty, where gzip data was expected" {
		t.Fatalf("empty member delivered as %+v", m)
	}
}
