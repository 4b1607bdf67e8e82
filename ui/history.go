package ui

import (
	"context"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"bbimport/model"
	"bbimport/wire"
)

// tallyPages caps the message pages read to count one job's warnings and
// errors: a job with more problems than that shows "5000+".
const tallyPages = 5

// history is the jobs screen: every job the backend knows of, newest
// first, and what the highlighted one did.
type history struct {
	jobs   []model.Job
	loaded bool
	err    error
	cursor int

	// tallies counts each job's WARN and ERROR messages; the job JSON
	// carries no such counts, so they are read from the messages, one job
	// at a time in the background.
	tallies  map[int64]*jobTally
	counting bool
}

// jobTally is one job's problems as counted at its updatedDate.
type jobTally struct {
	updated    int64
	warn, errs int
	capped     bool // counting stopped at tallyPages pages
	err        error
}

type tallyMsg struct {
	id    int64
	tally jobTally
}

func (h *history) selected() (model.Job, bool) {
	if h.cursor < 0 || h.cursor >= len(h.jobs) {
		return model.Job{}, false
	}
	return h.jobs[h.cursor], true
}

// setJobs takes a fresh list and keeps the cursor on the same job.
func (h *history) setJobs(jobs []model.Job) {
	cur, had := h.selected()
	h.jobs, h.loaded = jobs, true
	h.cursor = 0
	for i, j := range jobs {
		if had && j.ID == cur.ID {
			h.cursor = i
		}
	}
}

// refreshHistory asks the backend for its jobs.
func (m *Model) refreshHistory() tea.Cmd { return m.listJobs(listRefresh) }

// listJobs asks the backend for its jobs; their texts are made safe here,
// where they enter, for the jobs list and every dialog that quotes them.
func (m *Model) listJobs(why listing) tea.Cmd {
	b, ctx := m.opts.Backend, m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, pollTimeout)
		defer cancel()
		jobs, err := b.KnownJobs(ctx)
		safe := make([]model.Job, len(jobs))
		for i, j := range jobs {
			safe[i] = safeJob(j)
		}
		return knownJobsMsg{jobs: safe, err: safeErr(err), why: why}
	}
}

// countNext counts the problems of the first job whose count is missing or
// older than its last update.
func (m *Model) countNext() tea.Cmd {
	h := &m.hist
	if h.counting {
		return nil
	}
	for _, j := range h.jobs {
		if t := h.tallies[j.ID]; t != nil && t.updated == j.UpdatedDate {
			continue
		}
		h.counting = true
		b, ctx, id, updated := m.opts.Backend, m.ctx, j.ID, j.UpdatedDate
		return func() tea.Msg {
			t := jobTally{updated: updated}
			q := model.MessageQuery{Severities: []model.Severity{model.SeverityWarn, model.SeverityError}, Limit: wire.MaxLimit}
			for page := 0; ; page++ {
				if page == tallyPages {
					t.capped = true
					break
				}
				p, err := b.Messages(ctx, id, q)
				if err != nil {
					t.err = err
					break
				}
				for _, msg := range p.Values {
					if msg.Severity == model.SeverityError {
						t.errs++
					} else {
						t.warn++
					}
				}
				var more bool
				if q.Start, more = wire.Next(q.Start, p); !more {
					break
				}
			}
			return tallyMsg{id, t}
		}
	}
	return nil
}

func (m *Model) tallied(msg tallyMsg) tea.Cmd {
	h := &m.hist
	h.counting = false
	if h.tallies == nil {
		h.tallies = map[int64]*jobTally{}
	}
	t := msg.tally
	h.tallies[msg.id] = &t
	if m.reportOutcome && len(h.jobs) > 0 && h.jobs[0].ID == msg.id {
		m.reportOutcome = false
		m.lastOutcome(h.jobs[0])
	}
	if t.err != nil {
		// Not retried in a loop: the next refresh of the list tries again.
		return nil
	}
	return m.countNext()
}

// tallyOf is a job's count, when it has one that holds for its state.
func (h *history) tallyOf(j model.Job) *jobTally {
	if t := h.tallies[j.ID]; t != nil && t.err == nil {
		return t
	}
	return nil
}

func (m *Model) openHistory() tea.Cmd {
	m.show(onJobs)
	return tea.Batch(m.refreshHistory(), m.countNext())
}

func (m *Model) historyKey(msg tea.KeyPressMsg) tea.Cmd {
	h := &m.hist
	k := m.keys
	switch {
	case key.Matches(msg, k.Back, k.Picker, k.History):
		return m.backToPicker()
	case key.Matches(msg, k.Watch):
		return m.watchRunning()
	case key.Matches(msg, k.Open):
		j, ok := h.selected()
		if !ok {
			return nil
		}
		return m.showJob(j)
	case key.Matches(msg, k.Verify) && m.opts.Verifier != nil:
		j, ok := h.selected()
		if !ok {
			return nil
		}
		return m.openVerify(j)
	}
	h.cursor = scroll(msg, k, h.cursor, len(h.jobs)-1, m.height/2)
	return nil
}

