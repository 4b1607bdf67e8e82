package verify

import (
	"context"
	"fmt"
	"strconv"

	"bbimport/model"
	"bbimport/wire"
)

// One archive repository compared with one on the target: its refs, then
// its pull requests.

// refsReader is a target that reads all of a repository's refs at once
// (the in-process importer): the same answer as its Branches and Tags, at
// a fraction of the cost.
type refsReader interface {
	RefsAt(ctx context.Context, projectKey, slug string) ([]model.RestBranchOrTag, error)
}

// repoResult is one archive repository as verify found it.
type repoResult struct {
	repo  model.VerifiedRepository
	diffs []model.VerifyDifference
}

// missingResult is r not found on the target.
func missingResult(r *expectedRepo) repoResult {
	return repoResult{
		repo: model.VerifiedRepository{Repository: r.name(), Status: model.VerifyMissing,
			Refs:         model.VerifyCount{Expected: len(r.refs), Missing: len(r.refs)},
			PullRequests: model.VerifyCount{Expected: len(r.prs), Missing: len(r.prs)}},
		diffs: []model.VerifyDifference{{Kind: model.VerifyRepository, Status: model.VerifyMissing, HierarchyID: r.hierarchy, Repository: r.name()}},
	}
}

// compareAt compares r with the repository c on the target.
func (v *Verifier) compareAt(ctx context.Context, r *expectedRepo, c candidate) (repoResult, error) {
	cm := &comparison{r: r, c: c,
		res: repoResult{repo: model.VerifiedRepository{Repository: r.name(), Target: c.name(), Job: c.job}}}
	if err := v.compareRefs(ctx, cm); err != nil {
		return cm.res, err
	}
	if err := v.comparePullRequests(ctx, cm); err != nil {
		return cm.res, err
	}
	res := cm.res
	res.repo.Status = model.VerifyPresent
	if len(res.diffs) > 0 {
		res.repo.Status = model.VerifyDiffers
	}
	return res, nil
}

// comparison is r compared with the repository c on the target: what
// compareAt has found so far.
type comparison struct {
	r   *expectedRepo
	c   candidate
	res repoResult
}

func (cm *comparison) diff(kind, status, item, field, expected, found string) {
	cm.res.diffs = append(cm.res.diffs, model.VerifyDifference{Kind: kind, Status: status, HierarchyID: cm.r.hierarchy,
		Repository: cm.r.name(), Target: cm.c.name(), Item: item, Field: field, Expected: expected, Found: found})
}

// compareRefs compares the archive's refs with the target's: extra refs
// on the target are no difference.
func (v *Verifier) compareRefs(ctx context.Context, cm *comparison) error {
	r, c := cm.r, cm.c
	key, slug := c.repo.Project.Key, c.repo.Slug
	refs := &cm.res.repo.Refs
	refs.Expected = len(r.refs)
	seen := map[string]bool{}
	visitRef := func(b model.RestBranchOrTag) error {
		obj, ok := r.refs[b.ID]
		if !ok {
			return nil
		}
		seen[b.ID] = true
		// An annotated tag: the archive holds the tag object, which the
		// target shows as Hash, the commit as LatestCommit.
		if obj == b.LatestCommit || obj == b.Hash {
			refs.Present++
		} else {
			refs.Differing++
			cm.diff(model.VerifyRef, model.VerifyDiffers, b.ID, "commit", obj, b.LatestCommit)
		}
		return nil
	}
	if all, ok := v.cfg.Reader.(refsReader); ok {
		list, err := all.RefsAt(ctx, key, slug)
		if err != nil {
			return fmt.Errorf("read the refs of %s: %w", c.name(), err)
		}
		for _, b := range list {
			_ = visitRef(b)
		}
	} else {
		for prefix, list := range map[string]func(context.Context, string, string, model.RefQuery, int, int) (model.Page[model.RestBranchOrTag], error){
			"refs/heads/": v.cfg.Reader.Branches, "refs/tags/": v.cfg.Reader.Tags,
		} {
			if !r.has(prefix) {
				continue // nothing to compare: a list less to read
			}
			_, err := wire.Each(ctx, 0, func(ctx context.Context, start int) (model.Page[model.RestBranchOrTag], error) {
				return list(ctx, key, slug, model.RefQuery{}, start, wire.MaxLimit)
			}, visitRef)
			if err != nil {
				return fmt.Errorf("read the refs of %s: %w", c.name(), err)
			}
		}
	}
	for name, obj := range r.refs {
		if !seen[name] {
			refs.Missing++
			cm.diff(model.VerifyRef, model.VerifyMissing, name, "", obj, "")
		}
	}
	return nil
}

