package gen

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"bbimport/archive"
	"bbimport/model"
)

func mustUnmarshal(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
}

func TestSameSeedSameBytes(t *testing.T) {
	packed := Options{Projects: 1, Repos: 1, Forks: 1, PRs: 2, Commits: 4, BlobKiB: 300, Seed: 3}
	for name, opts := range map[string]Options{"loose": testOptions(), "packed": packed} {
		t.Run(name, func(t *testing.T) {
			opts.Parallel = 1
			a, _ := generate(t, opts)
			opts.Parallel = 3 // the order of builds must not show in the output
			b, _ := generate(t, opts)
			if sha256.Sum256(a) != sha256.Sum256(b) {
				t.Fatal("two archives from the same options and seed differ")
			}
			opts.Seed++
			c, _ := generate(t, opts)
			if bytes.Equal(a, c) {
				t.Fatal("another seed wrote the same archive")
			}
		})
	}
}

func TestEnvelope(t *testing.T) {
	data, st := shared(t)
	members := readArchive(t, data)
	byKind := map[archive.Kind]int{}
	for _, m := range members {
		h := m.hdr
		if h.Typeflag != tar.TypeReg || h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(archiveTime) {
			t.Errorf("%s: type %c uid %d gid %d mtime %v, want a regular file, 0, 0, %v",
				h.Name, h.Typeflag, h.Uid, h.Gid, h.ModTime, archiveTime)
		}
		if m.kind == archive.KindUnknown {
			t.Errorf("%s: not a member name of the layout", h.Name)
		}
		if strings.HasSuffix(h.Name, ".atl.gz") && !bytes.Equal(m.raw[4:8], []byte{0, 0, 0, 0}) {
			t.Errorf("%s: gzip header carries a time", h.Name)
		}
		byKind[m.kind]++
	}
	if len(members) != st.Members {
		t.Errorf("%d members, Stats says %d", len(members), st.Members)
	}
	for k, n := range st.MembersByKind {
		if byKind[k] != n {
			t.Errorf("%d %v members, Stats says %d", byKind[k], k, n)
		}
	}
	if tail := data[len(data)-1024:]; !bytes.Equal(tail, make([]byte, 1024)) {
		t.Error("archive does not end with two zero blocks")
	}
}

