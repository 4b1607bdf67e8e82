package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"bbimport/model"
	"bbimport/wire"
)

// PlanReplace says which partial copies of report's incomplete fork
// hierarchies can be deleted, so that a remainder imports them under their
// original keys: only those nobody changed since the import (no ref
// moved, no pull request changed), and which projects that leaves empty
// (personal projects stay: they belong to their user).
func (v *Verifier) PlanReplace(ctx context.Context, report model.VerifyReport) (model.ReplacePlan, error) {
	plan := model.ReplacePlan{Hierarchies: []string{}, Repositories: []string{}, Projects: []string{}, Kept: []string{}}
	deleted := map[string]bool{}
	for _, h := range report.Hierarchies {
		if h.Status != model.VerifyDiffers || !h.Lacking() {
			continue
		}
		untouched := true
		var repos []string
		for _, r := range h.Repositories {
			if r.Refs.Differing > 0 || r.PullRequests.Differing > 0 {
				untouched = false
			}
			if r.Target != "" {
				repos = append(repos, r.Target)
			}
		}
		if !untouched {
			plan.Kept = append(plan.Kept, h.Origin)
			continue
		}
		plan.Hierarchies = append(plan.Hierarchies, h.ID)
		// The origin comes first in a hierarchy: its forks go before it.
		slices.Reverse(repos)
		for _, r := range repos {
			deleted[r] = true
		}
		plan.Repositories = append(plan.Repositories, repos...)
	}
	var keys []string
	for _, r := range plan.Repositories {
		key, _, _ := strings.Cut(r, "/")
		if !personal(key) && !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		empty := true
		_, err := wire.Each(ctx, 0, func(ctx context.Context, start int) (model.Page[model.RestRepository], error) {
			return v.cfg.Reader.ListRepositories(ctx, model.RepositoryQuery{ProjectKey: key}, start, wire.MaxLimit)
		}, func(r model.RestRepository) error {
			if !deleted[r.Project.Key+"/"+r.Slug] {
				empty = false
			}
			return nil
		})
		if err != nil {
			return plan, fmt.Errorf("list the repositories of project %s: %w", key, err)
		}
		if empty {
			plan.Projects = append(plan.Projects, key)
		}
	}
	return plan, nil
}

// Replace deletes what plan names through the target's own API, reporting
// each delete done; a target that cannot delete says so before anything
// is deleted.
func (v *Verifier) Replace(ctx context.Context, plan model.ReplacePlan, done func(what string)) error {
	d, ok := v.cfg.Backend.(model.Deleter)
	if !ok {
		return fmt.Errorf("this target cannot delete repositories: %w", model.ErrNotSupported)
	}
	for _, r := range plan.Repositories {
		key, slug, _ := strings.Cut(r, "/")
		if err := d.DeleteRepository(ctx, key, slug); err != nil && !errors.Is(err, model.ErrNotFound) {
			return fmt.Errorf("delete the partial copy %s: %w", r, err)
		}
		done("repository " + r)
	}
	for _, key := range plan.Projects {
		if err := d.DeleteProject(ctx, key); err != nil && !errors.Is(err, model.ErrNotFound) {
			return fmt.Errorf("delete the emptied project %s: %w", key, err)
		}
		done("project " + key)
	}
	return nil
}
