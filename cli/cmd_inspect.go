package cli

import (
	"bytes"
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

func newInspectCmd(g *globalFlags) *cobra.Command {
	var asJSON bool
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
			path, err := findArchive(g, args[0])
			if err != nil {
				return err
			}
			s, err := archive.Inspect(path, archive.DefaultLimits())
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			if asJSON {
				var buf bytes.Buffer
				if err := printJSON(&buf, s); err != nil {
					return err
				}
				_, err := cmd.OutOrStdout().Write(termsafe.JSON(buf.Bytes()))
				return err
			}
			printSummary(cmd.OutOrStdout(), path, s)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

// findArchive resolves an ARCHIVE argument: a path as given, else a name
// in the import directory, the place admins are told to copy archives to.
func findArchive(g *globalFlags, arg string) (string, error) {
	if _, err := os.Stat(arg); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return arg, nil
	}
	dir := g.importDir
	if dir == "" && g.home != "" {
		dir = filepath.Join(g.home, "shared", "data", "migration", "import")
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
// archive: a project name must not drive the terminal, so all of it goes
// through termsafe.Writer, and each text through termsafe.String too, so
// that a newline in a name cannot start a line of its own.
func printSummary(out io.Writer, path string, s model.ArchiveSummary) {
	out = termsafe.NewWriter(out)
	safe := termsafe.String
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Archive\t%s (%s, %d members)\n", safe(path), humanize.IBytes(uint64(s.ArchiveBytes)), s.Members)
	in := s.Instance
	fmt.Fprintf(tw, "Source\t%s %s (build %s), archiveVersion %d, instance %q\n",
		safe(in.Product), safe(in.Version), safe(in.BuildVersion), in.ArchiveVersion, in.InstanceName)
	fmt.Fprintf(tw, "Projects\t%d\n", len(s.Projects))
	for _, p := range s.Projects {
		fmt.Fprintf(tw, "  %s\t%s, %s\n", safe(p.Key), safe(p.Name), model.Plural(p.Repositories, "repository", "repositories"))
	}
	fmt.Fprintf(tw, "Repositories\t%d (%s)\n", s.Repositories, model.Plural(s.Forks, "fork", "forks"))
	fmt.Fprintf(tw, "Fork hierarchies\t%d\n", len(s.Hierarchies))
	for _, h := range s.Hierarchies {
		if len(h.Forks) == 0 {
			fmt.Fprintf(tw, "  %s\tno forks\n", safe(h.Origin))
			continue
		}
		fmt.Fprintf(tw, "  %s\tforks: %s\n", safe(h.Origin), safe(strings.Join(h.Forks, ", ")))
	}
	pr := s.PullRequests
	fmt.Fprintf(tw, "Pull requests\t%d: %d open, %d merged, %d declined\n", pr.Total, pr.Open, pr.Merged, pr.Declined)
	fmt.Fprintf(tw, "Git data\t%s\n", humanize.IBytes(uint64(s.GitBytes)))
	if len(s.Warnings) > 0 {
		fmt.Fprintf(tw, "Warnings\t%d\n", len(s.Warnings))
	}
	tw.Flush()
	for _, w := range s.Warnings {
		fmt.Fprintf(out, "  - %s\n", safe(w))
	}
}
