// Package cli holds bbimport's commands: flag parsing, opening a backend,
// and the exit statuses scripts rely on.
package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"bbimport/importer"
	"bbimport/model"
	"bbimport/termsafe"
)

// Exit statuses shared by the commands that wait for a job.
const (
	exitOK         = 0
	exitFailed     = 1 // FAILED, ABORTED, TIMED_OUT, or COMPLETED with ERROR messages
	exitNotStarted = 2 // bad input, or the job could not start
	exitCanceled   = 3
)

// exitError carries an exit status out of a command; its message, if any,
// has been printed already or is printed by main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// globalFlags are the flags every command takes.
type globalFlags struct {
	home      string // in-process instance home
	url       string // remote Bitbucket (or bbimport serve) base URL
	user      string
	token     string // HTTP access token for --url, sent as Bearer
	importDir string
	caFile    string
	insecure  bool
	plain     bool
	demo      bool
	noNotify  bool // the console sends no bell or notification when an import ends

	io    *streams        // the Factory's IO, filled in before any command runs
	given map[string]bool // the connection flags the command line set, for hints
}

// newRoot is bbimport's command tree on the flags g, whose commands get
// their dependencies from f (newFactory(g), or a test's).
func newRoot(g *globalFlags, f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "bbimport",
		Short: "Import Bitbucket Data Center migration archives from a terminal console",
		Long: `bbimport imports Bitbucket Data Center migration archives.

With no --url it runs the importer on an instance home of its own (--home, or
BBIMPORT_HOME), each import in a runner process that outlives the terminal. With --url it drives a remote Bitbucket, or
'bbimport serve', through the migration REST API. Run with no command to open
the console; the other commands are for scripts, and their --json output has
Bitbucket's shapes.`,
		Version:       importer.Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			*f.IO = *newStreams(cmd)
			g.noteGiven(cmd)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConsole(cmd, g, f)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.home, "home", os.Getenv("BBIMPORT_HOME"), "instance home of the in-process importer (default $BBIMPORT_HOME, else ~/.local/share/bbimport)")
	pf.StringVar(&g.url, "url", os.Getenv("BITBUCKET_URL"), "base URL of a remote Bitbucket or bbimport serve (default $BITBUCKET_URL)")
	pf.StringVar(&g.user, "user", os.Getenv("BITBUCKET_USER"), "user for --url; the password comes from $BITBUCKET_PASSWORD, ~/.netrc or a prompt")
	pf.StringVar(&g.token, "token", "", "HTTP access token for --url, sent as Bearer (safer in $BITBUCKET_TOKEN, which ps and shell history do not show)")
	pf.StringVar(&g.importDir, "import-dir", "", "import directory (default <home>/shared/data/migration/import, or with --url $BITBUCKET_HOME/shared/data/migration/import)")
	pf.StringVar(&g.caFile, "ca-file", "", "extra CA certificate file (PEM) to trust for --url")
	pf.BoolVar(&g.insecure, "insecure", false, "do not verify the server's TLS certificate (unsafe)")
	root.Flags().BoolVar(&g.plain, "plain", false, "no full-screen console: append progress and messages as lines")
	root.Flags().BoolVar(&g.demo, "demo", false, "open the console on a fresh home in a temporary directory, seeded with the sample archives")
	root.Flags().BoolVar(&g.noNotify, "no-notify", false, "no bell and no desktop notification when an import the console watches ends")

	// serve, migrate, carry and the runners keep the flags: what they
	// drive are processes and servers of their own, not a backend.
	root.AddCommand(
		NewCmdInspect(f, nil),
		NewCmdChecksum(f, nil),
		newCarryCmd(g),
		newMigrateCmd(g),
		newGenCmd(g),
		NewCmdImport(f, nil),
		NewCmdExport(f, nil),
		NewCmdStatus(f, nil),
		NewCmdMessages(f, nil),
		NewCmdCancel(f, nil),
		NewCmdJobs(f, nil),
		NewCmdVerify(f, nil),
		newServeCmd(g),
		newRunnerCmd(g),
		newMigrateRunnerCmd(g),
	)
	return root
}

// Main runs bbimport with os.Args and returns the exit status. samples are
// the archives that --demo seeds a fresh home with.
func Main(samples fs.FS) int {
	demoArchives = samples
	g := &globalFlags{}
	f := newFactory(g)
	return exitStatus(newRoot(g, f).Execute(), f, os.Stderr)
}

// exitStatus is the exit status of a command that returned err, whose
// sentence it prints to stderr if nothing printed it yet.
func exitStatus(err error, f *Factory, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	code := exitNotStarted
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	// An error may quote what a server or an archive said.
	msg := termsafe.String(err.Error())
	if errors.Is(err, model.ErrJobNotFound) {
		msg += "; " + f.Hint("jobs") + " lists the jobs there"
	}
	fmt.Fprintln(stderr, "bbimport:", msg)
	return code
}
