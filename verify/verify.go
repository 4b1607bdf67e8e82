// Package verify compares an import's archive with its target: every
// repository, branch, tag and pull request of the archive, found where the
// import put it (following its renames), as it is in the archive. It reads
// the target only through model.Reader, so it answers the same for the
// in-process importer, bbimport serve and a real Bitbucket.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"bbimport/archive"
	"bbimport/model"
)

// DefaultConcurrency is how many repositories are compared at once.
const DefaultConcurrency = 8

// Config says what to verify against what.
type Config struct {
	Backend   model.Backend // the jobs, and ProjectExists for the remainder plan
	Reader    model.Reader  // the target
	ImportDir string        // where a job's archive is resolved
	// Archive, when set, is the archive to read instead of the job's
	// (a real Bitbucket does not say which archive a job imported).
	Archive string
	// AnotherArchive compares with Archive although the job recorded
	// another (a round trip: the re-import of an export checked against
	// the original); the size and SHA-256 check is then skipped.
	AnotherArchive bool
	Target         string // the target's location, for the report
	Concurrency    int    // default DefaultConcurrency
	// OpenArchive, when set, opens Archive where it lies instead of on
	// this machine: the target's copy over SFTP, when neither end is here.
	OpenArchive func(name string) (File, error)
}

// File is an archive as verify reads it: an *os.File, or a file on
// another machine (an SFTP file).
type File interface {
	archive.Source
	io.Closer
	Stat() (fs.FileInfo, error)
}

// Verifier is model.Verifier on a backend.
type Verifier struct {
	cfg Config

	mu       sync.Mutex
	projects map[string][]string // fallback: archive key → keys on the target it may have become
}

var _ model.Verifier = (*Verifier)(nil)

// New returns a Verifier for cfg.
func New(cfg Config) *Verifier {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	return &Verifier{cfg: cfg, projects: map[string][]string{}}
}

// Verify compares the archive of jobs[0] with the target, following where
// each of the jobs put its repositories.
func (v *Verifier) Verify(ctx context.Context, jobs ...int64) (model.VerifyReport, error) {
	report := model.VerifyReport{Jobs: jobs, Target: v.cfg.Target, Differences: []model.VerifyDifference{}, Hierarchies: []model.VerifiedHierarchy{}}
	if len(jobs) == 0 {
		return report, errors.New("no job to verify: name the job whose archive to compare")
	}
	name := v.cfg.Archive
	imported := map[int64]int{} // job → repositories it says it imported, -1 when it does not say
	for i, id := range jobs {
		job, err := v.cfg.Backend.Job(ctx, id)
		if err != nil {
			return report, err // the backend's error names the job and where it looked
		}
		if !job.State.Finished() {
			return report, fmt.Errorf("job %d is %s: verify it once it has ended (bbimport status %d)", id, job.State, id)
		}
		if i == 0 && name == "" {
			name = job.Archive
		}
		imported[id] = -1
		if job.Counts != nil {
			imported[id] = job.Counts.Repositories
		}
	}
	if name == "" {
		return report, archiveUnknown(jobs[0])
	}
	report.Archive = name
	f, err := v.open(name)
	if err != nil {
		return report, err
	}
	defer f.Close()
	var recorded *model.ImportedArchive
	if !v.cfg.AnotherArchive {
		if recorded, err = v.recorded(ctx, jobs[0]); err != nil {
			return report, err
		}
	}
	read, check, err := v.checkedRead(f, recorded)
	if err != nil {
		return report, err
	}
	places, err := v.placements(ctx, jobs, imported)
	if err != nil {
		return report, err
	}

	var (
		mu      sync.Mutex
		results = map[int]repoResult{}
	)
	// The archive is read once, in order, while up to Concurrency
	// repositories are compared; the first error stops both.
	gctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var wg sync.WaitGroup
	queue := make(chan *expectedRepo, v.cfg.Concurrency)
	for range v.cfg.Concurrency {
		wg.Go(func() {
			for r := range queue {
				if gctx.Err() != nil {
					continue // drain, so that the reader never blocks
				}
				res, err := v.compareRepository(gctx, r, places)
				if err != nil {
					stop(err)
					continue
				}
				mu.Lock()
				results[r.index] = res
				mu.Unlock()
			}
		})
	}
	order, err := readArchive(gctx, read, func(r *expectedRepo) error {
		queue <- r
		return nil
	})
	close(queue)
	wg.Wait()
	if cause := context.Cause(gctx); cause != nil {
		err = cause // a comparison's error, or the caller's cancel
	}
	if err != nil {
		return report, fmt.Errorf("verify %s: %w", name, err)
	}
	if err := check(ctx); err != nil {
		return report, err
	}
	assemble(&report, order, results)
	return report, nil
}

