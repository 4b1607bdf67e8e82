package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"bbimport/internal/restschema"
	"bbimport/model"
)

// TestCommandsParseTheirOptions builds each command with a runF that keeps
// the options it is handed: the flags and arguments land where the command
// reads them, and nothing is opened to parse them.
func TestCommandsParseTheirOptions(t *testing.T) {
	h := newFakeHome(t)
	archive := filepath.Join(t.TempDir(), "Bitbucket_export_3.tar")
	if err := os.WriteFile(archive, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	type parsed struct {
		args []string
		cmd  func(f *Factory, got *any) *cobra.Command
		want any
	}
	keep := func(got *any) func(o any) error { return func(o any) error { *got = o; return nil } }
	cases := map[string]parsed{
		"import": {[]string{"x.tar", "--wait", "--json"}, func(f *Factory, got *any) *cobra.Command {
			return NewCmdImport(f, func(o *ImportOptions) error { return keep(got)(ImportOptions{Archive: o.Archive, Follow: o.Follow}) })
		}, ImportOptions{Archive: "x.tar", Follow: follow{what: "Importing x.tar", wait: true, format: jobBitbucketJSON}}},
		"import detached": {[]string{"x.tar", "--detach", "--bbimport-json"}, func(f *Factory, got *any) *cobra.Command {
			return NewCmdImport(f, func(o *ImportOptions) error { return keep(got)(o.Follow) })
		}, follow{what: "Importing x.tar", detach: true, format: jobOwnJSON}},
		"export": {[]string{"PRJ/a", "PRJ/*", "PRJ/a", "--location", "weekly", "--force", "--preview", "--json"}, func(f *Factory, got *any) *cobra.Command {
			return NewCmdExport(f, func(o *ExportOptions) error {
				return keep(got)(ExportOptions{Request: o.Request, Preview: o.Preview, Follow: o.Follow})
			})
		}, ExportOptions{Request: model.ExportRequest{
			RepositoriesRequest: model.RepositoriesRequest{Includes: []model.RepositorySelector{{ProjectKey: "PRJ", Slug: "a"}, {ProjectKey: "PRJ", Slug: "*"}}},
			ExportLocation:      "weekly", Force: true,
		}, Preview: true, Follow: follow{format: jobBitbucketJSON}}},
		"status": {[]string{"12", "--bbimport-json"}, func(f *Factory, got *any) *cobra.Command {
			return NewCmdStatus(f, func(o *StatusOptions) error { return keep(got)(StatusOptions{JobID: o.JobID, Format: o.Format}) })
		}, StatusOptions{JobID: 12, Format: jobOwnJSON}},
		"messages": {[]string{"3", "--severity", "warn,ERROR", "--subject", "PRJ/repo", "--limit", "5"}, func(f *Factory, got *any) *cobra.Command {
			return NewCmdMessages(f, func(o *MessagesOptions) error {
				return keep(got)(MessagesOptions{JobID: o.JobID, Query: o.Query, OnePage: o.OnePage, JSON: o.JSON})
			})
		}, MessagesOptions{JobID: 3, Query: model.MessageQuery{Severities: []model.Severity{model.SeverityWarn, model.SeverityError}, Subject: "PRJ/repo", Limit: 5}, OnePage: true}},
		"messages all pages": {[]string{"3", "--json"}, func(f *Factory, got *any) *cobra.Command {
			return NewCmdMessages(f, func(o *MessagesOptions) error {
				return keep(got)(MessagesOptions{JobID: o.JobID, OnePage: o.OnePage, JSON: o.JSON})
			})
		}, MessagesOptions{JobID: 3, JSON: true}},
		"cancel": {[]string{"4", "--wait"}, func(f *Factory, got *any) *cobra.Command {
			return NewCmdCancel(f, func(o *CancelOptions) error { return keep(got)(CancelOptions{JobID: o.JobID, Wait: o.Wait}) })
		}, CancelOptions{JobID: 4, Wait: true}},
		"jobs": {[]string{"--json"}, func(f *Factory, got *any) *cobra.Command {
			return NewCmdJobs(f, func(o *JobsOptions) error { return keep(got)(o.Format) })
		}, jobBitbucketJSON},
		"verify": {[]string{"1", "2", "--csv", "--remainder", "rest.tar", "--replace-partial", "--yes", "--concurrency", "3", "--archive", archive}, func(f *Factory, got *any) *cobra.Command {
			return NewCmdVerify(f, func(o *VerifyOptions) error {
				c := *o
				c.IO, c.Backend, c.Invocation = nil, nil, nil
				return keep(got)(c)
			})
		}, VerifyOptions{JobIDs: []int64{1, 2}, CSV: true, Archive: archive, Remainder: "rest.tar", ReplacePartial: true, Yes: true, Concurrency: 3}},
		"inspect": {[]string{archive, "--json"}, func(f *Factory, got *any) *cobra.Command {
			return NewCmdInspect(f, func(o *InspectOptions) error { return keep(got)(InspectOptions{Archive: o.Archive, JSON: o.JSON}) })
		}, InspectOptions{Archive: archive, JSON: true}},
		"checksum": {[]string{archive, "--expect", "9E107D9D372BB6826BD81D3542A419D6  Bitbucket_export_3.tar"}, func(f *Factory, got *any) *cobra.Command {
			return NewCmdChecksum(f, func(o *ChecksumOptions) error {
				return keep(got)(ChecksumOptions{Archive: o.Archive, Expect: o.Expect})
			})
		}, ChecksumOptions{Archive: archive, Expect: "9e107d9d372bb6826bd81d3542a419d6"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var got any
			cmd := c.cmd(h.factory(&globalFlags{}), &got)
			cmd.SetArgs(c.args)
			cmd.SetOut(new(strings.Builder))
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("options\n%+v\nwant\n%+v", got, c.want)
			}
			if h.opened != 0 {
				t.Errorf("parsing opened the backend %d times", h.opened)
			}
		})
	}
}

