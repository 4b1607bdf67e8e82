// Command loadtest measures `bbimport serve` under polling load, on
// 127.0.0.1 only: it imports one generated archive without load, then the
// same archive on a fresh home while N clients poll the job's status and
// its first page of messages through the REST client, and prints requests
// per second, latency percentiles and both import times.
//
//	go run ./scripts/loadtest -clients 50 -max-requests 200000 -max-time 2m
//
// The load is bounded by -max-requests (all clients together) and
// -max-time, whichever comes first; it also stops when the import ends.
// The last line is the process's peak resident memory.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"bbimport/archive/gen"
	"bbimport/client"
	"bbimport/importer"
	"bbimport/model"
	"bbimport/server"
)

type options struct {
	clients     int
	maxRequests int64
	maxTime     time.Duration
	interval    time.Duration
	archive     gen.Options
}

func main() {
	o := options{archive: gen.Options{Seed: 7}}
	flag.IntVar(&o.clients, "clients", 50, "polling clients")
	flag.Int64Var(&o.maxRequests, "max-requests", 200000, "stop the load after this many requests in all")
	flag.DurationVar(&o.maxTime, "max-time", 2*time.Minute, "stop the load after this long")
	flag.DurationVar(&o.interval, "interval", 0, "pause of each client between polls (0: poll as fast as answers come)")
	flag.IntVar(&o.archive.Projects, "projects", 2, "archive: projects")
	flag.IntVar(&o.archive.Repos, "repos", 4, "archive: repositories per project")
	flag.IntVar(&o.archive.Forks, "forks", 1, "archive: forks per repository")
	flag.IntVar(&o.archive.PRs, "prs", 20, "archive: pull requests per repository")
	flag.IntVar(&o.archive.Commits, "commits", 30, "archive: commits per repository")
	flag.IntVar(&o.archive.BlobKiB, "blob-kib", 16, "archive: KiB per commit")
	flag.Parse()
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	work, err := os.MkdirTemp("", "bbimport-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	o.archive.TempDir = work
	archive := filepath.Join(work, "load.tar")
	st, err := gen.GenerateFile(ctx, archive, o.archive)
	if err != nil {
		return fmt.Errorf("generate the archive: %w", err)
	}
	fmt.Fprintf(out, "archive: %d repositories, %d pull requests, %.1f MiB\n", st.Repositories, st.PullRequests, float64(st.Bytes)/(1<<20))

	quiet, err := importOnce(ctx, work, "quiet", archive, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "import without load: %v\n", quiet.Round(time.Millisecond))

	var load loadResult
	loaded, err := importOnce(ctx, work, "loaded", archive, func(ctx context.Context, url string, job int64) {
		load = poll(ctx, o, url, job, work)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "import with %d polling clients: %v (%.2f× the time without load)\n",
		o.clients, loaded.Round(time.Millisecond), loaded.Seconds()/quiet.Seconds())
	fmt.Fprintf(out, "load: %d requests in %v = %.0f req/s; latency p50 %v, p99 %v, max %v; %d errors\n",
		load.requests, load.elapsed.Round(time.Millisecond), float64(load.requests)/load.elapsed.Seconds(),
		load.percentile(0.50), load.percentile(0.99), load.percentile(1), load.errors)
	if load.firstError != nil {
		fmt.Fprintf(out, "first error: %v\n", load.firstError)
	}
	fmt.Fprintf(out, "peak memory (server and clients in one process): %s\n", peakRSS())
	return nil
}

// peakRSS is the process's VmHWM from /proc (Linux), or "unknown".
func peakRSS() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// importOnce imports archive on a fresh home behind the REST server and
// returns the time from the start call to the job's end. load, if set,
// runs while the import does.
func importOnce(ctx context.Context, work, name, archive string, load func(ctx context.Context, url string, job int64)) (took time.Duration, err error) {
	in, err := importer.Open(importer.Options{Home: filepath.Join(work, name)})
	if err != nil {
		return 0, err
	}
	defer in.Close()
	if err := os.Link(archive, filepath.Join(in.ImportDir(), "load.tar")); err != nil {
		return 0, fmt.Errorf("link the archive into the import directory: %w", err)
	}
	srv, err := server.New(server.Config{Importer: in, Admin: server.Credentials{User: "admin", Password: "pw"}, Version: "loadtest"})
	if err != nil {
		return 0, err
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln, 10*time.Second) }()
	defer func() {
		stop()
		// A server that failed makes the measurement worthless.
		if serr := <-served; serr != nil && err == nil {
			took, err = 0, serr
		}
	}()

	url := "http://" + ln.Addr().String()
	c, err := client.New(client.Config{BaseURL: url, User: "admin", Password: "pw", StateDir: filepath.Join(work, "state")})
	if err != nil {
		return 0, err
	}
	begin := time.Now()
	job, err := c.Start(ctx, "load.tar")
	if err != nil {
		return 0, err
	}
	lctx, endLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if load != nil {
		wg.Go(func() { load(lctx, url, job.ID) })
	}
	final, err := in.Wait(ctx, job.ID)
	took = time.Since(begin)
	endLoad()
	wg.Wait()
	if err != nil {
		return 0, err
	}
	if final.State != model.StateCompleted && final.State != model.StateFailed {
		return 0, fmt.Errorf("%s import ended %s", name, final.State)
	}
	return took, nil
}

type loadResult struct {
	requests   int64
	errors     int64
	firstError error
	elapsed    time.Duration
	latencies  []time.Duration
}

func (r loadResult) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := min(int(p*float64(len(r.latencies))), len(r.latencies)-1)
	return r.latencies[i].Round(10 * time.Microsecond)
}

// poll runs the clients until ctx ends (the import finished), the request
// budget is spent or the time is up.
func poll(ctx context.Context, o options, url string, job int64, work string) loadResult {
	ctx, cancel := context.WithTimeout(ctx, o.maxTime)
	defer cancel()
	var (
		sent     atomic.Int64
		mu       sync.Mutex
		res      loadResult
		wg       sync.WaitGroup
		begin    = time.Now()
		firstErr sync.Once
	)
	for i := range o.clients {
		c, err := client.New(client.Config{BaseURL: url, User: "admin", Password: "pw", StateDir: filepath.Join(work, "state")})
		if err != nil {
			panic(err) // the same configuration built a client before
		}
		wg.Go(func() {
			var lat []time.Duration
			var errs int64
			calls := []func() error{
				func() error { _, err := c.Job(ctx, job); return err },
				func() error { _, err := c.Messages(ctx, job, model.MessageQuery{Limit: 25}); return err },
			}
			for n := i; ctx.Err() == nil && sent.Add(1) <= o.maxRequests; n++ {
				t0 := time.Now()
				err := calls[n%len(calls)]()
				if ctx.Err() != nil {
					break
				}
				lat = append(lat, time.Since(t0))
				if err != nil {
					errs++
					firstErr.Do(func() { res.firstError = err })
				}
				if o.interval > 0 {
					select {
					case <-time.After(o.interval):
					case <-ctx.Done():
					}
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.errors += errs
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(begin)
	res.requests = int64(len(res.latencies))
	slices.Sort(res.latencies)
	return res
}
