// Package logview is the console's message log pane: a job's messages, one
// per row, scrolled, filtered, searched, copied and saved, and smooth with
// a million of them.
//
// The console embeds a Model in its job view:
//
//	log := logview.New(logview.DefaultStyles(isDark))
//	log.SetJobID(job.ID)            // names the default save file
//	log.SetSize(width, height)      // the pane's cells, status line included
//	cmd := log.Append(newMessages)  // as they arrive, each message once
//	log, cmd = log.Update(msg)      // keys, mouse wheel, and every message
//	                                // the console does not handle itself:
//	                                // filter and save results come back as
//	                                // messages from the commands it returns
//	s := log.View()                 // exactly width x height cells
//
// While Capturing reports true a prompt has the keyboard: the console sends
// it every key but ctrl+c. While WantsEsc reports true, esc closes something
// in the pane (the detail pane or a prompt) and must be sent here rather
// than taken as "go back". ShortHelp and FullHelp list the keys of the
// pane's current mode.
//
// Keys: j/k, arrows, pgup/pgdn, ctrl+u/ctrl+d, g/G, home/end and the mouse
// wheel scroll; the newest message is followed until the admin scrolls up,
// and f or G follow again. 1, 2 and 3 show or hide INFO, WARN and ERROR; s
// filters by subject prefix (PRJ shows PRJ/repo#12); / filters by text in
// the message or its subject, literal and case-insensitive, ctrl+r in the
// prompt switching to a regular expression; x clears every filter. Filters
// hide what does not match, so every row shown is a match: n and N jump to
// the next and previous WARN or ERROR among the rows shown. enter shows the
// whole message, y copies its text (OSC 52), S or ctrl+s saves the rows
// shown as JSON (REST message values) or, for a path ending in .csv, CSV.
//
// A filter over the whole log runs in a command off the update loop; its
// result carries a generation number and is dropped if the admin has typed
// on since. Appended messages are filtered on their own, never the whole
// log again. View renders only the visible rows.
//
// logview.go holds the pane's Model and its state; update.go its Update
// and key handling; filtering, drawing, storage and saving live in files
// of their own.
package logview

import (
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"bbimport/model"
)

// prompt is the text prompt that has the keyboard, if any.
type prompt uint8

const (
	promptNone prompt = iota
	promptText
	promptSubject
	promptSave
)

// wheelRows is how far one notch of the mouse wheel scrolls.
const wheelRows = 3

// panes numbers Models, so that a result meant for the pane of an earlier
// job is not applied to a newer one.
var panes atomic.Int64

// Model is the message log pane. Its zero value is not usable: call New.
type Model struct {
	styles  Styles
	paints  [2]rowPaints // a plain row, the selected row
	keys    KeyMap
	pane    int64
	jobID   int64
	focused bool

	width, height int

	entries  []entry
	metas    []meta // metas[i] is of entries[i]
	subjects *subjectTable
	counts   Counts
	sigs     uint64 // the union of every text's signature

	// view holds the indexes of the entries shown, ascending. It accounts
	// for the first covered entries under the applied matcher; want is
	// what the admin last asked for, and differs from applied.filter while
	// scanning.
	view     []int32
	covered  int
	applied  *matcher
	want     filter
	gen      *atomic.Int64 // of the latest scan; shared with the scans running
	scanning bool
	// While a scan runs, view may hold only the rows its frame shows
	// (partial), found by the keystroke itself; done is then the last
	// complete result, which the next keystroke narrows from. short: that
	// search ran out of the frame's time, and the rows are not all there.
	partial, short bool
	done           result
	// wider holds earlier results whose filters each show all the applied
	// filter shows (the shorter prefixes of a text being typed, the
	// severities hidden one by one), so that backspace or a toggle undone
	// lands at once instead of scanning the whole log again.
	wider []result

	cursor int // index into view of the selected row
	top    int // index into view of the first row on screen
	follow bool

	detail    bool
	detailTop int

	prompt    prompt
	input     textinput.Model
	before    filter // the filter when a prompt opened; esc goes back to it
	promptErr string

	notice  string
	problem bool // the notice reports a failure
}

// setInputStyles gives the prompt the pane's styles.
func setInputStyles(in *textinput.Model, st Styles) {
	field := textinput.StyleState{Text: st.Text, Prompt: st.Prompt}
	// A steady cursor: no redraws twice a second over SSH.
	in.SetStyles(textinput.Styles{Focused: field, Blurred: field, Cursor: textinput.CursorStyle{Shape: tea.CursorBlock}})
}

// SetStyles changes the pane's styles, for a terminal whose light or dark
// background becomes known after the pane was made.
func (m *Model) SetStyles(st Styles) {
	m.styles = st
	m.paints = paintRows(st)
	setInputStyles(&m.input, st)
}

