package wire

import (
	"net/url"
	"strconv"

	"bbimport/model"
)

// The read API as a client calls it: the paths the server routes, filled
// in, and each query as the server's Parse… functions read it back.

// ReposPath is the path of one project's repositories.
func ReposPath(key string) string { return fill(PathRepos, key) }

// RepoPath is the path of one repository.
func RepoPath(key, slug string) string { return fill(PathRepo, key, slug) }

// PullRequestsPath is the path of a repository's pull requests.
func PullRequestsPath(key, slug string) string { return fill(PathPullRequests, key, slug) }

// PullRequestPath is the path of one pull request.
func PullRequestPath(key, slug string, id int64) string {
	return fill(PathPullRequest, key, slug, strconv.FormatInt(id, 10))
}

// ActivitiesPath is the path of a pull request's activities.
func ActivitiesPath(key, slug string, id int64) string {
	return fill(PathActivities, key, slug, strconv.FormatInt(id, 10))
}

// BranchesPath is the path of a repository's branches.
func BranchesPath(key, slug string) string { return fill(PathBranches, key, slug) }

// DefaultBranchPath is the path of a repository's default branch.
func DefaultBranchPath(key, slug string) string { return fill(PathDefaultBranch, key, slug) }

// TagsPath is the path of a repository's tags.
func TagsPath(key, slug string) string { return fill(PathTags, key, slug) }

// PagingValues are a list's start, always sent, and its limit, sent only
// when set so that the server's default applies.
func PagingValues(start, limit int) url.Values {
	v := url.Values{"start": {strconv.Itoa(start)}}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	return v
}

// ProjectQueryValues adds q's filters to v, as ParseProjectQuery reads them.
func ProjectQueryValues(v url.Values, q model.ProjectQuery) url.Values {
	setNonEmpty(v, "name", q.Name)
	return v
}

// RepositoryQueryValues adds the filters of GET /repos to v, as
// ParseRepositoryQuery reads them; q.ProjectKey is a path, not a filter.
func RepositoryQueryValues(v url.Values, q model.RepositoryQuery) url.Values {
	setNonEmpty(v, "name", q.Name)
	setNonEmpty(v, "projectname", q.ProjectName)
	return v
}

// RefQueryValues adds q's filters to v, as ParseRefQuery reads them.
func RefQueryValues(v url.Values, q model.RefQuery) url.Values {
	setNonEmpty(v, "filterText", q.FilterText)
	setNonEmpty(v, "orderBy", q.OrderBy)
	return v
}

// PullRequestQueryValues adds q's filters to v, as ParsePullRequestQuery
// reads them: an empty field is left out, so that Bitbucket's default
// applies, and participants are numbered from 1.
func PullRequestQueryValues(v url.Values, q model.PullRequestQuery) url.Values {
	setNonEmpty(v, "state", q.State)
	setNonEmpty(v, "at", q.At)
	setNonEmpty(v, "direction", q.Direction)
	setNonEmpty(v, "order", q.Order)
	setNonEmpty(v, "filterText", q.FilterText)
	for i, p := range q.Participants {
		n := strconv.Itoa(i + 1)
		setNonEmpty(v, "role."+n, p.Role)
		v.Set("username."+n, p.Username)
	}
	return v
}

func setNonEmpty(v url.Values, key, value string) {
	if value != "" {
		v.Set(key, value)
	}
}

// NotFoundOf is the model's error that a 404's exceptionName names (no
// such job, project, repository or pull request), or nil for a name the
// table does not hold: then the call itself says what was missing.
func NotFoundOf(exception string) error {
	for _, r := range statusRules {
		if r.status == 404 && r.exception != "" && r.exception == exception {
			return r.err
		}
	}
	return nil
}

// bbimport's extension of the REST API lives outside Bitbucket's
// namespace, so that it can never clash with a path Bitbucket adds; a real
// Bitbucket answers it 404.
const (
	ExtensionPrefix = "/rest/bbimport/1.0"
	// PathExtImports lists every import job the server knows, newest
	// first, paged: Bitbucket has no such call.
	PathExtImports = "/imports"
	// PathExtImport is one import job with bbimport's additions (counts,
	// archive name) beside Bitbucket's fields.
	PathExtImport  = PathExtImports + "/{" + WildJobID + "}"
	PathPlacements = PathExtImport + "/placements"
	// PathArchives lists what each job recorded of the archive it read
	// (model.ImportedArchive), newest first.
	PathArchives = "/imports/archives"
)

// ExtImportPath is the path, below ExtensionPrefix, of one job with
// bbimport's additions.
func ExtImportPath(id int64) string { return fill(PathExtImport, strconv.FormatInt(id, 10)) }

// PlacementsPath is the path, below ExtensionPrefix, of where a job put
// the archive's repositories.
func PlacementsPath(id int64) string { return fill(PathPlacements, strconv.FormatInt(id, 10)) }
