package cli

import (
	"fmt"

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
until it has stopped.

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
			if err := b.Cancel(cmd.Context(), id); err != nil {
				return err
			}
			out := g.io.out
			if !wait {
				fmt.Fprintf(out, "Job %d will stop at its next checkpoint\n", id)
				return nil
			}
			job, err := ui.WatchJob(cmd.Context(), b, id, ui.WatchOptions{Out: out, Terminal: g.io.outTTY})
			if err != nil {
				return err
			}
			return finishJob(cmd.Context(), b, job, out, false)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the job until it has stopped")
	return cmd
}
