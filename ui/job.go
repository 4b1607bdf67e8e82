package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"bbimport/model"
	"bbimport/termsafe"
	"bbimport/ui/logview"
	"bbimport/wire"
)

// The job view: the watched job's state, its polling, its start and cancel,
// and its keys. Drawn in job_view.go; once finished, summed up in
// job_summary.go.

// Polling: the job and its new messages are fetched by one command,
// re-issued after each answer; a burst of messages lands in one update.
const (
	pollEvery    = 500 * time.Millisecond
	pollTimeout  = 20 * time.Second
	pagesPerPoll = 20 // a long backlog is drained over several updates
	maxBackoff   = 15 * time.Second
	stallAfter   = 5 * time.Minute // "no update for 5m" when updatedDate stops moving
	etaAfter     = 10 * time.Second
)

// jobView is the job being watched: its progress pane and message log.
type jobView struct {
	id      int64
	archive *model.ArchiveFile // nil when reattached to a job started elsewhere
	backend string             // who answers for the job, as "no answer from …" names it
	job     model.Job
	have    bool // the job has answered at least once
	next    int  // start offset of the next message page
	gen     int  // polls of an earlier view of the same job are dropped

	log        logview.Model
	logFocused bool

	lastAnswer   time.Time
	failingSince time.Time
	failures     int
	lastErr      error

	bySubject      map[string]*tally // WARN and ERROR only: INFO would cost memory per message
	lastJobMessage string            // newest message without a subject
	queueNote      string            // what the console's queue starts next, or ""
}

type tally struct{ warn, errs int }

type (
	pollMsg struct {
		id    int64
		gen   int
		job   model.Job
		jobOK bool
		msgs  []model.Message
		next  int
		more  bool
		err   error
		at    time.Time
	}
	startedMsg struct {
		file  model.ArchiveFile
		notes []string // what the start asked the job's log to begin with
		job   model.Job
		err   error
	}
	cancelSentMsg struct{ err error }
	pollDueMsg    struct{ gen int }
)

func newJobView(t Theme, j model.Job, archive *model.ArchiveFile, gen int) *jobView {
	log := logview.New(t.Log)
	log.SetJobID(j.ID)
	return &jobView{
		id: j.ID, archive: archive, job: j, gen: gen,
		log: log, logFocused: true,
		bySubject: map[string]*tally{},
	}
}

func (j *jobView) finished() bool { return j.have && j.job.State.Finished() }

func (j *jobView) hasErrors() bool { return j.log.Counts().Error > 0 }

func (j *jobView) updateLog(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	j.log, cmd = j.log.Update(msg)
	return cmd
}

// poll fetches the job, then its messages from the next offset. The job
// is read first so that, once it is finished, the messages read after it
// are all there are.
func (m *Model) poll() tea.Cmd {
	j := m.job
	b, ctx, now := m.opts.Backend, m.ctx, m.opts.Now
	id, gen, next := j.id, j.gen, j.next
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, pollTimeout)
		defer cancel()
		res := pollMsg{id: id, gen: gen, next: next}
		res.job, res.err = b.Job(ctx, id)
		res.job = safeJob(res.job)
		res.jobOK = res.err == nil
		for page := 0; res.err == nil && page < pagesPerPoll; page++ {
			p, err := b.Messages(ctx, id, model.MessageQuery{Start: res.next, Limit: wire.MaxLimit})
			if err != nil {
				res.err = err
				break
			}
			res.msgs = append(res.msgs, safeMessages(p.Values)...)
			res.next, res.more = wire.Next(res.next, p)
			if !res.more {
				break
			}
		}
		res.err = safeErr(res.err)
		res.at = now()
		return res
	}
}

// polled applies a poll's answer and schedules the next one.
func (m *Model) polled(msg pollMsg) tea.Cmd {
	j := m.job
	if j == nil || msg.id != j.id || msg.gen != j.gen {
		return nil
	}
	var cmds []tea.Cmd
	if msg.jobOK {
		seenEnding := j.have && !j.job.State.Finished() && msg.job.State.Finished()
		if msg.job.State.Finished() && !j.finished() {
			m.notice = "" // what it said about the running job is stale
			m.picker.stalePreflights()
		}
		if seenEnding { // not opened already ended
			cmds = append(cmds, m.ended(msg.job), m.startNext())
		}
		j.job, j.have = msg.job, true
	}
	if len(msg.msgs) > 0 {
		j.tally(msg.msgs)
		cmds = append(cmds, j.log.Append(msg.msgs))
	}
	j.next = msg.next
	if msg.err != nil {
		if j.failingSince.IsZero() {
			j.failingSince = msg.at
		}
		j.failures++
		j.lastErr = msg.err
	} else {
		j.lastAnswer, j.failingSince, j.failures, j.lastErr = msg.at, time.Time{}, 0, nil
	}
	m.layoutJob()
	if msg.err == nil && j.finished() && !msg.more {
		return tea.Batch(cmds...)
	}
	next := m.after(pollEvery, pollDueMsg{j.gen})
	switch {
	case msg.err != nil:
		next = m.after(min(time.Duration(1<<min(j.failures, 5))*time.Second, maxBackoff), pollDueMsg{j.gen})
	case msg.more:
		next = m.poll()
	}
	return tea.Batch(append(cmds, next)...)
}