// open opens the archive named: the --archive override as given (where
// OpenArchive finds it, if set), a job's archive in the import directory
// by Bitbucket's rule.
func (v *Verifier) open(name string) (File, error) {
	if name == v.cfg.Archive && v.cfg.OpenArchive != nil {
		return v.cfg.OpenArchive(name)
	}
	path, err := v.archivePath(name)
	if err != nil {
		return nil, err
	}
	return archive.Open(path, "")
}

// placements maps "KEY/slug" of the archive to where the jobs put it, in
// the order of the jobs; nil when the backend cannot say, and the
// repositories are then found by Bitbucket's rename rules. A job that
// imported repositories but has no placements ran before bbimport recorded
// them: it cannot say either.
func (v *Verifier) placements(ctx context.Context, jobs []int64, imported map[int64]int) (map[string][]model.Placement, error) {
	p, ok := v.cfg.Backend.(model.Placer)
	if !ok {
		return nil, nil
	}
	places := map[string][]model.Placement{}
	for _, id := range jobs {
		list, err := p.Placements(ctx, id)
		if errors.Is(err, model.ErrNotSupported) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read where job %d put the repositories: %w", id, err)
		}
		if len(list) == 0 && imported[id] > 0 {
			return nil, nil
		}
		for _, pl := range list {
			k := pl.ArchiveProject + "/" + pl.ArchiveSlug
			places[k] = append(places[k], pl)
		}
	}
	return places, nil
}

// candidate is a repository on the target that may be an archive's.
type candidate struct {
	job  int64
	repo model.RestRepository
}

func (c candidate) name() string { return c.repo.Project.Key + "/" + c.repo.Slug }

// compareRepository compares r with each repository on the target that
// may be it and keeps the one with the fewest differences: the same
// repository imported by several jobs is present if any holds it whole.
func (v *Verifier) compareRepository(ctx context.Context, r *expectedRepo, places map[string][]model.Placement) (repoResult, error) {
	var cands []candidate
	var err error
	if places != nil {
		cands, err = v.placed(ctx, places[r.name()])
	} else {
		cands, err = v.inferred(ctx, r)
	}
	if err != nil {
		return repoResult{}, err
	}
	best := missingResult(r)
	for _, c := range cands {
		res, err := v.compareAt(ctx, r, c)
		if err != nil {
			return repoResult{}, err
		}
		if best.repo.Status == model.VerifyMissing || len(res.diffs) < len(best.diffs) {
			best = res
		}
		if len(best.diffs) == 0 {
			break
		}
	}
	return best, nil
}

// placed reads the repositories the placements name; one that is gone
// since is no candidate.
func (v *Verifier) placed(ctx context.Context, list []model.Placement) ([]candidate, error) {
	var cands []candidate
	for _, p := range list {
		repo, err := v.cfg.Reader.Repository(ctx, p.Project, p.Slug)
		if errors.Is(err, model.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read repository %s/%s: %w", p.Project, p.Slug, err)
		}
		cands = append(cands, candidate{job: p.Job, repo: repo})
	}
	return cands, nil
}

