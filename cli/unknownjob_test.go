package cli

import (
	"strings"
	"testing"
)

// An unknown job number says so and where to find the right one.
func TestUnknownJobSaysWhatToDo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bbimport: not with -short")
	}
	bin := buildBinary(t)
	home := t.TempDir()
	for _, args := range [][]string{{"status", "7"}, {"messages", "7"}, {"cancel", "7"}} {
		_, errOut, code := runBin(t, bin, append([]string{"--home", home}, args...)...)
		if code != exitNotStarted || !strings.Contains(errOut, "no such job: 'bbimport jobs' lists the jobs known here") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}
