package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"

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

Before a job is recorded, import refuses (exit 2, with one sentence saying
what to do) while another import runs, and an archive outside the import
directory, unreadable, still being copied (its size changes), cut short
(its tar does not read whole) or of an unknown archiveVersion: the rule the
console and serve apply too.

In-process (no --url) the job runs in a runner process of its own, which
goes on if this command or its terminal goes away; import follows the job
to its end unless --detach is given, showing progress and messages on a
terminal (--wait shows them anywhere: redrawn on a terminal, one line per
change otherwise). With --url, import returns once the job has started
unless --wait is given. --detach prints the job and returns at once;
follow it with status, messages or jobs, from any shell.

While import follows the job, Ctrl+C (or SIGTERM) asks the job to stop at
its next checkpoint; a second one stops it at once, discarding the
repository being built. SIGHUP (the terminal closed) only detaches: the
job goes on, and import exits 0 without its result.

Exit status: 0 COMPLETED without ERROR messages (or detached); 1 FAILED,
ABORTED, TIMED_OUT or COMPLETED with errors; 3 CANCELED; 2 the import did
not start.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			b, err := openBackend(ctx, g, true)
			if err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			defer b.Close()
			signals, release := ui.CatchSignals()
			defer release()
			job, err := b.Start(ctx, args[0])
			if err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			return followJob(ctx, g, b, job, signals, follow{what: "Importing " + args[0], wait: wait, detach: detach, asJSON: asJSON})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "show progress and messages until the job ends")
	cmd.Flags().BoolVar(&detach, "detach", false, "print the started job and return at once; the job goes on")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the final job (the started one with --detach) as Bitbucket's job JSON")
	cmd.MarkFlagsMutuallyExclusive("wait", "detach")
	return cmd
}

// follow says how a started job is followed: what it does (for the line
// that names it) and the flags.
type follow struct {
	what                 string
	wait, detach, asJSON bool
}

// followJob follows a started job as import and export do: returns at
// once with --detach (or --url without --wait), else follows it to its
// end, turning signals into cancel requests, and exits with its state.
func followJob(ctx context.Context, g *globalFlags, b *backend, job model.Job, signals <-chan os.Signal, o follow) error {
	out, errOut := g.io.out, g.io.errOut
	status := g.hint("status", strconv.FormatInt(job.ID, 10))
	if o.detach || (g.url != "" && !o.wait) {
		if o.asJSON {
			return printJSON(out, job)
		}
		fmt.Fprintf(out, "Started job %d; follow it with: %s\n", job.ID, status)
		return nil
	}
	var watch ui.WatchOptions // silently, unless asked or on a terminal
	switch {
	case o.asJSON && (o.wait || g.io.errTTY):
		watch = ui.WatchOptions{Out: errOut, Terminal: g.io.errTTY} // keep stdout for the job JSON
	case !o.asJSON && (o.wait || g.io.outTTY):
		watch = ui.WatchOptions{Out: out, Terminal: g.io.outTTY}
	}
	fmt.Fprintf(errOut, "%s as job %d. %s.\n", o.what, job.ID, ui.FollowNotice("use --detach"))
	res, err := ui.Follow(ctx, b, job.ID, ui.FollowOptions{Watch: watch, Signals: signals, Notices: errOut, Status: status})
	switch {
	case res.GaveUp:
		return &exitError{code: exitCanceled}
	case res.Detached:
		return nil
	case err != nil:
		return &exitError{code: exitFailed, err: err}
	}
	return finishJob(ctx, b, res.Job, out, o.asJSON)
}
