package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"bbimport/model"
)

// canceledReport is what verify finds after job 12 was canceled during
// PRJ/golden's hierarchy: OPS/tools never arrived, PRJ/golden's hierarchy
// arrived in part, and a ref and a pull request differ.
func canceledReport() model.VerifyReport {
	const (
		c1 = "8f2c1e9a7b3d4c5e6f708192a3b4c5d6e7f80912"
		c2 = "1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6"
	)
	miss, diff := model.VerifyMissing, model.VerifyDiffers
	return model.VerifyReport{
		Archive: "/srv/import/Bitbucket_export_422.tar", Jobs: []int64{12}, Target: "/srv/bbimport",
		Totals: model.VerifyTotals{
			Hierarchies:  model.VerifyCount{Expected: 5, Present: 3, Missing: 1, Differing: 1},
			Repositories: model.VerifyCount{Expected: 7, Present: 4, Missing: 3},
			Refs:         model.VerifyCount{Expected: 41, Present: 33, Missing: 7, Differing: 1},
			PullRequests: model.VerifyCount{Expected: 340, Present: 218, Missing: 121, Differing: 1},
		},
		Differences: []model.VerifyDifference{
			{Kind: model.VerifyHierarchy, Status: miss, HierarchyID: "h4", Repository: "OPS/tools"},
			{Kind: model.VerifyRepository, Status: miss, HierarchyID: "h4", Repository: "OPS/tools"},
			{Kind: model.VerifyRepository, Status: miss, HierarchyID: "h4", Repository: "OPS/deploy"},
			{Kind: model.VerifyHierarchy, Status: diff, HierarchyID: "h1", Repository: "PRJ/golden", Target: "PRJ1/golden",
				Field: model.VerifyIncomplete},
			{Kind: model.VerifyRepository, Status: miss, HierarchyID: "h1", Repository: "PRJ/api"},
			{Kind: model.VerifyRef, Status: diff, HierarchyID: "h1", Repository: "PRJ/golden", Target: "PRJ1/golden",
				Item: "refs/heads/main", Field: "commit", Expected: c1, Found: c2},
			{Kind: model.VerifyRef, Status: miss, HierarchyID: "h1", Repository: "PRJ/golden", Target: "PRJ1/golden",
				Item: "refs/tags/v2.0", Expected: c1},
			{Kind: model.VerifyPullRequest, Status: diff, HierarchyID: "h1", Repository: "PRJ/golden", Target: "PRJ1/golden",
				Item: "#12", Field: "state", Expected: "OPEN", Found: "DECLINED"},
			{Kind: model.VerifyPullRequest, Status: miss, HierarchyID: "h1", Repository: "PRJ/golden", Target: "PRJ1/golden",
				Item: "#14", Expected: "OPEN"},
		},
		Hierarchies: []model.VerifiedHierarchy{
			{ID: "h1", Origin: "PRJ/golden", Status: diff, Repositories: []model.VerifiedRepository{
				{Repository: "PRJ/golden", Target: "PRJ1/golden", Status: diff,
					Refs:         model.VerifyCount{Expected: 2, Present: 0, Missing: 1, Differing: 1},
					PullRequests: model.VerifyCount{Expected: 2, Missing: 1, Differing: 1}},
				{Repository: "PRJ/api", Status: miss},
			}},
			{ID: "h4", Origin: "OPS/tools", Status: miss, Repositories: []model.VerifiedRepository{
				{Repository: "OPS/tools", Status: miss}, {Repository: "OPS/deploy", Status: miss},
			}},
		},
	}
}

// changedReport is what verify finds when everything arrived but a branch
// moved on the target since: nothing a remainder archive could bring.
func changedReport() model.VerifyReport {
	r := completeReport()
	r.Differences = []model.VerifyDifference{{Kind: model.VerifyHierarchy, Status: model.VerifyDiffers, HierarchyID: "h1",
		Repository: "PRJ/golden", Field: model.VerifyChanged}, {Kind: model.VerifyRef, Status: model.VerifyDiffers, HierarchyID: "h1",
		Repository: "PRJ/golden", Item: "refs/heads/main", Field: "commit",
		Expected: "8f2c1e9a7b3d4c5e6f708192a3b4c5d6e7f80912", Found: "1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6"}}
	r.Hierarchies = []model.VerifiedHierarchy{{ID: "h1", Origin: "PRJ/golden", Status: model.VerifyDiffers,
		Repositories: []model.VerifiedRepository{{Repository: "PRJ/golden", Status: model.VerifyDiffers,
			Refs: model.VerifyCount{Expected: 1, Differing: 1}}}}}
	return r
}

