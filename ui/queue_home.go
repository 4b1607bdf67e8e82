package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"bbimport/model"
	"bbimport/termsafe"
)

// The home's queue (Options.Queuer: the in-process importer). The marks
// made with space are handed to the home when the queue is confirmed;
// from then on the home keeps the queue and the import that ends starts
// the next, with or without this console. The console shows the queue (u),
// takes entries off it (x), and follows the watched job's successor. With
// a remote backend there is no Queuer and the console keeps its own queue
// (queue.go).

// homeQueue is the home's queue as last read.
type homeQueue struct {
	entries []model.QueuedArchive // waiting first, in their order, then dropped
	loaded  bool
	err     error
	cursor  int
	// after is the watched job whose end the console follows into the
	// queue's next job; 0 when it follows none. asked counts the looks
	// for it, bounded by followLooks.
	after int64
	asked int
}

// followLooks bounds the looks for the queue's next job (one every
// pollEvery): a runner takes its job over within seconds, and one that
// died starts none.
const followLooks = 120

type (
	queueReadMsg struct {
		entries []model.QueuedArchive
		err     error
	}
	enqueuedMsg struct {
		files []model.ArchiveFile
		job   model.Job
		err   error
	}
	dequeuedMsg struct {
		entry model.QueuedArchive
		err   error
	}
	// queueFollowMsg asks again whether the queue's next job has started.
	queueFollowMsg struct{}
)

// waiting is the entries still to start, in order.
func (q *homeQueue) waiting() []model.QueuedArchive {
	var out []model.QueuedArchive
	for _, e := range q.entries {
		if e.Dropped == "" {
			out = append(out, e)
		}
	}
	return out
}

// place is an archive's place among those waiting, from 1; 0 when it does
// not wait.
func (q *homeQueue) place(name string) int {
	for i, e := range q.waiting() {
		if e.Archive == name {
			return i + 1
		}
	}
	return 0
}

func (q *homeQueue) selected() (model.QueuedArchive, bool) {
	if q.cursor < 0 || q.cursor >= len(q.entries) {
		return model.QueuedArchive{}, false
	}
	return q.entries[q.cursor], true
}

// readQueue asks the home for its queue; nil without one.
func (m *Model) readQueue() tea.Cmd {
	qr, ctx := m.opts.Queuer, m.ctx
	if qr == nil {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, pollTimeout)
		defer cancel()
		entries, err := qr.Queue(ctx)
		for i := range entries {
			entries[i].Archive, entries[i].Dropped = termsafe.String(entries[i].Archive), termsafe.String(entries[i].Dropped)
		}
		return queueReadMsg{entries, safeErr(err)}
	}
}

func (m *Model) queueRead(msg queueReadMsg) {
	q := &m.home
	q.loaded, q.err = true, msg.err
	if msg.err != nil {
		return
	}
	cur, had := q.selected()
	q.entries, q.cursor = msg.entries, 0
	for i, e := range q.entries {
		if had && e.ID == cur.ID {
			q.cursor = i
		}
	}
	q.cursor = min(q.cursor, max(len(q.entries)-1, 0))
}

// enqueue hands the marked archives to the home's queue.
func (m *Model) enqueue(files []model.ArchiveFile) tea.Cmd {
	qr, ctx := m.opts.Queuer, m.ctx
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	if len(files) == 0 {
		m.setNotice("Starting the queue…", false)
	} else {
		m.setNotice(fmt.Sprintf("Queueing %s…", model.Plural(len(files), "archive", "archives")), false)
	}
	return func() tea.Msg {
		j, err := qr.Enqueue(ctx, names...)
		return enqueuedMsg{files, safeJob(j), safeErr(err)}
	}
}

func (m *Model) enqueued(msg enqueuedMsg) tea.Cmd {
	m.notice = ""
	read := m.readQueue()
	if msg.err != nil {
		// The marks stay: a refusal names the archive to take out.
		m.push(&dialog{
			title: "The queue did not start",
			lines: []string{msg.err.Error()},
			choices: []choice{
				{key.NewBinding(key.WithKeys("enter", "esc"), key.WithHelp("enter/esc", "back to the archives")), nil},
			},
		})
		return read
	}
	if len(msg.files) > 0 {
		m.picker.queued = nil
	}
	m.picker.stalePreflights()
	switch {
	case msg.job.ID == 0 && len(msg.files) == 0:
		m.setNotice("Nothing started: another import runs, whose end starts the queue, or no archive passed the start's checks.", false)
		return tea.Batch(read, m.listJobs(listRefresh))
	case msg.job.ID == 0:
		m.setNotice(fmt.Sprintf("%s queued in the home: the first starts when the running import ends, with or without this console; u shows the queue.",
			capitalize(model.Plural(len(msg.files), "archive", "archives"))), false)
		return tea.Batch(read, m.listJobs(listRefresh))
	}
	return tea.Batch(read, m.openJob(msg.job, m.archiveFile(msg.job.Archive)))
}

