package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/model"
)

// An archive that can only end ABORTED is refused by Start before a job is
// recorded, with the sentence the console's rule (archive.OpenToImport)
// gives for it.
func TestStartRefusesUnfitArchivesWithoutAJob(t *testing.T) {
	in := openHome(t)
	good, err := os.ReadFile(generated(t, "default", gen.DefaultOptions()))
	if err != nil {
		t.Fatal(err)
	}
	put := func(name string, data []byte) string {
		if err := os.WriteFile(filepath.Join(in.ImportDir(), name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	growing := put("growing.tar", good[:len(good)/3])
	grow := func() {
		f, err := os.OpenFile(filepath.Join(in.ImportDir(), growing), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(good[len(good)/3 : len(good)/2]); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, says string
		hook       func()
	}{
		{put("cut.tar", good[:len(good)/2]), "archive is truncated", nil},
		{put("empty.tar", nil), "it is empty", nil},
		{put("notes.tar", []byte("a text file, not an archive\n")), "it is not a tar file", nil},
		{filepath.Base(writeArchive(t, in, "v3.tar", func(w *gen.Writer) {
			w.AddJSON(archive.KindInstanceDetails, archive.IDs{}, model.InstanceDetails{ArchiveVersion: 3, Product: "Bitbucket Data Center"}, false)
			w.AddJSON(archive.KindProject, archive.IDs{Project: "1"}, model.Project{ID: "1", Key: "PRJ", Name: "P"}, false)
		})), "archiveVersion 3", nil},
		{filepath.Base(writeArchive(t, in, "unsafe.tar", func(w *gen.Writer) {
			w.AddJSON(archive.KindInstanceDetails, archive.IDs{}, model.InstanceDetails{ArchiveVersion: 2}, false)
			w.AddRaw("../../escape", []byte("x"))
		})), "unsafe archive", nil},
		{growing, "is still being written", grow},
	}
	for _, c := range cases {
		in.betweenLooks = c.hook
		_, err := in.Start(context.Background(), c.name)
		if !errors.Is(err, model.ErrBadArchivePath) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Start(%s) = %v, want a bad archive path saying %q", c.name, err, c.says)
			continue
		}
		if c.hook != nil {
			put(growing, good[:len(good)/3]) // grown again from the same size
		}
		_, rule := archive.OpenToImport(in.ImportDir(), c.name, archive.StartCheck{BetweenLooks: c.hook})
		if rule == nil || rule.Error() != err.Error() {
			t.Errorf("%s: Start says\n  %v\nthe rule the console asks says\n  %v", c.name, err, rule)
		}
	}
	if jobs, _ := in.KnownJobs(context.Background()); len(jobs) != 0 {
		t.Errorf("jobs were recorded: %v", jobs)
	}
	if n := count(t, in, `SELECT COUNT(*) FROM messages`); n != 0 {
		t.Errorf("%d messages were recorded", n)
	}
	if _, err := os.Stat(filepath.Join(in.ImportDir(), "..", "..", "escape")); err == nil {
		t.Error("the unsafe member was written outside")
	}
	// The archive copied a moment ago, once whole, starts.
	in.betweenLooks = nil
	if job := importArchive(t, in, generated(t, "default", gen.DefaultOptions())); job.State != model.StateCompleted {
		t.Errorf("the good archive ended %s", job.State)
	}
}

// A start waiting for its runner holds no lock that the job queries need:
// status, jobs and cancel requests are answered meanwhile.
func TestStartAnswersWhileTheRunnerStarts(t *testing.T) {
	in := openHome(t)
	in.runner = []string{"true"} // ends without taking the job over
	name := place(t, in, generated(t, "default", gen.DefaultOptions()))
	inside, release := make(chan struct{}), make(chan struct{})
	in.duringSpawn = func() {
		close(inside)
		<-release
	}
	started := make(chan error, 1)
	go func() {
		_, err := in.Start(context.Background(), name)
		started <- err
	}()
	<-inside
	answered := make(chan error, 1)
	go func() {
		ctx := context.Background()
		job, err := in.Job(ctx, 1)
		if err == nil && job.State.Finished() {
			err = errors.New("job 1 is " + string(job.State) + " while its runner starts")
		}
		if err == nil {
			var jobs []model.Job
			if jobs, err = in.KnownJobs(ctx); err == nil && len(jobs) != 1 {
				err = errors.New("KnownJobs does not list the starting job")
			}
		}
		if err == nil {
			err = in.Cancel(ctx, 1)
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		if err != nil {
			t.Errorf("while the runner starts: %v", err)
		}
	case <-time.After(time.Minute): // a deadlock, not a slow answer
		t.Fatal("Job, KnownJobs and Cancel were not answered while a start waited for its runner")
	}
	close(release)
	if err := <-started; err == nil || !strings.Contains(err.Error(), "start the runner") {
		t.Errorf("Start = %v, want the runner's failure", err)
	}
	// ABORTED where it stood: an aborted job's percentage is not moved.
	if job, err := in.Job(context.Background(), 1); err != nil || job.State != model.StateAborted || job.Progress.Percentage != 0 {
		t.Errorf("job 1 = %s at %d%%, %v; want ABORTED at 0%%", job.State, job.Progress.Percentage, err)
	}
}