// inferred finds the repositories r may have become by Bitbucket's rename
// rules, for a target that cannot say where a job put them: every project
// KEY, KEY1, KEY2… that exists (a personal project is reused, never
// renamed), and in each the repository slug, slug-1… that exist, of the
// same kind (an origin is no fork, a fork is one).
func (v *Verifier) inferred(ctx context.Context, r *expectedRepo) ([]candidate, error) {
	keys, err := v.projectKeys(ctx, r.project)
	if err != nil {
		return nil, err
	}
	var cands []candidate
	for _, key := range keys {
		_, err := model.RepositorySlugs.Free(r.slug, func(slug string) (bool, error) {
			repo, err := v.cfg.Reader.Repository(ctx, key, slug)
			if errors.Is(err, model.ErrNotFound) {
				return false, nil
			}
			if err != nil {
				return false, fmt.Errorf("read repository %s/%s: %w", key, slug, err)
			}
			if (repo.Origin != nil) == r.fork {
				cands = append(cands, candidate{repo: repo})
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return cands, nil
}

// projectKeys are the keys on the target that the archive's project key
// may have been imported as, remembered: every repository of a project
// asks.
func (v *Verifier) projectKeys(ctx context.Context, key string) ([]string, error) {
	v.mu.Lock()
	keys, ok := v.projects[key]
	v.mu.Unlock()
	if ok {
		return keys, nil
	}
	exists := func(k string) (bool, error) {
		_, err := v.cfg.Reader.Project(ctx, k)
		if errors.Is(err, model.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read project %s: %w", k, err)
		}
		return true, nil
	}
	if personal(key) {
		ok, err := exists(key)
		if err != nil {
			return nil, err
		}
		if ok {
			keys = []string{key}
		}
	} else {
		_, err := model.ProjectKeys.Free(key, func(k string) (bool, error) {
			ok, err := exists(k)
			if ok {
				keys = append(keys, k)
			}
			return ok, err
		})
		if err != nil {
			return nil, err
		}
	}
	v.mu.Lock()
	v.projects[key] = keys
	v.mu.Unlock()
	return keys, nil
}

// personal says whether a project key is a personal project's (~USER):
// Bitbucket reuses those on import instead of renaming them.
func personal(key string) bool { return strings.HasPrefix(key, "~") }

// assemble builds the report from the repositories' results, in archive
// order, the differences sorted first.
func assemble(report *model.VerifyReport, order []hierarchyOrder, results map[int]repoResult) {
	t := &report.Totals
	for _, h := range order {
		vh := model.VerifiedHierarchy{ID: h.id, Origin: h.origin, Repositories: []model.VerifiedRepository{}}
		var present, missing int
		for _, i := range h.repos {
			res := results[i]
			vh.Repositories = append(vh.Repositories, res.repo)
			report.Differences = append(report.Differences, res.diffs...)
			add(&t.Repositories, res.repo.Status)
			addCount(&t.Refs, res.repo.Refs)
			addCount(&t.PullRequests, res.repo.PullRequests)
			switch res.repo.Status {
			case model.VerifyPresent:
				present++
			case model.VerifyMissing:
				missing++
			}
		}
		switch {
		case present == len(h.repos):
			vh.Status = model.VerifyPresent
		case missing == len(h.repos):
			vh.Status = model.VerifyMissing
		default:
			vh.Status = model.VerifyDiffers
		}
		if vh.Status != model.VerifyPresent {
			d := model.VerifyDifference{Kind: model.VerifyHierarchy, Status: vh.Status, HierarchyID: h.id, Repository: h.origin}
			// Named where its origin is on the target, as its items are.
			for _, r := range vh.Repositories {
				if r.Repository == h.origin {
					d.Target = r.Target
				}
			}
			if vh.Status == model.VerifyDiffers {
				d.Field = model.VerifyChanged
				if vh.Lacking() {
					d.Field = model.VerifyIncomplete
				}
			}
			report.Differences = append(report.Differences, d)
		}
		add(&t.Hierarchies, vh.Status)
		report.Hierarchies = append(report.Hierarchies, vh)
	}
	sortDifferences(report.Differences)
}

func add(c *model.VerifyCount, status string) {
	c.Expected++
	switch status {
	case model.VerifyPresent:
		c.Present++
	case model.VerifyMissing:
		c.Missing++
	default:
		c.Differing++
	}
}

func addCount(c *model.VerifyCount, n model.VerifyCount) {
	c.Expected += n.Expected
	c.Present += n.Present
	c.Missing += n.Missing
	c.Differing += n.Differing
}

// kindRank orders differences: a hierarchy before its repositories, a
// repository before its refs and pull requests.
var kindRank = map[string]int{model.VerifyHierarchy: 0, model.VerifyRepository: 1, model.VerifyRef: 2, model.VerifyPullRequest: 3}

// sortDifferences orders differences by repository, kind, item (pull
// requests by number) and field, so that a report reads the same every
// run.
func sortDifferences(d []model.VerifyDifference) {
	sort.SliceStable(d, func(i, j int) bool {
		a, b := d[i], d[j]
		if a.Repository != b.Repository {
			return a.Repository < b.Repository
		}
		if kindRank[a.Kind] != kindRank[b.Kind] {
			return kindRank[a.Kind] < kindRank[b.Kind]
		}
		if a.Item != b.Item {
			if a.Kind == model.VerifyPullRequest {
				return prNumber(a.Item) < prNumber(b.Item)
			}
			return a.Item < b.Item
		}
		return slices.Index(fields, a.Field) < slices.Index(fields, b.Field)
	})
}

// fields are the fields a difference names, in report order.
var fields = []string{"", "commit", "state", "title", "comments"}

func prNumber(item string) int64 {
	n, _ := strconv.ParseInt(strings.TrimPrefix(item, "#"), 10, 64)
	return n
}

// archiveUnknown is a job that does not name its archive; it matches
// model.ErrArchiveUnknown, so that a console can say what to do instead.
type archiveUnknown int64

func (e archiveUnknown) Error() string {
	return fmt.Sprintf("job %d does not say which archive it imported; name it with --archive FILE", int64(e))
}

func (archiveUnknown) Is(target error) bool { return target == model.ErrArchiveUnknown }
