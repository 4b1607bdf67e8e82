package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/dustin/go-humanize"

	"bbimport/model"
	"bbimport/termsafe"
)

// The picker: the archives of the import directory on the left, what the
// highlighted one holds on the right, filled in the background.
type picker struct {
	files   []model.ArchiveFile // newest first, as listed
	loaded  bool
	listErr error

	shown  []int // indexes into files that pass the name filter
	cursor int   // index into shown

	previewFocused bool
	previewTop     int
	previewOf      string  // the path previewTop belongs to: another archive starts at the top
	confirm        *dialog // the start confirmation the start rule's answer may replace

	filter    textinput.Model
	filtering bool
	want      string   // the archive to select once the next list holds it: a remainder just written
	queued    []string // paths of the archives to import one after another, in order
	compare   textinput.Model
	comparing bool

	info       map[string]*archiveInfo // by path
	inspecting bool                    // one Inspect at a time: archives can be large
	stopSum    context.CancelFunc      // cancels the running checksum
}

// archiveInfo is what the console learned about one archive, valid while
// the file's size and time stay as they were (stamp).
type archiveInfo struct {
	stamp      string
	summary    *model.ArchiveSummary
	summaryErr error
	preflight  *preflight
	checking   bool // the pre-flight checks are running

	summing     bool
	done, total int64
	sums        *model.Checksums
	sumErr      error
	source      string    // the checksum pasted from the source side
	recalled    time.Time // when source was pasted, in an earlier run; zero when pasted in this one
}

// preflight is what the import will run into on the target.
type preflight struct {
	// renames are every rename the import will make, foreseen by the
	// importer's own rules (model.PlanRenames) on the target as it is.
	renames  []model.Rename
	checkErr error
	// earlier are the imports into this target of an archive with the
	// same SHA-256: starting it again imports a second copy.
	earlier    []model.ImportedArchive
	earlierErr error
	free       int64
	freeErr    error
	// remote: the import's disk is the server's, which this machine's
	// free space says nothing of, and Bitbucket's API does not tell.
	remote bool
}

type (
	archivesMsg struct {
		files []model.ArchiveFile
		err   error
	}
	summaryMsg struct {
		path, stamp string
		sum         model.ArchiveSummary
		err         error
	}
	preflightMsg struct {
		path, stamp string
		pf          preflight
	}
	checksumProgressMsg struct {
		path        string
		done, total int64
		next        tea.Cmd
	}
	checksumDoneMsg struct {
		path string
		sums model.Checksums
		err  error
	}
	// startCheckedMsg is the start rule's answer (Archives.CheckStart)
	// for an archive the admin asked to start.
	startCheckedMsg struct {
		f   model.ArchiveFile
		err error
	}
)

func newPicker() picker {
	f := textinput.New()
	f.Prompt = "/ "
	f.Placeholder = "filter by name"
	c := textinput.New()
	c.Prompt = "source checksum: "
	c.Placeholder = "paste the MD5 or SHA-256 computed on the source"
	return picker{filter: f, compare: c, info: map[string]*archiveInfo{}}
}

func stampOf(f model.ArchiveFile) string {
	return fmt.Sprintf("%d@%d", f.Size, f.ModTime.UnixNano())
}

func (p *picker) selected() (model.ArchiveFile, bool) {
	if p.cursor < 0 || p.cursor >= len(p.shown) {
		return model.ArchiveFile{}, false
	}
	return p.files[p.shown[p.cursor]], true
}

// infoFor returns the console's knowledge of f, dropping it if the file
// changed since.
func (p *picker) infoFor(f model.ArchiveFile) *archiveInfo {
	in := p.info[f.Path]
	if in == nil || in.stamp != stampOf(f) {
		if in != nil && in.summing && p.stopSum != nil {
			p.stopSum() // the file changed under the checksum
		}
		in = &archiveInfo{stamp: stampOf(f)}
		p.info[f.Path] = in
	}
	return in
}

