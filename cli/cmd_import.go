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

// ImportOptions are what import runs with.
type ImportOptions struct {
	IO      *streams
	Backend func(context.Context, bool) (*backend, error)
	Hint    func(args ...string) string
	Archive string
	Follow  follow
}

// NewCmdImport is the import command; runF, when not nil, runs instead of
// it with the parsed options.
func NewCmdImport(f *Factory, runF func(*ImportOptions) error) *cobra.Command {
	opts := &ImportOptions{IO: f.IO, Backend: f.Backend, Hint: f.Hint}
	var formats jobFormatFlags
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
			opts.Archive, opts.Follow.format = args[0], formats.format()
			opts.Follow.what = "Importing " + args[0]
			if runF != nil {
				return runF(opts)
			}
			return runImport(cmd.Context(), opts)
		},
	}
	opts.Follow.addFlags(cmd)
	formats.add(cmd, "print the final job (the started one with --detach) as Bitbucket's job JSON, no field more",
		"print the final job (the started one with --detach) as bbimport's job JSON: Bitbucket's fields, counts and archive")
	return cmd
}

func runImport(ctx context.Context, opts *ImportOptions) error {
	b, err := opts.Backend(ctx, true)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	defer b.Close()
	signals, release := ui.CatchSignals()
	defer release()
	job, err := b.Start(ctx, opts.Archive)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	return followJob(ctx, opts.IO, opts.Hint, b, job, signals, opts.Follow)
}

// follow says how a started job is followed: what it does (for the line
// that names it), --wait, --detach and the format of the job printed.
type follow struct {
	what         string
	wait, detach bool
	format       jobFormat
}

// addFlags adds --wait and --detach, which exclude each other.
func (o *follow) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.wait, "wait", false, "show progress and messages until the job ends")
	cmd.Flags().BoolVar(&o.detach, "detach", false, "print the started job and return at once; the job goes on")
	cmd.MarkFlagsMutuallyExclusive("wait", "detach")
}

// followJob follows a started job as import and export do: returns at
// once with --detach (or --url without --wait), else follows it to its
// end, turning signals into cancel requests, and exits with its state.
func followJob(ctx context.Context, st *streams, hint func(...string) string, b *backend, job model.Job, signals <-chan os.Signal, o follow) error {
	out, errOut := st.out, st.errOut
	status := hint("status", strconv.FormatInt(job.ID, 10))
	asJSON := o.format != jobTable
	if o.detach || (b.remote && !o.wait) {
		if asJSON {
			return printJobAs(out, job, o.format)
		}
		fmt.Fprintf(out, "Started job %d; follow it with: %s\n", job.ID, status)
		return nil
	}
	var watch ui.WatchOptions // silently, unless asked or on a terminal
	switch {
	case asJSON && (o.wait || st.errTTY):
		watch = ui.WatchOptions{Out: errOut, Terminal: st.errTTY} // keep stdout for the job JSON
	case !asJSON && (o.wait || st.outTTY):
		watch = ui.WatchOptions{Out: out, Terminal: st.outTTY}
	}
	fmt.Fprintf(errOut, "%s as job %d. %s.\n", o.what, job.ID, ui.FollowNotice(job, "use --detach"))
	res, err := ui.Follow(ctx, b, job.ID, ui.FollowOptions{Watch: watch, Signals: signals, Notices: errOut, Status: status})
	switch {
	case res.GaveUp:
		return &exitError{code: exitCanceled}
	case res.Detached:
		return nil
	case err != nil:
		return &exitError{code: exitFailed, err: err}
	}
	return finishJob(ctx, b, res.Job, out, o.format)
}
