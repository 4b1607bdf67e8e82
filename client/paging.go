package client

import (
	"context"

	"bbimport/model"
)

// EachPage fetches pages from start on, following nextPageStart, and hands
// every value to visit. It stops after the last page, and also when a page
// lacks nextPageStart or it does not advance (a known Bitbucket bug that
// would otherwise loop forever). It returns the start just past the last
// value seen, where a later call can resume.
func EachPage[T any](ctx context.Context, start int, fetch func(ctx context.Context, start int) (model.Page[T], error), visit func(T) error) (int, error) {
	for {
		page, err := fetch(ctx, start)
		if err != nil {
			return start, err
		}
		for i, v := range page.Values {
			if err := visit(v); err != nil {
				return start + i + 1, err
			}
		}
		seen := start + len(page.Values)
		if page.IsLastPage || page.NextPageStart == nil || *page.NextPageStart <= start {
			return seen, nil
		}
		start = *page.NextPageStart
	}
}

// MessageReader reads a job's messages incrementally: each Unseen call
// fetches only what arrived since the last one. It works on any backend.
type MessageReader struct {
	backend model.Backend
	job     int64
	query   model.MessageQuery
	next    int
}

// NewMessageReader reads the messages of job that match q (q.Start is
// where reading begins; q.Limit is the page size, 0 for the server's).
func NewMessageReader(b model.Backend, job int64, q model.MessageQuery) *MessageReader {
	return &MessageReader{backend: b, job: job, query: q, next: q.Start}
}

// Unseen returns the messages not returned before, oldest first. On an
// error it also returns those it read before the error; they count as seen.
func (r *MessageReader) Unseen(ctx context.Context) ([]model.Message, error) {
	var fresh []model.Message
	next, err := EachPage(ctx, r.next, func(ctx context.Context, start int) (model.Page[model.Message], error) {
		q := r.query
		q.Start = start
		return r.backend.Messages(ctx, r.job, q)
	}, func(m model.Message) error {
		fresh = append(fresh, m)
		return nil
	})
	r.next = next
	return fresh, err
}
