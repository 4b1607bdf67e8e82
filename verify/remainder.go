package verify

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"bbimport/archive"
	"bbimport/model"
)

// PlanRemainder says what a remainder archive of report holds, whole fork
// hierarchies that are missing or incomplete, and what importing it does
// by Bitbucket's rules: each project whose key exists on the target is
// imported under the first free numbered key (KEY1), a personal project is
// reused, and an incomplete hierarchy is imported again whole beside the
// partial copy. A hierarchy that is all there but changed (a branch pushed
// since the import) is not in it: importing it again would only add a
// second copy.
func (v *Verifier) PlanRemainder(ctx context.Context, report model.VerifyReport) (model.RemainderPlan, error) {
	plan := model.RemainderPlan{Archive: report.Archive, Hierarchies: []string{}, Incomplete: []string{}, Projects: []model.RemainderProject{}}
	var keys []string
	for _, h := range report.Hierarchies {
		if h.Status == model.VerifyPresent || !h.Lacking() {
			continue
		}
		plan.Hierarchies = append(plan.Hierarchies, h.ID)
		if h.Status == model.VerifyDiffers {
			plan.Incomplete = append(plan.Incomplete, h.ID)
		}
		for _, r := range h.Repositories {
			plan.Repositories++
			plan.PullRequests += r.PullRequests.Expected
			key, _, _ := strings.Cut(r.Repository, "/")
			if !slices.Contains(keys, key) {
				keys = append(keys, key)
			}
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		p := model.RemainderProject{Key: key, ImportAs: key, Personal: personal(key)}
		if !p.Personal {
			as, err := model.ProjectKeys.Free(key, func(k string) (bool, error) { return v.cfg.Backend.ProjectExists(ctx, k) })
			if err != nil {
				return plan, fmt.Errorf("find the key project %s would be imported as: %w", key, err)
			}
			p.ImportAs = as
		}
		plan.Projects = append(plan.Projects, p)
	}
	return plan, nil
}

// WriteRemainder writes the planned archive to path, whole or not at all.
func (v *Verifier) WriteRemainder(ctx context.Context, plan model.RemainderPlan, path string) error {
	if len(plan.Hierarchies) == 0 {
		return fmt.Errorf("no remainder to write: everything of %s is on the target", plan.Archive)
	}
	src, err := v.archivePath(plan.Archive)
	if err != nil {
		return err
	}
	if _, err := archive.WriteRemainder(ctx, src, path, plan.Hierarchies); err != nil {
		return fmt.Errorf("write the remainder archive %s: %w", path, err)
	}
	return nil
}

// archivePath is the file of the archive named, found as Verify found it.
func (v *Verifier) archivePath(name string) (string, error) {
	if name == v.cfg.Archive {
		return filepath.Abs(name)
	}
	if v.cfg.ImportDir == "" {
		return "", fmt.Errorf("archive %s is in the server's import directory: pass --import-dir, or name the archive with --archive FILE", name)
	}
	path, err := archive.Resolve(v.cfg.ImportDir, name)
	if err != nil {
		return "", fmt.Errorf("find the archive of the job: %w (or name it with --archive FILE)", err)
	}
	return path, nil
}
