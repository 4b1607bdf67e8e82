package gen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"bbimport/archive"
)

var update = flag.Bool("update", false, "rewrite testdata/samples with what the generator writes now")

const samplesDir = "../../testdata/samples"

// samples are the archives committed under testdata/samples for tests and
// the demo. collide.tar reuses small.tar's first project key, so importing
// both shows a collision.
func samples() map[string]Options {
	small := Options{Projects: 2, Repos: 2, Forks: 2, PRs: 8, Commits: 5, BlobKiB: 1, Seed: 1}
	g := &generator{opts: small, people: newPeople(small.Seed)}
	g.plan()
	collide := Options{Projects: 1, Repos: 1, Forks: 1, PRs: 3, Commits: 3, Seed: 2,
		ProjectKeys: []string{g.projects[0].Key}}
	return map[string]Options{"small.tar": small, "collide.tar": collide}
}

func TestSamplesAreCurrent(t *testing.T) {
	for name, opts := range samples() {
		path := filepath.Join(samplesDir, name)
		data, _ := generate(t, opts)
		if *update {
			if err := os.MkdirAll(samplesDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		committed, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v: run `go generate ./archive/gen/` to write the samples", err)
		}
		if !bytes.Equal(committed, data) {
			t.Errorf("%s differs from what the generator writes now: if the change is meant, run `go generate ./archive/gen/` and commit the samples", path)
		}
	}
}

func TestSamplesCollide(t *testing.T) {
	keys := map[string][]string{}
	for name := range samples() {
		data, err := os.ReadFile(filepath.Join(samplesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range readArchive(t, data) {
			if m.kind == archive.KindProject {
				var p struct{ Key string }
				mustUnmarshal(t, m.body, &p)
				keys[p.Key] = append(keys[p.Key], name)
			}
		}
	}
	for _, names := range keys {
		if len(names) == 2 {
			return
		}
	}
	t.Fatalf("no project key in both samples: %v", keys)
}
