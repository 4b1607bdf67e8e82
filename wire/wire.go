// Package wire holds Bitbucket Data Center's REST rules in one place, for
// both sides of the wire: the server that answers like Bitbucket and the
// client that talks to one. It owns the API's paths, its paging (bounds,
// page building and following nextPageStart), the severity filter, the
// error JSON and which status stands for which of the model's errors.
//
// The entities themselves (model.Job, model.Message, model.RestProject …)
// stay in model: the importer produces them and knows nothing of HTTP.
package wire

import (
	"net/url"
	"strconv"
	"strings"

	"bbimport/model"
)

// The API lives under both prefixes; Bitbucket treats latest as 1.0.
const (
	Prefix       = "/rest/api/1.0"
	LatestPrefix = "/rest/api/latest"
)

// Prefixes lists every prefix the API answers under, the canonical first.
var Prefixes = []string{Prefix, LatestPrefix}

// The wildcards of the path patterns below, as http.Request.PathValue names them.
const (
	WildJobID      = "jobId"
	WildProjectKey = "projectKey"
	WildSlug       = "slug"
	WildPullID     = "pullRequestId"
	WildUserSlug   = "userSlug"
)

// The API's paths below a prefix, as net/http patterns. The server routes
// them; the client fills them with the builders below.
const (
	PathApplicationProperties = "/application-properties"

	PathImports        = "/migration/imports"
	PathImport         = PathImports + "/{" + WildJobID + "}"
	PathImportCancel   = PathImport + "/cancel"
	PathImportMessages = PathImport + "/messages"

	PathExports        = "/migration/exports"
	PathExportPreview  = PathExports + "/preview"
	PathExport         = PathExports + "/{" + WildJobID + "}"
	PathExportCancel   = PathExport + "/cancel"
	PathExportMessages = PathExport + "/messages"

	PathProjects      = "/projects"
	PathProject       = PathProjects + "/{" + WildProjectKey + "}"
	PathRepos         = PathProject + "/repos"
	PathRepo          = PathRepos + "/{" + WildSlug + "}"
	PathPullRequests  = PathRepo + "/pull-requests"
	PathPullRequest   = PathPullRequests + "/{" + WildPullID + "}"
	PathActivities    = PathPullRequest + "/activities"
	PathBranches      = PathRepo + "/branches"
	PathDefaultBranch = PathBranches + "/default"
	PathTags          = PathRepo + "/tags"
	PathUsers         = "/users"
	PathUserRepos     = PathUsers + "/{" + WildUserSlug + "}/repos"
	PathAllRepos      = "/repos"
)

// ImportPath is the path of one import job.
func ImportPath(id int64) string { return fill(PathImport, strconv.FormatInt(id, 10)) }

// ImportCancelPath is the path that cancels an import job.
func ImportCancelPath(id int64) string { return fill(PathImportCancel, strconv.FormatInt(id, 10)) }

// ImportMessagesPath is the path and query of one page of a job's messages.
func ImportMessagesPath(id int64, q model.MessageQuery) string {
	return fill(PathImportMessages, strconv.FormatInt(id, 10)) + "?" + MessageQueryValues(q).Encode()
}

// ExportPath is the path of one export job.
func ExportPath(id int64) string { return fill(PathExport, strconv.FormatInt(id, 10)) }

// ExportCancelPath is the path that cancels an export job.
func ExportCancelPath(id int64) string { return fill(PathExportCancel, strconv.FormatInt(id, 10)) }

// ExportMessagesPath is the path and query of one page of an export job's
// messages.
func ExportMessagesPath(id int64, q model.MessageQuery) string {
	return fill(PathExportMessages, strconv.FormatInt(id, 10)) + "?" + MessageQueryValues(q).Encode()
}

// ProjectPath is the path of one project.
func ProjectPath(key string) string { return fill(PathProject, key) }

// fill replaces a pattern's wildcards, in order, with the escaped values.
func fill(pattern string, values ...string) string {
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && len(values) > 0 {
			segs[i] = url.PathEscape(values[0])
			values = values[1:]
		}
	}
	return strings.Join(segs, "/")
}
