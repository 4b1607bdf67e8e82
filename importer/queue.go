// The home's queue: archives imported one after another, one import at a
// time, each its own job. It lives in the database, not in a console: the
// import that ends starts the next queued archive as its last act (RunJob,
// or the goroutine of start), so the queue goes on with no console open.
// An archive passes the start's rules when queued and again when its turn
// comes; one that fails them then is dropped, with the reason, and never
// becomes a job.

package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"bbimport/model"
)

var _ model.Queuer = (*Instance)(nil)

// Enqueue puts archives at the end of the queue, after the rules a start
// applies to each (none is queued when one fails them), and starts the
// first waiting archive when no import runs.
func (in *Instance) Enqueue(ctx context.Context, archivePaths ...string) (model.Job, error) {
	if in.readOnly {
		return model.Job{}, fmt.Errorf("instance home %s is read-only for this user: queue imports as a user who can write it", in.home)
	}
	waiting, err := in.Queue(ctx)
	if err != nil {
		return model.Job{}, err
	}
	queued := map[string]int{} // archive → its place among those waiting
	for _, q := range waiting {
		if q.Dropped == "" {
			queued[q.Archive] = len(queued) + 1
		}
	}
	names := make([]string, 0, len(archivePaths))
	for _, p := range archivePaths {
		f, name, _, err := in.openArchive(p)
		if err != nil {
			return model.Job{}, err
		}
		f.Close()
		if n := queued[name]; n > 0 {
			return model.Job{}, model.RefuseArchive("%s is already number %d in the queue", name, n)
		}
		queued[name] = len(queued) + 1
		names = append(names, name)
	}
	if err := in.insertQueued(ctx, names); err != nil {
		return model.Job{}, err
	}
	job, err := in.startQueued(ctx)
	if err != nil {
		return model.Job{}, fmt.Errorf("the archives are queued, but the first did not start: %w", err)
	}
	return job, nil
}

func (in *Instance) insertQueued(ctx context.Context, names []string) error {
	tx, err := in.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("queue the archives: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // after Commit it does nothing
	now := nowMillis()
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, `INSERT INTO queue(archive_path, queued_date) VALUES (?, ?)`, name, now); err != nil {
			return fmt.Errorf("queue %s: %w", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("queue the archives: %w", err)
	}
	return nil
}

// Queue lists the waiting archives in the order they start, then the
// dropped ones, newest drop first.
func (in *Instance) Queue(ctx context.Context) ([]model.QueuedArchive, error) {
	rows, err := in.db.QueryContext(ctx, `SELECT id, archive_path, queued_date, dropped_reason, dropped_date FROM queue
		ORDER BY dropped_date IS NOT NULL, dropped_date DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("read the queue: %w", err)
	}
	defer rows.Close()
	var out []model.QueuedArchive
	for rows.Next() {
		var q model.QueuedArchive
		var reason sql.NullString
		var dropped sql.NullInt64
		if err := rows.Scan(&q.ID, &q.Archive, &q.QueuedDate, &reason, &dropped); err != nil {
			return nil, fmt.Errorf("read the queue: %w", err)
		}
		q.Dropped, q.DroppedDate = reason.String, dropped.Int64
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the queue: %w", err)
	}
	return out, nil
}

// Dequeue takes an entry, waiting or dropped, off the queue.
func (in *Instance) Dequeue(ctx context.Context, id int64) error {
	if in.readOnly {
		return fmt.Errorf("instance home %s is read-only for this user: change the queue as a user who can write it", in.home)
	}
	res, err := in.db.ExecContext(ctx, `DELETE FROM queue WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("take entry %d off the queue: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("queue entry %d: %w (it started or was taken off)", id, model.ErrNotQueued)
	}
	return nil
}

// startQueued starts the first waiting archive that passes the start's
// rules, unless an import runs (its end starts the queue) or the queue is
// empty: then the job's ID is 0 and the error nil. Archives that fail the
// rules are dropped on the way, each with the refusal as its reason. It
// picks under the import lock, so two processes never start one entry.
func (in *Instance) startQueued(ctx context.Context) (model.Job, error) {
	if in.readOnly {
		return model.Job{}, nil
	}
	// Nothing waits (the common end of an import): no start is reserved,
	// so a Start of this process right after the end is not refused.
	var waiting int
	if err := in.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM queue WHERE dropped_date IS NULL`).Scan(&waiting); err != nil {
		return model.Job{}, fmt.Errorf("read the queue: %w", err)
	}
	if waiting == 0 {
		return model.Job{}, nil
	}
	job, err := in.start(ctx, in.pickQueued)
	if errors.Is(err, model.ErrImportRunning) {
		return model.Job{}, nil
	}
	return job, err
}

// pickQueued is the queue's next archive, opened; nil when none waits.
func (in *Instance) pickQueued(ctx context.Context) (*startable, error) {
	for {
		var id int64
		var p string
		err := in.db.QueryRowContext(ctx, `SELECT id, archive_path FROM queue WHERE dropped_date IS NULL ORDER BY id LIMIT 1`).Scan(&id, &p)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("read the queue: %w", err)
		}
		f, name, size, err := in.ready(p)
		if errors.Is(err, model.ErrBadArchivePath) || errors.Is(err, model.ErrNotEnoughDisk) {
			if _, derr := in.db.ExecContext(ctx, `UPDATE queue SET dropped_reason = ?, dropped_date = ? WHERE id = ?`,
				err.Error(), nowMillis(), id); derr != nil {
				return nil, fmt.Errorf("drop %s from the queue: %w", p, derr)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return &startable{file: f, name: name, size: size, queued: id}, nil
	}
}
