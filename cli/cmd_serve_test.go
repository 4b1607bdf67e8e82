package cli

import (
	"os"
	"os/exec"
	"testing"
)

// TestCurlGuide runs Atlassian's import guide's curl commands against
// `bbimport serve` (scripts/curl-guide.sh checks every answer with jq).
func TestCurlGuide(t *testing.T) {
	if testing.Short() {
		t.Skip("generates archives and imports them")
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	cmd := exec.Command("bash", "../scripts/curl-guide.sh")
	cmd.Env = append(os.Environ(), "BBIMPORT="+buildBinary(t)) // the run's one build, not a second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/curl-guide.sh: %v\n%s", err, out)
	}
}
