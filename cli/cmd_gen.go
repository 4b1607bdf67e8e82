package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"bbimport/archive/gen"
	"bbimport/model"
)

func newGenCmd(*globalFlags) *cobra.Command {
	opts := gen.DefaultOptions()
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "gen --out FILE",
		Short: "Write a synthetic migration archive, for tests and demos",
		Long: `gen writes a synthetic Bitbucket Data Center migration archive in the layout
Bitbucket writes: real git repositories (their objects made in Go, as git
writes them, so no git process runs) with forks in
the same project and in personal projects (~USER), branches, lightweight and
annotated tags, and pull requests in every state with reviews, comments,
replies, tasks and inline comments.

The same options and seed always give the same bytes.`,
		Example: `  bbimport gen --out small.tar
  bbimport gen --out big.tar --projects 10 --repos 100 --prs 50
  bbimport gen --out large.tar --projects 1 --repos 10 --commits 100 --blob-kib 1024
  bbimport gen --out old.tar --archive-version 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("say where to write the archive with --out FILE")
			}
			if _, err := os.Stat(out); err == nil && !force {
				return fmt.Errorf("%s already exists: pick another --out or add --force to overwrite it", out)
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("check %s: %w", out, err)
			}
			// Ctrl-C cancels: the builds stop, FILE.tmp and the build
			// directories are removed.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			start := time.Now()
			st, err := gen.GenerateFile(ctx, out, opts)
			if err != nil {
				return fmt.Errorf("generate %s: %w", out, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(),
				"%s: %d projects (%d personal), %d repositories (%d forks), %d pull requests (%d open, %d merged, %d declined), %d comments, %d tasks, %s in %s\n",
				out, st.Projects, st.PersonalProjects, st.Repositories, st.Forks, st.PullRequests,
				st.PullRequestsByState[model.PROpen], st.PullRequestsByState[model.PRMerged],
				st.PullRequestsByState[model.PRDeclined], st.Comments, st.Tasks, humanize.IBytes(uint64(st.Bytes)),
				time.Since(start).Round(100*time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "archive file to write (written to FILE.tmp, then renamed)")
	f.BoolVar(&force, "force", false, "overwrite --out if it exists")
	f.IntVar(&opts.Projects, "projects", opts.Projects, "normal projects in the archive (personal projects come with forks)")
	f.IntVar(&opts.Repos, "repos", opts.Repos, "origin repositories per project, each the root of a fork hierarchy")
	f.IntVar(&opts.Forks, "forks", opts.Forks, "forks per origin repository, alternately in a personal project and in the origin's project")
	f.IntVar(&opts.PRs, "prs", opts.PRs, "pull requests per repository, forks included")
	f.IntVar(&opts.Commits, "commits", opts.Commits, "commits on the default branch of each origin repository (forks add 2)")
	f.IntVar(&opts.BlobKiB, "blob-kib", opts.BlobKiB, "KiB of random content each default-branch commit adds (0: none); sets the archive's size")
	f.Int64Var(&opts.Seed, "seed", opts.Seed, "random seed: the same seed and options give the same bytes")
	f.IntVar(&opts.ArchiveVersion, "archive-version", model.NewestArchiveVersion,
		"archiveVersion to write: 2 as Data Center 8.x and 9.x write it, or 1 as 5.13 to 7.x do")
	f.BoolVar(&opts.UnknownFields, "unknown-fields", false,
		"add JSON fields that bbimport does not read, as a newer Bitbucket might write")
	return cmd
}
