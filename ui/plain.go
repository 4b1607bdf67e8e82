package ui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"bbimport/model"
	"bbimport/termsafe"
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

	// catch routes the stop signals to a channel while a job runs, as
	// signal.Notify does; release ends it. Tests send their own.
	catch func() (signals <-chan os.Signal, release func())

	// earlier are the imports of the picked archive before, from its
	// pre-flight: starting it again asks so.
	earlier []model.ImportedArchive
	// identity is the backend's, for the commands a hint prints.
	identity model.Identity
}

func runPlain(ctx context.Context, opts Options) (Result, error) {
	return newPlain(opts).run(ctx)
}

func newPlain(opts Options) *plainConsole {
	return &plainConsole{opts: opts, in: bufio.NewScanner(opts.In), out: opts.Out, t: newTheme(false, false),
		echo: !opts.InTerminal, catch: CatchSignals}
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
	p.identity = id
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
		j = safeJob(j)
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
	note, err := p.checksum(ctx, *f)
	if err != nil {
		return Result{}, err
	}
	var notes []string
	q := fmt.Sprintf("Start the import of %s? [y/N] ", shownName(*f))
	switch {
	case note != "":
		notes = append(notes, note)
		q = fmt.Sprintf("Start the import of %s despite the checksum mismatch? [y/N] ", shownName(*f))
	case len(p.earlier) > 0:
		q = fmt.Sprintf("Import %s again, a second copy beside job %d's? [y/N] ", shownName(*f), p.earlier[0].Job)
	}
	ok, err := p.yes(q, false)
	if err != nil || !ok {
		return Result{}, err
	}
	// Signals are caught from before the start: one arriving while the job
	// starts asks to cancel it, as one arriving later does.
	signals, release := p.catch()
	defer release()
	job, err := b.Start(ctx, f.Name, notes...)
	if err != nil {
		return Result{}, fmt.Errorf("start the import of %s: %w", shownName(*f), safeErr(err))
	}
	p.println(fmt.Sprintf("Started job %d.", job.ID))
	return p.follow(ctx, job.ID, signals)
}

// watch follows a job started elsewhere, with the stop signals caught.
func (p *plainConsole) watch(ctx context.Context, id int64) (Result, error) {
	signals, release := p.catch()
	defer release()
	return p.follow(ctx, id, signals)
}

// follow appends the job's progress and messages until it ends, under
// the signal rules every door shares (Follow): a closed terminal leaves the
// job running, Ctrl+C cancels it at its next checkpoint.
func (p *plainConsole) follow(ctx context.Context, id int64, signals <-chan os.Signal) (Result, error) {
	p.println(FollowNotice(model.Job{}, ""))
	res, err := Follow(ctx, p.opts.Backend, id, FollowOptions{
		Watch:   WatchOptions{Out: p.out, Now: p.opts.Now},
		Signals: signals, Notices: p.out, Status: p.opts.statusCommand(p.identity, id),
	})
	if err != nil {
		return Result{Job: res.Job}, fmt.Errorf("follow job %d: %w", id, safeErr(err))
	}
	return Result{Job: res.Job, Detached: res.Detached || res.GaveUp}, nil
}

// pick lists the archives and asks for one; nil when the admin quits.
func (p *plainConsole) pick(ctx context.Context) (*model.ArchiveFile, error) {
	a := p.opts.Archives
	files, err := a.List(ctx)
	if err != nil {
		return nil, err // it names the directory
	}
	if len(files) == 0 {
		p.println("No archives in " + a.Dir() + ". Copy an export archive (.tar) there and run bbimport again.")
		return nil, nil
	}
	p.println("Archives in " + a.Dir() + ", newest first:")
	for i, f := range files {
		state := humanize.IBytes(uint64(f.Size)) + "  " + f.ModTime.Format("2006-01-02 15:04")
		switch {
		case f.Unusable != "":
			state = "✗ cannot be imported: " + termsafe.String(f.Unusable)
		case f.Growing:
			state = humanize.IBytes(uint64(f.Size)) + "  copying… (cannot start yet)"
		}
		p.println(fmt.Sprintf("%3d. %s  %s", i+1, shownName(f), state))
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
		// The rule the importer's start applies: the console offers to
		// start only what the backend would start.
		if err := p.opts.Archives.CheckStart(ctx, f.Name); err != nil {
			p.println(termsafe.String(err.Error()) + ".")
			continue
		}
		p.println("", fmt.Sprintf("%s, %s:", shownName(f), humanize.IBytes(uint64(f.Size))))
		p.describe(ctx, f)
		return &f, nil
	}
}

// describe prints what inspect and the pre-flight checks tell of f.
func (p *plainConsole) describe(ctx context.Context, f model.ArchiveFile) {
	in := &archiveInfo{}
	sum, err := p.opts.Archives.Inspect(ctx, f.Path)
	if err != nil {
		in.summaryErr = safeErr(err)
	} else {
		sum = safeSummary(sum)
		in.summary = &sum
		pf := runPreflight(ctx, p.opts.Backend, p.opts.Archives, f, sum, p.identity.Remote)
		in.preflight = &pf
		p.earlier = pf.earlier
		p.println(summaryLines(p.t, sum)...)
	}
	p.println(preflightLines(p.t, f, in)...)
}

// checksum offers, as the console's m and p keys do, to compute f's MD5
// and SHA-256 and compare them with the source's; it reports a mismatch.
// checksum offers to compare the archive's checksum with the source's; on a
// mismatch it returns the note a start despite it records.
func (p *plainConsole) checksum(ctx context.Context, f model.ArchiveFile) (mismatchNote string, err error) {
	a, err := p.ask("Checksum: paste the source's MD5 or SHA-256 to compare, c to compute only, Enter to skip: ")
	if err != nil || a == "" {
		return "", err
	}
	in := &archiveInfo{}
	if !strings.EqualFold(a, "c") {
		in.source = normalizeSum(a)
	}
	p.println(fmt.Sprintf("Computing the MD5 and SHA-256 of %s (%s)…", shownName(f), humanize.IBytes(uint64(f.Size))))
	sums, err := p.opts.Archives.Checksum(ctx, f.Path, func(int64, int64) {})
	if err != nil {
		return "", fmt.Errorf("compute the checksums of %s: %w", shownName(f), safeErr(err))
	}
	in.sums = &sums
	lines := checksumLines(p.t, in, math.MaxInt32)
	if in.source == "" {
		lines = lines[1:] // the verdict line says how to paste a checksum in the full console
	}
	p.println(lines...)
	if mm, ok := in.mismatch(); ok {
		return mm.note(), nil
	}
	return "", nil
}