// New makes an empty, focused pane that follows the newest message.
func New(st Styles) Model {
	subjects := newSubjectTable()
	applied, _ := newMatcher(filter{}, subjects.names) // the zero filter always compiles
	in := textinput.New()
	in.Prompt = ""
	setInputStyles(&in, st)
	return Model{
		styles:   st,
		paints:   paintRows(st),
		keys:     DefaultKeyMap(),
		pane:     panes.Add(1),
		focused:  true,
		subjects: subjects,
		applied:  applied,
		gen:      new(atomic.Int64),
		follow:   true,
		input:    in,
	}
}

// SetJobID names the job whose log this is, for the default save path.
func (m *Model) SetJobID(id int64) { m.jobID = id }

// SetSize sets the cells the pane draws, status line included.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = max(0, w), max(0, h)
	m.scroll()
}

// Focus gives the pane the keyboard and mouse; the selected row shows.
func (m *Model) Focus() { m.focused = true }

// Blur takes them away; Update then ignores keys and the wheel.
func (m *Model) Blur() { m.focused = false }

// Focused reports whether the pane has the keyboard.
func (m Model) Focused() bool { return m.focused }

// Capturing reports whether a text prompt (filter, subject, save path) has
// the keyboard: the console must send it every key but ctrl+c.
func (m Model) Capturing() bool { return m.prompt != promptNone }

// WantsEsc reports whether esc closes something in the pane (a prompt or
// the detail pane) rather than meaning "go back" to the console.
func (m Model) WantsEsc() bool { return m.prompt != promptNone || m.detail }

// Counts is the number of messages per severity, over all messages.
func (m Model) Counts() Counts { return m.counts }

// Selected is the message under the cursor, if any row is shown.
func (m Model) Selected() (model.Message, bool) {
	if len(m.view) == 0 {
		return model.Message{}, false
	}
	return m.snapshot().message(m.view[m.cursor]), true
}

func (m Model) snapshot() logSnapshot {
	return logSnapshot{entries: m.entries, metas: m.metas, names: m.subjects.names}
}

// Append stores messages, in the order given; the caller sends each message
// once. Only the new messages are filtered. A large batch under a text
// filter is filtered off the update loop by the command returned.
func (m *Model) Append(msgs []model.Message) tea.Cmd {
	first := len(m.entries)
	// The texts and ids of a batch are copied into one string, in order:
	// a scan then reads memory front to back instead of chasing a pointer
	// per message, and each message costs no allocation of its own.
	size := 0
	for _, msg := range msgs {
		size += len(msg.Text) + len(msg.ID)
	}
	var pack strings.Builder
	pack.Grow(size)
	for _, msg := range msgs {
		pack.WriteString(msg.Text)
		pack.WriteString(msg.ID)
	}
	packed, at := pack.String(), 0
	take := func(n int) string {
		at += n
		return packed[at-n : at]
	}
	m.entries = slices.Grow(m.entries, len(msgs))
	m.metas = slices.Grow(m.metas, len(msgs))
	for _, msg := range msgs {
		sev := severityOf(msg.Severity)
		m.entries = append(m.entries, entry{
			text:    take(len(msg.Text)),
			id:      take(len(msg.ID)),
			created: msg.CreatedDate,
		})
		sig := signature(msg.Text)
		m.sigs |= sig
		m.metas = append(m.metas, meta{
			sig:     sig,
			subject: m.subjects.intern(msg.Subject),
			sev:     sev,
		})
		m.counts.add(sev)
	}
	if m.scanning {
		return nil // the scan's result is topped up with these when it lands
	}
	if m.applied.text != "" && len(msgs) >= parallelFrom {
		return m.refilter()
	}
	m.applied.extend(m.subjects.names)
	added, _ := m.applied.scan(m.entries, m.metas, first, nil, nil)
	m.view = append(m.view, added...)
	m.covered = len(m.entries)
	m.scroll()
	return nil
}

// result is the view of a matcher over the first covered entries.
type result struct {
	matcher *matcher
	view    []int32
	covered int
}

// scannedMsg is the result of a filter run off the update loop.
type scannedMsg struct {
	pane, gen int64
	result
}

// inlineScan is the number of candidates a keystroke scans whole itself:
// a few milliseconds even for a regular expression.
const inlineScan = 1 << 12

