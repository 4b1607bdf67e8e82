package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"bbimport/model"
	"bbimport/termsafe"
)

func newExportCmd(g *globalFlags) *cobra.Command {
	var wait, detach, asJSON, force, preview bool
	var location string
	cmd := &cobra.Command{
		Use:   "export SELECTOR...",
		Short: "Export projects and repositories to a migration archive",
		Long: `Export repositories of the instance to a migration archive, as Bitbucket's
export does: SELECTOR is PRJ/slug (one repository), PRJ/* (a project's
repositories) or */* (everything). Nothing is exported by default: the
whole instance only when */* is given. Selecting any repository of a fork
hierarchy exports the whole hierarchy; selections add up, and nothing is
written twice.

The archive appears as Bitbucket_export_<job>.tar in the home's
shared/data/migration/export directory (or --location, a directory
relative to it) only once it is whole. The command never asks: it prints
what it exports and starts, and refuses when the archive's estimated size
exceeds the free disk unless --force is given. --preview prints what the
selectors select, the estimate and the free disk, and exports nothing.

In-process the export runs in a runner process of its own, which goes on
if this command or its terminal goes away; export waits for the job's end
unless --detach is given, and --wait shows progress and messages. Two
exports may run at once; a third is refused until one ends. Ctrl+C (or
bbimport cancel JOB) stops an export at once and leaves no archive.

Exit status: 0 COMPLETED without ERROR messages (or detached, or a
preview); 1 FAILED, ABORTED or COMPLETED with errors; 3 CANCELED; 2 the
export did not start (a selector that matches nothing, not enough disk,
two exports running).`,
		Example: `  bbimport export PRJ/repo --wait
  bbimport export PRJ/* OTHER/tools --location weekly --json
  bbimport export '*/*' --preview`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var req model.ExportRequest
			req.ExportLocation, req.Force = location, force
			seen := map[model.RepositorySelector]bool{}
			for _, a := range args {
				s, err := model.ParseSelector(a)
				if err != nil {
					return &exitError{code: exitNotStarted, err: err}
				}
				if !seen[s] {
					seen[s] = true
					req.RepositoriesRequest.Includes = append(req.RepositoriesRequest.Includes, s)
				}
			}
			b, err := openBackend(ctx, g, true)
			if err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			defer b.Close()
			exporter, ok := b.Backend.(model.Exporter)
			if !ok {
				return &exitError{code: exitNotStarted, err: fmt.Errorf("export: %w", model.ErrNotSupported)}
			}
			p, err := exporter.PreviewExport(ctx, req)
			if err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			if preview {
				if asJSON {
					return printJSON(g.io.out, p)
				}
				printPreview(g.io.out, p)
				return nil
			}
			printPreviewLine(g.io.errOut, p)
			signals := make(chan os.Signal, 2)
			signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
			defer signal.Stop(signals)
			job, err := exporter.StartExport(ctx, req)
			if err != nil {
				if errors.Is(err, model.ErrNotEnoughDisk) {
					err = fmt.Errorf("%w (bbimport export --preview shows the estimate)", err)
				}
				return &exitError{code: exitNotStarted, err: err}
			}
			return followJob(ctx, g, b, job, signals, follow{what: "Exporting to " + job.Archive, wait: wait, detach: detach, asJSON: asJSON})
		},
	}
	cmd.Flags().StringVar(&location, "location", "", "directory for the archive, relative to the export directory")
	cmd.Flags().BoolVar(&wait, "wait", false, "show progress and messages until the job ends")
	cmd.Flags().BoolVar(&detach, "detach", false, "print the started job and return at once; the job goes on")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the final job (the started one with --detach, the preview with --preview) as JSON")
	cmd.Flags().BoolVar(&force, "force", false, "start even when the estimated archive is larger than the free disk")
	cmd.Flags().BoolVar(&preview, "preview", false, "print what the selectors select, the estimated size and the free disk; export nothing")
	cmd.MarkFlagsMutuallyExclusive("wait", "detach")
	cmd.MarkFlagsMutuallyExclusive("preview", "wait")
	cmd.MarkFlagsMutuallyExclusive("preview", "detach")
	return cmd
}

// printPreviewLine says on one line what an export is about to write.
func printPreviewLine(out io.Writer, p model.ExportPreview) {
	fmt.Fprintf(out, "Exporting %s, %s (%d forks) and %s: about %s, %s free in %s\n",
		model.Plural(len(p.Projects), "project", "projects"), model.Plural(p.Repositories, "repository", "repositories"), p.Forks,
		model.Plural(p.PullRequests, "pull request", "pull requests"),
		humanize.IBytes(uint64(p.EstimatedBytes)), humanize.IBytes(uint64(p.FreeBytes)), termsafe.String(p.Directory))
}

// printPreview writes a preview as a table of projects and totals.
func printPreview(out io.Writer, p model.ExportPreview) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROJECT\tNAME\tREPOSITORIES")
	for _, pr := range p.Projects {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", termsafe.String(pr.Key), termsafe.String(pr.Name), termsafe.String(strings.Join(pr.Repositories, " ")))
	}
	tw.Flush()
	fmt.Fprintln(out)
	printPreviewLine(out, p)
	if !p.Fits() {
		fmt.Fprintln(out, "The estimate exceeds the free disk: the export is refused unless --force is given.")
	}
}