// watchRunning is w: the job still running, watched or not; a finished
// job is never opened under that name.
func (m *Model) watchRunning() tea.Cmd {
	j, ok := m.runningJob(m.hist.jobs)
	if !ok {
		m.setNotice("No import is running; h lists the jobs, enter opens one.", false)
		return nil
	}
	return m.showJob(j)
}

// backToPicker shows the picker as it is first met: the list has the
// focus, so that j moves in it.
func (m *Model) backToPicker() tea.Cmd {
	m.picker.previewFocused = false
	m.show(onPicker)
	return m.listArchives()
}

// showJob puts a job on screen: the view already watching it, or a new one.
func (m *Model) showJob(j model.Job) tea.Cmd {
	if m.job != nil && m.job.id == j.ID {
		m.show(onJob)
		return nil
	}
	return m.openJob(j, m.archiveFile(j.Archive))
}

// archiveFile is the import directory's file a job imports, so that the
// job view can name it and tell its throughput; nil when it is no longer
// there (or the backend does not say).
func (m *Model) archiveFile(name string) *model.ArchiveFile {
	if name == "" {
		return nil
	}
	for _, f := range m.picker.files {
		if shownName(f) == name { // name comes made safe, with the job
			return &f
		}
	}
	return nil
}

// historyView draws the jobs list over the highlighted job's details. The
// list takes the full width at any size: a row holds a state, an archive
// name and a date, which side by side with the details would be cut.
func (m Model) historyView() string {
	h := m.bodyHeight()
	listH := min(max(len(m.hist.jobs)+3, 6), h/2)
	return m.historyList(m.width, listH) + "\n" + m.jobDetails(m.width, h-listH)
}

func (m Model) historyList(w, h int) string {
	hs := m.hist
	t := m.theme
	inner := w - 2
	var lines []string
	switch {
	case !hs.loaded:
		lines = append(lines, t.Dim.Render("asking the backend for its jobs…"))
	case hs.err != nil:
		lines = append(lines, wrapLines([]string{t.Problem.Render("Could not list the jobs: " + hs.err.Error())}, inner)...)
	case len(hs.jobs) == 0 && m.identity.PartialJobs:
		lines = append(lines, wrapLines([]string{"No jobs known.", "", partialJobs}, inner)...)
	case len(hs.jobs) == 0:
		lines = append(lines, wrapLines([]string{"No jobs yet.", "", "Imports started here, by bbimport import or, remotely, by this client are listed."}, inner)...)
	default:
		idW, stateW, nameW := m.historyColumns(inner)
		lines = append(lines, t.Label.Render(fit("  "+fmt.Sprintf("%-*s%-*s", idW, "Job", stateW, "State")+
			fit("Archive", nameW)+historyTail(inner, "Started", "Ended", "Imported"), inner)))
		rows := h - 3
		top := max(0, hs.cursor-rows+1)
		for i := top; i < len(hs.jobs) && i < top+rows; i++ {
			lines = append(lines, m.historyRow(hs.jobs[i], i == hs.cursor, inner, idW, stateW, nameW))
		}
	}
	title := fmt.Sprintf("Jobs (%d)", len(hs.jobs))
	if m.identity.PartialJobs {
		title += " · those known here: Bitbucket cannot list jobs"
	}
	return box(t, title, lines, w, h, true)
}

// partialJobs says where the jobs of a server that cannot list them come
// from.
const partialJobs = "Bitbucket has no call that lists jobs: listed are the jobs bbimport started from this machine " +
	"and those it found after them (job ids are one sequence)."

// historyWhenW is the width of the list's date column.
const historyWhenW = 12

// historyColumns sizes the id, state and archive columns to the longest
// listed in a list w cells wide: the archive's column takes what its names
// need, and what is left goes to the counts at the end of the row.
func (m Model) historyColumns(w int) (idW, stateW, nameW int) {
	nameW = len(archiveNotKnown)
	for _, j := range m.hist.jobs {
		idW = max(idW, len(fmt.Sprint(j.ID))+3)
		stateW = max(stateW, ansi.StringWidth(m.historyBadge(j))+2)
		nameW = max(nameW, ansi.StringWidth(j.Archive))
	}
	return idW, stateW, min(nameW+2, historyNameW(w, idW, stateW))
}

// archiveNotKnown stands for the archive of a job the backend does not
// name.
const archiveNotKnown = "(archive not known)"

// historyWideFrom is the list's inner width from which rows also show
// when a job ended and what it imported; below, the details pane does.
const (
	historyWideFrom = 110
	historyCountW   = 32
)