func completeReport() model.VerifyReport {
	r := canceledReport()
	r.Differences = nil
	for _, c := range []*model.VerifyCount{&r.Totals.Hierarchies, &r.Totals.Repositories, &r.Totals.Refs, &r.Totals.PullRequests} {
		*c = model.VerifyCount{Expected: c.Expected, Present: c.Expected}
	}
	for i := range r.Hierarchies {
		h := &r.Hierarchies[i]
		h.Status = model.VerifyPresent
		for j := range h.Repositories {
			rp := &h.Repositories[j]
			rp.Status, rp.Target = model.VerifyPresent, rp.Repository
			rp.Refs = model.VerifyCount{Expected: rp.Refs.Expected, Present: rp.Refs.Expected}
			rp.PullRequests = model.VerifyCount{Expected: rp.PullRequests.Expected, Present: rp.PullRequests.Expected}
		}
	}
	return r
}

func remainderPlan() model.RemainderPlan {
	return model.RemainderPlan{
		Archive:     "/srv/import/Bitbucket_export_422.tar",
		Hierarchies: []string{"h1", "h4"}, Incomplete: []string{"h1"},
		Projects: []model.RemainderProject{{Key: "BEAC", ImportAs: "BEAC"}, {Key: "OPS", ImportAs: "OPS1"},
			{Key: "PRJ", ImportAs: "PRJ2"}, {Key: "~ALICE", ImportAs: "~ALICE", Personal: true}},
		Repositories: 5, PullRequests: 122,
	}
}

// withVerifier gives the console a Verifier answering report.
func withVerifier(h *harness, report model.VerifyReport) *fakeVerifier {
	v := &fakeVerifier{report: report, plan: remainderPlan(), archives: h.a}
	h.m.opts.Verifier = v
	return v
}

// canceledJob is job 12 of Bitbucket_export_422.tar, canceled, in its job
// view.
func canceledJob(h *harness) {
	startRunning(h)
	finish(h, model.StateCanceled, message(90, model.SeverityWarn, "",
		"Import canceled at the checkpoint before the next repository: 1 project(s), 3 repositories and 120 pull request(s) imported."))
}

var verifyScreens = []struct {
	name  string
	reach func(h *harness)
}{
	{"differences", func(h *harness) {
		withVerifier(h, canceledReport())
		canceledJob(h)
		h.press("v")
	}},
	{"running", func(h *harness) {
		withVerifier(h, canceledReport())
		canceledJob(h)
		// Opened, its command not run: verify is still under way.
		_ = h.m.openVerify(h.m.watchedJob())
	}},
	{"complete", func(h *harness) {
		withVerifier(h, completeReport())
		canceledJob(h)
		h.press("v")
	}},
	{"filter", func(h *harness) {
		withVerifier(h, canceledReport())
		canceledJob(h)
		h.press("v", "/", "g", "o", "l", "d")
	}},
	{"plan", func(h *harness) {
		withVerifier(h, canceledReport())
		canceledJob(h)
		h.press("v", "w")
	}},
	{"help", func(h *harness) {
		withVerifier(h, canceledReport())
		canceledJob(h)
		h.press("v", "?")
	}},
	{"archive-unknown", func(h *harness) {
		h.b.identity = model.Identity{Remote: true, Location: "https://bitbucket.example.com", Product: "Bitbucket", Version: "9.4.3", User: "admin", PartialJobs: true}
		v := withVerifier(h, canceledReport())
		v.err = fmt.Errorf("wrapped: %w", model.ErrArchiveUnknown)
		canceledJob(h)
		h.press("v")
	}},
	{"error", func(h *harness) {
		v := withVerifier(h, canceledReport())
		v.err = errors.New("read /srv/import/Bitbucket_export_422.tar: no such file or directory")
		canceledJob(h)
		h.press("v")
	}},
}

// TestGoldenVerify draws the Verify pane at the smallest size and a large
// one (go test ./ui -run GoldenVerify -update rewrites them).
func TestGoldenVerify(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		for _, sc := range verifyScreens {
			t.Run(fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				h := newHarness(t, size[0], size[1])
				sc.reach(h)
				requireFrame(t, h.m.render(), size[0], size[1])
				golden.RequireEqual(t, h.screen())
			})
		}
	}
}

func TestVerifyFrameAtEverySize(t *testing.T) {
	for _, sc := range verifyScreens {
		for _, size := range [][2]int{{80, 24}, {81, 25}, {99, 30}, {120, 34}, {160, 50}, {200, 60}} {
			t.Run(fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				h := newHarness(t, size[0], size[1])
				sc.reach(h)
				requireFrame(t, h.m.render(), size[0], size[1])
			})
		}
	}
}