func (p *picker) capturing() bool { return p.filtering || p.comparing }

// refilter recomputes the shown rows, keeping the highlighted archive.
func (p *picker) refilter() {
	keep, hadSel := p.selected()
	needle := strings.ToLower(strings.TrimSpace(p.filter.Value()))
	p.shown = p.shown[:0]
	for i, f := range p.files {
		if needle == "" || strings.Contains(strings.ToLower(f.Name), needle) {
			p.shown = append(p.shown, i)
		}
	}
	p.cursor = 0
	if hadSel {
		for i, idx := range p.shown {
			if p.files[idx].Path == keep.Path {
				p.cursor = i
			}
		}
	}
}

// selectName selects the archive of that name once a list holds it; the
// filter is cleared, so that nothing hides it.
func (p *picker) selectName(name string) {
	p.want = name
	p.filtering = false
	p.filter.Blur()
	p.filter.SetValue("")
	p.previewFocused = false
	p.refilter()
	p.selectWanted()
}

func (p *picker) selectWanted() {
	for i, idx := range p.shown {
		if p.want != "" && p.files[idx].Name == p.want {
			p.cursor, p.want = i, ""
			return
		}
	}
}

func (m *Model) listArchives() tea.Cmd {
	a, ctx := m.opts.Archives, m.ctx
	return func() tea.Msg {
		files, err := a.List(ctx)
		return archivesMsg{files, err}
	}
}

// fillPreview starts what the highlighted archive's preview still lacks:
// Inspect (one at a time: archives can be large), then the pre-flight
// checks, which are dropped and redone whenever an import ends.
func (m *Model) fillPreview() tea.Cmd {
	p := &m.picker
	f, ok := p.selected()
	if !ok || f.Growing || f.Unusable != "" {
		return nil
	}
	in := p.infoFor(f)
	switch {
	case in.summary != nil:
		if in.preflight != nil || in.checking {
			return nil
		}
		in.checking = true
		return m.checkPreflight(f, in.stamp, *in.summary)
	case in.summaryErr != nil || p.inspecting:
		return nil
	}
	p.inspecting = true
	a, ctx, stamp := m.opts.Archives, m.ctx, in.stamp
	return func() tea.Msg {
		sum, err := a.Inspect(ctx, f.Path)
		return summaryMsg{f.Path, stamp, safeSummary(sum), safeErr(err)}
	}
}

// stalePreflights forgets every pre-flight result: an import has changed
// which project keys are taken and how much disk is free.
func (p *picker) stalePreflights() {
	for _, in := range p.info {
		in.preflight = nil
	}
}

// checkPreflight asks the target what the import will rename, whether
// this archive was imported before, and how much disk is free.
func (m *Model) checkPreflight(f model.ArchiveFile, stamp string, sum model.ArchiveSummary) tea.Cmd {
	b, a, ctx := m.opts.Backend, m.opts.Archives, m.ctx
	id, haveID := m.identity, m.haveID
	return func() tea.Msg {
		if !haveID {
			id, _ = b.Identity(ctx)
		}
		return preflightMsg{f.Path, stamp, runPreflight(ctx, b, a, f, sum, id.Remote)}
	}
}

func runPreflight(ctx context.Context, b model.Backend, a Archives, f model.ArchiveFile, sum model.ArchiveSummary, remote bool) preflight {
	var pf preflight
	pf.renames, pf.checkErr = model.PlanRenames(sum.Projects, sum.RepositoryList, targetNames(ctx, b))
	pf.earlier, pf.earlierErr = earlierImports(ctx, b, a, f)
	pf.remote = remote
	if !remote {
		pf.free, pf.freeErr = a.FreeBytes(ctx)
	}
	return pf
}

// targetNames is what is taken on the target, as the importer's rules ask
// it: project keys from the backend (as the importer and Bitbucket answer
// them), the rest from its read API.
func targetNames(ctx context.Context, b model.Backend) model.TakenNames {
	var names model.TakenNames = keysOnly{}
	if r, ok := b.(model.Reader); ok {
		names = model.ReaderNames(ctx, r)
	}
	return backendKeys{TakenNames: names, ctx: ctx, b: b}
}

