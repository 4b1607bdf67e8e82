package archive

import (
	"archive/tar"
	"runtime"
	"sync"
)

// Reading ahead: the files of an inner tar that are small enough are read
// whole by a few goroutines while the tar is written, and handed over in
// the tar's order. At most aheadFiles files of at most aheadMaxSize bytes
// wait at a time, so memory stays bounded whatever the repository; larger
// files (packs) are streamed when their turn comes.
const (
	aheadMaxSize = 256 << 10
	aheadFiles   = 32
)

// readsAhead reports whether f is read ahead: a regular file on disk
// whose size the caller knew (see TarFile.Size), small enough.
func readsAhead(f TarFile) bool {
	return f.Path != "" && (f.Typeflag == 0 || f.Typeflag == tar.TypeReg) && f.Size > 0 && f.Size <= aheadMaxSize
}

type aheadFile struct {
	data []byte
	err  error
}

// readAhead hands over the read-ahead files of one inner tar in order.
type readAhead struct {
	order chan chan aheadFile
	quit  chan struct{}
	wg    sync.WaitGroup
}

type aheadJob struct {
	path string
	size int64
	out  chan aheadFile
}

// startReadAhead starts reading the files of files that readsAhead, in
// order; stop ends it.
func startReadAhead(files []TarFile) *readAhead {
	ra := &readAhead{order: make(chan chan aheadFile, aheadFiles), quit: make(chan struct{})}
	var jobs []aheadJob
	for _, f := range files {
		if readsAhead(f) {
			jobs = append(jobs, aheadJob{path: f.Path, size: f.Size})
		}
	}
	if len(jobs) == 0 {
		return ra
	}
	queue := make(chan aheadJob)
	workers := min(max(runtime.GOMAXPROCS(0), 2), len(jobs))
	ra.wg.Add(workers + 1)
	for range workers {
		go func() {
			defer ra.wg.Done()
			for j := range queue {
				data, err := readWhole(j.path, j.size)
				j.out <- aheadFile{data: data, err: err}
			}
		}()
	}
	go func() {
		defer ra.wg.Done()
		defer close(queue)
		for _, j := range jobs {
			j.out = make(chan aheadFile, 1)
			select {
			case ra.order <- j.out:
			case <-ra.quit:
				return
			}
			select {
			case queue <- j:
			case <-ra.quit:
				return
			}
		}
	}()
	return ra
}

// next is the next read-ahead file's content.
func (ra *readAhead) next() ([]byte, error) {
	f := <-<-ra.order
	return f.data, f.err
}

// stop ends the reading and waits for its goroutines, which then hold no
// file open.
func (ra *readAhead) stop() {
	close(ra.quit)
	ra.wg.Wait()
}
