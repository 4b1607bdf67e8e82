package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"bbimport/model"
)

// violation is an archive that breaks one rule, and the error it must give.
type violation struct {
	name    string
	archive []byte
	lim     Limits
	err     error  // sentinel
	member  string // "" = any
	inner   string
	rule    string // substring of Error.Rule
	// seenOK: the culprit may have reached the caller before the error,
	// as a file does before the gzip CRC after it is checked.
	seenOK bool
	seen   int // times the culprit may reach the caller (once for a duplicate)
}

// reachedCaller reads an archive as the engine does and returns the
// members and inner files the caller got to see.
func reachedCaller(v violation) (map[string]int, error) {
	got := map[string]int{}
	err := Read(bytes.NewReader(v.archive), v.lim, func(m *Member) error {
		got[m.Name]++
		if err := m.Activities(func(*model.Activity) error { return nil }); err != nil {
			return err
		}
		return m.Files(func(f File) error {
			got[m.Name+" > "+f.Name]++
			_, err := io.Copy(io.Discard, f.Body)
			return err
		})
	})
	return got, err
}

func checkViolation(t *testing.T, v violation) {
	t.Helper()
	got, err := reachedCaller(v)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want an *Error", err)
	}
	if !errors.Is(err, v.err) {
		t.Errorf("error %q is not %q", err, v.err)
	}
	if !strings.Contains(e.Rule, v.rule) {
		t.Errorf("rule %q does not say %q", e.Rule, v.rule)
	}
	if v.member != "" && e.Member != v.member {
		t.Errorf("error names member %q, want %q", e.Member, v.member)
	}
	if e.Inner != v.inner {
		t.Errorf("error names inner file %q, want %q", e.Inner, v.inner)
	}
	// The caller must learn of the violation before it sees the culprit.
	culprit := v.member
	if v.inner != "" {
		culprit += " > " + v.inner
	} else if k, _ := ParseMemberName(v.member); k == KindGitMetadata || k == KindGitHooks || k == KindGitObjects || k == KindPullRequestActivities {
		// An inner tar member is handed over before its inner tar is
		// read, and an activities member before its records.
		v.seen = 1
	}
	if v.member != "" && !v.seenOK && got[culprit] > v.seen {
		t.Errorf("the caller saw %q before the error", culprit)
	}
}

// inEveryTar returns three archives with e put in: as an outer member, in
// a gzip'd inner tar (git metadata) and in a plain one (git objects).
func inEveryTar(t *testing.T, rule string, sentinel error, e entry) []violation {
	metadata := MemberName(KindGitMetadata, idRepo)
	objects := MemberName(KindGitObjects, idRepo)
	innerName := e.name
	if e.typ == tar.TypeDir {
		innerName = strings.TrimSuffix(innerName, "/")
	}
	return []violation{
		{name: "outer", archive: withExtra(t, e), err: sentinel, member: e.name, rule: rule},
		{name: "inner gzip'd tar", err: sentinel, member: metadata, inner: innerName, rule: rule,
			archive: replaced(t, KindGitMetadata, entry{name: metadata, body: gz(t, tarOf(t, entry{name: "HEAD", body: []byte("x")}, e))})},
		{name: "inner plain tar", err: sentinel, member: objects, inner: innerName, rule: rule,
			archive: replaced(t, KindGitObjects, entry{name: objects, body: tarOf(t, entry{name: "ab/cd", body: []byte("x")}, e)})},
	}
}

