package importer

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"bbimport/archive/gen"
	"bbimport/model"
)

// Two instances on one home, as two processes would have it: the second
// sees the first's job from the database, is refused a second import with
// who runs the first, and cancels it through the database.
func TestSecondInstanceSeesRefusedAndCancels(t *testing.T) {
	ctx := context.Background()
	first := openHome(t)
	second, err := Open(Options{Home: first.Home()})
	if err != nil {
		t.Fatalf("a second Open of the home: %v", err)
	}
	defer second.Close()
	name := place(t, first, generated(t, "default", gen.DefaultOptions()))
	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	first.beforeCheckpoint = func(point string) {
		if point == pointGitData {
			once.Do(func() { close(reached); <-release })
		}
	}
	job, err := first.Start(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	<-reached

	var running *model.RunningImport
	if _, err := second.Start(ctx, name); !errors.As(err, &running) || running.JobID != job.ID || running.PID != os.Getpid() {
		t.Errorf("Start beside a running import = %v, want a RunningImport naming job %d and pid %d", err, job.ID, os.Getpid())
	}
	seen, err := second.Job(ctx, job.ID)
	if err != nil || seen.State != model.StateRunning || seen.Archive != name {
		t.Errorf("the other instance sees %+v (%v)", seen, err)
	}
	if err := second.Cancel(ctx, job.ID); err != nil {
		t.Fatalf("cancel from the other instance: %v", err)
	}
	if seen, _ := second.Job(ctx, job.ID); seen.State != model.StateCanceling {
		t.Errorf("after the cancel the job is %s", seen.State)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if live, _ := first.Job(ctx, job.ID); live.State == model.StateCanceling {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the running instance never read the cancel request")
		}
	}
	close(release)
	final, err := second.Wait(ctx, job.ID)
	if err != nil || final.State != model.StateCanceled || final.Archive != name {
		t.Fatalf("Wait from the other instance = %+v (%v)", final, err)
	}
	if !hasMessage(messages(t, second, job.ID), checkpointHierarchy) {
		t.Error("the job did not stop at the end of the fork hierarchy")
	}
}
