package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"bbimport/model"
)

// recoverIfIdle recovers the home if no runner holds the import lock, and
// reports whether none did. It runs at Open, and whenever a reader finds an
// unfinished job whose heartbeat stopped: the runner of such a job is gone
// exactly when the lock is free, since it holds the lock until its job's
// end is recorded. Recovery deletes directories, so it runs only under the
// lock: a home this process cannot recover (read-only, a lock it cannot
// take, a database that refuses the writes on a full disk) is only reported
// idle, with why it was not recovered, and its reader only reads.
func (in *Instance) recoverIfIdle(ctx context.Context) (idle bool, err error) {
	if in.readOnly {
		return !in.lockHeld(), errReadOnly
	}
	lock, err := in.lockImport()
	if err != nil {
		return !in.lockHeld(), err
	}
	if lock == nil {
		return false, nil
	}
	defer lock.Close()
	return true, in.recover(ctx)
}

// lockHeld reports whether a process holds the import lock (a read-only
// home that never had one has none).
func (in *Instance) lockHeld() bool {
	f, err := os.Open(in.lockPath())
	if err != nil {
		return false
	}
	defer f.Close()
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil
}

// errReadOnly: the home is read-only for this user, so nothing is recorded.
var errReadOnly = errors.New("the instance home is read-only for this user")

// recover runs under the import lock, so no runner is importing: a job that
// did not finish lost its runner (kill -9, out of memory, power loss). It
// is marked ABORTED, its half-built repository goes, and everything that
// was finished stays as it is.
func (in *Instance) recover(ctx context.Context) error {
	rows, err := in.db.QueryContext(ctx, `SELECT id, state, runner_pid, runner_log FROM jobs WHERE end_date IS NULL AND state NOT IN (?, ?, ?, ?, ?) AND type = ?`,
		model.StateCompleted, model.StateFailed, model.StateCanceled, model.StateTimedOut, model.StateAborted, model.JobTypeImport)
	if err != nil {
		return fmt.Errorf("look for interrupted jobs: %w", err)
	}
	type interrupted struct {
		id    int64
		state string
		pid   sql.NullInt64
		log   sql.NullString
	}
	// The rows close when Next reads past the last, before the writes
	// below need the connection; the defer covers an early return.
	defer rows.Close()
	var jobs []interrupted
	for rows.Next() {
		var j interrupted
		if err := rows.Scan(&j.id, &j.state, &j.pid, &j.log); err != nil {
			return fmt.Errorf("look for interrupted jobs: %w", err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look for interrupted jobs: %w", err)
	}
	// The build directories go first: on a full disk they are what frees
	// the room to record the ends.
	if err := in.removeBuildDirectories(); err != nil {
		return err
	}
	for _, j := range jobs {
		kept := "What was finished before stays; the repository being built was removed. " + model.Sentence(remainderHint(j.id))
		// The runner's log holds what it wrote to its output (a panic, a
		// fatal error): named only when it holds something.
		logged := ""
		if j.log.Valid && writtenLog(j.log.String) {
			logged = "; see " + j.log.String
		}
		why := fmt.Sprintf("The process running this import stopped while the job was %s (killed or power loss). %s", j.state, kept)
		switch {
		case j.log.Valid && j.pid.Valid:
			why = fmt.Sprintf("The runner process %d ended without finishing: killed or out of memory%s. It stopped while the job was %s. %s", j.pid.Int64, logged, j.state, kept)
		case j.log.Valid:
			why = fmt.Sprintf("The runner process did not start%s. %s", logged, kept)
		case j.pid.Valid:
			why = fmt.Sprintf("The process %d running this import stopped while the job was %s (killed or power loss). %s", j.pid.Int64, j.state, kept)
		}
		// A run that could not record its end (a full disk) said why in
		// its end note.
		if note := in.readEndNote(j.id); note != "" {
			why = note
		}
		if err := recordAbort(ctx, in.db, j.id, why); err != nil {
			return err
		}
		in.removeEndNote(j.id)
	}
	return in.removeUnfinishedRepositories(ctx)
}

// removeUnfinishedRepositories deletes every build directory, every
// repository directory that no AVAILABLE repository owns (a crash or a
// failed commit between the rename and the commit leaves one), and every
// INITIALISING repository row.
func (in *Instance) removeUnfinishedRepositories(ctx context.Context) error {
	if err := in.removeBuildDirectories(); err != nil {
		return err
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
	// The rows last: on a full disk, removing the directories first is
	// what makes room for the write.
	if _, err := in.db.ExecContext(ctx, `DELETE FROM repositories WHERE state = 'INITIALISING'`); err != nil {
		return fmt.Errorf("remove half-built repositories: %w", err)
	}
	return nil
}

// removeBuildDirectories empties the home's tmp directory, where
// repositories are built.
func (in *Instance) removeBuildDirectories() error {
	if err := os.RemoveAll(in.tmpDir()); err != nil {
		return fmt.Errorf("remove build directories: %w", err)
	}
	if err := os.MkdirAll(in.tmpDir(), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", in.tmpDir(), err)
	}
	return nil
}

// writtenLog reports whether the log file at path holds anything.
func writtenLog(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Size() > 0
}