func TestVerifyKeyOpensThePaneOfTheJob(t *testing.T) {
	h := newHarness(t, 80, 24)
	v := withVerifier(h, canceledReport())
	canceledJob(h)
	h.requireScreen("v verify on the target")
	h.press("v")
	h.requireScreen("Verify · job 12 · Bitbucket_export_422.tar", "refs/heads/main", "8f2c1e9a7b3d → 1d2e3f405162")
	for _, want := range []string{"Pull requests 340 218 121 1",
		"✗ 1 fork hierarchy missing, 1 incomplete: 9 differences listed below.",
		"PRJ/golden (PRJ1/g… hierarchy incomplete"} {
		if !strings.Contains(paneText(h.screen()), want) {
			t.Fatalf("the pane lacks %q:\n%s", want, h.screen())
		}
	}
	if len(v.verified) != 1 || len(v.verified[0]) != 1 || v.verified[0][0] != 12 {
		t.Fatalf("verified %v, want job 12", v.verified)
	}
	h.press("esc")
	h.requireScreen("Job 12 · Bitbucket_export_422.tar", "■ CANCELED")
	h.requireNotScreen("Verify ·")
}

func TestVerifyFromTheJobsList(t *testing.T) {
	h := newHarness(t, 80, 24)
	v := withVerifier(h, completeReport())
	withHistory(h)
	h.press("h")
	h.requireNotScreen("v verify") // job 12, highlighted, runs
	h.press("v")
	h.requireScreen("Job 12 has not ended: verify it once it has.")
	h.press("j")
	h.requireScreen("v verify")
	h.press("v")
	h.requireScreen("Verify · job 11 · small.tar", "✓ Everything in the archive is on the target.")
	h.requireNotScreen("w write")
	if len(v.verified) != 1 || v.verified[0][0] != 11 {
		t.Fatalf("verified %v, want job 11", v.verified)
	}
	h.press("w")
	if len(v.planned) != 0 {
		t.Fatal("a complete report planned a remainder")
	}
	h.press("esc")
	h.requireScreen("Jobs (3)")
}

func TestVerifyFilterNarrows(t *testing.T) {
	h := newHarness(t, 80, 24)
	withVerifier(h, canceledReport())
	canceledJob(h)
	h.press("v", "/", "o", "p", "s")
	h.requireScreen("Differences (3 of 9)", "OPS/tools", "OPS/deploy")
	h.requireNotScreen("PRJ/api", "refs/heads/main")
	h.press("q") // text in the prompt, not quit
	if h.quit {
		t.Fatal("q in the filter quit")
	}
	h.requireScreen("no difference contains \"opsq\"")
	h.press("esc")
	h.requireScreen("Differences (9)", "PRJ/api")
	h.press("/", "#", "enter")
	h.requireScreen("Differences (2 of 9)", "#12", "#14")
	h.press("esc") // clears the filter first
	h.requireScreen("Differences (9)", "Verify · job 12")
	h.press("esc")
	h.requireNotScreen("Verify ·")
}

// The differences are listed by fork hierarchy, each under its own line,
// as the remainder archive takes them: a personal fork sorts after every
// project's repository, yet shows with its origin's hierarchy.
func TestVerifyListsByHierarchy(t *testing.T) {
	r := canceledReport()
	r.Differences = append(r.Differences, model.VerifyDifference{Kind: model.VerifyRepository, Status: model.VerifyMissing,
		HierarchyID: "h4", Repository: "~ALICE/tools"})
	h := newHarness(t, 80, 24)
	withVerifier(h, r)
	canceledJob(h)
	h.press("v")
	var order []string
	for _, l := range strings.Split(h.screen(), "\n") {
		if f := strings.Fields(strings.Trim(l, "│▸ ")); len(f) >= 2 && strings.Contains(f[0], "/") {
			order = append(order, f[0]+" "+f[1])
		}
	}
	want := "OPS/tools hierarchy, OPS/tools repository, OPS/deploy repository, ~ALICE/tools repository, PRJ/golden (PRJ1/g…, PRJ/api repository"
	if got := strings.Join(order, ", "); !strings.HasPrefix(got, want) {
		t.Fatalf("listed %s\nwant it to begin %s", got, want)
	}
}