type backendKeys struct {
	model.TakenNames
	ctx context.Context
	b   model.Backend
}

func (k backendKeys) ProjectKey(key string) (bool, error) {
	taken, err := k.b.ProjectExists(k.ctx, key)
	if err != nil {
		return false, fmt.Errorf("check whether project %s exists on the target: %w", key, err)
	}
	return taken, nil
}

// keysOnly is a backend that cannot read names: only project keys are
// foreseen.
type keysOnly struct{}

func (keysOnly) ProjectKey(string) (bool, error)             { return false, nil }
func (keysOnly) ProjectName(string) (bool, error)            { return false, nil }
func (keysOnly) RepositorySlug(string, string) (bool, error) { return false, nil }
func (keysOnly) RepositoryName(string, string) (bool, error) { return false, nil }

// earlierImports are the target's jobs that read an archive with f's
// SHA-256. The SHA-256 is computed only when a job read an archive of f's
// size: no other can be the same.
func earlierImports(ctx context.Context, b model.Backend, a Archives, f model.ArchiveFile) ([]model.ImportedArchive, error) {
	r, ok := b.(model.ArchiveRecorder)
	if !ok {
		return nil, nil
	}
	list, err := r.ImportedArchives(ctx)
	if errors.Is(err, model.ErrNotSupported) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sized []model.ImportedArchive
	for _, ia := range list {
		if ia.Size == f.Size && ia.SHA256 != "" {
			sized = append(sized, ia)
		}
	}
	if len(sized) == 0 {
		return nil, nil
	}
	sums, err := a.Checksum(ctx, f.Path, nil)
	if err != nil {
		return nil, err
	}
	var same []model.ImportedArchive
	for _, ia := range sized {
		if ia.SHA256 == sums.SHA256 {
			same = append(same, ia)
		}
	}
	return same, nil
}

// startChecksum computes MD5 and SHA-256 in a command; progress comes back
// through a channel read by a command re-issued after each report.
func (m *Model) startChecksum(f model.ArchiveFile, in *archiveInfo) tea.Cmd {
	ctx, cancel := context.WithCancel(m.ctx)
	m.picker.stopSum = cancel
	in.summing, in.done, in.total, in.sums, in.sumErr = true, 0, f.Size, nil, nil
	progress := make(chan tea.Msg, 1)
	var listen tea.Cmd
	listen = func() tea.Msg {
		msg, ok := <-progress
		if !ok {
			return nil
		}
		pm := msg.(checksumProgressMsg)
		pm.next = listen
		return pm
	}
	a := m.opts.Archives
	compute := func() tea.Msg {
		defer close(progress)
		lastPct := int64(-1)
		sums, err := a.Checksum(ctx, f.Path, func(done, total int64) {
			if total <= 0 {
				return
			}
			// One report per percent: the screen changes a few times a second.
			if pct := done * 100 / total; pct != lastPct {
				lastPct = pct
				select {
				case progress <- checksumProgressMsg{path: f.Path, done: done, total: total}:
				default:
				}
			}
		})
		return checksumDoneMsg{f.Path, sums, err}
	}
	return tea.Batch(compute, listen)
}