// TestMemberOrder checks the archive against the spec's "Order of members".
func TestMemberOrder(t *testing.T) {
	data, st := shared(t)
	members := readArchive(t, data)
	if members[0].kind != archive.KindInstanceDetails {
		t.Fatalf("first member is %s", members[0].hdr.Name)
	}
	projects := map[string]bool{}
	repoSteps := []archive.Kind{archive.KindRepository, archive.KindRepositoryPermissions, archive.KindGitMetadata,
		archive.KindGitHooks, archive.KindGitObjects, archive.KindLFSSettings}
	prSteps := []archive.Kind{archive.KindPullRequestMetadata, archive.KindPullRequestActivities, archive.KindPullRequestCaches}
	hierarchies := 0
	for i := 1; i < len(members); {
		m := members[i]
		switch m.kind {
		case archive.KindProject:
			for j, k := range []archive.Kind{archive.KindProject, archive.KindProjectAllPermissions, archive.KindProjectPermissions} {
				if members[i+j].kind != k || members[i+j].ids.Project != m.ids.Project {
					t.Fatalf("member %d: %s, want the %v of project %s", i+j, members[i+j].hdr.Name, k, m.ids.Project)
				}
			}
			projects[m.ids.Project] = true
			i += 3
		case archive.KindHierarchyBegin:
			hierarchies++
			i++
			first := true
			for members[i].kind == archive.KindRepository {
				rid, pid := members[i].ids.Repository, members[i].ids.Project
				if !projects[pid] {
					t.Fatalf("repository %s comes before its project %s", rid, pid)
				}
				var repo model.Repository
				mustUnmarshal(t, members[i].body, &repo)
				if repo.HierarchyID != m.ids.Hierarchy || repo.IsFork() == first {
					t.Fatalf("repository %s: hierarchy %s fork %v, in hierarchy %s as its %s", rid, repo.HierarchyID,
						repo.IsFork(), m.ids.Hierarchy, map[bool]string{true: "origin", false: "fork"}[first])
				}
				first = false
				for j, k := range repoSteps {
					if got := members[i+j]; got.kind != k || got.ids.Repository != rid {
						t.Fatalf("member %d: %s, want the %v of repository %s", i+j, got.hdr.Name, k, rid)
					}
				}
				i += len(repoSteps)
				for prev := int64(0); members[i].kind == archive.KindPullRequestMetadata; i += len(prSteps) {
					id := members[i].ids.PullRequest
					if id <= prev {
						t.Fatalf("pull request %d of repository %s comes after %d", id, rid, prev)
					}
					prev = id
					for j, k := range prSteps {
						if got := members[i+j]; got.kind != k || got.ids.Repository != rid || got.ids.PullRequest != id {
							t.Fatalf("member %d: %s, want the %v of pull request %d", i+j, got.hdr.Name, k, id)
						}
					}
				}
			}
			if members[i].kind != archive.KindHierarchyEnd || members[i].ids.Hierarchy != m.ids.Hierarchy {
				t.Fatalf("member %d: %s, want the end of hierarchy %s", i, members[i].hdr.Name, m.ids.Hierarchy)
			}
			i++
		default:
			t.Fatalf("member %d: %s out of place", i, m.hdr.Name)
		}
	}
	if hierarchies != st.Hierarchies || len(projects) != st.Projects {
		t.Errorf("%d hierarchies and %d projects, Stats says %d and %d", hierarchies, len(projects), st.Hierarchies, st.Projects)
	}
}

func TestCountsFollowOptions(t *testing.T) {
	_, st := shared(t)
	o := testOptions()
	origins := o.Projects * o.Repos
	want := Stats{Hierarchies: origins, Repositories: origins * (1 + o.Forks), Forks: origins * o.Forks,
		PullRequests: origins * (1 + o.Forks) * o.PRs}
	if st.Hierarchies != want.Hierarchies || st.Repositories != want.Repositories || st.Forks != want.Forks ||
		st.PullRequests != want.PullRequests {
		t.Errorf("got %d hierarchies, %d repositories, %d forks, %d pull requests; want %d, %d, %d, %d",
			st.Hierarchies, st.Repositories, st.Forks, st.PullRequests,
			want.Hierarchies, want.Repositories, want.Forks, want.PullRequests)
	}
	if st.Projects-st.PersonalProjects != o.Projects || st.PersonalProjects == 0 {
		t.Errorf("%d projects of which %d personal, want %d normal ones and some personal", st.Projects, st.PersonalProjects, o.Projects)
	}
}

// TestJSONStyles checks compact metadata with sorted keys and string ids,
// and pull request JSON as Jackson pretty-prints it, activity records
// starting with their kind.
func TestJSONStyles(t *testing.T) {
	data, _ := shared(t)
	for _, m := range readArchive(t, data) {
		if !strings.Contains(m.hdr.Name, ".json") {
			continue
		}
		pretty := m.kind == archive.KindPullRequestMetadata || m.kind == archive.KindPullRequestActivities
		if m.kind == archive.KindPullRequestActivities && m.body[0] == '[' && len(m.body) > 2 {
			if !bytes.HasPrefix(m.body, []byte("[ {\n  \"kind\" : ")) {
				t.Fatalf("%s is not as Jackson writes it: %.40q", m.hdr.Name, m.body)
			}
		}
		if pretty != bytes.Contains(m.body, []byte("\n")) {
			t.Fatalf("%s: pretty-printed %v, want %v", m.hdr.Name, !pretty, pretty)
		}
		if bytes.Contains(m.body, []byte(`\u003c`)) || bytes.Contains(m.body, []byte(`\u0026`)) {
			t.Fatalf("%s escapes HTML characters", m.hdr.Name)
		}
		if m.kind != archive.KindPullRequestActivities { // records start with their kind: see archive.TestJackson
			checkSortedKeys(t, m.hdr.Name, json.NewDecoder(bytes.NewReader(m.body)))
		}
	}
	var repo map[string]any
	for _, m := range readArchive(t, data) {
		if m.kind == archive.KindRepository {
			mustUnmarshal(t, m.body, &repo)
			break
		}
	}
	for _, k := range []string{"id", "projectId", "hierarchyId"} {
		if _, ok := repo[k].(string); !ok {
			t.Errorf("repository %s is %T, want a string", k, repo[k])
		}
	}
}

