package importer

import (
	"context"
	"slices"
	"strings"
	"testing"

	"bbimport/archive/gen"
	"bbimport/model"
)

// An import shows its end only once the end is committed with its last
// messages: a reader that sees the job ended finds its messages final and
// can start the next import at once. (The conformance suite once read a
// finished import's messages grow from 5 to 6, and had a start refused
// right after the end.)
func TestAnImportShowsItsEndOnceCommitted(t *testing.T) {
	ctx := context.Background()
	in := openHome(t)
	name := place(t, in, generated(t, "default", gen.DefaultOptions()))
	held, release := make(chan struct{}), make(chan struct{})
	in.beforeCheckpoint = func(point string) {
		if point == pointEnd {
			close(held)
			<-release
		}
	}
	job, err := in.Start(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	<-held
	live, err := in.Job(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	logged := messages(t, in, job.ID)
	if live.State.Finished() {
		t.Errorf("job %d reads %s while its end is not committed; its messages so far end with %q", job.ID, live.State, logged[len(logged)-1])
	}
	in.beforeCheckpoint = nil
	close(release)

	// The first read that shows the end, as a client polling sees it.
	for !live.State.Finished() {
		if live, err = in.Job(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
	}
	first := messages(t, in, job.ID)
	if _, err := in.Start(ctx, name); err != nil {
		t.Errorf("Start right after job %d read %s: %v", job.ID, live.State, err)
	}
	if again := messages(t, in, job.ID); !slices.Equal(first, again) {
		t.Errorf("messages of ended job %d grew from %d to %d: %q", job.ID, len(first), len(again), again[len(first):])
	}
	if live.State != model.StateCompleted || !strings.Contains(first[len(first)-1], "Import finished") {
		t.Errorf("job %d ended %s with its last message %q; want %s, its last message the end's", job.ID, live.State, first[len(first)-1], model.StateCompleted)
	}
}
