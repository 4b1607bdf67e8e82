package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"bbimport/carry"
	"bbimport/model"
	"bbimport/termsafe"
)

// defaultSharedHome is where Bitbucket keeps its shared home unless told
// otherwise.
const defaultSharedHome = "/var/atlassian/application-data/bitbucket/shared"

type migrateFlags struct {
	from, to           migrationEnd
	fromUser, toUser   string
	identity           string
	wait, detach, json bool
	list               bool
	resume             string
}

func newMigrateCmd(g *globalFlags) *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:   "migrate (--from-home DIR | --from URL [--from-ssh HOST]) (--to-home DIR | --to URL [--to-ssh HOST]) SELECTOR...",
		Short: "Migrate projects and repositories from a source to a target: export, carry, check, import, verify",
		Long: `migrate runs a whole migration as one flow, the steps an admin would
otherwise run by hand on two machines:

  1. preview the export on the source (SELECTOR as for export: PRJ/slug,
     PRJ/*, */*), and refuse a target older than the source (Bitbucket
     imports only from the same or an older release);
  2. export, and wait for the archive;
  3. carry it into the target's <shared home>/data/migration/import, over
     SFTP when the end is --from-ssh/--to-ssh [user@]host[:port] (keys from
     your agent, ~/.ssh/id_* or -i; host keys from ~/.ssh/known_hosts: an
     unknown host is refused), and compare its MD5 on both machines;
  4. import it on the target and wait;
  5. verify the target against the archive: when something is missing,
     migrate says so and names the command that writes the remainder.

An end is an instance home on this machine (--from-home, --to-home) or a
Bitbucket (or bbimport serve) at a URL (--from, --to), whose shared home
(--from-shared-home, --to-shared-home; default ` + defaultSharedHome + `)
is on this machine or, with --from-ssh/--to-ssh, on that server. The
archive stays in the target's import directory. Verify reads it on this
machine when an end is here, else the target's copy over SFTP (a second
read of the archive across the network).

Credentials as for --url: --user and BITBUCKET_PASSWORD for both ends, or
--from-user/--to-user and BITBUCKET_FROM_PASSWORD/BITBUCKET_TO_PASSWORD
where the admins differ; ~/.netrc; else a prompt on a terminal.

The steps run in a runner process of their own, which goes on if this
command or its terminal goes away (SIGHUP only detaches). Each step is
recorded in $XDG_STATE_HOME/bbimport/migrations/<id>.json: --list lists
the migrations, --resume ID continues one from the step where it stopped
(a carry from the byte where it broke), or follows it if it runs. Ctrl+C
cancels: the export at once, the carry resumably, the import at its next
checkpoint.

Exit status: 0 the target verified complete (or detached); 1 it did not;
2 a step failed; 3 canceled.`,
		Example: `  bbimport migrate --from-home /srv/bbimport --to https://bitbucket.example.com --to-ssh admin@bitbucket.example.com --user admin 'PRJ/*'
  bbimport migrate --from https://old.example.com --from-user alice --to-home ~/bb 'PRJ/*' --wait
  bbimport migrate --list
  bbimport migrate --resume 20261207-161502-a1b2c3`,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := migrationsDir()
			if err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			switch {
			case f.list:
				return listMigrationsCmd(g.io.out, dir, f.json)
			case f.resume != "":
				return resumeMigration(cmd, g, &f, dir)
			}
			m, err := newMigration(g, &f, args)
			if err != nil {
				return &exitError{code: exitNotStarted, err: err}
			}
			return startMigration(cmd, g, &f, dir, m)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from.Home, "from-home", "", "the source: an instance home on this machine")
	fl.StringVar(&f.from.URL, "from", "", "the source: the base URL of a Bitbucket or bbimport serve")
	fl.StringVar(&f.from.SSH, "from-ssh", "", "the source's machine, `[user@]host[:port]`, for its archive (else this machine)")
	fl.StringVar(&f.from.SharedHome, "from-shared-home", defaultSharedHome, "the source's shared home, with --from")
	fl.StringVar(&f.fromUser, "from-user", "", "user for --from (password from $BITBUCKET_FROM_PASSWORD); default --user")
	fl.StringVar(&f.to.Home, "to-home", "", "the target: an instance home on this machine")
	fl.StringVar(&f.to.URL, "to", "", "the target: the base URL of a Bitbucket or bbimport serve")
	fl.StringVar(&f.to.SSH, "to-ssh", "", "the target's machine, `[user@]host[:port]`, for its import directory (else this machine)")
	fl.StringVar(&f.to.SharedHome, "to-shared-home", defaultSharedHome, "the target's shared home, with --to")
	fl.StringVar(&f.toUser, "to-user", "", "user for --to (password from $BITBUCKET_TO_PASSWORD); default --user")
	fl.StringVarP(&f.identity, "identity", "i", "", "private key to log in over SSH with, tried before the agent's")
	fl.BoolVar(&f.wait, "wait", false, "show each step and the carry's progress until the migration ends")
	fl.BoolVar(&f.detach, "detach", false, "print the migration's id and return at once; it goes on")
	fl.BoolVar(&f.json, "json", false, "print the final record (the list with --list) as JSON")
	fl.BoolVar(&f.list, "list", false, "list the migrations recorded here")
	fl.StringVar(&f.resume, "resume", "", "continue migration `ID` from the step where it stopped (or follow it if it runs)")
	cmd.MarkFlagsMutuallyExclusive("wait", "detach")
	cmd.MarkFlagsMutuallyExclusive("from-home", "from")
	cmd.MarkFlagsMutuallyExclusive("to-home", "to")
	cmd.MarkFlagsMutuallyExclusive("list", "resume")
	return cmd
}

