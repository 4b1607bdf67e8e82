package importer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"bbimport/importer/gitcmd"
	"bbimport/model"
	"bbimport/wire"
)

// Branches and tags are read from the imported bare repository itself:
// git is their only record, as in Bitbucket.

// Branches returns a page of a repository's branches that q matches.
func (in *Instance) Branches(ctx context.Context, projectKey, slug string, q model.RefQuery, start, limit int) (model.Page[model.RestBranchOrTag], error) {
	return in.refs(ctx, projectKey, slug, "refs/heads/", q, start, limit)
}

// Tags returns a page of a repository's tags that q matches.
func (in *Instance) Tags(ctx context.Context, projectKey, slug string, q model.RefQuery, start, limit int) (model.Page[model.RestBranchOrTag], error) {
	return in.refs(ctx, projectKey, slug, "refs/tags/", q, start, limit)
}

// DefaultBranch returns the branch the repository's HEAD names, or
// model.ErrNotFound when there is none (an empty repository).
func (in *Instance) DefaultBranch(ctx context.Context, projectKey, slug string) (model.RestBranchOrTag, error) {
	repo, err := in.Repository(ctx, projectKey, slug)
	if err != nil {
		return model.RestBranchOrTag{}, err
	}
	refs, head, err := in.readRefs(ctx, repo, "refs/heads/", model.OrderAlphabetical)
	if err != nil {
		return model.RestBranchOrTag{}, err
	}
	for _, r := range refs {
		if r.ID == head {
			return r, nil
		}
	}
	return model.RestBranchOrTag{}, fmt.Errorf("default branch of %s/%s: %w", projectKey, slug, model.ErrNotFound)
}

func (in *Instance) refs(ctx context.Context, projectKey, slug, prefix string, q model.RefQuery, start, limit int) (model.Page[model.RestBranchOrTag], error) {
	repo, err := in.Repository(ctx, projectKey, slug)
	if err != nil {
		return model.Page[model.RestBranchOrTag]{}, err
	}
	refs, _, err := in.readRefs(ctx, repo, prefix, q.OrderBy)
	if err != nil {
		return model.Page[model.RestBranchOrTag]{}, err
	}
	matching := refs[:0]
	for _, r := range refs {
		if strings.Contains(strings.ToLower(r.DisplayID), strings.ToLower(q.FilterText)) {
			matching = append(matching, r)
		}
	}
	start, limit = wire.Bounds(start, limit)
	return wire.PageOf(matching, start, limit), nil
}

// readRefs lists the refs under prefix in order, and the ref HEAD names.
// A repository whose git data is not in place (not yet AVAILABLE) has none.
func (in *Instance) readRefs(ctx context.Context, repo model.RestRepository, prefix, order string) ([]model.RestBranchOrTag, string, error) {
	if repo.State != "AVAILABLE" {
		return nil, "", nil
	}
	dir := in.repositoryDir(repo.ID)
	what := fmt.Sprintf("read the refs of %s/%s", repo.Project.Key, repo.Slug)
	sort := "--sort=refname"
	if order == model.OrderModification {
		sort = "--sort=-creatordate"
	}
	// objecttype tells an annotated tag, whose *objectname is the commit.
	out, err := gitcmd.Run(ctx, dir, "for-each-ref", sort, "--format=%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)", prefix)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	head := symbolicHead(dir)
	var refs []model.RestBranchOrTag
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\x00")
		if len(f) != 4 {
			return nil, "", fmt.Errorf("%s: git for-each-ref wrote %q", what, line)
		}
		r := model.RestBranchOrTag{ID: f[0], DisplayID: strings.TrimPrefix(f[0], prefix), Type: refType(f[0]), LatestCommit: f[1]}
		if f[2] == "tag" {
			r.Hash, r.LatestCommit = f[1], f[3]
		}
		r.LatestChangeset = r.LatestCommit
		if r.Type == model.RefBranch {
			isDefault := r.ID == head
			r.IsDefault = &isDefault
		}
		refs = append(refs, r)
	}
	return refs, head, nil
}

// symbolicHead is the ref a bare repository's HEAD names, read from the
// file as git itself stores it in the repositories the importer writes:
// one git process less per read, which verify pays once per repository.
// A detached or missing HEAD names none: no default branch.
func symbolicHead(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "HEAD"))
	if err != nil {
		return ""
	}
	ref, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "ref: ")
	if !ok {
		return ""
	}
	return ref
}
