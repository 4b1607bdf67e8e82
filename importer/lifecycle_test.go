package importer

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bbimport/archive/gen"
	"bbimport/model"
	"bbimport/wire"
)

func hasMessage(msgs []string, parts ...string) bool {
	for _, m := range msgs {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(m, p)
		}
		if all {
			return true
		}
	}
	return false
}

// cancelAt makes the job cancel itself the first time the run reaches
// point and want() agrees.
func cancelAt(in *Instance, point string, want func() bool) {
	var once sync.Once
	in.beforeCheckpoint = func(name string) {
		if name == point && want() {
			once.Do(func() {
				if err := in.Cancel(context.Background(), in.running.id); err != nil {
					panic(err)
				}
			})
		}
	}
}

func TestCancelBeforeTheNextPullRequest(t *testing.T) {
	in := openHome(t)
	seen := 0
	cancelAt(in, checkpointPullRequest, func() bool { seen++; return seen == 5 })
	job := importArchive(t, in, generated(t, "default", gen.DefaultOptions()))
	if job.State != model.StateCanceled {
		t.Fatalf("job ended %s", job.State)
	}
	msgs := messages(t, in, job.ID)
	if !hasMessage(msgs, "WARN", "canceled at the checkpoint before the next pull request", "4 pull requests imported", "#5 and everything after") {
		t.Errorf("no message naming the checkpoint:\n%s", strings.Join(msgs, "\n"))
	}
	if n := count(t, in, `SELECT COUNT(*) FROM pull_requests`); n != 4 {
		t.Errorf("%d pull requests stored, want 4", n)
	}
	assertClean(t, in)
	assertRepositoriesVerify(t, in)
}

func TestCancelBeforeTheNextRepository(t *testing.T) {
	in := openHome(t)
	prsSeen := false
	in.beforeCheckpoint = func(name string) {
		if name == checkpointPullRequest {
			prsSeen = true
		}
		if name == checkpointRepository && prsSeen {
			in.Cancel(context.Background(), in.running.id)
		}
	}
	job := importArchive(t, in, generated(t, "default", gen.DefaultOptions()))
	if job.State != model.StateCanceled {
		t.Fatalf("job ended %s", job.State)
	}
	msgs := messages(t, in, job.ID)
	if !hasMessage(msgs, "canceled at the checkpoint before the next repository", "1 repository and 10 pull requests imported", "Not imported: repository") {
		t.Errorf("no message naming the checkpoint:\n%s", strings.Join(msgs, "\n"))
	}
	if n := count(t, in, `SELECT COUNT(*) FROM repositories`); n != 1 {
		t.Errorf("%d repositories, want the first origin only", n)
	}
	assertClean(t, in)
	assertRepositoriesVerify(t, in)
}

func TestCancelInGitDataFinishesTheHierarchy(t *testing.T) {
	in := openHome(t)
	cancelAt(in, pointGitData, func() bool { return true })
	opts := gen.DefaultOptions()
	job := importArchive(t, in, generated(t, "default", opts))
	if job.State != model.StateCanceled {
		t.Fatalf("job ended %s", job.State)
	}
	msgs := messages(t, in, job.ID)
	if !hasMessage(msgs, "canceled at the checkpoint after the git data of the current fork hierarchy") ||
		!hasMessage(msgs, "WARN", "pull requests of", "were not imported: the import was canceled during the git data") ||
		!hasMessage(msgs, "WARN", "canceled", "bbimport verify 1 --remainder FILE") {
		t.Errorf("messages do not say where it stopped and what was left out:\n%s", strings.Join(msgs, "\n"))
	}
	// The hierarchy's pull requests were left out: it is not "imported and
	// verified", and its line says what is missing, fork included.
	if hasMessage(msgs, "imported and verified") {
		t.Errorf("a hierarchy canceled in its git data is called imported and verified:\n%s", strings.Join(msgs, "\n"))
	}
	if !hasMessage(msgs, "WARN", "Fork hierarchy of PULS/api imported in part", "not imported: 10 pull requests of PULS/api; 10 pull requests of ~MARGARET7/api") {
		t.Errorf("no message says what of the hierarchy was left out:\n%s", strings.Join(msgs, "\n"))
	}
	if n := count(t, in, `SELECT COUNT(*) FROM repositories`); n != 1+opts.Forks {
		t.Errorf("%d repositories, want the whole first hierarchy (%d)", n, 1+opts.Forks)
	}
	if n := count(t, in, `SELECT COUNT(*) FROM pull_requests`); n != 0 {
		t.Errorf("%d pull requests stored; cancel during git data means none of that hierarchy", n)
	}
	assertClean(t, in)
	assertRepositoriesVerify(t, in)
}