// checkSortedKeys walks one JSON value and fails on an object whose keys
// are out of alphabetical order.
func checkSortedKeys(t *testing.T, name string, dec *json.Decoder) {
	t.Helper()
	tok, err := dec.Token()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	switch tok {
	case json.Delim('{'):
		prev := ""
		for dec.More() {
			key, _ := dec.Token()
			if k := key.(string); k < prev {
				t.Fatalf("%s: key %q after %q", name, k, prev)
			} else {
				prev = k
			}
			checkSortedKeys(t, name, dec)
		}
		dec.Token()
	case json.Delim('['):
		for dec.More() {
			checkSortedKeys(t, name, dec)
		}
		dec.Token()
	}
}

// TestPullRequestContent checks that a small archive holds every state,
// every activity kind and action, nested replies, tasks, inline comments
// and service users, and that Stats counts them.
func TestPullRequestContent(t *testing.T) {
	data, st := shared(t)
	seen := map[string]bool{}
	var comments, tasks, activities int
	var countComment func(c model.Comment, depth int)
	countComment = func(c model.Comment, depth int) {
		comments++
		if c.IsTask() {
			tasks++
			seen["task "+c.State] = true
		}
		if c.Thread != nil && c.Thread.Anchor != nil {
			seen["inline"] = true
		}
		if depth >= 2 {
			seen["nested reply"] = true
		}
		// The times a real 9.4.18 archive carries at every depth.
		if c.CreatedTimestamp == 0 || c.UpdatedTimestamp < c.CreatedTimestamp {
			t.Errorf("comment %s at depth %d has times %d, %d", c.ID, depth, c.CreatedTimestamp, c.UpdatedTimestamp)
		}
		if depth == 0 && (c.Thread == nil || c.Thread.CreatedTimestamp != c.CreatedTimestamp || c.Thread.UpdatedTimestamp < c.UpdatedTimestamp) {
			t.Errorf("comment %s has thread %+v", c.ID, c.Thread)
		}
		for _, r := range c.Comments {
			countComment(r, depth+1)
		}
	}
	for _, m := range readArchive(t, data) {
		switch m.kind {
		case archive.KindPullRequestMetadata:
			var pr model.PullRequest
			mustUnmarshal(t, m.body, &pr)
			seen[pr.State] = true
			if pr.Draft {
				seen["draft"] = true
			}
			for _, p := range pr.AllParticipants {
				seen[p.Role] = true
				seen[p.Status] = true
				if strings.HasSuffix(p.UserID, "||"+model.UserTypeService) {
					seen["service user"] = true
				}
				if _, err := model.ParseUserID(p.UserID); err != nil {
					t.Error(err)
				}
			}
			if (pr.State == model.PROpen) != (pr.ClosedTimestamp == 0) {
				t.Errorf("pull request %d is %s with closedTimestamp %d", pr.ID, pr.State, pr.ClosedTimestamp)
			}
		case archive.KindPullRequestActivities:
			var acts []model.Activity
			mustUnmarshal(t, m.body, &acts)
			activities += len(acts)
			inComments := true
			for i, a := range acts {
				seen[a.Kind] = true
				seen[a.Kind+" "+a.Action+a.CommentAction] = true
				if a.CreatedTimestamp == 0 || a.UserID == "" {
					t.Errorf("%s: record %d has no createdTimestamp or userId", m.hdr.Name, i)
				}
				isComment := strings.HasPrefix(a.Kind, "COMMENT:")
				if isComment && !inComments {
					t.Fatalf("%s: comment record after other records", m.hdr.Name)
				}
				inComments = isComment
				if i > 0 && isComment == strings.HasPrefix(acts[i-1].Kind, "COMMENT:") &&
					a.CreatedTimestamp < acts[i-1].CreatedTimestamp {
					t.Fatalf("%s: record %d goes back in time", m.hdr.Name, i)
				}
				if a.Comment != nil {
					countComment(*a.Comment, 0)
				}
			}
		}
	}
	want := []string{model.PROpen, model.PRMerged, model.PRDeclined, "draft",
		model.RoleAuthor, model.RoleReviewer, model.RoleParticipant,
		model.StatusApproved, model.StatusNeedsWork, model.StatusUnapproved, "service user",
		"inline", "nested reply", "task OPEN", "task RESOLVED",
		"COMMENT:OTHER EDITED", "COMMENT:OTHER REPLIED"}
	want = append(want, model.KnownActivityKinds...)
	for _, a := range []string{model.ActionOpened, model.ActionUpdated, model.ActionApproved,
		model.ActionUnapproved, model.ActionReviewed, model.ActionDeclined} {
		want = append(want, model.KindActivity+" "+a)
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no %s in the archive", w)
		}
	}
	if comments != st.Comments || tasks != st.Tasks || activities != st.Activities {
		t.Errorf("%d comments, %d tasks, %d activities; Stats says %d, %d, %d",
			comments, tasks, activities, st.Comments, st.Tasks, st.Activities)
	}
}

