package importer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BBIMPORT_CPUPROFILE names the file a runner writes its CPU profile to;
// unset, it writes none.
func TestScaleCPUProfileIsWrittenWhenAsked(t *testing.T) {
	stop, err := startCPUProfile("")
	if err != nil {
		t.Fatal(err)
	}
	stop()

	p := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err = startCPUProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	fi, err := os.Stat(p)
	if err != nil || fi.Size() == 0 {
		t.Errorf("profile %s: %v, %v; want a non-empty file", p, fi, err)
	}

	_, err = startCPUProfile(filepath.Join(t.TempDir(), "missing", "cpu.pprof"))
	if err == nil || !strings.Contains(err.Error(), cpuProfileEnv) {
		t.Errorf("profile in a missing directory: %v; want an error naming %s", err, cpuProfileEnv)
	}
}