func TestEveryNameRuleInEveryTar(t *testing.T) {
	for _, c := range []struct {
		rule  string
		entry entry
	}{
		{ruleAbsolute, entry{name: "/etc/passwd", body: []byte("x")}},
		{ruleDotDot, entry{name: "refs/../../../etc/cron.d/x", body: []byte("x")}},
		{ruleDotDot, entry{name: "..", body: []byte("x")}},
		{ruleClean, entry{name: "./refs/heads/main", body: []byte("x")}},
		{ruleClean, entry{name: "refs//heads/main", body: []byte("x")}},
		{ruleBackslash, entry{name: `refs\..\..\x`, body: []byte("x")}},
		{rulePrintable, entry{name: "refs/heads/\x1b[2Jmain", body: []byte("x")}},
		{rulePrintable, entry{name: "refs/heads/\xff", body: []byte("x")}},
	} {
		for _, v := range inEveryTar(t, c.rule, ErrUnsafe, c.entry) {
			t.Run(c.entry.name+" "+v.name, func(t *testing.T) { checkViolation(t, v) })
		}
	}
}

func TestNULAndEmptyNamesAreRefused(t *testing.T) {
	// archive/tar cannot write these names, and refuses to read a NUL in
	// a pax path; the check stays as a second line of defence.
	if checkName("HEAD\x00x") != ruleNUL || checkName("") != ruleEmptyName {
		t.Fatal("NUL or empty name passes checkName")
	}
}

func TestEveryNonRegularTypeInEveryTar(t *testing.T) {
	for _, c := range []struct {
		what  string
		entry entry
	}{
		{"symbolic link", entry{name: "hooks/pre-receive", typ: tar.TypeSymlink, link: "/bin/sh"}},
		{"hard link", entry{name: "objects/info/alternates", typ: tar.TypeLink, link: "/etc/shadow"}},
		{"character device", entry{name: "dev-null", typ: tar.TypeChar}},
		{"block device", entry{name: "sda", typ: tar.TypeBlock}},
		{"FIFO", entry{name: "fifo", typ: tar.TypeFifo}},
		{"contiguous", entry{name: "cont", typ: tar.TypeCont}},
	} {
		for _, v := range inEveryTar(t, c.what, ErrUnsafe, c.entry) {
			t.Run(c.what+" "+v.name, func(t *testing.T) { checkViolation(t, v) })
		}
	}
}

func TestSparseFilesAreRefused(t *testing.T) {
	sparse := entry{name: "big", body: []byte("x"), pax: map[string]string{
		"GNU.sparse.numblocks": "1", "GNU.sparse.map": "0,1"}}
	for _, v := range inEveryTar(t, ruleSparse, ErrUnsafe, sparse) {
		t.Run(v.name, func(t *testing.T) { checkViolation(t, v) })
	}
}

func TestDirectoriesOuterRefusedInnerSkipped(t *testing.T) {
	dir := entry{name: "com.atlassian.bitbucket.server.x_metadata/", typ: tar.TypeDir}
	checkViolation(t, violation{archive: withExtra(t, dir), err: ErrUnsafe, member: dir.name, rule: "a directory"})

	// The sample's git metadata holds directory entries: they are checked,
	// never handed to the caller.
	got, err := reachedCaller(violation{archive: sampleArchive(t)})
	if err != nil {
		t.Fatal(err)
	}
	for k := range got {
		if strings.HasSuffix(k, "> refs") || strings.HasSuffix(k, "> refs/heads") {
			t.Errorf("directory entry %q reached the caller", k)
		}
	}
	// and an unsafe directory name is still refused.
	bad := entry{name: "../escape/", typ: tar.TypeDir}
	checkViolation(t, inEveryTar(t, ruleDotDot, ErrUnsafe, bad)[1])
}

func TestDuplicateNamesInEveryTar(t *testing.T) {
	dupOuter := withExtra(t, member(KindProject, idRepo, jsonGz(t, sampleProject)))
	checkViolation(t, violation{archive: dupOuter, err: ErrUnsafe, member: MemberName(KindProject, idRepo), rule: ruleDuplicate, seen: 1})

	metadata := MemberName(KindGitMetadata, idRepo)
	dupInner := replaced(t, KindGitMetadata, entry{name: metadata, body: gz(t, tarOf(t,
		entry{name: "HEAD", body: []byte("ref: refs/heads/main\n")},
		entry{name: "HEAD", body: []byte("ref: refs/heads/evil\n")}))})
	checkViolation(t, violation{archive: dupInner, err: ErrUnsafe, member: metadata, inner: "HEAD", rule: ruleDuplicate, seen: 1})

	objects := MemberName(KindGitObjects, idRepo)
	dupPlain := replaced(t, KindGitObjects, entry{name: objects, body: tarOf(t,
		entry{name: "ab/cd", body: []byte("1")}, entry{name: "ab/cd", body: []byte("2")})})
	checkViolation(t, violation{archive: dupPlain, err: ErrUnsafe, member: objects, inner: "ab/cd", rule: ruleDuplicate, seen: 1})
}