func assertRepositoriesVerify(t *testing.T, in *Instance) {
	t.Helper()
	rows, err := in.db.Query(`SELECT id FROM repositories`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		runGit(t, in.repositoryDir(id), "--git-dir=.", "fsck", "--no-progress")
	}
}

func TestCollisionsRenameWithWarnings(t *testing.T) {
	in := openHome(t)
	p := generated(t, "default", gen.DefaultOptions())
	first := importArchive(t, in, p)
	second := importArchive(t, in, p)
	if first.State != model.StateCompleted || second.State != model.StateCompleted {
		t.Fatalf("jobs ended %s and %s", first.State, second.State)
	}
	want := readArchive(t, p)
	warns := messages(t, in, second.ID, model.SeverityWarn)
	for aid, pr := range want.projects {
		id := newID(t, in, second.ID, "project", aid)
		var key, name string
		in.db.QueryRow(`SELECT key, name FROM projects WHERE id = ?`, id).Scan(&key, &name)
		if pr.Personal() {
			if key != pr.Key || id != newID(t, in, first.ID, "project", aid) {
				t.Errorf("personal project %s was not reused: %s", pr.Key, key)
			}
			continue
		}
		if key != pr.Key+"1" || name != pr.Name+" (1)" {
			t.Errorf("project %s %q imported again as %s %q, want %s1 %q", pr.Key, pr.Name, key, name, pr.Key, pr.Name+" (1)")
		}
		if !hasMessage(warns, "WARN "+key+":", "key "+pr.Key+" exists already", "imported with key "+key) ||
			!hasMessage(warns, "WARN "+key+":", "named \""+pr.Name+"\" exists already", "\""+name+"\"") {
			t.Errorf("no warnings with old and new key and name of %s:\n%s", pr.Key, strings.Join(warns, "\n"))
		}
	}
	personal := 0
	for aid, r := range want.repos {
		if !want.projects[r.ProjectID].Personal() {
			continue
		}
		personal++
		var slug, name string
		var origin int64
		in.db.QueryRow(`SELECT slug, name, origin_id FROM repositories WHERE id = ?`, newID(t, in, second.ID, "repository", aid)).Scan(&slug, &name, &origin)
		if slug != r.Slug+"-1" || name != r.Name+" (1)" {
			t.Errorf("repository %s %q in a personal project imported again as %s %q", r.Slug, r.Name, slug, name)
		}
		if !hasMessage(warns, "slug "+r.Slug+" exists already", "imported as "+slug) || !hasMessage(warns, "named \""+r.Name+"\" exists already", "\""+name+"\"") {
			t.Errorf("no warnings with old and new slug and name of %s", r.Slug)
		}
		if origin != newID(t, in, second.ID, "repository", r.OriginID) {
			t.Errorf("fork %s of the second import points at an origin of the first", slug)
		}
	}
	if personal == 0 {
		t.Fatal("the archive has no personal project: the case is not covered")
	}
	assertClean(t, in)
}

func TestIncompleteRepositoryIsAnItemError(t *testing.T) {
	in := openHome(t)
	opts := gen.DefaultOptions()
	opts.DropObjects = true
	p := generated(t, "drop-objects", opts)
	job := importArchive(t, in, p)
	if job.State != model.StateFailed {
		t.Fatalf("job ended %s, want FAILED", job.State)
	}
	errs := messages(t, in, job.ID, model.SeverityError)
	if !hasMessage(errs, "was not imported: git data is incomplete") {
		t.Errorf("no error about the incomplete repository:\n%s", strings.Join(errs, "\n"))
	}
	want := readArchive(t, p)
	if n := count(t, in, `SELECT COUNT(*) FROM repositories`); n == 0 || n >= len(want.repos) {
		t.Errorf("%d of %d repositories imported: the import should go on past the broken one", n, len(want.repos))
	}
	assertClean(t, in)
	assertRepositoriesVerify(t, in)
}

