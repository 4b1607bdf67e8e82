package cli

import (
	"context"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"bbimport/model"
	"bbimport/termsafe"
	"bbimport/ui"
	"bbimport/wire"
)

// MessagesOptions are what messages runs with.
type MessagesOptions struct {
	IO      *streams
	Backend func(context.Context, bool) (*backend, error)
	JobID   int64
	Query   model.MessageQuery
	// OnePage: --start or --limit was given, and only that page is listed.
	OnePage bool
	JSON    bool
}

// NewCmdMessages is the messages command; runF, when not nil, runs instead
// of it with the parsed options.
func NewCmdMessages(f *Factory, runF func(*MessagesOptions) error) *cobra.Command {
	opts := &MessagesOptions{IO: f.IO, Backend: f.Backend}
	var severities string
	cmd := &cobra.Command{
		Use:   "messages JOB",
		Short: "List an import job's messages, oldest first",
		Long: `List an import job's messages, oldest first.

--severity takes a comma-separated list (INFO, WARN, ERROR). --subject keeps
the messages about a project, repository or pull request and what is under
it: PRJ also selects PRJ/repo and PRJ/repo#12.

With --json every page is printed as Bitbucket's page JSON, one document per
page; --start and --limit ask for one page only.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Query.Severities, err = wire.ParseSeverityList(severities); err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			if opts.JobID, err = parseJobID(args[0]); err != nil {
				return err
			}
			opts.OnePage = cmd.Flags().Changed("start") || cmd.Flags().Changed("limit")
			if runF != nil {
				return runF(opts)
			}
			return runMessages(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&severities, "severity", "", "only these severities, comma-separated (INFO,WARN,ERROR)")
	cmd.Flags().StringVar(&opts.Query.Subject, "subject", "", "only messages about this subject and what is under it (PRJ, PRJ/repo, PRJ/repo#12)")
	cmd.Flags().IntVar(&opts.Query.Start, "start", 0, "first message of the page (with --json, one page only)")
	cmd.Flags().IntVar(&opts.Query.Limit, "limit", 0, "messages per page (default 25 on one page, 1000 when listing all)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print Bitbucket's page JSON")
	return cmd
}

func runMessages(ctx context.Context, opts *MessagesOptions) error {
	b, err := opts.Backend(ctx, false)
	if err != nil {
		return err
	}
	defer b.Close()
	out := opts.IO.out
	tw := tabwriter.NewWriter(termsafe.NewWriter(out), 0, 0, 2, ' ', 0)
	if !opts.JSON {
		fprintSafe(tw, "TIME\tSEVERITY\tSUBJECT\tTEXT\n")
	}
	q := opts.Query
	pages := wire.Pages(ctx, q.Start, func(ctx context.Context, start int) (model.Page[model.Message], error) {
		q.Start = start
		return b.Messages(ctx, opts.JobID, q)
	})
	for page, err := range pages {
		if err != nil {
			return err
		}
		if opts.JSON {
			if err := printJSON(out, page); err != nil {
				return err
			}
		} else {
			printMessages(tw, page.Values)
		}
		if opts.OnePage {
			break
		}
	}
	return tw.Flush()
}

// printMessages writes one line a message to tw, through fprintSafe (and
// a termsafe.Writer under tw): a message's texts come from an archive or a
// server.
func printMessages(tw io.Writer, ms []model.Message) {
	for _, m := range ms {
		subject := m.Subject
		if subject == "" {
			subject = ui.JobSubject
		}
		fprintSafe(tw, "%s\t%s\t%s\t%s\n", m.CreatedDate.Time().Local().Format("2006-01-02 15:04:05"), m.Severity, subject, m.Text)
	}
}