// followQueue is the watched job's end: when archives wait, the home
// starts the next, and the console opens it as it would have started it.
func (m *Model) followQueue(ended model.Job) tea.Cmd {
	if len(m.home.waiting()) == 0 || isExport(ended) {
		return nil
	}
	m.home.after, m.home.asked = ended.ID, 0
	return tea.Batch(m.readQueue(), m.listJobs(listRefresh))
}

// followNext opens the import the home's queue started after the watched
// job, once the jobs list shows it; until then it asks again, while
// archives wait.
func (m *Model) followNext(jobs []model.Job) tea.Cmd {
	after := m.home.after
	if after == 0 {
		return nil
	}
	var next *model.Job
	for i := range jobs {
		if j := jobs[i]; j.ID > after && !isExport(j) && (next == nil || j.ID < next.ID) {
			next = &jobs[i]
		}
	}
	switch {
	case next != nil:
		m.home.after = 0
		if m.screen != onJob || m.job == nil || m.job.id != after {
			return nil // the admin went elsewhere: w or h finds it
		}
		return m.openJob(*next, m.archiveFile(next.Archive))
	case len(m.home.waiting()) == 0:
		m.home.after = 0
		if n := len(m.home.entries); n > 0 {
			m.setNotice(fmt.Sprintf("The queue started nothing: %s dropped; b, then u shows why.", model.Plural(n, "archive was", "archives were")), true)
		}
		return nil
	case m.home.asked >= followLooks:
		m.home.after = 0
		m.setNotice("The queue's next archive has not started; b, then u shows the queue (s starts it).", true)
		return nil
	}
	m.home.asked++
	return m.after(pollEvery, queueFollowMsg{})
}

// homeQueueNote is what the job view says of the home's queue while the
// watched job runs.
func (m *Model) homeQueueNote() string {
	waiting := m.home.waiting()
	if m.job == nil || m.job.finished() || len(waiting) == 0 {
		return ""
	}
	names := make([]string, len(waiting))
	for i, e := range waiting {
		names[i] = e.Archive
	}
	return fmt.Sprintf("queue: next %s — started by the importer when this job ends, with or without this console", strings.Join(names, ", then "))
}

// openQueue is u.
func (m *Model) openQueue() tea.Cmd {
	if m.opts.Queuer == nil {
		m.setNotice("With a remote backend the queue lives in this console: the numbers in the archive list are it.", false)
		return nil
	}
	m.show(onQueue)
	return tea.Batch(m.readQueue(), m.listJobs(listRefresh))
}

// dequeueSelected is x: the highlighted entry off the queue.
func (m *Model) dequeueSelected() tea.Cmd {
	e, ok := m.home.selected()
	if !ok {
		return nil
	}
	qr, ctx := m.opts.Queuer, m.ctx
	return func() tea.Msg {
		return dequeuedMsg{e, safeErr(qr.Dequeue(ctx, e.ID))}
	}
}

func (m *Model) dequeued(msg dequeuedMsg) tea.Cmd {
	switch {
	case errors.Is(msg.err, model.ErrNotQueued):
		m.setNotice(msg.entry.Archive+" is no longer in the queue: it has started.", false)
	case msg.err != nil:
		m.setNotice(fmt.Sprintf("Could not take %s off the queue: %v", msg.entry.Archive, msg.err), true)
	default:
		m.setNotice(msg.entry.Archive+" is off the queue.", false)
	}
	return m.readQueue()
}

// queueView is the home's queue over the highlighted entry's details.
func (m Model) queueView(w, h int) string {
	q := m.home
	t := m.theme
	listH := min(max(len(q.entries)+3, 6), h/2)
	inner := w - 2
	var lines []string
	switch {
	case !q.loaded:
		lines = append(lines, t.Dim.Render("reading the queue…"))
	case q.err != nil:
		lines = append(lines, wrapLines([]string{t.Problem.Render("Could not read the queue: " + q.err.Error())}, inner)...)
	case len(q.entries) == 0:
		lines = append(lines, wrapLines([]string{"The queue is empty.", "",
			"In the archive list, space marks archives and enter queues them here."}, inner)...)
	default:
		lines = append(lines, t.Label.Render(fit(fmt.Sprintf("  %-4s%-*s %s", "#", queueDateW, "Queued", "Archive"), inner)))
		rows := listH - 3
		top := max(0, q.cursor-rows+1)
		place := 0
		for i := top; i < len(q.entries) && i < top+rows; i++ {
			e := q.entries[i]
			pos := "✗"
			if e.Dropped == "" {
				place = q.place(e.Archive)
				pos = fmt.Sprint(place)
			}
			mark := "  "
			if i == q.cursor {
				mark = "▸ "
			}
			row := fit(fmt.Sprintf("%s%-4s%-*s %s", mark, pos, queueDateW, time.UnixMilli(e.QueuedDate).Format("Jan 02 15:04"), e.Archive), inner)
			if i == q.cursor {
				row = t.Selected.Render(row)
			}
			lines = append(lines, row)
		}
	}
	waiting := len(q.waiting())
	title := fmt.Sprintf("Queue (%d waiting", waiting)
	if dropped := len(q.entries) - waiting; dropped > 0 {
		title += fmt.Sprintf(", %d dropped", dropped)
	}
	title += ")"
	return box(t, title, lines, w, listH, true) + "\n" + m.queueDetails(w, h-listH)
}

