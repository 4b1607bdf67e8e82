// Over 600 lines on purpose: the synthetic repositories' whole git side
// (the fast-import stream, loose and packed objects, refs, the damage
// options for tests) shares one deterministic stream of content, so that the
// same seed gives the same bytes; pieces apart would each need that state.

package archivegen

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"bbimport/importer/gitcmd"
	"bbimport/model"
)

// Git data is made by one `git fast-import` per repository, fed a stream
// that holds every commit, tag and blob: one process per repository however
// many commits it has.
const (
	// baseTime (2024-01-01T00:00:00Z) is when the first repository's
	// history starts; every time in the archive follows from it.
	baseTime = 1704067200
	// forkCommits is how many commits a fork adds on top of its origin's
	// default branch.
	forkCommits = 2
	// A repository whose new objects are fewer than looseMaxObjects and
	// smaller than looseMaxBytes has loose objects; any other one a pack.
	// Real repositories look like this: loose until git gc packs them.
	looseMaxObjects = 600
	looseMaxBytes   = 1 << 20
	defaultBranch   = "master"
	zeroID          = "0000000000000000000000000000000000000000"
)

// builtRepo is one repository's git data, ready to write.
type builtRepo struct {
	gitDir   string
	metadata []File
	hooks    []File
	objects  []File
	pulls    []pullGit
	dropped  []string
	damaged  string

	// What a fork takes over from its origin.
	main  []string          // default-branch commits, oldest first
	heads map[string]string // branch name (refs/heads/...) to commit
	tags  []tagRef
	end   int64 // latest time in the history (epoch seconds)
}

type tagRef struct {
	name   string // refs/tags/...
	id     string // the tag object for annotated tags, else the commit
	peeled string // the commit of an annotated tag; empty for lightweight ones
}

// pullGit is the git side of a pull request: its branch and commits.
type pullGit struct {
	id      int64
	state   string
	draft   bool
	rich    bool // gets every activity kind, so small archives hold them all
	title   string
	author  person
	branch  string // refs/heads/...
	base    string // the default-branch commit it branched from (the merge base)
	commits []string
	file    string // the file its commits change
	lines   int    // lines of file at the tip
	target  string // toRef's latest commit
	merge   string // the merge commit, MERGED only
	opened  int64
	closed  int64 // DECLINED and MERGED only
}

func (p pullGit) tip() string { return p.commits[len(p.commits)-1] }

func (g *generator) buildHierarchy(ctx context.Context, h *hierarchyPlan, dir string) ([]*builtRepo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("make build directory: %w", err)
	}
	var built []*builtRepo
	for _, repo := range h.repos {
		var origin *builtRepo
		if repo.origin != nil {
			origin = built[0]
		}
		b, err := g.buildRepo(ctx, repo, filepath.Join(dir, repo.ID+".git"), origin)
		if err != nil {
			return nil, fmt.Errorf("build repository %s/%s: %w", repo.project.Key, repo.Slug, err)
		}
		built = append(built, b)
	}
	return built, nil
}

func (g *generator) buildRepo(ctx context.Context, repo *repoPlan, gitDir string, origin *builtRepo) (*builtRepo, error) {
	r := newRand(g.opts.Seed, streamGit, uint64(repo.ordinal))
	b := &builtRepo{gitDir: gitDir, heads: map[string]string{}}
	if err := initBareRepo(gitDir, origin); err != nil {
		return nil, err
	}
	commits := forkCommits
	if origin == nil {
		commits = g.opts.Commits
	}
	// A default-branch commit makes about six objects (itself, trees,
	// blobs); a pull request about eleven (up to three commits with their
	// trees and file, and a merge).
	estimated := commits*6 + g.opts.PRs*11
	loose := estimated < looseMaxObjects && int64(commits)*int64(g.opts.BlobKiB)*1024 < looseMaxBytes
	first := repo.ordinal == 0
	dropping := g.opts.DropObjects && first
	damageObject := g.opts.DamageObject && first
	damagePack := g.opts.DamagePack && first && !dropping && !damageObject
	packed := g.opts.Packed || damagePack
	marksFile := gitDir + ".marks"
	// fast-import always writes a pack: a loose store is made from it in
	// memory, which is many times faster than git writing loose files.
	// Nothing is fsynced: the repository is thrown away once written.
	cmd := gitCommand(ctx, gitDir, "-c", "core.fsync=none", "-c", "fastimport.unpackLimit=0",
		"fast-import", "--quiet", "--done", "--date-format=raw", "--export-marks="+marksFile)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start git fast-import: %w", err)
	}
	fi := &fastImport{w: bufio.NewWriterSize(stdin, 1<<16), seed: g.opts.Seed, repo: uint64(repo.ordinal)}
	readme := g.writeHistory(fi, r, repo, b, origin)
	fi.printf("done\n")
	werr := fi.w.Flush()
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return nil, err
	}
	if werr != nil {
		return nil, fmt.Errorf("feed git fast-import: %w", werr)
	}
	ids, err := readMarks(marksFile)
	if err != nil {
		return nil, err
	}
	b.resolve(ids)
	var drop []string
	if dropping {
		drop = []string{b.heads["refs/heads/"+defaultBranch], ids.get(readme)}
	}
	if (loose && !packed) || dropping || damageObject {
		b.objects, b.dropped, err = looseObjects(ctx, gitDir, drop)
	} else {
		b.objects, err = packFiles(gitDir)
	}
	switch {
	case err != nil:
	case damageObject:
		b.damaged, err = damageLooseObject(b.objects, ids.get(readme))
	case damagePack:
		b.damaged, err = damagePackFile(b.objects)
	}
	if err != nil {
		return nil, err
	}
	b.metadata = g.gitMetadata(repo, b)
	b.hooks = g.hooks(repo)
	return b, nil
}

