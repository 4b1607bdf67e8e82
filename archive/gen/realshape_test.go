package gen

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"bbimport/archive"
	"bbimport/model"
)

// The generator writes the shapes real 9.4.18 archives carry (docs/archive.md,
// "What real archives carry"), each checked here on the bytes it writes.
func TestRealShapes(t *testing.T) {
	data, st := generate(t, Options{Projects: 1, Repos: 1, PRs: 24, Commits: 3, Seed: 6})
	members := readArchive(t, data)
	if st.Stacked == 0 {
		t.Fatalf("no stacked pull request among %d", st.PullRequests)
	}
	states := map[int64]string{}
	stacked := map[int64]bool{}
	var caches = map[int64]model.AncestorCache{}
	seen := map[string]bool{}
	var metadata member
	for _, m := range members {
		switch m.kind {
		case archive.KindPullRequestMetadata:
			var pr model.PullRequest
			mustUnmarshal(t, m.body, &pr)
			states[pr.ID] = pr.State
			if closed := pr.ClosedTimestamp != 0; closed != (pr.State != model.PROpen) {
				t.Errorf("#%d %s: closedTimestamp %d", pr.ID, pr.State, pr.ClosedTimestamp)
			}
		case archive.KindPullRequestActivities:
			var raw []map[string]any
			mustUnmarshal(t, m.body, &raw)
			var acts []model.Activity
			mustUnmarshal(t, m.body, &acts)
			for i, a := range acts {
				if a.Kind == model.KindMerged {
					if _, ok := raw[i]["hash"]; !ok {
						stacked[m.ids.PullRequest] = true
					}
				}
				if a.Comment != nil {
					checkComment(t, seen, *a.Comment, raw[i]["comment"].(map[string]any))
				}
				if a.Kind == model.KindCommentOther {
					seen["COMMENT:OTHER "+a.CommentAction] = true
				}
			}
		case archive.KindPullRequestCaches:
			text := m.file(t, "cached-ancestor.txt")
			if bytes.HasSuffix(text, []byte("\n")) {
				t.Errorf("%s: cached-ancestor.txt ends with a newline", m.hdr.Name)
			}
			c, err := model.ParseAncestorCache(string(text))
			if err != nil {
				t.Fatal(err)
			}
			caches[m.ids.PullRequest] = c
		case archive.KindGitMetadata:
			metadata = m // checked once the pull requests are known
		case archive.KindGitObjects:
			files := m.files(t)
			sorted := true
			for i, f := range files {
				if f.hdr.Mode != 0o400 {
					t.Errorf("loose object %s: mode %o, want 0400", f.hdr.Name, f.hdr.Mode)
				}
				sorted = sorted && (i == 0 || files[i-1].hdr.Name < f.hdr.Name)
			}
			if sorted {
				t.Error("the loose objects are in name order: real archives' are not")
			}
		}
	}
	checkGitMetadata(t, metadata, states, seen)
	if len(stacked) != st.Stacked {
		t.Errorf("%d MERGED activities without hash, Stats.Stacked %d", len(stacked), st.Stacked)
	}
	for id := range stacked {
		if states[id] != model.PRMerged {
			t.Errorf("#%d has a MERGED activity without hash but is %s", id, states[id])
		}
		// Merged by the next one, whose branch holds this one's tip.
		if c := caches[id]; c.MergeBase != c.FromTip {
			t.Errorf("#%d: stacked, but its cached merge base %s is not its tip %s", id, c.MergeBase, c.FromTip)
		}
	}
	for _, shape := range []string{"inline anchor", "file-level anchor", "resolved task on an open thread",
		"resolved thread of a plain comment", "reply", "COMMENT:OTHER EDITED", "COMMENT:OTHER REPLIED",
		"refs/pull-requests of OPEN only", "stash-refs of all", "Bitbucket Mesh reflogs", "annotated tag", "app-info/gc.pid"} {
		if !seen[shape] {
			t.Errorf("no %s in the archive", shape)
		}
	}
}

func checkComment(t *testing.T, seen map[string]bool, c model.Comment, raw map[string]any) {
	t.Helper()
	_, hasResolved := raw["resolvedTimestamp"]
	_, hasResolver := raw["resolverId"]
	if (hasResolved || hasResolver) && !c.IsTask() {
		t.Errorf("comment %s is not a task but carries resolvedTimestamp/resolverId", c.ID)
	}
	if th, ok := raw["thread"].(map[string]any); ok {
		if anchor, ok := th["anchor"].(map[string]any); ok {
			_, ft := anchor["fileType"]
			_, lt := anchor["lineType"]
			switch {
			case anchor["line"] == 0.0 && !ft && !lt:
				seen["file-level anchor"] = true
			case anchor["line"] != 0.0 && ft && lt:
				seen["inline anchor"] = true
			default:
				t.Errorf("comment %s: anchor %v is neither inline nor file-level", c.ID, anchor)
			}
		}
		switch {
		case c.IsTask() && c.State == model.CommentResolved && !c.Thread.Resolved:
			seen["resolved task on an open thread"] = true
		case !c.IsTask() && c.Thread.Resolved:
			seen["resolved thread of a plain comment"] = true
		}
	}
	for i, r := range c.Comments {
		seen["reply"] = true
		reply := raw["comments"].([]any)[i].(map[string]any)
		if _, ok := reply["thread"]; ok {
			t.Errorf("reply %s carries a thread", r.ID)
		}
		checkComment(t, seen, r, reply)
	}
}

func checkGitMetadata(t *testing.T, m member, states map[int64]string, seen map[string]bool) {
	t.Helper()
	files := map[string]string{}
	for _, f := range m.files(t) {
		files[f.hdr.Name] = string(f.body)
		if f.hdr.Mode != 0o644 {
			t.Errorf("%s %s: mode %o, want 0644", m.hdr.Name, f.hdr.Name, f.hdr.Mode)
		}
	}
	if !strings.Contains(files["config"], "[include]\n\tpath = ../../../config/git/system-config\n") {
		t.Errorf("config without its [include]:\n%s", files["config"])
	}
	openOnly, all, mesh := true, true, true
	for id, state := range states {
		_, open := files[fmt.Sprintf("refs/pull-requests/%d/from", id)]
		openOnly = openOnly && open == (state == model.PROpen)
		_, stash := files[fmt.Sprintf("stash-refs/pull-requests/%d/from", id)]
		all = all && stash
	}
	for name := range files {
		if strings.Contains(name, "/merge") {
			t.Errorf("%s: real archives have no merge refs", name)
		}
		if strings.HasPrefix(name, "refs/") && !strings.HasPrefix(name, "refs/tags/") || strings.HasPrefix(name, "stash-refs/") {
			log, ok := files["logs/"+name]
			mesh = mesh && ok && strings.Contains(log, " Bitbucket Mesh <bitbucket.mesh@atlassian.com> ")
		}
	}
	seen["refs/pull-requests of OPEN only"] = openOnly && len(states) > 0
	seen["stash-refs of all"] = all && len(states) > 0
	seen["Bitbucket Mesh reflogs"] = mesh
	seen["annotated tag"] = strings.Contains(files["packed-refs"], "\n^")
	if _, ok := files["app-info/gc.pid"]; ok {
		seen["app-info/gc.pid"] = true
	}
}
