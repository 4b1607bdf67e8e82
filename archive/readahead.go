package archive

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Reading ahead: the small files of an inner tar are read by a few
// goroutines while the tar is written, each run of them already laid out
// as its stretch of the tar (headers, bodies, padding), so that the
// writer only copies whole stretches in order. An objects tar holds many
// thousands of loose objects, each an open, a read and a close: the
// reading goes in runs of files of one directory, each opened relative to
// it, so that the directory is looked up once per run and the hand-over
// costs little per file. At most aheadRuns runs of at most aheadRunBytes
// wait at a time, so memory stays bounded whatever the repository; larger
// files (packs) are streamed when their turn comes.
const (
	aheadMaxSize  = 256 << 10
	aheadRunFiles = 64
	aheadRunBytes = 256 << 10
	aheadRuns     = 8
)

// readsAhead reports whether f, whose header is hdr, is read ahead: a
// regular file on disk whose size the caller knew (see TarFile.Size),
// small enough, with a header that is one ustar block (every loose
// object's), which the readers lay out themselves (see headerTemplate).
func readsAhead(f TarFile, hdr *tar.Header) bool {
	return f.Path != "" && hdr.Typeflag == tar.TypeReg && f.Size > 0 && f.Size <= aheadMaxSize && fitsUSTAR(hdr)
}

// aheadRun is a run of read-ahead files of one directory, next to each
// other in the tar, and once read their stretch of the tar in data.
type aheadRun struct {
	dir   string
	first int // the index of its first file in the tar's files
	files []TarFile
	tmpls []*[blockSize]byte // each file's header but its name and size
	size  int                // of the stretch
	data  *[]byte
	err   error
	done  chan struct{}
}

// readAhead hands over the read-ahead runs of one inner tar in order.
type readAhead struct {
	runs  []*aheadRun
	order chan *aheadRun
	quit  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	cur   *aheadRun // handed over, its buffer not yet given back
	next  int       // the index in runs of the next run to hand over
}

