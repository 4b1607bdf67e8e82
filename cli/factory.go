package cli

import (
	"context"
	"strings"
)

// Factory is what a command gets from outside itself (gh's
// cmdutil.Factory): the streams, the backend it drives, and bbimport as the
// admin ran it for the commands a hint prints. The root command builds one
// from its flags; a test builds one with a fake backend, and runs a
// command with a runF that receives the parsed options instead of running.
//
// The fields are functions where they depend on flags that are parsed
// after the commands are built.
type Factory struct {
	// IO is filled in before any command runs.
	IO *streams
	// Backend opens what the commands drive: the in-process importer on
	// the instance home, or a remote Bitbucket with --url. Only the
	// commands that write a home (import, export, the console) create one.
	Backend func(ctx context.Context, creates bool) (*backend, error)
	// Invocation is bbimport as the admin ran it, with the --home, --url
	// and --user given: a hint copied into the same shell then reaches the
	// same home or server.
	Invocation func() string
	// ArchiveDir is where an ARCHIVE argument that is not a path is looked
	// up: the import directory --import-dir or --home names; "" when they
	// name none.
	ArchiveDir func() string
}

// newFactory is the factory of the flags g: its functions read g when a
// command runs, once cobra has parsed them.
func newFactory(g *globalFlags) *Factory {
	if g.io == nil {
		g.io = &streams{}
	}
	return &Factory{
		IO: g.io,
		Backend: func(ctx context.Context, creates bool) (*backend, error) {
			return openBackend(ctx, g, creates)
		},
		Invocation: g.invocation,
		ArchiveDir: g.archiveDir,
	}
}

// Hint is a command line for a hint: the invocation, then args.
func (f *Factory) Hint(args ...string) string {
	return f.Invocation() + " " + strings.Join(args, " ")
}
