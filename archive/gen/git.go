package gen

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"bbimport/model"
)

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
	objs     *objectWriter // its objects and trees, which its forks borrow
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
	merge   string // the merge commit, MERGED only (not stacked)
	// stacked is a MERGED pull request that was merged by the one built
	// on its branch: Bitbucket gives it no merge commit of its own.
	stacked bool
	opened  int64
	closed  int64 // DECLINED and MERGED only
}

func (p pullGit) tip() string { return p.commits[len(p.commits)-1] }

// mergeBase is the merge base of the pull request's tip and target: a
// stacked pull request's tip is in its target.
func (p pullGit) mergeBase() string {
	if p.stacked {
		return p.tip()
	}
	return p.base
}

func (g *generator) buildHierarchy(ctx context.Context, h *hierarchyPlan, dir string) ([]*builtRepo, error) {
	var built []*builtRepo
	for _, repo := range h.repos {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var origin *builtRepo
		if repo.origin != nil {
			origin = built[0]
		}
		b, err := g.buildRepo(repo, filepath.Join(dir, repo.ID+".git", "objects", "pack"), origin)
		if err != nil {
			return nil, fmt.Errorf("build repository %s/%s: %w", repo.project.Key, repo.Slug, err)
		}
		built = append(built, b)
	}
	return built, nil
}

// buildRepo makes a repository's objects, in packDir when they are packed.
func (g *generator) buildRepo(repo *repoPlan, packDir string, origin *builtRepo) (*builtRepo, error) {
	r := newRand(g.opts.Seed, streamGit, uint64(repo.ordinal))
	b := &builtRepo{heads: map[string]string{}}
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
	var (
		looseStore *looseSink
		pack       *packSink
		sink       objectSink
		err        error
	)
	if (loose && !packed) || dropping || damageObject {
		looseStore = newLooseSink()
		sink = looseStore
	} else {
		if pack, err = newPackSink(packDir); err != nil {
			return nil, err
		}
		sink = pack
	}
	var borrowed *objectWriter
	if origin != nil {
		borrowed = origin.objs
	}
	b.objs = newObjectWriter(g.opts.Seed, uint64(repo.ordinal), sink, borrowed)
	readme := g.writeHistory(b.objs, r, repo, b, origin)
	if b.objs.err != nil {
		return nil, b.objs.err
	}
	if looseStore != nil {
		var drop []string
		if dropping {
			drop = []string{b.heads["refs/heads/"+defaultBranch], readme}
		}
		b.objects, b.dropped = looseStore.finish(drop)
	} else if b.objects, err = pack.finish(); err != nil {
		return nil, err
	}
	switch {
	case damageObject:
		b.damaged, err = damageLooseObject(b.objects, readme)
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

// writeHistory makes one repository's history and records in b what it
// made. It returns the id of the README blob.
func (g *generator) writeHistory(fi *objectWriter, r *rand.Rand, repo *repoPlan, b *builtRepo, origin *builtRepo) string {
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
		parent = fi.commit(who, t, fmt.Sprintf("Change %d of %s", k, repo.Name), parent, "", changes)
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
		if p.state != model.PRMerged || p.stacked {
			continue
		}
		p.target = tip
		msg := fmt.Sprintf("Merge pull request #%d in %s/%s from %s to %s\n\n* commit '%s':\n  %s",
			p.id, repo.project.Key, repo.Slug, strings.TrimPrefix(p.branch, "refs/heads/"), defaultBranch, p.tip(), p.title)
		content := fi.blob([]byte(pullText(p.id, p.lines)))
		tip = fi.commit(p.author, p.closed, msg, tip, p.tip(),
			[]fileChange{{path: p.file, blob: content}})
		p.merge = tip
		if i > 0 && b.pulls[i-1].stacked {
			b.pulls[i-1].target = tip
		}
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
func (g *generator) writePullBranches(fi *objectWriter, r *rand.Rand, repo *repoPlan, b *builtRepo, t int64) []pullGit {
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
		if below := len(pulls) - 1; stacks(p, pulls) {
			// Stacked pull requests: this branch is built on the one of the
			// pull request before it, and merging this one merges both.
			pulls[below].stacked, pulls[below].closed = true, p.closed
			p.base, parent = pulls[below].base, pulls[below].tip()
		}
		for j := 1; j <= n; j++ {
			// The first commit is pushed before the pull request opens;
			// later ones rescope it.
			when := p.opened - 1200 + int64(j-1)*1800
			p.lines = 5 * j
			parent = fi.commit(p.author, when, fmt.Sprintf("%s (part %d)", p.title, j), parent, "",
				[]fileChange{{path: p.file, blob: fi.blob([]byte(pullText(id, p.lines)))}})
			p.commits = append(p.commits, parent)
		}
		pulls = append(pulls, p)
	}
	return pulls
}

// stacks reports whether pull request p is built on the branch of the one
// before it: one MERGED pull request in about sixteen (from id 6, every
// fourth id whose predecessor was merged too), so that real instances'
// stacks show up in any archive with a dozen pull requests a repository.
func stacks(p pullGit, before []pullGit) bool {
	if p.state != model.PRMerged || p.id < 6 || p.id%4 != 2 {
		return false
	}
	below := before[len(before)-1]
	return below.state == model.PRMerged && !below.stacked
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

// fileChange sets path to a blob.
type fileChange struct {
	path string
	blob string
}
