package ui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
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
	previewOf      string // the path previewTop belongs to: another archive starts at the top

	filter    textinput.Model
	filtering bool
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
	source      string // the checksum pasted from the source side
}

// preflight is what the import will run into on the target.
type preflight struct {
	renames  []rename
	checkErr error
	free     int64
	freeErr  error
}

// rename is a project key that exists on the target: the importer will give
// the archive's project the next free key (KEY -> KEY1, KEY2, ...).
type rename struct{ key, likely string }

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
		return m.checkPreflight(f.Path, in.stamp, *in.summary)
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

// checkPreflight asks the target which of the archive's project keys are
// taken, and how much disk is free.
func (m *Model) checkPreflight(path, stamp string, sum model.ArchiveSummary) tea.Cmd {
	b, a, ctx := m.opts.Backend, m.opts.Archives, m.ctx
	return func() tea.Msg {
		return preflightMsg{path, stamp, runPreflight(ctx, b, a, sum)}
	}
}

func runPreflight(ctx context.Context, b model.Backend, a Archives, sum model.ArchiveSummary) preflight {
	var pf preflight
	for _, proj := range sum.Projects {
		if strings.HasPrefix(proj.Key, "~") {
			continue // personal projects are merged, their repositories renamed
		}
		r, taken, err := likelyRename(ctx, b, proj.Key)
		if err != nil {
			pf.checkErr = err
			break
		}
		if taken {
			pf.renames = append(pf.renames, r)
		}
	}
	pf.free, pf.freeErr = a.FreeBytes(ctx)
	return pf
}

// likelyRename follows the importer's rule (model.ProjectKeys): the key
// made valid, then KEY1, KEY2, ... while taken.
func likelyRename(ctx context.Context, b model.Backend, k string) (rename, bool, error) {
	likely, err := model.ProjectKeys.Free(k, func(cand string) (bool, error) {
		taken, err := b.ProjectExists(ctx, cand)
		return taken, wrapCheck(cand, err)
	})
	if err != nil || likely == model.ProjectKeys.Valid(k) {
		return rename{}, false, err
	}
	return rename{k, likely}, true, nil
}

