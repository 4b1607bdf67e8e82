// Over 600 lines on purpose: the job API of an Instance (Start, Job,
// Messages, Cancel, StopNow, Wait, KnownJobs) and the live run state it
// reads, in one place, because each call must choose between the run in
// this process and the database in the same way.

package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"golang.org/x/sys/unix"

	"bbimport/archive"
	"bbimport/model"
	"bbimport/wire"
)

// diskFactor is how many times the archive's size the import may need free
// on the home's filesystem: git objects are stored as the archive holds
// them, metadata grows as gzip comes off, and the database adds indexes.
const diskFactor = 2

// jobRun is the job in progress in this process: its live state (progress
// changes too often to write each step to the database) and the means to
// stop it.
type jobRun struct {
	id      int64
	archive string   // as named to Start, relative to the import directory
	file    *os.File // the archive, opened once by Start
	size    int64
	lock    *os.File // the import lock, released once the end is recorded

	ctx      context.Context // canceled to stop at once
	stopNow  context.CancelFunc
	done     chan struct{}
	finished model.Job // set before done is closed

	mu              sync.Mutex
	job             model.Job
	cancelRequested bool
}

func newRun(job model.Job, file *os.File, size int64, lock *os.File) *jobRun {
	ctx, stop := context.WithCancel(context.Background())
	if job.Counts == nil {
		job.Counts = &model.ImportCounts{}
	}
	return &jobRun{id: job.ID, archive: job.Archive, file: file, size: size, lock: lock,
		ctx: ctx, stopNow: stop, done: make(chan struct{}), job: job}
}

// requestCancel asks the run to stop at its next checkpoint; already
// reports whether it had been asked before, or has finished.
func (r *jobRun) requestCancel() (already bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancelRequested || r.job.State.Finished() {
		return true
	}
	r.cancelRequested = true
	r.job.State = model.StateCanceling
	r.job.UpdatedDate = nowMillis()
	return false
}

func (r *jobRun) snapshot() model.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.job
}

func (r *jobRun) canceling() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cancelRequested
}

