package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"bbimport/ui"
)

func newImportCmd(g *globalFlags) *cobra.Command {
	var wait, asJSON bool
	cmd := &cobra.Command{
		Use:   "import ARCHIVE",
		Short: "Import a migration archive and wait for the job to end",
		Long: `Import a migration archive from the import directory (ARCHIVE is relative
to it, or an absolute path inside it).

In-process (no --url) the job runs inside this command, so import always
waits for its end; --wait shows progress and messages as it goes (redrawn on
a terminal, one line per change otherwise). With --url, import returns once
the job has started unless --wait is given.

Ctrl+C (or SIGTERM, SIGHUP) asks the job to stop at its next checkpoint;
a second one stops it at once, discarding the repository being built.

Exit status: 0 COMPLETED without ERROR messages; 1 FAILED, ABORTED,
TIMED_OUT or COMPLETED with errors; 3 CANCELED; 2 the import did not start.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stopNow := context.WithCancel(cmd.Context())
			defer stopNow()
			b, err := openBackend(ctx, g)
			if err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			defer b.Close()
			// Signals are caught from before the start, so that one arriving
			// while the job starts is a cancel request, not the end of the
			// process (which the next start would have to mark ABORTED).
			signals := make(chan os.Signal, 2)
			signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
			defer signal.Stop(signals)
			job, err := b.Start(ctx, args[0])
			if err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			out, errOut := g.io.out, g.io.errOut
			if g.url != "" && !wait {
				if asJSON {
					return printJSON(out, job)
				}
				fmt.Fprintf(out, "Started job %d; follow it with: bbimport status %d\n", job.ID, job.ID)
				return nil
			}

			go func() {
				select {
				case <-signals:
				case <-ctx.Done():
					return
				}
				fmt.Fprintln(errOut, "bbimport: canceling at the next checkpoint (press Ctrl+C again to stop now)")
				if err := b.Cancel(ctx, job.ID); err != nil && ctx.Err() == nil {
					fmt.Fprintln(errOut, "bbimport:", err)
				}
				select {
				case <-signals:
					fmt.Fprintln(errOut, "bbimport: stopping now")
					stopNow()
				case <-ctx.Done():
				}
			}()

			var watch ui.WatchOptions // without --wait: silently
			switch {
			case !wait:
				fmt.Fprintf(errOut, "Importing %s as job %d (add --wait to see progress)\n", args[0], job.ID)
			case asJSON:
				watch = ui.WatchOptions{Out: errOut, Terminal: g.io.errTTY} // keep stdout for the job JSON
			default:
				watch = ui.WatchOptions{Out: out, Terminal: g.io.outTTY}
			}
			final, err := ui.WatchJob(ctx, b, job.ID, watch)
			if ctx.Err() != nil && !(err == nil && final.State.Finished()) {
				// Closing the in-process backend stops the job at once and
				// removes the repository being built.
				b.Close()
				return &exitError{code: exitCanceled, err: errors.New("the import was stopped at once; the repository being built was discarded")}
			}
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			// The job may have ended at its checkpoint just before a second
			// signal: report it as it ended, with the command's own context.
			return finishJob(cmd.Context(), b, final, out, asJSON)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "show progress and messages until the job ends")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the final job as Bitbucket's job JSON")
	return cmd
}
