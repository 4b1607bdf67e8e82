package cli

import (
	"os/exec"
	"testing"
)

// TestCurlGuide runs Atlassian's import guide's curl commands against
// `bbimport serve` (scripts/curl-guide.sh checks every answer with jq).
func TestCurlGuide(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bbimport, generates archives and imports them")
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	out, err := exec.Command("bash", "../scripts/curl-guide.sh").CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/curl-guide.sh: %v\n%s", err, out)
	}
}
