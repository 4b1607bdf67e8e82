// Package realshape builds, for tests, an archive in the shapes that a real
// Bitbucket Data Center export carries (docs/archive.md, "What real
// archives carry"). It is written by hand from that text, not by archive/gen,
// so that the importer and serve are held to what Bitbucket writes rather
// than to what bbimport's own generator believes.
//
// The JSON members are files under testdata/, written as Bitbucket writes
// them; ${NAME} in them stands for the commit or tag NAME of the history
// below, made with git itself. The rest (git metadata, objects, caches, the
// outer tar) is spelled out in Build, one shape a line.
//
// One project FIX, one repository FIX/golden, five pull requests:
//
//	#1 OPEN      feature/open → main: rescoped once by its source (O1 → O2), then
//	             main moved under it; an orphaned inline comment, an edited
//	             comment with a reply, a file-level comment (line 0, no
//	             fileType/lineType) on a resolved thread, a resolved task on an
//	             unresolved thread, an open task on a resolved thread
//	#2 DECLINED  feature/declined → main; the branch is gone, its stash ref stays
//	#3 OPEN      draft, feature/target → main; only main moved: no RESCOPED
//	#4 MERGED    feature/stack-a → main, merged by #5: MERGED without "hash"
//	#5 MERGED    feature/stack-b (on stack-a) → main, merge commit M1
package realshape

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"bbimport/importer/gitcmd"
)

//go:embed testdata
var testdata embed.FS

// Fixture is a built archive and the objects its JSON names.
type Fixture struct {
	Path    string
	Objects map[string]string // C1, C2, O1, O2, D1, T1, A1, B1, M1, TAG (the annotated tag object)
}

// exportTime is the export's moment: the mtime of every inner tar entry.
var exportTime = time.UnixMilli(1733500000000).UTC()

const (
	migration = "com.atlassian.bitbucket.server.bitbucket-instance-migration_"
	git       = "com.atlassian.bitbucket.server.bitbucket-git_"
	lfs       = "com.atlassian.bitbucket.server.bitbucket-git-lfs_"
	mesh      = "Bitbucket Mesh <bitbucket.mesh@atlassian.com>"
)

