package carry

import (
	"context"
	"errors"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// chunkSize is what the source is read in: big enough that handing chunks
// between goroutines costs nothing, small enough to stop fast.
const chunkSize = 1 << 20

// chunksInFlight bounds how far the SHA-256 and the sink may lag behind
// the reader, and so the memory a carry holds (8 MiB).
const chunksInFlight = 8

type chunk struct {
	buf  []byte
	data []byte
	refs atomic.Int32 // consumers still to use it: the SHA-256 and the sink
}

// pump streams src into dst and feeds the same bytes to m and s: this
// goroutine's helper reads and runs the MD5, another runs the SHA-256, and
// dst (an SFTP file writes with many requests in flight) takes the chunks
// as they come, so hashing overlaps the network. progress is told the bytes
// handed to dst so far. It returns the bytes dst took.
func pump(ctx context.Context, src io.Reader, dst io.ReaderFrom, m, s hash.Hash, progress func(int64)) (int64, error) {
	free := make(chan *chunk, chunksInFlight)
	for range chunksInFlight {
		free <- &chunk{buf: make([]byte, chunkSize)}
	}
	release := func(c *chunk) {
		if c.refs.Add(-1) == 0 {
			free <- c
		}
	}
	toSHA := make(chan *chunk, chunksInFlight)
	toSink := make(chan *chunk, chunksInFlight)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for c := range toSHA {
			s.Write(c.data)
			release(c)
		}
	})
	cr := &chunkReader{chunks: toSink, release: release, progress: progress}
	wg.Go(func() {
		defer close(toSHA)
		defer close(toSink)
		for {
			var c *chunk
			select {
			case c = <-free:
			case <-stop:
				return
			case <-ctx.Done():
				cr.err = ctx.Err()
				return
			}
			n, err := io.ReadFull(src, c.buf)
			if n > 0 {
				c.data = c.buf[:n]
				c.refs.Store(2)
				m.Write(c.data)
				toSHA <- c
				select {
				case toSink <- c:
				case <-stop:
					return
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				cr.err = io.EOF
				return
			}
			if err != nil {
				cr.err = err
				return
			}
		}
	})
	n, err := dst.ReadFrom(cr)
	close(stop)
	// Chunks the sink did not take go back to no one: the goroutines end
	// on stop and the closed channels.
	for c := range toSink {
		release(c)
	}
	wg.Wait()
	return n, err
}

// chunkReader hands the sink the pump's chunks. Its err is set by the
// reading goroutine before it closes chunks, and read after that.
type chunkReader struct {
	chunks   <-chan *chunk
	release  func(*chunk)
	progress func(int64)
	cur      *chunk
	rest     []byte
	taken    int64
	err      error
}

func (r *chunkReader) next() bool {
	if r.cur != nil {
		r.release(r.cur)
		r.cur = nil
	}
	c, ok := <-r.chunks
	if !ok {
		return false
	}
	r.cur, r.rest = c, c.data
	r.taken += int64(len(c.data))
	r.progress(r.taken)
	return true
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.rest) == 0 && !r.next() {
		return 0, r.err
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

// WriteTo spares a local file's io.Copy one copy of every byte.
func (r *chunkReader) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for {
		if len(r.rest) == 0 && !r.next() {
			if errors.Is(r.err, io.EOF) {
				return n, nil
			}
			return n, r.err
		}
		k, err := w.Write(r.rest)
		n += int64(k)
		r.rest = r.rest[k:]
		if err != nil {
			return n, err
		}
	}
}

// hashStream feeds r to w in chunks, checking ctx between them.
func hashStream(ctx context.Context, r io.Reader, w io.Writer, progress func(int64)) (int64, error) {
	buf := make([]byte, chunkSize)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		n, err := io.ReadFull(r, buf)
		if _, werr := w.Write(buf[:n]); werr != nil {
			return done, werr
		}
		done += int64(n)
		progress(done)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return done, nil
		}
		if err != nil {
			return done, err
		}
	}
}
