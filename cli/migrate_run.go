package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"bbimport/carry"
	"bbimport/model"
	"bbimport/ui"
	"bbimport/verify"
	"bbimport/wire"
)

// migrateRunnerCommand is the hidden command that performs a migration's
// steps, started by migrate in a session of its own so that it outlives
// the terminal; it writes each step to the record the command follows.
const migrateRunnerCommand = "__migrate"

// The environment through which migrate hands the runner the Bitbucket
// credentials it resolved (never written to the record or a command line).
const (
	envMigrateFromUser     = "BBIMPORT_MIGRATE_FROM_USER"
	envMigrateFromPassword = "BBIMPORT_MIGRATE_FROM_PASSWORD"
	envMigrateFromToken    = "BBIMPORT_MIGRATE_FROM_TOKEN"
	envMigrateToUser       = "BBIMPORT_MIGRATE_TO_USER"
	envMigrateToPassword   = "BBIMPORT_MIGRATE_TO_PASSWORD"
	envMigrateToToken      = "BBIMPORT_MIGRATE_TO_TOKEN"
)

// Test hooks, read by the runner only when BBIMPORT_MIGRATE_TEST is set
// (the tests' runner): kill the runner once this many bytes were carried,
// or once the carried file has its name (before the record says so), and
// change a byte of the carried file before the MD5s are compared.
const (
	envTestKillAt    = "BBIMPORT_MIGRATE_TEST_KILL_AT"
	envTestKillNamed = "BBIMPORT_MIGRATE_TEST_KILL_NAMED"
	envTestFlip      = "BBIMPORT_MIGRATE_TEST_FLIP"
)

func newMigrateRunnerCmd(g *globalFlags) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:    migrateRunnerCommand,
		Short:  "Run one migration (started by bbimport migrate itself)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signal.Ignore(syscall.SIGHUP)
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			dir, err := migrationsDir()
			if err != nil {
				return err
			}
			m, err := loadMigration(dir, id)
			if err != nil {
				return err
			}
			r := &migrationRun{g: g, m: m, dir: dir}
			return r.run(ctx)
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "the migration to run")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

// migrationRun performs a migration's steps from the one its record names.
type migrationRun struct {
	g   *globalFlags
	m   *migration
	dir string
	mu  sync.Mutex // the record, written from carry's progress too

	from, to *backend
	lastSave time.Time
}

func (r *migrationRun) save() {
	if err := r.m.save(r.dir); err != nil {
		fmt.Fprintln(os.Stderr, "bbimport:", err)
	}
	r.lastSave = time.Now()
}

func (r *migrationRun) run(ctx context.Context) error {
	r.mu.Lock()
	r.m.RunnerPID, r.m.State, r.m.Error = os.Getpid(), migrationRunning, ""
	r.save()
	r.mu.Unlock()
	defer func() {
		if r.from != nil {
			r.from.Close()
		}
		if r.to != nil {
			r.to.Close()
		}
	}()
	err := r.steps(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err == nil:
	case ctx.Err() != nil:
		r.m.State, r.m.Error = migrationCanceled, err.Error()
	default:
		r.m.State, r.m.Error = migrationFailed, err.Error()
	}
	r.m.RunnerPID = 0
	r.save()
	fmt.Fprintf(os.Stderr, "migration %s: %s\n", r.m.ID, r.m.stateLine())
	return err
}

// open opens both ends' backends with the credentials migrate handed over.
func (r *migrationRun) open(ctx context.Context) error {
	var err error
	if r.from, err = r.openEnd(ctx, r.m.From, false, envMigrateFromUser, envMigrateFromPassword, envMigrateFromToken); err != nil {
		return fmt.Errorf("the source: %w", err)
	}
	if r.to, err = r.openEnd(ctx, r.m.To, true, envMigrateToUser, envMigrateToPassword, envMigrateToToken); err != nil {
		return fmt.Errorf("the target: %w", err)
	}
	return nil
}

// A target home is made if it does not exist (it is imported into); a
// source home must exist.
func (r *migrationRun) openEnd(ctx context.Context, e migrationEnd, creates bool, userEnv, passwordEnv, tokenEnv string) (*backend, error) {
	g := *r.g
	g.home, g.url, g.user, g.token, g.importDir = e.Home, e.URL, os.Getenv(userEnv), os.Getenv(tokenEnv), ""
	g.caFile, g.insecure = r.m.CAFile, r.m.Insecure
	if e.URL != "" {
		// openRemote reads the password where --user's comes from; this
		// process is the runner's own, and opens its ends one at a time.
		if err := os.Setenv("BITBUCKET_PASSWORD", os.Getenv(passwordEnv)); err != nil {
			return nil, err
		}
		defer os.Unsetenv("BITBUCKET_PASSWORD")
	}
	return openBackend(ctx, &g, creates)
}