// A list longer than the pane says which of its lines show.
func TestVerifyLongListSaysWhichShow(t *testing.T) {
	r := canceledReport()
	for i := range 30 {
		r.Differences = append(r.Differences, model.VerifyDifference{Kind: model.VerifyPullRequest, Status: model.VerifyMissing,
			HierarchyID: "h1", Repository: "PRJ/golden", Item: fmt.Sprintf("#%d", 100+i)})
	}
	h := newHarness(t, 80, 24)
	withVerifier(h, r)
	canceledJob(h)
	h.press("v")
	h.requireScreen("Differences (39) · 1–10 ")
	h.press("G")
	h.requireScreen("Differences (39) · 30–39 ", "#129")
	h.press("/", "#", "1", "2")
	h.requireScreen("Differences (11 of 39) · 1–9 ")
	h.press("enter", "G")
	h.requireScreen("Differences (11 of 39) · 3–11 ", "#129")
}

func TestVerifyError(t *testing.T) {
	h := newHarness(t, 80, 24)
	v := withVerifier(h, canceledReport())
	v.err = errors.New("the target did not answer")
	canceledJob(h)
	h.press("v")
	if want := "Could not verify job 12: the target did not answer."; !strings.Contains(paneText(h.screen()), want) {
		t.Fatalf("the screen does not say %q:\n%s", want, h.screen())
	}
}

func TestWithoutVerifierNoKey(t *testing.T) {
	h := newHarness(t, 80, 24)
	canceledJob(h)
	h.press("?")
	h.requireNotScreen("verify")
	h.press("?", "v")
	h.requireNotScreen("Verify ·")
	h.requireScreen("■ CANCELED")
}

func TestRemainderIsPlannedWrittenAndSelected(t *testing.T) {
	h := newHarness(t, 80, 24)
	v := withVerifier(h, canceledReport())
	canceledJob(h)
	h.press("v", "w")
	h.requireScreen("Write the remainder archive?")
	for _, want := range []string{"(a key taken on the target gets the next free one): BEAC, OPS → OPS1, PRJ → PRJ2.",
		"It reuses 1 personal project: ~ALICE.",
		"Written to the import directory, then selected in the archives, as Bitbucket_export_422-remainder-12.tar"} {
		if !strings.Contains(paneText(h.screen()), want) {
			t.Fatalf("the dialog lacks %q:\n%s", want, h.screen())
		}
	}
	if len(v.planned) != 1 || len(v.planned[0].Differences) != 9 {
		t.Fatalf("planned %v", v.planned)
	}
	h.press("y")
	want := filepath.Join("/srv/import", "Bitbucket_export_422-remainder-12.tar")
	if got := v.writtenPaths(); len(got) != 1 || got[0] != want {
		t.Fatalf("wrote %v, want %s", got, want)
	}
	h.requireScreen("Archives (4)", "Wrote Bitbucket_export_422-remainder-12.tar")
	if got := h.selectedArchive(); got != "Bitbucket_export_422-remainder-12.tar" {
		t.Fatalf("selected %q", got)
	}
}

func TestNoRemainderForChangesOnly(t *testing.T) {
	h := newHarness(t, 80, 24)
	v := withVerifier(h, changedReport())
	canceledJob(h)
	h.press("v")
	h.requireScreen("refs/heads/main", "✗ 1 fork hierarchy changed:", "PRJ/golden  hierarchy")
	h.requireNotScreen("write remainder", "incomplete")
	h.press("w")
	h.requireScreen("Nothing is missing")
	if len(v.planned) != 0 || len(v.writtenPaths()) != 0 {
		t.Fatalf("planned %v, wrote %v: a report of changes only has no remainder", v.planned, v.writtenPaths())
	}
}

func TestRemainderNeverOverwrites(t *testing.T) {
	h := newHarness(t, 80, 24)
	v := withVerifier(h, canceledReport())
	canceledJob(h)
	for _, n := range []string{"Bitbucket_export_422-remainder-12.tar", "Bitbucket_export_422-remainder-12-2.tar"} {
		h.a.add(model.ArchiveFile{Name: n, Path: "/srv/import/" + n, Size: 10240, ModTime: t0.Add(-time.Hour)})
	}
	h.press("v", "w")
	h.requireScreen("Bitbucket_export_422-remainder-12-3.tar")
	h.press("n")
	h.requireScreen("Verify · job 12")
	if len(v.written) != 0 {
		t.Fatal("n wrote the remainder")
	}
	h.press("w", "enter")
	if got := v.writtenPaths(); len(got) != 1 || got[0] != "/srv/import/Bitbucket_export_422-remainder-12-3.tar" {
		t.Fatalf("wrote %v", got)
	}
}

// newVerifyFlow is newFlow with a Verifier.
func newVerifyFlow(t *testing.T, b *fakeBackend, a *fakeArchives, v *fakeVerifier) *teatest.TestModel {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := newModel(ctx, Options{Backend: b, Archives: a, Verifier: v, Now: func() time.Time { return t0 }, NoColor: true})
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
}

