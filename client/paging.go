package client

import (
	"context"

	"bbimport/model"
	"bbimport/wire"
)

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
	next, err := wire.Each(ctx, r.next, func(ctx context.Context, start int) (model.Page[model.Message], error) {
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
