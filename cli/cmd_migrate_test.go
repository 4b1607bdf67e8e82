package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bbimport/archive/gen"
	"bbimport/internal/sshdtest"
	"bbimport/model"
	"bbimport/wire"
)

// migrateArchive is large enough (about 8 MiB of random blobs) that a
// carry reports several chunks, so that the tests can stop it part way.
var migrateArchive = gen.Options{Projects: 1, Repos: 2, Forks: 1, PRs: 3, Commits: 4, BlobKiB: 1024, Seed: 5}

// migrateParts is a source home with the archive imported, a real sshd
// whose HOME vouches for it, and the state directory.
type migrateParts struct {
	t      *testing.T
	bin    string
	source string
	sshd   *sshdtest.Server
}

func newMigrateParts(t *testing.T) *migrateParts {
	t.Helper()
	s := sshdtest.Start(t)
	t.Setenv("HOME", s.Home)
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("BBIMPORT_MIGRATE_TEST", "1")
	t.Setenv("BITBUCKET_PASSWORD", "pw")
	source, name := homeWithArchive(t, migrateArchive)
	if _, code, err := runCmd(t, "--home", source, "import", name); code != exitOK {
		t.Fatalf("import into the source: exit %d (%v)", code, err)
	}
	// The test binary is bbimport for serve: building one takes minutes
	// on a busy machine.
	t.Setenv("BBIMPORT_TEST_AS_MAIN", "1")
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &migrateParts{t: t, bin: bin, source: source, sshd: s}
}

// target starts bbimport serve on a fresh home and returns the flags that
// name it as the target, its import directory reached over SFTP.
func (p *migrateParts) target() []string {
	home := p.t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "shared", "data", "migration", "import"), 0o755); err != nil {
		p.t.Fatal(err)
	}
	url := startServe(p.t, p.bin, home)
	return []string{"--to", url, "--user", "admin", "--to-ssh", p.sshd.Addr(p.sshd.User, p.sshd.Port), "--to-shared-home", filepath.Join(home, "shared")}
}

func (p *migrateParts) migrate(args ...string) (*migration, int, error) {
	p.t.Helper()
	out, code, err := runCmd(p.t, append([]string{"migrate", "--json"}, args...)...)
	var m migration
	if jerr := json.Unmarshal([]byte(out), &m); jerr != nil {
		return nil, code, err
	}
	return &m, code, err
}

// TestMigrateWhole: a home as source, serve as target with its import
// directory over a real sshd; the migration ends with the target verified
// complete, and --list shows it.
func TestMigrateWhole(t *testing.T) {
	p := newMigrateParts(t)
	m, code, err := p.migrate(append([]string{"--from-home", p.source, "*/*"}, p.target()...)...)
	if code != exitOK || m == nil {
		t.Fatalf("migrate: exit %d (%v), %+v", code, err, m)
	}
	if m.State != migrationComplete || m.Step != stepDone || m.Verify == nil || !m.Verify.Complete || m.Verify.Totals.Repositories.Present != 4 {
		t.Errorf("record: %+v, verify %+v", m, m.Verify)
	}
	if c := m.Carry; c == nil || c.Sent != c.Total || c.Total == 0 || c.SourceMD5 != c.TargetMD5 || c.SourceMD5 != c.Sums.MD5 {
		t.Errorf("carry: %+v", m.Carry)
	}
	out, code, _ := runCmd(t, "migrate", "--list")
	if code != exitOK || !strings.Contains(out, m.ID) || !strings.Contains(out, "complete") {
		t.Errorf("migrate --list: exit %d\n%s", code, out)
	}
}

// TestMigrateResume: the runner (and its SSH connection) killed part way
// through the carry; --resume continues at the byte where it stopped.
func TestMigrateResume(t *testing.T) {
	p := newMigrateParts(t)
	t.Setenv(envTestKillAt, "3000000")
	_, code, err := p.migrate(append([]string{"--from-home", p.source, "*/*"}, p.target()...)...)
	if code != exitNotStarted || err == nil || !strings.Contains(err.Error(), "stopped at carry") {
		t.Fatalf("migrate with the runner killed: exit %d (%v)", code, err)
	}
	id := strings.Fields(strings.TrimPrefix(err.Error(), "the runner of migration "))[0]
	os.Unsetenv(envTestKillAt)
	m, code, err := p.migrate("--resume", id)
	if code != exitOK || m == nil || m.State != migrationComplete {
		t.Fatalf("migrate --resume %s: exit %d (%v), %+v", id, code, err, m)
	}
	c := m.Carry
	// The runner died with writes in flight: what arrived is less than
	// what it had sent, and the resume starts there.
	if c.Attempts != 2 || c.Resumed == 0 || c.Sent != c.Total-c.Resumed {
		t.Errorf("the resumed carry started over or counted wrong: %+v", c)
	}
}

