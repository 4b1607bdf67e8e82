package verify

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"bbimport/archive/gen"
	"bbimport/importer"
	"bbimport/internal/realshape"
	"bbimport/model"
)

// small has two fork hierarchies per project, each an origin and a fork
// (in a personal project or the origin's), with pull requests, comments,
// branches and annotated tags.
var small = gen.Options{Projects: 1, Repos: 2, Forks: 1, PRs: 4, Commits: 2, Seed: 7}

// instance is an instance home with one generated archive in its import
// directory, imported n times in-process.
type instance struct {
	in    *importer.Instance
	home  string
	stats gen.Stats
}

func imported(t *testing.T, opts gen.Options, n int) instance {
	t.Helper()
	ctx := context.Background()
	home := t.TempDir()
	dir := filepath.Join(home, "shared", "data", "migration", "import")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stats, err := gen.GenerateFile(ctx, filepath.Join(dir, "export.tar"), opts)
	if err != nil {
		t.Fatal(err)
	}
	in, err := importer.Open(importer.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	for range n {
		job, err := in.Start(ctx, "export.tar")
		if err != nil {
			t.Fatal(err)
		}
		if job, err = in.Wait(ctx, job.ID); err != nil || job.State != model.StateCompleted {
			t.Fatalf("import: %v, %+v", err, job)
		}
	}
	return instance{in: in, home: home, stats: stats}
}

// verifier verifies against inst through backend (the importer, or a
// wrapper of it).
func (inst instance) verifier(backend model.Backend) *Verifier {
	return New(Config{Backend: backend, Reader: inst.in, ImportDir: inst.in.ImportDir(), Target: inst.home, Concurrency: 3})
}

// noPlacer hides the importer's placements, if it has any: a real
// Bitbucket cannot say where a job put the repositories.
type noPlacer struct{ model.Backend }

// placer says where each job put the repositories, as a Placer would.
type placer struct {
	model.Backend
	places map[int64][]model.Placement
}

func (p placer) Placements(_ context.Context, job int64) ([]model.Placement, error) {
	return p.places[job], nil
}

func TestCompleteImportVerifiesComplete(t *testing.T) {
	inst := imported(t, small, 1)
	for name, b := range map[string]model.Backend{"as the backend says": inst.in, "by the rename rules": noPlacer{inst.in}} {
		t.Run(name, func(t *testing.T) {
			r, err := inst.verifier(b).Verify(context.Background(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Complete() || len(r.Differences) != 0 {
				t.Fatalf("differences: %+v", r.Differences)
			}
			tt := r.Totals
			if tt.Hierarchies != (model.VerifyCount{Expected: inst.stats.Hierarchies, Present: inst.stats.Hierarchies}) ||
				tt.Repositories != (model.VerifyCount{Expected: inst.stats.Repositories, Present: inst.stats.Repositories}) ||
				tt.PullRequests != (model.VerifyCount{Expected: inst.stats.PullRequests, Present: inst.stats.PullRequests}) ||
				tt.Refs.Expected == 0 || tt.Refs.Present != tt.Refs.Expected {
				t.Errorf("totals %+v, archive %+v", tt, inst.stats)
			}
			if r.Archive != "export.tar" || len(r.Hierarchies) != inst.stats.Hierarchies || r.Hierarchies[0].Repositories[0].Target == "" {
				t.Errorf("report %+v", r)
			}
		})
	}
}

// git runs git in dir and returns its output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// repoDir is the bare repository of KEY/slug under the home.
func repoDir(t *testing.T, inst instance, key, slug string) string {
	t.Helper()
	r, err := inst.in.Repository(context.Background(), key, slug)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(inst.home, "shared", "data", "repositories", strconv.FormatInt(r.ID, 10))
}

// firstOrigin is the archive's first origin repository on the target, as
// the report names it.
func firstOrigin(t *testing.T, r model.VerifyReport) (key, slug string) {
	t.Helper()
	key, slug, _ = strings.Cut(r.Hierarchies[0].Origin, "/")
	return key, slug
}

func TestMovedAndDeletedRefsAreReported(t *testing.T) {
	ctx := context.Background()
	inst := imported(t, small, 1)
	v := inst.verifier(inst.in)
	before, err := v.Verify(ctx, 1)
	if err != nil || !before.Complete() {
		t.Fatalf("before: %v %+v", err, before.Differences)
	}
	key, slug := firstOrigin(t, before)
	dir := repoDir(t, inst, key, slug)
	branch := git(t, dir, "symbolic-ref", "HEAD")
	was := git(t, dir, "rev-parse", branch)
	now := git(t, dir, "rev-parse", branch+"~1")
	git(t, dir, "update-ref", branch, now)
	tag := "refs/tags/" + strings.Fields(git(t, dir, "tag"))[0]
	tagWas := git(t, dir, "rev-parse", tag)
	git(t, dir, "update-ref", "-d", tag)
	git(t, dir, "update-ref", "refs/heads/extra-on-the-target", now) // no difference

	// Through the importer's one read of all refs, and through the lists
	// of branches and tags that any Bitbucket answers.
	for _, reader := range []model.Reader{inst.in, listsOnly{inst.in}} {
		v := New(Config{Backend: inst.in, Reader: reader, ImportDir: inst.in.ImportDir()})
		r, err := v.Verify(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		expectRefDifferences(t, r, before, key+"/"+slug, branch, was, now, tag, tagWas)
	}

	// A tag missing: the hierarchy goes into a remainder. Only a branch
	// moved: it does not, a second copy would add nothing.
	r, err := v.Verify(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if plan, err := v.PlanRemainder(ctx, r); err != nil || !slices.Equal(plan.Hierarchies, []string{r.Hierarchies[0].ID}) {
		t.Errorf("remainder with a tag missing: %v %+v", err, plan)
	}
	git(t, dir, "update-ref", tag, tagWas)
	if r, err = v.Verify(ctx, 1); err != nil || len(r.Differences) != 2 {
		t.Fatalf("only the branch moved: %v %+v", err, r.Differences)
	}
	if plan, err := v.PlanRemainder(ctx, r); err != nil || len(plan.Hierarchies) != 0 || len(plan.Projects) != 0 {
		t.Errorf("remainder with only a branch moved: %v %+v", err, plan)
	}
}

// listsOnly is the target read through Reader's methods only.
type listsOnly struct{ model.Reader }

func expectRefDifferences(t *testing.T, r, before model.VerifyReport, name, branch, was, now, tag, tagWas string) {
	t.Helper()
	want := []model.VerifyDifference{
		{Kind: model.VerifyHierarchy, Status: model.VerifyDiffers, HierarchyID: r.Hierarchies[0].ID, Repository: name, Target: name, Field: model.VerifyIncomplete},
		{Kind: model.VerifyRef, Status: model.VerifyDiffers, HierarchyID: r.Hierarchies[0].ID, Repository: name, Target: name, Item: branch, Field: "commit", Expected: was, Found: now},
		{Kind: model.VerifyRef, Status: model.VerifyMissing, HierarchyID: r.Hierarchies[0].ID, Repository: name, Target: name, Item: tag, Expected: tagWas},
	}
	if branch > tag { // sorted by item
		want[1], want[2] = want[2], want[1]
	}
	if !slices.Equal(r.Differences, want) {
		t.Errorf("differences\n got %+v\nwant %+v", r.Differences, want)
	}
	refs := before.Totals.Refs
	if r.Totals.Refs != (model.VerifyCount{Expected: refs.Expected, Present: refs.Expected - 2, Missing: 1, Differing: 1}) ||
		r.Totals.Hierarchies.Differing != 1 || r.Hierarchies[0].Status != model.VerifyDiffers || r.Hierarchies[0].Repositories[0].Status != model.VerifyDiffers {
		t.Errorf("totals %+v, first hierarchy %+v", r.Totals, r.Hierarchies[0])
	}
}

// countsReader is the target with one pull request's comment count off by
// one, as a server that sends properties would show it.
type countsReader struct{ model.Reader }

func (c countsReader) ListPullRequests(ctx context.Context, key, slug string, q model.PullRequestQuery, start, limit int) (model.Page[model.RestPullRequest], error) {
	p, err := c.Reader.ListPullRequests(ctx, key, slug, q, start, limit)
	for i := range p.Values {
		p.Values[i].Properties = &model.RestPullRequestProperties{}
	}
	return p, err
}

func TestCommentCountFromPropertiesIsCompared(t *testing.T) {
	inst := imported(t, small, 1)
	v := New(Config{Backend: inst.in, Reader: countsReader{inst.in}, ImportDir: inst.in.ImportDir()})
	r, err := v.Verify(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range r.Differences {
		if d.Kind == model.VerifyPullRequest {
			if d.Field != "comments" || d.Found != "0" || d.Expected == "0" {
				t.Errorf("difference %+v", d)
			}
			n++
		}
	}
	if n == 0 || r.Totals.PullRequests.Differing != n {
		t.Errorf("%d comment differences; totals %+v", n, r.Totals.PullRequests)
	}
}

// TestRenamedProjectIsFollowed imports the archive twice: the second job
// puts every normal project under KEY1.
func TestRenamedProjectIsFollowed(t *testing.T) {
	ctx := context.Background()
	inst := imported(t, small, 2)
	first, err := inst.verifier(noPlacer{inst.in}).Verify(ctx, 1)
	if err != nil || !first.Complete() {
		t.Fatalf("job 1: %v %+v", err, first.Differences)
	}
	// Where each job put each repository, as the importer records it.
	places := map[int64][]model.Placement{}
	for _, h := range first.Hierarchies {
		for _, r := range h.Repositories {
			key, slug, _ := strings.Cut(r.Repository, "/")
			renamed := key + "1"
			if strings.HasPrefix(key, "~") {
				renamed = key // personal projects are reused: the fork is slug-1
			}
			p := model.Placement{ArchiveProject: key, ArchiveSlug: slug, HierarchyID: h.ID}
			p1, p2 := p, p
			p1.Job, p1.Project, p1.Slug = 1, key, slug
			p2.Job, p2.Project, p2.Slug = 2, renamed, slug
			if renamed == key {
				p2.Slug = slug + "-1"
			}
			places[1], places[2] = append(places[1], p1), append(places[2], p2)
		}
	}
	key, slug := firstOrigin(t, first)
	// Job 1's copy moves on; job 2's stays as imported.
	dir := repoDir(t, inst, key, slug)
	branch := git(t, dir, "symbolic-ref", "HEAD")
	git(t, dir, "update-ref", branch, git(t, dir, "rev-parse", branch+"~1"))

	v := inst.verifier(placer{inst.in, places})
	second, err := v.Verify(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Complete() {
		t.Fatalf("job 2: %+v", second.Differences)
	}
	if got := second.Hierarchies[0].Repositories[0]; got.Target != key+"1/"+slug || got.Job != 2 {
		t.Errorf("job 2 placed %s/%s at %+v", key, slug, got)
	}
	r, err := v.Verify(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Differences) != 2 || r.Differences[1].Item != branch || r.Differences[1].Target != key+"/"+slug {
		t.Errorf("job 1: %+v", r.Differences)
	}
	// With both jobs, job 2's whole copy counts.
	if both, err := v.Verify(ctx, 1, 2); err != nil || !both.Complete() || both.Hierarchies[0].Repositories[0].Job != 2 {
		t.Errorf("jobs 1 and 2: %v %+v", err, both.Differences)
	}
}

func TestPlanRemainderNamesRenamedKeys(t *testing.T) {
	ctx := context.Background()
	inst := imported(t, small, 1)
	v := inst.verifier(inst.in)
	r, err := v.Verify(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	// As if the second hierarchy had not arrived and the first were partial.
	r.Hierarchies[0].Status = model.VerifyDiffers
	r.Hierarchies[0].Repositories[0].PullRequests.Missing = 1
	r.Hierarchies[1].Status = model.VerifyMissing
	for i := range r.Hierarchies[1].Repositories {
		r.Hierarchies[1].Repositories[i].Status = model.VerifyMissing
	}
	plan, err := v.PlanRemainder(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plan.Hierarchies, []string{r.Hierarchies[0].ID, r.Hierarchies[1].ID}) || !slices.Equal(plan.Incomplete, []string{r.Hierarchies[0].ID}) {
		t.Errorf("plan %+v", plan)
	}
	if plan.Repositories != inst.stats.Repositories || plan.PullRequests != inst.stats.PullRequests {
		t.Errorf("plan counts %d, %d; archive %+v", plan.Repositories, plan.PullRequests, inst.stats)
	}
	normal, personal := 0, 0
	for _, p := range plan.Projects {
		switch {
		case p.Personal && p.ImportAs == p.Key:
			personal++
		case !p.Personal && p.ImportAs == p.Key+"1":
			normal++
		default:
			t.Errorf("project %+v", p)
		}
	}
	if normal != 1 || personal == 0 {
		t.Errorf("projects %+v", plan.Projects)
	}
}

func TestVerifyRefusesWithoutAnArchive(t *testing.T) {
	inst := imported(t, small, 1)
	v := New(Config{Backend: inst.in, Reader: inst.in}) // no import directory
	if _, err := v.Verify(context.Background(), 1); err == nil || !strings.Contains(err.Error(), "--archive FILE") {
		t.Errorf("no import directory: %v", err)
	}
	if _, err := v.Verify(context.Background(), 9); err == nil || !strings.Contains(err.Error(), "job 9") {
		t.Errorf("unknown job: %v", err)
	}
}

// An archive in the shapes of a real export (internal/realshape: a stacked
// MERGED without hash, loose lightweight and annotated tags, stash refs,
// reflogs) verifies complete once imported.
func TestRealShapesVerifyComplete(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	fx, err := realshape.Build(ctx, t.TempDir(), 2)
	if err != nil {
		t.Fatal(err)
	}
	in, err := importer.Open(importer.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	if err := os.Rename(fx.Path, filepath.Join(in.ImportDir(), "export.tar")); err != nil {
		t.Fatal(err)
	}
	job, err := in.Start(ctx, "export.tar")
	if err != nil {
		t.Fatal(err)
	}
	if job, err = in.Wait(ctx, job.ID); err != nil || job.State != model.StateCompleted {
		t.Fatalf("import: %v, %+v", err, job)
	}
	inst := instance{in: in, home: home}
	r, err := inst.verifier(in).Verify(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := model.VerifyCount{Expected: 5, Present: 5}
	if !r.Complete() || len(r.Differences) != 0 || r.Totals.PullRequests != want || r.Totals.Refs.Expected == 0 ||
		r.Totals.Refs.Present != r.Totals.Refs.Expected {
		t.Fatalf("totals %+v, differences %+v", r.Totals, r.Differences)
	}
}
