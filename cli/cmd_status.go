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
)

func newStatusCmd(g *globalFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status JOB",
		Short: "Show an import job's state and progress",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, id, err := openJob(cmd.Context(), g, args[0])
			if err != nil {
				return err
			}
			defer b.Close()
			job, err := b.Job(cmd.Context(), id)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), job)
			}
			printJob(cmd.OutOrStdout(), job)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print Bitbucket's job JSON")
	return cmd
}

// openJob reads a job id argument and opens the backend that holds it;
// a bad id is refused before anything is opened.
func openJob(ctx context.Context, g *globalFlags, arg string) (*backend, int64, error) {
	id, err := parseJobID(arg)
	if err != nil {
		return nil, 0, err
	}
	b, err := openBackend(ctx, g, false)
	if err != nil {
		return nil, 0, err
	}
	return b, id, nil
}

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

// printJob writes a job as a two-column table, through termsafe.Writer:
// a job's texts come from an archive or a server.
func printJob(out io.Writer, job model.Job) {
	tw := tabwriter.NewWriter(termsafe.NewWriter(out), 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Job\t%d\n", job.ID)
	fmt.Fprintf(tw, "State\t%s\n", termsafe.String(string(job.State)))
	if job.Archive != "" {
		fmt.Fprintf(tw, "Archive\t%s\n", termsafe.String(job.Archive))
	}
	if c := job.Counts; c != nil {
		done := "Imported"
		if job.Type == model.JobTypeExport {
			done = "Exported"
		}
		fmt.Fprintf(tw, "%s\t%s, %s, %s\n", done, model.Plural(c.Projects, "project", "projects"), model.Plural(c.Repositories, "repository", "repositories"), model.Plural(c.PullRequests, "pull request", "pull requests"))
	}
	fmt.Fprintf(tw, "Progress\t%d%% %s\n", job.Progress.Percentage, termsafe.String(job.Progress.Message))
	fmt.Fprintf(tw, "Started\t%s\n", formatMillis(job.StartDate))
	fmt.Fprintf(tw, "Updated\t%s\n", formatMillis(job.UpdatedDate))
	if job.EndDate != 0 {
		fmt.Fprintf(tw, "Ended\t%s\n", formatMillis(job.EndDate))
	}
	if job.Initiator != nil {
		fmt.Fprintf(tw, "Initiator\t%s\n", termsafe.String(job.Initiator.Name))
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
func finishJob(ctx context.Context, b model.Backend, job model.Job, out io.Writer, asJSON bool) error {
	if asJSON {
		if err := printJSON(out, job); err != nil {
			return err
		}
	} else {
		printJob(out, job)
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