// TestGitDataIsReal builds each repository from the archive as an importer
// would and asks git about it: whole, every ref resolving, forks holding
// only what their origin lacks, pull request commits and caches matching
// the history.
func TestGitDataIsReal(t *testing.T) {
	data, _ := shared(t)
	members := readArchive(t, data)
	dirs := materialize(t, members)
	objects := map[string][]string{} // repository id to object file names
	origins := map[string]string{}   // fork id to origin id
	branches := map[string]map[string]string{}
	for _, m := range members {
		rid := m.ids.Repository
		switch m.kind {
		case archive.KindRepository:
			var repo model.Repository
			mustUnmarshal(t, m.body, &repo)
			if repo.IsFork() {
				origins[rid] = repo.OriginID
			}
		case archive.KindGitObjects:
			for _, f := range m.files(t) {
				objects[rid] = append(objects[rid], f.hdr.Name)
			}
		case archive.KindGitMetadata:
			branches[rid] = map[string]string{}
			for _, f := range m.files(t) {
				if strings.HasPrefix(f.hdr.Name, "refs/heads/") {
					branches[rid][f.hdr.Name] = strings.TrimSpace(string(f.body))
				}
			}
		case archive.KindPullRequestMetadata:
			var pr model.PullRequest
			mustUnmarshal(t, m.body, &pr)
			for _, c := range []string{pr.FromRef.LatestCommit, pr.ToRef.LatestCommit} {
				if typ, err := git(t, dirs[rid], "cat-file", "-t", c); err != nil || typ != "commit" {
					t.Errorf("repository %s pull request %d: %s is not a commit (%v)", rid, pr.ID, c, err)
				}
			}
			if b, ok := branches[rid][pr.FromRef.ID]; ok && b != pr.FromRef.LatestCommit {
				t.Errorf("pull request %d: fromRef %s at %s, branch at %s", pr.ID, pr.FromRef.ID, pr.FromRef.LatestCommit, b)
			}
		case archive.KindPullRequestCaches:
			c, err := model.ParseAncestorCache(string(m.file(t, "cached-ancestor.txt")))
			if err != nil {
				t.Fatal(err)
			}
			base, err := git(t, dirs[rid], "merge-base", c.FromTip, c.ToTip)
			if err != nil || base != c.MergeBase {
				t.Errorf("repository %s pull request %d: merge base %s, cache says %s (%v)", rid, m.ids.PullRequest, base, c.MergeBase, err)
			}
		}
	}
	for rid, dir := range dirs {
		if out, err := git(t, dir, "fsck", "--strict", "--no-dangling", "--no-progress"); err != nil {
			t.Errorf("repository %s: %v %s", rid, err, out)
		}
		refs, err := git(t, dir, "for-each-ref", "--format=%(refname)")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"refs/heads/master", "refs/tags/v0.1", "refs/tags/v1.0", "refs/pull-requests/1/from"} {
			if !slices.Contains(strings.Fields(refs), want) {
				t.Errorf("repository %s has no %s", rid, want)
			}
		}
		if typ, _ := git(t, dir, "cat-file", "-t", "refs/tags/v1.0"); typ != "tag" {
			t.Errorf("repository %s: v1.0 is a %s, want an annotated tag", rid, typ)
		}
		if typ, _ := git(t, dir, "cat-file", "-t", "refs/tags/v0.1"); typ != "commit" {
			t.Errorf("repository %s: v0.1 is a %s, want a lightweight tag", rid, typ)
		}
		if origin, ok := origins[rid]; ok {
			for _, name := range objects[rid] {
				if slices.Contains(objects[origin], name) {
					t.Errorf("fork %s holds %s, which its origin %s has", rid, name, origin)
				}
			}
			if _, err := git(t, dir, "merge-base", "--is-ancestor", branches[origin]["refs/heads/develop"], "refs/heads/master"); err != nil {
				t.Errorf("fork %s's history does not hold its origin's: %v", rid, err)
			}
		}
	}
}

