package ui

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"bbimport/model"
	"bbimport/termsafe"
)

// The running job seen from the root: quitting while it runs, reattaching
// to it, the second "stop now", and who runs the import that keeps another
// from starting.

// jobRunning reports whether a watched job has not finished yet.
func (m *Model) jobRunning() bool {
	return m.job != nil && !m.job.finished()
}

// watchedJob is the watched job as the backend last told it, named by its
// archive.
func (m *Model) watchedJob() model.Job {
	j := m.job.job
	j.ID, j.Archive = m.job.id, m.job.archiveName()
	return j
}

// runningJob is the job that goes on when the console quits: the watched
// one, else one of jobs, the backend's list (started from the jobs list,
// by bbimport import, or remotely by this client).
func (m *Model) runningJob(jobs []model.Job) (model.Job, bool) {
	if m.jobRunning() {
		return m.watchedJob(), true
	}
	for _, j := range jobs {
		// The watched job's own answer is newer than any list.
		if !j.State.Finished() && (m.job == nil || j.ID != m.job.id) {
			return j, true
		}
	}
	return model.Job{}, false
}

// quitNow is ctrl+c: no question asked, but the note after exit says how
// to follow the job, which goes on without the console. It asks the
// backend nothing: the last list of jobs says which runs.
func (m *Model) quitNow() tea.Cmd {
	if j, ok := m.runningJob(m.hist.jobs); ok {
		m.farewell = m.reattachNote(j)
	}
	return tea.Quit
}

// requestQuit is q. A job running elsewhere than the watched view is not
// on screen: the backend is asked for its jobs first.
func (m *Model) requestQuit() tea.Cmd {
	if j, ok := m.runningJob(nil); ok {
		m.confirmQuit(j)
		return nil
	}
	m.setNotice("Asking the backend whether a job is still running… (ctrl+c quits at once)", false)
	return m.listJobs(listQuit)
}

// quitLeaving quits, or first asks about the job of jobs still running.
func (m *Model) quitLeaving(jobs []model.Job) tea.Cmd {
	m.notice = ""
	j, ok := m.runningJob(jobs)
	if !ok {
		return tea.Quit
	}
	m.confirmQuit(j)
	return nil
}

// confirmQuit asks about j, which goes on without the console (on the
// server, or in the in-process importer's runner): quitting asks only
// whether to let it run, the default, or cancel it at its next checkpoint.
func (m *Model) confirmQuit(j model.Job) {
	lines := []string{fmt.Sprintf("%s is %s at %d%%.", capitalize(jobName(j)), j.State, j.Progress.Percentage)}
	// Short key descriptions: the three choices and ctrl+c fit the help
	// line at 80 columns; the lines above say the rest.
	choices := []choice{
		{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "quit, job runs on")), quitChosen{j, false}},
	}
	if j.State == model.StateCanceling {
		lines = append(lines, "It is canceling and stops at its next checkpoint, with or without the console.")
	} else {
		lines = append(lines, "It keeps running when the console quits, unless you cancel it: it then stops at its next checkpoint.")
		choices = append(choices, choice{key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cancel job, quit")), quitChosen{j, true}})
	}
	if n := len(m.home.waiting()); n > 0 {
		lines = append(lines, fmt.Sprintf("When it ends, the importer starts the queue's %s, with or without the console.",
			model.Plural(n, "waiting archive", "waiting archives")))
	}
	if m.queueRunning && len(m.picker.queued) > 0 {
		lines = append(lines, fmt.Sprintf("The queue's %s will not start: the queue lives while the console runs.",
			model.Plural(len(m.picker.queued), "other archive", "other archives")))
	}
	lines = append(lines, "", "To follow it afterwards:", "  "+m.statusCommand(j.ID))
	m.push(&dialog{
		title: "Quit the console?",
		lines: lines,
		choices: append(choices,
			choice{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "stay")), nil}),
	})
}