func wrapCheck(k string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("check whether project %s exists on the target: %w", k, err)
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
			}
		}
		p.stopSum = nil
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
				if ok {
					p.infoFor(f).source = normalizeSum(p.compare.Value())
				}
				p.comparing = false
				p.compare.Blur()
				return nil
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
		if m.job != nil {
			m.onJob = true
		}
		return nil
	case key.Matches(msg, k.History):
		return m.openHistory()
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
		}
		return nil
	}
	f, ok := p.selected()
	if !ok {
		return nil
	}
	in := p.infoFor(f)
	switch {
	case key.Matches(msg, k.Start):
		return m.confirmStart(f, in)
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

// topOf is the preview's first line for f: whatever way another archive
// got selected (keys, wheel, filter, a refreshed list), its preview starts
// at the top.
func (p *picker) topOf(f model.ArchiveFile) int {
	if p.previewOf != f.Path {
		return 0
	}
	return p.previewTop
}

func (p *picker) scrollPreview(f model.ArchiveFile, top int) {
	p.previewOf, p.previewTop = f.Path, top
}

func (m *Model) previewPage() int {
	_, _, _, ph := m.pickerLayout()
	return ph - 2
}

// previewLast is the last first line of f's preview that still fills it.
func (m *Model) previewLast(f model.ArchiveFile) int {
	_, _, pw, _ := m.pickerLayout()
	return max(0, len(m.previewLines(f, pw-2))-m.previewPage())
}

func (m *Model) pickerWheel(msg tea.MouseWheelMsg) tea.Cmd {
	p := &m.picker
	switch msg.Button {
	case tea.MouseWheelUp:
		if f, ok := p.selected(); ok && p.previewFocused {
			p.scrollPreview(f, max(0, p.topOf(f)-3))
		} else if p.cursor > 0 {
			p.cursor--
		}
	case tea.MouseWheelDown:
		if f, ok := p.selected(); ok && p.previewFocused {
			p.scrollPreview(f, min(p.topOf(f)+3, m.previewLast(f)))
		} else if p.cursor < len(p.shown)-1 {
			p.cursor++
		}
	}
	return m.fillPreview()
}

// scroll moves a position with the movement keys within [0, last].
func scroll(msg tea.KeyPressMsg, k keyMap, pos, last, page int) int {
	switch {
	case key.Matches(msg, k.Up):
		pos--
	case key.Matches(msg, k.Down):
		pos++
	case key.Matches(msg, k.PageUp):
		pos -= max(page, 1)
	case key.Matches(msg, k.PageDown):
		pos += max(page, 1)
	case key.Matches(msg, k.Top):
		pos = 0
	case key.Matches(msg, k.Bottom):
		pos = last
	}
	return max(0, min(pos, last))
}

// confirmStart shows what is about to happen and asks.
func (m *Model) confirmStart(f model.ArchiveFile, in *archiveInfo) tea.Cmd {
	if f.Growing {
		m.setNotice(shownName(f)+" is still being copied (its size changes); start it once the copy is done.", true)
		return nil
	}
	if m.jobRunning() {
		m.setNotice(fmt.Sprintf("Job %d is still running; one import at a time. Press w to watch it.", m.job.id), true)
		return nil
	}
	if m.refuseStart(f, in) {
		return nil
	}
	// The pre-flight checks are redone now, and the dialog shows them as
	// they land: another import may have taken a key since.
	in.preflight = nil
	cmd := m.fillPreview()
	body := func(m *Model, w int) []string {
		t := m.theme
		lines := field(t, "Archive", shownName(f)+" · "+humanize.IBytes(uint64(f.Size))+" · modified "+f.ModTime.Format("2006-01-02 15:04"), w)
		lines = append(lines, field(t, "Into", m.targetName(), w)...)
		lines = append(lines, checksumLines(t, in, w)...)
		lines = append(lines, "")
		lines = append(lines, preflightLines(t, f, in)...)
		return append(lines, "", "The import cannot be undone, but it can be canceled at its next checkpoint.")
	}
	back := choice{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "back to the archives")), nil}
	start := choice{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "start the import")), func(m *Model) tea.Cmd {
		if m.refuseStart(f, in) { // the inspection may have failed while the dialog was open
			return nil
		}
		return m.start(f)
	}}
	if mm, ok := in.mismatch(); ok {
		// A differing checksum means a damaged or different copy: starting
		// takes a key that is not pressed by habit, and is recorded.
		start = choice{key.NewBinding(key.WithKeys("O"), key.WithHelp("O", "start despite the mismatch (noted in the job's log)")), func(m *Model) tea.Cmd {
			if m.refuseStart(f, in) {
				return nil
			}
			m.startWarning = fmt.Sprintf("Started despite a checksum mismatch: expected %s %s (pasted from the source), got %s", mm.kind, mm.expected, mm.got)
			return m.start(f)
		}}
	}
	m.dialog = &dialog{title: "Start the import?", body: body, choices: []choice{start, back}}
	return cmd
}

// refuseStart explains, in a dialog, why f cannot be imported: the console
// does not start a job that can only end ABORTED.
func (m *Model) refuseStart(f model.ArchiveFile, in *archiveInfo) bool {
	var lines []string
	switch {
	case f.Unusable != "":
		lines = []string{shownName(f) + " is " + termsafe.String(f.Unusable) + "."}
	case in.summaryErr != nil:
		lines = []string{
			shownName(f) + " cannot be read as an export archive: " + in.summaryErr.Error() + ".",
			"",
			"Copy the archive again from the source (the whole .tar, and compare checksums: m here, p to paste the source's), then pick it again.",
		}
	default:
		return false
	}
	m.dialog = &dialog{
		title: "This archive cannot be imported",
		lines: lines,
		choices: []choice{
			{key.NewBinding(key.WithKeys("enter", "esc"), key.WithHelp("enter/esc", "back to the archives")), nil},
		},
	}
	return true
}