func (r *migrationRun) steps(ctx context.Context) error {
	if err := r.open(ctx); err != nil {
		return err
	}
	for {
		var err error
		switch r.m.Step {
		case stepPreview:
			err = r.preview(ctx)
		case stepExport:
			err = r.export(ctx)
		case stepCarry:
			err = r.carry(ctx)
		case stepImport:
			err = r.importArchive(ctx)
		case stepVerify:
			err = r.verify(ctx)
		case stepDone:
			return nil
		default:
			return fmt.Errorf("the record names an unknown step %q", r.m.Step)
		}
		if err != nil {
			return err
		}
	}
}

func (r *migrationRun) next(step string) {
	r.mu.Lock()
	r.m.Step = step
	r.save()
	r.mu.Unlock()
}

// preview refuses a target older than the source (Bitbucket imports only
// from the same or an older release) and says what the export writes.
func (r *migrationRun) preview(ctx context.Context) error {
	if err := checkVersions(ctx, r.from, r.to); err != nil {
		return err
	}
	exporter, ok := r.from.Backend.(model.Exporter)
	if !ok {
		return fmt.Errorf("the source cannot export: %w", model.ErrNotSupported)
	}
	p, err := exporter.PreviewExport(ctx, r.exportRequest())
	if err != nil {
		return err
	}
	if !p.Fits() {
		return fmt.Errorf("the export (about %s) does not fit the source's free disk (%s)", humanize.IBytes(uint64(p.EstimatedBytes)), humanize.IBytes(uint64(p.FreeBytes)))
	}
	r.m.Preview = previewWhat(p) + ": " + previewSize(p)
	r.next(stepExport)
	return nil
}

func (r *migrationRun) exportRequest() model.ExportRequest {
	var req model.ExportRequest
	for _, s := range r.m.Selectors {
		sel, _ := model.ParseSelector(s) // checked by migrate
		req.RepositoriesRequest.Includes = append(req.RepositoriesRequest.Includes, sel)
	}
	return req
}

// bitbucketVersion is the Bitbucket release an end speaks: a server's
// own, and for a home the release whose archives bbimport writes.
func bitbucketVersion(ctx context.Context, b *backend) (string, error) {
	id, err := b.Identity(ctx)
	if err != nil {
		return "", err
	}
	if !id.Remote {
		return wire.BitbucketVersion, nil
	}
	return id.Version, nil
}

func checkVersions(ctx context.Context, from, to *backend) error {
	fv, err := bitbucketVersion(ctx, from)
	if err != nil {
		return fmt.Errorf("the source's version: %w", err)
	}
	tv, err := bitbucketVersion(ctx, to)
	if err != nil {
		return fmt.Errorf("the target's version: %w", err)
	}
	if compareVersions(tv, fv) < 0 {
		return fmt.Errorf("the target runs Bitbucket %s, older than the source's %s: Bitbucket imports only from the same or an older release; upgrade the target first", tv, fv)
	}
	return nil
}

// compareVersions compares dotted release numbers (9.4.18 < 9.10.0); a
// part that is not a number counts as 0.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(strings.TrimFunc(as[i], func(c rune) bool { return c < '0' || c > '9' }))
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(strings.TrimFunc(bs[i], func(c rune) bool { return c < '0' || c > '9' }))
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// export starts the export (once: a resumed migration follows the job it
// started, unless that job ended without an archive) and waits for it.
func (r *migrationRun) export(ctx context.Context) error {
	if r.m.ExportJob != 0 {
		// A canceled or failed export leaves no archive behind, so a resume
		// exports again rather than follow a job that can only fail.
		if job, err := r.from.Job(ctx, r.m.ExportJob); err == nil && job.State.Finished() && job.State != model.StateCompleted {
			r.mu.Lock()
			r.m.ExportJob = 0
			r.save()
			r.mu.Unlock()
		}
	}
	if r.m.ExportJob == 0 {
		exporter, ok := r.from.Backend.(model.Exporter)
		if !ok {
			return fmt.Errorf("the source cannot export: %w", model.ErrNotSupported)
		}
		job, err := exporter.StartExport(ctx, r.exportRequest())
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.m.ExportJob = job.ID
		r.save()
		r.mu.Unlock()
	}
	job, err := waitJob(ctx, r.from, r.m.ExportJob)
	if err != nil {
		return fmt.Errorf("export job %d: %w", r.m.ExportJob, err)
	}
	r.m.Archive = path.Base(job.Archive)
	r.next(stepCarry)
	return nil
}