// comparePullRequests compares the archive's pull requests with the
// target's by id: extra ones on the target are no difference.
func (v *Verifier) comparePullRequests(ctx context.Context, cm *comparison) error {
	r, c := cm.r, cm.c
	key, slug := c.repo.Project.Key, c.repo.Slug
	prs := &cm.res.repo.PullRequests
	prs.Expected = len(r.prs)
	found := map[int64]bool{}
	_, err := wire.Each(ctx, 0, func(ctx context.Context, start int) (model.Page[model.RestPullRequest], error) {
		return v.cfg.Reader.ListPullRequests(ctx, key, slug, model.PullRequestQuery{State: model.PRStateAll, Order: model.OrderOldest}, start, wire.MaxLimit)
	}, func(pr model.RestPullRequest) error {
		want, ok := r.prs[pr.ID]
		if !ok || found[pr.ID] {
			return nil
		}
		found[pr.ID] = true
		item := "#" + strconv.FormatInt(pr.ID, 10)
		n := len(cm.res.diffs)
		if pr.State != want.state {
			cm.diff(model.VerifyPullRequest, model.VerifyDiffers, item, "state", want.state, pr.State)
		}
		if pr.Title != want.title {
			cm.diff(model.VerifyPullRequest, model.VerifyDiffers, item, "title", want.title, pr.Title)
		}
		comments, err := v.comments(ctx, key, slug, pr)
		if err != nil {
			return err
		}
		if comments != want.comments {
			cm.diff(model.VerifyPullRequest, model.VerifyDiffers, item, "comments", strconv.Itoa(want.comments), strconv.Itoa(comments))
		}
		if len(cm.res.diffs) > n {
			prs.Differing++
		} else {
			prs.Present++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the pull requests of %s: %w", c.name(), err)
	}
	for id := range r.prs {
		if !found[id] {
			prs.Missing++
			cm.diff(model.VerifyPullRequest, model.VerifyMissing, "#"+strconv.FormatInt(id, 10), "", "", "")
		}
	}
	return nil
}

// comments is a pull request's comment count: the server's, when it sends
// one; else counted from its activities, every comment and reply once.
func (v *Verifier) comments(ctx context.Context, key, slug string, pr model.RestPullRequest) (int, error) {
	if pr.Properties != nil {
		return pr.Properties.CommentCount, nil
	}
	seen := map[int64]bool{}
	var walk func(c *model.RestComment)
	walk = func(c *model.RestComment) {
		seen[c.ID] = true
		for i := range c.Comments {
			walk(&c.Comments[i])
		}
	}
	_, err := wire.Each(ctx, 0, func(ctx context.Context, start int) (model.Page[model.RestActivity], error) {
		return v.cfg.Reader.Activities(ctx, key, slug, pr.ID, start, wire.MaxLimit)
	}, func(a model.RestActivity) error {
		if a.Action == model.ActionCommented && a.CommentAction == "ADDED" && a.Comment != nil {
			walk(a.Comment)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the activities of pull request %s/%s#%d: %w", key, slug, pr.ID, err)
	}
	return len(seen), nil
}