// TestMigrateBothRemote: both ends are serve processes whose shared homes
// are reached only over SSH, as two servers (the source through the
// SFTP-only port, the target through the other); the archive passes
// through this machine, and verify reads the target's copy over SFTP.
func TestMigrateBothRemote(t *testing.T) {
	p := newMigrateParts(t)
	from := startServe(t, p.bin, p.source)
	args := append([]string{"--from", from, "--from-ssh", p.sshd.Addr(p.sshd.User, p.sshd.SFTPOnlyPort),
		"--from-shared-home", filepath.Join(p.source, "shared"), "*/*"}, p.target()...)
	m, code, err := p.migrate(args...)
	if m != nil && strings.Contains(m.Error, "the source cannot export") {
		t.Skip("the REST client does not export yet: a URL cannot be a source")
	}
	if code != exitOK || m == nil {
		t.Fatalf("migrate: exit %d (%v), %+v", code, err, m)
	}
	if m.State != migrationComplete || m.Verify == nil || !m.Verify.Complete || m.Verify.Totals.Repositories.Present != 4 {
		t.Errorf("record: %+v, verify %+v", m, m.Verify)
	}
	if c := m.Carry; c == nil || c.Sent != c.Total || c.SourceMD5 != c.Sums.MD5 || c.TargetMD5 != c.Sums.MD5 || !strings.Contains(strings.Join(c.Notes, " "), "SFTP only") {
		t.Errorf("carry: %+v", m.Carry)
	}
}

// TestMigrateResumeAfterRename: the runner killed once the carried file
// has its name, before its record says so; --resume recognises the file
// as its own (same size, the MD5 it recorded before the rename, computed
// again at the target) and goes on to import and verify.
func TestMigrateResumeAfterRename(t *testing.T) {
	p := newMigrateParts(t)
	t.Setenv(envTestKillNamed, "1")
	_, code, err := p.migrate(append([]string{"--from-home", p.source, "*/*"}, p.target()...)...)
	if code != exitNotStarted || err == nil || !strings.Contains(err.Error(), "stopped at carry") {
		t.Fatalf("migrate with the runner killed after the rename: exit %d (%v)", code, err)
	}
	id := strings.Fields(strings.TrimPrefix(err.Error(), "the runner of migration "))[0]
	os.Unsetenv(envTestKillNamed)
	m, code, err := p.migrate("--resume", id)
	if code != exitOK || m == nil || m.State != migrationComplete {
		t.Fatalf("migrate --resume %s: exit %d (%v), %+v", id, code, err, m)
	}
	if c := m.Carry; c.Attempts != 2 || c.Sent != c.Total || c.Resumed != c.Total || c.TargetMD5 != c.Sums.MD5 || !strings.Contains(strings.Join(c.Notes, " "), "earlier attempt") {
		t.Errorf("the resumed carry did not take its finished file as carried: %+v", c)
	}
}

// TestMigrateTargetOlder: a target that reports an older Bitbucket than
// the source is refused before anything is exported, in one sentence.
// The target is serve behind a proxy that reports 8.9.0 as its version.
func TestMigrateTargetOlder(t *testing.T) {
	p := newMigrateParts(t)
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "shared", "data", "migration", "import"), 0o755); err != nil {
		t.Fatal(err)
	}
	serve, err := url.Parse(startServe(t, p.bin, home))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(serve)
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, wire.PathApplicationProperties) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"version":"8.9.0","buildNumber":"8009000","buildDate":"1700000000000","displayName":"Bitbucket"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer old.Close()
	m, code, err := p.migrate("--from-home", p.source, "--to", old.URL, "--user", "admin", "--to-shared-home", filepath.Join(home, "shared"), "*/*")
	if code != exitNotStarted || m == nil {
		t.Fatalf("migrate: exit %d (%v)", code, err)
	}
	want := "the target runs Bitbucket 8.9.0, older than the source's " + wire.BitbucketVersion
	if m.State != migrationFailed || m.Step != stepPreview || m.ExportJob != 0 || !strings.HasPrefix(m.Error, want) || strings.Count(m.Error, ". ") > 0 {
		t.Errorf("record: state %s, step %s, export job %d, error %q", m.State, m.Step, m.ExportJob, m.Error)
	}
	out, code, err := runCmd(t, "--home", p.source, "jobs", "--json")
	var jobs struct{ Values []struct{ Type string } }
	if code != exitOK || json.Unmarshal([]byte(out), &jobs) != nil || len(jobs.Values) != 1 || strings.Contains(jobs.Values[0].Type, "export") {
		t.Errorf("the source's jobs (exit %d, %v): want only its import:\n%s", code, err, out)
	}
}