// mismatch is a checksum pasted from the source that differs from the
// archive's.
type mismatch struct{ kind, expected, got string }

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

// checksumLines is the checksum's state in w cells; a hash is never split
// across lines, so that it can be copied.
func checksumLines(t Theme, in *archiveInfo, w int) []string {
	check := func(s string) []string { return field(t, "Checksum", s, w) }
	switch {
	case in.summing:
		frac := 0.0
		if in.total > 0 {
			frac = float64(in.done) / float64(in.total)
		}
		return check(fmt.Sprintf("computing %3.0f%% ", frac*100) + bar(t, frac, 20))
	case in.sumErr != nil && errors.Is(in.sumErr, context.Canceled):
		return check("stopped; press m to compute it again")
	case in.sumErr != nil:
		return check(t.Problem.Render("could not be computed: " + in.sumErr.Error()))
	case in.sums == nil:
		return check(t.Dim.Render("not computed (m computes MD5 and SHA-256)"))
	}
	var verdict string
	switch in.source {
	case "":
		verdict = t.Dim.Render("not compared with the source (p pastes the source's checksum)")
	case in.sums.MD5:
		verdict = t.Good.Render("✓ MD5 matches the source")
	case in.sums.SHA256:
		verdict = t.Good.Render("✓ SHA-256 matches the source")
	default:
		verdict = t.Bad.Render("✗ differs from the source's " + in.source + ": copy the archive again")
	}
	lines := check(verdict)
	lines = append(lines, field(t, "MD5", in.sums.MD5, w)...)
	return append(lines, field(t, "SHA-256", in.sums.SHA256, w)...)
}

func preflightLines(t Theme, f model.ArchiveFile, in *archiveInfo) []string {
	head := t.Title.Render("Pre-flight")
	switch {
	case in.summaryErr != nil:
		return []string{head, t.Problem.Render("✗ the archive could not be read: " + in.summaryErr.Error())}
	case in.summary == nil || in.preflight == nil:
		return []string{head, t.Dim.Render("checking…")}
	}
	pf := in.preflight
	lines := []string{head}
	switch {
	case pf.checkErr != nil:
		lines = append(lines, t.Problem.Render("✗ "+pf.checkErr.Error()))
	case len(pf.renames) == 0:
		lines = append(lines, t.Good.Render("✓")+" no project key of the archive is taken on the target")
	default:
		for _, r := range pf.renames {
			lines = append(lines, t.Caution.Render("!")+fmt.Sprintf(" project %s exists: it will likely be imported as %s", r.key, r.likely))
		}
	}
	switch {
	case pf.freeErr != nil:
		lines = append(lines, t.Problem.Render("✗ free disk space unknown: "+pf.freeErr.Error()))
	case pf.free < f.Size:
		lines = append(lines, t.Bad.Render("✗")+fmt.Sprintf(" only %s free for a %s archive: free some space first", humanize.IBytes(uint64(pf.free)), humanize.IBytes(uint64(f.Size))))
	case pf.free < 2*f.Size:
		lines = append(lines, t.Caution.Render("!")+fmt.Sprintf(" %s free for a %s archive: tight, the repositories take about as much again", humanize.IBytes(uint64(pf.free)), humanize.IBytes(uint64(f.Size))))
	default:
		lines = append(lines, t.Good.Render("✓")+fmt.Sprintf(" %s free for a %s archive", humanize.IBytes(uint64(pf.free)), humanize.IBytes(uint64(f.Size))))
	}
	return lines
}