func historyNameW(w, idW, stateW int) int {
	tail := historyWhenW + 2
	if w >= historyWideFrom {
		tail += historyWhenW + 1 + historyCountW + 1
	}
	return max(w-2-idW-stateW-tail, 8)
}

// historyTail is the columns after the archive's name: started, and from
// historyWideFrom ended and imported, which the row's fit ends.
func historyTail(w int, started, ended, imported string) string {
	s := " " + fmt.Sprintf("%-*s", historyWhenW, started)
	if w >= historyWideFrom {
		s += " " + fmt.Sprintf("%-*s", historyWhenW, ended) + " " + imported
	}
	return s
}

// historyRow is "▸ #12  ● RUNNING  archive          Nov 25 16:58".
func (m Model) historyRow(j model.Job, selected bool, w, idW, stateW, nameW int) string {
	t := m.theme
	badge := m.historyBadge(j)
	if selected {
		// The reversed row carries the selection; a coloured badge inside
		// would end the reverse where its own style ends.
		badge = ansi.Strip(badge)
	}
	archive := j.Archive
	if archive == "" {
		archive = archiveNotKnown
	}
	short := func(ms int64) string {
		if ms == 0 {
			return ""
		}
		return time.UnixMilli(ms).Format("Jan 02 15:04")
	}
	ended := short(j.EndDate)
	if !j.State.Finished() {
		ended = "running"
	}
	imported := "not reported"
	if c := j.Counts; c != nil {
		imported = fmt.Sprintf("%d proj · %s · %s", c.Projects+c.PersonalReused, model.Plural(c.Repositories, "repo", "repos"), model.Plural(c.PullRequests, "PR", "PRs"))
		// The words in full where the row has the room.
		if long := importedWords(c); w-2-idW-stateW-nameW-2*(historyWhenW+1)-1 >= ansi.StringWidth(long) {
			imported = long
		}
	}
	mark := "  "
	if selected {
		mark = "▸ "
	}
	row := mark + fmt.Sprintf("%-*s", idW, fmt.Sprintf("#%d", j.ID)) + fit(badge, stateW) + fit(archive, nameW) + historyTail(w, short(j.StartDate), ended, imported)
	row = fit(row, w)
	if selected {
		return t.Selected.Render(row)
	}
	return row
}

// historyBadge is the job's state as the job view shows it, once its
// errors are counted (COMPLETED with ERROR messages is a failure).
func (m Model) historyBadge(j model.Job) string {
	tl := m.hist.tallyOf(j)
	return stateBadge(m.theme, j.State, tl != nil && tl.errs > 0)
}

// jobDetails is what the highlighted job did.
func (m Model) jobDetails(w, h int) string {
	t := m.theme
	j, ok := m.hist.selected()
	if !ok {
		return box(t, "Job", nil, w, h, false)
	}
	inner := w - 2
	now := m.opts.Now()
	archive := j.Archive
	if archive == "" {
		archive = "not known: the backend does not say, and this console did not start it"
	}
	lines := field(t, "Archive", archive, inner)
	lines = append(lines, field(t, "State", m.historyBadge(j), inner)...)
	if !j.State.Finished() && j.Progress.Message != "" {
		lines = append(lines, field(t, "Progress", fmt.Sprintf("%d%%: %s", j.Progress.Percentage, j.Progress.Message), inner)...)
	}
	lines = append(lines, field(t, "Started", dateOf(j.StartDate, "not yet"), inner)...)
	ended := dateOf(j.EndDate, "still running")
	switch {
	case j.StartDate == 0:
	case j.EndDate > 0:
		ended += " (ran " + formatDuration(time.UnixMilli(j.EndDate).Sub(time.UnixMilli(j.StartDate))) + ")"
	case j.State.Finished():
		ended = "not reported"
	default:
		ended += " (" + formatDuration(now.Sub(time.UnixMilli(j.StartDate))) + " so far)"
	}
	lines = append(lines, field(t, "Ended", ended, inner)...)
	imported := "not reported (Bitbucket sends no counts)"
	if c := j.Counts; c != nil {
		imported = importedWords(c)
	}
	lines = append(lines, field(t, "Imported", imported, inner)...)
	lines = append(lines, field(t, "Problems", m.problems(j), inner)...)
	if j.Initiator != nil && j.Initiator.Name != "" {
		lines = append(lines, field(t, "Started by", j.Initiator.Name, inner)...)
	}
	lines = append(lines, "", t.Dim.Render("enter opens it: summary and messages"))
	return box(t, fmt.Sprintf("Job %d", j.ID), wrapLines(lines, inner), w, h, false)
}

// importedWords is "1 project · 3 repositories · 120 pull requests".
func importedWords(c *model.ImportCounts) string {
	return fmt.Sprintf("%s · %s · %s", projectsWords(c),
		model.Plural(c.Repositories, "repository", "repositories"), model.Plural(c.PullRequests, "pull request", "pull requests"))
}

