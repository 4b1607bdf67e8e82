package gen

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"bbimport/archive"
	"bbimport/model"
)

// readDecoded reads an archive with the archive reader and returns every
// member as JSON of what the reader decoded (inner files by digest),
// leaving out where it lies in the archive, and the instance details.
func readDecoded(t *testing.T, data []byte) (map[string]string, model.InstanceDetails) {
	t.Helper()
	out := map[string]string{}
	var inst model.InstanceDetails
	err := archive.Read(bytes.NewReader(data), archive.DefaultLimits(), func(m *archive.Member) error {
		var files []innerDigest
		err := m.Files(func(f archive.File) error {
			b, err := io.ReadAll(f.Body)
			files = append(files, innerDigest{f.Name, f.Mode, sha256.Sum256(b)})
			return err
		})
		if err != nil {
			return err
		}
		var acts []model.Activity
		err = m.Activities(func(a *model.Activity) error {
			acts = append(acts, *a)
			return nil
		})
		if err != nil {
			return err
		}
		if m.Instance != nil {
			inst = *m.Instance
		}
		c := *m
		// Raw is the bytes as written: a version-1 project without a
		// description differs there by design, and decodes the same.
		c.Offset, c.Size, c.Instance, c.Raw = 0, 0, nil, nil
		b, err := json.Marshal(struct {
			Member     archive.Member
			Files      []innerDigest
			Activities []model.Activity
		}{c, files, acts})
		out[m.Name] = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return out, inst
}

func TestArchiveVersion1ReadsAsVersion2(t *testing.T) {
	v1opts := testOptions()
	v1opts.ArchiveVersion = 1
	v1, _ := generate(t, v1opts)
	v2, _ := shared(t)

	// The version-1 shapes are there: the instance says 1, and a project
	// without a description has no such key.
	for _, m := range readArchive(t, v1) {
		switch m.kind {
		case archive.KindInstanceDetails:
			if !bytes.Contains(m.body, []byte(`"archiveVersion":1,`)) || !bytes.Contains(m.body, []byte(`"version":"6.1.1"`)) {
				t.Errorf("version-1 instance details: %s", m.body)
			}
		case archive.KindProject:
			if strings.HasPrefix(string(m.body), `{"description":""`) {
				t.Errorf("version-1 project with an empty description: %s", m.body)
			}
		}
	}
	var personal int
	for _, m := range readArchive(t, v2) {
		if m.kind == archive.KindProject && bytes.HasPrefix(m.body, []byte(`{"description":"",`)) {
			personal++
		}
	}
	if personal == 0 {
		t.Fatal("the version-2 archive has no project without a description: the test shows nothing")
	}

	got, inst := readDecoded(t, v1)
	want, _ := readDecoded(t, v2)
	if inst.ArchiveVersion != 1 || inst.Version != "6.1.1" {
		t.Errorf("version-1 instance details read as %+v", inst)
	}
	if !reflect.DeepEqual(got, want) {
		for name, w := range want {
			if got[name] != w {
				t.Errorf("%s:\nversion 1 reads %s\nversion 2 reads %s", name, got[name], w)
			}
		}
		t.Errorf("version 1 has %d members, version 2 %d", len(got), len(want))
	}

	// inspect sees the same archive but for its source.
	dir := t.TempDir()
	sums := map[int]model.ArchiveSummary{}
	for v, data := range map[int][]byte{1: v1, 2: v2} {
		path := filepath.Join(dir, "v.tar")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum, err := archive.Inspect(path, archive.Limits{})
		if err != nil {
			t.Fatalf("inspect version %d: %v", v, err)
		}
		if sum.Instance.ArchiveVersion != v {
			t.Errorf("inspect of version %d says archiveVersion %d", v, sum.Instance.ArchiveVersion)
		}
		sum.Instance, sum.ArchiveBytes = model.InstanceDetails{}, 0
		sums[v] = sum
	}
	if !reflect.DeepEqual(sums[1], sums[2]) {
		t.Errorf("inspect of version 1: %+v\nof version 2: %+v", sums[1], sums[2])
	}
}
