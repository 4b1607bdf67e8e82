package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"bbimport/model"
	"bbimport/termsafe"
)

// The Verify pane: a finished job's archive compared with the target
// (model.Verifier), its totals and differences, and the remainder archive
// of what did not arrive. It lies over the job view or the jobs list it was
// opened from, which esc returns to.

// verifySpin is the pane's spinner while verify runs: its frames only; the
// root's timer (after) paces it, so that tests run it by hand.
var verifySpin = spinner.MiniDot

// verifyPane is one verify run and what it found.
type verifyPane struct {
	job    model.Job // the job verified (ID, Archive)
	back   screenID  // the screen it was opened from, which esc returns to
	gen    int       // a stale run's answers are dropped
	ctx    context.Context
	cancel context.CancelFunc // on leaving the pane: stops verify, a plan or a write under way
	frame  int

	report *model.VerifyReport // made safe to show; nil while verify runs or when it failed
	raw    model.VerifyReport  // as the verifier answered, for PlanRemainder
	err    error

	shown  []int    // indexes into report.Differences that pass the filter
	cells  [4]int   // the widest of each column of the differences, measured once
	lower  []string // each difference's line in lower case, for the filter
	cursor int      // index into shown

	filter    textinput.Model
	filtering bool

	busy string // "planning…", "writing…": the remainder under way
}

type (
	verifiedMsg struct {
		gen       int
		raw, safe model.VerifyReport
		lines     differenceLines
		err       error
	}
	verifyTickMsg    struct{ gen int }
	remainderPlanMsg struct {
		gen     int
		plan    model.RemainderPlan
		replace model.ReplacePlan // the partial copies that could go first
		base    string            // the name it is written to, without a number or .tar
		path    string            // where it will be written: a fresh name in the import directory
		err     error
	}
	remainderWrittenMsg struct {
		gen  int
		path string
		plan model.RemainderPlan
		err  error
		list archivesMsg // the import directory once written, which the picker shows
	}
)

// canVerify reports whether j may be verified here: the console has a
// Verifier and the job has ended.
func (m *Model) canVerify(j model.Job) bool {
	return m.opts.Verifier != nil && j.State.Finished() && !isExport(j)
}

// openVerify runs verify of j and shows the pane while it runs.
func (m *Model) openVerify(j model.Job) tea.Cmd {
	if m.opts.Verifier == nil || isExport(j) {
		return nil
	}
	if !j.State.Finished() {
		m.setNotice(fmt.Sprintf("Job %d has not ended: verify it once it has.", j.ID), false)
		return nil
	}
	m.closeVerify()
	back := m.screen
	m.verifyGen++
	ctx, cancel := context.WithCancel(m.ctx)
	f := textinput.New()
	f.Prompt = "/ "
	f.Placeholder = "filter the differences"
	f.SetStyles(m.theme.input())
	m.verify = &verifyPane{job: j, back: back, gen: m.verifyGen, ctx: ctx, cancel: cancel, filter: f}
	m.show(onVerify)
	v, gen, id := m.opts.Verifier, m.verifyGen, j.ID
	run := func() tea.Msg {
		r, err := v.Verify(ctx, id)
		safe := byHierarchy(safeReport(r))
		return verifiedMsg{gen, r, safe, measureDifferences(safe.Differences), safeErr(err)}
	}
	return tea.Batch(run, m.after(verifySpin.FPS, verifyTickMsg{gen}))
}

// closeVerify leaves the pane for the screen it was opened from, and stops
// a verify still running.
func (m *Model) closeVerify() {
	if m.verify != nil {
		m.verify.cancel()
		m.show(m.verify.back)
		m.verify = nil
	}
}

