package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"bbimport/model"
	"bbimport/termsafe"
)

func newJobsCmd(g *globalFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List known import jobs, newest first",
		Long: `List known import jobs, newest first, the job id in the first column.

In-process: every job of the instance home. With --url against bbimport
serve: every job it holds, whoever started it (curl, a console, a script).
With --url against Bitbucket, which has no call that lists jobs: the jobs
this machine's bbimport started (kept per URL in
$XDG_STATE_HOME/bbimport/jobs.json) and those found after them by probing
the next job ids; a job found so names no archive.

With --json the list is printed as one Bitbucket page of jobs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := openBackend(cmd.Context(), g, false)
			if err != nil {
				return err
			}
			defer b.Close()
			jobs, err := b.KnownJobs(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if jobs == nil {
					jobs = []model.Job{}
				}
				return printJSON(out, model.Page[model.Job]{Size: len(jobs), Limit: len(jobs), IsLastPage: true, Values: jobs})
			}
			return printJobs(out, jobs)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the jobs as a Bitbucket page of jobs")
	return cmd
}

// printJobs writes jobs as a table, through termsafe.Writer: a job's texts
// come from an archive or a server.
func printJobs(out io.Writer, jobs []model.Job) error {
	tw := tabwriter.NewWriter(termsafe.NewWriter(out), 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSTATE\tARCHIVE\tPROGRESS\tSTARTED\tENDED")
	for _, j := range jobs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d%% %s\t%s\t%s\n", j.ID, termsafe.String(string(j.State)), termsafe.String(orDash(j.Archive)), j.Progress.Percentage, termsafe.String(j.Progress.Message),
			formatMillis(j.StartDate), formatMillis(j.EndDate))
	}
	return tw.Flush()
}