// newMigration checks the command line and makes the record of a new
// migration.
func newMigration(g *globalFlags, f *migrateFlags, args []string) (*migration, error) {
	if len(args) == 0 {
		return nil, errors.New("name what to migrate: PRJ/slug, PRJ/* or */* (everything)")
	}
	for _, a := range args {
		if _, err := model.ParseSelector(a); err != nil {
			return nil, err
		}
	}
	m := newMigrationRecord(args)
	m.Identity, m.CAFile, m.Insecure = f.identity, g.caFile, g.insecure
	for _, e := range []struct {
		name string
		end  *migrationEnd
		user string
		out  *migrationEnd
	}{{"from", &f.from, f.fromUser, &m.From}, {"to", &f.to, f.toUser, &m.To}} {
		end := *e.end
		switch {
		case end.Home == "" && end.URL == "":
			return nil, fmt.Errorf("name the %s end: --%s-home DIR or --%s URL", e.name, e.name, e.name)
		case end.Home != "":
			if end.SSH != "" {
				return nil, fmt.Errorf("--%s-ssh goes with --%s URL: a home is on this machine", e.name, e.name)
			}
			home, err := filepath.Abs(end.Home)
			if err != nil {
				return nil, err
			}
			end.Home, end.SharedHome = home, filepath.Join(home, "shared")
		default:
			if _, err := urlHost(end.URL); err != nil {
				return nil, err
			}
			end.User = e.user
			if end.User == "" {
				end.User = g.user
			}
			if end.SSH != "" {
				if _, err := carry.ParseAddress(end.SSH); err != nil {
					return nil, fmt.Errorf("--%s-ssh: %w", e.name, err)
				}
			}
		}
		*e.out = end
	}
	return m, nil
}

// newMigrationRecord is a new migration of selectors at its first step;
// its ends are the caller's to fill in.
func newMigrationRecord(selectors []string) *migration {
	m := &migration{model.Migration{Created: time.Now().UTC(), Selectors: selectors, Step: stepPreview, State: migrationRunning}}
	m.ID = newMigrationID(m.Created)
	return m
}

// credentialsEnv resolves each URL end's credentials as --url does, and
// hands them to the runner in its environment. known are credentials
// already resolved for a URL (the console's own --url), used for the end
// of that URL and user; prompt is nil where nobody can be asked.
func credentialsEnv(g *globalFlags, m *migration, prompt promptFunc, known map[string]remoteCreds) ([]string, error) {
	var env []string
	for _, e := range []struct {
		end                 migrationEnd
		which               string // FROM, TO
		user, password, tkn string
	}{{m.From, "FROM", envMigrateFromUser, envMigrateFromPassword, envMigrateFromToken},
		{m.To, "TO", envMigrateToUser, envMigrateToPassword, envMigrateToToken}} {
		if e.end.URL == "" {
			continue
		}
		host, err := urlHost(e.end.URL)
		if err != nil {
			return nil, err
		}
		getenv := func(k string) string {
			if k == "BITBUCKET_PASSWORD" {
				if pw := os.Getenv("BITBUCKET_" + e.which + "_PASSWORD"); pw != "" {
					return pw
				}
			}
			return os.Getenv(k)
		}
		creds, ok := known[e.end.URL]
		if !ok || creds.user != e.end.User {
			if creds, err = remoteCredentials(host, e.end.User, g.token, getenv, netrcPath(), prompt); err != nil {
				return nil, fmt.Errorf("the %s end: %w", strings.ToLower(e.which), err)
			}
		}
		env = append(env, e.user+"="+creds.user, e.password+"="+creds.password, e.tkn+"="+creds.token)
	}
	return env, nil
}

