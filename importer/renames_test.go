package importer

import (
	"context"
	"slices"
	"strings"
	"testing"

	"bbimport/archive"
	"bbimport/archive/gen"
	"bbimport/model"
)

// TestPreflightForeseesEveryRename imports an archive twice: before each
// import the pre-flight's plan (model.PlanRenames on what the target's
// read API says) lists exactly the renames the import then WARNs about,
// projects' keys and names and the repositories of personal projects,
// which the second import reuses (~USER/api -> api-1).
func TestPreflightForeseesEveryRename(t *testing.T) {
	in := openHome(t)
	path := generated(t, "default", gen.DefaultOptions())
	sum, err := archive.Inspect(path, archive.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 2; round++ {
		plan, err := model.PlanRenames(sum.Projects, sum.RepositoryList, model.ReaderNames(context.Background(), in))
		if err != nil {
			t.Fatal(err)
		}
		foreseen := make([]string, len(plan))
		for i, r := range plan {
			foreseen[i] = "WARN " + r.Subject + ": " + model.Sentence(r.String())
		}
		job := importArchive(t, in, path)
		var warned []string
		for _, m := range messages(t, in, job.ID, model.SeverityWarn) {
			for _, rename := range []string{": A project with key ", ": A project named ", ": A repository with slug ", ": A repository named ",
				": Project key ", ": Repository slug "} {
				if strings.Contains(m, rename) {
					warned = append(warned, m)
				}
			}
		}
		// The plan places projects before repositories; the import meets a
		// personal project mid-hierarchy: the same renames, in another order.
		slices.Sort(foreseen)
		slices.Sort(warned)
		if strings.Join(foreseen, "\n") != strings.Join(warned, "\n") {
			t.Errorf("import %d: the pre-flight foresaw\n%s\nthe import warned\n%s", round, strings.Join(foreseen, "\n"), strings.Join(warned, "\n"))
		}
		infos := strings.Join(messages(t, in, job.ID, model.SeverityInfo), "\n")
		if before := strings.Contains(infos, "This archive was imported into this home before (same SHA-256 "); before != (round == 2) ||
			round == 2 && !strings.Contains(infos, "): job 1 on ") {
			t.Errorf("import %d: an earlier import of the archive said %v:\n%s", round, before, infos)
		}
		if round == 2 && !strings.Contains(strings.Join(warned, "\n"), "A repository with slug api exists already in ~") {
			t.Errorf("import 2 renamed no repository of a personal project:\n%s", strings.Join(warned, "\n"))
		}
	}
}
