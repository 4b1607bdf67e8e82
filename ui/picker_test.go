package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"bbimport/model"
)

// An archive the preview could not read is refused with the reason, and no
// job is created (it could only end ABORTED).
func TestStartRefusesAnUnreadableArchive(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.a.files = append(h.a.files, model.ArchiveFile{Name: "truncated.tar", Path: "/srv/import/truncated.tar", Size: 10240, ModTime: t0.Add(-48 * time.Hour)})
	h.init()
	h.press("G", "enter")
	h.requireScreen("This archive cannot be imported", "truncated.tar cannot be imported", "copy it again")
	h.requireNotScreen("start the import")
	h.press("y")
	if len(h.b.started) != 0 {
		t.Fatalf("started %v", h.b.started)
	}
}

func TestStartRefusesAnUnusableEntry(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.a.files = append(h.a.files, model.ArchiveFile{Name: "x.tar", Path: "/srv/import/x.tar", ModTime: t0,
		Unusable: "a directory, not an archive file; an export archive is a single .tar file"})
	h.init()
	h.press("G")
	h.requireScreen("x.tar", "✗ cannot be imported: a directory, not an archive file")
	h.press("s", "y", "m")
	if len(h.b.started) != 0 {
		t.Fatalf("started %v", h.b.started)
	}
}

// A differing checksum takes the distinct key O, and the job's log shows
// both sums.
func TestStartDespiteMismatchIsRecorded(t *testing.T) {
	h := newHarness(t, 240, 40) // the log's row holds the whole line
	h.init()
	h.press("m", "p")
	h.send(tea.PasteMsg{Content: "0123456789ABCDEF0123456789ABCDEF"})
	h.press("enter", "enter", "y")
	if len(h.b.started) != 0 {
		t.Fatal("y started an import whose checksum differs from the source's")
	}
	h.requireScreen("O  start despite the mismatch")
	h.requireNotScreen("y/enter")
	h.press("O")
	if len(h.b.started) != 1 {
		t.Fatal("O did not start the import")
	}
	h.requireScreen("WARN  (job)", "Started despite a checksum mismatch: expected MD5 0123456789abcdef0123456789abcdef (pasted from the source), got 9e107d9d372bb6826bd81d3542a419d6")
}

// Whichever way another archive is selected, its preview starts at the top.
func TestPreviewStartsAtTheTopOfAnotherArchive(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.init()
	h.press("m", "tab", "G") // the hashes make the preview longer than its pane
	h.requireNotScreen("700 MiB · modified")
	h.press("tab", "M")
	h.send(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	h.send(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	h.requireScreen("1.5 MiB · modified 2026-11-24 15:00")
}

// ctrl+l clears and redraws the screen, from any view.
func TestCtrlLRedraws(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.init()
	_, cmd := h.m.Update(tea.KeyPressMsg{Code: 'l', Mod: tea.ModCtrl})
	if cmd == nil {
		t.Fatal("ctrl+l did nothing")
	}
	if got := cmd(); got != tea.ClearScreen() {
		t.Fatalf("ctrl+l sent %T, want a clear screen", got)
	}
}

// The status line wraps: the reason a checksum is refused, and what to do,
// reach the admin whole at the smallest size, and the frame still fits.
func TestStatusLineWrapsItsSentence(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		h := newHarness(t, size[0], size[1])
		h.init()
		h.press("j", "m")
		requireFrame(t, h.m.render(), size[0], size[1])
		want := "copy-in-progress.tar is still being copied; compute its checksum once the copy is done."
		if !strings.Contains(paneText(h.screen()), want) {
			t.Fatalf("%dx%d: the status line does not hold %q:\n%s", size[0], size[1], want, h.screen())
		}
		h.requireNotScreen("…\n")
	}
}

// With a remote backend the pre-flight does not present this machine's
// free disk as the target's.
func TestPreflightRemoteFreeDiskUnknown(t *testing.T) {
	for _, remote := range []bool{false, true} {
		h := newHarness(t, 200, 60)
		h.b.identity.Remote = remote
		h.init()
		if remote {
			h.requireScreen("free disk on the target: unknown (remote")
			h.requireNotScreen("free for")
		} else {
			h.requireScreen("free for a 700 MiB archive")
			h.requireNotScreen("free disk on the target")
		}
	}
}
