package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"bbimport/ui"
)

func newCancelCmd(g *globalFlags) *cobra.Command {
	var wait bool
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
			b, id, err := openJob(cmd.Context(), g, args[0])
			if err != nil {
				return err
			}
			defer b.Close()
			signals, release := ui.CatchSignals()
			defer release()
			if err := b.Cancel(cmd.Context(), id); err != nil {
				return err
			}
			out := g.io.out
			if !wait {
				fmt.Fprintf(out, "Job %d will stop at its next checkpoint\n", id)
				return nil
			}
			// The cancel is asked already: the first Ctrl+C is answered
			// "already canceling", the second stops the job at once.
			res, err := ui.Follow(cmd.Context(), b, id, ui.FollowOptions{
				Watch: ui.WatchOptions{Out: out, Terminal: g.io.outTTY}, Signals: signals, Notices: g.io.errOut,
				Status: g.hint("status", strconv.FormatInt(id, 10)),
			})
			switch {
			case res.Detached || res.GaveUp:
				return nil
			case err != nil:
				return err
			}
			return finishJob(cmd.Context(), b, res.Job, out, false)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the job until it has stopped")
	return cmd
}
