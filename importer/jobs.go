package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dustin/go-humanize"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"bbimport/model"
	"bbimport/wire"
)

// diskFactor is how many times the archive's size the import may need free
// on the home's filesystem: git objects are stored as the archive holds
// them, metadata grows as gzip comes off, and the database adds indexes.
const diskFactor = 2

// jobRun is the job in progress: its live state (progress changes too often
// to write each step to the database) and the means to stop it.
type jobRun struct {
	id      int64
	archive string // absolute path
	size    int64

	ctx      context.Context // canceled to stop at once
	stopNow  context.CancelFunc
	done     chan struct{}
	finished model.Job // set before done is closed

	mu              sync.Mutex
	job             model.Job
	cancelRequested bool
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
// absolute inside it. The job runs in a goroutine of this process.
func (in *Instance) Start(ctx context.Context, archivePath string) (model.Job, error) {
	path, size, err := in.resolveArchive(archivePath)
	if err != nil {
		return model.Job{}, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.shutdown {
		return model.Job{}, fmt.Errorf("%w: bbimport is shutting down and starts no new import", model.ErrImportRunning)
	}
	if in.running != nil {
		return model.Job{}, fmt.Errorf("%w (job %d): wait for it to finish or cancel it", model.ErrImportRunning, in.running.id)
	}
	if err := in.checkDisk(size); err != nil {
		return model.Job{}, err
	}
	now := nowMillis()
	rel, _ := filepath.Rel(in.realImportDir(), path)
	var initiator *model.User
	var initiatorJSON sql.NullString
	if u, ok := model.InitiatorFrom(ctx); ok {
		initiator = &u
		data, _ := json.Marshal(u)
		initiatorJSON = sql.NullString{String: string(data), Valid: true}
	}
	res, err := in.db.ExecContext(ctx, `INSERT INTO jobs(state, archive_path, progress_message, start_date, updated_date, initiator,
		imported_projects, imported_repositories, imported_pull_requests) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0)`,
		model.StateInitialising, rel, "Reading "+rel, now, now, initiatorJSON)
	if err != nil {
		return model.Job{}, fmt.Errorf("record the new job: %w", err)
	}
	id, _ := res.LastInsertId()
	runCtx, stop := context.WithCancel(context.Background())
	run := &jobRun{id: id, archive: path, size: size, ctx: runCtx, stopNow: stop, done: make(chan struct{})}
	run.job = model.Job{ID: id, State: model.StateInitialising, Type: model.JobTypeImport,
		Progress: model.Progress{Message: "Reading " + rel}, StartDate: now, UpdatedDate: now, NodeID: in.nodeID, Initiator: initiator,
		Counts: &model.ImportCounts{}}
	in.running = run
	started := run.job
	go in.runJob(run)
	return started, nil
}

// realImportDir is the import directory with symlinks resolved (it exists:
// Open created it).
func (in *Instance) realImportDir() string {
	dir, err := filepath.EvalSymlinks(in.importDir)
	if err != nil {
		return filepath.Clean(in.importDir)
	}
	return dir
}

// resolveArchive checks that the path names a regular file inside the
// import directory once symlinks are resolved, so that a link cannot lead
// the importer to an arbitrary file.
func (in *Instance) resolveArchive(p string) (string, int64, error) {
	if strings.TrimSpace(p) == "" {
		return "", 0, fmt.Errorf("%w: no archive path given; name a file in %s", model.ErrBadArchivePath, in.importDir)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(in.importDir, p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", 0, fmt.Errorf("%w: %s does not exist; copy the archive into %s first", model.ErrBadArchivePath, p, in.importDir)
		}
		return "", 0, fmt.Errorf("%w: %s: %v", model.ErrBadArchivePath, p, err)
	}
	dir := in.realImportDir()
	rel, err := filepath.Rel(dir, real)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", 0, fmt.Errorf("%w: %s is not inside the import directory %s; move the archive there", model.ErrBadArchivePath, p, in.importDir)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %s: %v", model.ErrBadArchivePath, p, err)
	}
	if !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("%w: %s is not a regular file; name an archive file", model.ErrBadArchivePath, p)
	}
	return real, fi.Size(), nil
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