// verifyMessage applies the pane's background results.
func (m *Model) verifyMessage(msg tea.Msg) (tea.Cmd, bool) {
	v := m.verify
	switch msg := msg.(type) {
	case verifyTickMsg:
		if v != nil && msg.gen == v.gen && v.running() {
			v.frame++
			return m.after(verifySpin.FPS, verifyTickMsg{v.gen}), true
		}
		return nil, true
	case verifiedMsg:
		if v != nil && msg.gen == v.gen {
			if msg.err != nil {
				v.err = msg.err
			} else {
				v.raw, v.report = msg.raw, &msg.safe
				v.cells, v.lower = msg.lines.widest, msg.lines.lower
				v.refilter()
			}
		}
		return nil, true
	case remainderPlanMsg:
		if v != nil && msg.gen == v.gen {
			v.busy = ""
			if msg.err != nil {
				m.setNotice(fmt.Sprintf("Could not plan the remainder archive: %s.", sentence(msg.err)), true)
				return nil, true
			}
			m.confirmRemainder(msg.plan, msg.replace, msg.base, msg.path)
		}
		return nil, true
	case remainderWrittenMsg:
		if v != nil && msg.gen == v.gen {
			v.busy = ""
			if msg.err != nil {
				m.setNotice(fmt.Sprintf("Could not write the remainder archive: %s.", sentence(msg.err)), true)
				return nil, true
			}
			return m.remainderWritten(msg), true
		}
		return nil, true
	}
	return nil, false
}

func (v *verifyPane) running() bool { return v.report == nil && v.err == nil }

// refilter keeps the differences whose line holds the filter's text, in
// any case.
func (v *verifyPane) refilter() {
	needle := strings.ToLower(strings.TrimSpace(v.filter.Value()))
	v.shown = v.shown[:0]
	for i := range v.report.Differences {
		if needle == "" || strings.Contains(v.lower[i], needle) {
			v.shown = append(v.shown, i)
		}
	}
	v.cursor = max(0, min(v.cursor, len(v.shown)-1))
}

// verifyPrompt sends a key or a paste to the filter, which narrows the
// list as it is typed: enter keeps it, esc clears it.
func (m *Model) verifyPrompt(msg tea.Msg) tea.Cmd {
	v := m.verify
	return m.filterPrompt(msg, &v.filter, &v.filtering, func(changed bool) {
		if changed {
			// A new list: from its first line, not from where the old one was.
			v.cursor = 0
		}
		v.refilter()
	})
}

func (m *Model) verifyKey(msg tea.KeyPressMsg) tea.Cmd {
	v := m.verify
	k := m.keys
	switch {
	case key.Matches(msg, k.Back) && v.filter.Value() != "":
		v.filter.SetValue("")
		v.refilter()
		return nil
	case key.Matches(msg, k.Back):
		m.closeVerify()
		return nil
	}
	if v.report == nil {
		return nil
	}
	switch {
	case key.Matches(msg, k.Filter):
		v.filtering = true
		return v.filter.Focus()
	case key.Matches(msg, k.Remainder):
		return m.planRemainder()
	}
	v.cursor = scroll(msg, k, v.cursor, len(v.shown)-1, m.verifyRows())
	return nil
}

// planRemainder asks what a remainder archive would hold, and picks the
// name it would be written to, before asking.
func (m *Model) planRemainder() tea.Cmd {
	v := m.verify
	switch {
	case v.report.Complete():
		m.setNotice("Everything in the archive is on the target: there is no remainder to write.", false)
		return nil
	case !v.report.Lacking():
		m.setNotice("Nothing is missing, only changed on the target since the import: a remainder archive would not bring it back. Check the changes listed.", false)
		return nil
	case v.busy != "":
		return nil
	}
	v.busy = "planning the remainder archive…"
	ver, a, ctx, gen, report := m.opts.Verifier, m.opts.Archives, v.ctx, v.gen, v.raw
	base := remainderBase(v.job, report)
	return func() tea.Msg {
		plan, err := ver.PlanRemainder(ctx, report)
		if err != nil {
			return remainderPlanMsg{gen: gen, err: safeErr(err)}
		}
		replace, err := ver.PlanReplace(ctx, report)
		if err != nil {
			return remainderPlanMsg{gen: gen, err: safeErr(err)}
		}
		path, err := freeArchivePath(ctx, a, base)
		return remainderPlanMsg{gen, plan, replace, base, path, safeErr(err)}
	}
}