// writeHistory streams one repository's history to fast-import and records
// in b what it made, by mark. It returns the mark of the README blob.
func (g *generator) writeHistory(fi *fastImport, r *rand.Rand, repo *repoPlan, b *builtRepo, origin *builtRepo) string {
	users := g.people.users
	t := baseTime + int64(repo.ordinal)*6*3600
	parent := ""
	first := 1
	var readme string
	if origin != nil {
		b.main = slices.Clone(origin.main)
		parent = b.main[len(b.main)-1]
		t = origin.end
		first = len(b.main) + 1
		for name, id := range origin.heads {
			if !strings.HasPrefix(name, "refs/heads/feature/") {
				b.heads[name] = id
			}
		}
		b.tags = slices.Clone(origin.tags)
	}
	last := first + g.opts.Commits - 1
	if origin != nil {
		last = first + forkCommits - 1
	}
	for k := first; k <= last; k++ {
		t += 3600
		changes := []fileChange{{path: "src/app.txt", blob: fi.blob([]byte(appText(k)))}}
		if k == 1 {
			readme = fi.blob([]byte("# " + repo.Name + "\n\nGenerated by bbimport gen.\n"))
			changes = append(changes, fileChange{path: "README.md", blob: readme})
			if g.opts.Hostile {
				changes = append(changes, fileChange{path: ".gitattributes", blob: fi.blob([]byte("* filter=x\n"))})
			}
		}
		if g.opts.BlobKiB > 0 {
			changes = append(changes, fileChange{path: fmt.Sprintf("data/blob-%04d.bin", k),
				blob: fi.randomBlob(g.opts.BlobKiB*1024, uint64(k))})
		}
		who := users[r.IntN(len(users))]
		parent = fi.commit("refs/heads/"+defaultBranch, who, t, fmt.Sprintf("Change %d of %s", k, repo.Name), parent, "", changes)
		b.main = append(b.main, parent)
	}
	if origin == nil {
		n := len(b.main)
		b.heads["refs/heads/develop"] = b.main[n*3/4]
		b.heads["refs/heads/release/1.0"] = b.main[n/2]
		b.tags = append(b.tags, tagRef{name: "refs/tags/v0.1", id: b.main[n/4]})
		tagger := users[r.IntN(len(users))]
		b.tags = append(b.tags, tagRef{name: "refs/tags/v1.0", peeled: b.main[n/2],
			id: fi.tag("v1.0", b.main[n/2], tagger, t, "Release 1.0")})
	}
	b.pulls = g.writePullBranches(fi, r, repo, b, t)
	tip := parent
	for i := range b.pulls {
		p := &b.pulls[i]
		if p.state != model.PRMerged {
			continue
		}
		p.target = tip
		msg := fmt.Sprintf("Merge pull request #%d in %s/%s from %s to %s\n\n* commit '%s':\n  %s",
			p.id, repo.project.Key, repo.Slug, strings.TrimPrefix(p.branch, "refs/heads/"), defaultBranch, p.tip(), p.title)
		content := fi.blob([]byte(pullText(p.id, p.lines)))
		tip = fi.commit("refs/heads/"+defaultBranch, p.author, p.closed, msg, tip, p.tip(),
			[]fileChange{{path: p.file, blob: content}})
		p.merge = tip
	}
	b.heads["refs/heads/"+defaultBranch] = tip
	for i := range b.pulls {
		p := &b.pulls[i]
		if p.state != model.PRMerged {
			p.target = tip
		}
		// Merged branches are deleted half the time, as teams do.
		if p.state != model.PRMerged || p.id%2 == 1 {
			b.heads[p.branch] = p.tip()
		}
		b.end = max(b.end, p.closed, p.opened)
	}
	b.end = max(b.end, t) + 3600
	return readme
}

