package model

import (
	"context"
	"errors"
)

// Queuer keeps a queue of archives to import one after another, one import
// at a time, in the instance itself: the in-process importer's home. The
// import that ends starts the next queued archive, so the queue goes on
// with no console open. Bitbucket has no such queue: with a remote backend
// a console keeps its own, while it runs.
type Queuer interface {
	// Enqueue puts archives (relative to the import directory, or absolute
	// inside it) at the end of the queue, in order. Each must pass the
	// rules a start applies to an archive (ErrBadArchivePath otherwise,
	// and none is queued); an archive already waiting is refused too.
	// When no import runs, the first waiting archive starts at once and
	// is returned as a job; otherwise the job's ID is 0 and the queue
	// waits for the running import to end. With no archives it only
	// starts the first waiting one when no import runs: a queue whose
	// import's runner died (killed) waits for that.
	Enqueue(ctx context.Context, archivePaths ...string) (Job, error)
	// Queue lists the archives waiting, first to start first, then those
	// dropped when their turn came, with why.
	Queue(ctx context.Context) ([]QueuedArchive, error)
	// Dequeue takes an entry off the queue, waiting or dropped
	// (ErrNotQueued when there is none with that id).
	Dequeue(ctx context.Context, id int64) error
}

// ErrNotQueued is a queue entry that is not (or no longer) in the queue:
// it started, or was taken off.
var ErrNotQueued = errors.New("not in the queue")

// QueuedArchive is an entry of the instance's queue: an archive waiting
// for its import, or one dropped when its turn came.
type QueuedArchive struct {
	ID         int64  `json:"id"`
	Archive    string `json:"archive"`    // relative to the import directory
	QueuedDate int64  `json:"queuedDate"` // epoch millis
	// Dropped is why the archive did not start when its turn came (the
	// start's refusal: it changed, went away, or the disk cannot hold
	// it); "" while it waits. A dropped archive never became a job.
	Dropped     string `json:"dropped,omitempty"`
	DroppedDate int64  `json:"droppedDate,omitempty"`
}