// The answers of the root's dialogs.
type (
	// quitChosen is quitting while j runs, canceling it first or not.
	quitChosen struct {
		job    model.Job
		cancel bool
	}
	watchChosen   struct{ job model.Job } // watch a job still running at start-up
	openChosen    struct{ job model.Job } // open the job that keeps a start from running
	stopNowChosen struct{ id int64 }
)

// rootAnswer applies the answer of one of the root's dialogs.
func (m *Model) rootAnswer(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case quitChosen:
		if msg.cancel {
			j := msg.job
			m.quitAfter = &j
			return m.sendCancel(j.ID), true
		}
		m.farewell = m.reattachNote(msg.job)
		return tea.Quit, true
	case watchChosen:
		return m.openJob(msg.job, m.archiveFile(msg.job.Archive)), true
	case openChosen:
		return m.showJob(msg.job), true
	case stopNowChosen:
		b, ctx, id := m.opts.Backend, m.ctx, msg.id
		return func() tea.Msg { return stopNowMsg{id, b.StopNow(ctx, id)} }, true
	}
	return nil, false
}

// quitCanceled ends the console once the cancel asked for on quitting is
// accepted: the job stops at its checkpoint without the console.
func (m *Model) quitCanceled(msg cancelSentMsg) tea.Cmd {
	j := *m.quitAfter
	m.quitAfter = nil
	name := capitalize(jobName(j))
	switch {
	case errors.Is(msg.err, model.ErrJobFinished):
		m.farewell = fmt.Sprintf("%s had already ended.\nTo see how:\n  %s", name, m.statusCommand(j.ID))
	case msg.err != nil:
		m.setNotice(fmt.Sprintf("Cancel was not accepted: %v. Press q to try again.", msg.err), true)
		return nil
	default:
		m.farewell = fmt.Sprintf("%s stops at its next checkpoint; what was imported before it stays.\nTo follow it:\n  %s",
			name, m.statusCommand(j.ID))
	}
	return tea.Quit
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// connection is the flags that reach this backend again.
func (m *Model) connection() string { return connection(m.identity) }

func (m *Model) statusCommand(id int64) string { return m.opts.statusCommand(m.identity, id) }

// self runs bbimport again as the user ran it.
func (m *Model) self() string { return m.opts.self() }

// connection is the flags that reach the backend who names again: --home
// for the in-process importer, --url and --user for a remote one.
// Credentials are asked for, or read from the environment.
func connection(who model.Identity) string {
	if !who.Remote {
		return "--home " + shellQuote(who.Location)
	}
	conn := "--url " + shellQuote(who.Location)
	if who.User != "" {
		conn += " --user " + shellQuote(who.User)
	}
	return conn
}

// statusCommand is the command that shows job id of the backend who.
func (o *Options) statusCommand(who model.Identity, id int64) string {
	return fmt.Sprintf("%s status %d %s", o.self(), id, connection(who))
}

// self runs bbimport again as the user ran it.
func (o *Options) self() string {
	if o.Self == "" {
		return "bbimport"
	}
	return shellQuote(o.Self)
}

// reattachNote says how to come back to the job; the commands work as
// written. Each command is on a line of its own: a wrapped command is
// copied broken.
func (m *Model) reattachNote(j model.Job) string {
	where := "on " + m.identity.Location
	if !m.identity.Remote {
		where = "in the background on home " + m.identity.Location
	}
	return fmt.Sprintf("%s keeps running %s.\nTo come back (it offers to reattach):\n  %s %s\n"+
		"To follow it:\n  %s", capitalize(jobName(j)), where, m.self(), m.connection(), m.statusCommand(j.ID))
}

// shellQuote quotes s for a POSIX shell when it holds anything but the
// characters of plain URLs, paths and user names.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@+=%,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// knownJobs takes a list of the backend's jobs. The first one, at
// start-up, also offers to reattach to a running job, or else reports how
// the newest job ended.
func (m *Model) knownJobs(msg knownJobsMsg) tea.Cmd {
	h := &m.hist
	if msg.err != nil && msg.why == listQuit {
		return m.quitLeaving(h.jobs) // the last list the backend gave
	}
	if msg.err != nil {
		h.loaded, h.err = true, msg.err
		m.setNotice(fmt.Sprintf("Could not list known jobs: %v", msg.err), true)
		return nil
	}
	h.err = nil
	h.setJobs(msg.jobs)
	if msg.why == listQuit {
		return m.quitLeaving(msg.jobs)
	}
	if msg.why == listStartup && !m.offerReattach(msg.jobs) {
		m.reportOutcome = len(msg.jobs) > 0 && msg.jobs[0].State.Finished()
	}
	return tea.Batch(m.countNext(), m.followNext(msg.jobs))
}

// offerReattach asks, at start-up, to watch a job that is still running.
func (m *Model) offerReattach(jobs []model.Job) bool {
	for _, j := range jobs {
		if j.State.Finished() || m.job != nil {
			continue
		}
		m.push(&dialog{
			title: "A job is still running",
			lines: []string{
				fmt.Sprintf("%s is %s at %d%%: %s", capitalize(jobName(j)), j.State, j.Progress.Percentage, j.Progress.Message),
				"Watch it now? Another import cannot start until it ends.",
			},
			choices: []choice{
				{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "watch it")), watchChosen{j}},
				{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "go to the archives")), nil},
			},
		})
		return true
	}
	return false
}

