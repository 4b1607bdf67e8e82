package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"bbimport/model"
)

// pagingBackend serves a job's messages from pages the test writes.
type pagingBackend struct {
	*fakeBackend
	page  func(start int) model.Page[model.Message]
	calls int
}

func (p *pagingBackend) Messages(_ context.Context, _ int64, q model.MessageQuery) (model.Page[model.Message], error) {
	if p.calls++; p.calls > 10 {
		return model.Page[model.Message]{}, errors.New("the watcher keeps asking for pages")
	}
	return p.page(q.Start), nil
}

func endedJob() model.Job {
	j := runningJob()
	j.State, j.Progress = model.StateCompleted, model.Progress{Percentage: 100, Message: "Import completed"}
	return j
}

func msg(i int) model.Message {
	return model.Message{Severity: model.SeverityInfo, Text: fmt.Sprintf("m%d", i)}
}

func TestWatchJobFollowsPagesAndStopsOnOneThatDoesNotAdvance(t *testing.T) {
	for _, c := range []struct {
		name string
		page func(start int) model.Page[model.Message]
		want string
	}{
		{"pages of two", func(start int) model.Page[model.Message] {
			p := model.Page[model.Message]{Start: start, Values: []model.Message{msg(start), msg(start + 1)}}
			if start >= 2 {
				p.IsLastPage = true
			} else {
				next := start + 2
				p.NextPageStart = &next
			}
			return p
		}, "INFO m0\nINFO m1\nINFO m2\nINFO m3\n"},
		{"no nextPageStart on a page that is not the last", func(start int) model.Page[model.Message] {
			return model.Page[model.Message]{Start: start, Values: []model.Message{msg(start)}}
		}, "INFO m0\n"},
		{"nextPageStart at the page's start", func(start int) model.Page[model.Message] {
			return model.Page[model.Message]{Start: start, NextPageStart: &start, Values: []model.Message{msg(start)}}
		}, "INFO m0\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &pagingBackend{fakeBackend: newFakeBackend(), page: c.page}
			b.set(endedJob())
			var out strings.Builder
			job, err := WatchJob(context.Background(), b, 12, WatchOptions{Out: &out, Now: func() time.Time { return t0 }})
			want := c.want + "17:00:00 COMPLETED 100% Import completed\n"
			if err != nil || job.State != model.StateCompleted || out.String() != want {
				t.Errorf("job %s (%v), printed\n%s\nwant\n%s", job.State, err, out.String(), want)
			}
		})
	}
}

func TestWatchJobWithoutOutputAsksNoMessages(t *testing.T) {
	b := &pagingBackend{fakeBackend: newFakeBackend(), page: func(int) model.Page[model.Message] {
		panic("a silent watcher asked for messages")
	}}
	b.set(endedJob())
	if job, err := WatchJob(context.Background(), b, 12, WatchOptions{}); err != nil || job.State != model.StateCompleted {
		t.Errorf("job %s (%v)", job.State, err)
	}
}

func TestProgressBar(t *testing.T) {
	var out strings.Builder
	now := t0
	bar := NewProgressBar(&out, func() time.Time { return now })
	now = now.Add(2 * time.Second)
	bar.Show(1<<20, 4<<20)
	bar.Clear()
	want := "\r[#######.......................]  25%  1.0 MiB of 4.0 MiB  512 KiB/s \r\x1b[2K"
	if out.String() != want {
		t.Errorf("bar drew %q, want %q", out.String(), want)
	}
}

// The notice before a door follows a job says what Ctrl+C does to that
// job: an import stops at its next checkpoint, an export at once.
func TestFollowNoticeSaysWhatCtrlCDoes(t *testing.T) {
	for _, c := range []struct {
		job    model.Job
		detach string
		want   string
	}{
		{model.Job{Type: model.JobTypeImport}, "use --detach", "Ctrl+C cancels at the next checkpoint; close the terminal or use --detach to leave it running"},
		{model.Job{Type: model.JobTypeExport}, "use --detach", "Ctrl+C cancels at once, leaving no archive; close the terminal or use --detach to leave it running"},
		{model.Job{}, "", "Ctrl+C cancels at the next checkpoint; close the terminal to leave it running"},
	} {
		if got := FollowNotice(c.job, c.detach); got != c.want {
			t.Errorf("FollowNotice(%s, %q) = %q, want %q", c.job.Type, c.detach, got, c.want)
		}
	}
}
