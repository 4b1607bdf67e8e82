package importer

import (
	"context"
	"fmt"

	"bbimport/model"
)

var _ model.Placer = (*Instance)(nil)

// recordArchiveRepository records what the archive called a repository
// this job creates: its project key there, its slug and its hierarchy.
func (s *store) recordArchiveRepository(r *model.Repository, archiveKey string) error {
	_, err := s.w.exec(`INSERT OR REPLACE INTO archive_repositories(job_id, archive_id, project_key, slug, hierarchy_id) VALUES (?, ?, ?, ?, ?)`,
		s.job, r.ID, archiveKey, r.Slug, r.HierarchyID)
	return err
}

// Placements says where a job put the archive's repositories: each one the
// job created and that is AVAILABLE, in the order it was created. A
// repository that was dropped (its git data failed, or the job stopped
// before it was verified) has no placement. A job of a bbimport that did
// not record placements answers model.ErrNotSupported, so that verify
// falls back to Bitbucket's rename rules as it does against Bitbucket.
func (in *Instance) Placements(ctx context.Context, job int64) ([]model.Placement, error) {
	if _, err := in.Job(ctx, job); err != nil {
		return nil, err
	}
	var mapped, recorded int
	err := in.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM id_map WHERE job_id = ? AND kind = 'repository'),
		(SELECT count(*) FROM archive_repositories WHERE job_id = ?)`, job, job).Scan(&mapped, &recorded)
	if err != nil {
		return nil, fmt.Errorf("read the placements of job %d: %w", job, err)
	}
	if mapped > 0 && recorded == 0 {
		return nil, fmt.Errorf("read the placements of job %d: %w: the job was imported by a bbimport that did not record them", job, model.ErrNotSupported)
	}
	rows, err := in.db.QueryContext(ctx, `SELECT a.project_key, a.slug, a.hierarchy_id, p.key, r.slug
		FROM archive_repositories a
		JOIN id_map m ON m.job_id = a.job_id AND m.kind = 'repository' AND m.archive_id = a.archive_id
		JOIN repositories r ON r.id = m.new_id AND r.state = 'AVAILABLE'
		JOIN projects p ON p.id = r.project_id
		WHERE a.job_id = ? ORDER BY r.id`, job)
	if err != nil {
		return nil, fmt.Errorf("read the placements of job %d: %w", job, err)
	}
	defer rows.Close()
	placements := []model.Placement{}
	for rows.Next() {
		pl := model.Placement{Job: job}
		if err := rows.Scan(&pl.ArchiveProject, &pl.ArchiveSlug, &pl.HierarchyID, &pl.Project, &pl.Slug); err != nil {
			return nil, fmt.Errorf("read the placements of job %d: %w", job, err)
		}
		placements = append(placements, pl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the placements of job %d: %w", job, err)
	}
	return placements, nil
}