// canceling reports whether the watched job waits for its checkpoint.
func (m *Model) canceling() bool {
	return m.job != nil && m.job.have && m.job.job.State == model.StateCanceling
}

// confirmStopNow is the second cancel: the job is already waiting for its
// checkpoint, and the admin may not want to wait.
func (m *Model) confirmStopNow() tea.Cmd {
	id := m.job.id
	m.push(&dialog{
		title: fmt.Sprintf("Stop job %d now?", id),
		lines: []string{
			fmt.Sprintf("Job %d is canceling: it stops at its next checkpoint (the end of the current fork hierarchy, "+
				"the next repository or the next pull request).", id),
			"Stop now ends it at once, without waiting: the repository being imported is discarded; " +
				"what was imported before it stays.",
		},
		choices: []choice{
			{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "stop now")), stopNowChosen{id}},
			{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "wait for the checkpoint")), nil},
		},
	})
	return nil
}

func (m *Model) stopNowSent(msg stopNowMsg) {
	switch {
	case errors.Is(msg.err, model.ErrNotSupported):
		m.setNotice("Bitbucket stops an import only at its next checkpoint: it cannot stop one now.", false)
	case errors.Is(msg.err, model.ErrJobFinished):
		m.setNotice(fmt.Sprintf("Job %d has already stopped.", msg.id), false)
	case msg.err != nil:
		m.setNotice(fmt.Sprintf("Stop now was not accepted: %v. Press c to try again.", msg.err), true)
	default:
		m.setNotice(fmt.Sprintf("Stop requested: job %d ends at once; what was imported before stays.", msg.id), false)
	}
}

// whoRuns explains a start refused because another import runs, naming
// it, and offers to open it.
func (m *Model) whoRuns(f model.ArchiveFile, r *model.RunningImport) {
	j := m.knownJob(r.JobID)
	lines := []string{fmt.Sprintf("%s was not started: %s is importing, and one import runs at a time.", shownName(f), jobName(j))}
	since := ""
	if !r.Since.IsZero() {
		since = " since " + r.Since.Local().Format("2006-01-02 15:04:05")
	}
	switch {
	case r.PID != 0:
		// errors.As reached past the safe error: the command is the backend's.
		lines = append(lines, fmt.Sprintf("It is run by %s%s.", termsafe.String(r.Runner()), since))
	case since != "":
		lines = append(lines, "It has run"+since+".")
	}
	lines = append(lines, "Open it to watch or cancel it; start this archive once it has ended.")
	m.push(&dialog{
		title: "Another import is running",
		lines: lines,
		choices: []choice{
			{key.NewBinding(key.WithKeys("o", "enter"), key.WithHelp("o/enter", fmt.Sprintf("open job %d", r.JobID))), openChosen{j}},
			{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to the archives")), nil},
		},
	})
}
