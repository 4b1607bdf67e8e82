package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"bbimport/archive"
	"bbimport/model"
	"bbimport/termsafe"
)

// InspectOptions are what inspect runs with.
type InspectOptions struct {
	IO *streams
	// Archive is the ARCHIVE argument, found as findArchive finds it.
	Archive string
	JSON    bool
}

// NewCmdInspect is the inspect command; runF, when not nil, runs instead
// of it with the parsed options.
func NewCmdInspect(f *Factory, runF func(*InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "inspect ARCHIVE",
		Short: "Tell what a migration archive holds, without importing it",
		Long: `inspect reads a migration archive and tells what it holds: the source
instance, each project with its repository count, each fork hierarchy with
its origin and forks, pull requests by state and the size of the git data.
It checks every name in the archive as an import would, but skips the git
objects by seeking, so it takes seconds even on a large archive.

ARCHIVE is a path (the file, not a symbolic link); when no such file exists
it is looked up in the import directory (--import-dir, or
<home>/shared/data/migration/import).

Exit status: 0 the archive reads cleanly; 1 it does not (unsafe, truncated,
unsupported); 2 no such archive.`,
		Example: `  bbimport inspect Bitbucket_export_12.tar
  bbimport inspect --json /data/Bitbucket_export_12.tar | jq .pullRequests`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := findArchive(f.ArchiveDir(), args[0])
			if err != nil {
				return err
			}
			opts.Archive = path
			if runF != nil {
				return runF(opts)
			}
			return runInspect(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the summary as JSON")
	return cmd
}

func runInspect(opts *InspectOptions) error {
	s, err := archive.Inspect(opts.Archive, archive.DefaultLimits())
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	if opts.JSON {
		return printJSON(opts.IO.out, s)
	}
	printSummary(opts.IO.out, opts.Archive, s)
	return nil
}

// findArchive resolves an ARCHIVE argument: a path as given, else a name
// in the import directory, the place admins are told to copy archives to.
// dir is the import directory the flags name (Factory.ArchiveDir).
func findArchive(dir, arg string) (string, error) {
	if _, err := os.Stat(arg); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return arg, nil
	}
	if dir != "" && !filepath.IsAbs(arg) {
		p := filepath.Join(dir, arg)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("no archive %s here or in the import directory %s", arg, dir)
	}
	return "", fmt.Errorf("no archive %s: give its path, or its name with --import-dir", arg)
}

// printSummary prints s as a table. Every text in it comes from the
// archive: a project name must not drive the terminal nor start a line of
// its own, so all of it goes through fprintSafe and termsafe.Writer.
func printSummary(out io.Writer, path string, s model.ArchiveSummary) {
	out = termsafe.NewWriter(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fprintSafe(tw, "Archive\t%s (%s, %d members)\n", path, humanize.IBytes(uint64(s.ArchiveBytes)), s.Members)
	in := s.Instance
	fprintSafe(tw, "Source\t%s %s (build %s), archiveVersion %d, instance \"%s\"\n",
		in.Product, in.Version, in.BuildVersion, in.ArchiveVersion, in.InstanceName)
	fprintSafe(tw, "Projects\t%d\n", len(s.Projects))
	for _, p := range s.Projects {
		fprintSafe(tw, "  %s\t%s, %s\n", p.Key, p.Name, model.Plural(p.Repositories, "repository", "repositories"))
	}
	fprintSafe(tw, "Repositories\t%d (%s)\n", s.Repositories, model.Plural(s.Forks, "fork", "forks"))
	fprintSafe(tw, "Fork hierarchies\t%d\n", len(s.Hierarchies))
	for _, h := range s.Hierarchies {
		if len(h.Forks) == 0 {
			fprintSafe(tw, "  %s\tno forks\n", h.Origin)
			continue
		}
		fprintSafe(tw, "  %s\tforks: %s\n", h.Origin, strings.Join(h.Forks, ", "))
	}
	pr := s.PullRequests
	fprintSafe(tw, "Pull requests\t%d: %d open, %d merged, %d declined\n", pr.Total, pr.Open, pr.Merged, pr.Declined)
	fprintSafe(tw, "Git data\t%s\n", humanize.IBytes(uint64(s.GitBytes)))
	if len(s.Warnings) > 0 {
		fprintSafe(tw, "Warnings\t%d\n", len(s.Warnings))
	}
	tw.Flush()
	for _, w := range s.Warnings {
		fprintSafe(out, "  - %s\n", w)
	}
}