// writePullBranches plans the repository's pull requests and streams their
// branches. The first three are OPEN, MERGED and DECLINED and the fourth a
// draft, so that every state shows up in any archive with a few of them.
func (g *generator) writePullBranches(fi *fastImport, r *rand.Rand, repo *repoPlan, b *builtRepo, t int64) []pullGit {
	var pulls []pullGit
	for id := int64(1); id <= int64(g.opts.PRs); id++ {
		p := pullGit{id: id, rich: id == 1, author: g.people.users[r.IntN(len(g.people.users))]}
		switch id {
		case 1, 4:
			p.state = model.PROpen
		case 2:
			p.state = model.PRMerged
		case 3:
			p.state = model.PRDeclined
		default:
			p.state = []string{model.PRMerged, model.PRMerged, model.PRMerged, model.PRMerged, model.PRMerged,
				model.PROpen, model.PROpen, model.PROpen, model.PRDeclined, model.PRDeclined}[r.IntN(10)]
		}
		p.draft = id == 4 || (p.state == model.PROpen && id > 4 && r.IntN(4) == 0)
		verb := []string{"Add", "Fix", "Refactor", "Speed up", "Document", "Remove"}[r.IntN(6)]
		word := repoWords[r.IntN(len(repoWords))]
		p.title = fmt.Sprintf("%s %s handling", verb, word)
		p.branch = fmt.Sprintf("refs/heads/feature/%s-%d-%s", strings.TrimPrefix(repo.project.Key, "~"), id, word)
		p.file = fmt.Sprintf("changes/pr-%d.txt", id)
		p.base = b.main[r.IntN(len(b.main))]
		p.opened = t + id*3600
		if p.state != model.PROpen {
			p.closed = p.opened + 86400 + int64(r.IntN(1800))
		}
		n := 1 + r.IntN(3)
		if p.rich {
			n = 3
		}
		parent := p.base
		for j := 1; j <= n; j++ {
			// The first commit is pushed before the pull request opens;
			// later ones rescope it.
			when := p.opened - 1200 + int64(j-1)*1800
			p.lines = 5 * j
			parent = fi.commit(p.branch, p.author, when, fmt.Sprintf("%s (part %d)", p.title, j), parent, "",
				[]fileChange{{path: p.file, blob: fi.blob([]byte(pullText(id, p.lines)))}})
			p.commits = append(p.commits, parent)
		}
		pulls = append(pulls, p)
	}
	return pulls
}

func appText(k int) string {
	var sb strings.Builder
	for i := range 20 {
		if i == k%20 {
			fmt.Fprintf(&sb, "line %d, changed by commit %d\n", i+1, k)
		} else {
			fmt.Fprintf(&sb, "line %d\n", i+1)
		}
	}
	return sb.String()
}

func pullText(id int64, lines int) string {
	var sb strings.Builder
	for i := range lines {
		fmt.Fprintf(&sb, "pull request %d, line %d\n", id, i+1)
	}
	return sb.String()
}

// resolve turns every fast-import mark b holds into an object id.
func (b *builtRepo) resolve(ids markIDs) {
	for i := range b.main {
		b.main[i] = ids.get(b.main[i])
	}
	for name, id := range b.heads {
		b.heads[name] = ids.get(id)
	}
	for i := range b.tags {
		b.tags[i].id = ids.get(b.tags[i].id)
		b.tags[i].peeled = ids.get(b.tags[i].peeled)
	}
	for i := range b.pulls {
		p := &b.pulls[i]
		p.base, p.target, p.merge = ids.get(p.base), ids.get(p.target), ids.get(p.merge)
		for j := range p.commits {
			p.commits[j] = ids.get(p.commits[j])
		}
	}
}

// markIDs maps fast-import marks (":12") to object ids.
type markIDs map[string]string

// get resolves a mark; an object id (an origin's commit, in a fork) or ""
// stays as it is.
func (m markIDs) get(s string) string {
	if id, ok := m[s]; ok {
		return id
	}
	return s
}

func readMarks(path string) (markIDs, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read fast-import marks: %w", err)
	}
	ids := markIDs{}
	for line := range strings.Lines(string(data)) {
		mark, id, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok {
			ids[mark] = id
		}
	}
	return ids, nil
}