func TestSizeLimits(t *testing.T) {
	small := Limits{MaxMemberBytes: 10000, MaxJSONBytes: 500, MaxJSONDepth: 8, MaxInnerFiles: 3, MaxObjectFileBytes: 10000}
	smallObjects, bigJSON := small, small
	smallObjects.MaxObjectFileBytes = 2000
	bigJSON.MaxJSONBytes = 1 << 20
	metadata := MemberName(KindGitMetadata, idRepo)
	objects := MemberName(KindGitObjects, idRepo)
	activities := MemberName(KindPullRequestActivities, idRepo)
	bomb := gz(t, make([]byte, 1<<20))
	deep := []byte(`[{"kind":"X","comment":{"comments":[{"comments":[{"comments":[{"comments":[]}]}]}]}}]`)
	for _, v := range []violation{
		// Activities are decoded as they are read: the bomb must look like
		// JSON for the reader to read on to the cap.
		{name: "gzip member over MaxMemberBytes", lim: bigJSON, archive: replaced(t, KindPullRequestActivities, entry{name: activities,
			body: gz(t, append([]byte(`["`), bytes.Repeat([]byte("a"), 1<<20)...))}),
			err: ErrLimit, member: activities, rule: "decompresses to more than 10000 bytes"},
		{name: "gzip'd inner tar over MaxMemberBytes", archive: replaced(t, KindGitMetadata, entry{name: metadata, body: bomb}),
			err: ErrLimit, member: metadata, rule: "decompresses to more than 10000 bytes"},
		{name: "inner file of a gzip'd tar over MaxMemberBytes", err: ErrLimit, member: metadata, inner: "big", rule: "over the limit of 10000",
			archive: replaced(t, KindGitMetadata, entry{name: metadata, body: gz(t, tarOf(t, entry{name: "big", body: make([]byte, 10001)}))})},
		{name: "object file over MaxObjectFileBytes", lim: smallObjects, err: ErrLimit, member: objects, inner: "pack/p.pack", rule: "over the limit of 2000",
			archive: replaced(t, KindGitObjects, entry{name: objects, body: gitObjects(t)})},
		{name: "JSON over MaxJSONBytes", err: ErrLimit, member: activities, rule: "over 500 bytes (MaxJSONBytes)",
			archive: replaced(t, KindPullRequestActivities, entry{name: activities, body: gz(t, []byte(`["`+strings.Repeat("a", 600)+`"]`))})},
		{name: "JSON deeper than MaxJSONDepth", err: ErrLimit, member: activities, rule: "deeper than 8 levels",
			archive: replaced(t, KindPullRequestActivities, entry{name: activities, body: gz(t, deep)})},
		{name: "more files than MaxInnerFiles", err: ErrLimit, member: objects, inner: "d", rule: "more than 3 files",
			archive: replaced(t, KindGitObjects, entry{name: objects, body: tarOf(t,
				entry{name: "a"}, entry{name: "b"}, entry{name: "c"}, entry{name: "d"})})},
	} {
		if v.lim == (Limits{}) {
			v.lim = small
		}
		t.Run(v.name, func(t *testing.T) { checkViolation(t, v) })
	}
}

func TestGzipBombStopsAtTheCap(t *testing.T) {
	// An endless stream of zeros: reading must stop one byte past the cap.
	r := &capReader{r: zeros{}, max: 1000, member: "m"}
	n, err := io.Copy(io.Discard, r)
	if !errors.Is(err, ErrLimit) || n > 1000 {
		t.Fatalf("read %d bytes, error %v; want at most 1000 then ErrLimit", n, err)
	}
}

