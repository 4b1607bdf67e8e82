package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/internal/realshape"
	"bbimport/model"
)

// archiveMember is one member of an archive as the round trip compares it:
// its kind and pull request id (other ids are renumbered by an import),
// and its content decoded, with what Bitbucket renumbers left out.
type archiveMember struct {
	kind archive.Kind
	pr   int64
	body any
}

// renumbered are the fields of each kind that an import renumbers.
var renumbered = map[archive.Kind][]string{
	archive.KindProject:    {"id"},
	archive.KindRepository: {"id", "projectId", "originId", "hierarchyId"},
}

// readMembers decodes every member of an archive for comparison: JSON as
// values (allParticipants as a set), inner tars as their files' names,
// modes and bytes (an objects tar's modes and pack indexes left out: an
// import writes its own indexes), instance details by their kind only.
func readMembers(t *testing.T, path string) []archiveMember {
	t.Helper()
	var out []archiveMember
	err := archive.ReadFile(path, archive.Limits{}, func(m *archive.Member) error {
		am := archiveMember{kind: m.Kind, pr: m.IDs.PullRequest}
		switch m.Kind {
		case archive.KindInstanceDetails:
			// Who wrote it: an export names itself and archiveVersion 2
			// whatever it imported (checked apart).
		case archive.KindGitMetadata, archive.KindGitHooks, archive.KindGitObjects, archive.KindPullRequestCaches:
			files := map[string]string{}
			err := m.Files(func(f archive.File) error {
				data, err := io.ReadAll(f.Body)
				mode := f.Mode & 0o777
				if m.Kind == archive.KindGitObjects {
					// Objects are written read-only (0400 as Bitbucket
					// does, 0444 by some writers): either imports.
					mode = 0
				}
				if strings.HasSuffix(f.Name, ".idx") {
					data = nil
				}
				files[f.Name] = fmt.Sprintf("%o %x", mode, data)
				return err
			})
			if err != nil {
				return err
			}
			if m.Kind == archive.KindPullRequestCaches {
				files["cached-ancestor.txt"] = m.Ancestor.String()
			}
			am.body = files
		case archive.KindHierarchyBegin, archive.KindHierarchyEnd:
		default:
			if m.Kind == archive.KindPullRequestActivities {
				if err := m.Activities(func(*model.Activity) error { return nil }); err != nil {
					return err
				}
			}
			var v any
			if err := json.Unmarshal(m.Raw, &v); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if obj, ok := v.(map[string]any); ok {
				for _, k := range renumbered[m.Kind] {
					delete(obj, k)
				}
				if ps, ok := obj["allParticipants"].([]any); ok {
					sort.Slice(ps, func(i, j int) bool { return fmt.Sprint(ps[i]) < fmt.Sprint(ps[j]) })
				}
			}
			am.body = v
		}
		out = append(out, am)
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return out
}

// assertSameArchives compares two archives member by member as JSON.
func assertSameArchives(t *testing.T, want, got string) {
	t.Helper()
	a, b := readMembers(t, want), readMembers(t, got)
	if len(a) != len(b) {
		t.Errorf("%d members, want %d", len(b), len(a))
	}
	for i := range min(len(a), len(b)) {
		if a[i].kind != b[i].kind || a[i].pr != b[i].pr {
			t.Fatalf("member %d is %v #%d, want %v #%d", i, b[i].kind, b[i].pr, a[i].kind, a[i].pr)
		}
		if !reflect.DeepEqual(a[i].body, b[i].body) {
			w, _ := json.Marshal(a[i].body)
			g, _ := json.Marshal(b[i].body)
			t.Fatalf("member %d (%v #%d) differs:\n got %.600s\nwant %.600s", i, a[i].kind, a[i].pr, g, w)
		}
	}
}

func exportAll(t *testing.T, in *Instance, selectors ...string) (model.Job, string) {
	t.Helper()
	req := model.ExportRequest{}
	for _, s := range selectors {
		sel, err := model.ParseSelector(s)
		if err != nil {
			t.Fatal(err)
		}
		req.RepositoriesRequest.Includes = append(req.RepositoriesRequest.Includes, sel)
	}
	job, err := in.StartExport(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if job.Type != model.JobTypeExport {
		t.Errorf("job type %q", job.Type)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	final, err := in.Wait(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	return final, filepath.Join(in.exportDir(), final.Archive)
}

var roundTripOpts = gen.Options{Projects: 2, Repos: 2, Forks: 2, PRs: 6, Commits: 4, Seed: 11}

// TestExportRoundTrip: an archive imported then exported comes back out
// member for member, every JSON field included, and the export imports
// again with nothing to warn about but the hooks kept inert.
func TestExportRoundTrip(t *testing.T) {
	src := generated(t, "roundtrip", roundTripOpts)
	in := openHome(t)
	if job := importArchive(t, in, src); job.State != model.StateCompleted {
		t.Fatalf("import %s: %v", job.State, messages(t, in, job.ID, model.SeverityError))
	}
	job, out := exportAll(t, in, "*/*")
	if job.State != model.StateCompleted || job.Counts == nil || job.Counts.PullRequests == 0 {
		t.Fatalf("export %s %+v: %v", job.State, job.Counts, messages(t, in, job.ID))
	}
	if job.ID != 2 || job.Archive != "Bitbucket_export_2.tar" {
		t.Errorf("export job %d archive %q, want job 2 (the import's sequence) and Bitbucket_export_2.tar", job.ID, job.Archive)
	}
	assertSameArchives(t, src, out)
	if sum, err := archive.Inspect(out, archive.Limits{}); err != nil || sum.Instance.ArchiveVersion != 2 || sum.Instance.Version != exportedVersion {
		t.Errorf("instance details %+v (%v), want archiveVersion 2 of %s", sum.Instance, err, exportedVersion)
	}

	again := openHome(t)
	back := importArchive(t, again, out)
	if back.State != model.StateCompleted {
		t.Fatalf("import of the export %s: %v", back.State, messages(t, again, back.ID, model.SeverityError))
	}
	for _, m := range messages(t, again, back.ID, model.SeverityWarn, model.SeverityError) {
		if !strings.Contains(m, "kept inert") {
			t.Errorf("importing the export said: %s", m)
		}
	}
	_, twice := exportAll(t, again, "*/*")
	assertSameArchives(t, src, twice)
}

// TestExportSelectsWholeHierarchies: one fork's selector exports its
// origin and every fork; */* previews everything; a selector that matches
// nothing is refused by name.
func TestExportSelectsWholeHierarchies(t *testing.T) {
	in := openHome(t)
	importArchive(t, in, generated(t, "roundtrip", roundTripOpts))
	projects, err := in.Exportable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var fork string
	total := 0
	for _, p := range projects {
		for _, r := range p.Repositories {
			total++
			if r.Origin != "" && fork == "" {
				fork = p.Key + "/" + r.Slug
			}
		}
	}
	all, err := in.PreviewExport(context.Background(), request(t, "*/*"))
	if err != nil {
		t.Fatal(err)
	}
	if all.Repositories != total || all.PullRequests == 0 || all.EstimatedBytes <= 0 || all.FreeBytes <= 0 {
		t.Errorf("*/* preview %+v, want all %d repositories", all, total)
	}
	one, err := in.PreviewExport(context.Background(), request(t, fork, fork))
	if err != nil {
		t.Fatal(err)
	}
	if one.Hierarchies != 1 || one.Repositories != 1+roundTripOpts.Forks {
		t.Errorf("preview of the fork %s: %d hierarchies, %d repositories; want its whole hierarchy of %d", fork, one.Hierarchies, one.Repositories, 1+roundTripOpts.Forks)
	}
	job, out := exportAll(t, in, fork)
	if job.State != model.StateCompleted {
		t.Fatalf("export %s", job.State)
	}
	sum, err := archive.Inspect(out, archive.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Hierarchies) != 1 || sum.Repositories != one.Repositories || sum.PullRequests.Total != one.PullRequests {
		t.Errorf("archive holds %d hierarchies, %d repositories, %d pull requests; the preview said 1, %d, %d",
			len(sum.Hierarchies), sum.Repositories, sum.PullRequests.Total, one.Repositories, one.PullRequests)
	}
	for _, bad := range []string{"NOPE/*", "NOPE/x"} {
		_, err := in.StartExport(context.Background(), request(t, bad))
		if !errors.Is(err, model.ErrNoSuchSelection) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: %v, want ErrNoSuchSelection naming it", bad, err)
		}
	}
	loc := request(t, "*/*")
	loc.ExportLocation = "../outside"
	if _, err := in.StartExport(context.Background(), loc); !errors.Is(err, model.ErrBadExportLocation) {
		t.Errorf("location ../outside: %v", err)
	}
	if _, err := model.ParseSelector("*/slug"); !errors.Is(err, model.ErrBadSelector) {
		t.Errorf("*/slug: %v", err)
	}
}

func request(t *testing.T, selectors ...string) model.ExportRequest {
	t.Helper()
	var req model.ExportRequest
	for _, s := range selectors {
		sel, err := model.ParseSelector(s)
		if err != nil {
			t.Fatal(err)
		}
		req.RepositoriesRequest.Includes = append(req.RepositoriesRequest.Includes, sel)
	}
	return req
}

// TestExportCancelAndLimit: two exports run at once and a third is
// refused; a canceled export stops and leaves no file behind, in a
// location of its own.
func TestExportCancelAndLimit(t *testing.T) {
	in := openHome(t)
	importArchive(t, in, generated(t, "roundtrip", roundTripOpts))
	// Hold both slots as two runners would.
	_, first, err := in.takeExportSlot()
	if err != nil {
		t.Fatal(err)
	}
	_, second, err := in.takeExportSlot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.StartExport(context.Background(), request(t, "*/*")); !errors.Is(err, model.ErrExportsRunning) {
		t.Errorf("third export: %v, want ErrExportsRunning", err)
	}
	first.Close()
	second.Close()

	req := request(t, "*/*")
	req.ExportLocation = "nightly/a"
	started := make(chan int64, 1)
	members := 0
	in.beforeCheckpoint = func(point string) {
		// Cancel mid-archive, once several members are written.
		if point == pointExportMember {
			if members++; members == 20 {
				id := <-started
				if err := in.Cancel(context.Background(), id); err != nil {
					t.Errorf("cancel: %v", err)
				}
			}
		}
	}
	job, err := in.StartExport(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	started <- job.ID
	final, err := in.Wait(context.Background(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.State != model.StateCanceled {
		t.Fatalf("export ended %s, want CANCELED", final.State)
	}
	if final.Archive != "nightly/a/Bitbucket_export_2.tar" {
		t.Errorf("archive %q", final.Archive)
	}
	if entries, _ := os.ReadDir(filepath.Join(in.exportDir(), "nightly", "a")); len(entries) != 0 {
		t.Errorf("a canceled export left %v", entries)
	}
	if !hasMessage(messages(t, in, job.ID, model.SeverityWarn), "canceled", "no archive") {
		t.Errorf("messages %v", messages(t, in, job.ID))
	}
}

// TestRealShapesExportBack: the hand-written real-shape archives
// (internal/realshape, archiveVersion 2 and 1) come back out of an import
// JSON-equal member for member, and the export imports with no WARN or
// ERROR.
func TestRealShapesExportBack(t *testing.T) {
	for _, version := range []int{2, 1} {
		t.Run(fmt.Sprintf("archiveVersion %d", version), func(t *testing.T) {
			fx, err := realshape.Build(context.Background(), t.TempDir(), version)
			if err != nil {
				t.Fatal(err)
			}
			in := openHome(t)
			if job := importArchive(t, in, fx.Path); job.State != model.StateCompleted {
				t.Fatalf("import ended %s", job.State)
			}
			job, out := exportAll(t, in, "*/*")
			if job.State != model.StateCompleted {
				t.Fatalf("export ended %s: %v", job.State, messages(t, in, job.ID))
			}
			assertSameArchives(t, fx.Path, out)
			again := openHome(t)
			back := importArchive(t, again, out)
			if bad := messages(t, again, back.ID, model.SeverityWarn, model.SeverityError); back.State != model.StateCompleted || len(bad) != 0 {
				t.Errorf("import of the export ended %s: %v", back.State, bad)
			}
		})
	}
}

// TestListDir lists a fan-out directory of more loose objects than one
// getdents call returns, beside a directory, a link and an empty file:
// every name once, in order, with its type and size, and no "." or "..".
func TestListDir(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 3000 {
		name := fmt.Sprintf("%038x", i*7919)
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, i%50), 0o400); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(want[0], filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	list, err := listDir(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range list {
		switch e.name {
		case "sub":
			if e.typ != dirTypeDir {
				t.Errorf("sub: type %d, want a directory", e.typ)
			}
		case "link":
			if e.typ == dirTypeDir || e.typ == dirTypeFile {
				t.Errorf("link: type %d, want neither a file nor a directory", e.typ)
			}
		default:
			var i int
			if _, err := fmt.Sscanf(e.name, "%x", &i); err != nil || e.typ != dirTypeFile || e.size != int64(i/7919%50) {
				t.Errorf("%s: type %d, %d bytes; want a file of %d", e.name, e.typ, e.size, i/7919%50)
			}
			got = append(got, e.name)
		}
	}
	if len(list) != len(want)+2 || !reflect.DeepEqual(got, want) {
		t.Errorf("listed %d names (%d files), want %d files, a directory and a link, in order", len(list), len(got), len(want))
	}
}

// An export's row reads RUNNING while it writes, not INITIALISING: it
// commits nothing until it ends, so the heartbeat carries the state.
func TestExportReadsRunningWhileItRuns(t *testing.T) {
	in := openHome(t)
	importArchive(t, in, generated(t, "roundtrip", roundTripOpts))
	started := make(chan int64, 1)
	seen := make(chan model.State, 1)
	members := 0
	in.beforeCheckpoint = func(point string) {
		if point != pointExportMember {
			return
		}
		if members++; members != 10 {
			return
		}
		// Hold the export here until another reader sees it RUNNING, or
		// long enough to say it never does.
		// The row, as another process (status, serve, the console) reads
		// it: this Instance would overlay its own live state.
		id := <-started
		var state model.State
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if err := in.db.QueryRowContext(context.Background(), `SELECT state FROM jobs WHERE id = ?`, id).Scan(&state); err == nil && state == model.StateRunning {
				break
			}
		}
		seen <- state
	}
	job, err := in.StartExport(context.Background(), request(t, "*/*"))
	if err != nil {
		t.Fatal(err)
	}
	started <- job.ID
	if final, err := in.Wait(context.Background(), job.ID); err != nil || final.State != model.StateCompleted {
		t.Fatalf("export ended %s, %v", final.State, err)
	}
	if s := <-seen; s != model.StateRunning {
		t.Errorf("while it wrote, the export read %s, want RUNNING", s)
	}
}
