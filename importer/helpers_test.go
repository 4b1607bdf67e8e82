package importer

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bbimport/archive/gen"
	"bbimport/model"
)

// archiveCache keeps generated archives per options for the whole test
// binary: generating builds real git repositories and takes a while.
var archiveCache = map[string]string{}

// generated returns the path of an archive generated with opts, made once.
func generated(t *testing.T, name string, opts gen.Options) string {
	t.Helper()
	if p, ok := archiveCache[name]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "bbimport-archives-")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".tar")
	if _, err := gen.GenerateFile(context.Background(), p, opts); err != nil {
		t.Fatalf("generate %s: %v", name, err)
	}
	archiveCache[name] = p
	return p
}

// openHome opens a fresh instance home.
func openHome(t *testing.T) *Instance {
	t.Helper()
	in, err := Open(Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

// place links an archive into the home's import directory and returns its
// name there.
func place(t *testing.T, in *Instance, archivePath string) string {
	t.Helper()
	name := filepath.Base(archivePath)
	if err := os.Link(archivePath, filepath.Join(in.ImportDir(), name)); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	return name
}

// importArchive runs a whole import and returns the final job.
func importArchive(t *testing.T, in *Instance, archivePath string) model.Job {
	t.Helper()
	job, err := in.Start(context.Background(), place(t, in, archivePath))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	final, err := in.Wait(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	return final
}

// messages returns a job's messages as "SEVERITY subject: text" lines.
func messages(t *testing.T, in *Instance, id int64, sev ...model.Severity) []string {
	t.Helper()
	var out []string
	q := model.MessageQuery{Severities: sev, Limit: 1000}
	for {
		page, err := in.Messages(context.Background(), id, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Values {
			out = append(out, string(m.Severity)+" "+m.Subject+": "+m.Text)
		}
		if page.IsLastPage {
			return out
		}
		q.Start = *page.NextPageStart
	}
}

func count(t *testing.T, in *Instance, query string, args ...any) int {
	t.Helper()
	var n int
	if err := in.db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// gitEnv is an environment for the tests' own git runs, which (unlike
// gitcmd's) work in non-bare repositories and name them with -C or
// --git-dir.
func gitEnv(home string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0"}
}

// runGit runs git outside any repository's settings, for checks.
func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// assertClean checks what every end of a job must leave: no build
// directory, no INITIALISING repository, no directory without its row.
func assertClean(t *testing.T, in *Instance) {
	t.Helper()
	if entries, _ := os.ReadDir(in.tmpDir()); len(entries) != 0 {
		t.Errorf("build directories left behind: %v", entries)
	}
	if n := count(t, in, `SELECT COUNT(*) FROM repositories WHERE state != 'AVAILABLE'`); n != 0 {
		t.Errorf("%d repositories are not AVAILABLE", n)
	}
	entries, _ := os.ReadDir(in.repositoriesDir())
	if n := count(t, in, `SELECT COUNT(*) FROM repositories`); n != len(entries) {
		t.Errorf("%d repository rows but %d directories", n, len(entries))
	}
}
