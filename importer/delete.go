package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"bbimport/model"
)

var _ model.Deleter = (*Instance)(nil)

// DeleteRepository deletes a repository, its pull requests and its git
// directory. A repository with forks is refused: they share its objects.
func (in *Instance) DeleteRepository(ctx context.Context, projectKey, slug string) error {
	if in.readOnly {
		return fmt.Errorf("instance home %s is read-only for this user: delete repositories as a user who can write it", in.home)
	}
	var id int64
	err := in.db.QueryRowContext(ctx, `SELECT r.id FROM repositories r JOIN projects p ON p.id = r.project_id WHERE p.key = ? AND r.slug = ?`,
		projectKey, slug).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("repository %s/%s: %w", projectKey, slug, model.ErrNoSuchRepository)
	}
	if err != nil {
		return fmt.Errorf("look up repository %s/%s: %w", projectKey, slug, err)
	}
	var forks int
	if err := in.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM repositories WHERE origin_id = ?`, id).Scan(&forks); err != nil {
		return fmt.Errorf("look up the forks of %s/%s: %w", projectKey, slug, err)
	}
	if forks > 0 {
		return fmt.Errorf("repository %s/%s has %s, which share its objects: delete them first: %w",
			projectKey, slug, model.Plural(forks, "fork", "forks"), model.ErrNotEmpty)
	}
	if _, err := in.db.ExecContext(ctx, `DELETE FROM repositories WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete repository %s/%s: %w", projectKey, slug, err)
	}
	if err := os.RemoveAll(in.repositoryDir(id)); err != nil {
		return fmt.Errorf("delete the git data of %s/%s: %w", projectKey, slug, err)
	}
	return nil
}

// DeleteProject deletes a project that has no repositories.
func (in *Instance) DeleteProject(ctx context.Context, key string) error {
	if in.readOnly {
		return fmt.Errorf("instance home %s is read-only for this user: delete projects as a user who can write it", in.home)
	}
	var id int64
	err := in.db.QueryRowContext(ctx, `SELECT id FROM projects WHERE key = ?`, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("project %s: %w", key, model.ErrNoSuchProject)
	}
	if err != nil {
		return fmt.Errorf("look up project %s: %w", key, err)
	}
	var repos int
	if err := in.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM repositories WHERE project_id = ?`, id).Scan(&repos); err != nil {
		return fmt.Errorf("look up the repositories of %s: %w", key, err)
	}
	if repos > 0 {
		return fmt.Errorf("project %s has %s: delete them first: %w", key, model.Plural(repos, "repository", "repositories"), model.ErrNotEmpty)
	}
	if _, err := in.db.ExecContext(ctx, `DELETE FROM projects WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete project %s: %w", key, err)
	}
	return nil
}