func startMigration(cmd *cobra.Command, g *globalFlags, f *migrateFlags, dir string, m *migration) error {
	env, err := credentialsEnv(g, m, g.prompt(), nil)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	m.Log = filepath.Join(dir, m.ID+".log")
	if err := m.save(dir); err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	return runAndFollow(cmd, g, f, dir, m, env)
}

func resumeMigration(cmd *cobra.Command, g *globalFlags, f *migrateFlags, dir string) error {
	m, err := loadMigration(dir, f.resume)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	switch {
	case m.State == migrationRunning && m.runnerAlive():
		return followMigration(g, f, dir, m.ID, nil)
	case m.State == migrationComplete || m.State == migrationIncomplete:
		return finishMigration(g.io.out, m, f.json)
	}
	env, err := credentialsEnv(g, m, g.prompt(), nil)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	m.State, m.Error = migrationRunning, ""
	if err := m.save(dir); err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	fmt.Fprintf(g.io.errOut, "Resuming migration %s at %s\n", m.ID, m.Step)
	return runAndFollow(cmd, g, f, dir, m, env)
}

// runAndFollow starts the runner and follows the record.
func runAndFollow(_ *cobra.Command, g *globalFlags, f *migrateFlags, dir string, m *migration, env []string) error {
	// Signals are caught from before the start, as import does: one that
	// arrives while the runner starts is about the migration.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	run, err := spawnMigrationRunner(m, env)
	if err != nil {
		return &exitError{code: exitNotStarted, err: err}
	}
	exited := make(chan struct{})
	go func() { _ = run.Wait(); close(exited) }()
	if f.detach {
		fmt.Fprintf(g.io.out, "Started migration %s; follow it with: bbimport migrate --resume %s\n", m.ID, m.ID)
		return nil
	}
	return followMigration(g, f, dir, m.ID, &follows{signals: signals, exited: exited, pid: run.Process.Pid})
}

// spawnMigrationRunner starts the runner in a session of its own (so that
// the terminal's hang-up does not reach it), output to the migration's
// log; the caller waits for it.
func spawnMigrationRunner(m *migration, env []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the bbimport executable to run the migration with: %w", err)
	}
	logFile, err := os.OpenFile(m.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the migration's log: %w", err)
	}
	run := exec.Command(exe, migrateRunnerCommand, "--id", m.ID) //nolint:noctx // the runner outlives this command: a context would kill it
	run.Env = append(os.Environ(), env...)
	run.Stdout, run.Stderr = logFile, logFile
	run.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = run.Start()
	logFile.Close()
	if err != nil {
		return nil, fmt.Errorf("start the migration's runner: %w", err)
	}
	return run, nil
}

// follows is what following a runner this process started can use.
type follows struct {
	signals <-chan os.Signal
	exited  <-chan struct{}
	pid     int
}

// followMigration reads the record until the migration ends, saying
// each step (and with --wait the carry's bytes) as it comes.
func followMigration(g *globalFlags, f *migrateFlags, dir, id string, fl *follows) error {
	out, errOut := g.io.out, g.io.errOut
	if fl == nil {
		signals := make(chan os.Signal, 2)
		signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(signals)
		fl = &follows{signals: signals}
	}
	say := errOut
	if f.wait && !f.json {
		say = out
	}
	if !f.wait {
		fmt.Fprintf(errOut, "Migrating as %s (add --wait to see each step)\n", id)
	}
	var lastStep, lastCarry string
	canceled := false
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		m, err := loadMigration(dir, id)
		if err != nil {
			return &exitError{code: exitNotStarted, err: err}
		}
		if f.wait {
			if m.Step != lastStep {
				lastStep = m.Step
				if line := stepLine(m); line != "" {
					fmt.Fprintln(say, line)
				}
			}
			if c := m.Carry; m.Step == stepCarry && c != nil && c.Total > 0 {
				line := fmt.Sprintf("  %s: %s of %s", c.Step, humanize.IBytes(uint64(c.Done)), humanize.IBytes(uint64(c.Total)))
				if line != lastCarry {
					lastCarry = line
					fmt.Fprintln(say, line)
				}
			}
		}
		if m.State != migrationRunning {
			return finishMigration(out, m, f.json)
		}
		if fl.exited == nil && !m.runnerAlive() && m.RunnerPID != 0 {
			return &exitError{code: exitNotStarted, err: fmt.Errorf("the runner of migration %s stopped at %s without a word (see %s): bbimport migrate --resume %s continues it", id, m.Step, m.Log, id)}
		}
		select {
		case <-fl.exited:
			fl.exited = nil // read the record once more: the runner's last word
			if m2, err := loadMigration(dir, id); err == nil && m2.State == migrationRunning {
				return &exitError{code: exitNotStarted, err: fmt.Errorf("the runner of migration %s stopped at %s (see %s): bbimport migrate --resume %s continues it", id, m2.Step, m2.Log, id)}
			}
		case sig := <-fl.signals:
			pid := fl.pid
			if pid == 0 {
				pid = m.RunnerPID
			}
			switch {
			case sig == syscall.SIGHUP:
				fmt.Fprintf(errOut, "bbimport: detached; migration %s goes on: follow it with bbimport migrate --resume %s\n", id, id)
				return nil
			case !canceled && pid > 0:
				canceled = true
				fmt.Fprintln(errOut, "bbimport: canceling the migration (the carry can be resumed; an import stops at its next checkpoint)")
				_ = syscall.Kill(pid, syscall.SIGTERM)
			default:
				return &exitError{code: exitCanceled, err: fmt.Errorf("stopped following migration %s, which is being canceled", id)}
			}
		case <-tick.C:
		}
	}
}

