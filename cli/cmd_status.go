package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"bbimport/model"
	"bbimport/termsafe"
	"bbimport/wire"
)

// StatusOptions are what status runs with.
type StatusOptions struct {
	IO      *streams
	Backend func(context.Context, bool) (*backend, error)
	JobID   int64
	Format  jobFormat
}

// NewCmdStatus is the status command; runF, when not nil, runs instead of
// it with the parsed options (a test's).
func NewCmdStatus(f *Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IO, Backend: f.Backend}
	var formats jobFormatFlags
	cmd := &cobra.Command{
		Use:   "status JOB",
		Short: "Show an import job's state and progress",
		Long: `Show a job's state and progress as a table: its archive and what it has
imported so far too.

--json prints the job exactly as Bitbucket's GET
/rest/api/1.0/migration/imports/{id} answers it, no field more, so that a
script written against Atlassian's guide reads it unchanged.
--bbimport-json prints bbimport's job instead: those fields plus its
counts and archive, as bbimport serve's /rest/bbimport/1.0/imports/{id}
answers it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			opts.JobID, opts.Format = id, formats.format()
			if runF != nil {
				return runF(opts)
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	formats.add(cmd, "print the job as Bitbucket's job JSON, no field more",
		"print the job as bbimport's job JSON: Bitbucket's fields, its counts and archive")
	return cmd
}

func runStatus(ctx context.Context, opts *StatusOptions) error {
	b, err := opts.Backend(ctx, false)
	if err != nil {
		return err
	}
	defer b.Close()
	job, err := b.Job(ctx, opts.JobID)
	if err != nil {
		return err
	}
	return printJobAs(opts.IO.out, job, opts.Format)
}

// jobFormat is how a job is printed.
type jobFormat int

const (
	jobTable         jobFormat = iota
	jobBitbucketJSON           // --json: Bitbucket's job, no field more
	jobOwnJSON                 // --bbimport-json: bbimport's, with counts and archive
)

// jobFormatFlags are --json and --bbimport-json, which exclude each other.
type jobFormatFlags struct{ bitbucket, own bool }

// add adds both flags to cmd with their help texts.
func (j *jobFormatFlags) add(cmd *cobra.Command, bitbucket, own string) {
	cmd.Flags().BoolVar(&j.bitbucket, "json", false, bitbucket)
	cmd.Flags().BoolVar(&j.own, "bbimport-json", false, own)
	cmd.MarkFlagsMutuallyExclusive("json", "bbimport-json")
}

func (j jobFormatFlags) format() jobFormat {
	switch {
	case j.bitbucket:
		return jobBitbucketJSON
	case j.own:
		return jobOwnJSON
	}
	return jobTable
}

// printJobAs prints a job as a table or as the JSON format asks for.
func printJobAs(out io.Writer, job model.Job, format jobFormat) error {
	switch format {
	case jobBitbucketJSON:
		return printJSON(out, wire.BitbucketJob(job))
	case jobOwnJSON:
		return printJSON(out, job)
	}
	printJob(out, job)
	return nil
}

// parseJobID reads a job id argument: a bad one is refused before
// anything is opened.
func parseJobID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, &exitError{code: exitNotStarted, err: fmt.Errorf("job id %q is not a job number such as 12", s)}
	}
	return id, nil
}

// printJSON prints v as indented JSON, made safe for a terminal: its
// texts come from an archive or a server.
func printJSON(out io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the JSON output: %w", err)
	}
	_, err = out.Write(termsafe.JSON(append(b, '\n')))
	return err
}

// printJob writes a job as a two-column table, through fprintSafe and
// termsafe.Writer: a job's texts come from an archive or a server.
func printJob(out io.Writer, job model.Job) {
	tw := tabwriter.NewWriter(termsafe.NewWriter(out), 0, 0, 2, ' ', 0)
	fprintSafe(tw, "Job\t%d\n", job.ID)
	fprintSafe(tw, "State\t%s\n", job.State)
	if job.Archive != "" {
		fprintSafe(tw, "Archive\t%s\n", job.Archive)
	}
	if c := job.Counts; c != nil {
		done := "Imported"
		if job.Type == model.JobTypeExport {
			done = "Exported"
		}
		fprintSafe(tw, "%s\t%s, %s, %s\n", done, model.Plural(c.Projects, "project", "projects"), model.Plural(c.Repositories, "repository", "repositories"), model.Plural(c.PullRequests, "pull request", "pull requests"))
	}
	fprintSafe(tw, "Progress\t%d%% %s\n", job.Progress.Percentage, job.Progress.Message)
	fprintSafe(tw, "Started\t%s\n", formatMillis(job.StartDate))
	fprintSafe(tw, "Updated\t%s\n", formatMillis(job.UpdatedDate))
	if job.EndDate != 0 {
		fprintSafe(tw, "Ended\t%s\n", formatMillis(job.EndDate))
	}
	if job.Initiator != nil {
		fprintSafe(tw, "Initiator\t%s\n", job.Initiator.Name)
	}
	tw.Flush()
}

// orDash shows an unknown value (a job a remote Bitbucket ran) as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func formatMillis(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).Local().Format("2006-01-02 15:04:05")
}

// finishJob prints a finished job and turns its state into the exit
// status: 0 COMPLETED without ERROR messages, 1 failed, 3 CANCELED.
func finishJob(ctx context.Context, b model.Backend, job model.Job, out io.Writer, format jobFormat) error {
	if err := printJobAs(out, job, format); err != nil {
		return err
	}
	if !job.State.Finished() {
		return nil
	}
	errs, err := b.Messages(ctx, job.ID, model.MessageQuery{Severities: []model.Severity{model.SeverityError}, Limit: 1})
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	switch {
	case job.State == model.StateCanceled:
		return &exitError{code: exitCanceled}
	case job.State.Failed(len(errs.Values) > 0):
		return &exitError{code: exitFailed}
	}
	return nil
}