// queueStalled reports whether archives wait with no import running to
// start them when it ends: its runner was killed, say.
func (m *Model) queueStalled() bool {
	_, running := m.runningJob(m.hist.jobs)
	return len(m.home.waiting()) > 0 && !running && m.home.after == 0
}

// queueDateW is the width of the queue list's date column.
const queueDateW = 12

// queueDetails is the highlighted entry whole, and what the queue does.
func (m Model) queueDetails(w, h int) string {
	t := m.theme
	inner := w - 2
	var lines []string
	title := "Queue"
	if e, ok := m.home.selected(); ok {
		title = e.Archive
		lines = append(lines, field(t, "Archive", e.Archive, inner)...)
		lines = append(lines, field(t, "Queued", dateOf(e.QueuedDate, "not known"), inner)...)
		if e.Dropped == "" {
			state := fmt.Sprintf("number %d: starts when the import before it ends", m.home.place(e.Archive))
			switch {
			case m.queueStalled():
				state = "waiting, and no import runs whose end would start it (its runner was stopped): s starts the queue now"
			case m.home.place(e.Archive) == 1:
				state = "next: starts when the running import ends"
			}
			lines = append(lines, field(t, "State", state, inner)...)
		} else {
			lines = append(lines, field(t, "State", t.Problem.Render("dropped "+dateOf(e.DroppedDate, ""))+": it did not pass the start's checks when its turn came, and never became a job", inner)...)
			lines = append(lines, field(t, "Why", e.Dropped, inner)...)
		}
		lines = append(lines, "")
	}
	lines = append(lines, t.Dim.Render("The queue is kept in the instance home: when an import ends, the importer starts the next archive, "+
		"with or without this console. Each archive is checked again when its turn comes; one that fails is dropped, with why."))
	return box(t, title, wrapLines(lines, inner), w, h, false)
}

func (m *Model) queueKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Back, k.Picker, k.QueueView):
		return m.backToPicker()
	case key.Matches(msg, k.Watch):
		return m.watchRunning()
	case key.Matches(msg, k.Dequeue):
		return m.dequeueSelected()
	case key.Matches(msg, k.Start) && m.queueStalled():
		return m.enqueue(nil)
	}
	m.home.cursor = scroll(msg, k, m.home.cursor, len(m.home.entries)-1, m.height/2)
	return nil
}

func (m Model) queueHelp() bindings {
	k := m.keys
	actions := []key.Binding{k.Back}
	if len(m.home.entries) > 0 {
		actions = append([]key.Binding{k.Dequeue}, actions...)
	}
	if m.queueStalled() {
		actions = append([]key.Binding{k.StartQueue}, actions...)
	}
	if _, ok := m.runningJob(m.hist.jobs); ok {
		actions = append(actions, k.Watch)
	}
	return bindings{
		short: append(actions, k.Help, k.Quit),
		full:  [][]key.Binding{k.moves(), actions, k.general()},
	}
}

// queueScreen is the home's queue.
type queueScreen struct{}

func (queueScreen) view(m *Model, w, h int) string { return m.queueView(w, h) }

func (queueScreen) key(m *Model, msg tea.KeyPressMsg) tea.Cmd { return m.queueKey(msg) }

func (queueScreen) help(m *Model) bindings { return m.queueHelp() }

func (queueScreen) capturing(*Model) bool { return false }

func (queueScreen) prompt(*Model, tea.Msg) tea.Cmd { return nil }

func (queueScreen) wheel(m *Model, msg tea.MouseWheelMsg) tea.Cmd {
	m.home.cursor = min(max(m.home.cursor+wheelStep(msg), 0), max(len(m.home.entries)-1, 0))
	return nil
}

// refresh lists the jobs, for whether one runs; the tick reads the queue
// on every screen.
func (queueScreen) refresh(m *Model) tea.Cmd { return m.listJobs(listRefresh) }

// message takes the queue's answers, whichever screen shows.
func (queueScreen) message(m *Model, msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case queueReadMsg:
		m.queueRead(msg)
		return nil, true
	case enqueuedMsg:
		return m.enqueued(msg), true
	case dequeuedMsg:
		return m.dequeued(msg), true
	case queueFollowMsg:
		return tea.Batch(m.readQueue(), m.listJobs(listRefresh)), true
	}
	return nil, false
}

func (queueScreen) setSize(*Model) {}
