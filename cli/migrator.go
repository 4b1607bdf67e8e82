package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"bbimport/model"
)

// migrator is model.Migrator for the console: the migrations recorded in
// the state directory, and new ones between the ends the console was
// opened with. A start or a resume spawns the same runner migrate
// --detach does; everything else reads the records.
type migrator struct {
	g   *globalFlags
	dir string // the migrations directory; "" when there is none

	ends  []model.MigrationEnd
	notes []string
	// by an end's String(): its backend (for the jobs' percentages) and
	// its export calls
	backends map[string]model.Backend
	known    map[string]remoteCreds // the console's own --url
	closers  []func() error
}

// consoleMigrator gives the console its ends: its home, or its --url with
// the shared home its import directory lies in, plus the home --home (or
// BBIMPORT_HOME) names beside a --url. Close releases what it opened.
func consoleMigrator(g *globalFlags, b *backend, importDir string) *migrator {
	mg := &migrator{g: g, backends: map[string]model.Backend{}, known: map[string]remoteCreds{}}
	dir, err := migrationsDir()
	if err != nil {
		mg.notes = append(mg.notes, err.Error())
	}
	mg.dir = dir
	if g.url == "" {
		if opts, err := importerOptions(g); err == nil {
			mg.add(model.MigrationEnd{Home: opts.Home, SharedHome: filepath.Join(opts.Home, "shared")}, b.Backend)
		}
	} else {
		mg.addURL(g, b, importDir)
		if g.home != "" {
			mg.addHome(g)
		}
	}
	if len(mg.ends) < 2 {
		mg.notes = append(mg.notes, "A migration needs two ends: open the console with --url URL (and --import-dir, that instance's import directory on this machine) and --home DIR, an instance home here.")
	}
	return mg
}

func (mg *migrator) add(e model.MigrationEnd, b model.Backend) {
	mg.ends = append(mg.ends, e)
	mg.backends[e.String()] = b
}

// addURL offers the console's --url, whose shared home is on this
// machine: the console runs on that server.
func (mg *migrator) addURL(g *globalFlags, b *backend, importDir string) {
	dir, err := filepath.Abs(importDir)
	if err != nil || filepath.Base(dir) != "import" || filepath.Base(filepath.Dir(dir)) != "migration" || filepath.Base(filepath.Dir(filepath.Dir(dir))) != "data" {
		mg.notes = append(mg.notes, fmt.Sprintf("%s cannot be migrated to or from here: its import directory %s is not <shared home>/data/migration/import; pass --import-dir as that instance's shared home has it.", g.url, importDir))
		return
	}
	user := b.creds.user
	if user == "" {
		user = g.user
	}
	mg.known[g.url] = b.creds
	mg.add(model.MigrationEnd{URL: g.url, User: user, SharedHome: filepath.Dir(filepath.Dir(filepath.Dir(dir)))}, b.Backend)
}

// addHome offers the home beside a --url; it must exist (a typo must not
// make one), and is opened for its projects and jobs.
func (mg *migrator) addHome(g *globalFlags) {
	hg := *g
	hg.url, hg.importDir = "", ""
	in, err := openImporter(&hg, false)
	if err != nil {
		mg.notes = append(mg.notes, fmt.Sprintf("The home %s cannot be migrated to or from: %v.", g.home, err))
		return
	}
	mg.closers = append(mg.closers, in.Close)
	mg.add(model.MigrationEnd{Home: in.Home(), SharedHome: filepath.Join(in.Home(), "shared")}, in)
}

// Close releases the homes the migrator opened; migrations go on.
func (mg *migrator) Close() {
	for _, c := range mg.closers {
		_ = c()
	}
}

func (mg *migrator) Ends() ([]model.MigrationEnd, []string) {
	return slices.Clone(mg.ends), slices.Clone(mg.notes)
}

func (mg *migrator) Exporter(from model.MigrationEnd) model.Exporter {
	x, _ := mg.backends[from.String()].(model.Exporter)
	return x
}

func (mg *migrator) records() (string, error) {
	if mg.dir == "" {
		return "", errors.New("no state directory for migrations: set XDG_STATE_HOME")
	}
	return mg.dir, nil
}

// runnerGrace is how long a record may name no runner before the console
// counts its runner as gone: a runner writes its pid at once.
const runnerGrace = 15 * time.Second

