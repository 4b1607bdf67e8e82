package importer

import (
	"context"

	"bbimport/model"
)

// RefsAt returns every ref of a repository under refs/ in one read: what
// verify compares (ID, LatestCommit, Hash), with one git run where the
// Branches and Tags lists take two each. DisplayID is relative to refs/.
func (in *Instance) RefsAt(ctx context.Context, projectKey, slug string) ([]model.RestBranchOrTag, error) {
	repo, err := in.Repository(ctx, projectKey, slug)
	if err != nil {
		return nil, err
	}
	refs, _, err := in.readRefs(ctx, repo, "refs/", model.OrderAlphabetical)
	return refs, err
}
