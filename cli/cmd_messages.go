package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"bbimport/model"
	"bbimport/termsafe"
	"bbimport/ui"
	"bbimport/wire"
)

func newMessagesCmd(g *globalFlags) *cobra.Command {
	var severities, subject string
	var start, limit int
	var asJSON bool
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
			q := model.MessageQuery{Subject: subject, Start: start, Limit: limit}
			var err error
			if q.Severities, err = wire.ParseSeverityList(severities); err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			b, id, err := openJob(cmd.Context(), g, args[0])
			if err != nil {
				return err
			}
			defer b.Close()
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(termsafe.NewWriter(out), 0, 0, 2, ' ', 0)
			if !asJSON {
				fmt.Fprintln(tw, "TIME\tSEVERITY\tSUBJECT\tTEXT")
			}
			onePage := cmd.Flags().Changed("start") || cmd.Flags().Changed("limit")
			pages := wire.Pages(cmd.Context(), q.Start, func(ctx context.Context, start int) (model.Page[model.Message], error) {
				q.Start = start
				return b.Messages(ctx, id, q)
			})
			for page, err := range pages {
				if err != nil {
					return err
				}
				if asJSON {
					if err := printJSON(out, page); err != nil {
						return err
					}
				} else {
					printMessages(tw, page.Values)
				}
				if onePage {
					break
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&severities, "severity", "", "only these severities, comma-separated (INFO,WARN,ERROR)")
	cmd.Flags().StringVar(&subject, "subject", "", "only messages about this subject and what is under it (PRJ, PRJ/repo, PRJ/repo#12)")
	cmd.Flags().IntVar(&start, "start", 0, "first message of the page (with --json, one page only)")
	cmd.Flags().IntVar(&limit, "limit", 0, "messages per page (default 25 on one page, 1000 when listing all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print Bitbucket's page JSON")
	return cmd
}

// printMessages writes one line a message to tw, which writes through
// termsafe.Writer: a message's texts come from an archive or a server.
func printMessages(tw io.Writer, ms []model.Message) {
	for _, m := range ms {
		subject := m.Subject
		if subject == "" {
			subject = ui.JobSubject
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.CreatedDate.Time().Local().Format("2006-01-02 15:04:05"),
			termsafe.String(string(m.Severity)), termsafe.String(subject), termsafe.String(m.Text))
	}
}