// waitJob follows a job to its end; canceled, it cancels the job.
func waitJob(ctx context.Context, b *backend, id int64) (model.Job, error) {
	job, err := ui.WatchJob(ctx, b, id, ui.WatchOptions{})
	if ctx.Err() != nil {
		if cerr := b.Cancel(context.WithoutCancel(ctx), id); cerr != nil && !errors.Is(cerr, model.ErrJobFinished) {
			return job, fmt.Errorf("canceled, and the job did not stop: %w", cerr)
		}
		return job, fmt.Errorf("canceled; job %d was asked to stop", id)
	}
	if err != nil {
		return job, err
	}
	if job.State != model.StateCompleted {
		return job, fmt.Errorf("ended %s: bbimport messages %d says why", job.State, id)
	}
	return job, nil
}

// exportPath is where the source's export job wrote the archive.
func (r *migrationRun) exportPath() string {
	return path.Join(filepath.ToSlash(r.m.From.SharedHome), "data", "migration", "export", r.m.Archive)
}

// importDir is the target's import directory.
func (r *migrationRun) importDir() string {
	return path.Join(filepath.ToSlash(r.m.To.SharedHome), "data", "migration", "import")
}

// side is an end's machine for carry: this one, or an SSH connection.
func (r *migrationRun) side(ctx context.Context, e migrationEnd) (carry.Side, func(), error) {
	if e.Local() {
		return carry.Local, func() {}, nil
	}
	rm, err := r.dial(ctx, e)
	if err != nil {
		return nil, nil, err
	}
	return rm, func() { rm.Close() }, nil
}

// dial opens an SSH connection to an end's machine.
func (r *migrationRun) dial(ctx context.Context, e migrationEnd) (*carry.Remote, error) {
	a, err := carry.ParseAddress(e.SSH)
	if err != nil {
		return nil, err
	}
	return carry.Dial(ctx, a, carry.Keys{IdentityFile: r.m.Identity})
}

// carry carries the archive into the target's import directory and
// compares both ends' MD5s; a second attempt continues at the byte where
// the first stopped.
func (r *migrationRun) carry(ctx context.Context) error {
	from, closeFrom, err := r.side(ctx, r.m.From)
	if err != nil {
		return fmt.Errorf("the source's SSH: %w", err)
	}
	defer closeFrom()
	to, closeTo, err := r.side(ctx, r.m.To)
	if err != nil {
		return fmt.Errorf("the target's SSH: %w", err)
	}
	defer closeTo()
	r.mu.Lock()
	if r.m.Carry == nil {
		r.m.Carry = &migrationCarry{}
	}
	resume := r.m.Carry.Attempts > 0
	r.m.Carry.Attempts++
	sentBefore := r.m.Carry.Sent
	r.save()
	r.mu.Unlock()
	opts := carry.Options{Resume: resume, Progress: func(p carry.Progress) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.m.Carry.Step, r.m.Carry.Done, r.m.Carry.Total, r.m.Carry.Rate = string(p.Step), p.Done, p.Total, p.Rate
		if time.Since(r.lastSave) > 500*time.Millisecond || p.Done == p.Total {
			r.save()
		}
	}, Checked: func(res carry.Result) {
		// Recorded before the file is named: a runner that dies between
		// the rename and the record's next write finds its file again.
		r.mu.Lock()
		defer r.mu.Unlock()
		c := r.m.Carry
		c.Sums, c.SourceMD5, c.TargetMD5, c.Resumed, c.Sent = res.Sums, res.Source.MD5, res.Target.MD5, res.Resumed, sentBefore+res.Sent
		r.save()
	}}
	if sums := r.m.Carry.Sums; sums.MD5 != "" {
		opts.Finished = &sums
	}
	testHooks(&opts)
	res, err := carry.Carry(ctx, from, r.exportPath(), to, r.importDir(), opts)
	if err == nil && os.Getenv("BBIMPORT_MIGRATE_TEST") != "" && os.Getenv(envTestKillNamed) != "" {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	r.mu.Lock()
	c := r.m.Carry
	c.Resumed, c.Sent = res.Resumed, sentBefore+res.Sent
	r.mu.Unlock()
	if err != nil {
		return err
	}
	r.mu.Lock()
	c.Path, c.Sums, c.SourceMD5, c.TargetMD5, c.Notes = res.Path, res.Sums, res.Source.MD5, res.Target.MD5, res.Notes
	r.mu.Unlock()
	r.next(stepImport)
	return nil
}