// setProgress moves the progress on; the percentage never goes down.
func (r *jobRun) setProgress(msg string, consumed int64) {
	pct := 0
	if r.size > 0 {
		pct = int(consumed * 100 / r.size)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if msg != "" {
		r.job.Progress.Message = msg
	}
	if pct > 99 {
		pct = 99 // 100 is for a finished job
	}
	if pct > r.job.Progress.Percentage {
		r.job.Progress.Percentage = pct
	}
	r.job.UpdatedDate = nowMillis()
}

// setState changes the live state, keeping CANCELING once a cancel came in
// until the job finishes.
func (r *jobRun) setState(s model.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancelRequested && !s.Finished() {
		s = model.StateCanceling
	}
	r.job.State = s
	r.job.UpdatedDate = nowMillis()
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// Start starts an import of archivePath, relative to the import directory or
// absolute inside it. The archive is opened here, once; the job reads that
// handle, in a runner process when Options.Runner is set (Start returns
// once the runner has taken the job over), else in a goroutine.
func (in *Instance) Start(ctx context.Context, archivePath string, notes ...string) (model.Job, error) {
	if in.readOnly {
		return model.Job{}, fmt.Errorf("instance home %s is read-only for this user: start imports as a user who can write it", in.home)
	}
	f, name, size, err := in.openArchive(archivePath)
	if err != nil {
		return model.Job{}, err
	}
	handedOver := false
	defer func() {
		if !handedOver {
			f.Close()
		}
	}()
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.shutdown {
		return model.Job{}, fmt.Errorf("%w: bbimport is shutting down and starts no new import", model.ErrImportRunning)
	}
	if in.running != nil {
		return model.Job{}, in.running.runningImport()
	}
	lock, err := in.takeImportLock(ctx)
	if err != nil {
		return model.Job{}, err
	}
	job, err := in.beginJob(ctx, name, size)
	if err != nil {
		lock.Close()
		return model.Job{}, err
	}
	if err := recordNotes(ctx, in.db, job.ID, notes); err != nil {
		lock.Close()
		return model.Job{}, err
	}
	if in.runner != nil {
		// The runner holds the lock with its own descriptor from now on.
		defer lock.Close()
		if err := in.spawn(job.ID, f, lock); err != nil {
			return model.Job{}, err
		}
		rows, err := in.queryJobs(ctx, ` WHERE id = ?`, job.ID)
		if err != nil || len(rows) == 0 {
			return job, err
		}
		return rows[0].Job, nil
	}
	handedOver = true
	in.running = newRun(job, f, size, lock)
	go in.runJob(in.running)
	return job, nil
}

// takeImportLock takes the import lock for a new import, after recovering
// from a runner that died without recording its end.
func (in *Instance) takeImportLock(ctx context.Context) (*os.File, error) {
	for tries := 0; ; tries++ {
		lock, err := in.lockImport()
		if err != nil {
			return nil, err
		}
		running, err := in.runningImport(ctx)
		if err != nil {
			if lock != nil {
				lock.Close()
			}
			return nil, err
		}
		if lock != nil {
			if running.JobID != 0 {
				if err := in.recover(ctx); err != nil {
					lock.Close()
					return nil, err
				}
			}
			return lock, nil
		}
		// Held with no job running: a reader checking whether a runner
		// died, which lets go at once.
		if running.JobID != 0 || tries == 50 {
			return nil, running
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// beginJob checks the disk and records the new job.
func (in *Instance) beginJob(ctx context.Context, name string, size int64) (model.Job, error) {
	if err := in.checkDisk(size); err != nil {
		return model.Job{}, err
	}
	now := nowMillis()
	var initiator *model.User
	var initiatorJSON sql.NullString
	if u, ok := model.InitiatorFrom(ctx); ok {
		initiator = &u
		data, _ := json.Marshal(u)
		initiatorJSON = sql.NullString{String: string(data), Valid: true}
	}
	// A goroutine runs the job in this process; a runner records its own
	// pid once it has taken the job over.
	var pid sql.NullInt64
	var logPath sql.NullString
	if in.runner == nil {
		pid = sql.NullInt64{Int64: int64(os.Getpid()), Valid: true}
	}
	res, err := in.db.ExecContext(ctx, `INSERT INTO jobs(state, archive_path, progress_message, start_date, updated_date, initiator,
		imported_projects, imported_repositories, imported_pull_requests, runner_pid, runner_command, heartbeat)
		VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?)`,
		model.StateInitialising, name, "Reading "+name, now, now, initiatorJSON, pid, commandLine(), now)
	if err != nil {
		return model.Job{}, fmt.Errorf("record the new job: %w", err)
	}
	id, _ := res.LastInsertId()
	if in.runner != nil {
		logPath = sql.NullString{String: in.jobLog(id), Valid: true}
		if _, err := in.db.ExecContext(ctx, `UPDATE jobs SET runner_log = ? WHERE id = ?`, logPath, id); err != nil {
			return model.Job{}, fmt.Errorf("record the new job: %w", err)
		}
	}
	return model.Job{ID: id, State: model.StateInitialising, Type: model.JobTypeImport,
		Progress: model.Progress{Message: "Reading " + name}, StartDate: now, UpdatedDate: now, NodeID: in.nodeID, Initiator: initiator,
		Counts: &model.ImportCounts{}, Archive: name}, nil
}

// commandLine is this process's command line, to tell who started a job.
func commandLine() string { return strings.Join(os.Args, " ") }

// runningImport says who runs the import of this process.
func (r *jobRun) runningImport() *model.RunningImport {
	job := r.snapshot()
	return &model.RunningImport{JobID: r.id, PID: os.Getpid(), Command: commandLine(), Since: time.UnixMilli(job.StartDate)}
}

// runningImport says who runs the home's unfinished job, from the database
// (JobID 0 when there is none).
func (in *Instance) runningImport(ctx context.Context) (*model.RunningImport, error) {
	var r model.RunningImport
	var pid sql.NullInt64
	var command sql.NullString
	var since int64
	err := in.db.QueryRowContext(ctx, `SELECT id, runner_pid, runner_command, start_date FROM jobs
		WHERE end_date IS NULL ORDER BY id DESC LIMIT 1`).Scan(&r.JobID, &pid, &command, &since)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &r, nil
	case err != nil:
		return nil, fmt.Errorf("look up the running import: %w", err)
	}
	r.PID, r.Command, r.Since = int(pid.Int64), command.String, time.UnixMilli(since)
	return &r, nil
}

// openArchive opens the archive once, by handle, and returns it with its
// name relative to the import directory and its size. A symbolic link
// inside the import directory is resolved first and must stay inside it;
// the resolved file is then opened with no link followed as its last
// element and through a handle on the import directory, so that nothing
// swapped in meanwhile is read, and the job never looks the name up again.
func (in *Instance) openArchive(p string) (*os.File, string, int64, error) {
	real, err := archive.Resolve(in.importDir, p)
	if err != nil {
		return nil, "", 0, err
	}
	f, err := archive.Open(real, archive.RealDir(in.importDir))
	if err != nil {
		return nil, "", 0, fmt.Errorf("%w: %w", model.ErrBadArchivePath, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, "", 0, fmt.Errorf("%w: %s: %w", model.ErrBadArchivePath, p, err)
	}
	return f, in.archiveName(p), fi.Size(), nil
}

// archiveName names an archive path relative to the import directory.
func (in *Instance) archiveName(p string) string {
	if !filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	dirs := []string{in.importDir}
	if real, err := filepath.EvalSymlinks(in.importDir); err == nil {
		dirs = append(dirs, real)
	}
	for _, dir := range dirs {
		if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return filepath.Base(p)
}

func (in *Instance) checkDisk(archiveSize int64) error {
	var st unix.Statfs_t
	if err := unix.Statfs(in.dataDir(), &st); err != nil {
		return fmt.Errorf("check free disk space of %s: %w", in.dataDir(), err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if need := archiveSize * diskFactor; need > free {
		return fmt.Errorf("%w: the import needs about %s (%d x the archive's %s) but %s has %s free; free some space or use another --home",
			model.ErrNotEnoughDisk, humanize.IBytes(uint64(need)), diskFactor, humanize.IBytes(uint64(archiveSize)), in.dataDir(), humanize.IBytes(uint64(free)))
	}
	return nil
}

// Job returns a job's current state: live for a job running in this
// process, from the database otherwise.
func (in *Instance) Job(ctx context.Context, id int64) (model.Job, error) {
	jobs, err := in.jobs(ctx, ` WHERE id = ?`, id)
	if err != nil {
		return model.Job{}, err
	}
	if len(jobs) == 0 {
		return model.Job{}, fmt.Errorf("job %d: %w", id, model.ErrJobNotFound)
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
// runner no longer holds the import lock is recorded ABORTED first (in a
// read-only home it is only shown so).
func (in *Instance) jobs(ctx context.Context, where string, args ...any) ([]model.Job, error) {
	in.mu.Lock()
	run := in.running
	in.mu.Unlock()
	rows, err := in.queryJobs(ctx, where, args...)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.State.Finished() || (run != nil && run.id == r.ID) || time.Since(time.UnixMilli(r.heartbeat)) < staleAfter {
			continue
		}
		idle, err := in.recoverIfIdle(ctx)
		if err != nil {
			return nil, err
		}
		if idle && !in.readOnly {
			rows, err = in.queryJobs(ctx, where, args...)
			if err != nil {
				return nil, err
			}
		}
		if idle && in.readOnly {
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
	}
	return jobs, nil
}

const jobSelect = `SELECT id, state, archive_path, progress_message, percentage, start_date, updated_date, end_date, initiator,
	imported_projects, imported_repositories, imported_pull_requests, heartbeat FROM jobs`

// jobRow is a job as its row holds it, with when its runner last beat.
type jobRow struct {
	model.Job
	heartbeat int64
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
		if err := rows.Scan(&j.ID, &j.State, &j.Archive, &j.Progress.Message, &j.Progress.Percentage, &j.StartDate, &j.UpdatedDate, &end, &initiator,
			&projects, &repos, &prs, &heartbeat); err != nil {
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
			j.Counts = &model.ImportCounts{Projects: int(projects.Int64), Repositories: int(repos.Int64), PullRequests: int(prs.Int64)}
		}
		j.Type = model.JobTypeImport
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
	}
	return in.requestStop(ctx, job, cancelAtCheckpoint)
}

// StopNow stops a job at once, without waiting for its checkpoint: what
// stops is rolled back to the last checkpoint, and no half-built
// repository is left.
func (in *Instance) StopNow(ctx context.Context, id int64) error {
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