// ended tells an admin who looks elsewhere that the watched import ended:
// a bell, and a desktop notification in the two escapes terminals know
// (OSC 9: iTerm2, WezTerm, kitty…; OSC 777: rxvt, foot, Ghostty…); a
// terminal that knows neither ignores them.
func (m *Model) ended(jb model.Job) tea.Cmd {
	if m.opts.NoNotify {
		return nil
	}
	jb.ID, jb.Archive = m.job.id, m.job.archiveName()
	// The text is made safe where it entered; a ; would end OSC 777's field.
	text := strings.ReplaceAll(fmt.Sprintf("%s ended %s", capitalize(jobName(jb)), jb.State), ";", ",")
	return tea.Raw("\a" + ansi.Notify("bbimport: "+text) + ansi.URxvtExt("notify", "bbimport", text))
}

// start starts the import of f; notes begin the job's log.
func (m *Model) start(f model.ArchiveFile, notes []string) tea.Cmd {
	b, ctx := m.opts.Backend, m.ctx
	m.setNotice("Starting the import of "+shownName(f)+"…", false)
	return func() tea.Msg {
		j, err := b.Start(ctx, f.Name, notes...)
		return startedMsg{f, notes, safeJob(j), safeErr(err)}
	}
}

func (m *Model) started(msg startedMsg) tea.Cmd {
	m.notice = ""
	if msg.err != nil {
		m.queueRunning = false // enter in the picker starts the rest
		// A dialog, not the status line: the reason (free space, a job
		// already running, a bad path) is worth reading whole.
		m.push(&dialog{
			title: "The import did not start",
			lines: []string{fmt.Sprintf("%s: %v", shownName(msg.file), msg.err)},
			choices: []choice{
				{key.NewBinding(key.WithKeys("enter", "esc"), key.WithHelp("enter/esc", "back to the archives")), nil},
			},
		})
		return nil
	}
	f := msg.file
	m.picker.dequeue(f.Path)
	return m.openJob(msg.job, &f)
}

// openJob switches to the job view and starts polling.
func (m *Model) openJob(j model.Job, archive *model.ArchiveFile) tea.Cmd {
	m.jobGen++
	m.job = newJobView(m.theme, safeJob(j), archive, m.jobGen)
	m.job.backend = "the importer"
	if m.identity.Remote {
		m.job.backend = termsafe.String(m.identity.Location)
	}
	m.show(onJob)
	m.layoutJob()
	return m.poll()
}

func (m *Model) layoutJob() {
	if m.job == nil || m.width == 0 {
		return
	}
	bodyH := m.bodyHeight()
	ph := m.job.paneHeight(m.job.paneLines(m.theme, m.width, bodyH, m.opts.Now()), bodyH)
	m.job.log.SetSize(m.width-2, max(bodyH-ph-2, 1))
}

func (m *Model) jobKey(msg tea.KeyPressMsg) tea.Cmd {
	j := m.job
	k := m.keys
	switch {
	case key.Matches(msg, k.Back) && j.log.WantsEsc():
		return j.updateLog(msg)
	case key.Matches(msg, k.Back, k.Picker):
		if !j.finished() {
			m.setNotice(fmt.Sprintf("Job %d goes on; press w to watch it again.", j.id), false)
		}
		return m.backToPicker()
	case key.Matches(msg, k.Tab):
		j.logFocused = !j.logFocused
		if j.logFocused {
			j.log.Focus()
		} else {
			j.log.Blur()
		}
		return nil
	case key.Matches(msg, k.Cancel):
		return m.confirmCancel()
	case key.Matches(msg, k.Verify) && m.opts.Verifier != nil:
		return m.openVerify(m.watchedJob())
	}
	if j.logFocused {
		return j.updateLog(msg)
	}
	return nil
}

