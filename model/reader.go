package model

import "context"

// Reader is Bitbucket's read API as the importer answers it in-process and
// the REST client answers it from any Bitbucket (or serve): what an admin
// checks after an import, and what verify compares an archive with. Each
// list is one page (start, limit as Bitbucket pages them); a missing
// project, repository or pull request is one of the ErrNoSuch* errors.
type Reader interface {
	ListProjects(ctx context.Context, q ProjectQuery, start, limit int) (Page[RestProject], error)
	Project(ctx context.Context, key string) (RestProject, error)
	ListRepositories(ctx context.Context, q RepositoryQuery, start, limit int) (Page[RestRepository], error)
	Repository(ctx context.Context, projectKey, slug string) (RestRepository, error)
	ListPullRequests(ctx context.Context, projectKey, slug string, q PullRequestQuery, start, limit int) (Page[RestPullRequest], error)
	PullRequest(ctx context.Context, projectKey, slug string, id int64) (RestPullRequest, error)
	Activities(ctx context.Context, projectKey, slug string, id int64, start, limit int) (Page[RestActivity], error)
	Branches(ctx context.Context, projectKey, slug string, q RefQuery, start, limit int) (Page[RestBranchOrTag], error)
	DefaultBranch(ctx context.Context, projectKey, slug string) (RestBranchOrTag, error)
	Tags(ctx context.Context, projectKey, slug string, q RefQuery, start, limit int) (Page[RestBranchOrTag], error)
}
