// A job's life, in the order it is lived: Start checks the archive and
// reserves the import, records the job and hands it to a runner process
// (spawn) or a goroutine; the runner takes the job over (RunJob), runJob
// reads the archive to its end while watch beats and reads cancel
// requests, and the end is recorded before the lock is let go. The
// queries and requests other processes make (Job, Cancel, Wait) are in
// jobs.go; the reading of the archive itself is in run.go.

package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"golang.org/x/sys/unix"

	"bbimport/archive"
	"bbimport/model"
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
	// unrecorded, set before done is closed, is why the end could not be
	// written to the database (it is in the end note).
	unrecorded error

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

// ending returns the live job as it ends in state, its progress message
// naming what the job is (noun: "Import", "Export"), and leaves the live
// job as it is: an import records its end first and shows it only then
// (runJob), so that whoever sees it ended finds its messages final.
func (r *jobRun) ending(state model.State, noun string) model.Job {
	j := r.snapshot()
	j.State = state
	j.EndDate = nowMillis()
	j.UpdatedDate = j.EndDate
	if state == model.StateCompleted || state == model.StateFailed {
		j.Progress.Percentage = 100
	}
	j.Progress.Message = noun + " " + strings.ToLower(string(state))
	return j
}

// end marks the live job ended in state (see ending) and returns it.
func (r *jobRun) end(state model.State, noun string) model.Job {
	j := r.ending(state, noun)
	r.show(j)
	return j
}

// show makes j the live job.
func (r *jobRun) show(j model.Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.job = j
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
// absolute inside it. Its refusals come first, and none records a job: one
// import at a time (model.ErrImportRunning), then the archive's rules
// (archive.OpenToImport, model.ErrBadArchivePath), then the disk. The
// archive is opened here, once; the job reads that handle, in a runner
// process when Options.Runner is set (Start returns once the runner has
// taken the job over, or its deadline passed), else in a goroutine.
//
// in.mu is held only to reserve the start: the wait for the import lock,
// the archive's check and the runner's start happen outside it, so that
// Job, KnownJobs and Cancel are answered meanwhile.
func (in *Instance) Start(ctx context.Context, archivePath string, notes ...string) (model.Job, error) {
	return in.start(ctx, func(context.Context) (*startable, error) {
		f, name, size, err := in.ready(archivePath)
		if err != nil {
			return nil, err
		}
		return &startable{file: f, name: name, size: size, notes: notes}, nil
	})
}

// startable is an archive that passed a start's rules, open, about to
// become a job.
type startable struct {
	file  *os.File
	name  string // relative to the import directory
	size  int64
	notes []string
	// queued is the queue entry it comes from, which the new job replaces;
	// 0 for a start of its own.
	queued int64
}

// ready applies a start's rules to the archive p names (archive.OpenToImport,
// then the disk) and returns it open, with its name and size.
func (in *Instance) ready(p string) (*os.File, string, int64, error) {
	f, name, size, err := in.openArchive(p)
	if err != nil {
		return nil, "", 0, err
	}
	if err := in.checkDisk(size); err != nil {
		f.Close()
		return nil, "", 0, err
	}
	return f, name, size, nil
}

// start reserves the start and takes the import lock, then asks pick for
// the archive to start (nil: nothing to start), records the job and hands
// the archive and the lock to its runner, or to a goroutine.
func (in *Instance) start(ctx context.Context, pick func(context.Context) (*startable, error)) (model.Job, error) {
	if in.readOnly {
		return model.Job{}, fmt.Errorf("instance home %s is read-only for this user: start imports as a user who can write it", in.home)
	}
	release, err := in.reserveStart()
	if err != nil {
		return model.Job{}, err
	}
	defer release()
	lock, err := in.takeImportLock(ctx)
	if err != nil {
		return model.Job{}, err
	}
	// A runner holds the lock with its own descriptor once started; a
	// goroutine run takes this one over.
	handedOver := false
	defer func() {
		if !handedOver {
			lock.Close()
		}
	}()
	s, err := pick(ctx)
	if err != nil || s == nil {
		return model.Job{}, err
	}
	f := s.file
	defer func() {
		if !handedOver {
			f.Close()
		}
	}()
	job, err := in.beginJob(ctx, s.name, s.size, s.queued)
	if err != nil {
		return model.Job{}, err
	}
	if err := recordNotes(ctx, in.db, job.ID, s.notes); err != nil {
		return model.Job{}, err
	}
	if in.runner != nil {
		// Only the deadline bounds the spawn: a caller that goes away
		// (an HTTP client hanging up) must not abort a started runner.
		spawnCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spawnDeadline)
		defer cancel()
		if err := in.spawn(spawnCtx, job.ID, []*os.File{f, lock}); err != nil {
			return model.Job{}, err
		}
		rows, err := in.queryJobs(ctx, ` WHERE id = ?`, job.ID)
		if err != nil || len(rows) == 0 {
			return job, err
		}
		return rows[0].Job, nil
	}
	handedOver = true
	run := newRun(job, f, s.size, lock)
	in.mu.Lock()
	in.running = run
	in.mu.Unlock()
	in.goroutines.Add(1)
	go func() {
		defer in.goroutines.Done()
		in.runJob(run)
		// As a runner does (RunJob), unless this instance is closing.
		_, _ = in.startQueued(context.Background())
	}()
	return job, nil
}