// refilter applies m.want. The keystroke finds the rows its frame shows,
// searching out from the selected row, within frameBudget; the rest of the
// scan runs in the command returned, and its result carries a generation
// number. Typing one more letter of a literal filter only scans the rows
// shown; anything else scans the whole log.
func (m *Model) refilter() tea.Cmd {
	mt, err := newMatcher(m.want, nil)
	if err != nil {
		m.promptErr = err.Error()
		return nil
	}
	m.promptErr = ""
	pane, latest := m.pane, m.gen
	gen := latest.Add(1)
	for _, r := range m.wider {
		// Messages that arrived since are filtered in Update, as Append does.
		if r.matcher.filter == m.want && len(m.entries)-r.covered < parallelFrom {
			r.view = slices.Clip(r.view) // appending must not write into the room another view may use
			*m = m.landScan(scannedMsg{pane: pane, gen: gen, result: r})
			return nil
		}
	}
	stale := func() bool { return latest.Load() != gen }
	entries, metas := m.entries, m.metas
	mt.extend(m.subjects.names) // before the command starts: only Update extends it
	done := m.complete()
	var base []int32
	from := 0
	if done.matcher.narrows(m.want) && done.covered > 0 {
		base, from = done.view, done.covered
		if base == nil {
			base = []int32{}
		}
	}
	scan := func() tea.Msg {
		view, ok := mt.scan(entries, metas, from, base, stale)
		if ok && base != nil {
			var added []int32
			added, ok = mt.scan(entries, metas, from, nil, stale)
			view = append(view, added...)
		}
		if !ok {
			return nil // a newer scan is running
		}
		return scannedMsg{pane: pane, gen: gen, result: result{matcher: mt, view: view, covered: len(entries)}}
	}
	c := candidates{base: base, from: from, n: len(entries)}
	if mt.matchesNone(m.sigs) {
		*m = m.landScan(scannedMsg{pane: pane, gen: gen, result: result{matcher: mt, view: []int32{}, covered: len(entries)}})
		return nil
	}
	if c.len() <= inlineScan {
		*m = m.landScan(scan().(scannedMsg)) // no newer scan can have started
		return nil
	}
	anchor := int32(len(entries))
	if !m.follow && len(m.view) > 0 {
		anchor = m.view[m.cursor]
	}
	rows := max(1, m.listRows())
	view, complete, cut := mt.around(entries, metas, c, anchor, rows, rows, time.Now().Add(frameBudget))
	if complete {
		*m = m.landScan(scannedMsg{pane: pane, gen: gen, result: result{matcher: mt, view: view, covered: len(entries)}})
		return nil
	}
	m.done = done
	m.place(mt, view, m.covered)
	m.scanning, m.partial, m.short = true, true, cut
	return scan
}

// complete is the last complete result: the one shown, or the one a
// partial view is being found from.
func (m Model) complete() result {
	if m.partial {
		return m.done
	}
	return result{m.applied, m.view, m.covered}
}

// place shows view under mt, keeping the selected message selected (or the
// nearest one after it) on the same row of the screen.
func (m *Model) place(mt *matcher, view []int32, covered int) {
	selected := int32(-1)
	if len(m.view) > 0 {
		selected = m.view[m.cursor]
	}
	row := m.cursor - m.top
	m.applied, m.view, m.covered = mt, view, covered
	m.cursor = sort.Search(len(m.view), func(i int) bool { return m.view[i] >= selected })
	m.top = m.cursor - row
	m.scroll()
}

func (m Model) landScan(msg scannedMsg) Model {
	if msg.pane != m.pane || msg.gen != m.gen.Load() {
		return m // the admin has typed on since: a newer scan is coming
	}
	var wider []result
	for _, r := range [][]result{m.wider, {m.complete()}} {
		for _, r := range r {
			if r.matcher.narrows(msg.matcher.filter) && r.matcher.filter != msg.matcher.filter {
				wider = append(wider, r)
			}
		}
	}
	m.wider = wider
	msg.matcher.extend(m.subjects.names)
	added, _ := msg.matcher.scan(m.entries, m.metas, msg.covered, nil, nil)
	m.place(msg.matcher, append(msg.view, added...), len(m.entries))
	m.scanning, m.partial, m.short, m.done = false, false, false, result{}
	return m
}

// scroll keeps the cursor on a row and on screen, at the newest row while
// following.
func (m *Model) scroll() {
	last := len(m.view) - 1
	if m.follow {
		m.cursor = last
	}
	m.cursor = max(0, min(m.cursor, last))
	rows := max(1, m.listRows())
	if m.cursor < m.top {
		m.top = m.cursor
	}
	if m.cursor >= m.top+rows {
		m.top = m.cursor - rows + 1
	}
	m.top = max(0, min(m.top, len(m.view)-rows))
}

// move moves the cursor; leaving the newest row stops following.
func (m *Model) move(rows int) {
	m.cursor = max(0, min(m.cursor+rows, len(m.view)-1))
	if m.cursor < len(m.view)-1 {
		m.follow = false
	}
	m.scroll()
}