func TestLargeRepositoriesArePacked(t *testing.T) {
	data, _ := generate(t, Options{Projects: 1, Repos: 1, Forks: 1, PRs: 2, Commits: 4, BlobKiB: 300, Seed: 3})
	members := readArchive(t, data)
	for _, m := range members {
		if m.kind != archive.KindGitObjects {
			continue
		}
		var names []string
		for _, f := range m.files(t) {
			names = append(names, f.hdr.Name)
		}
		origin := m.ids.Repository == "1"
		packed := len(names) == 2 && strings.HasPrefix(names[0], "pack/pack-") && strings.HasSuffix(names[0], ".idx") &&
			strings.HasSuffix(names[1], ".pack")
		if origin != packed {
			t.Errorf("repository %s objects %v: want a pack for the large origin, loose objects for its small fork", m.ids.Repository, names)
		}
	}
	for rid, dir := range materialize(t, members) {
		if out, err := git(t, dir, "fsck", "--strict", "--no-dangling"); err != nil {
			t.Errorf("repository %s: %v %s", rid, err, out)
		}
	}
}

func TestHostile(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "pwned")
	opts := testOptions()
	opts.Hostile, opts.HostileMarker = true, marker
	data, _ := generate(t, opts)
	members := readArchive(t, data)
	var hooks, configs int
	for _, m := range members {
		switch m.kind {
		case archive.KindGitMetadata:
			config := string(m.file(t, "config"))
			for _, want := range []string{"fsmonitor =", "hooksPath =", `[filter "x"]`, "smudge =", "touch '" + marker + "'"} {
				if !strings.Contains(config, want) {
					t.Fatalf("hostile config lacks %q:\n%s", want, config)
				}
			}
			configs++
			if m.file(t, "hooks/pre-receive") == nil {
				t.Fatal("no hostile hook in the metadata tar")
			}
		case archive.KindGitHooks:
			for _, f := range m.files(t) {
				if f.hdr.Mode&0o111 == 0 || !strings.Contains(string(f.body), marker) {
					t.Fatalf("hook %s: mode %o, %q", f.hdr.Name, f.hdr.Mode, f.body)
				}
				hooks++
			}
		}
	}
	if configs == 0 || hooks == 0 {
		t.Fatalf("%d hostile configs, %d hooks", configs, hooks)
	}
	// Our own tests run git on the materialized repositories with a fresh
	// config: nothing may have fired, and the generator itself never runs
	// what it writes.
	materialize(t, members)
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the marker exists: something ran a hostile command (%v)", err)
	}
}

