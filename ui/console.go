// Package ui is bbimport's console: a Bubble Tea program that picks an
// archive from the import directory, previews and checks it, starts the
// import and watches the job to its end.
//
// It drives a model.Backend (the in-process importer or the REST client)
// and an Archives (the local import directory) and imports neither the
// importer, the server nor the client. One root model routes messages to
// plain sub-parts (picker, dialog, job view, message log); every piece of
// I/O runs in a tea.Cmd, never in Update.
package ui

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"golang.org/x/term"

	"bbimport/model"
)

// Archives is the import directory the console picks from. The console runs
// on the server, so this is always local, even when the backend is remote.
type Archives interface {
	// List returns the archives, newest first; Growing marks copies still
	// in progress.
	List(ctx context.Context) ([]model.ArchiveFile, error)
	// Inspect tells what an archive holds without importing it.
	Inspect(ctx context.Context, path string) (model.ArchiveSummary, error)
	// Checksum computes MD5 and SHA-256, reporting bytes read as it goes.
	Checksum(ctx context.Context, path string, progress func(done, total int64)) (model.Checksums, error)
	// FreeBytes is the space left on the import directory's file system.
	FreeBytes(ctx context.Context) (int64, error)
	// Dir is the import directory, for "copy an archive into …".
	Dir() string
	// CheckStart applies the rule an import's start applies to the archive
	// name (relative to Dir) before it records a job; nil when it would
	// start. The console offers a start only then, with the importer's
	// own sentence otherwise.
	CheckStart(ctx context.Context, name string) error
}

// Options configure the console.
type Options struct {
	Backend  model.Backend
	Archives Archives
	// Verifier compares a finished job's archive with the target and
	// writes remainder archives; nil leaves the Verify pane out.
	Verifier model.Verifier
	// Exporter starts exports from the Export screen (e in the picker);
	// nil when the backend cannot export.
	Exporter model.Exporter
	// Queuer keeps the queue in the instance home (the in-process
	// importer), where it goes on without the console; nil with a remote
	// backend, whose queue the console keeps while it runs.
	Queuer model.Queuer
	// Shelves are the export and import directories the Export screen
	// lists and removes old archives from; nil with a remote backend.
	Shelves []ArchiveShelf
	// Migrator starts, follows, cancels and resumes migrations from the
	// Migrate screen (t in the picker); nil leaves the screen empty.
	Migrator model.Migrator

	// NoNotify turns off the bell and the desktop notification (OSC 9 and
	// OSC 777) sent when a watched import ends.
	NoNotify bool
	// StateDir is where the console remembers, between runs, the source
	// checksums pasted for each archive; "" remembers nothing.
	StateDir string

	// Self is bbimport as the user ran it ("./bbimport"), for the commands
	// the console suggests, which add the flags that reach the backend
	// again (--home, or --url and --user); "" means "bbimport".
	Self string

	// Now is the clock; nil means time.Now. Tests inject a fixed one.
	Now func() time.Time
	// NoColor forces the no-colour theme. Run also sets it when the
	// NO_COLOR environment variable is non-empty.
	NoColor bool

	// Plain appends lines instead of taking over the screen: for screen
	// readers, `script` logs and dumb terminals.
	Plain bool
	// In and Out are the plain mode's terminal; nil means stdin and stdout.
	// Out also receives the note printed after the full-screen console ends.
	In  io.Reader
	Out io.Writer
	// InTerminal says In is a terminal, which echoes the answers typed;
	// answers read from elsewhere are written out so the log reads right.
	InTerminal bool
}

// Result is what the console leaves for the command to report.
type Result struct {
	// Job is the job plain mode followed, as last seen; its ID is 0 when
	// it followed none. When Run fails with a Job, following it failed.
	Job model.Job
	// Detached: plain mode stopped following a job that goes on (a
	// closed terminal); Job is not its end.
	Detached bool
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.In == nil {
		o.In = os.Stdin
		o.InTerminal = term.IsTerminal(int(os.Stdin.Fd()))
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	// The colour-profile library honours only true-ish NO_COLOR values; the
	// convention (no-color.org) is any non-empty value.
	if os.Getenv("NO_COLOR") != "" {
		o.NoColor = true
	}
}

// Run opens the console and returns when the user quits, or in plain mode
// once the job it started or re-attached to has ended.
func Run(ctx context.Context, opts Options) (Result, error) {
	opts.defaults()
	if opts.Plain {
		return runPlain(ctx, opts)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := newModel(ctx, opts)
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.NoColor {
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	final, err := tea.NewProgram(m, popts...).Run()
	if err != nil && ctx.Err() == nil {
		return Result{}, fmt.Errorf("run the console: %w", err)
	}
	if fm, ok := final.(Model); ok && fm.farewell != "" {
		fmt.Fprintln(opts.Out, fm.farewell)
	}
	return Result{}, nil
}
