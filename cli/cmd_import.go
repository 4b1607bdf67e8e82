package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"bbimport/model"
	"bbimport/ui"
)

func newImportCmd(g *globalFlags) *cobra.Command {
	var wait, detach, asJSON bool
	cmd := &cobra.Command{
		Use:   "import ARCHIVE",
		Short: "Import a migration archive and wait for the job to end",
		Long: `Import a migration archive from the import directory (ARCHIVE is relative
to it, or an absolute path inside it).

In-process (no --url) the job runs in a runner process of its own, which
goes on if this command or its terminal goes away; import waits for the
job's end unless --detach is given, and --wait shows progress and messages
as it goes (redrawn on a terminal, one line per change otherwise). With
--url, import returns once the job has started unless --wait is given.
--detach prints the job and returns at once; follow it with status,
messages or jobs, from any shell.

While import waits, Ctrl+C (or SIGTERM) asks the job to stop at its next
checkpoint; a second one stops it at once, discarding the repository being
built. SIGHUP (the terminal closed) only detaches: the job goes on, and
import exits 0 without its result.

Exit status: 0 COMPLETED without ERROR messages (or detached); 1 FAILED,
ABORTED, TIMED_OUT or COMPLETED with errors; 3 CANCELED; 2 the import did
not start.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			b, err := openBackend(ctx, g)
			if err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			defer b.Close()
			// Signals are caught from before the start, so that one arriving
			// while the job starts is a request about the job, not the end
			// of this process with the job unwatched.
			signals := make(chan os.Signal, 2)
			signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
			defer signal.Stop(signals)
			job, err := b.Start(ctx, args[0])
			if err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			out, errOut := g.io.out, g.io.errOut
			if detach || (g.url != "" && !wait) {
				if asJSON {
					return printJSON(out, job)
				}
				fmt.Fprintf(out, "Started job %d; follow it with: bbimport status %d\n", job.ID, job.ID)
				return nil
			}

			watchCtx, stopWatching := context.WithCancel(ctx)
			defer stopWatching()
			f := &follower{b: b, id: job.ID, errOut: errOut, stopWatching: stopWatching,
				hup: make(chan struct{}), stopped: make(chan struct{}), unsupported: make(chan struct{})}
			go f.handle(watchCtx, signals)

			var watch ui.WatchOptions // without --wait: silently
			switch {
			case !wait:
				fmt.Fprintf(errOut, "Importing %s as job %d (add --wait to see progress)\n", args[0], job.ID)
			case asJSON:
				watch = ui.WatchOptions{Out: errOut, Terminal: g.io.errTTY} // keep stdout for the job JSON
			default:
				watch = ui.WatchOptions{Out: out, Terminal: g.io.outTTY}
			}
			final, err := ui.WatchJob(watchCtx, b, job.ID, watch)
			switch {
			case f.detached():
				fmt.Fprintf(errOut, "bbimport: detached; job %d goes on: follow it with bbimport status %d\n", job.ID, job.ID)
				return nil
			case f.gaveUp():
				return &exitError{code: exitCanceled, err: fmt.Errorf("stopped following job %d, which stops at its next checkpoint: this backend cannot stop a job at once", job.ID)}
			case err != nil:
				return &exitError{code: exitFailed, err: err}
			}
			if f.stoppedNow() && final.State == model.StateCanceled {
				fmt.Fprintln(errOut, "bbimport: the import was stopped at once; the repository being built was discarded")
			}
			return finishJob(ctx, b, final, out, asJSON)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "show progress and messages until the job ends")
	cmd.Flags().BoolVar(&detach, "detach", false, "print the started job and return at once; the job goes on")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the final job (the started one with --detach) as Bitbucket's job JSON")
	cmd.MarkFlagsMutuallyExclusive("wait", "detach")
	return cmd
}

// follower turns the signals import gets while it follows a job into
// requests: the first INT or TERM cancels at the next checkpoint, the
// second stops at once; HUP stops following and leaves the job running.
type follower struct {
	b            model.Backend
	id           int64
	errOut       io.Writer
	stopWatching context.CancelFunc

	// closed when HUP came, when the job was stopped at once, and when the
	// backend could not stop it at once
	hup, stopped, unsupported chan struct{}
}

func (f *follower) handle(ctx context.Context, signals <-chan os.Signal) {
	canceled := false
	for {
		var sig os.Signal
		select {
		case sig = <-signals:
		case <-ctx.Done():
			return
		}
		switch {
		case sig == syscall.SIGHUP:
			close(f.hup)
			f.stopWatching()
			return
		case !canceled:
			canceled = true
			fmt.Fprintln(f.errOut, "bbimport: canceling at the next checkpoint (press Ctrl+C again to stop now)")
			if err := f.b.Cancel(ctx, f.id); err != nil && !errors.Is(err, model.ErrJobFinished) {
				fmt.Fprintln(f.errOut, "bbimport:", err)
			}
		default:
			fmt.Fprintln(f.errOut, "bbimport: stopping now")
			err := f.b.StopNow(ctx, f.id)
			switch {
			case errors.Is(err, model.ErrNotSupported):
				close(f.unsupported)
				f.stopWatching()
				return
			case err != nil && !errors.Is(err, model.ErrJobFinished):
				fmt.Fprintln(f.errOut, "bbimport:", err)
			}
			close(f.stopped)
			return
		}
	}
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func (f *follower) detached() bool   { return closed(f.hup) }
func (f *follower) stoppedNow() bool { return closed(f.stopped) }
func (f *follower) gaveUp() bool     { return closed(f.unsupported) }
