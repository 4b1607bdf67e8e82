package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"bbimport/importer"
	"bbimport/internal/realshape"
	"bbimport/model"
	"bbimport/server"
)

// serve answers the shapes of a real export (internal/realshape) as
// Bitbucket does: keys the archive did not have are absent, not empty.
func TestRealShapesServedAsBitbucket(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and imports an archive")
	}
	f, objects := importedRealShape(t)
	activities := func(pr int) []map[string]any {
		a := f.do("GET", fmt.Sprintf("%s/projects/FIX/repos/golden/pull-requests/%d/activities?limit=100", base, pr), "", "")
		if a.status != 200 {
			t.Fatalf("activities of #%d: %d %s", pr, a.status, a.body)
		}
		var page struct{ Values []map[string]any }
		if err := json.Unmarshal([]byte(a.body), &page); err != nil {
			t.Fatal(err)
		}
		return page.Values
	}
	byAction := func(values []map[string]any, action string) []map[string]any {
		var out []map[string]any
		for _, v := range values {
			if v["action"] == action {
				out = append(out, v)
			}
		}
		return out
	}

	t.Run("MERGED without hash", func(t *testing.T) {
		merged := byAction(activities(4), "MERGED")
		if len(merged) != 1 {
			t.Fatalf("#4 has %d MERGED activities", len(merged))
		}
		if _, ok := merged[0]["commit"]; ok {
			t.Errorf("MERGED of #4 has a commit: %v", merged[0])
		}
		if merged[0]["autoMerge"] != false {
			t.Errorf("MERGED of #4: autoMerge %v", merged[0]["autoMerge"])
		}
		withHash := byAction(activities(5), "MERGED")
		if len(withHash) != 1 || !hasCommit(withHash[0], objects["M1"]) {
			t.Errorf("MERGED of #5: %v, want commit %s", withHash, objects["M1"])
		}
		pr := decode[model.RestPullRequest](t, f.do("GET", base+"/projects/FIX/repos/golden/pull-requests/4", "", ""))
		if pr.State != "MERGED" || pr.ClosedDate != 1733490000000 {
			t.Errorf("#4: state %s closedDate %d", pr.State, pr.ClosedDate)
		}
	})

	values := activities(1)
	commented := map[string]map[string]any{} // by commentAction and comment text
	for _, v := range byAction(values, "COMMENTED") {
		c, _ := v["comment"].(map[string]any)
		commented[fmt.Sprint(v["commentAction"], " ", c["text"])] = v
	}
	comment := func(t *testing.T, key string) (activity, c map[string]any) {
		t.Helper()
		a, ok := commented[key]
		if !ok {
			t.Fatalf("no COMMENTED activity %q among %v", key, slices.Sorted(maps.Keys(commented)))
		}
		return a, a["comment"].(map[string]any)
	}

	t.Run("file-level anchor", func(t *testing.T) {
		a, c := comment(t, "ADDED A comment on the whole file.")
		for _, anchor := range []map[string]any{a["commentAnchor"].(map[string]any), c["anchor"].(map[string]any)} {
			for _, k := range []string{"lineType", "fileType"} {
				if _, ok := anchor[k]; ok {
					t.Errorf("file-level anchor has %q: %v", k, anchor)
				}
			}
			if anchor["line"] != 0.0 || anchor["path"] != "open.txt" || anchor["orphaned"] != false ||
				anchor["fromHash"] != objects["C2"] || anchor["toHash"] != objects["O2"] {
				t.Errorf("file-level anchor: %v", anchor)
			}
		}
		if c["threadResolved"] != true || c["state"] != "OPEN" {
			t.Errorf("file-level comment: threadResolved %v state %v, want true OPEN", c["threadResolved"], c["state"])
		}
	})
	t.Run("inline anchor, orphaned", func(t *testing.T) {
		a, _ := comment(t, "ADDED This line went away with the rescope.")
		anchor := a["commentAnchor"].(map[string]any)
		if anchor["line"] != 1.0 || anchor["lineType"] != "ADDED" || anchor["fileType"] != "TO" || anchor["orphaned"] != true ||
			anchor["toHash"] != objects["O1"] {
			t.Errorf("orphaned inline anchor: %v", anchor)
		}
	})
	t.Run("general comment has no anchor", func(t *testing.T) {
		a, c := comment(t, "ADDED Could the file be named after what it holds? (edited)")
		if _, ok := a["commentAnchor"]; ok {
			t.Errorf("general comment has a commentAnchor: %v", a)
		}
		if _, ok := c["anchor"]; ok {
			t.Errorf("general comment has an anchor: %v", c)
		}
	})
	t.Run("edited and replied", func(t *testing.T) {
		_, edited := comment(t, "EDITED Could the file be named after what it holds? (edited)")
		replies, _ := edited["comments"].([]any)
		if len(replies) != 1 || replies[0].(map[string]any)["text"] != "Renamed it." {
			t.Errorf("edited comment's replies: %v", edited["comments"])
		}
		if edited["updatedDate"] != 1733401200000.0 {
			t.Errorf("edited comment updatedDate %v", edited["updatedDate"])
		}
		_, reply := comment(t, "REPLIED Renamed it.")
		if reply["author"].(map[string]any)["slug"] != "ada" {
			t.Errorf("reply: %v", reply)
		}
	})
	t.Run("tasks", func(t *testing.T) {
		_, resolved := comment(t, "ADDED Add a test for the empty file.")
		if resolved["severity"] != "BLOCKER" || resolved["state"] != "RESOLVED" || resolved["threadResolved"] != false ||
			resolved["resolvedDate"] != 1733405000000.0 || resolved["resolver"].(map[string]any)["slug"] != "ada" {
			t.Errorf("resolved task: %v", resolved)
		}
		_, open := comment(t, "ADDED Update the changelog.")
		if open["state"] != "OPEN" || open["threadResolved"] != true {
			t.Errorf("open task on a resolved thread: %v", open)
		}
		for _, c := range []map[string]any{open, commented["ADDED A comment on the whole file."]["comment"].(map[string]any)} {
			for _, k := range []string{"resolvedDate", "resolver"} {
				if _, ok := c[k]; ok {
					t.Errorf("comment %v has %q: only resolved tasks carry it", c["text"], k)
				}
			}
		}
	})
	t.Run("RESCOPED only when the source moved", func(t *testing.T) {
		rescoped := byAction(values, "RESCOPED")
		if len(rescoped) != 1 || rescoped[0]["fromHash"] != objects["O2"] || rescoped[0]["previousFromHash"] != objects["O1"] {
			t.Fatalf("#1 RESCOPED: %v", rescoped)
		}
		added := rescoped[0]["added"].(map[string]any)
		if added["total"] != 1.0 || !strings.Contains(fmt.Sprint(added["commits"]), objects["O2"]) {
			t.Errorf("#1 RESCOPED added: %v", added)
		}
		if r := byAction(activities(3), "RESCOPED"); len(r) != 0 {
			t.Errorf("#3 (only its target moved) has RESCOPED activities: %v", r)
		}
	})
}

func hasCommit(a map[string]any, id string) bool {
	c, ok := a["commit"].(map[string]any)
	return ok && c["id"] == id
}

// importedRealShape imports the hand-written archive into a real importer
// behind a real server.
func importedRealShape(t *testing.T) (*fixture, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	in, err := importer.Open(importer.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	fx, err := realshape.Build(ctx, t.TempDir(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(fx.Path, filepath.Join(in.ImportDir(), filepath.Base(fx.Path))); err != nil {
		t.Fatal(err)
	}
	job, err := in.Start(ctx, filepath.Base(fx.Path))
	if err != nil {
		t.Fatal(err)
	}
	if job, err = in.Wait(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if job.State != model.StateCompleted {
		t.Fatalf("import ended %s", job.State)
	}
	srv, err := server.New(server.Config{Importer: in, Admin: server.Credentials{User: "admin", Password: "pw"}, Version: "realshape"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &fixture{t: t, srv: srv, url: hs.URL}, fx.Objects
}
