package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"bbimport/model"
	"bbimport/wire"
)

// Bitbucket has no call that lists jobs. Against bbimport serve the client
// reads its list; against Bitbucket it lists the jobs it started (the
// state file) and discovers those others started since: job ids are one
// sequence for imports and exports, so what lies past the newest known id
// is found by probing, in a bounded number of calls.
const (
	// discoverProbes bounds the ids probed to find the newest job: up to
	// 2^discoverProbes jobs past the newest known one are found.
	discoverProbes = 16
	// discoverListed bounds the discovered jobs listed, newest first.
	discoverListed = 10
)

// KnownJobs lists jobs newest first: every job of a bbimport serve; on
// Bitbucket, the jobs this client started that the server still knows (a
// reset instance forgets them) and those discovered past them.
func (c *Client) KnownJobs(ctx context.Context) ([]model.Job, error) {
	if c.probeExtension(ctx) {
		var jobs []model.Job
		op := operation{what: "list the import jobs"}
		_, err := wire.Each(ctx, 0, func(ctx context.Context, start int) (model.Page[model.Job], error) {
			var p model.Page[model.Job]
			err := c.callURL(ctx, op, http.MethodGet, c.base+wire.ExtensionPrefix+wire.PathExtImports+"?"+wire.PagingValues(start, wire.MaxLimit).Encode(), nil, &p)
			return p, err
		}, func(j model.Job) error {
			jobs = append(jobs, j)
			return nil
		})
		return jobs, err
	}
	records, err := c.jobs.list()
	if err != nil {
		return nil, err
	}
	var newest int64
	for _, r := range records {
		newest = max(newest, r.ID)
	}
	jobs, err := c.discover(ctx, newest)
	if err != nil {
		return nil, err
	}
	if len(jobs) > 0 {
		found := make([]jobRecord, 0, len(jobs))
		for _, j := range jobs {
			found = append(found, jobRecord{ID: j.ID, Type: j.Type, Discovered: true})
		}
		if err := c.jobs.add(found...); err != nil {
			fmt.Fprintf(warnings, "bbimport: warning: %v\n", err)
		}
	}
	for _, rec := range records {
		job, err := c.Job(ctx, rec.ID)
		if errors.Is(err, model.ErrJobNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, job)
	}
	slices.SortFunc(jobs, func(a, b model.Job) int { return int(b.ID - a.ID) })
	return jobs, nil
}

// discover finds the jobs past id after, imports and exports alike: it
// doubles the step until an id has no job, halves back to the newest id
// that has one, then reads the newest jobs down from there.
func (c *Client) discover(ctx context.Context, after int64) ([]model.Job, error) {
	found := map[int64]model.Job{}
	taken := func(id int64) (bool, error) {
		job, err := c.Job(ctx, id)
		if err == nil {
			found[id] = job
			return true, nil
		}
		if absent(err) {
			return false, nil
		}
		return false, err
	}
	lo, hi := after, int64(0) // lo has a job (or is where the search starts); hi, once set, has none
	for step, probes := int64(1), 0; probes < discoverProbes; step, probes = step*2, probes+1 {
		ok, err := taken(lo + step)
		if err != nil {
			return nil, err
		}
		if !ok {
			hi = lo + step
			break
		}
		lo += step
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := taken(mid)
		if err != nil {
			return nil, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	var jobs []model.Job
	for id := lo; id > after && len(jobs) < discoverListed; id-- {
		job, ok := found[id]
		if !ok {
			var err error
			if job, err = c.Job(ctx, id); absent(err) {
				continue
			} else if err != nil {
				return nil, err
			}
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

// absent reports whether err says the server has no such job: 404, or 501
// from a server that has no export calls at all.
func absent(err error) bool {
	var e *Error
	return errors.Is(err, model.ErrJobNotFound) || errors.As(err, &e) && e.Status == http.StatusNotImplemented
}

// runningImport is Start's answer when another import runs (503): it names
// that job, found among the known and discovered ones, as data the console
// can open. Bitbucket's answer does not say which job runs.
func (c *Client) runningImport(ctx context.Context, what string, refused error) error {
	jobs, err := c.KnownJobs(ctx)
	if err != nil {
		return refused
	}
	for _, j := range jobs {
		if j.State.Finished() || j.Type == model.JobTypeExport {
			continue
		}
		r := &model.RunningImport{JobID: j.ID}
		if j.StartDate != 0 {
			r.Since = time.UnixMilli(j.StartDate)
		}
		return &runningError{what: what, refused: refused, running: r, job: j}
	}
	return refused
}

// runningError is a start refused because job runs: errors.As finds the
// *model.RunningImport, errors.Is the client's *Error and its cause.
type runningError struct {
	what    string
	refused error
	running *model.RunningImport
	job     model.Job
}

func (e *runningError) Error() string {
	return fmt.Sprintf("%s: job %d is importing (%s, %d%%) and one import runs at a time; follow it with `bbimport status %d`, then start again",
		e.what, e.job.ID, e.job.State, e.job.Progress.Percentage, e.job.ID)
}

func (e *runningError) Unwrap() []error { return []error{e.refused, e.running} }
