package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"bbimport/model"
)

// endingBackend is a fakeBackend whose jobs complete as soon as they
// start, with one message.
type endingBackend struct{ *fakeBackend }

func (e endingBackend) Start(ctx context.Context, path string) (model.Job, error) {
	j, err := e.fakeBackend.Start(ctx, path)
	if err == nil {
		j.State, j.Progress = model.StateCompleted, model.Progress{Percentage: 100, Message: "Import completed"}
		e.set(j, model.Message{Severity: model.SeverityWarn, Subject: "PRJ/api", Text: "renamed"})
	}
	return j, err
}

// runPlainWith runs the plain console and returns what it printed and the
// ids of the jobs it followed.
func runPlainWith(t *testing.T, b *fakeBackend, a *fakeArchives, input string) (string, []int64, error) {
	t.Helper()
	var out strings.Builder
	res, err := Run(context.Background(), Options{
		Backend: endingBackend{b}, Archives: a, Now: func() time.Time { return t0 },
		Plain: true, In: strings.NewReader(input), Out: &out,
	})
	var watched []int64
	if res.Job.ID != 0 {
		watched = append(watched, res.Job.ID)
	}
	return out.String(), watched, err
}

func TestPlainPicksConfirmsAndWatches(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	b.existing["PRJ"] = true
	out, watched, err := runPlainWith(t, b, a, "9\n2\n1\ny\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"bbimport: in-process importer, home /srv/bbimport",
		"  1. Bitbucket_export_422.tar  700 MiB  2026-11-25 16:40",
		"  2. copy-in-progress.tar  50 MiB  copying… (cannot start yet)",
		"Type a number from 1 to 3.",
		"copy-in-progress.tar is still being copied",
		"Pull requests 340: 12 open, 300 merged, 28 declined",
		"! project PRJ exists: it will likely be imported as PRJ1",
		"Start the import of Bitbucket_export_422.tar? [y/N] ",
		"Started job 12.\nWARN PRJ/api: renamed\n17:00:00 COMPLETED 100% Import completed\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("plain output has escape codes")
	}
	if len(b.started) != 1 || len(watched) != 1 || watched[0] != 12 {
		t.Fatalf("started %v, watched %v", b.started, watched)
	}
}

func TestPlainNoMeansNo(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	_, watched, err := runPlainWith(t, b, a, "1\n\n")
	if err != nil || len(b.started) != 0 || len(watched) != 0 {
		t.Fatalf("err %v, started %v, watched %v", err, b.started, watched)
	}
}

func TestPlainReattaches(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	b.known = []model.Job{runningJob()}
	ended := runningJob()
	ended.State = model.StateFailed
	b.set(ended)
	out, watched, err := runPlainWith(t, b, a, "\n")
	if err != nil || len(watched) != 1 || watched[0] != 12 {
		t.Fatalf("err %v, watched %v:\n%s", err, watched, out)
	}
	if !strings.Contains(out, "Job 12 is still RUNNING at 42%. Watch it? [Y/n] \n17:00:00 FAILED 42% Importing PRJ/api") {
		t.Fatalf("no reattach question, or the job was not followed:\n%s", out)
	}
}

func TestPlainEndOfInput(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	_, _, err := runPlainWith(t, b, a, "1\n")
	if !errors.Is(err, errNoAnswer) {
		t.Fatalf("err %v, want errNoAnswer", err)
	}
	if len(b.started) != 0 {
		t.Fatal("started without an answer")
	}
}

func TestPlainEmptyDirectory(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	a.files = nil
	out, _, err := runPlainWith(t, b, a, "")
	if err != nil || !strings.Contains(out, "No archives in /srv/import.") {
		t.Fatalf("err %v:\n%s", err, out)
	}
}

func TestPlainReportsAJobItCouldNotFollow(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	b.known = []model.Job{runningJob()}
	b.jobErr = errors.New("connection refused")
	_, watched, err := runPlainWith(t, b, a, "y\n")
	if err == nil || err.Error() != "follow job 12: connection refused" || len(watched) != 1 {
		t.Fatalf("err %v, watched %v; want the job and why it could not be followed", err, watched)
	}
}
