package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/model"
)

// runCmd runs bbimport in-process and returns its output and exit status
// as main would set it.
func runCmd(t *testing.T, args ...string) (stdout string, code int, err error) {
	t.Helper()
	g := &globalFlags{}
	root := newRoot(g, newFactory(g))
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	code = exitOK
	if err != nil {
		code = exitNotStarted
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), code, err
}

func generated(t *testing.T) (string, gen.Stats) {
	t.Helper()
	opts := gen.Options{Projects: 1, Repos: 2, Forks: 2, PRs: 3, Commits: 2, Seed: 7}
	path := filepath.Join(t.TempDir(), "Bitbucket_export_7.tar")
	st, err := gen.GenerateFile(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return path, st
}

func TestInspectJSONCountsMatchWhatGenWrote(t *testing.T) {
	path, st := generated(t)
	out, code, err := runCmd(t, "inspect", "--json", path)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"instance", "projects", "hierarchies", "repositories", "forks", "pullRequests", "gitBytes"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("key %q missing from %s", k, out)
		}
	}
	var s model.ArchiveSummary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	want := model.PullRequestCounts{Total: st.PullRequests, Open: st.PullRequestsByState[model.PROpen],
		Merged: st.PullRequestsByState[model.PRMerged], Declined: st.PullRequestsByState[model.PRDeclined]}
	if len(s.Projects) != st.Projects || s.Repositories != st.Repositories || s.Forks != st.Forks ||
		len(s.Hierarchies) != st.Hierarchies || s.PullRequests != want || s.Members != st.Members ||
		s.GitBytes != st.GitBytes || s.ArchiveBytes != st.Bytes {
		t.Errorf("inspect says %+v\ngen wrote %+v", s, st)
	}
	if len(s.Warnings) != 0 {
		t.Errorf("warnings on a generated archive: %q", s.Warnings)
	}
}

func TestInspectTextFindsTheArchiveInTheImportDirectory(t *testing.T) {
	path, st := generated(t)
	out, code, err := runCmd(t, "inspect", "--import-dir", filepath.Dir(path), filepath.Base(path))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	for _, want := range []string{"Archive           " + path, "archiveVersion 2", fmt.Sprintf("Repositories      %d (%d forks)", st.Repositories, st.Forks),
		fmt.Sprintf("Fork hierarchies  %d", st.Hierarchies), fmt.Sprintf("Pull requests     %d: ", st.PullRequests)} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestInspectRefusesATruncatedArchiveWithStatus1(t *testing.T) {
	path, _ := generated(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.tar")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, code, err := runCmd(t, "inspect", cut)
	if code != exitFailed || err == nil || !strings.Contains(err.Error(), "archive is truncated") {
		t.Fatalf("exit %d, error %v; want 1 and a truncated archive", code, err)
	}
}

func TestInspectMissingArchiveIsStatus2(t *testing.T) {
	_, code, err := runCmd(t, "inspect", "--import-dir", t.TempDir(), "nope.tar")
	if code != exitNotStarted || err == nil || !strings.Contains(err.Error(), "no archive nope.tar here or in the import directory") {
		t.Fatalf("exit %d, error %v", code, err)
	}
}

// hostile is text an archive may hold to take over the terminal that
// prints it: retitle it, clear it, erase the line and write over it.
const hostile = "\x1b]0;owned\x07\x1b[2J\r\x1b[KQuartz\u009b2J\b\x7f"

// hostileArchive writes an archive whose names and texts hold hostile.
func hostileArchive(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	w := gen.NewWriter(&buf)
	ids := archive.IDs{Project: "1", Repository: "2", Hierarchy: "h1", PullRequest: 3}
	pr := model.PullRequest{ID: 3, State: model.PROpen, AllParticipants: []model.Participant{}}
	second := ids
	second.PullRequest = 4
	for i, err := range []error{
		w.AddJSON(archive.KindInstanceDetails, ids, model.InstanceDetails{ArchiveVersion: 2, InstanceName: hostile, Product: hostile}, false),
		w.AddJSON(archive.KindProject, ids, model.Project{ID: "1", Key: "QUAR", Name: hostile}, false),
		w.AddJSON(archive.KindRepository, ids, model.Repository{ID: "2", ProjectID: "1", HierarchyID: "h1", Slug: hostile, ScmID: "git"}, false),
		w.AddJSON(archive.KindPullRequestMetadata, ids, pr, false),
		w.AddJSON(archive.KindPullRequestMetadata, second, pr, false), // a duplicate id: a warning naming the repository
		w.Close(),
	} {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	p := filepath.Join(t.TempDir(), "Bitbucket_export_9.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInspectPrintsNoTerminalControlsFromTheArchive(t *testing.T) {
	p := hostileArchive(t)
	for _, args := range [][]string{{"inspect", p}, {"inspect", "--json", p}} {
		out, code, err := runCmd(t, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %v", args, code, err)
		}
		if i := strings.IndexAny(out, "\x1b\x07\r\b\x7f\u009b"); i >= 0 {
			t.Errorf("%q prints a control at byte %d:\n%q", args, i, out)
		}
		if !strings.Contains(out, "Quartz") || !strings.Contains(out, "more than one pull request with id 3") {
			t.Errorf("%q lost the text around the controls:\n%s", args, out)
		}
	}
}