// initBareRepo makes the skeleton git needs, without a `git init` process.
// A fork borrows its origin's objects through alternates, as Bitbucket
// forks do, so fast-import writes only the objects the origin lacks.
func initBareRepo(gitDir string, origin *builtRepo) error {
	for _, d := range []string{"objects/info", "objects/pack", "refs/heads", "refs/tags"} {
		if err := os.MkdirAll(filepath.Join(gitDir, d), 0o755); err != nil {
			return fmt.Errorf("make repository: %w", err)
		}
	}
	files := map[string]string{
		"HEAD":   "ref: refs/heads/" + defaultBranch + "\n",
		"config": "[core]\n\trepositoryformatversion = 0\n\tbare = true\n",
	}
	if origin != nil {
		files["objects/info/alternates"] = filepath.Join(origin.gitDir, "objects") + "\n"
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(gitDir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("make repository: %w", err)
		}
	}
	return nil
}

// gitCommand runs git on gitDir as bbimport runs git everywhere (package
// gitcmd), with one addition for the generator's speed.
//
// The glibc tunable makes malloc grow the heap 64 MiB at a time: fast-import
// otherwise spends most of its time in thousands of small brk calls (a
// repository with 50 pull request branches: 0.49 s of system time and 3-4 s
// on a loaded machine without it, 0.04 s and 0.3-0.8 s with it). Other C
// libraries ignore it.
func gitCommand(ctx context.Context, gitDir string, args ...string) *gitcmd.Cmd {
	cmd := gitcmd.Command(ctx, gitDir, args...)
	cmd.Env = append(cmd.Env, "GLIBC_TUNABLES=glibc.malloc.top_pad=67108864")
	return cmd
}

// packFiles lists the repository's packs as the objects tar holds them:
// pack/*.idx and pack/*.pack, sorted.
func packFiles(gitDir string) ([]File, error) {
	dir := filepath.Join(gitDir, "objects", "pack")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list packs: %w", err)
	}
	var files []File
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".pack") || strings.HasSuffix(name, ".idx") {
			files = append(files, File{Name: "pack/" + name, Mode: 0o444, Path: filepath.Join(dir, name)})
		}
	}
	return files, nil // ReadDir sorts by name
}

// looseObjects turns the repository's packs into loose objects,
// <2 hex>/<38 hex> zlib files, sorted by name. Objects in drop are left out
// and returned as dropped. Only the repository's own packs are read, not
// its alternates: a fork's store keeps only what its origin lacks.
func looseObjects(ctx context.Context, gitDir string, drop []string) (files []File, dropped []string, err error) {
	idxs, err := filepath.Glob(filepath.Join(gitDir, "objects", "pack", "*.idx"))
	if err != nil {
		return nil, nil, err
	}
	var ids []string
	for _, idx := range idxs {
		more, err := readPackIndex(idx)
		if err != nil {
			return nil, nil, err
		}
		ids = append(ids, more...)
	}
	slices.Sort(ids)
	cmd := gitCommand(ctx, gitDir, "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start git cat-file: %w", err)
	}
	files, dropped, rerr := readLooseObjects(bufio.NewReaderSize(stdout, 1<<16), len(ids), drop)
	if rerr != nil {
		// Read git's answer to its end so that it exits by itself: closed
		// early, the pipe would kill it, and Wait would report that in place
		// of rerr. A failed read here shows in Wait as well.
		_, _ = io.Copy(io.Discard, stdout)
	}
	if err := cmd.Wait(); err != nil {
		return nil, nil, err
	}
	return files, dropped, rerr
}

// readLooseObjects reads n objects from `git cat-file --batch` and
// compresses each as git stores a loose object.
func readLooseObjects(r *bufio.Reader, n int, drop []string) (files []File, dropped []string, err error) {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	for range n {
		header, err := r.ReadString('\n')
		if err != nil {
			return nil, nil, fmt.Errorf("read git cat-file: %w", err)
		}
		f := strings.Fields(header)
		if len(f) != 3 {
			return nil, nil, fmt.Errorf("git cat-file said %q", header)
		}
		id, typ := f[0], f[1]
		size, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, nil, fmt.Errorf("git cat-file said %q", header)
		}
		content := make([]byte, size+1) // and the newline after it
		if _, err := io.ReadFull(r, content); err != nil {
			return nil, nil, fmt.Errorf("read object %s: %w", id, err)
		}
		if slices.Contains(drop, id) {
			dropped = append(dropped, id)
			continue
		}
		buf.Reset()
		zw.Reset(&buf)
		fmt.Fprintf(zw, "%s %d\x00", typ, size)
		_, werr := zw.Write(content[:size])
		if err := errors.Join(werr, zw.Close()); err != nil {
			return nil, nil, fmt.Errorf("compress object %s: %w", id, err)
		}
		files = append(files, File{Name: id[:2] + "/" + id[2:], Mode: 0o444, Data: bytes.Clone(buf.Bytes())})
	}
	return files, dropped, nil
}