// remainderBase is the remainder archive's name without its extension:
// the archive's, then the jobs verified, e.g. "small-remainder-11".
func remainderBase(j model.Job, r model.VerifyReport) string {
	name := filepath.Base(r.Archive)
	if r.Archive == "" {
		name = j.Archive
	}
	jobs := make([]string, 0, len(r.Jobs))
	for _, id := range r.Jobs {
		jobs = append(jobs, fmt.Sprint(id))
	}
	if len(jobs) == 0 {
		jobs = append(jobs, fmt.Sprint(j.ID))
	}
	return strings.TrimSuffix(name, ".tar") + "-remainder-" + strings.Join(jobs, "-")
}

// freeArchivePath is base.tar in the import directory, or base-2.tar,
// base-3.tar… when it is taken: a remainder never replaces a file.
func freeArchivePath(ctx context.Context, a Archives, base string) (string, error) {
	files, err := a.List(ctx)
	if err != nil {
		return "", err // it names the directory
	}
	taken := map[string]bool{}
	for _, f := range files {
		taken[f.Name] = true
	}
	for n := 1; ; n++ {
		name := base + ".tar"
		if n > 1 {
			name = fmt.Sprintf("%s-%d.tar", base, n)
		}
		path := filepath.Join(a.Dir(), name)
		if _, err := os.Lstat(path); taken[name] || !errors.Is(err, os.ErrNotExist) {
			continue
		}
		return path, nil
	}
}

// confirmRemainder says what importing the remainder will do, by
// Bitbucket's rules, before it is written.
func (m *Model) confirmRemainder(plan model.RemainderPlan, replace model.ReplacePlan, base, path string) {
	origins := map[string]string{}
	for _, h := range m.verify.report.Hierarchies {
		origins[h.ID] = h.Origin
	}
	named := func(ids []string) string {
		var names []string
		for i, id := range ids {
			if i == 6 {
				names = append(names, fmt.Sprintf("and %d more", len(ids)-i))
				break
			}
			if o := origins[id]; o != "" {
				id = o
			}
			names = append(names, id)
		}
		return strings.Join(names, ", ")
	}
	lines := []string{
		fmt.Sprintf("It holds %s, %s and %s of %s: %s.",
			model.Plural(len(plan.Hierarchies), "fork hierarchy", "fork hierarchies"),
			model.Plural(plan.Repositories, "repository", "repositories"),
			model.Plural(plan.PullRequests, "pull request", "pull requests"),
			termsafe.String(filepath.Base(plan.Archive)), termsafe.String(named(plan.Hierarchies))),
	}
	lines = append(lines, projectsSaid(plan.Projects)...)
	if len(plan.Incomplete) > 0 {
		lines = append(lines, "", fmt.Sprintf("Imported again whole, beside the partial copy on the target: %s (%s). "+
			"An import never reuses the fork parents that a canceled one left behind.",
			termsafe.String(named(plan.Incomplete)), model.Plural(len(plan.Incomplete), "incomplete hierarchy", "incomplete hierarchies")))
	}
	choices := []choice{{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "write it")), remainderChosen{plan: plan, base: base, path: path}}}
	if len(replace.Repositories) > 0 {
		gone := model.Plural(len(replace.Repositories), "repository", "repositories")
		if len(replace.Projects) > 0 {
			gone += "; " + model.Plural(len(replace.Projects), "project", "projects") + " left empty: " + termsafe.String(firstDozen(replace.Projects))
		}
		lines = append(lines, "", fmt.Sprintf("Or r: first delete the partial copies of %s, which nobody changed since the import (%s), "+
			"so that the remainder imports them under their original keys.", termsafe.String(named(replace.Hierarchies)), gone))
		choices = append(choices, choice{key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "replace the partial copies")),
			remainderChosen{plan: plan, replace: &replace, base: base, path: path}})
	}
	// The name on a line of its own, where a narrow dialog does not wrap
	// it at a dash.
	lines = append(lines, "", "Written to the import directory, then selected in the archives, as", "  "+termsafe.String(filepath.Base(path)))
	m.push(&dialog{
		title:   "Write the remainder archive?",
		lines:   lines,
		choices: append(choices, choice{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "back to the differences")), nil}),
	})
}