// Build writes the archive of archiveVersion version (1 or 2) into dir,
// as Bitbucket_export_<version>.tar, building its git history in dir too.
func Build(ctx context.Context, dir string, version int) (Fixture, error) {
	h, err := buildHistory(ctx, filepath.Join(dir, fmt.Sprintf("golden-%d.git", version)))
	if err != nil {
		return Fixture{}, err
	}
	f := Fixture{Path: filepath.Join(dir, fmt.Sprintf("Bitbucket_export_%d.tar", version)), Objects: h.objects}
	members, err := h.members(version)
	if err != nil {
		return Fixture{}, err
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, m := range members {
		// The outer tar: regular files only, no directories, uid/gid 0.
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: m.name, Mode: 0o644, Size: int64(len(m.data)), ModTime: exportTime}
		if err := tw.WriteHeader(hdr); err != nil {
			return Fixture{}, err
		}
		if _, err := tw.Write(m.data); err != nil {
			return Fixture{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Fixture{}, err
	}
	return f, os.WriteFile(f.Path, out.Bytes(), 0o644)
}

type member struct {
	name string
	data []byte
}

func (h *history) members(version int) ([]member, error) {
	var ms []member
	var failed error
	// add(name)(data, err) appends member name.
	add := func(name string) func([]byte, error) {
		return func(data []byte, err error) {
			if err != nil && failed == nil {
				failed = fmt.Errorf("%s: %w", name, err)
			}
			ms = append(ms, member{name, data})
		}
	}
	// json is a testdata file with its ${NAME}s replaced, gzip'd on its own.
	json := func(file string) ([]byte, error) {
		b, err := testdata.ReadFile("testdata/" + file)
		if err != nil {
			return nil, err
		}
		return gz([]byte(os.Expand(string(b), func(k string) string { return h.objects[k] })))
	}
	v := fmt.Sprint(version)
	add(migration + "instanceDetails/instance-details.json.atl.gz")(json("instance-details.v" + v + ".json"))
	add(migration + "metadata/project_1/project.json.atl.gz")(json("project.v" + v + ".json"))
	add(migration + "permissions/project/1/all-permissions.json.atl.gz")(json("all-permissions.json"))
	add(migration + "permissions/project/1/permissions.json.atl.gz")(json("project-permissions.json"))
	add("_/repository/hierarchy_begin/a1f92f6e4287f433820f")(nil, nil)
	add(migration + "metadata/project_1/repository_15.json.atl.gz")(json("repository.json"))
	add(migration + "permissions/repository/15/permissions.json.atl.gz")(json("repository-permissions.json"))
	add(git + "git/repositories/15/metadata/metadata.atl.tar.atl.gz")(gzTar(h.metadata()))
	add(git + "git/repositories/15/hooks/hooks.atl.tar.atl.gz")(gzTar(nil)) // an empty tar
	add(git + "git/repositories/15/contents/objects.atl.tar")(h.objectsTar())
	add(lfs + "gitLfsSettings/15/git-lfs-settings.json.atl.gz")(json("git-lfs-settings.json"))
	for id, c := range h.caches() {
		pr := fmt.Sprint(id + 1)
		add(migration + "pullRequests/repository/15/pullrequest/" + pr + "/metadata.json.atl.gz")(json("pr/" + pr + ".metadata.json"))
		add(migration + "pullRequests/repository/15/pullrequest/" + pr + "/activities.json.atl.gz")(json("pr/" + pr + ".activities.json"))
		// One member, "<fromTip>,<toTip>,<mergeBase>", no trailing newline.
		add(git + "gitPullRequests/repositories/15/pullrequests/" + pr + "/caches.atl.tar.atl.gz")(
			gzTar([]file{{"cached-ancestor.txt", 0o644, []byte(c)}}))
	}
	add("_/repository/hierarchy_end/a1f92f6e4287f433820f")(nil, nil)
	return ms, failed
}

// history is FIX/golden's git data, built with git in a bare repository.
type history struct {
	dir     string
	objects map[string]string
}

// buildHistory makes the commits of the package comment:
//
//	C1 ── C2 ──────────── M1   main (M1 merges B1: pull request #5)
//	 │     ├─ O1 ── O2         feature/open (#1)
//	 │     └─ A1 ── B1         feature/stack-a (#4), feature/stack-b (#5, branch deleted)
//	 ├─ D1                     feature/declined (#2, branch deleted)
//	 └─ T1                     feature/target (#3)
//
// Tags: v1.0 lightweight on C1, v1.1 annotated on C2.
func buildHistory(ctx context.Context, dir string) (*history, error) {
	h := &history{dir: dir, objects: map[string]string{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := gitcmd.Run(ctx, dir, "init", "--bare", "--quiet", "."); err != nil {
		return nil, err
	}
	tick := int64(1733300000)
	commit := func(name, message string, files map[string]string, parents ...string) error {
		var tree strings.Builder
		for _, path := range slices.Sorted(maps.Keys(files)) {
			blob, err := h.git(ctx, files[path], "", "hash-object", "-w", "--stdin")
			if err != nil {
				return err
			}
			fmt.Fprintf(&tree, "100644 blob %s\t%s\n", blob, path)
		}
		treeID, err := h.git(ctx, tree.String(), "", "mktree")
		if err != nil {
			return err
		}
		args := []string{"commit-tree", treeID, "-m", message}
		for _, p := range parents {
			args = append(args, "-p", h.objects[p])
		}
		tick += 3600
		id, err := h.git(ctx, "", fmt.Sprintf("%d +0000", tick), args...)
		h.objects[name] = id
		return err
	}
	base := map[string]string{"README.md": "# golden\n"}
	with := func(m map[string]string, path, text string) map[string]string {
		out := map[string]string{path: text}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	c2 := with(base, "app.go", "package app\n")
	steps := []func() error{
		func() error { return commit("C1", "Initial commit", base) },
		func() error { return commit("C2", "Add the app", c2, "C1") },
		func() error { return commit("D1", "Try another layout", with(base, "layout.txt", "flat\n"), "C1") },
		func() error { return commit("T1", "Document the target", with(base, "TARGET.md", "main\n"), "C1") },
		func() error { return commit("O1", "Open a file", with(c2, "open.txt", "one\n"), "C2") },
		func() error { return commit("O2", "Rework the file", with(c2, "open.txt", "two\n"), "O1") },
		func() error { return commit("A1", "Stack A", with(c2, "a.txt", "a\n"), "C2") },
		func() error { return commit("B1", "Stack B", with(with(c2, "a.txt", "a\n"), "b.txt", "b\n"), "A1") },
		func() error {
			return commit("M1", "Merge pull request #5 in FIX/golden from feature/stack-b to main",
				with(with(c2, "a.txt", "a\n"), "b.txt", "b\n"), "C2", "B1")
		},
		func() error {
			tag := fmt.Sprintf("object %s\ntype commit\ntag v1.1\ntagger Ada Lovelace <ada@example.com> %d +0000\n\nRelease 1.1\n", h.objects["C2"], tick)
			id, err := h.git(ctx, tag, "", "mktag")
			h.objects["TAG"] = id
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("build the fixture's history: %w", err)
		}
	}
	return h, nil
}

// git runs git on the history's repository with stdin, at a fixed date
// (when given) so that the commits are the same in every run.
func (h *history) git(ctx context.Context, stdin, date string, args ...string) (string, error) {
	c := gitcmd.Command(ctx, h.dir, args...)
	c.Env = append(c.Env, "GIT_AUTHOR_NAME=Ada Lovelace", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada Lovelace", "GIT_COMMITTER_EMAIL=ada@example.com")
	if date != "" {
		c.Env = append(c.Env, "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	}
	c.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	c.Stdout = &out
	if err := c.Run(); err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

// metadata is the skeleton of the bare repository as metadata.atl.tar
// holds it.
func (h *history) metadata() []file {
	o := h.objects
	refs := []struct{ name, id string }{
		{"refs/heads/main", o["M1"]},
		{"refs/heads/feature/open", o["O2"]},
		{"refs/heads/feature/stack-a", o["A1"]},
		{"refs/heads/feature/target", o["T1"]},
		{"refs/tags/v1.0", o["C1"]},  // lightweight: the commit
		{"refs/tags/v1.1", o["TAG"]}, // annotated: the tag object
		// Only OPEN pull requests have refs/pull-requests; no .../merge.
		{"refs/pull-requests/1/from", o["O2"]},
		{"refs/pull-requests/3/from", o["T1"]},
		// Every pull request has its source tip here, kept after merge or decline.
		{"stash-refs/pull-requests/1/from", o["O2"]},
		{"stash-refs/pull-requests/2/from", o["D1"]},
		{"stash-refs/pull-requests/3/from", o["T1"]},
		{"stash-refs/pull-requests/4/from", o["A1"]},
		{"stash-refs/pull-requests/5/from", o["B1"]},
	}
	files := []file{
		{"HEAD", 0o644, []byte("ref: refs/heads/main\n")},
		{"config", 0o644, []byte("[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n" +
			"[include]\n\tpath = ../../../config/git/system-config\n")},
		{"app-info/gc.pid", 0o644, []byte("4242 bitbucket-node-1")},
	}
	zero := strings.Repeat("0", 40)
	for _, r := range refs {
		files = append(files, file{r.name, 0o644, []byte(r.id + "\n")})
		if strings.HasPrefix(r.name, "refs/tags/") {
			continue
		}
		log := fmt.Sprintf("%s %s %s %d +0000\tpush\n", zero, r.id, mesh, exportTime.Unix()-86400)
		files = append(files, file{"logs/" + r.name, 0o644, []byte(log)})
	}
	return files
}

// objectsTar is the object store: loose objects <2 hex>/<38 hex> as git
// wrote them, mode 0400, not sorted.
func (h *history) objectsTar() ([]byte, error) {
	var names []string
	root := filepath.Join(h.dir, "objects")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if len(rel) == 2+1+38 {
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Not sorted: Mesh writes them in the order it walks its store.
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(a[3:], b[3:]) })
	var files []file
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(root, n))
		if err != nil {
			return nil, err
		}
		files = append(files, file{n, 0o400, data})
	}
	return tarOf(files)
}

// caches are the cached-ancestor.txt of pull requests 1 to 5.
func (h *history) caches() []string {
	o := h.objects
	return []string{
		o["O2"] + "," + o["M1"] + "," + o["C2"],
		o["D1"] + "," + o["C2"] + "," + o["C1"],
		o["T1"] + "," + o["M1"] + "," + o["C1"],
		o["A1"] + "," + o["M1"] + "," + o["A1"],
		o["B1"] + "," + o["C2"] + "," + o["C2"],
	}
}

type file struct {
	name string
	mode int64
	data []byte
}

// tarOf is an inner tar: entries of the given modes, mtime the export time.
func tarOf(files []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: exportTime}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}

func gzTar(files []file) ([]byte, error) {
	t, err := tarOf(files)
	if err != nil {
		return nil, err
	}
	return gz(t)
}

func gz(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	err := zw.Close()
	return buf.Bytes(), err
}