// Job returns a job's current state: live for the running job, from the
// database otherwise.
func (in *Instance) Job(ctx context.Context, id int64) (model.Job, error) {
	in.mu.Lock()
	run := in.running
	in.mu.Unlock()
	if run != nil && run.id == id {
		return run.snapshot(), nil
	}
	row := in.db.QueryRowContext(ctx, jobSelect+` WHERE id = ?`, id)
	job, err := in.scanJob(row)
	if errors.Is(err, sql.ErrNoRows) {
		return model.Job{}, fmt.Errorf("job %d: %w", id, model.ErrJobNotFound)
	}
	return job, err
}

const jobSelect = `SELECT id, state, progress_message, percentage, start_date, updated_date, end_date, initiator,
	imported_projects, imported_repositories, imported_pull_requests FROM jobs`

func (in *Instance) scanJob(row interface{ Scan(...any) error }) (model.Job, error) {
	var j model.Job
	var end sql.NullInt64
	var initiator sql.NullString
	var projects, repos, prs sql.NullInt64
	if err := row.Scan(&j.ID, &j.State, &j.Progress.Message, &j.Progress.Percentage, &j.StartDate, &j.UpdatedDate, &end, &initiator,
		&projects, &repos, &prs); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return j, err
		}
		return j, fmt.Errorf("read job: %w", err)
	}
	j.EndDate = end.Int64
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
	return j, nil
}

// KnownJobs lists every job of this home, newest first.
func (in *Instance) KnownJobs(ctx context.Context) ([]model.Job, error) {
	rows, err := in.db.QueryContext(ctx, jobSelect+` ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	in.mu.Lock()
	run := in.running
	in.mu.Unlock()
	var jobs []model.Job
	for rows.Next() {
		j, err := in.scanJob(rows)
		if err != nil {
			return nil, err
		}
		if run != nil && run.id == j.ID {
			j = run.snapshot()
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// Cancel asks the running job to stop at its next checkpoint.
func (in *Instance) Cancel(ctx context.Context, id int64) error {
	in.mu.Lock()
	run := in.running
	in.mu.Unlock()
	if run != nil && run.id == id {
		run.mu.Lock()
		already := run.cancelRequested
		if !already && !run.job.State.Finished() {
			run.cancelRequested = true
			run.job.State = model.StateCanceling
			run.job.UpdatedDate = nowMillis()
		}
		run.mu.Unlock()
		if already {
			return fmt.Errorf("job %d is already canceling: %w", id, model.ErrJobFinished)
		}
		return nil
	}
	job, err := in.Job(ctx, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("job %d is %s: %w", id, job.State, model.ErrJobFinished)
}

// StopNow stops a job at once, without waiting for its checkpoint: what
// stops is rolled back to the last checkpoint, and no half-built
// repository is left.
func (in *Instance) StopNow(ctx context.Context, id int64) error {
	in.mu.Lock()
	run := in.running
	in.mu.Unlock()
	if run != nil && run.id == id {
		run.stopNow()
		return nil
	}
	job, err := in.Job(ctx, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("job %d is %s: %w", id, job.State, model.ErrJobFinished)
}

// Wait blocks until the job has finished and returns its final state.
func (in *Instance) Wait(ctx context.Context, id int64) (model.Job, error) {
	in.mu.Lock()
	run := in.running
	in.mu.Unlock()
	if run == nil || run.id != id {
		return in.Job(ctx, id)
	}
	select {
	case <-run.done:
		return run.finished, nil
	case <-ctx.Done():
		return run.snapshot(), ctx.Err()
	}
}

// Shutdown refuses new imports, asks the running one to stop at its next
// checkpoint and waits for it (or for ctx, after which it stops at once).
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
	page, err := queryPage(ctx, in.db, start, limit, func(row interface{ Scan(...any) error }) (model.Message, error) {
		var m model.Message
		var mid int64
		err := row.Scan(&mid, &m.Severity, &m.Subject, &m.Text, &m.CreatedDate)
		m.ID = strconv.FormatInt(mid, 10)
		return m, err
	}, `SELECT id, severity, subject, text, created_date FROM messages
		WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return page, fmt.Errorf("read messages of job %d: %w", id, err)
	}
	return page, nil
}