// remainderChosen is the remainder archive confirmed: written to a free
// name, path unless a file has taken it since; with replace, after the
// partial copies it names are deleted.
type remainderChosen struct {
	plan       model.RemainderPlan
	replace    *model.ReplacePlan
	base, path string
}

// projectsSaid says which projects importing the remainder creates, under
// which keys ("BEAC, PRJ → PRJ2": a key that stays is not repeated), and
// which personal ones it reuses: each a paragraph of its own, naming a
// dozen at most.
func projectsSaid(ps []model.RemainderProject) []string {
	var created, reused []string
	for _, p := range ps {
		k := termsafe.String(p.Key)
		switch {
		case p.Personal:
			reused = append(reused, k)
		case p.ImportAs != p.Key:
			created = append(created, k+" → "+termsafe.String(p.ImportAs))
		default:
			created = append(created, k)
		}
	}
	var lines []string
	if len(created) > 0 {
		lines = append(lines, "", "Importing it creates its projects under these keys (a key taken on the target gets the next free one): "+
			firstDozen(created)+".")
	}
	if len(reused) > 0 {
		lines = append(lines, "", "It reuses "+model.Plural(len(reused), "personal project", "personal projects")+": "+firstDozen(reused)+".")
	}
	return lines
}

// firstDozen joins the first twelve names, and says how many more there
// are.
func firstDozen(names []string) string {
	if len(names) > 12 {
		names = append(names[:12:12], fmt.Sprintf("and %d more", len(names)-12))
	}
	return strings.Join(names, ", ")
}

// writeRemainder writes the planned archive to a free name: the one shown,
// unless a file has taken it since.
func (m *Model) writeRemainder(c remainderChosen) tea.Cmd {
	v := m.verify
	if v == nil {
		return nil
	}
	v.busy = "writing " + termsafe.String(filepath.Base(c.path)) + "…"
	if c.replace != nil {
		v.busy = "deleting the partial copies, then " + v.busy
	}
	ver, a, ctx, gen, report, plan, base := m.opts.Verifier, m.opts.Archives, v.ctx, v.gen, v.raw, c.plan, c.base
	return func() tea.Msg {
		if c.replace != nil {
			// The keys the deletes freed are planned anew: the remainder
			// lands under them.
			err := ver.Replace(ctx, *c.replace, func(string) {})
			if err == nil {
				plan, err = ver.PlanRemainder(ctx, report)
			}
			if err != nil {
				return remainderWrittenMsg{gen: gen, err: safeErr(err)}
			}
			plan.Incomplete = slices.DeleteFunc(plan.Incomplete, func(id string) bool { return slices.Contains(c.replace.Hierarchies, id) })
		}
		path, err := freeArchivePath(ctx, a, base)
		if err == nil {
			err = ver.WriteRemainder(ctx, plan, path)
		}
		if err != nil {
			return remainderWrittenMsg{gen: gen, err: safeErr(err)}
		}
		// Listed here, so that the picker opens with the new archive
		// already selected, never first on another.
		files, err := a.List(ctx)
		return remainderWrittenMsg{gen, path, plan, nil, archivesMsg{files, err}}
	}
}

// remainderWritten goes to the picker with the new archive selected.
func (m *Model) remainderWritten(msg remainderWrittenMsg) tea.Cmd {
	m.closeVerify()
	m.show(onPicker)
	name := filepath.Base(msg.path)
	m.picker.selectName(name)
	m.setNotice(fmt.Sprintf("Wrote %s (%s, %s): enter imports it.", termsafe.String(name),
		model.Plural(msg.plan.Repositories, "repository", "repositories"),
		model.Plural(msg.plan.PullRequests, "pull request", "pull requests")), false)
	cmd, _ := m.pickerMessage(msg.list)
	return cmd
}