// pickerMessage applies the picker's background results.
func (m *Model) pickerMessage(msg tea.Msg) (tea.Cmd, bool) {
	p := &m.picker
	switch msg := msg.(type) {
	case archivesMsg:
		p.loaded = true
		p.listErr = msg.err
		if msg.err == nil {
			p.files = msg.files
			p.refilter()
			p.selectWanted()
		}
		return m.fillPreview(), true
	case summaryMsg:
		p.inspecting = false
		if in := p.info[msg.path]; in != nil && in.stamp == msg.stamp {
			if msg.err != nil {
				in.summaryErr = msg.err
				return m.fillPreview(), true
			}
			in.summary = &msg.sum
		}
		return m.fillPreview(), true
	case preflightMsg:
		if in := p.info[msg.path]; in != nil && in.stamp == msg.stamp {
			pf := msg.pf
			in.preflight, in.checking = &pf, false
		}
		return m.fillPreview(), true
	case checksumProgressMsg:
		if in := p.info[msg.path]; in != nil && in.summing {
			in.done, in.total = msg.done, msg.total
		}
		return msg.next, true
	case checksumDoneMsg:
		if in := p.info[msg.path]; in != nil && in.summing {
			in.summing = false
			if msg.err != nil {
				in.sumErr = msg.err
			} else {
				in.sums = &msg.sums
				p.stopSum = nil
				if in.source == "" {
					return m.recallSource(msg.path, msg.sums.SHA256), true
				}
				return m.rememberSource(msg.sums.SHA256, in.source, filepath.Base(msg.path)), true
			}
		}
		p.stopSum = nil
		return nil, true
	case rememberedMsg:
		if in := p.info[msg.path]; msg.found && in != nil && in.sums != nil && in.sums.SHA256 == msg.sha && in.source == "" {
			in.source, in.recalled = msg.sum.Source, msg.sum.Pasted
		}
		return nil, true
	case rememberFailedMsg:
		m.setNotice(fmt.Sprintf("The source checksums pasted earlier are not remembered: %v.", msg.err), false)
		return nil, true
	case startCheckedMsg:
		// Only the confirmation it was asked for is replaced: a start
		// pressed before the answer came is refused by the backend with
		// the same sentence.
		if msg.err != nil && p.confirm != nil && m.top() == overlay(p.confirm) {
			m.pop()
			m.refuseStart(msg.err)
		}
		return nil, true
	}
	return nil, false
}

// pickerPrompt sends a key or a paste to the open prompt.
func (m *Model) pickerPrompt(msg tea.Msg) tea.Cmd {
	p := &m.picker
	if !p.capturing() {
		return nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, m.keys.Accept):
			if p.comparing {
				f, ok := p.selected()
				p.comparing = false
				p.compare.Blur()
				if !ok {
					return nil
				}
				in := p.infoFor(f)
				in.source, in.recalled = normalizeSum(p.compare.Value()), time.Time{}
				if in.sums == nil {
					return nil // remembered once computed
				}
				return m.rememberSource(in.sums.SHA256, in.source, f.Name)
			}
			p.filtering = false
			p.filter.Blur()
			return m.fillPreview()
		case key.Matches(k, m.keys.Dismiss):
			if p.comparing {
				p.comparing = false
				p.compare.Blur()
				return nil
			}
			p.filtering = false
			p.filter.Blur()
			p.filter.SetValue("")
			p.refilter()
			return m.fillPreview()
		}
	}
	var cmd tea.Cmd
	if p.comparing {
		p.compare, cmd = p.compare.Update(msg)
		return cmd
	}
	p.filter, cmd = p.filter.Update(msg)
	p.refilter()
	return tea.Batch(cmd, m.fillPreview())
}

func normalizeSum(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}

