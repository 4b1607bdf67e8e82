package archive

import (
	"archive/tar"
	"io/fs"
	"path/filepath"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// Reading ahead: the files of an inner tar that are small enough are read
// by a few goroutines while the tar is written, and handed over in the
// tar's order. An objects tar holds many thousands of loose objects, each
// an open, a read and a close: the reading goes in runs of files of one
// directory, each opened relative to it, so that the directory is looked
// up once per run and the hand-over costs little per file. At most
// aheadRuns runs of at most aheadRunBytes wait at a time, so memory stays
// bounded whatever the repository; larger files (packs) are streamed when
// their turn comes.
const (
	aheadMaxSize  = 256 << 10
	aheadRunFiles = 64
	aheadRunBytes = 1 << 20
	aheadRuns     = 8
)

// readsAhead reports whether f is read ahead: a regular file on disk
// whose size the caller knew (see TarFile.Size), small enough.
func readsAhead(f TarFile) bool {
	return f.Path != "" && (f.Typeflag == 0 || f.Typeflag == tar.TypeReg) && f.Size > 0 && f.Size <= aheadMaxSize
}

// aheadRun is a run of read-ahead files of one directory, and once read
// their bytes, one after the other in data.
type aheadRun struct {
	dir   string
	files []TarFile
	data  []byte
	err   error
	done  chan struct{}
}

// readAhead hands over the read-ahead files of one inner tar in order.
type readAhead struct {
	order chan *aheadRun
	quit  chan struct{}
	wg    sync.WaitGroup
	cur   *aheadRun
	i     int // the next file of cur
	off   int // where its bytes start in cur.data
}

// startReadAhead starts reading the files of files that readsAhead, in
// order; stop ends it.
func startReadAhead(files []TarFile) *readAhead {
	ra := &readAhead{order: make(chan *aheadRun, aheadRuns), quit: make(chan struct{})}
	var runs []*aheadRun
	var bytes int64
	for _, f := range files {
		if !readsAhead(f) {
			continue
		}
		dir := filepath.Dir(f.Path)
		if last := len(runs) - 1; last < 0 || runs[last].dir != dir || len(runs[last].files) == aheadRunFiles || bytes+f.Size > aheadRunBytes {
			runs = append(runs, &aheadRun{dir: dir, done: make(chan struct{})})
			bytes = 0
		}
		runs[len(runs)-1].files = append(runs[len(runs)-1].files, f)
		bytes += f.Size
	}
	if len(runs) == 0 {
		return ra
	}
	queue := make(chan *aheadRun)
	workers := min(max(runtime.GOMAXPROCS(0), 2), len(runs))
	ra.wg.Add(workers + 1)
	for range workers {
		go func() {
			defer ra.wg.Done()
			for r := range queue {
				r.data, r.err = r.read()
				close(r.done)
			}
		}()
	}
	go func() {
		defer ra.wg.Done()
		defer close(queue)
		for _, r := range runs {
			select {
			case ra.order <- r:
			case <-ra.quit:
				return
			}
			select {
			case queue <- r:
			case <-ra.quit:
				return
			}
		}
	}()
	return ra
}

// read reads the run's files, each opened relative to their directory.
func (r *aheadRun) read() ([]byte, error) {
	dirfd, err := retry(func() (int, error) { return unix.Open(r.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: r.dir, Err: err}
	}
	defer unix.Close(dirfd)
	var size int64
	for _, f := range r.files {
		size += f.Size
	}
	data := make([]byte, size)
	off := int64(0)
	for _, f := range r.files {
		fd, err := retry(func() (int, error) {
			return unix.Openat(dirfd, filepath.Base(f.Path), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		})
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: f.Path, Err: err}
		}
		_, err = readFull(fd, f.Path, data[off:off+f.Size])
		unix.Close(fd)
		if err != nil {
			return nil, err
		}
		off += f.Size
	}
	return data, nil
}

// next is the next read-ahead file's content.
func (ra *readAhead) next() ([]byte, error) {
	if ra.cur == nil || ra.i == len(ra.cur.files) {
		ra.cur, ra.i, ra.off = <-ra.order, 0, 0
		<-ra.cur.done
	}
	if ra.cur.err != nil {
		return nil, ra.cur.err
	}
	size := int(ra.cur.files[ra.i].Size)
	data := ra.cur.data[ra.off : ra.off+size]
	ra.i++
	ra.off += size
	return data, nil
}

// stop ends the reading and waits for its goroutines, which then hold no
// file open.
func (ra *readAhead) stop() {
	close(ra.quit)
	ra.wg.Wait()
}
