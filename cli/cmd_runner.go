package cli

import (
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"bbimport/importer"
)

// newRunnerCmd is the hidden command an import's runner process runs (see
// importer.RunJob): started by Start with the archive and the import lock
// as inherited descriptors, never by hand.
func newRunnerCmd(g *globalFlags) *cobra.Command {
	var job int64
	var export bool
	cmd := &cobra.Command{
		Use:    runnerCommand,
		Short:  "Run one import or export job (started by bbimport itself)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// With the runner command: an import's runner starts the
			// queue's next archive in a runner of its own.
			opts, err := runnerOptions(g)
			if err != nil {
				return err
			}
			// No terminal to lose, but a hang-up sent to the old session
			// must not end the import; TERM and INT cancel at a checkpoint.
			signal.Ignore(syscall.SIGHUP)
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			if export {
				return importer.RunExport(ctx, opts, job)
			}
			return importer.RunJob(ctx, opts, job)
		},
	}
	cmd.Flags().Int64Var(&job, "job", 0, "the job to run")
	cmd.Flags().BoolVar(&export, "export", false, "the job is an export")
	_ = cmd.MarkFlagRequired("job")
	return cmd
}