// confirmCancel explains the three checkpoints before asking.
func (m *Model) confirmCancel() tea.Cmd {
	j := m.job
	switch {
	case j.finished():
		m.setNotice(fmt.Sprintf("Job %d has already ended %s.", j.id, j.job.State), false)
		return nil
	case j.job.State == model.StateCanceling:
		m.setNotice("Cancel is already requested: waiting for the next checkpoint.", false)
		return nil
	case isExport(j.job):
		m.push(exportCancelDialog(j.id))
		return nil
	}
	m.push(&dialog{
		title: fmt.Sprintf("Cancel job %d?", j.id),
		lines: []string{
			"The import stops at its next checkpoint, whichever comes first:",
			"  • after the git data of the current fork hierarchy",
			"  • before the next repository",
			"  • before the next pull request",
			"",
			"What was imported before the checkpoint stays (there is no rollback); git data stays consistent. " +
				"Canceled during git data, that hierarchy gets no pull requests.",
		},
		choices: []choice{
			{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "cancel the import")), cancelChosen{j.id}},
			{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "keep importing")), nil},
		},
	})
	return nil
}

// cancelChosen is the cancel of a job confirmed.
type cancelChosen struct{ id int64 }

func (m *Model) sendCancel(id int64) tea.Cmd {
	b, ctx := m.opts.Backend, m.ctx
	return func() tea.Msg {
		return cancelSentMsg{safeErr(b.Cancel(ctx, id))}
	}
}

func (m *Model) cancelSent(msg cancelSentMsg) {
	switch {
	case errors.Is(msg.err, model.ErrJobFinished):
		m.setNotice("The job had already finished; nothing to cancel.", false)
	case msg.err != nil:
		m.setNotice(fmt.Sprintf("Cancel was not accepted: %v. Press c to try again.", msg.err), true)
	case m.job != nil && isExport(m.job.job):
		m.setNotice("Cancel requested: the export stops at once and leaves no archive.", false)
	default:
		m.setNotice("Cancel requested: the import stops at its next checkpoint.", false)
	}
}

// jobHelp is the job view's keys: k, the console's keys as this job's
// state words them.
func (m *Model) jobHelp(k keyMap) bindings {
	j := m.job
	if isExport(j.job) {
		k.Cancel.SetHelp("c", "cancel export") // k is this call's copy
	}
	first := k.Cancel
	if j.finished() {
		first = k.Picker
	}
	short := []key.Binding{first}
	actions := []key.Binding{k.Cancel, k.Picker, k.Back}
	if m.opts.Verifier != nil && j.finished() && !isExport(j.job) {
		short = append(short, k.Verify)
		actions = append(actions, k.Verify)
	}
	if j.logFocused {
		short = append(short, j.log.ShortHelp()...)
	}
	short = append(short, k.Tab, k.Help, k.Quit)
	full := [][]key.Binding{actions}
	if j.logFocused {
		full = append(full, j.log.FullHelp()...)
	}
	full = append(full, k.general())
	return bindings{short: short, full: full}
}

// jobScreen is the watched job: its progress or summary over its log.
type jobScreen struct{}

func (jobScreen) view(m *Model, w, h int) string { return m.job.view(m.theme, w, h, m.opts.Now()) }

func (jobScreen) key(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Cancel) && m.canceling() {
		return m.confirmStopNow()
	}
	return m.jobKey(msg)
}

func (jobScreen) help(m *Model) bindings {
	if m.job.log.Capturing() {
		return bindings{short: m.job.log.ShortHelp(), full: m.job.log.FullHelp()}
	}
	k := m.keys
	if m.canceling() {
		k.Cancel.SetHelp("c", "stop now")
	}
	if m.job.finished() {
		// A finished job cannot be canceled: help does not offer it (a
		// press still says why, from the console's own keys).
		k.Cancel.SetEnabled(false)
	}
	return m.jobHelp(k)
}

func (jobScreen) capturing(m *Model) bool { return m.job.log.Capturing() }

func (jobScreen) prompt(m *Model, msg tea.Msg) tea.Cmd { return m.job.updateLog(msg) }

func (jobScreen) wheel(m *Model, msg tea.MouseWheelMsg) tea.Cmd { return m.job.updateLog(msg) }

func (jobScreen) refresh(*Model) tea.Cmd { return nil } // the job polls on its own

func (jobScreen) message(m *Model, msg tea.Msg) (tea.Cmd, bool) {
	if c, ok := msg.(cancelChosen); ok {
		return m.sendCancel(c.id), true
	}
	return nil, false
}

func (jobScreen) setSize(m *Model) { m.layoutJob() }
