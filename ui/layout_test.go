package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"bbimport/model"
)

// Wrapping breaks at spaces only: a key, slug, path or hash is never split
// at its slash or dash, so that it reads and copies whole.
func TestWrapNeverSplitsAnIdentifier(t *testing.T) {
	words := []string{"ATLA/auth-service", `"09/e7b35d1c0a"`, "small-remainder-11.tar", "PULS/api-gateway#12", "/var/atlassian/application-data"}
	text := "Could not read " + strings.Join(words, " then ") + " at all"
	for w := 34; w <= 80; w++ {
		lines := wrapLines([]string{text}, w)
		for _, l := range lines {
			if ansi.StringWidth(l) > w {
				t.Fatalf("width %d: line %q is wider", w, l)
			}
		}
		joined := "\n" + strings.Join(lines, "\n") + "\n"
		for _, word := range words {
			if !strings.Contains(joined, word) {
				t.Fatalf("width %d: %q split:\n%s", w, word, strings.Join(lines, "\n"))
			}
		}
	}
	// Only a word wider than the line is cut, where it must be.
	if got := wrapLines([]string{"ab 0123456789"}, 4); strings.Join(got, "|") != "ab|0123|4567|89" {
		t.Fatalf("a long word: %q", got)
	}
}

// A value too long to sit beside its label goes under it, indented.
func TestFieldIndentsAValueUnderItsLabel(t *testing.T) {
	sha := strings.Repeat("d7a8fbb3", 8)
	got := field(newTheme(true, false), "SHA-256", sha, 70)
	if len(got) != 2 || strings.TrimSpace(got[0]) != "SHA-256" || got[1] != "  "+sha {
		t.Fatalf("field: %q", got)
	}
}

// The one-line help shows whole keys: what does not fit is left for ?,
// never cut inside a word.
func TestShortHelpKeepsWholeKeys(t *testing.T) {
	h := newHarness(t, 80, 24)
	startRunning(h)
	lines := strings.Split(h.screen(), "\n")
	last := strings.TrimRight(lines[len(lines)-1], " ")
	if !strings.HasSuffix(last, "filter by subject …") {
		t.Fatalf("the help line is %q", last)
	}
}

// The finished summary names every subject with problems whole, wrapped
// under its label, and leaves no blank rows the log could use.
func TestSummaryWrapsSubjectsWhole(t *testing.T) {
	subjects := []string{"PULS/api-gateway-service", "~MARGARET7/dotfiles-and-scripts"} // with the run's three: five named
	var msgs []model.Message
	for i, s := range subjects {
		msgs = append(msgs, message(80+i, model.SeverityWarn, s, "Activity kind SUGGESTION:ADDED is not known; kept as a comment"))
	}
	h := newHarness(t, 80, 24)
	startRunning(h)
	finish(h, model.StateCompleted, msgs...)
	top := strings.SplitN(h.screen(), "╭─▸Messages", 2)[0]
	for _, s := range subjects {
		if !strings.Contains(top, s+"\u00a01") {
			t.Fatalf("the summary does not name %s whole:\n%s", s, top)
		}
	}
	if strings.Contains(top, "│                                                                              │") {
		t.Fatalf("the summary keeps a blank row:\n%s", top)
	}
}

// At 80x24 the preview says what lies below its fold.
func TestPreviewSaysWhatIsBelow(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.b.existing["PRJ"] = true
	h.init()
	h.press("m")
	h.requireScreen("↓ 2 more lines below: tab, then ↓ scrolls")
	h.press("tab", "G")
	h.requireScreen("✓ 120 GiB free for a 700 MiB archive")
	h.requireNotScreen("more lines below")
}

// At 200 columns the jobs list gives the archive what its names need, and
// the counts their room.
func TestJobsListColumnsAt200(t *testing.T) {
	h := newHarness(t, 200, 60)
	withHistory(h)
	h.press("h")
	for _, l := range strings.Split(h.screen(), "\n") {
		if strings.Contains(l, "Bitbucket_export_422.tar") && strings.Contains(l, "#12") {
			i := strings.Index(l, "Bitbucket_export_422.tar") + len("Bitbucket_export_422.tar")
			j := strings.Index(l, "Nov 25 16:58")
			if gap := j - i; gap > 12 {
				t.Fatalf("%d blank columns after the archive's name:\n%s", gap, l)
			}
			return
		}
	}
	t.Fatalf("no row of job 12:\n%s", h.screen())
}
