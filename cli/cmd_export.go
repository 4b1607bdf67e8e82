package cli

import (
	"context"
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
	"bbimport/wire"
)

// ExportOptions are what export runs with.
type ExportOptions struct {
	IO      *streams
	Backend func(context.Context, bool) (*backend, error)
	Hint    func(args ...string) string
	Request model.ExportRequest
	Preview bool
	Follow  follow
}

// NewCmdExport is the export command; runF, when not nil, runs instead of
// it with the parsed options.
func NewCmdExport(f *Factory, runF func(*ExportOptions) error) *cobra.Command {
	opts := &ExportOptions{IO: f.IO, Backend: f.Backend, Hint: f.Hint}
	var formats jobFormatFlags
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
selectors select, the estimate and the free disk, and exports nothing;
with --json as Bitbucket's preview answers it ({"scopes":[…]}, one
{"projectKey","slug"} per repository), with --bbimport-json as bbimport's
(projects, counts, estimatedBytes, freeBytes).

In-process the export runs in a runner process of its own, which goes on
if this command or its terminal goes away; export waits for the job's end
unless --detach is given, and --wait shows progress and messages. Two
exports may run at once; a third is refused until one ends. Ctrl+C (or
bbimport cancel JOB) stops an export at once and leaves no archive.

Exit status: 0 COMPLETED without ERROR messages (or detached, or a
preview); 1 FAILED, ABORTED or COMPLETED with errors; 3 CANCELED; 2 the
export did not start (a selector that matches nothing, not enough disk,
two exports running).

With --url the server exports (a Bitbucket, or bbimport serve) into its
own export directory, and the command follows the job as it follows an
import. A Bitbucket's preview names the repositories only: the pull
requests, the estimate and the free disk are then unknown, and nothing is
refused for them. --force reaches bbimport serve through its own start
(POST /rest/bbimport/1.0/migration/exports?force=true); Bitbucket's
request has no such field, so against a Bitbucket --force sends nothing.`,
		Example: `  bbimport export PRJ/repo --wait
  bbimport export PRJ/* OTHER/tools --location weekly --json
  bbimport export '*/*' --preview
  bbimport export '*/*' --preview --json | jq -r '.scopes[] | "\(.projectKey)/\(.slug)"'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &opts.Request
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
			opts.Follow.format = formats.format()
			if runF != nil {
				return runF(opts)
			}
			return runExport(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Request.ExportLocation, "location", "", "directory for the archive, relative to the export directory")
	opts.Follow.addFlags(cmd)
	formats.add(cmd, "print the final job (the started one with --detach) as Bitbucket's job JSON, no field more; with --preview, Bitbucket's preview: {\"scopes\":[{\"projectKey\",\"slug\"}…]}",
		"print the final job (the started one with --detach) as bbimport's job JSON: Bitbucket's fields, counts and archive; with --preview, bbimport's preview: projects, counts, estimatedBytes, freeBytes")
	fl.BoolVar(&opts.Request.Force, "force", false, "start even when the estimated archive is larger than the free disk (with --url: on bbimport serve; a Bitbucket checks no disk)")
	fl.BoolVar(&opts.Preview, "preview", false, "print what the selectors select, the estimated size and the free disk; export nothing")
	cmd.MarkFlagsMutuallyExclusive("preview", "wait")
	cmd.MarkFlagsMutuallyExclusive("preview", "detach")
	return cmd
}

func runExport(ctx context.Context, opts *ExportOptions) error {
	b, err := opts.Backend(ctx, true)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	defer b.Close()
	exporter, ok := b.Backend.(model.Exporter)
	if !ok {
		return &exitError{code: exitNotStarted, err: fmt.Errorf("export: %w", model.ErrNotSupported)}
	}
	p, err := exporter.PreviewExport(ctx, opts.Request)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	out := opts.IO.out
	if opts.Preview {
		switch opts.Follow.format {
		case jobBitbucketJSON:
			return printJSON(out, wire.PreviewScopes(p))
		case jobOwnJSON:
			return printJSON(out, p)
		}
		printPreview(out, p)
		return nil
	}
	printPreviewLine(opts.IO.errOut, p)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	job, err := exporter.StartExport(ctx, opts.Request)
	if err != nil {
		var disk *model.NotEnoughDiskError
		if errors.As(err, &disk) {
			err = diskRefusal{disk}
		}
		return &exitError{code: exitNotStarted, err: err}
	}
	opts.Follow.what = "Exporting to " + job.Archive
	return followJob(ctx, opts.IO, opts.Hint, b, job, signals, opts.Follow)
}

// diskRefusal is an export refused for the disk, worded for the command's
// user, who can pass --force.
type diskRefusal struct{ *model.NotEnoughDiskError }

func (d diskRefusal) Error() string {
	where := ""
	if d.Directory == "" { // refused by a server
		where = " on the server"
	}
	return "start the export: " + d.Shortfall() + "; free some space" + where +
		", export less, or pass --force (bbimport export --preview shows the estimate)"
}

func (d diskRefusal) Unwrap() error { return d.NotEnoughDiskError }

// printPreviewLine says on one line what an export is about to write.
func printPreviewLine(out io.Writer, p model.ExportPreview) {
	free := "free disk unknown"
	if p.FreeBytes != model.Unknown {
		free = humanize.IBytes(uint64(p.FreeBytes)) + " free"
	}
	where := ""
	if p.Directory != "" {
		where = " in " + p.Directory
	}
	fprintSafe(termsafe.NewWriter(out), "Exporting %s: %s, %s%s\n", previewWhat(p), previewSize(p), free, where)
}

// previewWhat counts what a preview selects. A Bitbucket's preview names
// the repositories only: what it does not tell is left out, never 0.
func previewWhat(p model.ExportPreview) string {
	what := model.Plural(len(p.Projects), "project", "projects") + ", " + model.Plural(p.Repositories, "repository", "repositories") +
		" (" + model.Plural(p.Forks, "fork", "forks") + ")"
	if p.PullRequests != model.Unknown {
		what += " and " + model.Plural(p.PullRequests, "pull request", "pull requests")
	}
	return what
}

// previewSize is the estimated size of the archive, or that it is unknown.
func previewSize(p model.ExportPreview) string {
	if p.EstimatedBytes == model.Unknown {
		return "size unknown"
	}
	return "about " + humanize.IBytes(uint64(p.EstimatedBytes))
}

// printPreview writes a preview as a table of projects and totals.
func printPreview(out io.Writer, p model.ExportPreview) {
	tw := tabwriter.NewWriter(termsafe.NewWriter(out), 0, 0, 2, ' ', 0)
	fprintSafe(tw, "PROJECT\tNAME\tREPOSITORIES\n")
	for _, pr := range p.Projects {
		fprintSafe(tw, "%s\t%s\t%s\n", pr.Key, pr.Name, strings.Join(pr.Repositories, " "))
	}
	tw.Flush()
	fmt.Fprintln(out)
	printPreviewLine(out, p)
	switch {
	case !p.Fits():
		fmt.Fprintln(out, "The estimate exceeds the free disk: the export is refused unless --force is given.")
	case !p.SizeKnown():
		fmt.Fprintln(out, "The server does not estimate an export: check the free disk of its export directory before a large one.")
	}
}
