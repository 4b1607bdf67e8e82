package importer

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"bbimport/model"
)

// recover runs at Open, under the home's lock, so no job of another process
// can be running: a job that did not finish was killed (kill -9, power
// loss). It is marked ABORTED, its half-built repository goes, and
// everything that was finished stays as it is.
func (in *Instance) recover(ctx context.Context) error {
	rows, err := in.db.QueryContext(ctx, `SELECT id, state FROM jobs WHERE state NOT IN (?, ?, ?, ?, ?)`,
		model.StateCompleted, model.StateFailed, model.StateCanceled, model.StateTimedOut, model.StateAborted)
	if err != nil {
		return fmt.Errorf("look for interrupted jobs: %w", err)
	}
	type interrupted struct {
		id    int64
		state string
	}
	var jobs []interrupted
	for rows.Next() {
		var j interrupted
		if err := rows.Scan(&j.id, &j.state); err != nil {
			rows.Close()
			return fmt.Errorf("look for interrupted jobs: %w", err)
		}
		jobs = append(jobs, j)
	}
	rows.Close()
	for _, j := range jobs {
		if err := recordAbort(ctx, in.db, j.id, fmt.Sprintf("The process running this import stopped while the job was %s (killed or power loss); the job was aborted when bbimport next opened this home. What was finished before stays; the repository being built was removed. Import the rest with a new export.", j.state)); err != nil {
			return err
		}
	}
	return in.removeUnfinishedRepositories(ctx)
}

// removeUnfinishedRepositories deletes every INITIALISING repository row,
// every build directory, and every repository directory that no AVAILABLE
// repository owns (a crash between the rename and the commit leaves one).
func (in *Instance) removeUnfinishedRepositories(ctx context.Context) error {
	if _, err := in.db.ExecContext(ctx, `DELETE FROM repositories WHERE state = 'INITIALISING'`); err != nil {
		return fmt.Errorf("remove half-built repositories: %w", err)
	}
	if err := os.RemoveAll(in.tmpDir()); err != nil {
		return fmt.Errorf("remove build directories: %w", err)
	}
	if err := os.MkdirAll(in.tmpDir(), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", in.tmpDir(), err)
	}
	entries, err := os.ReadDir(in.repositoriesDir())
	if err != nil {
		return fmt.Errorf("list %s: %w", in.repositoriesDir(), err)
	}
	for _, e := range entries {
		id, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue // not ours
		}
		var one int
		if err := in.db.QueryRowContext(ctx, `SELECT 1 FROM repositories WHERE id = ? AND state = 'AVAILABLE'`, id).Scan(&one); err == nil {
			continue
		}
		if err := os.RemoveAll(in.repositoryDir(id)); err != nil {
			return fmt.Errorf("remove half-built repository %s: %w", in.repositoryDir(id), err)
		}
	}
	return nil
}