// sideBySideFrom is the width from which the list and the preview sit
// side by side; below it the preview goes under the list, full width, so
// that names and checksums are not cut at 80 columns.
const sideBySideFrom = 120

// labelW is the width of the field names in the preview and the dialogs.
const labelW = 14

// hashW is the width of a SHA-256 in hex: the preview is never narrower,
// so that the hash is never split.
const hashW = 64

// pickerLayout sizes the two panes in a w x h body.
func pickerLayout(w, h, rows int, filtered bool) (listW, listH, prevW, prevH int) {
	if w >= sideBySideFrom {
		prevW = max(w-w*11/20, hashW+2)
		return w - prevW, h, prevW, h
	}
	if rows == 0 {
		rows = 4 // room to say there is nothing, and what to do
	}
	listH = rows + 2
	if filtered {
		listH++
	}
	listH = min(max(listH, 5), h/2)
	return w, listH, w, h - listH
}

func (m Model) pickerLayout() (listW, listH, prevW, prevH int) {
	p := m.picker
	return pickerLayout(m.width, m.bodyHeight(), len(p.shown), p.filtering || p.filter.Value() != "")
}

// pickerView draws the archive list and the preview.
func (m Model) pickerView() string {
	lw, lh, pw, ph := m.pickerLayout()
	list, prev := m.archiveList(lw, lh), m.preview(pw, ph)
	if lh == ph {
		return sideBySide(list, prev)
	}
	return list + "\n" + prev
}

func (m Model) archiveList(w, h int) string {
	p := m.picker
	t := m.theme
	inner := w - 2
	var lines []string
	if p.filtering || p.filter.Value() != "" {
		fi := p.filter
		fi.SetWidth(inner - 4)
		lines = append(lines, fi.View())
	}
	rows := h - 2 - len(lines)
	switch {
	case !p.loaded:
		lines = append(lines, t.Dim.Render("reading the import directory…"))
	case p.listErr != nil:
		lines = append(lines, wrapLines([]string{t.Problem.Render(p.listErr.Error())}, inner)...)
	case len(p.files) == 0:
		lines = append(lines, wrapLines([]string{
			"No archives yet.",
			"",
			"Copy an export archive (.tar) into " + m.opts.Archives.Dir() + "; this list refreshes every 2 seconds.",
		}, inner)...)
	case len(p.shown) == 0:
		lines = append(lines, t.Dim.Render("no archive name contains "+fmt.Sprintf("%q", p.filter.Value())))
	default:
		top := max(0, p.cursor-rows+1) // the cursor stays in sight
		for i := top; i < len(p.shown) && i < top+rows; i++ {
			lines = append(lines, m.archiveRow(p.files[p.shown[i]], i == p.cursor, inner))
		}
	}
	title := fmt.Sprintf("Archives (%d)", len(p.files))
	if len(p.shown) != len(p.files) {
		title = fmt.Sprintf("Archives (%d of %d)", len(p.shown), len(p.files))
	}
	return box(t, title, lines, w, h, !p.previewFocused)
}

// archiveRow is "▸ name   size   modified", the date replaced by
// "copying…" while the file still grows.
func (m Model) archiveRow(f model.ArchiveFile, selected bool, w int) string {
	t := m.theme
	const sizeW, dateW = 10, 12
	nameW := max(w-2-sizeW-dateW-2, 8)
	date := f.ModTime.Format("Jan 02 15:04")
	if f.Growing {
		date = "copying…"
	}
	mark := "  "
	if selected {
		mark = "▸ "
	}
	name := shownName(f)
	row := mark + fit(name, nameW) + " " + fmt.Sprintf("%*s", sizeW, humanize.IBytes(uint64(f.Size))) + " " + fmt.Sprintf("%-*s", dateW, date)
	if f.Unusable != "" {
		// The reason replaces size and date: the preview says it whole.
		row = mark + fit(name, nameW) + " ✗ " + termsafe.String(f.Unusable)
	}
	row = fit(row, w)
	switch {
	case selected:
		return t.Selected.Render(row)
	case f.Growing:
		return t.Caution.Render(row)
	case f.Unusable != "":
		return t.Dim.Render(row)
	}
	return row
}

