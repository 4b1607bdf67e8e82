package gen

import (
	"archive/tar"
	"bytes"
	"testing"

	"bbimport/archive"
	"bbimport/model"
)

// TestWriterCraftsOddArchives shows the low-level Writer at work the way a
// safety test uses it: a valid member, an inner tar with a symbolic link,
// an outer hard link, and a raw member whose name escapes the archive.
func TestWriterCraftsOddArchives(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	ids := archive.IDs{Project: "1", Repository: "2", PullRequest: 3}
	steps := []error{
		w.AddJSON(archive.KindProject, ids, model.Project{ID: "1", Key: "A&B", Name: "<x>"}, false),
		w.AddJSON(archive.KindPullRequestMetadata, ids, model.PullRequest{ID: 3, AllParticipants: []model.Participant{}}, true),
		w.AddTar(archive.KindGitMetadata, ids, []File{
			{Name: "HEAD", Data: []byte("ref: refs/heads/master\n")},
			{Name: "config", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
		}),
		w.AddTar(archive.KindGitObjects, ids, []File{{Name: "pack/x.pack", Data: []byte("PACK")}}),
		w.AddEntry(&tar.Header{Name: "evil", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"}, nil),
		w.AddRaw("../../escape", []byte("x")),
		w.Close(),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	members := readArchive(t, buf.Bytes())
	if len(members) != 6 {
		t.Fatalf("%d members, want 6", len(members))
	}
	if got := string(members[0].body); got != `{"description":"","id":"1","key":"A&B","name":"<x>","public":false,"type":0}` {
		t.Errorf("project JSON %s", got)
	}
	if !bytes.HasPrefix(members[1].body, []byte("{\n  \"allParticipants\" : [ ],\n  \"createdTimestamp\" : 0,")) {
		t.Errorf("pull request JSON %s", members[1].body)
	}
	inner := members[2].files(t)
	if len(inner) != 2 || inner[1].hdr.Typeflag != tar.TypeSymlink || inner[1].hdr.Linkname != "/etc/passwd" {
		t.Errorf("metadata tar %+v", inner)
	}
	if objects := members[3].files(t); len(objects) != 1 || string(objects[0].body) != "PACK" {
		t.Errorf("objects tar %+v", objects)
	}
	if h := members[4].hdr; h.Typeflag != tar.TypeLink || h.Linkname != "/etc/shadow" {
		t.Errorf("hard link entry %+v", h)
	}
	if h := members[5].hdr; h.Name != "../../escape" || string(members[5].raw) != "x" {
		t.Errorf("raw entry %+v %q", h, members[5].raw)
	}
	if w.Bytes() != int64(buf.Len()) {
		t.Errorf("Bytes %d, wrote %d", w.Bytes(), buf.Len())
	}
}