// TestCommandsAgainstAFake runs command lines against the fake: what an
// admin reads on stdout and stderr, and the exit status scripts rely on.
func TestCommandsAgainstAFake(t *testing.T) {
	completed := model.Job{ID: 1, State: model.StateCompleted, Type: model.JobTypeImport, Archive: "Bitbucket_export_1.tar",
		Progress: model.Progress{Message: "Imported", Percentage: 100}, StartDate: 1764090000000, UpdatedDate: 1764090060000, EndDate: 1764090060000,
		Counts: &model.ImportCounts{Projects: 1, Repositories: 2, PullRequests: 3}}
	warn := model.Message{ID: "1", Severity: model.SeverityWarn, Subject: "PRJ1", Text: "A project with key PRJ exists already; the project was imported with key PRJ1", CreatedDate: 1764090030000}
	ending := func(end model.State, msgs ...model.Message) func(h *fakeHome) {
		return func(h *fakeHome) { h.backend = &endingFake{Fake: h.fake, end: end, msgs: msgs} }
	}
	cases := []struct {
		name   string
		setup  func(h *fakeHome)
		args   []string
		code   int
		stdout []string // each in stdout
		stderr string   // stderr is exactly this when not empty
	}{
		{name: "status table", args: []string{"status", "1"}, stdout: []string{"Job       1\n", "State     COMPLETED\n", "Archive   Bitbucket_export_1.tar\n", "Imported  1 project, 2 repositories, 3 pull requests\n", "Progress  100% Imported\n"}},
		{name: "status of no such job", args: []string{"status", "7"}, code: exitNotStarted,
			stderr: "bbimport: import job 7: no such job; bbimport jobs lists the jobs there\n"},
		{name: "status of no job number", args: []string{"status", "x"}, code: exitNotStarted, stderr: "bbimport: job id \"x\" is not a job number such as 12\n"},
		{name: "status json and bbimport-json", args: []string{"status", "1", "--json", "--bbimport-json"}, code: exitNotStarted,
			stderr: "bbimport: if any flags in the group [json bbimport-json] are set none of the others can be; [bbimport-json json] were all set\n"},
		{name: "jobs table", args: []string{"jobs"}, stdout: []string{"JOB  STATE      ARCHIVE                 PROGRESS       STARTED", "1    COMPLETED  Bitbucket_export_1.tar  100% Imported  "}},
		{name: "jobs json and bbimport-json", args: []string{"jobs", "--bbimport-json", "--json"}, code: exitNotStarted,
			stderr: "bbimport: if any flags in the group [json bbimport-json] are set none of the others can be; [bbimport-json json] were all set\n"},
		{name: "messages table", args: []string{"messages", "1", "--severity", "WARN"}, stdout: []string{"TIME                 SEVERITY  SUBJECT  TEXT\n", "  WARN      PRJ1     A project with key PRJ exists already"}},
		{name: "messages of an unknown severity", args: []string{"messages", "1", "--severity", "LOUD"}, code: exitNotStarted,
			stderr: "bbimport: severity \"LOUD\" is not one of INFO, WARN, ERROR\n"},
		{name: "cancel of a finished job", args: []string{"cancel", "1"}, code: exitNotStarted, stderr: "bbimport: import job 1 is COMPLETED: the job has already finished\n"},
		{name: "cancel", setup: func(h *fakeHome) {
			h.fake.Place(model.Job{ID: 2, State: model.StateRunning, Type: model.JobTypeImport})
		},
			args: []string{"cancel", "2"}, stdout: []string{"Job 2 will stop at its next checkpoint\n"}},
		{name: "cancel of an export", setup: func(h *fakeHome) {
			h.fake.Place(model.Job{ID: 2, State: model.StateRunning, Type: model.JobTypeExport})
		},
			args: []string{"cancel", "2"}, stdout: []string{"Job 2 stops at once and leaves no archive\n"}},
		{name: "import completed", setup: ending(model.StateCompleted), args: []string{"import", "x.tar"},
			stdout: []string{"Job       2\n", "State     COMPLETED\n"}, stderr: "Importing x.tar as job 2. Ctrl+C cancels at the next checkpoint; close the terminal or use --detach to leave it running.\n"},
		{name: "import completed with errors", setup: ending(model.StateCompleted, model.Message{Severity: model.SeverityError, Text: "PRJ/repo: broken"}),
			args: []string{"import", "x.tar"}, code: exitFailed},
		{name: "import failed", setup: ending(model.StateFailed), args: []string{"import", "x.tar"}, code: exitFailed},
		{name: "import canceled", setup: ending(model.StateCanceled), args: []string{"import", "x.tar"}, code: exitCanceled},
		{name: "import detached", args: []string{"import", "x.tar", "--detach"}, stdout: []string{"Started job 2; follow it with: bbimport status 2\n"}},
		{name: "import on a server", setup: func(h *fakeHome) { h.remote = true }, args: []string{"import", "x.tar"},
			stdout: []string{"Started job 2; follow it with: bbimport status 2\n"}},
		{name: "import of no such archive", args: []string{"import", "missing.tar"}, code: exitNotStarted},
		{name: "import wait and detach", args: []string{"import", "x.tar", "--wait", "--detach"}, code: exitNotStarted,
			stderr: "bbimport: if any flags in the group [wait detach] are set none of the others can be; [detach wait] were all set\n"},
		{name: "export where the backend cannot", args: []string{"export", "PRJ/*"}, code: exitNotStarted, stderr: "bbimport: export: not supported by this backend\n"},
		{name: "verify json and csv", args: []string{"verify", "1", "--json", "--csv"}, code: exitNotStarted,
			stderr: "bbimport: if any flags in the group [json csv] are set none of the others can be; [csv json] were all set\n"},
		{name: "verify replace-partial alone", args: []string{"verify", "1", "--replace-partial"}, code: exitNotStarted,
			stderr: "bbimport: --replace-partial replaces partial copies by a remainder: give --remainder FILE too\n"},
		{name: "checksum of a bad expectation", args: []string{"checksum", "x.tar", "--expect", "xyz"}, code: exitNotStarted,
			stderr: "bbimport: --expect \"xyz\" is neither an MD5 (32 hex digits) nor a SHA-256 (64 hex digits)\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newFakeHome(t, "x.tar")
			h.fake.Place(completed, warn)
			if c.setup != nil {
				c.setup(h)
			}
			stdout, stderr, code := h.run(c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			for _, want := range c.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if c.stderr != "" && stderr != c.stderr {
				t.Errorf("stderr\n%q\nwant\n%q", stderr, c.stderr)
			}
		})
	}
}