// projectsWords is the projects a job brought: "3 projects", or, when it
// reused personal projects that existed, "5 projects (3 new, 2 personal
// reused)", so that it matches the archive's count in the preview.
func projectsWords(c *model.ImportCounts) string {
	all := model.Plural(c.Projects+c.PersonalReused, "project", "projects")
	if c.PersonalReused == 0 {
		return all
	}
	return fmt.Sprintf("%s (%d new, %d personal reused)", all, c.Projects, c.PersonalReused)
}

// problems is "3 warnings · 0 errors", or why they are not counted yet.
func (m Model) problems(j model.Job) string {
	t := m.theme
	tl := m.hist.tallies[j.ID]
	switch {
	case tl == nil:
		return t.Dim.Render("counting…")
	case tl.err != nil:
		return t.Problem.Render("not counted: " + tl.err.Error())
	}
	s := problemCounts(t, tl.warn, tl.errs)
	if tl.capped {
		s += fmt.Sprintf(" counted in the first %d, and more", tallyPages*wire.MaxLimit)
	}
	return s
}

// dateOf writes epoch milliseconds as a local date and time.
func dateOf(ms int64, none string) string {
	if ms == 0 {
		return none
	}
	return time.UnixMilli(ms).Format("2006-01-02 15:04:05")
}

// lastOutcome is the start-up report of the newest job when it ended
// within the last day: an admin coming back sees how the import they left
// went. The console keeps no memory of what it showed, so the report comes
// back at each start for that day; it is one line, gone at the next key.
func (m *Model) lastOutcome(j model.Job) {
	if !j.State.Finished() || j.EndDate == 0 {
		return
	}
	ago := m.opts.Now().Sub(time.UnixMilli(j.EndDate))
	if ago > 24*time.Hour || ago < 0 {
		return
	}
	state := string(j.State)
	tl := m.hist.tallyOf(j)
	if tl != nil && j.State == model.StateCompleted && tl.errs > 0 {
		state = "COMPLETED WITH ERRORS"
	}
	// Short: the status line is one line, 80 cells at the least.
	m.setNotice(fmt.Sprintf("Last import: %s %s %s ago; h lists jobs", jobName(j), state, formatDuration(ago)),
		j.State.Failed(tl != nil && tl.errs > 0))
}

func (m Model) historyHelp() bindings {
	k := m.keys
	short := []key.Binding{k.Open, k.Back}
	actions := []key.Binding{k.Open, k.Back}
	if j, ok := m.hist.selected(); ok && m.canVerify(j) {
		short = append(short, k.Verify)
		actions = append(actions, k.Verify)
	}
	if _, ok := m.runningJob(m.hist.jobs); ok {
		short = append(short, k.Watch)
		actions = append(actions, k.Watch)
	}
	return bindings{
		short: append(short, k.Help, k.Quit),
		full:  [][]key.Binding{k.moves(), actions, k.general()},
	}
}

// jobName is "job 12 (small.tar)", or "job 12" when the archive is not known.
func jobName(j model.Job) string {
	if j.Archive == "" {
		return fmt.Sprintf("job %d", j.ID)
	}
	return fmt.Sprintf("job %d (%s)", j.ID, j.Archive)
}

// knownJob is the listed job with that id, for its archive.
func (m *Model) knownJob(id int64) model.Job {
	for _, j := range m.hist.jobs {
		if j.ID == id {
			return j
		}
	}
	return model.Job{ID: id}
}

// wheelStep is a wheel event as a move of the cursor.
func wheelStep(msg tea.MouseWheelMsg) int {
	switch msg.Button {
	case tea.MouseWheelUp:
		return -1
	case tea.MouseWheelDown:
		return 1
	}
	return 0
}

// jobsScreen is the jobs list over the highlighted job's details.
type jobsScreen struct{}

func (jobsScreen) view(m *Model, _, _ int) string { return m.historyView() }

func (jobsScreen) key(m *Model, msg tea.KeyPressMsg) tea.Cmd { return m.historyKey(msg) }

func (jobsScreen) help(m *Model) bindings { return m.historyHelp() }

func (jobsScreen) capturing(*Model) bool { return false }

func (jobsScreen) prompt(*Model, tea.Msg) tea.Cmd { return nil }

func (jobsScreen) wheel(m *Model, msg tea.MouseWheelMsg) tea.Cmd {
	m.hist.cursor = min(max(m.hist.cursor+wheelStep(msg), 0), max(len(m.hist.jobs)-1, 0))
	return nil
}

func (jobsScreen) refresh(m *Model) tea.Cmd { return m.refreshHistory() }

func (jobsScreen) message(*Model, tea.Msg) (tea.Cmd, bool) { return nil, false }

func (jobsScreen) setSize(*Model) {}
