package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"bbimport/model"
	"bbimport/ui"
)

// CancelOptions are what cancel runs with.
type CancelOptions struct {
	IO      *streams
	Backend func(context.Context, bool) (*backend, error)
	Hint    func(args ...string) string
	JobID   int64
	Wait    bool
}

// NewCmdCancel is the cancel command; runF, when not nil, runs instead of
// it with the parsed options.
func NewCmdCancel(f *Factory, runF func(*CancelOptions) error) *cobra.Command {
	opts := &CancelOptions{IO: f.IO, Backend: f.Backend, Hint: f.Hint}
	cmd := &cobra.Command{
		Use:   "cancel JOB",
		Short: "Ask an import job to stop at its next checkpoint",
		Long: `Ask an import job to stop at its next checkpoint: after the git data of
the current fork hierarchy (its pull requests are then left out), before the
next repository, or before the next pull request. With --wait, follow it
until it has stopped: Ctrl+C then stops it at once, and closing the terminal
leaves it running (the signal rules of import).

In-process the job runs in a runner process of its own; cancel works from
any shell on the same home: the job shows CANCELING at once and its runner
stops at the checkpoint.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			opts.JobID = id
			if runF != nil {
				return runF(opts)
			}
			return runCancel(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Wait, "wait", false, "follow the job until it has stopped")
	return cmd
}

func runCancel(ctx context.Context, opts *CancelOptions) error {
	b, err := opts.Backend(ctx, false)
	if err != nil {
		return err
	}
	defer b.Close()
	signals, release := ui.CatchSignals()
	defer release()
	id := opts.JobID
	if err := b.Cancel(ctx, id); err != nil {
		return err
	}
	out := opts.IO.out
	if !opts.Wait {
		// An export stops at once; an import at its next checkpoint.
		if j, err := b.Job(ctx, id); err == nil && j.Type == model.JobTypeExport {
			fmt.Fprintf(out, "Job %d stops at once and leaves no archive\n", id)
			return nil
		}
		fmt.Fprintf(out, "Job %d will stop at its next checkpoint\n", id)
		return nil
	}
	// The cancel is asked already: the first Ctrl+C is answered
	// "already canceling", the second stops the job at once.
	res, err := ui.Follow(ctx, b, id, ui.FollowOptions{
		Watch: ui.WatchOptions{Out: out, Terminal: opts.IO.outTTY}, Signals: signals, Notices: opts.IO.errOut,
		Status: opts.Hint("status", strconv.FormatInt(id, 10)),
	})
	switch {
	case res.Detached || res.GaveUp:
		return nil
	case err != nil:
		return err
	}
	return finishJob(ctx, b, res.Job, out, jobTable)
}