func TestTruncatedArchives(t *testing.T) {
	whole := sampleArchive(t)
	objects := MemberName(KindGitObjects, idRepo)
	metadata := MemberName(KindGitMetadata, idRepo)
	off := bytes.Index(whole, gitObjects(t))
	badCRC := gitMetadata(t)
	badCRC[len(badCRC)-6] ^= 0xff // in the CRC-32 of the gzip trailer
	gzCut := gitMetadata(t)
	gzCut = gzCut[:len(gzCut)-12]
	es := sampleEntries(t)
	for _, v := range []violation{
		{name: "cut inside a member", archive: whole[:off+100], member: objects, rule: "ends in the middle"},
		{name: "cut between members", archive: tarOf(t, es[:4]...)[:len(tarOf(t, es[:4]...))-1024], rule: ruleNoEndMarker},
		{name: "cut inside a fork hierarchy", archive: tarOf(t, es[:8]...), rule: "before this fork hierarchy's end marker"},
		{name: "bad gzip CRC in an inner tar", archive: replaced(t, KindGitMetadata, entry{name: metadata, body: badCRC}), member: metadata, rule: "checksum mismatch"},
		{name: "gzip cut short", archive: replaced(t, KindGitMetadata, entry{name: metadata, body: gzCut}), member: metadata, rule: "ends in the middle"},
		{name: "inner tar without end marker", member: objects, inner: "pack/p.pack", seenOK: true, rule: ruleNoEndMarker,
			archive: replaced(t, KindGitObjects, entry{name: objects, body: gitObjects(t)[:len(gitObjects(t))-1024]})},
	} {
		v.err = ErrTruncated
		t.Run(v.name, func(t *testing.T) { checkViolation(t, v) })
	}
}

func TestNotAnArchive(t *testing.T) {
	es := sampleEntries(t)
	for _, v := range []violation{
		{name: "empty", archive: nil, rule: "empty"},
		{name: "text file", archive: []byte("hello\n"), rule: "not a tar file"},
		{name: "gzip'd archive", archive: gz(t, sampleArchive(t)), rule: "decompress it (gunzip) first"},
		{name: "first member not instance details", archive: tarOf(t, es[1:]...), member: es[1].name, rule: "starts with instance-details"},
	} {
		v.err = ErrNotAnArchive
		t.Run(v.name, func(t *testing.T) { checkViolation(t, v) })
	}
}

func TestUnsupportedVersionIsRefusedUpFront(t *testing.T) {
	inst := sampleInstance
	inst.ArchiveVersion = 3
	name := MemberName(KindInstanceDetails, IDs{})
	v := violation{archive: replaced(t, KindInstanceDetails, entry{name: name, body: jsonGz(t, inst)}),
		err: ErrUnsupportedVersion, member: name, rule: "archiveVersion 3, and this bbimport reads archiveVersion 1 and 2 only"}
	checkViolation(t, v)
}

func TestMalformedStructuralMembersAreRefused(t *testing.T) {
	for _, k := range []Kind{KindInstanceDetails, KindProject, KindRepository} {
		name := MemberName(k, idRepo)
		v := violation{archive: replaced(t, k, entry{name: name, body: gz(t, []byte(`{"id":15,"archiveVersion":"2"}`))}),
			err: ErrMalformed, member: name, rule: "not the JSON expected here"}
		t.Run(k.String(), func(t *testing.T) { checkViolation(t, v) })
	}
}

func TestErrorMessageNamesMemberFileAndRule(t *testing.T) {
	e := &Error{Member: "m.atl.tar", Inner: "../x", Err: ErrUnsafe, Rule: ruleDotDot}
	want := `unsafe archive: member "m.atl.tar", file "../x": names must not contain ".." elements`
	if e.Error() != want {
		t.Fatalf("got %q, want %q", e.Error(), want)
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