func (m *Model) pickerKey(msg tea.KeyPressMsg) tea.Cmd {
	p := &m.picker
	k := m.keys
	switch {
	case key.Matches(msg, k.Tab):
		p.previewFocused = !p.previewFocused
		return nil
	case key.Matches(msg, k.Filter):
		p.filtering = true
		return p.filter.Focus()
	case key.Matches(msg, k.Watch):
		return m.watchRunning()
	case key.Matches(msg, k.History):
		return m.openHistory()
	case key.Matches(msg, k.Export):
		return m.openExport()
	case key.Matches(msg, k.Migrate):
		return m.openMigrate()
	case key.Matches(msg, k.QueueView):
		return m.openQueue()
	case key.Matches(msg, k.Back):
		switch {
		case p.stopSum != nil:
			p.stopSum()
		case p.filter.Value() != "":
			p.filter.SetValue("")
			p.refilter()
			return m.fillPreview()
		case p.previewFocused:
			p.previewFocused = false
		case len(p.queued) > 0 && !m.queueRunning:
			p.queued = nil
			m.setNotice("The queue is empty again.", false)
		}
		return nil
	}
	f, ok := p.selected()
	if !ok {
		return nil
	}
	in := p.infoFor(f)
	switch {
	case key.Matches(msg, k.Start) && len(p.queued) > 0:
		return m.confirmQueue()
	case key.Matches(msg, k.Start):
		return m.confirmStart(f, in)
	case key.Matches(msg, k.Queue):
		m.toggleQueue(f, in)
		return nil
	case key.Matches(msg, k.Checksum):
		if in.summing {
			m.setNotice("The checksum of "+shownName(f)+" is being computed; esc stops it.", false)
			return nil
		}
		if p.stopSum != nil {
			m.setNotice("Another checksum is being computed; esc stops it.", false)
			return nil
		}
		if f.Growing {
			m.setNotice(shownName(f)+" is still being copied; compute its checksum once the copy is done.", true)
			return nil
		}
		if f.Unusable != "" {
			m.setNotice(shownName(f)+" is "+termsafe.String(f.Unusable)+".", true)
			return nil
		}
		return m.startChecksum(f, in)
	case key.Matches(msg, k.Compare):
		p.comparing = true
		p.compare.SetValue(in.source)
		return p.compare.Focus()
	}
	if p.previewFocused {
		p.scrollPreview(f, scroll(msg, k, p.topOf(f), m.previewLast(f), m.previewPage()))
		return nil
	}
	old := p.cursor
	p.cursor = scroll(msg, k, p.cursor, len(p.shown)-1, m.height/2)
	if p.cursor != old {
		return m.fillPreview()
	}
	return nil
}

// confirmStart shows what is about to happen and asks, while the start
// rule the importer applies (Archives.CheckStart) is asked about f: the
// console offers to start only what the backend would start, and replaces
// the question with the rule's sentence when it refuses.
func (m *Model) confirmStart(f model.ArchiveFile, in *archiveInfo) tea.Cmd {
	if m.jobRunning() {
		m.setNotice(fmt.Sprintf("Job %d is still running; one import at a time. Press w to watch it.", m.job.id), true)
		return nil
	}
	a, ctx := m.opts.Archives, m.ctx
	check := func() tea.Msg { return startCheckedMsg{f: f, err: a.CheckStart(ctx, f.Name)} }
	// An import of the same archive before asks for a key not pressed by
	// habit; it is known from the last pre-flight (it only grows).
	var earlier []model.ImportedArchive
	if in.preflight != nil {
		earlier = in.preflight.earlier
	}
	// The pre-flight checks are redone now, and the dialog shows them as
	// they land: another import may have taken a key since.
	in.preflight = nil
	cmd := tea.Batch(m.fillPreview(), check)
	body := func(m *Model, w int) []string {
		t := m.theme
		lines := field(t, "Archive", shownName(f)+" · "+humanize.IBytes(uint64(f.Size))+" · "+f.ModTime.Format("2006-01-02 15:04"), w)
		lines = append(lines, field(t, "Into", m.targetName(), w)...)
		lines = append(lines, checksumLines(t, in, w)...)
		lines = append(lines, "")
		lines = append(lines, preflightLines(t, f, in)...)
		lines = append(lines, "", "The import cannot be undone, but it can be canceled at its next checkpoint.")
		if _, ok := in.mismatch(); ok {
			lines = append(lines, "A start despite the checksum mismatch is noted in the job's log.")
		}
		return lines
	}
	back := choice{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "back to the archives")), nil}
	start := choice{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "start the import")), startChosen{f, in, nil}}
	if mm, ok := in.mismatch(); ok {
		// A differing checksum means a damaged or different copy: starting
		// takes a key that is not pressed by habit, and is recorded.
		start = choice{key.NewBinding(key.WithKeys("O"), key.WithHelp("O", "start despite the mismatch")),
			startChosen{f, in, []string{mm.note()}}}
	}
	if len(earlier) > 0 && len(start.answer.(startChosen).notes) == 0 {
		start = choice{key.NewBinding(key.WithKeys("A"), key.WithHelp("A", fmt.Sprintf("import it again (job %d has it)", earlier[0].Job))),
			startChosen{f, in, nil}}
	}
	confirm := &dialog{title: "Start the import?", body: body, choices: []choice{start, back}}
	m.push(confirm)
	m.picker.confirm = confirm
	return cmd
}

