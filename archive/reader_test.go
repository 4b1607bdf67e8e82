package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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
	// activities are the records of the first activities member.
	activities []model.Activity
}

// readEverything reads an archive with a handler that reads every inner
// file, as the import engine does.
func readEverything(r io.Reader) (*seen, error) {
	s := &seen{files: map[string]string{}, byKind: map[Kind]*Member{}}
	err := Read(r, DefaultLimits(), func(m *Member) error {
		s.kinds = append(s.kinds, m.Kind)
		s.notes = append(s.notes, m.Notes...)
		first := s.byKind[m.Kind] == nil
		if first {
			s.byKind[m.Kind] = m
		}
		err := m.Activities(func(a *model.Activity) error {
			if first {
				s.activities = append(s.activities, *a)
			}
			return nil
		})
		if err != nil && m.Malformed == nil {
			return err
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
	check("activities", s.activities, sampleActivities)
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
	if err != stop { //nolint:errorlint // unchanged: the very value, not one wrapping it
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
	if m.Malformed == nil || !errors.Is(m.Malformed, ErrMalformed) || s.activities != nil {
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

// bigActivities returns n comment records of some 2 KB each, of text that
// gzip cannot shrink much.
func bigActivities(n int) []model.Activity {
	rng := rand.New(rand.NewPCG(1, 2))
	acts := make([]model.Activity, n)
	for i := range acts {
		text := make([]byte, 1024)
		for j := range text {
			text[j] = byte('!' + rng.IntN(90))
		}
		acts[i] = model.Activity{Kind: model.KindCommentAdded, UserID: "a|A||NORMAL",
			Comment: &model.Comment{ID: fmt.Sprint(i), Text: string(text)}}
	}
	return acts
}

// TestActivitiesAreHandedOverAsTheyAreRead: a pull request's records reach
// the caller one by one while the member is read, not once it is read
// whole, so that memory does not grow with the pull request.
func TestActivitiesAreHandedOverAsTheyAreRead(t *testing.T) {
	activities := MemberName(KindPullRequestActivities, idRepo)
	acts := bigActivities(2000)
	src := &readCounter{Reader: bytes.NewReader(replaced(t, KindPullRequestActivities, entry{name: activities, body: jsonGz(t, acts)}))}
	var firstAt int64 = -1
	n := 0
	err := Read(src, Limits{}, func(m *Member) error {
		return m.Activities(func(a *model.Activity) error {
			if firstAt < 0 {
				firstAt = src.read
			}
			if a.Comment == nil || a.Comment.Text != acts[n].Comment.Text {
				t.Fatalf("record %d decoded as %+v", n, a)
			}
			n++
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(acts) {
		t.Fatalf("%d records handed over, want %d", n, len(acts))
	}
	if firstAt < 0 || firstAt > src.Size()/4 {
		t.Errorf("the first record came after %d bytes of a %d-byte archive had been read", firstAt, src.Size())
	}
}

// TestActivitiesStreamStopsAtABrokenRecord: records before the fault
// reach the caller; the fault is ErrMalformed, named in Member.Malformed;
// the read goes on with the next member.
func TestActivitiesStreamStopsAtABrokenRecord(t *testing.T) {
	activities := MemberName(KindPullRequestActivities, idRepo)
	doc := `[{"kind":"ACTIVITY","action":"OPENED","createdTimestamp":1,"userId":"a|A||NORMAL"},{"kind":7}]`
	var kinds []string
	var got *Member
	members := 0
	err := Read(bytes.NewReader(replaced(t, KindPullRequestActivities, entry{name: activities, body: gz(t, []byte(doc))})), Limits{},
		func(m *Member) error {
			members++
			if m.Kind != KindPullRequestActivities {
				return nil
			}
			got = m
			err := m.Activities(func(a *model.Activity) error { kinds = append(kinds, a.Kind); return nil })
			if !errors.Is(err, ErrMalformed) || m.Malformed == nil || !strings.Contains(err.Error(), activities) {
				t.Errorf("Activities returned %v, Malformed %v", err, m.Malformed)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(kinds, []string{"ACTIVITY"}) || got == nil {
		t.Errorf("records handed over: %q", kinds)
	}
	if members != len(sampleEntries(t)) {
		t.Errorf("%d members delivered, want all %d", members, len(sampleEntries(t)))
	}
}