// stepLine says what a step is about to do.
func stepLine(m *migration) string {
	switch m.Step {
	case stepPreview:
		return fmt.Sprintf("preview: %s on %s", strings.Join(m.Selectors, " "), termsafe.String(m.From.String()))
	case stepExport:
		return "export: " + termsafe.String(m.Preview)
	case stepCarry:
		return fmt.Sprintf("carry: %s (export job %d) to %s", termsafe.String(m.Archive), m.ExportJob, termsafe.String(m.To.String()))
	case stepImport:
		return fmt.Sprintf("checksums: MD5 %s at both ends; import on %s", m.Carry.Sums.MD5, termsafe.String(m.To.String()))
	case stepVerify:
		return fmt.Sprintf("verify: import job %d against the archive", m.ImportJob)
	}
	return ""
}

// finishMigration prints the outcome and exits with its status.
func finishMigration(out io.Writer, m *migration, asJSON bool) error {
	if asJSON {
		if err := printJSON(out, m); err != nil {
			return err
		}
	} else {
		printMigration(out, m)
	}
	if code := m.exitCode(); code != exitOK {
		return &exitError{code: code}
	}
	return nil
}

func printMigration(out io.Writer, m *migration) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Migration\t%s: %s\n", m.ID, termsafe.String(m.stateLine()))
	fmt.Fprintf(tw, "From\t%s\n", termsafe.String(m.From.String()))
	fmt.Fprintf(tw, "To\t%s\n", termsafe.String(m.To.String()))
	if m.ExportJob != 0 {
		fmt.Fprintf(tw, "Export\tjob %d: %s\n", m.ExportJob, termsafe.String(m.Archive))
	}
	if c := m.Carry; c != nil && c.Path != "" {
		fmt.Fprintf(tw, "Carried\t%s to %s (%s sent, %d attempts)\n", humanize.IBytes(uint64(c.Total)), termsafe.String(c.Path), humanize.IBytes(uint64(c.Sent)), c.Attempts)
		fmt.Fprintf(tw, "MD5\t%s at the source, %s at the target\n", c.SourceMD5, c.TargetMD5)
	}
	if m.ImportJob != 0 {
		fmt.Fprintf(tw, "Import\tjob %d\n", m.ImportJob)
	}
	if v := m.Verify; v != nil {
		fmt.Fprintf(tw, "Verify\t%d of %d repositories, %d of %d pull requests present; %d differences\n",
			v.Totals.Repositories.Present, v.Totals.Repositories.Expected, v.Totals.PullRequests.Present, v.Totals.PullRequests.Expected, v.Differences)
	}
	tw.Flush()
	switch m.State {
	case migrationComplete:
		fmt.Fprintln(out, "Everything in the archive is on the target.")
	case migrationIncomplete:
		fmt.Fprintf(out, "Something is missing on the target. Write the remainder as an archive, then import it:\n  %s\n", termsafe.String(m.Remainder))
	case migrationFailed, migrationCanceled:
		fmt.Fprintf(out, "Continue it with: bbimport migrate --resume %s\n", m.ID)
	}
}

func listMigrationsCmd(out io.Writer, dir string, asJSON bool) error {
	ms, err := listMigrations(dir)
	if err != nil {
		return err
	}
	if asJSON {
		if ms == nil {
			ms = []*migration{}
		}
		return printJSON(out, ms)
	}
	if len(ms) == 0 {
		fmt.Fprintln(out, "No migrations recorded in", dir)
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFROM\tTO\tSELECTORS\tSTATE")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.ID, termsafe.String(m.From.String()), termsafe.String(m.To.String()),
			termsafe.String(strings.Join(m.Selectors, " ")), termsafe.String(m.stateLine()))
	}
	return tw.Flush()
}
