// Over 600 lines on purpose: the job view's polling, its state line
// (incl. UNKNOWN while the backend does not answer), throughput and ETA, and
// the summary all read and write the same jobView state; split, each part
// would need the others' fields.

package ui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"bbimport/model"
	"bbimport/termsafe"
	"bbimport/ui/logview"
	"bbimport/wire"
)

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

// JobSubject is the log's word for a message without a subject; the
// commands that list messages use it too, so that both read alike.
const JobSubject = logview.JobSubject

// tally counts the warnings and errors per subject for the summary, and
// keeps the newest job-level message.
func (j *jobView) tally(msgs []model.Message) {
	for _, msg := range msgs {
		s := msg.Subject
		if s == "" {
			j.lastJobMessage = msg.Text
		}
		if msg.Severity == model.SeverityInfo {
			continue
		}
		t := j.bySubject[s]
		if t == nil {
			t = &tally{}
			j.bySubject[s] = t
		}
		if msg.Severity == model.SeverityError {
			t.errs++
		} else {
			t.warn++
		}
	}
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

// minLogHeight is the least the message log keeps, borders included,
// when the pane above it grows to hold a long summary.
const minLogHeight = 6

// paneLines are the lines of the pane above the log, in a pane w cells
// wide in a body h lines high: the progress while running, the summary
// once finished. The pane grows to hold them all.
func (j *jobView) paneLines(t Theme, w, h int, now time.Time) []string {
	room := max(h-minLogHeight-2, 1)
	if j.finished() {
		return j.summaryLines(t, w-2, room, now)
	}
	return j.progressLines(t, w-2, now)
}

// paneHeight is the height of the pane that holds lines: at least the
// usual one, so that the log does not jump with every note.
func (j *jobView) paneHeight(lines []string, h int) int {
	least := 8
	if j.finished() {
		least = 0 // the summary no longer moves: the log gets every row it leaves
	}
	return min(max(len(lines)+2, least), max(h-minLogHeight, 3))
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
	default:
		m.setNotice("Cancel requested: the import stops at its next checkpoint.", false)
	}
}