// startReadAhead starts reading the files of files that readsAhead (their
// headers dated mtime), in order, and says how many bytes their tar
// takes: each header, each body padded to whole blocks, and the two zero
// blocks that end a tar. stop ends the reading.
func startReadAhead(files []TarFile, mtime time.Time) (*readAhead, int64, error) {
	ra := &readAhead{}
	tarSize := int64(2 * blockSize)
	var tmpls map[int64]*[blockSize]byte
	var runBytes int
	for i, f := range files {
		hdr, err := innerHeader(f, mtime)
		if err != nil {
			return nil, 0, err
		}
		n, err := headerBytes(&hdr)
		if err != nil {
			return nil, 0, fmt.Errorf("inner %s: %w", f.Name, err)
		}
		tarSize += n + padded(hdr.Size)
		if !readsAhead(f, &hdr) {
			continue
		}
		tmpl := tmpls[hdr.Mode]
		if tmpl == nil {
			if tmpl, err = headerTemplate(&hdr); err != nil {
				return nil, 0, err
			}
			if tmpls == nil {
				tmpls = map[int64]*[blockSize]byte{}
			}
			tmpls[hdr.Mode] = tmpl
		}
		dir := filepath.Dir(f.Path)
		size := blockSize + int(padded(f.Size))
		last := len(ra.runs) - 1
		if last < 0 || ra.runs[last].dir != dir || ra.runs[last].first+len(ra.runs[last].files) != i ||
			len(ra.runs[last].files) == aheadRunFiles || runBytes+size > aheadRunBytes+aheadRunFiles*blockSize {
			ra.runs = append(ra.runs, &aheadRun{dir: dir, first: i, done: make(chan struct{})})
			runBytes = 0
		}
		r := ra.runs[len(ra.runs)-1]
		r.files = append(r.files, f)
		r.tmpls = append(r.tmpls, tmpl)
		r.size += size
		runBytes += size
	}
	if len(ra.runs) == 0 {
		// Nothing to read (an inner tar held in memory): no goroutines.
		return ra, tarSize, nil
	}
	ra.order, ra.quit = make(chan *aheadRun, aheadRuns), make(chan struct{})
	queue := make(chan *aheadRun)
	workers := min(max(runtime.GOMAXPROCS(0), 2), len(ra.runs))
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
		for _, r := range ra.runs {
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
	return ra, tarSize, nil
}

// padded is size rounded up to whole blocks.
func padded(size int64) int64 { return (size + blockSize - 1) / blockSize * blockSize }

// runBuffers hold the stretches of runs: a run's is at most its files'
// bytes and a header and a padding for each.
var runBuffers = sync.Pool{New: func() any {
	b := make([]byte, aheadRunBytes+aheadRunFiles*2*blockSize)
	return &b
}}

// read lays out the run's stretch of the tar, its files each opened
// relative to their directory and read straight into place.
func (r *aheadRun) read() (*[]byte, error) {
	dirfd, err := RetryOpen(func() (int, error) { return unix.Open(r.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: r.dir, Err: err}
	}
	defer unix.Close(dirfd)
	buf := runBuffers.Get().(*[]byte)
	if len(*buf) < r.size {
		*buf = make([]byte, r.size)
	}
	data := (*buf)[:r.size]
	off := 0
	for i, f := range r.files {
		setHeader(data[off:off+blockSize], r.tmpls[i], f.Name, f.Size)
		off += blockSize
		fd, err := RetryOpen(func() (int, error) {
			return unix.Openat(dirfd, filepath.Base(f.Path), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		})
		if err != nil {
			runBuffers.Put(buf)
			return nil, &fs.PathError{Op: "open", Path: f.Path, Err: err}
		}
		_, err = readFull(fd, f.Path, data[off:off+int(f.Size)])
		unix.Close(fd)
		if err != nil {
			runBuffers.Put(buf)
			return nil, err
		}
		end := off + int(padded(f.Size))
		clear(data[off+int(f.Size) : end])
		off = end
	}
	return buf, nil
}

// at reports whether a read-ahead run starts at file i of the tar.
func (ra *readAhead) at(i int) bool {
	return ra.next < len(ra.runs) && ra.runs[ra.next].first == i
}

// take waits for the next run and hands over its stretch of the tar and
// how many files it holds. The stretch is the reader's until the next
// take or stop.
func (ra *readAhead) take() ([]byte, int, error) {
	ra.release()
	r := <-ra.order
	ra.next++
	<-r.done
	if r.err != nil {
		return nil, 0, r.err
	}
	ra.cur = r
	return (*r.data)[:r.size], len(r.files), nil
}

// release gives the buffer of the run handed over last back.
func (ra *readAhead) release() {
	if ra.cur != nil {
		runBuffers.Put(ra.cur.data)
		ra.cur = nil
	}
}

// stop ends the reading and waits for its goroutines, which then hold no
// file open. It may be called more than once.
func (ra *readAhead) stop() {
	ra.once.Do(func() {
		if ra.quit != nil {
			close(ra.quit)
		}
		ra.wg.Wait()
		ra.release()
	})
}

// headerTemplate is the header block a tar.Writer writes for hdr with no
// name and size 0: a ustar block (see fitsUSTAR) that setHeader then
// names and sizes. The block is the library's, so every other field is
// exactly what a tar.Writer writes.
func headerTemplate(hdr *tar.Header) (*[blockSize]byte, error) {
	h := *hdr
	h.Name, h.Size = "x", 0
	var buf bytes.Buffer
	if err := tar.NewWriter(&buf).WriteHeader(&h); err != nil {
		return nil, err
	}
	if buf.Len() != blockSize {
		return nil, fmt.Errorf("a header of mode %o is not one ustar block", hdr.Mode)
	}
	tmpl := new([blockSize]byte)
	copy(tmpl[:], buf.Bytes())
	clear(tmpl[:100])
	return tmpl, nil
}

// setHeader writes into block the header of tmpl with name and size, as a
// tar.Writer formats ustar fields: the name NUL-padded in its 100 bytes,
// the size in 11 octal digits and a NUL, and the checksum of the block
// (its own field counted as spaces) in 6 octal digits, a NUL and a space.
// The caller has made sure that name and size fit (fitsUSTAR).
func setHeader(block []byte, tmpl *[blockSize]byte, name string, size int64) {
	copy(block, tmpl[:])
	copy(block[:100], name)
	octal(block[124:136], size)
	copy(block[148:156], "        ")
	sum := int64(0)
	for _, c := range block[:blockSize] {
		sum += int64(c)
	}
	octal(block[148:155], sum)
	block[155] = ' '
}

// octal writes x into field as zero-padded octal digits and a NUL.
func octal(field []byte, x int64) {
	n := len(field) - 1
	for i := n - 1; i >= 0; i-- {
		field[i] = byte('0' + x&7)
		x >>= 3
	}
	field[n] = 0
}
