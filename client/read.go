package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"bbimport/model"
	"bbimport/wire"
)

// The read API: the client answers model.Reader from any Bitbucket, or
// serve, as the importer answers it in-process. Entities come as the
// server sent them, links included: they name the server the client
// reached, which is what an admin wants to follow, and nothing compares
// them.

var (
	_ model.Reader = (*Client)(nil)
	_ model.Placer = (*Client)(nil)
)

// getPage reads one page of a list at path with query.
func getPage[T any](ctx context.Context, c *Client, op operation, path string, query url.Values) (model.Page[T], error) {
	var p model.Page[T]
	err := c.call(ctx, op, http.MethodGet, path+"?"+query.Encode(), nil, &p)
	return p, err
}

// getOne reads one entity at path.
func getOne[T any](ctx context.Context, c *Client, op operation, path string) (T, error) {
	var v T
	err := c.call(ctx, op, http.MethodGet, path, nil, &v)
	return v, err
}

func readOp(what string, notFound error) operation {
	return operation{what: "read " + what, notFound: notFound}
}

func repoName(key, slug string) string { return "repository " + key + "/" + slug }

func pullRequestName(key, slug string, id int64) string {
	return fmt.Sprintf("pull request %s/%s#%d", key, slug, id)
}

// ListProjects reads one page of the projects q matches.
func (c *Client) ListProjects(ctx context.Context, q model.ProjectQuery, start, limit int) (model.Page[model.RestProject], error) {
	return getPage[model.RestProject](ctx, c, readOp("the projects", nil), wire.PathProjects,
		wire.ProjectQueryValues(wire.PagingValues(start, limit), q))
}

// Project reads one project.
func (c *Client) Project(ctx context.Context, key string) (model.RestProject, error) {
	return getOne[model.RestProject](ctx, c, readOp("project "+key, model.ErrNoSuchProject), wire.ProjectPath(key))
}

// ListRepositories reads one page of one project's repositories, or of
// every project's (GET /repos) filtered by name and project name.
// Bitbucket filters by name only across all projects, so a query with
// both a project key and a name filter is not supported.
func (c *Client) ListRepositories(ctx context.Context, q model.RepositoryQuery, start, limit int) (model.Page[model.RestRepository], error) {
	paging := wire.PagingValues(start, limit)
	if q.ProjectKey == "" {
		return getPage[model.RestRepository](ctx, c, readOp("the repositories", nil), wire.PathAllRepos,
			wire.RepositoryQueryValues(paging, q))
	}
	if q.Name != "" || q.ProjectName != "" {
		return model.Page[model.RestRepository]{}, fmt.Errorf("list the repositories of project %s by name: %w: Bitbucket's REST API filters repositories by name across all projects only",
			q.ProjectKey, model.ErrNotSupported)
	}
	return getPage[model.RestRepository](ctx, c, readOp("the repositories of project "+q.ProjectKey, model.ErrNoSuchProject),
		wire.ReposPath(q.ProjectKey), paging)
}

// Repository reads one repository.
func (c *Client) Repository(ctx context.Context, projectKey, slug string) (model.RestRepository, error) {
	return getOne[model.RestRepository](ctx, c, readOp(repoName(projectKey, slug), model.ErrNoSuchRepository),
		wire.RepoPath(projectKey, slug))
}

// ListPullRequests reads one page of a repository's pull requests that q
// matches.
func (c *Client) ListPullRequests(ctx context.Context, projectKey, slug string, q model.PullRequestQuery, start, limit int) (model.Page[model.RestPullRequest], error) {
	return getPage[model.RestPullRequest](ctx, c, readOp("the pull requests of "+repoName(projectKey, slug), model.ErrNoSuchRepository),
		wire.PullRequestsPath(projectKey, slug), wire.PullRequestQueryValues(wire.PagingValues(start, limit), q))
}

// PullRequest reads one pull request.
func (c *Client) PullRequest(ctx context.Context, projectKey, slug string, id int64) (model.RestPullRequest, error) {
	return getOne[model.RestPullRequest](ctx, c, readOp(pullRequestName(projectKey, slug, id), model.ErrNoSuchPullRequest),
		wire.PullRequestPath(projectKey, slug, id))
}

// Activities reads one page of a pull request's activities, newest first.
func (c *Client) Activities(ctx context.Context, projectKey, slug string, id int64, start, limit int) (model.Page[model.RestActivity], error) {
	return getPage[model.RestActivity](ctx, c, readOp("the activities of "+pullRequestName(projectKey, slug, id), model.ErrNoSuchPullRequest),
		wire.ActivitiesPath(projectKey, slug, id), wire.PagingValues(start, limit))
}

// Branches reads one page of a repository's branches.
func (c *Client) Branches(ctx context.Context, projectKey, slug string, q model.RefQuery, start, limit int) (model.Page[model.RestBranchOrTag], error) {
	return getPage[model.RestBranchOrTag](ctx, c, readOp("the branches of "+repoName(projectKey, slug), model.ErrNoSuchRepository),
		wire.BranchesPath(projectKey, slug), wire.RefQueryValues(wire.PagingValues(start, limit), q))
}

