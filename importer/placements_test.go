package importer

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/model"
)

// The same archive imported twice: the second job's placements follow the
// renames by data, project KEY → KEY1, and in a personal project (reused,
// not renamed) slug → slug-1.
func TestPlacementsFollowRenames(t *testing.T) {
	if testing.Short() {
		t.Skip("imports an archive twice")
	}
	ctx := context.Background()
	in := openHome(t)
	path := generated(t, "default", gen.DefaultOptions())
	sum, err := archive.Inspect(path, archive.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	// What the archive holds, as "hierarchy KEY/slug", in archive order.
	var want []string
	for _, h := range sum.Hierarchies {
		for _, repo := range append([]string{h.Origin}, h.Forks...) {
			want = append(want, h.ID+" "+repo)
		}
	}
	first := importArchive(t, in, path)
	second := importArchive(t, in, path)
	if first.State != model.StateCompleted || second.State != model.StateCompleted {
		t.Fatalf("imports ended %s and %s", first.State, second.State)
	}

	personal := 0
	for i, job := range []model.Job{first, second} {
		placements, err := in.Placements(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range placements {
			got = append(got, p.HierarchyID+" "+p.ArchiveProject+"/"+p.ArchiveSlug)
			wantProject, wantSlug := p.ArchiveProject, p.ArchiveSlug
			switch {
			case i == 1 && strings.HasPrefix(p.ArchiveProject, "~"):
				wantSlug += "-1"
				personal++
			case i == 1:
				wantProject += "1"
			}
			if p.Job != job.ID || p.Project != wantProject || p.Slug != wantSlug {
				t.Errorf("job %d placed %+v, want %s/%s", job.ID, p, wantProject, wantSlug)
			}
			// The placement names a repository that is there.
			if _, err := in.Repository(ctx, p.Project, p.Slug); err != nil {
				t.Errorf("job %d placement %+v: %v", job.ID, p, err)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("job %d placements %v, archive %v", job.ID, got, want)
		}
	}
	if personal == 0 {
		t.Error("the archive has no repository in a personal project to test the slug rename with")
	}

	if _, err := in.Placements(ctx, second.ID+1); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("placements of an unknown job: %v", err)
	}
	// A job of a bbimport that recorded no placements cannot answer.
	if _, err := in.db.Exec(`DELETE FROM archive_repositories WHERE job_id = ?`, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Placements(ctx, first.ID); !errors.Is(err, model.ErrNotSupported) {
		t.Errorf("placements of a job without records: %v", err)
	}
}
