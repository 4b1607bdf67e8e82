package wire

import (
	"fmt"
	"net/url"

	"bbimport/model"
)

// ExportScopes is Bitbucket's answer to POST /migration/exports/preview.
// Atlassian publishes no shape for its items; bbimport names each
// repository as a selector names one, {"projectKey":"PRJ","slug":"repo"}.
type ExportScopes struct {
	Scopes []model.RepositorySelector `json:"scopes"`
}

// PreviewScopes is a preview as Bitbucket's preview call answers it: every
// repository the export would write, forks of its hierarchies included,
// and nothing of bbimport's counts, estimate or free disk.
func PreviewScopes(p model.ExportPreview) ExportScopes {
	scopes := []model.RepositorySelector{}
	for _, pr := range p.Projects {
		for _, slug := range pr.Repositories {
			scopes = append(scopes, model.RepositorySelector{ProjectKey: pr.Key, Slug: slug})
		}
	}
	return ExportScopes{Scopes: scopes}
}

// QueryForce is the query parameter of bbimport's own start of an export,
// POST ExtensionPrefix+PathExports?force=true: start it even when its
// estimate exceeds the free disk. Bitbucket's request has no field for it.
const QueryForce = "force"

// ForceValues is the query that forces an export.
func ForceValues() url.Values { return url.Values{QueryForce: {"true"}} }

// ParseForce reads QueryForce: absent or false is no force; a value other
// than true or false is a *FieldError naming it, never taken for either.
func ParseForce(q url.Values) (bool, error) {
	switch v := q.Get(QueryForce); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, &FieldError{Field: QueryForce, Message: fmt.Sprintf("%s %q is not true or false", QueryForce, v)}
	}
}