func (m Model) preview(w, h int) string {
	p := m.picker
	f, ok := p.selected()
	if !ok {
		return box(m.theme, "Preview", nil, w, h, p.previewFocused)
	}
	lines := m.previewLines(f, w-2)
	top := min(p.topOf(f), max(0, len(lines)-(h-2)))
	return box(m.theme, "Preview · "+shownName(f), lines[top:], w, h, p.previewFocused)
}

// previewLines is what the preview shows of f, wrapped to w cells.
func (m Model) previewLines(f model.ArchiveFile, w int) []string {
	p := m.picker
	t := m.theme
	in := p.info[f.Path]
	if in == nil || in.stamp != stampOf(f) {
		in = &archiveInfo{}
	}
	if f.Unusable != "" {
		return wrapLines([]string{t.Problem.Render("✗ cannot be imported: " + termsafe.String(f.Unusable) + ".")}, w)
	}
	lines := []string{t.Dim.Render(humanize.IBytes(uint64(f.Size)) + " · modified " + f.ModTime.Format("2006-01-02 15:04"))}
	switch {
	case f.Growing:
		lines = append(lines, "", t.Caution.Render("copying…")+" the file is still growing; it can be inspected and started once its size settles.")
	case in.summaryErr != nil:
		lines = append(lines, "", t.Problem.Render("✗ not a readable archive: "+in.summaryErr.Error()))
	case in.summary == nil:
		lines = append(lines, "", t.Dim.Render("inspecting…"))
	default:
		lines = append(lines, summaryLinesIn(t, *in.summary, w)...)
	}
	lines = append(lines, "")
	lines = append(lines, checksumLines(m.theme, in, w)...)
	if !f.Growing {
		lines = append(lines, "")
		lines = append(lines, preflightLines(m.theme, f, in)...)
	}
	lines = wrapLines(lines, w)
	if p.comparing {
		ci := p.compare
		ci.SetWidth(w - ansi.StringWidth(ci.Prompt) - 1)
		// The prompt goes first so that it is in sight whatever the scroll.
		lines = append([]string{ci.View(), ""}, lines...)
	}
	return lines
}

// summaryLines is what inspect tells of an archive, a line per fact, for
// the plain console, whose terminal wraps.
func summaryLines(t Theme, s model.ArchiveSummary) []string {
	return summaryLinesIn(t, s, math.MaxInt32)
}

// summaryLinesIn is what inspect tells of an archive in w cells.
func summaryLinesIn(t Theme, s model.ArchiveSummary, w int) []string {
	keys := make([]string, len(s.Projects))
	for i, pr := range s.Projects {
		keys[i] = pr.Key
	}
	var lines []string
	for _, f := range [][2]string{
		{"Source", fmt.Sprintf("%s (%s %s)", s.Instance.InstanceName, s.Instance.Product, s.Instance.Version)},
		{"Projects", fmt.Sprintf("%d: %s", len(s.Projects), strings.Join(keys, ", "))},
		{"Hierarchies", fmt.Sprint(len(s.Hierarchies))},
		{"Repositories", fmt.Sprintf("%d (%s)", s.Repositories, plural(s.Forks, "fork", "forks"))},
		{"Pull requests", fmt.Sprintf("%d: %d open, %d merged, %d declined", s.PullRequests.Total, s.PullRequests.Open, s.PullRequests.Merged, s.PullRequests.Declined)},
		{"Git data", humanize.IBytes(uint64(s.GitBytes))},
	} {
		lines = append(lines, field(t, f[0], f[1], w)...)
	}
	for _, warn := range s.Warnings {
		lines = append(lines, t.Caution.Render("! ")+warn)
	}
	return lines
}