// TestJSONIsBitbucketsOnly checks what --json prints against Bitbucket's
// schema, field by field, as the REST conformance test checks serve's
// answers: a script written against Atlassian's guide reads it unchanged.
// bbimport's own fields come only with --bbimport-json.
func TestJSONIsBitbucketsOnly(t *testing.T) {
	schema := restschema.Load(t, "../testdata/rest/bitbucket-8.19.schema.json")
	job := model.Job{ID: 1, State: model.StateCompleted, Type: model.JobTypeImport, Archive: "Bitbucket_export_1.tar",
		Progress: model.Progress{Message: "Imported", Percentage: 100}, StartDate: 1764090000000, UpdatedDate: 1764090060000, EndDate: 1764090060000,
		NodeID: "node-1", Initiator: &model.User{Name: "admin", DisplayName: "Admin", Slug: "admin", Type: "NORMAL"},
		Counts: &model.ImportCounts{Projects: 1, Repositories: 2, PullRequests: 3}}
	runJSON := func(t *testing.T, setup func(h *fakeHome), args ...string) string {
		t.Helper()
		h := newFakeHome(t, "x.tar")
		h.fake.Place(job, model.Message{ID: "1", Severity: model.SeverityWarn, Subject: "PRJ1", Text: "renamed", CreatedDate: 1764090030000})
		if setup != nil {
			setup(h)
		}
		stdout, stderr, code := h.run(args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		return stdout
	}
	valid := func(t *testing.T, def, doc string) {
		t.Helper()
		for _, p := range schema.Validate(def, []byte(doc)) {
			t.Errorf("%s: %s\n%s", def, p, doc)
		}
	}
	finished := func(h *fakeHome) { h.backend = &endingFake{Fake: h.fake, end: model.StateCompleted} }

	for _, args := range [][]string{{"status", "1", "--json"}, {"import", "x.tar", "--detach", "--json"}} {
		valid(t, "RestJob", runJSON(t, nil, args...))
	}
	valid(t, "RestJob", runJSON(t, finished, "import", "x.tar", "--json"))
	valid(t, "PageOfRestJobMessage", runJSON(t, nil, "messages", "1", "--json"))

	// Bitbucket has no call that lists jobs: --json is one page of its jobs.
	var page model.Page[json.RawMessage]
	out := runJSON(t, nil, "jobs", "--json")
	if err := json.Unmarshal([]byte(out), &page); err != nil || page.Size != 1 || !page.IsLastPage || len(page.Values) != 1 {
		t.Fatalf("jobs --json: %v\n%s", err, out)
	}
	valid(t, "RestJob", string(page.Values[0]))

	// The export's preview is Bitbucket's {"scopes":[…]}: a repository
	// each, nothing of bbimport's counts, estimate or free disk.
	previewing := func(h *fakeHome) { h.backend = &previewFake{Fake: h.fake, p: twoRepositories} }
	out = runJSON(t, previewing, "export", "*/*", "--preview", "--json")
	valid(t, "RestScopesExample", out)
	if want := `"projectKey": "PRJ",
      "slug": "api-fork"`; !strings.Contains(out, want) {
		t.Errorf("export --preview --json lacks %s:\n%s", want, out)
	}
	out = runJSON(t, previewing, "export", "*/*", "--preview", "--bbimport-json")
	for _, want := range []string{`"estimatedBytes": 3145728`, `"freeBytes": 1048576`, `"pullRequests": 7`, `"hierarchies": 1`} {
		if !strings.Contains(out, want) {
			t.Errorf("export --preview --bbimport-json lacks %s:\n%s", want, out)
		}
	}

	// --bbimport-json: Bitbucket's fields and bbimport's, as serve's own
	// namespace answers.
	for _, args := range [][]string{{"status", "1", "--bbimport-json"}, {"jobs", "--bbimport-json"}} {
		out := runJSON(t, nil, args...)
		for _, want := range []string{`"archive": "Bitbucket_export_1.tar"`, `"counts": {`, `"pullRequests": 3`, `"state": "COMPLETED"`} {
			if !strings.Contains(out, want) {
				t.Errorf("%v lacks %s:\n%s", args, want, out)
			}
		}
	}
	if out := runJSON(t, nil, "import", "x.tar", "--detach", "--bbimport-json"); !strings.Contains(out, fmt.Sprintf("%q: %q", "archive", "x.tar")) {
		t.Errorf("import --detach --bbimport-json lacks the archive:\n%s", out)
	}
}
