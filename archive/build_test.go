package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/model"
)

// The tests build their archives, valid and broken, in memory: the repo
// stays small and each test shows the one thing it breaks.

// entry is one tar entry as a test wants it, right or wrong.
type entry struct {
	name string
	typ  byte // tar.TypeReg when zero
	body []byte
	link string
	pax  map[string]string
}

func tarOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// archive/tar refuses to write GNU.sparse records: write placeholders
	// of the same length, then swap them in.
	var swaps []string
	for _, e := range entries {
		var pax map[string]string
		for k, v := range e.pax {
			if pax == nil {
				pax = map[string]string{}
			}
			pk := fmt.Sprintf("BBTEST.%03d", len(swaps))
			pv := strings.Repeat("x", len(k)+len(v)-len(pk))
			pax[pk] = pv
			swaps = append(swaps, pk+"="+pv, k+"="+v)
		}
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.link, PAXRecords: pax}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if e.pax != nil {
			h.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %q: %v", e.name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(swaps...).Replace(buf.String()))
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jsonGz(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return gz(t, b)
}

// Fixture values of the sample archive.
var (
	sampleInstance = model.InstanceDetails{ArchiveVersion: 2, BuildVersion: "9004018", DataCenter: true,
		InstanceName: "Bitbucket", NodeID: "n1", Product: "Bitbucket Data Center", Version: "9.4.18"}
	sampleProject = model.Project{ID: "1", Key: "FIX", Name: "Fixture Project"}
	sampleRepo    = model.Repository{Forkable: true, HierarchyID: "h1", ID: "15", Name: "golden", ProjectID: "1", ScmID: "git", Slug: "golden"}
	sampleFork    = model.Repository{HierarchyID: "h1", ID: "16", Name: "golden", OriginID: "15", ProjectID: "1", ScmID: "git", Slug: "golden-fork"}
	samplePerms   = []model.Permission{{Groups: []string{}, Permission: "PROJECT_ADMIN", UserIDs: []string{"ada|Ada Lovelace||NORMAL"}}}
	samplePR      = model.PullRequest{ID: 3, Title: "Fix it", State: model.PRMerged, CreatedTimestamp: 1,
		FromRef:         model.Ref{DisplayID: "fix", ID: "refs/heads/fix", LatestCommit: "aa"},
		ToRef:           model.Ref{DisplayID: "main", ID: "refs/heads/main", LatestCommit: "bb"},
		AllParticipants: []model.Participant{{Role: model.RoleAuthor, Status: model.StatusUnapproved, UserID: "ada|Ada Lovelace||NORMAL"}}}
	sampleActivities = []model.Activity{
		{Kind: model.KindCommentAdded, CreatedTimestamp: 2, UserID: "ada|Ada Lovelace||NORMAL", Comment: &model.Comment{
			ID: "117", AuthorID: "ada|Ada Lovelace||NORMAL", Text: "why?", Severity: model.SeverityNormal, State: model.CommentOpen,
			Comments: []model.Comment{{ID: "118", AuthorID: "bob|Bob||NORMAL", Text: "because", Severity: model.SeverityBlocker, State: model.CommentOpen, Comments: []model.Comment{}}}}},
		{Kind: model.KindMerged, CreatedTimestamp: 3, UserID: "ada|Ada Lovelace||NORMAL", Hash: "cc"},
		{Kind: "SOMETHING:NEW", CreatedTimestamp: 4, UserID: "ada|Ada Lovelace||NORMAL"},
	}
)

// member builds one outer entry from its kind.
func member(k Kind, id IDs, body []byte) entry { return entry{name: MemberName(k, id), body: body} }

var (
	idRepo = IDs{Project: "1", Repository: "15", Hierarchy: "h1", PullRequest: 3}
	idFork = IDs{Project: "1", Repository: "16", Hierarchy: "h1"}
)

// gitMetadata, gitHooks and gitObjects are the inner tars of the sample.
func gitMetadata(t testing.TB) []byte {
	return gz(t, tarOf(t,
		entry{name: "refs/", typ: tar.TypeDir},
		entry{name: "refs/heads/", typ: tar.TypeDir},
		entry{name: "HEAD", body: []byte("ref: refs/heads/main\n")},
		entry{name: "refs/heads/main", body: []byte("bb\n")},
	))
}

func gitObjects(t testing.TB) []byte {
	return tarOf(t,
		entry{name: "ab/cdef", body: []byte("loose object")},
		entry{name: "pack/p.pack", body: bytes.Repeat([]byte("P"), 3000)},
	)
}

// sampleEntries is a whole valid archive: one project, one hierarchy of
// an origin with one pull request and a fork.
func sampleEntries(t testing.TB) []entry {
	return []entry{
		member(KindInstanceDetails, idRepo, jsonGz(t, sampleInstance)),
		member(KindProject, idRepo, jsonGz(t, sampleProject)),
		member(KindProjectAllPermissions, idRepo, jsonGz(t, map[string]bool{"admin": true})),
		member(KindProjectPermissions, idRepo, jsonGz(t, samplePerms)),
		member(KindHierarchyBegin, idRepo, nil),
		member(KindRepository, idRepo, jsonGz(t, sampleRepo)),
		member(KindRepositoryPermissions, idRepo, jsonGz(t, []model.Permission{})),
		member(KindGitMetadata, idRepo, gitMetadata(t)),
		member(KindGitHooks, idRepo, gz(t, tarOf(t))),
		member(KindGitObjects, idRepo, gitObjects(t)),
		member(KindLFSSettings, idRepo, jsonGz(t, model.GitLFSSettings{})),
		member(KindPullRequestMetadata, idRepo, jsonGz(t, samplePR)),
		member(KindPullRequestActivities, idRepo, jsonGz(t, sampleActivities)),
		member(KindPullRequestCaches, idRepo, gz(t, tarOf(t, entry{name: "cached-ancestor.txt", body: []byte("aa,bb,cc\n")}))),
		member(KindRepository, idFork, jsonGz(t, sampleFork)),
		member(KindGitMetadata, idFork, gitMetadata(t)),
		member(KindGitObjects, idFork, gitObjects(t)),
		member(KindHierarchyEnd, idRepo, nil),
	}
}

func sampleArchive(t testing.TB) []byte { return tarOf(t, sampleEntries(t)...) }

// replaced returns the sample with the member of kind k (first one) replaced.
func replaced(t testing.TB, k Kind, e entry) []byte {
	es := sampleEntries(t)
	for i := range es {
		if kk, _ := ParseMemberName(es[i].name); kk == k {
			es[i] = e
			return tarOf(t, es...)
		}
	}
	t.Fatalf("no %v member in the sample", k)
	return nil
}

// withExtra returns the sample with e inserted after the project member.
func withExtra(t testing.TB, e entry) []byte {
	es := sampleEntries(t)
	es = append(es[:2], append([]entry{e}, es[2:]...)...)
	return tarOf(t, es...)
}

func writeFile(t testing.TB, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "Bitbucket_export_1.tar")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