func TestCorruptPullRequestIsAnItemError(t *testing.T) {
	in := openHome(t)
	opts := gen.DefaultOptions()
	opts.CorruptPullRequest = 3
	p := generated(t, "corrupt-pr", opts)
	job := importArchive(t, in, p)
	if job.State != model.StateFailed {
		t.Fatalf("job ended %s, want FAILED:\n%s", job.State, strings.Join(messages(t, in, job.ID), "\n"))
	}
	errs := messages(t, in, job.ID, model.SeverityError)
	if len(errs) != 1 || !hasMessage(errs, "#3:", "pull request activities member cannot be read", "not imported") {
		t.Errorf("errors:\n%s", strings.Join(errs, "\n"))
	}
	// The pull request itself and everything else are there.
	want := readArchive(t, p)
	if n := count(t, in, `SELECT COUNT(*) FROM pull_requests`); n != countPRs(want) {
		t.Errorf("%d pull requests stored, the archive has %d", n, countPRs(want))
	}
	assertClean(t, in)
}

func countPRs(c archiveContent) int {
	n := 0
	for _, prs := range c.prs {
		n += len(prs)
	}
	return n
}

// writeArchive writes a small hand-made archive into the import directory.
func writeArchive(t *testing.T, in *Instance, name string, fill func(w *gen.Writer)) string {
	t.Helper()
	f, err := os.Create(filepath.Join(in.ImportDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	w := gen.NewWriter(f)
	fill(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return f.Name()
}

func TestHostileArchiveRunsNothing(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "pwned")
	opts := gen.DefaultOptions()
	opts.Hostile, opts.HostileMarker = true, marker
	in := openHome(t)
	job := importArchive(t, in, generated(t, "hostile", opts))
	if job.State != model.StateCompleted {
		t.Fatalf("job ended %s:\n%s", job.State, strings.Join(messages(t, in, job.ID), "\n"))
	}
	assertRepositoriesVerify(t, in) // fsck on every repository, with its config
	var id int64
	in.db.QueryRow(`SELECT id FROM repositories LIMIT 1`).Scan(&id)
	dir := in.repositoryDir(id)
	clone := filepath.Join(t.TempDir(), "clone")
	runGit(t, t.TempDir(), "clone", "-q", dir, clone) // checks out files the hostile filter applies to
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a command from the archive ran: the marker exists")
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "config"))
	if string(cfg) != freshConfig {
		t.Errorf("config is not ours:\n%s", cfg)
	}
	if _, err := os.Stat(filepath.Join(dir, "hooks")); err == nil {
		t.Error("the repository has a hooks directory")
	}
	hooks := 0
	filepath.Walk(filepath.Join(dir, "imported-hooks"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			hooks++
			if fi.Mode().Perm()&0o111 != 0 {
				t.Errorf("hook %s is executable", p)
			}
		}
		return nil
	})
	if hooks == 0 {
		t.Error("no hook kept under imported-hooks/")
	}
}

func TestStartRefusesPathsOutsideTheImportDirectory(t *testing.T) {
	in := openHome(t)
	outside := filepath.Join(t.TempDir(), "a.tar")
	os.WriteFile(outside, []byte("x"), 0o644)
	os.Symlink(outside, filepath.Join(in.ImportDir(), "link.tar"))
	os.Mkdir(filepath.Join(in.ImportDir(), "dir.tar"), 0o755)
	for _, p := range []string{"", outside, "link.tar", "dir.tar", "missing.tar", "../../../a.tar"} {
		_, err := in.Start(context.Background(), p)
		if !errors.Is(err, model.ErrBadArchivePath) {
			t.Errorf("Start(%q) = %v, want a bad archive path", p, err)
		}
	}
	if jobs, _ := in.KnownJobs(context.Background()); len(jobs) != 0 {
		t.Errorf("jobs were created: %v", jobs)
	}
}

func TestStartRefusesWhatTheDiskCannotHold(t *testing.T) {
	in := openHome(t)
	// A whole archive followed by zeros (sparse: they take no space),
	// which a tar reader takes as its end.
	data, err := os.ReadFile(generated(t, "default", gen.DefaultOptions()))
	if err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(in.ImportDir(), "huge.tar")
	if err := os.WriteFile(huge, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 1<<42); err != nil {
		t.Fatal(err)
	}
	_, err = in.Start(context.Background(), "huge.tar")
	if !errors.Is(err, model.ErrNotEnoughDisk) || !strings.Contains(err.Error(), "free") {
		t.Fatalf("Start = %v", err)
	}
}

