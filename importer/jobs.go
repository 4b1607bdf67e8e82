// The job API other processes and the doors use (Job, KnownJobs, Cancel,
// StopNow, Wait, Messages): each call chooses between the run in this
// process and the database in the same way. How a job starts, runs and
// ends is in joblife.go.

package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"bbimport/model"
	"bbimport/wire"
)

// Job returns a job's current state: live for a job running in this
// process, from the database otherwise.
func (in *Instance) Job(ctx context.Context, id int64) (model.Job, error) {
	jobs, err := in.jobs(ctx, ` WHERE id = ?`, id)
	if err != nil {
		return model.Job{}, err
	}
	if len(jobs) == 0 {
		return model.Job{}, fmt.Errorf("job %d: %w in instance home %s", id, model.ErrJobNotFound, in.home)
	}
	return jobs[0], nil
}

// KnownJobs lists every job of this home, newest first.
func (in *Instance) KnownJobs(ctx context.Context) ([]model.Job, error) {
	return in.jobs(ctx, ` ORDER BY id DESC`)
}

// staleAfter is how old a heartbeat may be before a reader checks whether
// the job's runner still lives; the runner beats every second.
const staleAfter = 2 * time.Second

// jobs reads jobs from the database, the live state of one running here
// replacing its row. An unfinished job whose heartbeat stopped and whose
// runner no longer holds the import lock is recorded ABORTED first (where
// that cannot be written, it is only shown so).
func (in *Instance) jobs(ctx context.Context, where string, args ...any) ([]model.Job, error) {
	// The runs of this process are taken before the rows: one that ends
	// between the two is still read from its run, whose state is final
	// before its row is, rather than from a row read before it ended.
	in.mu.Lock()
	run := in.running
	exports := maps.Clone(in.exports)
	in.mu.Unlock()
	rows, err := in.queryJobs(ctx, where, args...)
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		if r.State.Finished() || (run != nil && run.id == r.ID) || time.Since(time.UnixMilli(r.heartbeat)) < staleAfter {
			continue
		}
		if r.Type == model.JobTypeExport {
			gone, err := in.recoverExport(ctx, r.ID, r.exportSlot)
			if err != nil {
				return nil, err
			}
			if gone && in.readOnly {
				rows[i].State = model.StateAborted
			} else if gone {
				if again, err := in.queryJobs(ctx, ` WHERE id = ?`, r.ID); err == nil && len(again) == 1 {
					rows[i] = again[0]
				}
			}
			continue
		}
		idle, err := in.recoverIfIdle(ctx)
		if idle && err == nil {
			rows, err = in.queryJobs(ctx, where, args...)
			if err != nil {
				return nil, err
			}
		}
		// Not recovered here (read-only, or the disk is full): shown as
		// it will be recorded by whoever can.
		if idle && err != nil {
			for i := range rows {
				if !rows[i].State.Finished() {
					rows[i].State = model.StateAborted
				}
			}
		}
		break
	}
	jobs := make([]model.Job, len(rows))
	for i, r := range rows {
		jobs[i] = r.Job
		if run != nil && run.id == r.ID {
			jobs[i] = run.snapshot()
		}
		if e := exports[r.ID]; e != nil {
			jobs[i] = e.snapshot()
		}
	}
	return jobs, nil
}

const jobSelect = `SELECT id, state, archive_path, progress_message, percentage, start_date, updated_date, end_date, initiator,
	imported_projects, imported_repositories, imported_pull_requests, personal_projects_reused, heartbeat, type, COALESCE(export_slot, 0) FROM jobs`

// jobRow is a job as its row holds it, with when its runner last beat.
type jobRow struct {
	model.Job
	heartbeat  int64
	exportSlot int // the slot an export's runner holds
}