// jobHelp is the job view's keys: k, the console's keys as this job's
// state words them.
func (m *Model) jobHelp(k keyMap) bindings {
	j := m.job
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

// stateBadge is the state's word with a glyph, in its colour: the word and
// glyph carry the meaning without colour. COMPLETED with ERROR messages is
// shown as a failure.
func stateBadge(t Theme, s model.State, hasErrors bool) string {
	switch {
	case s == model.StateCompleted && hasErrors:
		return t.Bad.Render("✗ COMPLETED WITH ERRORS")
	case s == model.StateCompleted:
		return t.Good.Render("✓ COMPLETED")
	case s.Failed(hasErrors):
		return t.Bad.Render("✗ " + string(s))
	case s == model.StateCanceling:
		return t.Caution.Render("◐ CANCELING")
	case s == model.StateCanceled:
		return t.Caution.Render("■ CANCELED")
	}
	return t.Busy.Render("● " + string(s))
}

// view draws the progress pane (or the summary) above the log.
func (j *jobView) view(t Theme, w, h int, now time.Time) string {
	title := fmt.Sprintf("Job %d", j.id)
	if name := j.archiveName(); name != "" {
		title += " · " + name
	}
	lines := j.paneLines(t, w, h, now)
	ph := j.paneHeight(lines, h)
	top := box(t, title, lines, w, ph, !j.logFocused)
	logBox := box(t, "Messages", strings.Split(j.log.View(), "\n"), w, h-ph, j.logFocused)
	return top + "\n" + logBox
}

// archiveName is the archive as the console shows it: the import
// directory's file, else the name the backend reports (the file may have
// left the directory since); "" when neither says.
func (j *jobView) archiveName() string {
	if j.archive != nil {
		return shownName(*j.archive)
	}
	return j.job.Archive
}

// problemCounts is "3 warnings · 0 errors", coloured when there are any.
func problemCounts(t Theme, warn, errs int) string {
	w := model.Plural(warn, "warning", "warnings")
	if warn > 0 {
		w = t.Caution.Render(w)
	}
	e := model.Plural(errs, "error", "errors")
	if errs > 0 {
		e = t.Bad.Render(e)
	}
	return w + " · " + e
}

func (j *jobView) counts(t Theme) string {
	c := j.log.Counts()
	problems := problemCounts(t, c.Warn, c.Error)
	// Only bbimport reports counts; Bitbucket's job JSON has none.
	done := "imported"
	if isExport(j.job) {
		done = "exported"
	}
	items := done + ": not reported"
	if c := j.job.Counts; c != nil {
		items = done + " " + projectsWords(c) + " · " +
			model.Plural(c.Repositories, "repo", "repos") + " · " + model.Plural(c.PullRequests, "PR", "PRs")
	}
	return items + " · " + problems
}

func (j *jobView) progressLines(t Theme, w int, now time.Time) []string {
	if !j.have {
		lines := []string{t.Dim.Render("asking the backend for job " + fmt.Sprint(j.id) + "…")}
		return append(lines, j.connectionNote(t, now)...)
	}
	if j.unreachable() {
		return j.unknownLines(t, w, now)
	}
	jb := j.job
	pct := jb.Progress.Percentage
	badge := stateBadge(t, jb.State, j.hasErrors())
	barW := max(w-2-ansi.StringWidth(badge)-7, 10)
	lines := []string{
		" " + badge + "  " + bar(t, float64(pct)/100, barW) + fmt.Sprintf(" %3d%%", pct),
		" " + jb.Progress.Message,
		" " + j.pace(now),
		" " + j.counts(t),
	}
	if jb.State == model.StateCanceling {
		lines = append(lines, " "+t.Caution.Render("waiting for the next checkpoint:")+" hierarchy end, next repository or next PR")
	}
	lines = append(lines, j.connectionNote(t, now)...)
	if j.queueNote != "" {
		lines = append(lines, indent(wrapLines([]string{t.Dim.Render(j.queueNote)}, w-1))...)
	}
	return lines
}

// unknownLines is the progress pane while the backend does not answer:
// the job's state is then unknown, so neither is its speed nor its time
// left. What it last said stays, marked as such; the next answer shows the
// backend's own state again.
func (j *jobView) unknownLines(t Theme, w int, now time.Time) []string {
	jb := j.job
	last := fmt.Sprintf("last answer: %s %d%% · %s", jb.State, jb.Progress.Percentage, jb.Progress.Message)
	return indent(wrapLines([]string{j.stateHead(t), t.Dim.Render(last), j.counts(t),
		t.Bad.Render(fmt.Sprintf("✗ unreachable for %s, retrying", formatDuration(now.Sub(j.silentSince())))),
		t.Dim.Render(j.lastErr.Error())}, w-1))
}

// unreachable reports whether the backend's last answer was an error.
func (j *jobView) unreachable() bool { return !j.failingSince.IsZero() }

// silentSince is when the backend last answered, or when it first failed
// to if it never did.
func (j *jobView) silentSince() time.Time {
	if j.lastAnswer.IsZero() {
		return j.failingSince
	}
	return j.lastAnswer
}

// stateHead is the job's state as every screen shows it: its badge, or,
// while the backend does not answer, UNKNOWN since its last answer.
func (j *jobView) stateHead(t Theme) string {
	if j.unreachable() {
		return t.Caution.Render("? UNKNOWN") + " — no answer from " + j.backend + " since " + j.silentSince().Local().Format("15:04:05")
	}
	return stateBadge(t, j.job.State, j.hasErrors())
}

// pace is elapsed time, throughput and ETA, each once meaningful.
func (j *jobView) pace(now time.Time) string {
	jb := j.job
	if jb.StartDate == 0 {
		return "not started yet"
	}
	started := time.UnixMilli(jb.StartDate)
	elapsed := now.Sub(started)
	parts := []string{"elapsed " + formatDuration(elapsed)}
	pct := jb.Progress.Percentage
	if pct > 0 && elapsed >= etaAfter && jb.State == model.StateRunning {
		if j.archive != nil {
			done := float64(j.archive.Size) * float64(pct) / 100
			parts = append(parts, humanize.IBytes(uint64(done/elapsed.Seconds()))+"/s")
		}
		eta := time.Duration(float64(elapsed) * float64(100-pct) / float64(pct))
		parts = append(parts, "about "+formatDuration(eta)+" left")
	}
	return strings.Join(parts, " · ")
}

// connectionNote says when the backend has not answered, or the job has
// not moved, for a while.
func (j *jobView) connectionNote(t Theme, now time.Time) []string {
	if j.unreachable() {
		return []string{
			" " + t.Bad.Render(fmt.Sprintf("✗ backend unreachable for %s, retrying", formatDuration(now.Sub(j.silentSince())))),
			" " + t.Dim.Render(j.lastErr.Error()),
		}
	}
	if j.have && !j.job.State.Finished() && j.job.UpdatedDate > 0 {
		if idle := now.Sub(time.UnixMilli(j.job.UpdatedDate)); idle >= stallAfter {
			return []string{" " + t.Caution.Render(fmt.Sprintf("! no update from the job for %s", formatDuration(idle)))}
		}
	}
	return nil
}

// summaryLines is the finished job in w cells and at most room lines.
// The last job-level message says how it ended and, after a cancel or an
// abort, what was not imported and what to do: it is kept whole, and the
// lines that only help go first when room is short.
func (j *jobView) summaryLines(t Theme, w, room int, now time.Time) []string {
	jb := j.job
	when := ""
	if jb.StartDate > 0 {
		start := time.UnixMilli(jb.StartDate)
		// The backend's end time, never this console's clock: a job seen
		// late, or after a lost connection, did not end when it was seen.
		if jb.EndDate > 0 {
			end := time.UnixMilli(jb.EndDate)
			when = fmt.Sprintf("  ran %s, %s → %s", formatDuration(end.Sub(start)),
				start.Format("15:04:05"), end.Format("15:04:05"))
		} else {
			when = "  started " + start.Format("15:04:05") + ", end not reported"
		}
	}
	lines := indent(wrapLines([]string{stateBadge(t, jb.State, j.hasErrors()) + when, j.counts(t)}, w-1))
	if j.lastJobMessage != "" {
		lines = append(lines, indent(wrapLines([]string{j.lastJobMessage}, w-2))...)
	}
	lines = append(lines, j.connectionNote(t, now)...)
	bySubject := append(labelled(t, "warnings by subject: ", j.topSubjects(func(c *tally) int { return c.warn }), w-1),
		labelled(t, "errors by subject:   ", j.topSubjects(func(c *tally) int { return c.errs }), w-1)...)
	for _, extra := range [][]string{
		indent(bySubject),
		{" " + t.Dim.Render("b back to the archives · q quit · the log below keeps every message")},
	} {
		if len(lines)+len(extra) > room {
			break
		}
		lines = append(lines, extra...)
	}
	return lines
}

// labelled is label and value in w cells, the value's wrapped lines
// indented under its first.
func labelled(t Theme, label, value string, w int) []string {
	lw := ansi.StringWidth(label)
	lines := wrapLines([]string{value}, max(w-lw, 1))
	for i := range lines {
		if i == 0 {
			lines[i] = t.Label.Render(label) + lines[i]
		} else {
			lines[i] = strings.Repeat(" ", lw) + lines[i]
		}
	}
	return lines
}

// indent puts the pane's one-cell margin before each line.
func indent(lines []string) []string {
	for i, l := range lines {
		lines[i] = " " + l
	}
	return lines
}

// topSubjects lists the subjects with the most warnings (or errors).
func (j *jobView) topSubjects(count func(*tally) int) string {
	type sc struct {
		subject string
		n       int
	}
	var all []sc
	for s, c := range j.bySubject {
		if n := count(c); n > 0 {
			if s == "" {
				s = JobSubject
			}
			all = append(all, sc{s, n})
		}
	}
	if len(all) == 0 {
		return "none"
	}
	sort.Slice(all, func(a, b int) bool {
		if all[a].n != all[b].n {
			return all[a].n > all[b].n
		}
		return all[a].subject < all[b].subject
	})
	var parts []string
	for i, s := range all {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(all)-5))
			break
		}
		// A no-break space: a subject and its count stay on one line.
		parts = append(parts, fmt.Sprintf("%s\u00a0%d", s.subject, s.n))
	}
	return strings.Join(parts, " · ")
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
