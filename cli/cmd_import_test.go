package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"bbimport/archive/gen"
	"bbimport/importer"
	"bbimport/model"
	"bbimport/ui"
)

// homeWithArchive makes an instance home whose import directory holds an
// archive generated with opts, and returns the home and the archive name.
func homeWithArchive(t *testing.T, opts gen.Options) (string, string) {
	t.Helper()
	home := t.TempDir()
	dir := filepath.Join(home, "shared", "data", "migration", "import")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := gen.GenerateFile(context.Background(), filepath.Join(dir, "export.tar"), opts); err != nil {
		t.Fatal(err)
	}
	return home, "export.tar"
}

var smallArchive = gen.Options{Projects: 1, Repos: 2, Forks: 1, PRs: 3, Commits: 2, Seed: 3}

func TestImportCommandExitStatusAndJSON(t *testing.T) {
	home, name := homeWithArchive(t, smallArchive)
	out, code, err := runCmd(t, "--home", home, "import", name, "--json")
	if code != exitOK {
		t.Fatalf("exit %d (%v)", code, err)
	}
	var job model.Job
	if err := json.Unmarshal([]byte(out), &job); err != nil {
		t.Fatalf("import --json printed %q: %v", out, err)
	}
	if job.ID != 1 || job.State != model.StateCompleted || job.Type != model.JobTypeImport || job.EndDate == 0 || job.Progress.Percentage != 100 {
		t.Errorf("job %+v", job)
	}

	out, code, _ = runCmd(t, "--home", home, "status", "1", "--json")
	var status model.Job
	if code != exitOK || json.Unmarshal([]byte(out), &status) != nil || status.State != model.StateCompleted {
		t.Errorf("status --json: exit %d, %q", code, out)
	}
	out, _, _ = runCmd(t, "--home", home, "status", "1")
	if !strings.Contains(out, "State     COMPLETED") {
		t.Errorf("status table:\n%s", out)
	}

	out, code, _ = runCmd(t, "--home", home, "jobs", "--json")
	var jobs model.Page[model.Job]
	if code != exitOK || json.Unmarshal([]byte(out), &jobs) != nil || jobs.Size != 1 || !jobs.IsLastPage || jobs.Values[0].ID != 1 {
		t.Errorf("jobs --json: exit %d, %q", code, out)
	}

	// A second import renames the project: WARN messages to page through.
	if _, code, err := runCmd(t, "--home", home, "import", name); code != exitOK {
		t.Fatalf("second import: exit %d (%v)", code, err)
	}
	out, code, _ = runCmd(t, "--home", home, "messages", "2", "--json", "--severity", "WARN", "--limit", "1")
	var page model.Page[model.Message]
	if code != exitOK || json.Unmarshal([]byte(out), &page) != nil || page.Size != 1 || page.IsLastPage || page.Values[0].Severity != model.SeverityWarn {
		t.Errorf("messages --json --limit 1: exit %d, %q", code, out)
	}
	out, _, _ = runCmd(t, "--home", home, "messages", "2", "--json", "--severity", "WARN")
	dec := json.NewDecoder(strings.NewReader(out))
	warns := 0
	for dec.More() {
		var p model.Page[model.Message]
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		warns += p.Size
	}
	table, _, _ := runCmd(t, "--home", home, "messages", "2", "--severity", "warn")
	if lines := strings.Count(table, "\n") - 1; warns == 0 || lines != warns || !strings.Contains(table, "exists already") {
		t.Errorf("%d WARN in JSON, %d table lines:\n%s", warns, lines, table)
	}
	if _, code, _ := runCmd(t, "--home", home, "messages", "2", "--severity", "LOUD"); code != exitNotStarted {
		t.Errorf("bad severity: exit %d", code)
	}
}

func TestImportCommandExitStatuses(t *testing.T) {
	opts := smallArchive
	opts.DropObjects = true
	home, name := homeWithArchive(t, opts)
	if _, code, _ := runCmd(t, "--home", home, "import", name); code != exitFailed {
		t.Errorf("import with a broken repository: exit %d, want %d", code, exitFailed)
	}
	if _, code, err := runCmd(t, "--home", home, "import", "missing.tar"); code != exitNotStarted || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("import of a missing file: exit %d (%v)", code, err)
	}
	if _, code, _ := runCmd(t, "--home", home, "status", "x"); code != exitNotStarted {
		t.Errorf("status x: exit %d", code)
	}
	if _, _, err := runCmd(t, "--home", home, "cancel", "1"); err == nil || !strings.Contains(err.Error(), "already finished") {
		t.Errorf("cancel of a finished job: %v", err)
	}
}

func TestWatchJobPrintsProgressAndNewMessagesOnce(t *testing.T) {
	home, name := homeWithArchive(t, smallArchive)
	in, err := importer.Open(importer.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	job, err := in.Start(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	final, err := ui.WatchJob(context.Background(), in, job.ID, ui.WatchOptions{Out: &out})
	if err != nil || final.State != model.StateCompleted {
		t.Fatalf("watch ended %s (%v)", final.State, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	progress := regexp.MustCompile(`^\d\d:\d\d:\d\d (INITIALISING|RUNNING|FINALISING|COMPLETED) \d+% `)
	msgs := 0
	for i, l := range lines {
		switch {
		case progress.MatchString(l):
			if i > 0 && l[9:] == lines[i-1][min(9, len(lines[i-1])):] {
				t.Errorf("progress line repeated: %q", l)
			}
		case strings.HasPrefix(l, "INFO ") || strings.HasPrefix(l, "WARN ") || strings.HasPrefix(l, "ERROR "):
			msgs++
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	page, _ := in.Messages(context.Background(), job.ID, model.MessageQuery{Limit: 1000})
	if msgs != page.Size {
		t.Errorf("%d message lines for %d messages:\n%s", msgs, page.Size, out.String())
	}
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, "COMPLETED 100% Import completed") {
		t.Errorf("last line %q", last)
	}

	// On a terminal the status line is redrawn in place and cleared before
	// each message, so messages start at the left margin.
	job, err = in.Start(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if _, err := ui.WatchJob(context.Background(), in, job.ID, ui.WatchOptions{Out: &out, Terminal: true}); err != nil {
		t.Fatal(err)
	}
	screen := out.String()
	if !strings.HasSuffix(screen, "COMPLETED 100% Import completed\n") || !strings.Contains(screen, "\r\x1b[2K") {
		t.Errorf("terminal output %q", screen)
	}
	// What stays visible of each line is what follows its last clear.
	visible := strings.Split(strings.TrimSuffix(screen, "\n"), "\n")
	for i, l := range visible[:len(visible)-1] {
		if k := strings.LastIndex(l, "\r\x1b[2K"); k >= 0 {
			l = l[k+len("\r\x1b[2K"):]
		}
		if !regexp.MustCompile(`^(INFO|WARN|ERROR) `).MatchString(l) {
			t.Errorf("line %d on the terminal is %q, not a message", i, l)
		}
	}
}
