package ui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"bbimport/model"
)

// errNoAnswer ends plain mode when its input ends before a question is
// answered.
var errNoAnswer = errors.New("no answer: the input ended")

// plainConsole is the console without the full screen: numbered archives,
// questions answered on stdin, then the job's progress appended as lines.
type plainConsole struct {
	opts Options
	in   *bufio.Scanner
	echo bool // answers come from a pipe: write them out so the log reads right
	out  io.Writer
	t    Theme
}

func runPlain(ctx context.Context, opts Options) (Result, error) {
	p := &plainConsole{opts: opts, in: bufio.NewScanner(opts.In), out: opts.Out, t: newTheme(false, false),
		echo: !opts.InTerminal}
	return p.run(ctx)
}

func (p *plainConsole) println(lines ...string) {
	for _, l := range lines {
		// The no-colour theme still bolds; plain output has no escapes.
		fmt.Fprintln(p.out, ansi.Strip(l))
	}
}

// ask prints a question and returns the answer, trimmed.
func (p *plainConsole) ask(q string) (string, error) {
	fmt.Fprint(p.out, q)
	if !p.in.Scan() {
		fmt.Fprintln(p.out)
		if err := p.in.Err(); err != nil {
			return "", fmt.Errorf("read the answer: %w", err)
		}
		return "", errNoAnswer
	}
	a := strings.TrimSpace(p.in.Text())
	if p.echo {
		fmt.Fprintln(p.out, a)
	}
	return a, nil
}

func (p *plainConsole) yes(q string, def bool) (bool, error) {
	a, err := p.ask(q)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(a) {
	case "":
		return def, nil
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

func (p *plainConsole) run(ctx context.Context) (Result, error) {
	b := p.opts.Backend
	id, err := b.Identity(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("ask the backend who it is: %w", err)
	}
	if id.Remote {
		p.println(fmt.Sprintf("bbimport: %s (%s %s) as %s", id.Location, id.Product, id.Version, id.User))
	} else {
		p.println("bbimport: in-process importer, home " + id.Location)
	}
	jobs, err := b.KnownJobs(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("list the known jobs: %w", err)
	}
	for _, j := range jobs {
		if j.State.Finished() {
			continue
		}
		ok, err := p.yes(fmt.Sprintf("Job %d is still %s at %d%%. Watch it? [Y/n] ", j.ID, j.State, j.Progress.Percentage), true)
		if err != nil {
			return Result{}, err
		}
		if ok {
			return p.watch(ctx, j.ID)
		}
		break
	}
	f, err := p.pick(ctx)
	if err != nil || f == nil {
		return Result{}, err
	}
	ok, err := p.yes(fmt.Sprintf("Start the import of %s? [y/N] ", f.Name), false)
	if err != nil || !ok {
		return Result{}, err
	}
	job, err := b.Start(ctx, f.Name)
	if err != nil {
		return Result{}, fmt.Errorf("start the import of %s: %w", f.Name, err)
	}
	p.println(fmt.Sprintf("Started job %d.", job.ID))
	return p.watch(ctx, job.ID)
}

// watch appends the job's progress and messages until it ends.
func (p *plainConsole) watch(ctx context.Context, id int64) (Result, error) {
	job, err := WatchJob(ctx, p.opts.Backend, id, WatchOptions{Out: p.out, Now: p.opts.Now})
	job.ID = id // a failed first look returns no job
	if err != nil {
		return Result{Job: job}, fmt.Errorf("follow job %d: %w", id, err)
	}
	return Result{Job: job}, nil
}

// pick lists the archives and asks for one; nil when the admin quits.
func (p *plainConsole) pick(ctx context.Context) (*model.ArchiveFile, error) {
	a := p.opts.Archives
	files, err := a.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the import directory %s: %w", a.Dir(), err)
	}
	if len(files) == 0 {
		p.println("No archives in " + a.Dir() + ". Copy an export archive (.tar) there and run bbimport again.")
		return nil, nil
	}
	p.println("Archives in " + a.Dir() + ", newest first:")
	for i, f := range files {
		state := f.ModTime.Format("2006-01-02 15:04")
		if f.Growing {
			state = "copying… (cannot start yet)"
		}
		p.println(fmt.Sprintf("%3d. %s  %s  %s", i+1, f.Name, humanize.IBytes(uint64(f.Size)), state))
	}
	for {
		a, err := p.ask(fmt.Sprintf("Archive to import (1-%d, empty to quit): ", len(files)))
		if err != nil || a == "" {
			return nil, err
		}
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 || n > len(files) {
			p.println(fmt.Sprintf("Type a number from 1 to %d.", len(files)))
			continue
		}
		f := files[n-1]
		if f.Growing {
			p.println(f.Name + " is still being copied; pick it again once the copy is done.")
			continue
		}
		p.println("", fmt.Sprintf("%s, %s:", f.Name, humanize.IBytes(uint64(f.Size))))
		p.describe(ctx, f)
		return &f, nil
	}
}

// describe prints what inspect and the pre-flight checks tell of f.
func (p *plainConsole) describe(ctx context.Context, f model.ArchiveFile) {
	in := &archiveInfo{}
	sum, err := p.opts.Archives.Inspect(ctx, f.Path)
	if err != nil {
		in.summaryErr = err
	} else {
		in.summary = &sum
		pf := runPreflight(ctx, p.opts.Backend, p.opts.Archives, sum)
		in.preflight = &pf
		p.println(summaryLines(p.t, sum)...)
	}
	p.println(preflightLines(p.t, f, in)...)
}
