package gen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"bbimport/archive"
	"bbimport/model"
)

// innerDigest is one inner tar file as the round trip compares it.
type innerDigest struct {
	Name string
	Mode int64
	Sum  [32]byte
}

// observed records what Generate wrote, by member name; inner tars by
// digest, taken at once since repositories are removed once written.
type observed struct {
	values map[string]any
	tars   map[string][]innerDigest
}

func observeGenerate(t *testing.T, opts Options) ([]byte, Stats, *observed) {
	t.Helper()
	obs := &observed{values: map[string]any{}, tars: map[string][]innerDigest{}}
	opts.observe = func(name string, v any) {
		files, ok := v.([]File)
		if !ok {
			obs.values[name] = v
			return
		}
		digests := []innerDigest{}
		for _, f := range files {
			data := f.Data
			if f.Path != "" {
				var err error
				if data, err = os.ReadFile(f.Path); err != nil {
					t.Errorf("observe %s: %v", name, err)
				}
			}
			digests = append(digests, innerDigest{f.Name, f.Mode, sha256.Sum256(data)})
			if f.Name == "cached-ancestor.txt" {
				cache, err := model.ParseAncestorCache(string(data))
				if err != nil {
					t.Errorf("observe %s: %v", name, err)
				}
				obs.values[name] = cache
			}
		}
		obs.tars[name] = digests
	}
	data, st := generate(t, opts)
	return data, st, obs
}

// TestRoundTrip reads generated archives back with the archive reader: every
// member decodes to the values the generator wrote, with nothing to note
// and no unknown field but those of Options.UnknownFields, and the member
// counts by kind are the ones Stats gives.
func TestRoundTrip(t *testing.T) {
	hostile := testOptions()
	hostile.Hostile, hostile.HostileMarker = true, filepath.Join(t.TempDir(), "marker")
	unknown := testOptions()
	unknown.UnknownFields = true
	for name, tc := range map[string]struct {
		opts    Options
		unknown map[archive.Kind][]string
	}{
		"default": {opts: testOptions()},
		"hostile": {opts: hostile},
		"unknown fields": {opts: unknown, unknown: map[archive.Kind][]string{
			archive.KindPullRequestMetadata:   {"locked"},
			archive.KindPullRequestActivities: {"comment.comments.version", "comment.version", "id"},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			data, st, obs := observeGenerate(t, tc.opts)
			byKind := map[archive.Kind]int{}
			var unknown map[archive.Kind][]string
			err := archive.Read(bytes.NewReader(data), archive.DefaultLimits(), func(m *archive.Member) error {
				byKind[m.Kind]++
				// Activities are decoded, and their notes and unknown
				// fields found, as checkMember reads them.
				err := checkMember(t, m, obs)
				if len(m.Notes) > 0 {
					t.Errorf("%s: notes %q", m.Name, m.Notes)
				}
				if len(m.UnknownFields) > 0 {
					if unknown == nil {
						unknown = map[archive.Kind][]string{}
					}
					unknown[m.Kind] = append(unknown[m.Kind], m.UnknownFields...)
				}
				return err
			})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			for _, fields := range unknown {
				slices.Sort(fields)
			}
			if !reflect.DeepEqual(unknown, tc.unknown) {
				t.Errorf("unknown fields by kind %q, want %q", unknown, tc.unknown)
			}
			if !reflect.DeepEqual(byKind, st.MembersByKind) {
				t.Errorf("read members by kind %v, Stats says %v", byKind, st.MembersByKind)
			}
			if n := len(obs.tars) + len(obs.values) - st.PullRequests; n != st.Members-2*st.Hierarchies {
				t.Errorf("observed %d members, Stats says %d of which %d hierarchy markers", n, st.Members, 2*st.Hierarchies)
			}
		})
	}
}

func checkMember(t *testing.T, m *archive.Member, obs *observed) error {
	t.Helper()
	if m.Kind == archive.KindPullRequestCaches {
		// The reader decodes the cache and hands over no files.
		if m.Ancestor == nil || *m.Ancestor != obs.values[m.Name] {
			t.Errorf("%s: ancestor cache read %v, wrote %v", m.Name, m.Ancestor, obs.values[m.Name])
		}
		return nil
	}
	if want, ok := obs.tars[m.Name]; ok {
		got := []innerDigest{}
		err := m.Files(func(f archive.File) error {
			data, err := io.ReadAll(f.Body)
			got = append(got, innerDigest{f.Name, f.Mode, sha256.Sum256(data)})
			return err
		})
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read files %v, wrote %v", m.Name, names(got), names(want))
		}
		return nil
	}
	want, ok := obs.values[m.Name]
	if !ok {
		if m.Kind != archive.KindHierarchyBegin && m.Kind != archive.KindHierarchyEnd {
			t.Errorf("%s: read, never written", m.Name)
		}
		return nil
	}
	var got any
	switch m.Kind {
	case archive.KindInstanceDetails:
		got = *m.Instance
	case archive.KindProject:
		got = *m.Project
	case archive.KindRepository:
		got = *m.Repository
	case archive.KindProjectPermissions, archive.KindRepositoryPermissions:
		got = m.Permissions
	case archive.KindProjectAllPermissions:
		w, err := json.Marshal(want)
		if err != nil {
			return err
		}
		got, want = string(m.AllPermissions), string(w)
	case archive.KindPullRequestMetadata:
		got = *m.PullRequest
	case archive.KindPullRequestActivities:
		var acts []model.Activity
		if err := m.Activities(func(a *model.Activity) error { acts = append(acts, *a); return nil }); err != nil {
			return err
		}
		got = acts
	case archive.KindLFSSettings:
		got = *m.LFS
	default:
		return fmt.Errorf("%s: kind %v has no check", m.Name, m.Kind)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\nread  %+v\nwrote %+v", m.Name, got, want)
	}
	return nil
}

func names(ds []innerDigest) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

// TestInspectCountsMatch checks that inspect finds what gen was asked for.
func TestInspectCountsMatch(t *testing.T) {
	opts := testOptions()
	path := filepath.Join(t.TempDir(), "a.tar")
	opts.TempDir = t.TempDir()
	st, err := GenerateFile(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := archive.Inspect(path, archive.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := model.PullRequestCounts{Total: st.PullRequests, Open: st.PullRequestsByState[model.PROpen],
		Merged: st.PullRequestsByState[model.PRMerged], Declined: st.PullRequestsByState[model.PRDeclined]}
	if sum.Repositories != st.Repositories || sum.Forks != st.Forks || len(sum.Hierarchies) != st.Hierarchies ||
		len(sum.Projects) != st.Projects || sum.PullRequests != want || sum.Members != st.Members ||
		sum.GitBytes != st.GitBytes || sum.ArchiveBytes != st.Bytes || len(sum.Warnings) > 0 {
		t.Errorf("inspect says %+v\nStats says %+v", sum, st)
	}
	o := testOptions()
	if st.Repositories != o.Projects*o.Repos*(1+o.Forks) || st.PullRequests != st.Repositories*o.PRs {
		t.Errorf("%d repositories and %d pull requests for %+v", st.Repositories, st.PullRequests, o)
	}
}
