package archive

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"bbimport/internal/realshape"
	"bbimport/model"
)

// The reader takes every shape of a real export (internal/realshape,
// written by hand from "What real archives carry") without a note, an
// unknown field or a malformed member, and inspect counts it as it is.
func TestRealShapesReadWithoutNotes(t *testing.T) {
	for _, version := range []int{2, 1} {
		t.Run(fmt.Sprintf("archiveVersion %d", version), func(t *testing.T) {
			fx, err := realshape.Build(context.Background(), t.TempDir(), version)
			if err != nil {
				t.Fatal(err)
			}
			var remarks, inner []string
			records := 0
			err = ReadFile(fx.Path, DefaultLimits(), func(m *Member) error {
				note := func() {
					for _, n := range m.Notes {
						remarks = append(remarks, m.Name+": note "+n)
					}
					for _, f := range m.UnknownFields {
						remarks = append(remarks, m.Name+": unknown field "+f)
					}
					if m.Malformed != nil {
						remarks = append(remarks, m.Name+": malformed "+m.Malformed.Error())
					}
				}
				defer note()
				switch m.Kind {
				case KindUnknown:
					remarks = append(remarks, m.Name+": unknown member")
				case KindGitMetadata, KindGitHooks, KindGitObjects:
					return m.Files(func(f File) error {
						inner = append(inner, f.Name)
						_, err := io.Copy(io.Discard, f.Body)
						return err
					})
				case KindPullRequestActivities:
					return m.Activities(func(*model.Activity) error {
						records++
						return nil
					})
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(remarks) != 0 {
				t.Errorf("the reader remarked:\n%s", strings.Join(remarks, "\n"))
			}
			if records != 22 {
				t.Errorf("%d activity records, want the fixture's 22", records)
			}
			files := strings.Join(inner, " ")
			for _, name := range []string{"HEAD", "config", "app-info/gc.pid", "logs/refs/heads/main",
				"logs/stash-refs/pull-requests/2/from", "refs/tags/v1.1", "stash-refs/pull-requests/5/from"} {
				if !strings.Contains(" "+files+" ", " "+name+" ") {
					t.Errorf("inner file %s not handed over; got %s", name, files)
				}
			}
			sum, err := Inspect(fx.Path, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			want := model.PullRequestCounts{Total: 5, Open: 2, Merged: 2, Declined: 1}
			if sum.PullRequests != want || sum.Instance.ArchiveVersion != version || len(sum.Warnings) != 0 {
				t.Errorf("inspect: pull requests %+v, archiveVersion %d, warnings %v", sum.PullRequests, sum.Instance.ArchiveVersion, sum.Warnings)
			}
		})
	}
}