func TestCorruptPullRequest(t *testing.T) {
	opts := testOptions()
	opts.CorruptPullRequest = 2
	data, _ := generate(t, opts)
	bad := 0
	for _, m := range readArchive(t, data) {
		if m.kind == archive.KindPullRequestActivities && !json.Valid(m.body) {
			if m.ids.Repository != "1" || m.ids.PullRequest != 2 {
				t.Errorf("%s is invalid JSON", m.hdr.Name)
			}
			bad++
		}
	}
	if bad != 1 {
		t.Fatalf("%d corrupt activities members, want 1", bad)
	}
}

func TestDropObjects(t *testing.T) {
	opts := testOptions()
	opts.DropObjects = true
	data, st := generate(t, opts)
	if len(st.DroppedObjects) != 2 {
		t.Fatalf("dropped %v, want two objects", st.DroppedObjects)
	}
	members := readArchive(t, data)
	for _, m := range members {
		if m.kind == archive.KindGitObjects && m.ids.Repository == "1" {
			for _, f := range m.files(t) {
				if slices.Contains(st.DroppedObjects, strings.ReplaceAll(f.hdr.Name, "/", "")) {
					t.Errorf("dropped object %s is in the objects tar", f.hdr.Name)
				}
			}
		}
	}
	dirs := materialize(t, members)
	if _, err := git(t, dirs["1"], "fsck", "--no-dangling"); err == nil {
		t.Error("git fsck passes on the repository with dropped objects")
	}
	if _, err := git(t, dirs["2"], "fsck", "--no-dangling"); err == nil {
		t.Log("its fork borrows the missing objects too, so it may fail as well")
	}
}

func TestGenerateFileNeverLeavesAHalfArchive(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.tar")
	opts := testOptions()
	opts.TempDir = dir
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := GenerateFile(ctx, path, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled GenerateFile: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("a canceled GenerateFile left %v", entries)
	}
	st, err := GenerateFile(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() != st.Bytes {
		t.Fatalf("archive %v (%v), Stats.Bytes %d", fi, err, st.Bytes)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s.tmp is left: %v", path, err)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Projects: -1, Commits: 1}, "projects is -1"},
		{Options{Projects: 1, Repos: 1}, "commits is 0"},
		{Options{Projects: 1, Commits: 1, Hostile: true}, "marker"},
		{Options{Projects: 1, Commits: 1, ArchiveVersion: 3}, "archive version is 3: it must be 1 or 2"},
	} {
		_, err := Generate(context.Background(), &bytes.Buffer{}, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one about %q", tc.opts, err, tc.want)
		}
	}
}

func ExampleGenerateFile() {
	dir, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(dir)
	opts := DefaultOptions()
	opts.Projects, opts.Repos, opts.PRs = 1, 1, 3
	st, err := GenerateFile(context.Background(), filepath.Join(dir, "small.tar"), opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.Repositories, "repositories,", st.PullRequests, "pull requests")
	// Output: 2 repositories, 6 pull requests
}

// TestDamage checks that each kind of damage spoils what Stats.Damaged
// names: a full fsck fails on it, a connectivity check alone passes.
func TestDamage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		set    func(*Options)
		suffix string
		fsck   string
	}{
		{"pack", func(o *Options) { o.DamagePack = true }, ".pack", "mismatch"},
		{"object", func(o *Options) { o.DamageObject = true }, "", "hash-path mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			tc.set(&opts)
			data, st := generate(t, opts)
			if st.Damaged == "" || !strings.HasSuffix(st.Damaged, tc.suffix) {
				t.Fatalf("Stats.Damaged is %q", st.Damaged)
			}
			members := readArchive(t, data)
			found := false
			for _, m := range members {
				if m.kind == archive.KindGitObjects && m.ids.Repository == "1" {
					for _, f := range m.files(t) {
						found = found || f.hdr.Name == st.Damaged
					}
				}
			}
			if !found {
				t.Fatalf("%s is not in the first repository's objects tar", st.Damaged)
			}
			dirs := materialize(t, members)
			if _, err := git(t, dirs["1"], "fsck", "--connectivity-only", "--no-dangling"); err != nil {
				t.Errorf("the damage is one a connectivity check finds: %v", err)
			}
			_, err := git(t, dirs["1"], "fsck", "--full", "--no-dangling")
			if err == nil || !strings.Contains(err.Error(), tc.fsck) {
				t.Errorf("git fsck --full: %v, want an error with %q", err, tc.fsck)
			}
		})
	}
}