// reserveStart reserves this process's one start, or says why it cannot
// start; release ends the reservation.
func (in *Instance) reserveStart() (release func(), err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	switch {
	case in.shutdown:
		return nil, fmt.Errorf("%w: bbimport is shutting down and starts no new import", model.ErrImportRunning)
	case in.running != nil:
		return nil, in.running.runningImport()
	case in.starting:
		return nil, fmt.Errorf("%w: this process is starting another import", model.ErrImportRunning)
	}
	in.starting = true
	return func() {
		in.mu.Lock()
		in.starting = false
		in.mu.Unlock()
	}, nil
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

// initiatorOf is the user who asked for a job, as the job carries it and
// as its row stores it (JSON), when the request came with one.
func initiatorOf(ctx context.Context) (*model.User, sql.NullString) {
	u, ok := model.InitiatorFrom(ctx)
	if !ok {
		return nil, sql.NullString{}
	}
	data, _ := json.Marshal(u)
	return &u, sql.NullString{String: string(data), Valid: true}
}

// beginJob records the new job; queued, when not 0, is the queue entry
// it replaces, taken off the queue in the same transaction.
func (in *Instance) beginJob(ctx context.Context, name string, size int64, queued int64) (model.Job, error) {
	now := nowMillis()
	initiator, initiatorJSON := initiatorOf(ctx)
	// A goroutine runs the job in this process; a runner records its own
	// pid once it has taken the job over.
	var pid sql.NullInt64
	if in.runner == nil {
		pid = sql.NullInt64{Int64: int64(os.Getpid()), Valid: true}
	}
	tx, err := in.db.BeginTx(ctx, nil)
	if err != nil {
		return model.Job{}, fmt.Errorf("record the new job: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // after Commit it does nothing
	res, err := tx.ExecContext(ctx, `INSERT INTO jobs(state, archive_path, progress_message, start_date, updated_date, initiator,
		imported_projects, imported_repositories, imported_pull_requests, runner_pid, starter_pid, runner_command, heartbeat, archive_size)
		VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?, ?, ?)`,
		model.StateInitialising, name, "Reading "+name, now, now, initiatorJSON, pid, os.Getpid(), commandLine(), now, size)
	if err != nil {
		return model.Job{}, fmt.Errorf("record the new job: %w", err)
	}
	id, _ := res.LastInsertId()
	if in.runner != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET runner_log = ? WHERE id = ?`, in.jobLog(id), id); err != nil {
			return model.Job{}, fmt.Errorf("record the new job: %w", err)
		}
	}
	if queued != 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM queue WHERE id = ?`, queued); err != nil {
			return model.Job{}, fmt.Errorf("take the started archive off the queue: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return model.Job{}, fmt.Errorf("record the new job: %w", err)
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
	return &model.RunningImport{JobID: r.id, PID: os.Getpid(), StarterPID: os.Getpid(), Command: commandLine(), Since: time.UnixMilli(job.StartDate)}
}

// runningImport says who runs the home's unfinished job, from the database
// (JobID 0 when there is none).
func (in *Instance) runningImport(ctx context.Context) (*model.RunningImport, error) {
	var r model.RunningImport
	var pid, starter sql.NullInt64
	var command sql.NullString
	var since int64
	err := in.db.QueryRowContext(ctx, `SELECT id, runner_pid, starter_pid, runner_command, start_date FROM jobs
		WHERE end_date IS NULL AND type = ? ORDER BY id DESC LIMIT 1`, model.JobTypeImport).Scan(&r.JobID, &pid, &starter, &command, &since)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &r, nil
	case err != nil:
		return nil, fmt.Errorf("look up the running import: %w", err)
	}
	r.PID, r.StarterPID, r.Command, r.Since = int(pid.Int64), int(starter.Int64), command.String, time.UnixMilli(since)
	return &r, nil
}

// openArchive opens the archive once, by handle, after the rules a start
// applies to it (archive.OpenToImport), and returns it with its name
// relative to the import directory and its size. The job never looks the
// name up again.
func (in *Instance) openArchive(p string) (*os.File, string, int64, error) {
	f, err := archive.OpenToImport(in.importDir, p, archive.StartCheck{Limits: in.limits, BetweenLooks: in.betweenLooks})
	if err != nil {
		return nil, "", 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, "", 0, model.RefuseArchive("%s: %w", p, err)
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

// A runner is a process of its own that runs one job: started by Start in
// a new session (no terminal: a closed SSH session or a Ctrl+C in the
// starter's shell does not reach it), with stdin /dev/null and its output
// in <home>/log/job-N.log. It inherits the archive Start opened and the
// import lock Start took, so neither is looked up again by name.

// Descriptors a runner inherits, after stdin, stdout and stderr.
const (
	runnerArchiveFD = 3
	runnerLockFD    = 4
)

// spawnDeadline bounds the wait for a runner to take its job over: it
// opens the home and records its pid, which takes well under a second.
const spawnDeadline = 30 * time.Second

// spawn starts the runner of job id, handing it files (from descriptor 3
// on) and extra arguments after its --job, and returns once it has taken
// the job over (recorded its pid), or an error naming its log if it ended first or
// ctx ended first (the job is then recorded ABORTED, and a runner that
// comes late finds it ended and leaves it).
func (in *Instance) spawn(ctx context.Context, id int64, files []*os.File, extra ...string) error {
	logPath := in.jobLog(id)
	failed := func(err error) error {
		see := ""
		if writtenLog(logPath) {
			see = "; see " + logPath
		}
		why := fmt.Sprintf("The runner did not start: %v%s", err, see)
		if rerr := recordAbort(context.Background(), in.db, id, why); rerr != nil {
			return fmt.Errorf("start the runner: %w (and %w)", err, rerr)
		}
		return fmt.Errorf("start the runner: %w%s", err, see)
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return failed(err)
	}
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return failed(err)
	}
	args := append(append(slices.Clone(in.runner[1:]), "--job", strconv.FormatInt(id, 10)), extra...)
	cmd := exec.Command(in.runner[0], args...) //nolint:noctx // the runner outlives this request: a context would kill it
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = files // an import's: runnerArchiveFD, runnerLockFD
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	logFile.Close()
	if err != nil {
		return failed(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it if it ends while we live
	if in.duringSpawn != nil {
		in.duringSpawn()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var pid, end sql.NullInt64
		err := in.db.QueryRowContext(ctx, `SELECT runner_pid, end_date FROM jobs WHERE id = ?`, id).Scan(&pid, &end)
		if ctx.Err() != nil {
			_ = cmd.Process.Kill()
			return failed(fmt.Errorf("it did not take the job over within %s", spawnDeadline))
		}
		if err != nil {
			return fmt.Errorf("follow the start of job %d: %w", id, err)
		}
		if pid.Valid || end.Valid {
			return nil
		}
		select {
		case werr := <-exited:
			if err := in.db.QueryRowContext(context.WithoutCancel(ctx), `SELECT runner_pid FROM jobs WHERE id = ?`, id).Scan(&pid); err == nil && pid.Valid {
				return nil // it took the job over, and its end is recorded or recovered
			}
			if werr == nil {
				werr = errors.New("it exited before taking the job over")
			}
			return failed(werr)
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// RunJob runs job id in this process to its end: the body of the runner
// command of Options.Runner. It needs the archive and the import lock that
// Start hands its runner. ctx ending asks the job to stop at its next
// checkpoint.
func RunJob(ctx context.Context, opts Options, id int64) error {
	// Not to git: a git process that outlives a killed runner must not
	// keep the import lock, which tells everyone the runner is gone.
	for _, fd := range []int{runnerArchiveFD, runnerLockFD} {
		unix.CloseOnExec(fd)
	}
	lock := os.NewFile(runnerLockFD, "import.lock")
	stopProfile, err := startCPUProfile(os.Getenv(cpuProfileEnv))
	if err != nil {
		return fmt.Errorf("job %d: %w", id, err)
	}
	defer stopProfile()
	in, err := Open(opts)
	if err != nil {
		return err
	}
	defer in.Close()
	// Named as the job names its archive: the errors of reading it say
	// "read archive NAME".
	var name string
	if err := in.db.QueryRowContext(ctx, `SELECT archive_path FROM jobs WHERE id = ?`, id).Scan(&name); err != nil {
		return fmt.Errorf("job %d: read it: %w", id, err)
	}
	archiveFile := os.NewFile(runnerArchiveFD, name)
	if err := in.checkInherited(archiveFile, lock); err != nil {
		return fmt.Errorf("job %d: %w; the runner runs only as started by bbimport import, serve or the console", id, err)
	}
	fi, err := archiveFile.Stat()
	if err != nil {
		return fmt.Errorf("job %d: read the archive: %w", id, err)
	}
	res, err := in.db.ExecContext(ctx, `UPDATE jobs SET runner_pid = ?, heartbeat = ? WHERE id = ? AND runner_pid IS NULL AND end_date IS NULL`,
		os.Getpid(), nowMillis(), id)
	if err != nil {
		return fmt.Errorf("job %d: record the runner: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("job %d is not waiting for a runner", id)
	}
	rows, err := in.queryJobs(ctx, ` WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("job %d: read it back: %w", id, err)
	}
	if len(rows) == 0 {
		return fmt.Errorf("job %d: read it back: it is gone", id)
	}
	run := newRun(rows[0].Job, archiveFile, fi.Size(), lock)
	in.mu.Lock()
	in.running = run
	in.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
			run.requestCancel()
		case <-run.done:
		}
	}()
	in.runJob(run)
	logUsage("import", id)
	// Its last act: the next queued archive, in a runner of its own, so
	// that a queue goes on with no console open. A runner stopped by a
	// signal (the machine going down) starts no more, nor one without a
	// runner command, whose goroutine would end with this process.
	if ctx.Err() == nil && in.runner != nil {
		if next, err := in.startQueued(context.Background()); err != nil {
			fmt.Printf("job %d: the next queued archive did not start: %v\n", id, err)
		} else if next.ID != 0 {
			fmt.Printf("job %d: started job %d, the next queued archive (%s)\n", id, next.ID, next.Archive)
		}
	}
	// Into the job's log: the database could not take the end.
	return run.unrecorded
}

// cpuProfileEnv names a file where a runner writes its CPU profile, for
// finding what an import spends its time on (docs/importer.md, "At scale").
const cpuProfileEnv = "BBIMPORT_CPUPROFILE"

// startCPUProfile profiles this process into path, if one is given, until
// the returned stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("write the CPU profile %s=%s: %w", cpuProfileEnv, path, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("write the CPU profile %s=%s: %w", cpuProfileEnv, path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// logUsage writes into the runner's log (its stderr) what its job used,
// as key=value data for admins and the bench scripts: the runner is not
// the child of whoever started it, so no wait reports it, and a short job
// ends before a sampler finds it. The children are the processes it ran
// and waited for (an import's git), their CPU only.
func logUsage(kind string, id int64) {
	var self, children unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &self) != nil || unix.Getrusage(unix.RUSAGE_CHILDREN, &children) != nil {
		return
	}
	seconds := func(t unix.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	fmt.Fprintf(os.Stderr, "%s %d used: cpu_user_s=%.3f cpu_system_s=%.3f max_rss_kib=%d children_cpu_user_s=%.3f children_cpu_system_s=%.3f\n",
		kind, id, seconds(self.Utime), seconds(self.Stime), peakRSS(), seconds(children.Utime), seconds(children.Stime))
}

// peakRSS is this process's peak resident memory in KiB (VmHWM), 0 if
// unknown. Not getrusage's ru_maxrss: a process started by fork and exec
// counts there its parent's resident memory at the exec (they share it
// until then), so a runner serve started would report serve's.
func peakRSS() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}

// checkInherited makes sure the runner holds this home's import lock and a
// regular file as its archive, not whatever descriptors it was given.
func (in *Instance) checkInherited(archiveFile, lock *os.File) error {
	lockInfo, err := lock.Stat()
	if err != nil {
		return fmt.Errorf("no import lock inherited: %w", err)
	}
	homeLock, err := os.Stat(in.lockPath())
	if err != nil || !os.SameFile(lockInfo, homeLock) {
		return fmt.Errorf("the inherited descriptor %d is not %s", runnerLockFD, in.lockPath())
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fmt.Errorf("the import lock is not ours: %w", err)
	}
	fi, err := archiveFile.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("the inherited descriptor %d is not an archive file", runnerArchiveFD)
	}
	return nil
}

// Cadence of a run's watch: it reads requests from other processes every
// poll and beats every beat.
const (
	watchPoll = 200 * time.Millisecond
	watchBeat = time.Second
)

// readRequests reads the cancel or stop request another process recorded
// for the run, and acts on it. The watch calls it every poll; a checkpoint
// calls it too, so that a cancel recorded just before the checkpoint is
// never missed between two polls.
func (in *Instance) readRequests(ctx context.Context, run *jobRun) {
	var req int
	if err := in.db.QueryRowContext(ctx, `SELECT cancel_requested FROM jobs WHERE id = ?`, run.id).Scan(&req); err != nil {
		return
	}
	switch req {
	case cancelAtCheckpoint:
		run.requestCancel()
	case stopAtOnce:
		run.requestCancel()
		run.stopNow()
	}
}

// watch keeps the run's row alive for other processes until stop closes:
// a heartbeat with the live progress every second (progress moves inside
// a long git member, between the import's commits), and the cancel or stop
// requests they record, read every poll.
func (in *Instance) watch(run *jobRun, stop <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	tick := time.NewTicker(watchPoll)
	defer tick.Stop()
	var beat time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		in.readRequests(ctx, run)
		if time.Since(beat) < watchBeat {
			continue
		}
		beat = time.Now()
		j := run.snapshot()
		// The progress message only if no commit wrote a newer one
		// meanwhile; the percentage never goes down. An export commits
		// nothing until it ends, so the beat also carries its move from
		// INITIALISING to RUNNING (never over a CANCELING recorded).
		_, _ = in.db.ExecContext(ctx, `UPDATE jobs SET heartbeat = ?,
			state = CASE WHEN state = ? AND ? = ? THEN ? ELSE state END,
			progress_message = CASE WHEN updated_date <= ? THEN ? ELSE progress_message END,
			percentage = MAX(percentage, ?), updated_date = MAX(updated_date, ?)
			WHERE id = ? AND end_date IS NULL`,
			nowMillis(), model.StateInitialising, j.State, model.StateRunning, model.StateRunning,
			j.UpdatedDate, j.Progress.Message, j.Progress.Percentage, j.UpdatedDate, run.id)
	}
}

// runJob runs a job to its end, records it, and only then lets go of the
// archive and the import lock and shows the job ended, leaving the
// instance idle: whoever sees the job ended finds its messages final and
// can start the next import at once.
func (in *Instance) runJob(run *jobRun) {
	im := &importRun{in: in, run: run, started: time.Now(),
		projects: map[string]*importedProject{}, repos: map[string]*importedRepo{}, users: map[string]sql.NullInt64{}}
	im.endNote = in.reserveEndNote(run.id)
	stopWatch := make(chan struct{})
	go in.watch(run, stopWatch)
	final := im.conclude(im.execute())
	close(stopWatch)
	run.file.Close()
	run.lock.Close()
	// Under in.mu: a reader that took the run before it went (jobs) reads
	// its end from it, like one that reads the row after.
	in.mu.Lock()
	run.show(final)
	in.running = nil
	in.mu.Unlock()
	run.finished, run.unrecorded = final, im.unrecorded
	close(run.done)
}
