package cli

import (
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
		want := "bbimport: job 7: no such job in instance home " + home + "; " + bin + " --home " + home + " jobs lists the jobs there\n"
		if code != exitNotStarted || errOut != want {
			t.Errorf("%v: exit %d, stderr %q, want %q", args, code, errOut, want)
		}
	}
}