func (m *Model) verifyHelp() bindings {
	k := m.keys
	v := m.verify
	back := k.Back
	if v.running() {
		back.SetHelp("esc", "stop verify")
	}
	short := []key.Binding{back}
	actions := []key.Binding{back}
	if v.report != nil {
		filter := k.Filter
		filter.SetHelp("/", "filter")
		short = []key.Binding{filter}
		actions = []key.Binding{filter}
		if v.report.Lacking() {
			short = append(short, k.Remainder)
			actions = append(actions, k.Remainder)
		}
		short = append(short, k.Back)
		actions = append(actions, k.Back)
	}
	full := [][]key.Binding{actions, k.general()}
	if v.report != nil {
		full = append([][]key.Binding{k.moves()}, full...)
	}
	return bindings{short: append(short, k.Help, k.Quit), full: full}
}

// safeReport returns r with every text of the archive and the target made
// safe, where it enters the console.
func safeReport(r model.VerifyReport) model.VerifyReport {
	safe := termsafe.String
	r.Archive, r.Target = safe(r.Archive), safe(r.Target)
	ds := make([]model.VerifyDifference, len(r.Differences))
	for i, d := range r.Differences {
		d.Kind, d.Status, d.HierarchyID = safe(d.Kind), safe(d.Status), safe(d.HierarchyID)
		d.Repository, d.Target, d.Item, d.Field = safe(d.Repository), safe(d.Target), safe(d.Item), safe(d.Field)
		d.Expected, d.Found = safe(d.Expected), safe(d.Found)
		ds[i] = d
	}
	r.Differences = ds
	hs := make([]model.VerifiedHierarchy, len(r.Hierarchies))
	for i, h := range r.Hierarchies {
		h.ID, h.Origin = safe(h.ID), safe(h.Origin)
		hs[i] = h
	}
	r.Hierarchies = hs
	return r
}

// byHierarchy orders r's differences by fork hierarchy (by its origin's
// name), each under its hierarchy's own line, as a remainder archive takes
// them: verify's order, by repository, puts a personal fork after every
// project's repositories, far from its origin. Within a hierarchy verify's
// order stays.
func byHierarchy(r model.VerifyReport) model.VerifyReport {
	origin := map[string]string{}
	for _, h := range r.Hierarchies {
		origin[h.ID] = h.Origin
	}
	group := func(d model.VerifyDifference) string {
		if o, ok := origin[d.HierarchyID]; ok {
			return o
		}
		return d.Repository
	}
	slices.SortStableFunc(r.Differences, func(a, b model.VerifyDifference) int {
		if c := strings.Compare(group(a), group(b)); c != 0 {
			return c
		}
		return cmp.Compare(rankHierarchyFirst(a), rankHierarchyFirst(b))
	})
	return r
}

func rankHierarchyFirst(d model.VerifyDifference) int {
	if d.Kind == model.VerifyHierarchy {
		return 0
	}
	return 1
}

// sentence is err's text to end a sentence with: without its own full stop.
func sentence(err error) string { return strings.TrimSuffix(err.Error(), ".") }

// verifyScreen is the Verify pane.
type verifyScreen struct{}

func (verifyScreen) view(m *Model, w, h int) string { return m.verifyView(w, h) }

func (verifyScreen) key(m *Model, msg tea.KeyPressMsg) tea.Cmd { return m.verifyKey(msg) }

func (verifyScreen) help(m *Model) bindings {
	if m.verify.filtering {
		return m.keys.promptHelp()
	}
	return m.verifyHelp()
}

func (verifyScreen) capturing(m *Model) bool { return m.verify.filtering }

func (verifyScreen) prompt(m *Model, msg tea.Msg) tea.Cmd {
	if !m.verify.filtering {
		return nil
	}
	return m.verifyPrompt(msg)
}

func (verifyScreen) wheel(m *Model, msg tea.MouseWheelMsg) tea.Cmd {
	if v := m.verify; v.report != nil {
		v.cursor = min(max(v.cursor+wheelStep(msg), 0), max(len(v.shown)-1, 0))
	}
	return nil
}

// refresh keeps the screen under the pane as fresh as it was.
func (verifyScreen) refresh(m *Model) tea.Cmd { return m.screens[m.verify.back].refresh(m) }

func (verifyScreen) message(m *Model, msg tea.Msg) (tea.Cmd, bool) {
	if c, ok := msg.(remainderChosen); ok {
		return m.writeRemainder(c), true
	}
	return m.verifyMessage(msg)
}

func (verifyScreen) setSize(*Model) {}