// TestMigrateMismatch: a byte changed at the target after the transfer is
// caught by the MD5 comparison, and nothing is imported.
func TestMigrateMismatch(t *testing.T) {
	p := newMigrateParts(t)
	t.Setenv(envTestFlip, "1")
	m, code, err := p.migrate(append([]string{"--from-home", p.source, "*/*"}, p.target()...)...)
	if code != exitNotStarted || m == nil {
		t.Fatalf("migrate: exit %d (%v)", code, err)
	}
	if m.State != migrationFailed || m.Step != stepCarry || m.ImportJob != 0 || !strings.Contains(m.Error, "differs from the source's") {
		t.Errorf("record: state %s, step %s, import job %d, error %q", m.State, m.Step, m.ImportJob, m.Error)
	}
}

// TestMigrateUnknownHost: a target whose host key known_hosts does not
// hold is refused with its fingerprint, before anything is carried.
func TestMigrateUnknownHost(t *testing.T) {
	p := newMigrateParts(t)
	p.sshd.WriteKnownHosts(t)
	m, code, err := p.migrate(append([]string{"--from-home", p.source, "*/*"}, p.target()...)...)
	if code != exitNotStarted || m == nil {
		t.Fatalf("migrate: exit %d (%v)", code, err)
	}
	if m.State != migrationFailed || m.Step != stepCarry || !strings.Contains(m.Error, "is not in") || !strings.Contains(m.Error, "SHA256:") {
		t.Errorf("record: state %s, step %s, error %q", m.State, m.Step, m.Error)
	}
}

// TestMigrateRefusals: what the command refuses before anything runs.
func TestMigrateRefusals(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--from-home", "a", "--to-home", "b"}, "name what to migrate"},
		{[]string{"--to-home", "b", "P/*"}, "name the from end"},
		{[]string{"--from-home", "a", "--to-home", "b", "nope"}, "nope"},
		{[]string{"--resume", "20990101-000000-000000"}, "no such migration"},
	} {
		_, code, err := runCmd(t, append([]string{"migrate"}, c.args...)...)
		if code != exitNotStarted || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("migrate %v: exit %d (%v), want 2 saying %q", c.args, code, err, c.want)
		}
	}
	if v := compareVersions("9.4.18", "9.10.0"); v >= 0 {
		t.Errorf("9.4.18 vs 9.10.0: %d", v)
	}
}

// TestRemainderCommand: the command a migration names for what is
// missing; with both ends on servers it fetches the target's archive first,
// since the remainder is written from a file on this machine.
func TestRemainderCommand(t *testing.T) {
	m := &migration{model.Migration{ID: "X", ImportJob: 7, To: migrationEnd{URL: "http://t:7990", User: "admin", SSH: "root@t:2222", SharedHome: "/s"},
		From: migrationEnd{URL: "http://f", SSH: "f"}}}
	want := "bbimport carry root@t:2222:/s/data/migration/import/B.tar . && bbimport --url http://t:7990 --user admin verify 7 --archive B.tar --remainder remainder-X.tar"
	if got := remainderCommand(m, "/s/data/migration/import/B.tar"); got != want {
		t.Errorf("both ends remote:\n got %s\nwant %s", got, want)
	}
	m.From = migrationEnd{Home: "/h"}
	want = "bbimport --url http://t:7990 --user admin verify 7 --archive /h/shared/data/migration/export/B.tar --remainder remainder-X.tar"
	if got := remainderCommand(m, "/h/shared/data/migration/export/B.tar"); got != want {
		t.Errorf("the source here:\n got %s\nwant %s", got, want)
	}
}

// TestMigrateOutlivesTmux: the admin's tmux session (and the shell in it)
// killed mid-migration; the runner, in a session of its own, finishes the
// migration, and --resume then prints it complete.
func TestMigrateOutlivesTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	p := newMigrateParts(t)
	env := []string{"HOME=" + p.sshd.Home, "SSH_AUTH_SOCK=", "XDG_STATE_HOME=" + os.Getenv("XDG_STATE_HOME"),
		"BBIMPORT_TEST_AS_MAIN=1", "BITBUCKET_PASSWORD=pw"}
	s := startTmux(t, append([]string{p.bin, "migrate", "--wait", "--from-home", p.source, "*/*"}, p.target()...), env)
	s.wait("export:")
	s.tmux("kill-server")

	dir, err := migrationsDir()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(e2eWait)
	for {
		ms, err := listMigrations(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 1 && ms[0].State != migrationRunning {
			if ms[0].State != migrationComplete {
				t.Fatalf("the migration ended %s: %s", ms[0].State, ms[0].Error)
			}
			m, code, err := p.migrate("--resume", ms[0].ID)
			if code != exitOK || m.State != migrationComplete {
				t.Errorf("migrate --resume of the finished migration: exit %d (%v)", code, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the migration did not finish after its tmux session was killed: %+v", ms)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
