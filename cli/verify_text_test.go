package cli

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"bbimport/model"
)

// TestVerifyTextSaysWhatToDo reads the text report as an admin would: each
// difference one line, a repository's missing pull requests one line in
// ranges, and what to do said once, after the totals; a hierarchy that is
// all there but changed is not sent to the remainder.
func TestVerifyTextSaysWhatToDo(t *testing.T) {
	const moved, was = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	ds := []model.VerifyDifference{
		{Kind: model.VerifyHierarchy, Status: model.VerifyDiffers, HierarchyID: "h1", Repository: "PULS/api", Target: "PULS1/api", Field: model.VerifyChanged},
		{Kind: model.VerifyRef, Status: model.VerifyDiffers, HierarchyID: "h1", Repository: "PULS/api", Target: "PULS1/api", Item: "refs/heads/main", Field: "commit", Expected: was, Found: moved},
		{Kind: model.VerifyPullRequest, Status: model.VerifyDiffers, HierarchyID: "h1", Repository: "PULS/api", Target: "PULS1/api", Item: "#2", Field: "state", Expected: "OPEN", Found: "DECLINED"},
		{Kind: model.VerifyPullRequest, Status: model.VerifyDiffers, HierarchyID: "h1", Repository: "PULS/api", Target: "PULS1/api", Item: "#3", Field: "title", Expected: "Fix it", Found: "Fixed"},
		{Kind: model.VerifyPullRequest, Status: model.VerifyDiffers, HierarchyID: "h1", Repository: "PULS/api", Target: "PULS1/api", Item: "#4", Field: "comments", Expected: "3", Found: "2"},
		{Kind: model.VerifyHierarchy, Status: model.VerifyDiffers, HierarchyID: "h2", Repository: "PULS/web", Target: "PULS/web", Field: model.VerifyIncomplete},
		{Kind: model.VerifyRef, Status: model.VerifyMissing, HierarchyID: "h2", Repository: "PULS/web", Target: "PULS/web", Item: "refs/tags/v1", Expected: was},
		{Kind: model.VerifyRepository, Status: model.VerifyMissing, HierarchyID: "h2", Repository: "~ANN/web"},
		{Kind: model.VerifyHierarchy, Status: model.VerifyMissing, HierarchyID: "h3", Repository: "PULS/db"},
		{Kind: model.VerifyPullRequest, Status: model.VerifyMissing, HierarchyID: "h3", Repository: "PULS/db", Item: "#1"},
		{Kind: model.VerifyHierarchy, Status: model.VerifyDiffers, HierarchyID: "h4", Repository: "ATLA/auth", Target: "ATLA1/auth", Field: model.VerifyIncomplete},
	}
	for _, n := range []int{12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 61, 63} {
		ds = append(ds, model.VerifyDifference{Kind: model.VerifyPullRequest, Status: model.VerifyMissing, HierarchyID: "h4", Repository: "ATLA/auth", Target: "ATLA1/auth", Item: "#" + strconv.Itoa(n)})
	}
	r := model.VerifyReport{Archive: "a.tar", Jobs: []int64{1, 2}, Target: "/srv/bbimport", Differences: ds,
		Hierarchies: []model.VerifiedHierarchy{{ID: "h3", Status: model.VerifyMissing, Repositories: []model.VerifiedRepository{{Repository: "PULS/db", Status: model.VerifyMissing}}}}}
	var out bytes.Buffer
	printVerify(&out, r, "", "./bbimport --home /x")
	want := []string{
		"PULS/api (PULS1/api on the target): its fork hierarchy is all on the target, but changed since the import (below).",
		"PULS/api (PULS1/api on the target): refs/heads/main is at 111111111111, the archive has 222222222222: it moved since the import.",
		"PULS/api (PULS1/api on the target): pull request #2 is DECLINED, OPEN in the archive.",
		`PULS/api (PULS1/api on the target): pull request #3 is titled "Fixed", "Fix it" in the archive.`,
		"PULS/api (PULS1/api on the target): pull request #4 has 2 comments, 3 in the archive.",
		"PULS/web: its fork hierarchy is incomplete on the target.",
		"PULS/web: refs/tags/v1 is missing (the archive has it at 222222222222).",
		"~ANN/web: missing on the target.",
		"PULS/db: its fork hierarchy is missing on the target.",
		"PULS/db: pull request #1 is missing.",
		"ATLA/auth (ATLA1/auth on the target): its fork hierarchy is incomplete on the target.",
		"ATLA/auth (ATLA1/auth on the target): PRs 12–24, 61, 63 (15) missing.",
		"",
	}
	lines := strings.Split(out.String(), "\n")
	if len(lines) < len(want) || strings.Join(lines[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant first\n%s", out.String(), strings.Join(want, "\n"))
	}
	if !strings.Contains(out.String(), "Archive            a.tar (jobs 1 2)\n") || strings.Contains(out.String(), "Everything in the archive") {
		t.Errorf("totals:\n%s", out.String())
	}
	// What to do, once each, at the end.
	_, after, _ := strings.Cut(out.String(), "Pull requests")
	for _, advice := range []string{"./bbimport --home /x verify 1 2 --remainder FILE", "check who changed it"} {
		if n := strings.Count(out.String(), advice); n != 1 || !strings.Contains(after, advice) {
			t.Errorf("%q said %d times, or before the totals:\n%s", advice, n, out.String())
		}
	}
}