// testHooks arms the tests' hooks in the tests' runner only.
func testHooks(opts *carry.Options) {
	if os.Getenv("BBIMPORT_MIGRATE_TEST") == "" {
		return
	}
	if n, err := strconv.ParseInt(os.Getenv(envTestKillAt), 10, 64); err == nil {
		opts.Carried = func(done int64) {
			if done >= n {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
	if os.Getenv(envTestFlip) != "" {
		opts.AfterCarry = func(tmp string) {
			f, err := os.OpenFile(tmp, os.O_RDWR, 0)
			if err != nil {
				return
			}
			defer f.Close()
			b := make([]byte, 1)
			_, _ = f.ReadAt(b, 100)
			b[0] ^= 0xff
			_, _ = f.WriteAt(b, 100)
		}
	}
}

// importArchive imports the carried archive (once: a resumed migration
// follows the job it started) and waits for it.
func (r *migrationRun) importArchive(ctx context.Context) error {
	resumed := r.m.ImportJob != 0
	if !resumed {
		job, err := r.to.Start(ctx, r.m.Archive)
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.m.ImportJob = job.ID
		r.save()
		r.mu.Unlock()
	}
	if job, err := waitJob(ctx, r.to, r.m.ImportJob); err != nil {
		// Resumed after the import ended short of COMPLETED (canceled, or
		// failed): what it imported stays on the target, and importing
		// the archive again would land it a second time under new names,
		// as Bitbucket renames on a collision. Verify says what is missing
		// and writes the remainder command that imports just that.
		if !resumed || ctx.Err() != nil || !job.State.Finished() {
			return fmt.Errorf("import job %d: %w", r.m.ImportJob, err)
		}
	}
	r.next(stepVerify)
	return nil
}

// verifyArchive is the archive verify reads: on this machine the target's
// copy when the target is here, else the source's; with neither end here,
// the target's copy, read over SFTP (remoteArchive).
func (r *migrationRun) verifyArchive() string {
	switch {
	case r.m.To.Local():
		return filepath.Join(filepath.FromSlash(r.importDir()), r.m.Archive)
	case r.m.From.Local():
		return filepath.FromSlash(r.exportPath())
	}
	return path.Join(r.importDir(), r.m.Archive)
}

// remoteArchive says whether verify reads the archive on another machine.
func (m *migration) remoteArchive() bool { return !m.From.Local() && !m.To.Local() }

func (r *migrationRun) verify(ctx context.Context) error {
	id, err := r.to.Identity(ctx)
	if err != nil {
		return err
	}
	cfg := verify.Config{Archive: r.verifyArchive(), Target: id.Location, Concurrency: verify.DefaultConcurrency}
	if r.m.remoteArchive() {
		rm, err := r.dial(ctx, r.m.To)
		if err != nil {
			return fmt.Errorf("the target's SSH, to read the archive: %w", err)
		}
		defer rm.Close()
		cfg.OpenArchive = func(p string) (verify.File, error) {
			f, err := rm.Open(p)
			if err != nil {
				return nil, err
			}
			return f, nil
		}
	}
	v, err := verifierOn(r.to, cfg)
	if err != nil {
		return err
	}
	report, err := v.Verify(ctx, r.m.ImportJob)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.m.Verify = &migrationVerdict{Complete: report.Complete(), Differences: len(report.Differences), Totals: report.Totals}
	if report.Complete() {
		r.m.State = migrationComplete
	} else {
		r.m.State = migrationIncomplete
		r.m.Remainder = remainderCommand(r.m, r.verifyArchive())
	}
	r.mu.Unlock()
	r.next(stepDone)
	return nil
}

// remainderCommand is the command that writes the missing fork
// hierarchies as an archive in the target's import directory.
func remainderCommand(m *migration, archive string) string {
	target := "--home " + shellWord(m.To.Home)
	if m.To.Home == "" {
		target = "--url " + shellWord(m.To.URL)
		if m.To.User != "" {
			target += " --user " + shellWord(m.To.User)
		}
	}
	if m.remoteArchive() {
		// The remainder is written from an archive on this machine: fetch
		// the target's copy first.
		return fmt.Sprintf("bbimport carry %s . && bbimport %s verify %d --archive %s --remainder remainder-%s.tar",
			shellWord(m.To.SSH+":"+archive), target, m.ImportJob, shellWord(path.Base(archive)), m.ID)
	}
	return fmt.Sprintf("bbimport %s verify %d --archive %s --remainder remainder-%s.tar", target, m.ImportJob, shellWord(archive), m.ID)
}

// shellWord quotes s for a POSIX shell when it needs quoting.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