func (in *Instance) queryJobs(ctx context.Context, where string, args ...any) ([]jobRow, error) {
	rows, err := in.db.QueryContext(ctx, jobSelect+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	defer rows.Close()
	var jobs []jobRow
	for rows.Next() {
		var j jobRow
		var end, heartbeat sql.NullInt64
		var initiator sql.NullString
		var projects, repos, prs sql.NullInt64
		var reused int
		if err := rows.Scan(&j.ID, &j.State, &j.Archive, &j.Progress.Message, &j.Progress.Percentage, &j.StartDate, &j.UpdatedDate, &end, &initiator,
			&projects, &repos, &prs, &reused, &heartbeat, &j.Type, &j.exportSlot); err != nil {
			return nil, fmt.Errorf("read job: %w", err)
		}
		j.EndDate, j.heartbeat = end.Int64, heartbeat.Int64
		if initiator.Valid {
			var u model.User
			if json.Unmarshal([]byte(initiator.String), &u) == nil {
				j.Initiator = &u
			}
		}
		if projects.Valid {
			j.Counts = &model.ImportCounts{Projects: int(projects.Int64), Repositories: int(repos.Int64), PullRequests: int(prs.Int64),
				PersonalReused: reused}
		}
		j.NodeID = in.nodeID
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	return jobs, nil
}

// localRun returns the run of job id if it runs in this process.
func (in *Instance) localRun(id int64) *jobRun {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.running != nil && in.running.id == id {
		return in.running
	}
	return nil
}

// Cancel asks a running job to stop at its next checkpoint. A job of
// another process gets the request through the database: it shows
// CANCELING at once, and its runner honours it within a poll.
func (in *Instance) Cancel(ctx context.Context, id int64) error {
	if run := in.localExport(id); run != nil {
		return stopExport(run)
	}
	if run := in.localRun(id); run != nil {
		if run.requestCancel() {
			return fmt.Errorf("job %d is already canceling: %w", id, model.ErrJobFinished)
		}
		return nil
	}
	job, err := in.Job(ctx, id)
	switch {
	case err != nil:
		return err
	case job.State == model.StateCanceling:
		return fmt.Errorf("job %d is already canceling: %w", id, model.ErrJobFinished)
	case job.Type == model.JobTypeExport:
		// An export has no checkpoint: it stops at once, as Bitbucket's does.
		return in.requestStop(ctx, job, stopAtOnce)
	}
	return in.requestStop(ctx, job, cancelAtCheckpoint)
}

// StopNow stops a job at once, without waiting for its checkpoint: what
// stops is rolled back to the last checkpoint, and no half-built
// repository is left.
func (in *Instance) StopNow(ctx context.Context, id int64) error {
	if run := in.localExport(id); run != nil {
		_ = stopExport(run)
		return nil
	}
	if run := in.localRun(id); run != nil {
		run.stopNow()
		return nil
	}
	job, err := in.Job(ctx, id)
	if err != nil {
		return err
	}
	return in.requestStop(ctx, job, stopAtOnce)
}

// The requests another process leaves in jobs.cancel_requested.
const (
	cancelAtCheckpoint = 1
	stopAtOnce         = 2
)

// requestStop records a cancel or stop request for the job's runner.
func (in *Instance) requestStop(ctx context.Context, job model.Job, how int) error {
	if job.State.Finished() {
		return fmt.Errorf("job %d is %s: %w", job.ID, job.State, model.ErrJobFinished)
	}
	if in.readOnly {
		return fmt.Errorf("instance home %s is read-only for this user: cancel job %d as a user who can write it", in.home, job.ID)
	}
	res, err := in.db.ExecContext(ctx, `UPDATE jobs SET cancel_requested = MAX(cancel_requested, ?), state = ?, updated_date = ?
		WHERE id = ? AND end_date IS NULL`, how, model.StateCanceling, nowMillis(), job.ID)
	if err != nil {
		return fmt.Errorf("record the cancel of job %d: %w", job.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		job, err := in.Job(ctx, job.ID)
		if err != nil {
			return err
		}
		return fmt.Errorf("job %d is %s: %w", job.ID, job.State, model.ErrJobFinished)
	}
	return nil
}

// waitPoll is how often Wait reads a job that runs in another process.
const waitPoll = 200 * time.Millisecond

// Wait blocks until the job has finished and returns its final state.
func (in *Instance) Wait(ctx context.Context, id int64) (model.Job, error) {
	if run := in.localRun(id); run != nil {
		select {
		case <-run.done:
			return run.finished, nil
		case <-ctx.Done():
			return run.snapshot(), ctx.Err()
		}
	}
	for {
		job, err := in.Job(ctx, id)
		if err != nil || job.State.Finished() {
			return job, err
		}
		select {
		case <-ctx.Done():
			return job, ctx.Err()
		case <-time.After(waitPoll):
		}
	}
}

// Shutdown refuses new imports, asks the job running in this process to
// stop at its next checkpoint and waits for it (or for ctx, after which it
// stops at once). A job in a runner process goes on.
func (in *Instance) Shutdown(ctx context.Context) error {
	in.mu.Lock()
	in.shutdown = true
	run := in.running
	in.mu.Unlock()
	if run == nil {
		return nil
	}
	_ = in.Cancel(ctx, run.id)
	select {
	case <-run.done:
		return nil
	case <-ctx.Done():
		run.stopNow()
		<-run.done
		return fmt.Errorf("job %d did not reach a checkpoint in time and was stopped at once: %w", run.id, ctx.Err())
	}
}

// Messages returns one page of a job's messages, oldest first, filtered in
// SQL. A subject matches itself and everything under it: "PRJ" also selects
// "PRJ/repo" and "PRJ/repo#12".
func (in *Instance) Messages(ctx context.Context, id int64, q model.MessageQuery) (model.Page[model.Message], error) {
	if _, err := in.Job(ctx, id); err != nil {
		return model.Page[model.Message]{}, err
	}
	start, limit := wire.Bounds(q.Start, q.Limit)
	where := []string{"job_id = ?"}
	args := []any{id}
	if len(q.Severities) > 0 {
		marks := make([]string, len(q.Severities))
		for i, s := range q.Severities {
			marks[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "severity IN ("+strings.Join(marks, ",")+")")
	}
	if q.Subject != "" {
		// Ranges rather than LIKE so that the subject index serves them:
		// '/' + 1 is '0' and '#' + 1 is '$'.
		where = append(where, "(subject = ? OR (subject >= ? AND subject < ?) OR (subject >= ? AND subject < ?))")
		args = append(args, q.Subject, q.Subject+"/", q.Subject+"0", q.Subject+"#", q.Subject+"$")
	}
	// Unfiltered, the page at start begins at the message numbered start;
	// filtered, pages follow one another by id.
	p := paging[model.Message]{start: start, limit: limit, order: []string{"id"}, appendOnly: true,
		key: func(m model.Message) []any { return []any{m.ID} }}
	if len(where) == 1 {
		p.order, p.seeked = []string{"seq"}, true
		where, args = append(where, "seq >= ?"), append(args, start)
	}
	page, err := queryPage(ctx, in, p, func(row interface{ Scan(...any) error }) (model.Message, error) {
		var m model.Message
		var mid int64
		err := row.Scan(&mid, &m.Severity, &m.Subject, &m.Text, &m.CreatedDate)
		m.ID = strconv.FormatInt(mid, 10)
		return m, err
	}, `SELECT id, severity, subject, text, created_date FROM messages WHERE `+strings.Join(where, " AND "), args...)
	if err != nil {
		return page, fmt.Errorf("read messages of job %d: %w", id, err)
	}
	return page, nil
}
