package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"bbimport/model"
)

// pollInterval is how often a watcher asks for the job and new messages.
const pollInterval = 250 * time.Millisecond

// watchJob follows a job to its end: it prints each new message as a line
// ("WARN PRJ/golden: text") and the progress, redrawn in place on a
// terminal, else as a timestamped line whenever it changes. Only messages
// past those already printed are fetched, by their start offset.
func watchJob(ctx context.Context, b model.Backend, id int64, out io.Writer, tty bool) (model.Job, error) {
	w := &jobWatch{b: b, id: id, out: out, tty: tty}
	for {
		job, err := b.Job(ctx, id)
		if err != nil {
			w.endLine()
			return job, err
		}
		if err := w.printMessages(ctx); err != nil {
			w.endLine()
			return job, err
		}
		w.printProgress(job)
		if job.State.Finished() {
			w.endLine()
			return job, nil
		}
		select {
		case <-ctx.Done():
			w.endLine()
			return job, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

type jobWatch struct {
	b        model.Backend
	id       int64
	out      io.Writer
	tty      bool
	next     int    // start offset of the first message not printed
	last     string // the progress last printed
	onScreen bool   // a status line is drawn and must be cleared first
}

func (w *jobWatch) printMessages(ctx context.Context) error {
	for {
		page, err := w.b.Messages(ctx, w.id, model.MessageQuery{Start: w.next, Limit: 1000})
		if err != nil {
			return err
		}
		for _, m := range page.Values {
			w.clearLine()
			fmt.Fprintln(w.out, messageLine(m))
		}
		w.next += len(page.Values)
		if page.IsLastPage || len(page.Values) == 0 {
			return nil
		}
	}
}

func messageLine(m model.Message) string {
	if m.Subject == "" {
		return fmt.Sprintf("%s %s", m.Severity, m.Text)
	}
	return fmt.Sprintf("%s %s: %s", m.Severity, m.Subject, m.Text)
}

func (w *jobWatch) printProgress(job model.Job) {
	status := fmt.Sprintf("%s %d%% %s", job.State, job.Progress.Percentage, job.Progress.Message)
	if w.tty {
		w.clearLine()
		fmt.Fprint(w.out, status)
		w.onScreen = true
		return
	}
	if status != w.last {
		fmt.Fprintf(w.out, "%s %s\n", time.Now().Format("15:04:05"), status)
		w.last = status
	}
}

func (w *jobWatch) clearLine() {
	if w.onScreen {
		fmt.Fprint(w.out, "\r\x1b[2K")
		w.onScreen = false
	}
}

// endLine leaves the last status line on screen, ended.
func (w *jobWatch) endLine() {
	if w.onScreen {
		fmt.Fprintln(w.out)
		w.onScreen = false
	}
}

// isTerminal reports whether out is a terminal, for redrawn progress.
func isTerminal(out io.Writer) bool {
	f, ok := out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
