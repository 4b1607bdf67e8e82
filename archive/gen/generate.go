package gen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"bbimport/archive"
	"bbimport/model"
)

// Options say what archive Generate writes. Counts are per parent: Repos
// per project, Forks per origin repository, PRs and Commits per repository.
type Options struct {
	Projects int // normal projects; personal projects (~USER) come with forks
	Repos    int // origin repositories per normal project; each is a fork hierarchy
	Forks    int // forks per origin, alternately into a personal project and the origin's project
	PRs      int // pull requests per repository, forks included
	Commits  int // commits on the default branch of each origin; forks add forkCommits of their own
	BlobKiB  int // size of the random blob each default-branch commit adds (0: none)
	Seed     int64

	// ProjectKeys, when set, are the keys of the first normal projects, in
	// order (tests use it to make two archives collide); the others are
	// drawn from the seed.
	ProjectKeys []string

	// TempDir is where repositories are built (default: the system's).
	TempDir string
	// Parallel is how many fork hierarchies are built at once, and how
	// many goroutines encode and compress members (default: the number of
	// CPUs, at most 4). Output does not depend on it.
	Parallel int

	// Hostile makes every repository's git data try to run a command that
	// creates HostileMarker: a config with core.fsmonitor, core.hooksPath,
	// core.alternateRefsCommand and a filter.x smudge/clean driver (and a
	// .gitattributes that applies it to every file), and executable hooks
	// in both the hooks tar and the metadata tar. An importer passes if the
	// marker never appears.
	Hostile       bool
	HostileMarker string
	// CorruptPullRequest, when not 0, is the id of a pull request of the
	// first repository whose activities member holds invalid JSON.
	CorruptPullRequest int64
	// DropObjects leaves some objects out of the first repository's objects
	// tar (Stats.DroppedObjects lists them): its refs are then broken.
	DropObjects bool
	// Packed writes every repository's objects as a pack with its index,
	// however few they are (by default small repositories are loose, as
	// real ones are until git gc packs them).
	Packed bool
	// DamagePack packs the first repository's objects and flips one byte
	// in the middle of the pack, keeping the index written for the good
	// pack; DamageObject makes the first repository's objects loose and
	// gives its README blob other content under the same name. Either way
	// Stats.Damaged names what was spoiled, as the objects tar names it.
	DamagePack   bool
	DamageObject bool

	// ArchiveVersion is the archiveVersion to write: 2 (also for 0), as
	// Data Center 8.x and 9.x write it, or 1, as 5.13 to 7.x do: instance
	// details of 6.1.1, and project JSON without "description" when the
	// project has none. Everything else is the same in both.
	ArchiveVersion int
	// UnknownFields adds fields that bbimport does not read, as a newer
	// Bitbucket would: "id" on every activity record, "version" on every
	// comment and reply, "locked" in pull request metadata (see extraFields).
	UnknownFields bool

	// observe, when set, sees every decoded value Generate writes, by
	// member name; the round-trip test compares it with what the reader
	// returns.
	observe func(name string, v any)
}

// DefaultOptions is a small archive with every feature: two projects, three
// hierarchies each with one fork, ten pull requests per repository.
func DefaultOptions() Options {
	return Options{Projects: 2, Repos: 3, Forks: 1, PRs: 10, Commits: 20, BlobKiB: 4, Seed: 1}
}

// Stats is what Generate wrote, for tests to compare with what reading or
// importing the archive finds.
type Stats struct {
	Projects            int // normal and personal
	PersonalProjects    int
	Hierarchies         int
	Repositories        int // origins and forks
	Forks               int
	PullRequests        int
	PullRequestsByState map[string]int // OPEN, MERGED, DECLINED
	Drafts              int
	Stacked             int // MERGED by the pull request built on them: no merge commit, no "hash"
	Activities          int
	Comments            int // every comment and reply, tasks included
	Tasks               int // BLOCKER comments
	Users               int // distinct user ids the archive names
	Members             int // outer tar entries
	MembersByKind       map[archive.Kind]int
	GitBytes            int64 // outer bytes of git metadata, hooks and objects members
	Bytes               int64 // the whole archive
	DroppedObjects      []string
	Damaged             string // pack or loose object spoiled by DamagePack or DamageObject
}

func (o Options) validate() error {
	for _, c := range []struct {
		name string
		n    int
	}{{"projects", o.Projects}, {"repos", o.Repos}, {"forks", o.Forks}, {"prs", o.PRs}, {"blob-kib", o.BlobKiB}} {
		if c.n < 0 {
			return fmt.Errorf("%s is %d: it must be 0 or more", c.name, c.n)
		}
	}
	if o.Commits < 1 {
		return fmt.Errorf("commits is %d: every repository needs at least 1", o.Commits)
	}
	if o.ArchiveVersion != 0 && !model.ArchiveVersionSupported(o.ArchiveVersion) {
		return fmt.Errorf("archive version is %d: it must be %d or %d", o.ArchiveVersion, model.OldestArchiveVersion, model.NewestArchiveVersion)
	}
	if o.Hostile && o.HostileMarker == "" {
		return errors.New("a hostile archive needs a marker path: set HostileMarker")
	}
	return nil
}

