package cli

import (
	"context"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"bbimport/model"
	"bbimport/termsafe"
	"bbimport/wire"
)

// JobsOptions are what jobs runs with.
type JobsOptions struct {
	IO      *streams
	Backend func(context.Context, bool) (*backend, error)
	Format  jobFormat
}

// NewCmdJobs is the jobs command; runF, when not nil, runs instead of it
// with the parsed options.
func NewCmdJobs(f *Factory, runF func(*JobsOptions) error) *cobra.Command {
	opts := &JobsOptions{IO: f.IO, Backend: f.Backend}
	var formats jobFormatFlags
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

With --json the list is printed as one Bitbucket page of jobs, each job
with Bitbucket's fields only; with --bbimport-json each job also has its
counts and archive, as bbimport serve's /rest/bbimport/1.0/imports answers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Format = formats.format()
			if runF != nil {
				return runF(opts)
			}
			return runJobs(cmd.Context(), opts)
		},
	}
	formats.add(cmd, "print the jobs as one Bitbucket page of jobs, Bitbucket's fields only",
		"print the jobs as one page of bbimport's jobs: Bitbucket's fields, counts and archive")
	return cmd
}

func runJobs(ctx context.Context, opts *JobsOptions) error {
	b, err := opts.Backend(ctx, false)
	if err != nil {
		return err
	}
	defer b.Close()
	jobs, err := b.KnownJobs(ctx)
	if err != nil {
		return err
	}
	out := opts.IO.out
	switch opts.Format {
	case jobBitbucketJSON:
		rest := make([]wire.RestJob, len(jobs))
		for i, j := range jobs {
			rest[i] = wire.BitbucketJob(j)
		}
		return printJSON(out, onePage(rest))
	case jobOwnJSON:
		return printJSON(out, onePage(jobs))
	}
	return printJobs(out, jobs)
}

// onePage is a whole list as one Bitbucket page.
func onePage[T any](values []T) model.Page[T] {
	if values == nil {
		values = []T{}
	}
	return model.Page[T]{Size: len(values), Limit: len(values), IsLastPage: true, Values: values}
}

// printJobs writes jobs as a table, through fprintSafe and
// termsafe.Writer: a job's texts come from an archive or a server.
func printJobs(out io.Writer, jobs []model.Job) error {
	tw := tabwriter.NewWriter(termsafe.NewWriter(out), 0, 0, 2, ' ', 0)
	fprintSafe(tw, "JOB\tSTATE\tARCHIVE\tPROGRESS\tSTARTED\tENDED\n")
	for _, j := range jobs {
		fprintSafe(tw, "%d\t%s\t%s\t%d%% %s\t%s\t%s\n", j.ID, j.State, orDash(j.Archive), j.Progress.Percentage, j.Progress.Message,
			formatMillis(j.StartDate), formatMillis(j.EndDate))
	}
	return tw.Flush()
}
