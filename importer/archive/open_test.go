package archive

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO put where an archive was checked must neither hang the reader nor
// the checksum: both refuse it at once.
func TestFIFOIsRefusedWithoutHanging(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "export.tar")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan error, 2)
	go func() { done <- ReadFile(fifo, Limits{}, func(*Member) error { return nil }) }()
	go func() { _, err := Checksum(context.Background(), fifo, nil); done <- err }()
	for range 2 {
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("got %v, want a refusal naming a non-regular file", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("opening a FIFO hung")
		}
	}
}
