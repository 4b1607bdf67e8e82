package ui

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"bbimport/model"
)

// endingBackend is a fakeBackend whose jobs complete as soon as they
// start, with one message.
type endingBackend struct{ *fakeBackend }

func (e endingBackend) Start(ctx context.Context, path string, notes ...string) (model.Job, error) {
	j, err := e.fakeBackend.Start(ctx, path, notes...)
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
	out, watched, err := runPlainWith(t, b, a, "9\n2\n1\n\ny\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"bbimport: in-process importer, home /srv/bbimport",
		"  1. Bitbucket_export_422.tar  700 MiB  2026-11-25 16:40",
		"  2. copy-in-progress.tar  50 MiB  copying… (cannot start yet)",
		"Type a number from 1 to 3.",
		"copy-in-progress.tar is still being written (50 MiB, then 51 MiB a moment later); start it once the copy is done.\n",
		"Pull requests 340: 12 open, 300 merged, 28 declined",
		"! project PRJ exists: it will be imported as PRJ1",
		"Start the import of Bitbucket_export_422.tar? [y/N] ",
		"Started job 12.\nCtrl+C cancels at the next checkpoint; close the terminal to leave it running\nWARN PRJ/api: renamed\n17:00:00 COMPLETED 100% Import completed\n",
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
	_, watched, err := runPlainWith(t, b, a, "1\n\n\n")
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
	if !strings.Contains(out, "Job 12 is still RUNNING at 42%. Watch it? [Y/n] \nCtrl+C cancels at the next checkpoint; close the terminal to leave it running\n17:00:00 FAILED 42% Importing PRJ/api") {
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

// stoppingBackend is a fakeBackend whose started job runs until it is
// canceled; it then ends CANCELED at its checkpoint, or, with atOnce, only
// once StopNow is called.
type stoppingBackend struct {
	*fakeBackend
	atOnce bool
	noStop bool // StopNow is not supported, as with Bitbucket's REST
}

func (s stoppingBackend) StopNow(ctx context.Context, id int64) error {
	if s.noStop {
		return model.ErrNotSupported
	}
	return s.fakeBackend.StopNow(ctx, id)
}

func (s stoppingBackend) Job(ctx context.Context, id int64) (model.Job, error) {
	j, err := s.fakeBackend.Job(ctx, id)
	if err != nil || j.State != model.StateCanceling {
		return j, err
	}
	s.mu.Lock()
	stopped := len(s.stopped) > 0
	s.mu.Unlock()
	if s.atOnce && !stopped {
		return j, nil
	}
	j.State = model.StateCanceled
	s.set(j)
	return j, nil
}

// runPlainSignaled runs plain mode to the start of the first archive with
// the given stop signals already pending.
func runPlainSignaled(t *testing.T, b model.Backend, signals int) (string, Result, error) {
	t.Helper()
	var out strings.Builder
	p := newPlain(Options{Backend: b, Archives: newFakeArchives(), Now: func() time.Time { return t0 },
		Plain: true, In: strings.NewReader("1\n\ny\n"), Out: &out})
	c := make(chan os.Signal, signals)
	for range signals {
		c <- os.Interrupt
	}
	p.catch = func() (<-chan os.Signal, func()) { return c, func() {} }
	res, err := p.run(context.Background())
	return out.String(), res, err
}

// Ctrl+C in plain mode cancels at the next checkpoint and waits for the
// job to end CANCELED, as the full console does; it does not end the
// process in the middle of a repository.
func TestPlainCtrlCCancels(t *testing.T) {
	b := newFakeBackend()
	out, res, err := runPlainSignaled(t, stoppingBackend{fakeBackend: b}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Job.State != model.StateCanceled || len(b.canceled) != 1 || len(b.stopped) != 0 {
		t.Fatalf("ended %s, canceled %v, stopped %v:\n%s", res.Job.State, b.canceled, b.stopped, out)
	}
	for _, want := range []string{
		"Canceling job 12 at its next checkpoint; press Ctrl+C again to stop it at once.",
		"CANCELED",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPlainSecondCtrlCStopsNow(t *testing.T) {
	b := newFakeBackend()
	out, res, err := runPlainSignaled(t, stoppingBackend{fakeBackend: b, atOnce: true}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Job.State != model.StateCanceled || len(b.canceled) != 1 || len(b.stopped) != 1 {
		t.Fatalf("ended %s, canceled %v, stopped %v:\n%s", res.Job.State, b.canceled, b.stopped, out)
	}
	if !strings.Contains(out, "Stopping job 12 at once: the repository being built is discarded.") {
		t.Errorf("the second Ctrl+C is not reported:\n%s", out)
	}
}

// An unusable entry is listed with its reason and refused when picked.
func TestPlainRefusesUnusable(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	a.files = append([]model.ArchiveFile{{Name: "pipe.tar", Path: "/srv/import/pipe.tar", ModTime: t0,
		Unusable: "a named pipe (FIFO), not an archive file; copy the archive file itself here"}}, a.files...)
	out, _, err := runPlainWith(t, b, a, "1\n")
	if !errors.Is(err, errNoAnswer) || len(b.started) != 0 {
		t.Fatalf("err %v, started %v", err, b.started)
	}
	for _, want := range []string{
		"  1. pipe.tar  ✗ cannot be imported: a named pipe (FIFO), not an archive file; copy the archive file itself here\n",
		"pipe.tar is a named pipe (FIFO), not an archive file; copy the archive file itself here.\nArchive to import",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// An archive that cannot be read is refused with the start rule's reason.
func TestPlainRefusesUnreadable(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	a.files = []model.ArchiveFile{{Name: "notes.tar", Path: "/srv/import/notes.tar", Size: 10240, ModTime: t0}}
	out, _, err := runPlainWith(t, b, a, "1\n")
	if !errors.Is(err, errNoAnswer) || len(b.started) != 0 {
		t.Fatalf("err %v, started %v", err, b.started)
	}
	if !strings.Contains(out, "notes.tar cannot be imported: not a Bitbucket migration archive: it is not a tar file; copy it again from the source (the whole .tar, and compare checksums), then start it again.\nArchive to import") {
		t.Errorf("the archive is not refused with its reason:\n%s", out)
	}
}

func TestPlainChecksum(t *testing.T) {
	for _, c := range []struct {
		name, answer string
		want         []string
		question     string
	}{
		{"compute only", "c", []string{"MD5           9e107d9d372bb6826bd81d3542a419d6\nSHA-256       d7a8fbb3"}, "Start the import of Bitbucket_export_422.tar? [y/N] "},
		{"matches", "9E107D9D372BB6826BD81D3542A419D6", []string{"Checksum      ✓ MD5 matches the source\nMD5"}, "Start the import of Bitbucket_export_422.tar? [y/N] "},
		{"differs", "0123456789abcdef0123456789abcdef", []string{"Checksum      ✗ differs from the source's 0123456789abcdef0123456789abcdef: copy the archive again"},
			"Start the import of Bitbucket_export_422.tar despite the checksum mismatch? [y/N] "},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, a := newFakeBackend(), newFakeArchives()
			out, _, err := runPlainWith(t, b, a, "1\n"+c.answer+"\n\n")
			if err != nil || len(b.started) != 0 {
				t.Fatalf("err %v, started %v", err, b.started)
			}
			for _, want := range append(c.want, "Computing the MD5 and SHA-256 of Bitbucket_export_422.tar (700 MiB)…", c.question) {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// Where the backend cannot stop at once, the second Ctrl+C stops following
// the job and says how to follow it again.
func TestPlainSecondCtrlCLeavesAJobThatCannotStopAtOnce(t *testing.T) {
	b := newFakeBackend()
	out, res, err := runPlainSignaled(t, stoppingBackend{fakeBackend: b, atOnce: true, noStop: true}, 2)
	if err != nil || !res.Detached {
		t.Fatalf("err %v, detached %v:\n%s", err, res.Detached, out)
	}
	if res.Job.ID != 12 || len(b.canceled) != 1 {
		t.Fatalf("job %d, canceled %v", res.Job.ID, b.canceled)
	}
	if !strings.Contains(out, "Job 12 cannot be stopped at once here: it stops at its next checkpoint on its own; follow it with: bbimport status 12 --home /srv/bbimport\n") {
		t.Errorf("output does not say why it goes on:\n%s", out)
	}
}

// A hang-up leaves the job running: plain mode stops following and says
// how to follow it again.
func TestPlainHangUpDetaches(t *testing.T) {
	b := newFakeBackend()
	var out strings.Builder
	p := newPlain(Options{Backend: stoppingBackend{fakeBackend: b}, Archives: newFakeArchives(), Now: func() time.Time { return t0 },
		Plain: true, In: strings.NewReader("1\n\ny\n"), Out: &out, Self: "./bbimport"})
	c := make(chan os.Signal, 1)
	c <- syscall.SIGHUP
	p.catch = func() (<-chan os.Signal, func()) { return c, func() {} }
	res, err := p.run(context.Background())
	if err != nil || !res.Detached || len(b.canceled) != 0 {
		t.Fatalf("err %v, detached %v, canceled %v:\n%s", err, res.Detached, b.canceled, out.String())
	}
	if want := "Detached: job 12 goes on; follow it with: ./bbimport status 12 --home /srv/bbimport\n"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
}

// Plain mode, as the console: a remote target's free disk is not this
// machine's.
func TestPlainRemoteFreeDiskUnknown(t *testing.T) {
	b, a := newFakeBackend(), newFakeArchives()
	b.identity = model.Identity{Remote: true, Location: "https://bitbucket.example.com", Product: "Bitbucket", Version: "9.4.3", User: "admin"}
	out, _, _ := runPlainWith(t, b, a, "1\n\nn\n")
	if !strings.Contains(out, "? free disk on the target: unknown (remote): the import needs about 1.4 GiB free there") || strings.Contains(out, "free for") {
		t.Errorf("plain pre-flight with a remote backend:\n%s", out)
	}
}