// While verify runs the pane says so; esc leaves it and ends verify's
// context.
func TestFlowVerifyRunsAndEscStopsIt(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	j := finishedJob(11, model.StateCanceled, "small.tar")
	b.set(j)
	b.known = []model.Job{j}
	v := &fakeVerifier{report: completeReport(), archives: a, gate: make(chan struct{}), stopped: make(chan error, 1)}
	tm := newVerifyFlow(t, b, a, v)
	waitScreen(t, tm, "acme-bitbucket")
	tm.Type("h")
	waitScreen(t, tm, "Jobs (1)")
	tm.Type("v")
	waitScreen(t, tm, "Comparing the archive of job 11")
	tm.Send(keyPress("esc"))
	if err := <-v.stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("verify ended with %v, want canceled", err)
	}
	waitScreen(t, tm, "Jobs (1)")
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// The whole way: v, the differences, w, the plan, y, and the picker with
// the remainder selected, ready to import.
func TestFlowVerifyWritesTheRemainder(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	j := finishedJob(12, model.StateCanceled, "Bitbucket_export_422.tar")
	b.set(j)
	b.known = []model.Job{j}
	v := &fakeVerifier{report: canceledReport(), plan: remainderPlan(), archives: a}
	tm := newVerifyFlow(t, b, a, v)
	waitScreen(t, tm, "acme-bitbucket")
	tm.Type("h")
	waitScreen(t, tm, "Jobs (1)")
	tm.Type("v")
	waitScreen(t, tm, "9 differences")
	tm.Type("w")
	waitScreen(t, tm, "Write the remainder archive?")
	tm.Type("y")
	// The picker opens with the list that holds the new archive: the frame
	// that says so already has it selected.
	waitScreen(t, tm, "Wrote Bitbucket_export_422-remainder-12.tar")
	tm.Type("q")
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if got := v.writtenPaths(); len(got) != 1 || filepath.Dir(got[0]) != a.Dir() {
		t.Fatalf("wrote %v, want one file in %s", got, a.Dir())
	}
	if f, ok := fm.picker.selected(); !ok || f.Name != "Bitbucket_export_422-remainder-12.tar" || fm.screen != onPicker {
		t.Fatalf("the picker shows %v selected (screen %v)", f.Name, fm.screen)
	}
}

// Names in a report and a plan come from the archive and the target: the
// pane and the plan show them inert, and the verifier gets them as they
// were.
func TestVerifyShowsHostileTextInert(t *testing.T) {
	h := newHarness(t, 80, 24)
	r := canceledReport()
	r.Differences[0].Repository = hostile + "/tools"
	r.Hierarchies[1].Origin = hostile + "/tools"
	v := withVerifier(h, r)
	v.plan.Projects[0].Key = hostile
	canceledJob(h)
	h.press("v")
	requireInert(t, h.m.render())
	h.requireScreen(`PRJ\x1b]0;x\x07`)
	h.press("w")
	requireInert(t, h.m.render())
	if got := v.planned[0].Differences[0].Repository; got != hostile+"/tools" {
		t.Fatalf("the verifier got %q, not the name as verify found it", got)
	}
}

// The w dialog offers to replace the partial copies first: r deletes them
// through the verifier, plans the remainder again (the freed keys) and
// writes it.
func TestRemainderReplacesPartialCopies(t *testing.T) {
	h := newHarness(t, 80, 40)
	v := withVerifier(h, canceledReport())
	v.replace = model.ReplacePlan{Hierarchies: []string{"h1"}, Repositories: []string{"PRJ/api-fork", "PRJ/api"}, Projects: []string{"PRJ"}}
	canceledJob(h)
	h.press("v", "w")
	h.requireScreen("Write the remainder archive?", "r replace the partial copies")
	if !strings.Contains(paneText(h.screen()), "Or r: first delete the partial copies of PRJ/golden, which nobody changed since the import (2 repositories; 1 project left empty: PRJ)") {
		t.Fatalf("the dialog does not say what r deletes:\n%s", h.screen())
	}
	h.press("r")
	h.requireScreen("Wrote Bitbucket_export_422-remainder-12.tar")
	v.mu.Lock()
	replaced, planned := v.replaced, len(v.planned)
	v.mu.Unlock()
	if len(replaced) != 1 || len(replaced[0].Repositories) != 2 || planned != 2 {
		t.Fatalf("replaced %v, planned %d times: want the partial copies deleted, then the remainder planned again", replaced, planned)
	}
}