func TestOneImportAtATime(t *testing.T) {
	in := openHome(t)
	p := place(t, in, generated(t, "default", gen.DefaultOptions()))
	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	in.beforeCheckpoint = func(string) {
		once.Do(func() { close(reached); <-release })
	}
	job, err := in.Start(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	<-reached
	if _, err := in.Start(context.Background(), p); !errors.Is(err, model.ErrImportRunning) {
		t.Errorf("second Start = %v", err)
	}
	if live, _ := in.Job(context.Background(), job.ID); live.State != model.StateRunning {
		t.Errorf("running job shows %s", live.State)
	}
	if err := in.Cancel(context.Background(), job.ID); err != nil {
		t.Fatal(err)
	}
	if live, _ := in.Job(context.Background(), job.ID); live.State != model.StateCanceling {
		t.Errorf("job shows %s after cancel", live.State)
	}
	close(release)
	final, _ := in.Wait(context.Background(), job.ID)
	if final.State != model.StateCanceled {
		t.Errorf("job ended %s", final.State)
	}
	if err := in.Cancel(context.Background(), job.ID); !errors.Is(err, model.ErrJobFinished) {
		t.Errorf("cancel of a finished job = %v", err)
	}
	if err := in.Cancel(context.Background(), 999); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("cancel of no job = %v", err)
	}
	if _, err := in.Messages(context.Background(), 999, model.MessageQuery{}); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("messages of no job = %v", err)
	}
}

