package client

import (
	"path/filepath"
	"sync"
	"testing"
)

// Two processes adding jobs at once lose none: each store here has its own
// mutex, as two processes would, so only the file lock keeps them apart.
func TestStateFileKeepsConcurrentAdds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "jobs.json")
	const writers, each = 4, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			s := &jobStore{path: path, server: "http://bb:7990"}
			for i := range each {
				if err := s.add(jobRecord{ID: int64(w*each + i + 1), Archive: "a.tar"}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	jobs, err := (&jobStore{path: path, server: "http://bb:7990"}).list()
	if err != nil || len(jobs) != writers*each {
		t.Fatalf("%d jobs kept of %d (%v)", len(jobs), writers*each, err)
	}
	for i, j := range jobs {
		if want := int64(writers*each - i); j.ID != want {
			t.Errorf("record %d is job %d, want %d: newest first", i, j.ID, want)
		}
	}
	// Another server's records are its own.
	if other, err := (&jobStore{path: path, server: "http://other:7990"}).list(); err != nil || len(other) != 0 {
		t.Errorf("another server: %+v %v", other, err)
	}
}
