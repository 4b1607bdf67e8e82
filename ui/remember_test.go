package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// The source checksum pasted for an archive is remembered between console
// runs, by the archive's SHA-256: computed again, it is compared at once.
func TestSourceChecksumIsRemembered(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, 120, 40)
	h.m.opts.StateDir = dir
	h.init()
	h.press("p")
	h.send(tea.PasteMsg{Content: "9E107D9D 372BB682 6BD81D35 42A419D6"}) // pasted before the computation
	h.press("enter", "m")
	h.requireScreen("✓ MD5 matches the source")
	data, err := os.ReadFile(filepath.Join(dir, "source-checksums.json"))
	if err != nil || !strings.Contains(string(data), `"d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592": {`) ||
		!strings.Contains(string(data), `"source": "9e107d9d372bb6826bd81d3542a419d6"`) {
		t.Fatalf("remembered %s, %v", data, err)
	}

	again := newHarness(t, 120, 40)
	again.m.opts.StateDir = dir
	again.init()
	again.requireScreen("Checksum      not computed")
	again.press("m")
	again.requireScreen("✓ MD5 matches the source (pasted Nov 25 17:00)")

	// Other bytes (a copy made again) are not compared with it.
	other := newHarness(t, 120, 40)
	other.m.opts.StateDir = dir
	other.a.sums.SHA256 = strings.Repeat("0", 64)
	other.init()
	other.press("m")
	other.requireScreen("not compared with the source")

	// Nothing is remembered without a state directory.
	none := newHarness(t, 120, 40)
	none.init()
	none.press("p")
	none.send(tea.PasteMsg{Content: "9e107d9d372bb6826bd81d3542a419d6"})
	none.press("enter", "m")
	none.requireScreen("✓ MD5 matches the source")
}
