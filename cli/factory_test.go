package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/model"
	"bbimport/server/servertest"
)

// fakeHome is a command line's world without a home or a runner process:
// servertest.Fake (the fake every door's conformance suite runs against)
// behind the factory's Backend, and an import directory holding the
// archives it names (empty files: the fake starts them, never reads them).
type fakeHome struct {
	t    *testing.T
	fake *servertest.Fake
	// backend is what the factory hands the commands; a test may wrap
	// fake in it (endingFake).
	backend model.Backend
	remote  bool
	opened  int // how often a command opened the backend
}

func newFakeHome(t *testing.T, archives ...string) *fakeHome {
	t.Helper()
	dir := t.TempDir()
	for _, name := range archives {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fake := servertest.New(dir)
	return &fakeHome{t: t, fake: fake, backend: fake}
}

// factory is a Factory of fresh flags whose Backend is the fake.
func (h *fakeHome) factory(g *globalFlags) *Factory {
	f := newFactory(g)
	f.Backend = func(context.Context, bool) (*backend, error) {
		h.opened++
		return &backend{Backend: h.backend, close: func() error { return nil }, remote: h.remote, importDir: h.fake.ImportDir}, nil
	}
	return f
}

// run runs a bbimport command line against the fake as Main does: what it
// prints on stdout and stderr and its exit status.
func (h *fakeHome) run(args ...string) (stdout, stderr string, code int) {
	h.t.Helper()
	g := &globalFlags{}
	f := h.factory(g)
	root := newRoot(g, f)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	code = exitStatus(root.ExecuteContext(context.Background()), f, &errOut)
	return out.String(), errOut.String(), code
}

// endingFake is the fake whose imports end as soon as they start, in end
// and with msgs: a command that follows a job sees its end at its first
// look, with no runner and no waiting.
type endingFake struct {
	*servertest.Fake
	end  model.State
	msgs []model.Message
}

func (e *endingFake) Start(ctx context.Context, path string, notes ...string) (model.Job, error) {
	job, err := e.Fake.Start(ctx, path, notes...)
	if err != nil {
		return job, err
	}
	e.AddMessages(job.ID, e.msgs...)
	e.Finish(job.ID, e.end)
	return job, nil
}
