package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

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

// spawn starts the runner of job id and returns once it has taken the job
// over (recorded its pid), or an error naming its log if it ended first.
func (in *Instance) spawn(id int64, archiveFile, lock *os.File) error {
	logPath := in.jobLog(id)
	failed := func(err error) error {
		why := fmt.Sprintf("The import runner did not start: %v; see %s", err, logPath)
		if rerr := recordAbort(context.Background(), in.db, id, why); rerr != nil {
			return fmt.Errorf("start the import runner: %w (and %w)", err, rerr)
		}
		return fmt.Errorf("start the import runner: %w; see %s", err, logPath)
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return failed(err)
	}
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return failed(err)
	}
	args := append(slices.Clone(in.runner[1:]), "--job", strconv.FormatInt(id, 10))
	cmd := exec.Command(in.runner[0], args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{archiveFile, lock} // runnerArchiveFD, runnerLockFD
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	logFile.Close()
	if err != nil {
		return failed(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it if it ends while we live
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var pid, end sql.NullInt64
		err := in.db.QueryRow(`SELECT runner_pid, end_date FROM jobs WHERE id = ?`, id).Scan(&pid, &end)
		if err != nil {
			return fmt.Errorf("follow the start of job %d: %w", id, err)
		}
		if pid.Valid || end.Valid {
			return nil
		}
		select {
		case werr := <-exited:
			if err := in.db.QueryRow(`SELECT runner_pid FROM jobs WHERE id = ?`, id).Scan(&pid); err == nil && pid.Valid {
				return nil // it took the job over, and its end is recorded or recovered
			}
			if werr == nil {
				werr = errors.New("it exited before taking the job over")
			}
			return failed(werr)
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
	archiveFile := os.NewFile(runnerArchiveFD, "archive")
	lock := os.NewFile(runnerLockFD, "import.lock")
	opts.Runner = nil
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
	return nil
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
		// meanwhile; the percentage never goes down.
		_, _ = in.db.ExecContext(ctx, `UPDATE jobs SET heartbeat = ?,
			progress_message = CASE WHEN updated_date <= ? THEN ? ELSE progress_message END,
			percentage = MAX(percentage, ?), updated_date = MAX(updated_date, ?)
			WHERE id = ? AND end_date IS NULL`,
			nowMillis(), j.UpdatedDate, j.Progress.Message, j.Progress.Percentage, j.UpdatedDate, run.id)
	}
}