// DefaultBranch reads a repository's default branch.
func (c *Client) DefaultBranch(ctx context.Context, projectKey, slug string) (model.RestBranchOrTag, error) {
	return getOne[model.RestBranchOrTag](ctx, c, readOp("the default branch of "+repoName(projectKey, slug), model.ErrNoSuchRepository),
		wire.DefaultBranchPath(projectKey, slug))
}

// Tags reads one page of a repository's tags.
func (c *Client) Tags(ctx context.Context, projectKey, slug string, q model.RefQuery, start, limit int) (model.Page[model.RestBranchOrTag], error) {
	return getPage[model.RestBranchOrTag](ctx, c, readOp("the tags of "+repoName(projectKey, slug), model.ErrNoSuchRepository),
		wire.TagsPath(projectKey, slug), wire.RefQueryValues(wire.PagingValues(start, limit), q))
}

// Placements reads where a job put the archive's repositories, from
// serve's extension of the REST API, following its pages. A server
// without the extension (a real Bitbucket: 404), or one that did not
// record the job's placements (501), answers model.ErrNotSupported.
func (c *Client) Placements(ctx context.Context, job int64) ([]model.Placement, error) {
	op := operation{what: fmt.Sprintf("read where import job %d put the archive's repositories", job)}
	var all []model.Placement
	_, err := wire.Each(ctx, 0, func(ctx context.Context, start int) (model.Page[model.Placement], error) {
		var p model.Page[model.Placement]
		target := c.base + wire.ExtensionPrefix + wire.PlacementsPath(job) + "?" + wire.PagingValues(start, wire.MaxLimit).Encode()
		err := c.callURL(ctx, op, http.MethodGet, target, nil, &p)
		return p, err
	}, func(p model.Placement) error {
		all = append(all, p)
		return nil
	})
	var e *Error
	switch {
	case !errors.As(err, &e):
		return all, err
	case e.Status == http.StatusNotFound && !errors.Is(err, model.ErrJobNotFound):
		return nil, fmt.Errorf("%s: %w: %s does not say where an import put repositories (only bbimport serve does)", op.what, model.ErrNotSupported, c.base)
	case e.Status == http.StatusNotImplemented:
		return nil, fmt.Errorf("%s: %w: %s", op.what, model.ErrNotSupported, strings.Join(e.Messages, "; "))
	}
	return nil, err
}

// ImportedArchives reads what each job recorded of the archive it read,
// from serve's extension of the REST API. A real Bitbucket (404) answers
// model.ErrNotSupported.
func (c *Client) ImportedArchives(ctx context.Context) ([]model.ImportedArchive, error) {
	op := operation{what: "read what the import jobs recorded of their archives"}
	var all []model.ImportedArchive
	_, err := wire.Each(ctx, 0, func(ctx context.Context, start int) (model.Page[model.ImportedArchive], error) {
		var p model.Page[model.ImportedArchive]
		target := c.base + wire.ExtensionPrefix + wire.PathArchives + "?" + wire.PagingValues(start, wire.MaxLimit).Encode()
		err := c.callURL(ctx, op, http.MethodGet, target, nil, &p)
		return p, err
	}, func(a model.ImportedArchive) error {
		all = append(all, a)
		return nil
	})
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil, fmt.Errorf("%s: %w: %s does not record the archives its jobs read (only bbimport serve does)", op.what, model.ErrNotSupported, c.base)
	}
	return all, err
}

var _ model.Deleter = (*Client)(nil)

// deletePoll is how often DeleteRepository asks whether Bitbucket's
// background delete is done.
const deletePoll = 200 * time.Millisecond

// DeleteRepository deletes a repository: Bitbucket answers 202 and deletes
// in the background, so this returns once the repository answers 404.
func (c *Client) DeleteRepository(ctx context.Context, projectKey, slug string) error {
	op := operation{what: "delete " + repoName(projectKey, slug), kind: wire.CallDelete, notFound: model.ErrNoSuchRepository}
	if err := c.call(ctx, op, http.MethodDelete, wire.RepoPath(projectKey, slug), nil, nil); err != nil {
		return err
	}
	for {
		_, err := c.Repository(ctx, projectKey, slug)
		switch {
		case errors.Is(err, model.ErrNotFound):
			return nil
		case err != nil:
			return fmt.Errorf("wait for the delete of %s/%s: %w", projectKey, slug, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the delete of %s/%s: %w", projectKey, slug, ctx.Err())
		case <-time.After(deletePoll):
		}
	}
}

// DeleteProject deletes an empty project (Bitbucket answers 204; 409 for
// one with repositories, model.ErrNotEmpty).
func (c *Client) DeleteProject(ctx context.Context, key string) error {
	op := operation{what: "delete project " + key, kind: wire.CallDelete, notFound: model.ErrNoSuchProject}
	return c.call(ctx, op, http.MethodDelete, wire.ProjectPath(key), nil, nil)
}
