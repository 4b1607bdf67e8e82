package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"

	"bbimport/model"
	"bbimport/termsafe"
	"bbimport/wire"
)

// This file draws the lines bbimport prints outside the full-screen
// console: a progress bar redrawn on one terminal line, and a job followed
// to its end as progress and message lines, under the signal rules every
// door that follows a job keeps (Follow).

// clearLine returns to the start of the terminal line and erases it.
const clearLine = "\r\x1b[2K"

// ProgressBar redraws one terminal line with a bar, the bytes done and the
// rate; use it only when the writer is a terminal.
type ProgressBar struct {
	out   io.Writer
	now   func() time.Time
	start time.Time
}

// NewProgressBar starts a bar on out; now is the clock, nil for time.Now.
func NewProgressBar(out io.Writer, now func() time.Time) *ProgressBar {
	if now == nil {
		now = time.Now
	}
	return &ProgressBar{out: out, now: now, start: now()}
}

// Show redraws the bar for done of total bytes.
func (p *ProgressBar) Show(done, total int64) {
	const width = 30
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	filled := int(frac * width)
	rate := float64(done) / max(p.now().Sub(p.start).Seconds(), 0.001)
	fmt.Fprintf(p.out, "\r[%s%s] %3.0f%%  %s of %s  %s/s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		frac*100, humanize.IBytes(uint64(done)), humanize.IBytes(uint64(total)), humanize.IBytes(uint64(rate)))
}

// Clear erases the bar, leaving the cursor at the start of the line.
func (p *ProgressBar) Clear() { fmt.Fprint(p.out, clearLine) }

// PollInterval is how often a watcher asks for the job and new messages.
const PollInterval = 250 * time.Millisecond

// WatchOptions say where and how WatchJob prints.
type WatchOptions struct {
	// Out receives the lines; nil follows the job silently.
	Out io.Writer
	// Terminal redraws the status line in place instead of appending a
	// timestamped line whenever it changes.
	Terminal bool
	// Now is the clock of the timestamps; nil means time.Now.
	Now func() time.Time
}

// WatchJob follows job id to its end and returns it as last seen. It
// prints each new message as a line ("WARN PRJ/golden: text") and the
// progress, redrawn in place on a terminal, else as a timestamped line
// whenever it changes. Only messages past those already printed are asked
// for, by their start offset.
func WatchJob(ctx context.Context, b model.Backend, id int64, opts WatchOptions) (model.Job, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	w := &jobWatch{b: b, id: id, opts: opts}
	for {
		job, err := w.poll(ctx)
		if err != nil || job.State.Finished() {
			w.endLine()
			return job, err
		}
		select {
		case <-ctx.Done():
			w.endLine()
			return job, ctx.Err()
		case <-time.After(PollInterval):
		}
	}
}

type jobWatch struct {
	b        model.Backend
	id       int64
	opts     WatchOptions
	next     int    // start offset of the first message not printed
	last     string // the progress last printed
	onScreen bool   // a status line is drawn and must be cleared first
}

// poll prints what changed since the last poll.
func (w *jobWatch) poll(ctx context.Context) (model.Job, error) {
	job, err := w.b.Job(ctx, w.id)
	if err != nil || w.opts.Out == nil {
		return job, err
	}
	if err := w.printMessages(ctx); err != nil {
		return job, err
	}
	w.printProgress(job)
	return job, nil
}

// printMessages prints the messages past w.next, following the pages as
// wire.Each does (it stops at a page that does not advance).
func (w *jobWatch) printMessages(ctx context.Context) error {
	next, err := wire.Each(ctx, w.next, func(ctx context.Context, start int) (model.Page[model.Message], error) {
		return w.b.Messages(ctx, w.id, model.MessageQuery{Start: start, Limit: wire.MaxLimit})
	}, func(m model.Message) error {
		w.clearLine()
		fmt.Fprintln(w.opts.Out, messageLine(m))
		return nil
	})
	w.next = next
	return err
}

// messageLine is a job message on one line: "WARN PRJ/golden: text". Its
// texts come from the backend and are made safe for the terminal.
func messageLine(m model.Message) string {
	sev := termsafe.String(string(m.Severity))
	if m.Subject == "" {
		return fmt.Sprintf("%s %s", sev, termsafe.String(m.Text))
	}
	return fmt.Sprintf("%s %s: %s", sev, termsafe.String(m.Subject), termsafe.String(m.Text))
}

func (w *jobWatch) printProgress(job model.Job) {
	status := fmt.Sprintf("%s %d%% %s", termsafe.String(string(job.State)), job.Progress.Percentage, termsafe.String(job.Progress.Message))
	if w.opts.Terminal {
		w.clearLine()
		fmt.Fprint(w.opts.Out, status)
		w.onScreen = true
		return
	}
	if status != w.last {
		fmt.Fprintf(w.opts.Out, "%s %s\n", w.opts.Now().Format("15:04:05"), status)
		w.last = status
	}
}

func (w *jobWatch) clearLine() {
	if w.onScreen {
		fmt.Fprint(w.opts.Out, clearLine)
		w.onScreen = false
	}
}

// endLine leaves the last status line on screen, ended.
func (w *jobWatch) endLine() {
	if w.onScreen {
		fmt.Fprintln(w.opts.Out)
		w.onScreen = false
	}
}

// FollowNotice is the first line a door that follows job j prints: what
// Ctrl+C and a closed terminal will do. detach names the door's own way
// to leave the job running ("use --detach"), or is empty.
func FollowNotice(j model.Job, detach string) string {
	cancels := "Ctrl+C cancels at the next checkpoint"
	if j.Type == model.JobTypeExport {
		cancels = "Ctrl+C cancels at once, leaving no archive"
	}
	if detach != "" {
		return cancels + "; close the terminal or " + detach + " to leave it running"
	}
	return cancels + "; close the terminal to leave it running"
}

// CatchSignals routes the signals Follow acts on to a channel, from before
// a job starts, so that one arriving meanwhile is a request about the job
// rather than the end of the process with the job unwatched; release ends
// it.
func CatchSignals() (signals <-chan os.Signal, release func()) {
	c := make(chan os.Signal, 3)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	return c, func() { signal.Stop(c) }
}

// FollowOptions say how Follow shows the job and where it says what the
// signals did.
type FollowOptions struct {
	Watch   WatchOptions
	Signals <-chan os.Signal // from CatchSignals; nil catches none
	// Notices receives one line for each signal acted on.
	Notices io.Writer
	// Status is the command that follows the job from another shell
	// ("bbimport --home /x status 3"), for the lines that leave it.
	Status string
}

// Followed is how a follow ended.
type Followed struct {
	Job model.Job // as last seen
	// Detached: a hang-up (SIGHUP) ended the follow; the job goes on.
	Detached bool
	// StoppedNow: a second Ctrl+C stopped the job at once.
	StoppedNow bool
	// GaveUp: the backend cannot stop a job at once, so the second Ctrl+C
	// stopped following; the job stops at its checkpoint on its own.
	GaveUp bool
}

// Follow follows job id to its end, as WatchJob shows it, under the signal
// rules every door shares (import with or without --wait, cancel --wait,
// the plain console): SIGHUP detaches, since the job runs in its runner
// and a closed terminal must not stop it; the first SIGINT or SIGTERM asks
// the job to stop at its next checkpoint and follows it there; the second
// stops it at once, or, where the backend cannot (Bitbucket's REST), stops
// following.
func Follow(ctx context.Context, b model.Backend, id int64, opts FollowOptions) (Followed, error) {
	ctx, leave := context.WithCancel(ctx)
	defer leave()
	// One lock for both writers when they are one stream: the signal
	// lines come from another goroutine.
	watch := opts.Watch
	notices := io.Writer(io.Discard)
	if watch.Out != nil {
		watch.Out = &lockedWriter{w: watch.Out}
	}
	switch {
	case opts.Notices != nil && opts.Notices == opts.Watch.Out:
		notices = watch.Out
	case opts.Notices != nil:
		notices = &lockedWriter{w: opts.Notices}
	}
	say := func(format string, args ...any) { fmt.Fprintf(notices, format+"\n", args...) }
	var res Followed
	var mu sync.Mutex // res's flags, set by the signal goroutine
	done := make(chan struct{})
	go func() {
		defer close(done)
		canceled := false
		for {
			var sig os.Signal
			select {
			case sig = <-opts.Signals:
			case <-ctx.Done():
				return
			}
			switch {
			case sig == syscall.SIGHUP:
				mu.Lock()
				res.Detached = true
				mu.Unlock()
				say("Detached: job %d goes on; follow it with: %s", id, opts.Status)
				leave()
				return
			case !canceled:
				canceled = true
				// Said once the request is recorded, not before: whoever
				// reads the line and then the job finds it canceling.
				if err := b.Cancel(ctx, id); err != nil && !errors.Is(err, model.ErrJobFinished) && ctx.Err() == nil {
					say("The cancel was not accepted: %v.", termsafe.String(err.Error()))
					continue
				}
				say("Canceling job %d at its next checkpoint; press Ctrl+C again to stop it at once.", id)
			default:
				say("Stopping job %d at once: the repository being built is discarded.", id)
				err := b.StopNow(ctx, id)
				switch {
				case errors.Is(err, model.ErrNotSupported):
					mu.Lock()
					res.GaveUp = true
					mu.Unlock()
					say("Job %d cannot be stopped at once here: it stops at its next checkpoint on its own; follow it with: %s", id, opts.Status)
					leave()
					return
				case err != nil && !errors.Is(err, model.ErrJobFinished) && ctx.Err() == nil:
					say("It was not stopped: %v.", termsafe.String(err.Error()))
				default:
					mu.Lock()
					res.StoppedNow = true
					mu.Unlock()
				}
				return
			}
		}
	}()
	job, err := WatchJob(ctx, b, id, watch)
	leave()
	<-done
	job.ID = id // a failed first look returns no job
	res.Job = job
	if res.Detached || res.GaveUp {
		return res, nil
	}
	return res, err
}

// lockedWriter serialises the lines of two goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
