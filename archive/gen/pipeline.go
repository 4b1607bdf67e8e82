package gen

import "sync"

// pipeline writes members in the order they are added while their bytes
// (JSON, inner tars, gzip: most of the generator's time) are made on
// several goroutines. Output is the same whatever the number of workers:
// only the making is parallel, the writing is in order, by one goroutine.
// Queues are bounded, so memory stays flat.
type pipeline struct {
	out   *Writer
	work  chan *memberJob
	order chan *memberJob
	wg    sync.WaitGroup // workers and the writer

	mu  sync.Mutex
	err error // the first error; members after it are dropped
}

type memberJob struct {
	build func() ([]byte, error) // run by a worker; nil when write needs no data
	write func(w *Writer, data []byte) error
	ready chan struct{} // closed once build has run
	after bool          // runs even after an error: it frees what a build holds
	data  []byte
	err   error
}

func newPipeline(out *Writer, workers int) *pipeline {
	p := &pipeline{out: out, work: make(chan *memberJob, 64*workers), order: make(chan *memberJob, 1024)}
	p.wg.Add(workers + 1)
	for range workers {
		go func() {
			defer p.wg.Done()
			for j := range p.work {
				j.data, j.err = j.build()
				close(j.ready)
			}
		}()
	}
	go func() {
		defer p.wg.Done()
		for j := range p.order {
			if j.ready != nil {
				<-j.ready
			}
			if p.failure() != nil && !j.after {
				continue // drain, so that adding never blocks for good
			}
			err := j.err
			if err == nil {
				err = j.write(p.out, j.data)
			}
			if err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// add queues the member name, whose bytes build returns.
func (p *pipeline) add(name string, build func() ([]byte, error)) {
	j := &memberJob{build: build, ready: make(chan struct{}),
		write: func(w *Writer, data []byte) error { return w.AddRaw(name, data) }}
	p.work <- j
	p.order <- j
}

// then queues write, to run on the Writer in order with the members.
func (p *pipeline) then(write func(w *Writer) error) {
	p.order <- &memberJob{write: func(w *Writer, _ []byte) error { return write(w) }}
}

// afterwards queues release, to run in order with the members, even after
// an error.
func (p *pipeline) afterwards(release func()) {
	p.order <- &memberJob{after: true, write: func(*Writer, []byte) error {
		release()
		return nil
	}}
}

// failure is the first error making or writing a member, if any.
func (p *pipeline) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// close waits for every queued member and returns the first error.
func (p *pipeline) close() error {
	close(p.work)
	close(p.order)
	p.wg.Wait()
	return p.failure()
}