// damageLooseObject gives the loose object id other content, well-formed
// (a zlib stream of "blob <size>\0<content>") but hashing to another name.
func damageLooseObject(objects []File, id string) (string, error) {
	name := id[:2] + "/" + id[2:]
	for i := range objects {
		if objects[i].Name != name {
			continue
		}
		content := "This is not the content this object's name says.\n"
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		fmt.Fprintf(zw, "blob %d\x00%s", len(content), content)
		if err := zw.Close(); err != nil {
			return "", err
		}
		objects[i].Data = buf.Bytes()
		return name, nil
	}
	return "", fmt.Errorf("object %s is not among the loose objects", id)
}

// damagePackFile flips the byte in the middle of the repository's pack,
// which the random blobs make up almost all of. The pack is read into
// memory so that the repository, which a fork's build still reads, stays
// whole.
func damagePackFile(objects []File) (string, error) {
	for i := range objects {
		f := &objects[i]
		if !strings.HasSuffix(f.Name, ".pack") {
			continue
		}
		data, err := os.ReadFile(f.Path)
		if err != nil {
			return "", fmt.Errorf("read pack: %w", err)
		}
		data[len(data)/2] ^= 0xff
		f.Data, f.Path = data, ""
		return f.Name, nil
	}
	return "", errors.New("the repository has no pack to damage")
}

// readPackIndex lists the object ids of a version 2 pack index: a header,
// a 256-entry fan-out table whose last entry is the count, then the ids.
func readPackIndex(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read pack index: %w", err)
	}
	const header = 8 + 256*4
	if len(data) < header || !bytes.Equal(data[:8], []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}) {
		return nil, fmt.Errorf("%s is not a version 2 pack index", path)
	}
	n := int(binary.BigEndian.Uint32(data[header-4 : header]))
	if len(data) < header+n*20 {
		return nil, fmt.Errorf("%s is truncated", path)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = hex.EncodeToString(data[header+i*20 : header+(i+1)*20])
	}
	return ids, nil
}

// fileChange sets path to the blob of a mark.
type fileChange struct {
	path string
	blob string
}

// fastImport writes a fast-import stream. Write errors stick in the
// bufio.Writer and surface at Flush.
type fastImport struct {
	w    *bufio.Writer
	mark int
	seed int64
	repo uint64
	buf  []byte
}

func (f *fastImport) printf(format string, a ...any) { fmt.Fprintf(f.w, format, a...) }

func (f *fastImport) next() string {
	f.mark++
	return ":" + strconv.Itoa(f.mark)
}

func (f *fastImport) blob(data []byte) string {
	m := f.next()
	f.printf("blob\nmark %s\ndata %d\n", m, len(data))
	f.w.Write(data)     //nolint:errcheck // it sticks until Flush (see fastImport)
	f.w.WriteByte('\n') //nolint:errcheck // it sticks until Flush (see fastImport)
	return m
}

// randomBlob streams size seeded random bytes, the n-th blob of the
// repository: content that neither compresses nor deltifies, so the
// archive's size is what was asked for.
func (f *fastImport) randomBlob(size int, n uint64) string {
	if cap(f.buf) < size {
		f.buf = make([]byte, size)
	}
	blobBytes(f.buf[:size], f.seed, f.repo, n)
	return f.blob(f.buf[:size])
}

func (f *fastImport) commit(ref string, who person, when int64, msg, from, merge string, changes []fileChange) string {
	m := f.next()
	ident := fmt.Sprintf("%s <%s> %d +0000", who.id.DisplayName, who.email, when)
	f.printf("commit %s\nmark %s\nauthor %s\ncommitter %s\ndata %d\n%s\n", ref, m, ident, ident, len(msg), msg)
	if from != "" {
		f.printf("from %s\n", from)
	}
	if merge != "" {
		f.printf("merge %s\n", merge)
	}
	for _, c := range changes {
		f.printf("M 100644 %s %s\n", c.blob, c.path)
	}
	f.printf("\n")
	return m
}

func (f *fastImport) tag(name, from string, who person, when int64, msg string) string {
	m := f.next()
	f.printf("tag %s\nmark %s\nfrom %s\ntagger %s <%s> %d +0000\ndata %d\n%s\n",
		name, m, from, who.id.DisplayName, who.email, when, len(msg), msg)
	return m
}