// GenerateFile writes the archive to path.tmp, then renames it to path, so
// that no half-written archive ever has the final name.
func GenerateFile(ctx context.Context, path string, opts Options) (Stats, error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return Stats{}, fmt.Errorf("create archive: %w", err)
	}
	st, err := Generate(ctx, f, opts)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", tmp, cerr)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return Stats{}, err
	}
	return st, nil
}

// Generate writes a whole archive to w.
func Generate(ctx context.Context, w io.Writer, opts Options) (Stats, error) {
	if err := opts.validate(); err != nil {
		return Stats{}, err
	}
	root, err := os.MkdirTemp(opts.TempDir, "bbimport-gen-")
	if err != nil {
		return Stats{}, fmt.Errorf("make a directory to build repositories in: %w", err)
	}
	defer os.RemoveAll(root)

	g := &generator{opts: opts, people: newPeople(opts.Seed), users: map[string]bool{},
		stats: Stats{PullRequestsByState: map[string]int{}}}
	g.plan()
	g.out = NewWriter(w)
	workers := g.parallel()
	g.pipe = newPipeline(g.out, workers)
	piped := false
	defer func() {
		if !piped {
			g.pipe.close() //nolint:errcheck // an earlier error is reported
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	builds := g.startBuilds(ctx, root, workers)
	defer func() {
		cancel()
		builds.wait()
	}()

	g.writeInstance()
	for _, p := range g.projects {
		g.writeProject(p)
		for _, h := range p.hierarchies {
			built, err := builds.result(ctx, h.index)
			if err == nil {
				err = g.pipe.failure()
			}
			if err != nil {
				return Stats{}, err
			}
			g.writeHierarchy(h, built)
			g.pipe.afterwards(func() { builds.done(h.index) })
		}
	}
	piped = true
	if err := g.pipe.close(); err != nil {
		return Stats{}, err
	}
	if err := g.out.Close(); err != nil {
		return Stats{}, err
	}
	counts := g.out.Counts()
	g.stats.Members = counts.Members
	g.stats.MembersByKind = counts.ByKind
	g.stats.GitBytes = counts.GitBytes
	g.stats.Bytes = g.out.Bytes()
	g.stats.Users = len(g.users)
	return g.stats, nil
}

// parallel is how many hierarchies are built at once, and how many
// goroutines make members' bytes.
func (g *generator) parallel() int {
	if g.opts.Parallel > 0 {
		return g.opts.Parallel
	}
	return min(runtime.NumCPU(), 4)
}

// generator holds one Generate run.
type generator struct {
	opts        Options
	people      people
	projects    []*projectPlan // normal projects, in archive order
	hierarchies []*hierarchyPlan
	out         *Writer
	pipe        *pipeline // writes to out; only the pipeline's writer touches out until it closes
	stats       Stats
	users       map[string]bool
	commentID   int
}

type projectPlan struct {
	model.Project
	permissions []model.Permission
	hierarchies []*hierarchyPlan
}

type hierarchyPlan struct {
	index    int
	id       string
	personal []*projectPlan // personal projects first used by this hierarchy
	repos    []*repoPlan    // origin first
}

type repoPlan struct {
	model.Repository
	project     *projectPlan
	ordinal     int // 0 for the first repository of the archive
	origin      *repoPlan
	permissions []model.Permission
	lfs         model.GitLFSSettings
}

// plan lays out projects, hierarchies and repositories with their ids:
// cheap, sequential, before any git work.
func (g *generator) plan() {
	r := newRand(g.opts.Seed, streamPlan, 2)
	words := r.Perm(len(projectWords))
	nextProject, nextRepo, ordinal, forks := 1, 1, 0, 0
	personal := map[string]*projectPlan{}
	personalSlugs := map[string]map[string]bool{}
	for pi := range g.opts.Projects {
		word := projectWords[words[pi%len(words)]]
		key := projectKey(word, pi/len(words))
		if pi < len(g.opts.ProjectKeys) {
			key = g.opts.ProjectKeys[pi]
		}
		admin := g.people.users[r.IntN(len(g.people.users))]
		writers := g.people.pick(r, 2, admin)
		p := &projectPlan{
			Project: model.Project{ID: strconv.Itoa(nextProject), Key: key, Name: word + " " + strconv.Itoa(pi+1),
				Description: "The " + word + " team's repositories.", Public: r.IntN(5) == 0},
			permissions: []model.Permission{
				{Groups: []string{}, Permission: "PROJECT_ADMIN", UserIDs: []string{admin.String()}},
				{Groups: []string{"developers"}, Permission: "PROJECT_WRITE", UserIDs: userStrings(writers)},
				{Groups: []string{"stash-users"}, Permission: "PROJECT_READ", UserIDs: []string{}},
			},
		}
		nextProject++
		g.projects = append(g.projects, p)
		for ri := range g.opts.Repos {
			slug := repoWords[ri%len(repoWords)]
			if ri >= len(repoWords) {
				slug += strconv.Itoa(ri/len(repoWords) + 1)
			}
			h := &hierarchyPlan{index: len(g.hierarchies), id: hexID(r, 20)}
			origin := g.newRepo(r, p, h, slug, nil, &nextRepo, &ordinal)
			for fi := range g.opts.Forks {
				if forks%2 == 0 {
					owner := g.people.users[r.IntN(len(g.people.users))]
					pp := personal[owner.id.Slug]
					if pp == nil {
						pp = &projectPlan{Project: model.Project{ID: strconv.Itoa(nextProject),
							Key: "~" + strings.ToUpper(owner.id.Slug), Name: owner.id.DisplayName,
							Description: "", Type: personalProjectType}, permissions: []model.Permission{}}
						nextProject++
						personal[owner.id.Slug] = pp
						personalSlugs[owner.id.Slug] = map[string]bool{}
						h.personal = append(h.personal, pp)
					}
					fslug := slug
					if personalSlugs[owner.id.Slug][fslug] {
						fslug += "-" + strings.ToLower(p.Key)
					}
					personalSlugs[owner.id.Slug][fslug] = true
					g.newRepo(r, pp, h, fslug, origin, &nextRepo, &ordinal)
				} else {
					g.newRepo(r, p, h, slug+"-fork"+strconv.Itoa(fi+1), origin, &nextRepo, &ordinal)
				}
				forks++
			}
			g.hierarchies = append(g.hierarchies, h)
			p.hierarchies = append(p.hierarchies, h)
		}
	}
}

// personalProjectType is Bitbucket's ProjectType.PERSONAL (NORMAL is 0).
const personalProjectType = 1

func (g *generator) newRepo(r *rand.Rand, p *projectPlan, h *hierarchyPlan, slug string,
	origin *repoPlan, nextRepo, ordinal *int) *repoPlan {
	repo := &repoPlan{
		Repository: model.Repository{Forkable: true, HierarchyID: h.id, ID: strconv.Itoa(*nextRepo), Name: slug,
			ProjectID: p.ID, Public: r.IntN(5) == 0, ScmID: "git", Slug: slug},
		project: p, ordinal: *ordinal, origin: origin,
		permissions: []model.Permission{},
		lfs:         model.GitLFSSettings{Enabled: *ordinal%4 == 3},
	}
	if origin != nil {
		repo.OriginID = origin.ID
	}
	if *ordinal%2 == 1 {
		u := g.people.users[r.IntN(len(g.people.users))]
		repo.permissions = []model.Permission{{Groups: []string{}, Permission: "REPO_WRITE", UserIDs: []string{u.String()}}}
	}
	*nextRepo++
	*ordinal++
	h.repos = append(h.repos, repo)
	return repo
}

func userStrings(ps []person) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func hexID(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

// archiveVersion is the archiveVersion Generate writes.
func (g *generator) archiveVersion() int {
	if g.opts.ArchiveVersion == 0 {
		return model.NewestArchiveVersion
	}
	return g.opts.ArchiveVersion
}

// instanceDetails is what a Data Center 9.4.18 node writes, or a 6.1.1 one
// for archiveVersion 1; the node id is drawn from the seed.
func (g *generator) instanceDetails() model.InstanceDetails {
	r := newRand(g.opts.Seed, streamPlan, 3)
	h := hexID(r, 32)
	d := model.InstanceDetails{ArchiveVersion: g.archiveVersion(), BuildVersion: "9004018",
		DataCenter: true, InstanceName: "Bitbucket", Product: "Bitbucket Data Center", Version: "9.4.18",
		NodeID: h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]}
	if d.ArchiveVersion == 1 {
		d.BuildVersion, d.Version = "6001001", "6.1.1"
	}
	return d
}

// addJSON queues v, in the shape of the archive's version, and shows it
// to the round-trip observer as the model value it is.
func (g *generator) addJSON(kind archive.Kind, ids archive.IDs, v any, pretty bool) {
	name := archive.MemberName(kind, ids)
	if g.opts.observe != nil {
		g.opts.observe(name, v)
	}
	g.pipe.add(name, func() ([]byte, error) {
		v, err := g.shape(kind, v)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", name, err)
		}
		return jsonMember(name, v, pretty)
	})
}

// addTar queues an inner tar; an objects tar, streamed from disk, is
// written by the pipeline's writer itself.
func (g *generator) addTar(kind archive.Kind, ids archive.IDs, files []File) {
	name := archive.MemberName(kind, ids)
	if g.opts.observe != nil {
		g.opts.observe(name, files)
	}
	if kind == archive.KindGitObjects {
		g.pipe.then(func(w *Writer) error { return w.AddTar(kind, ids, files) })
		return
	}
	g.pipe.add(name, func() ([]byte, error) { return tarMember(name, files) })
}

func (g *generator) addRaw(name string) {
	g.pipe.then(func(w *Writer) error { return w.AddRaw(name, nil) })
}

func (g *generator) writeInstance() {
	g.addJSON(archive.KindInstanceDetails, archive.IDs{}, g.instanceDetails(), false)
}

// allPermissions is all-permissions.json, the flags of the exporting user
// on the project. Its real shape was never seen whole; the reader keeps it raw.
var allPermissions = map[string]bool{"PROJECT_ADMIN": true, "PROJECT_READ": true, "PROJECT_WRITE": true,
	"REPO_ADMIN": true, "REPO_READ": true, "REPO_WRITE": true}

func (g *generator) writeProject(p *projectPlan) {
	ids := archive.IDs{Project: p.ID}
	g.addJSON(archive.KindProject, ids, p.Project, false)
	g.addJSON(archive.KindProjectAllPermissions, ids, allPermissions, false)
	g.addJSON(archive.KindProjectPermissions, ids, p.permissions, false)
	g.stats.Projects++
	if p.Personal() {
		g.stats.PersonalProjects++
	}
	g.noteUsers(p.permissions)
}

func (g *generator) noteUsers(perms []model.Permission) {
	for _, p := range perms {
		for _, u := range p.UserIDs {
			g.users[u] = true
		}
	}
}

func (g *generator) writeHierarchy(h *hierarchyPlan, built []*builtRepo) {
	for _, p := range h.personal {
		g.writeProject(p)
	}
	marker := archive.IDs{Hierarchy: h.id}
	g.addRaw(archive.MemberName(archive.KindHierarchyBegin, marker))
	for i, repo := range h.repos {
		g.writeRepository(repo, built[i])
	}
	g.stats.Hierarchies++
	g.addRaw(archive.MemberName(archive.KindHierarchyEnd, marker))
}

func (g *generator) writeRepository(repo *repoPlan, b *builtRepo) {
	ids := archive.IDs{Project: repo.ProjectID, Repository: repo.ID}
	g.addJSON(archive.KindRepository, ids, repo.Repository, false)
	g.addJSON(archive.KindRepositoryPermissions, ids, repo.permissions, false)
	g.addTar(archive.KindGitMetadata, ids, b.metadata)
	g.addTar(archive.KindGitHooks, ids, b.hooks)
	g.addTar(archive.KindGitObjects, ids, b.objects)
	g.addJSON(archive.KindLFSSettings, ids, repo.lfs, false)
	g.noteUsers(repo.permissions)
	g.stats.Repositories++
	if repo.origin != nil {
		g.stats.Forks++
	}
	if repo.ordinal == 0 {
		g.stats.DroppedObjects, g.stats.Damaged = b.dropped, b.damaged
	}
	social := newRand(g.opts.Seed, streamSocial, uint64(repo.ordinal))
	for _, pg := range b.pulls {
		g.writePullRequest(repo, pg, social)
	}
}

// builds runs the git work of hierarchies ahead of the writer, at most
// Parallel at once, each in its own directory that is removed once written.
type builds struct {
	results []chan buildResult
	slots   chan struct{}
	dirs    []string
	wg      sync.WaitGroup
}

type buildResult struct {
	repos []*builtRepo
	err   error
}

func (g *generator) startBuilds(ctx context.Context, root string, n int) *builds {
	b := &builds{results: make([]chan buildResult, len(g.hierarchies)), slots: make(chan struct{}, n),
		dirs: make([]string, len(g.hierarchies))}
	for i := range b.results {
		b.results[i] = make(chan buildResult, 1)
		b.dirs[i] = filepath.Join(root, strconv.Itoa(i))
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for i, h := range g.hierarchies {
			select {
			case b.slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				repos, err := g.buildHierarchy(ctx, h, b.dirs[i])
				b.results[i] <- buildResult{repos, err}
			}()
		}
	}()
	return b
}

func (b *builds) result(ctx context.Context, i int) ([]*builtRepo, error) {
	select {
	case r := <-b.results[i]:
		return r.repos, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// done frees hierarchy i's slot and disk once it is in the archive; the
// pipeline's writer calls it.
func (b *builds) done(i int) {
	os.RemoveAll(b.dirs[i])
	<-b.slots
}

// wait waits for builds in flight; callers cancel their context first.
func (b *builds) wait() { b.wg.Wait() }