func TestPacked(t *testing.T) {
	opts := testOptions()
	opts.Packed = true
	data, st := generate(t, opts)
	members := readArchive(t, data)
	packs := 0
	for _, m := range members {
		if m.kind != archive.KindGitObjects {
			continue
		}
		for _, f := range m.files(t) {
			if !strings.HasPrefix(f.hdr.Name, "pack/") {
				t.Fatalf("repository %s holds %s: not packed", m.ids.Repository, f.hdr.Name)
			}
			if strings.HasSuffix(f.hdr.Name, ".pack") {
				packs++
			}
		}
	}
	if packs != st.Repositories {
		t.Errorf("%d packs for %d repositories", packs, st.Repositories)
	}
	for rid, dir := range materialize(t, members) {
		if _, err := git(t, dir, "fsck", "--full", "--no-dangling"); err != nil {
			t.Errorf("repository %s: %v", rid, err)
		}
	}
}

// Repositories of the same shape (same slug, options and history plan, in
// two projects) are each their own: different objects, different tips, and
// each a valid git repository whose pack index git agrees with.
func TestSameShapeRepositoriesAreDistinct(t *testing.T) {
	data, _ := generate(t, Options{Projects: 2, Repos: 1, PRs: 12, Commits: 4, BlobKiB: 1, Seed: 5, Packed: true})
	members := readArchive(t, data)
	objects := map[string][]byte{}
	slugs := map[string]string{}
	for _, m := range members {
		switch m.kind {
		case archive.KindRepository:
			var repo model.Repository
			mustUnmarshal(t, m.body, &repo)
			slugs[repo.ID] = repo.Slug
		case archive.KindGitObjects:
			objects[m.ids.Repository] = m.body
		}
	}
	if len(objects) != 2 || slugs["1"] != slugs["2"] {
		t.Fatalf("want two repositories of the same slug, got %v", slugs)
	}
	if bytes.Equal(objects["1"], objects["2"]) {
		t.Error("the two repositories' objects tars are byte for byte the same")
	}
	dirs := materialize(t, members)
	tips := map[string]bool{}
	for _, rid := range []string{"1", "2"} {
		dir := dirs[rid]
		if out, err := git(t, dir, "fsck", "--full", "--strict", "--no-dangling"); err != nil {
			t.Errorf("repository %s: %v %s", rid, err, out)
		}
		idx, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
		if err != nil || len(idx) != 1 {
			t.Fatalf("repository %s: packs %v (%v)", rid, idx, err)
		}
		if out, err := git(t, dir, "verify-pack", idx[0]); err != nil {
			t.Errorf("repository %s: %v %s", rid, err, out)
		}
		tip, err := git(t, dir, "rev-parse", "refs/heads/master")
		if err != nil {
			t.Fatal(err)
		}
		tips[tip] = true
	}
	if len(tips) != 2 {
		t.Errorf("both repositories' master is at %v", tips)
	}
}