func TestCloseStopsAtOnce(t *testing.T) {
	home := t.TempDir()
	in, err := Open(Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	p := place(t, in, generated(t, "default", gen.DefaultOptions()))
	reached := make(chan struct{})
	var once sync.Once
	in.beforeCheckpoint = func(name string) {
		if name == pointGitData {
			once.Do(func() { close(reached); <-in.running.ctx.Done() })
		}
	}
	job, err := in.Start(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	<-reached
	in.Close()
	in, err = Open(Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	final, _ := in.Job(context.Background(), job.ID)
	if final.State != model.StateCanceled {
		t.Errorf("job ended %s", final.State)
	}
	if !hasMessage(messages(t, in, job.ID), "stopped at once") {
		t.Error("no message says the job was stopped at once")
	}
	assertClean(t, in)
}

func TestHomeSharedAndBitbucketHome(t *testing.T) {
	home := t.TempDir()
	in, err := Open(Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	// Many processes may open one home; only running an import is exclusive.
	second, err := Open(Options{Home: home})
	if err != nil {
		t.Fatalf("second Open = %v", err)
	}
	second.Close()
	bb := t.TempDir()
	os.MkdirAll(filepath.Join(bb, "shared"), 0o755)
	os.WriteFile(filepath.Join(bb, "shared", "bitbucket.properties"), nil, 0o644)
	if _, err := Open(Options{Home: bb}); err == nil || !strings.Contains(err.Error(), "real Bitbucket home") {
		t.Errorf("Open of a Bitbucket home = %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(bb, "shared")); len(entries) != 1 {
		t.Errorf("something was written into the Bitbucket home: %v", entries)
	}
}

func TestMessagesFilteredAndPaged(t *testing.T) {
	in := openHome(t)
	p := generated(t, "default", gen.DefaultOptions())
	importArchive(t, in, p)
	job := importArchive(t, in, p) // renames: WARN messages
	ctx := context.Background()
	all := messages(t, in, job.ID)
	warns := messages(t, in, job.ID, model.SeverityWarn)
	errs := messages(t, in, job.ID, model.SeverityWarn, model.SeverityError)
	if len(warns) == 0 || len(warns) >= len(all) || len(errs) != len(warns) {
		t.Fatalf("%d messages, %d WARN, %d WARN or ERROR", len(all), len(warns), len(errs))
	}
	for _, w := range warns {
		if !strings.HasPrefix(w, "WARN ") {
			t.Errorf("severity filter let through %q", w)
		}
	}
	var key string
	in.db.QueryRow(`SELECT key FROM projects WHERE job_id = ? AND type = 'NORMAL' LIMIT 1`, job.ID).Scan(&key)
	page, err := in.Messages(ctx, job.ID, model.MessageQuery{Subject: key, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if page.Size == 0 {
		t.Fatalf("no message about %s", key)
	}
	for _, m := range page.Values {
		if m.Subject != key && !strings.HasPrefix(m.Subject, key+"/") && !strings.HasPrefix(m.Subject, key+"#") {
			t.Errorf("subject filter %s let through %q", key, m.Subject)
		}
	}
	one, _ := in.Messages(ctx, job.ID, model.MessageQuery{Start: 1, Limit: 1})
	if one.Size != 1 || one.Limit != 1 || one.IsLastPage || *one.NextPageStart != 2 || one.Values[0].Severity+" "+model.Severity(one.Values[0].Subject)+": "+model.Severity(one.Values[0].Text) != model.Severity(all[1]) {
		t.Errorf("page 2 of 1: %+v", one)
	}
	capped, _ := in.Messages(ctx, job.ID, model.MessageQuery{Limit: 5000})
	if capped.Limit != wire.MaxLimit {
		t.Errorf("limit %d not capped", capped.Limit)
	}
}

func TestRefNameRules(t *testing.T) {
	good := []string{"refs/heads/main", "refs/heads/feature/x-1", "refs/pull-requests/12/from", "refs/tags/v1.0"}
	bad := []string{"HEAD", "refs/heads/a..b", "refs/heads/.hidden", "refs/heads/x.lock", "refs/heads/a b", "refs/heads/a~1",
		"refs/heads/a^", "refs/heads/a:b", "refs/heads/a?", "refs/heads/a*", "refs/heads/a[", "refs/heads/a\\b", "refs/heads//a",
		"refs/heads/a/", "refs/heads/a.", "refs/heads/a@{1}", "refs/heads/\x01", "refs/heads/\x7f", "refs/"}
	for _, r := range good {
		if err := checkRefName(r); err != nil {
			t.Errorf("%q refused: %v", r, err)
		}
	}
	for _, r := range bad {
		if checkRefName(r) == nil {
			t.Errorf("%q accepted", r)
		}
	}
	// The same verdicts as git's own check.
	for _, r := range append(good, bad[1:]...) {
		err := exec.Command("git", "check-ref-format", r).Run()
		if (err == nil) != (checkRefName(r) == nil) {
			t.Errorf("%q: git says %v, we say %v", r, err, checkRefName(r))
		}
	}
}

// The kill -9 test runs an import in a child process (this test binary,
// re-executed) that stops in the middle of a repository's git data, kills
// it, and opens the home again.
const childHomeEnv = "BBIMPORT_TEST_CHILD_HOME"

func runChild(home string) int {
	in, err := Open(Options{Home: home})
	if err != nil {
		return 2
	}
	seen := 0
	in.beforeCheckpoint = func(name string) {
		if name == pointGitData {
			if seen++; seen == 3 {
				os.WriteFile(filepath.Join(home, "child-ready"), nil, 0o644)
				select {} // wait for kill -9 inside git data
			}
		}
	}
	job, err := in.Start(context.Background(), os.Getenv("BBIMPORT_TEST_CHILD_ARCHIVE"))
	if err != nil {
		return 2
	}
	in.Wait(context.Background(), job.ID)
	return 0
}

func TestKillMidImportThenRecover(t *testing.T) {
	home := t.TempDir()
	in, err := Open(Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	name := place(t, in, generated(t, "default", gen.DefaultOptions()))
	in.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childHomeEnv+"="+home, "BBIMPORT_TEST_CHILD_ARCHIVE="+name)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(home, "child-ready")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the child never reached the git data of its third repository")
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if entries, _ := os.ReadDir(filepath.Join(home, "shared", "data", "tmp")); len(entries) == 0 {
		t.Fatal("no half-built repository at the kill: the case is not covered")
	}

	in, err = Open(Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	jobs, _ := in.KnownJobs(context.Background())
	if len(jobs) != 1 || jobs[0].State != model.StateAborted || jobs[0].EndDate == 0 {
		t.Fatalf("jobs after restart: %+v", jobs)
	}
	if !hasMessage(messages(t, in, jobs[0].ID, model.SeverityError), "stopped while the job was RUNNING") {
		t.Error("no message says the process stopped")
	}
	assertClean(t, in)
	if n := count(t, in, `SELECT COUNT(*) FROM repositories`); n == 0 {
		t.Error("the repositories finished before the kill are gone")
	}
	assertRepositoriesVerify(t, in)
}