// status is a record as the console shows it.
func (mg *migrator) status(ctx context.Context, m *migration, jobs bool) model.MigrationStatus {
	s := model.MigrationStatus{Migration: m.Migration}
	// A runner just spawned has not written its pid yet.
	s.Stopped = m.State == migrationRunning && !m.runnerAlive() && (m.RunnerPID != 0 || time.Since(m.Updated) > runnerGrace)
	if !jobs {
		return s
	}
	job := func(e model.MigrationEnd, id int64) *model.Job {
		b := mg.backends[e.String()]
		if b == nil || id == 0 {
			return nil
		}
		j, err := b.Job(ctx, id)
		if err != nil {
			return nil
		}
		return &j
	}
	switch m.Step {
	case stepExport:
		s.Export = job(m.From, m.ExportJob)
	case stepImport:
		s.Import = job(m.To, m.ImportJob)
	}
	return s
}

func (mg *migrator) Migrations(ctx context.Context) ([]model.MigrationStatus, error) {
	dir, err := mg.records()
	if err != nil {
		return nil, err
	}
	ms, err := listMigrations(dir)
	if err != nil {
		return nil, err
	}
	out := make([]model.MigrationStatus, len(ms))
	for i, m := range ms {
		out[i] = mg.status(ctx, m, false)
	}
	return out, nil
}

// load reads migration id's record from the state directory dir.
func (mg *migrator) load(id string) (dir string, m *migration, err error) {
	if dir, err = mg.records(); err != nil {
		return "", nil, err
	}
	m, err = loadMigration(dir, id)
	return dir, m, err
}

func (mg *migrator) Migration(ctx context.Context, id string) (model.MigrationStatus, error) {
	_, m, err := mg.load(id)
	if err != nil {
		return model.MigrationStatus{}, err
	}
	return mg.status(ctx, m, true), nil
}

// StartMigration is what migrate --detach does, between two of the
// console's ends.
func (mg *migrator) StartMigration(ctx context.Context, req model.MigrationRequest) (model.MigrationStatus, error) {
	dir, err := mg.records()
	if err != nil {
		return model.MigrationStatus{}, err
	}
	if len(req.Selectors) == 0 {
		return model.MigrationStatus{}, errors.New("select what to migrate: a repository or a project")
	}
	for _, s := range req.Selectors {
		if _, err := model.ParseSelector(s); err != nil {
			return model.MigrationStatus{}, err
		}
	}
	for _, e := range []model.MigrationEnd{req.From, req.To} {
		if !slices.Contains(mg.ends, e) {
			return model.MigrationStatus{}, fmt.Errorf("%s is not an end this console was opened with", e)
		}
	}
	m := newMigrationRecord(req.Selectors)
	m.From, m.To, m.CAFile, m.Insecure = req.From, req.To, mg.g.caFile, mg.g.insecure
	m.Log = filepath.Join(dir, m.ID+".log")
	if err := mg.spawn(dir, m); err != nil {
		return model.MigrationStatus{}, err
	}
	return mg.status(ctx, m, false), nil
}

// spawn saves the record and starts its runner, with the credentials the
// console has or the environment and ~/.netrc give (nobody can be asked:
// the console has the terminal).
func (mg *migrator) spawn(dir string, m *migration) error {
	env, err := credentialsEnv(mg.g, m, nil, mg.known)
	if err != nil {
		return err
	}
	if err := m.save(dir); err != nil {
		return err
	}
	run, err := spawnMigrationRunner(m, env)
	if err != nil {
		return err
	}
	go func() { _ = run.Wait() }()
	return nil
}

func (mg *migrator) CancelMigration(_ context.Context, id string) error {
	_, m, err := mg.load(id)
	if err != nil {
		return err
	}
	if m.State != migrationRunning || !m.runnerAlive() {
		return fmt.Errorf("migration %s is not running: it is %s", id, m.stateLine())
	}
	if err := syscall.Kill(m.RunnerPID, syscall.SIGTERM); err != nil {
		return fmt.Errorf("cancel migration %s: %w", id, err)
	}
	return nil
}

func (mg *migrator) ResumeMigration(ctx context.Context, id string) (model.MigrationStatus, error) {
	dir, m, err := mg.load(id)
	if err != nil {
		return model.MigrationStatus{}, err
	}
	switch {
	case m.State == migrationRunning && m.runnerAlive():
		return mg.status(ctx, m, true), nil
	case m.State == migrationComplete || m.State == migrationIncomplete:
		return model.MigrationStatus{}, fmt.Errorf("migration %s ended %s: there is nothing to resume", id, m.State)
	}
	m.State, m.Error = migrationRunning, ""
	if err := mg.spawn(dir, m); err != nil {
		return model.MigrationStatus{}, err
	}
	return mg.status(ctx, m, false), nil
}