// startChosen is the start confirmed; notes go into the job's log.
type startChosen struct {
	file  model.ArchiveFile
	info  *archiveInfo
	notes []string
}

// startConfirmed starts the import: a start the rule refuses meanwhile is
// refused by the backend with the same sentence.
func (m *Model) startConfirmed(c startChosen) tea.Cmd {
	return m.start(c.file, c.notes)
}

// refuseStart says, in a dialog, why the start rule refused the archive:
// the console does not start a job that can only end ABORTED.
func (m *Model) refuseStart(why error) {
	m.push(&dialog{
		title: "This archive cannot be imported",
		lines: []string{termsafe.String(why.Error()) + "."},
		choices: []choice{
			{key.NewBinding(key.WithKeys("enter", "esc"), key.WithHelp("enter/esc", "back to the archives")), nil},
		},
	})
}

// mismatch is a checksum pasted from the source that differs from the
// archive's.
type mismatch struct{ kind, expected, got string }

// note is what a start despite the mismatch records in the job's log.
func (mm mismatch) note() string {
	return fmt.Sprintf("Started despite a checksum mismatch: expected %s %s (pasted from the source), got %s", mm.kind, mm.expected, mm.got)
}

func (in *archiveInfo) mismatch() (mismatch, bool) {
	if in.sums == nil || in.source == "" || in.source == in.sums.MD5 || in.source == in.sums.SHA256 {
		return mismatch{}, false
	}
	// The length tells which of the two sums the admin pasted.
	if len(in.source) == len(in.sums.SHA256) {
		return mismatch{"SHA-256", in.source, in.sums.SHA256}, true
	}
	return mismatch{"MD5", in.source, in.sums.MD5}, true
}

func (m *Model) targetName() string {
	switch {
	case !m.haveID || m.identityErr != nil:
		return "the backend"
	case m.identity.Remote:
		return fmt.Sprintf("%s (%s %s) as %s", m.identity.Location, m.identity.Product, m.identity.Version, m.identity.User)
	}
	return "the in-process importer, home " + m.identity.Location
}

// pickerScreen is the archives and the highlighted one's preview.
type pickerScreen struct{}

func (pickerScreen) view(m *Model, _, _ int) string { return m.pickerView() }

func (pickerScreen) key(m *Model, msg tea.KeyPressMsg) tea.Cmd { return m.pickerKey(msg) }

func (pickerScreen) help(m *Model) bindings {
	if m.picker.capturing() {
		return m.keys.promptHelp()
	}
	_, running := m.runningJob(m.hist.jobs)
	return m.keys.pickerHelp(running)
}

func (pickerScreen) capturing(m *Model) bool { return m.picker.capturing() }

func (pickerScreen) prompt(m *Model, msg tea.Msg) tea.Cmd { return m.pickerPrompt(msg) }

func (pickerScreen) wheel(m *Model, msg tea.MouseWheelMsg) tea.Cmd { return m.pickerWheel(msg) }

func (pickerScreen) refresh(m *Model) tea.Cmd { return m.listArchives() }

func (pickerScreen) message(m *Model, msg tea.Msg) (tea.Cmd, bool) {
	switch c := msg.(type) {
	case startChosen:
		return m.startConfirmed(c), true
	case queueChosen:
		return m.startQueue(), true
	}
	return m.pickerMessage(msg)
}

func (pickerScreen) setSize(*Model) {}
