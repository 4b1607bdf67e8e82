package ui

import (
	"slices"
	"testing"

	"bbimport/model"
)

// The console shows the counts the job reports, whatever its messages say:
// a message's wording is for people and may change.
func TestJobCountsComeFromTheJob(t *testing.T) {
	milestones := slices.Concat(runningMessages, []model.Message{
		message(90, model.SeverityInfo, "", "Import finished in 2m0s: 9 project(s), 99 repositories and 999 pull request(s) imported, 0 error(s)")})
	for _, tc := range []struct {
		name    string
		counts  *model.ImportCounts
		want    string
		notWant string
	}{
		{"reported", &model.ImportCounts{Projects: 4, Repositories: 11, PullRequests: 77},
			"imported 4 projects · 11 repos · 77 PRs", "999 PRs"},
		{"personal projects reused", &model.ImportCounts{Projects: 3, Repositories: 7, PullRequests: 340, PersonalReused: 2},
			"imported 5 projects (3 new, 2 personal reused) · 7 repos · 340 PRs", "999 PRs"},
		{"zero is reported too", &model.ImportCounts{}, "imported 0 projects · 0 repos · 0 PRs", "999 PRs"},
		{"not reported (Bitbucket)", nil, "imported: not reported ·", "999 PRs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 140, 40)
			h.init()
			h.press("enter", "y")
			j := runningJob()
			j.Counts = tc.counts
			h.b.set(j, milestones...)
			h.fire()
			h.requireScreen(tc.want)
			h.requireNotScreen(tc.notWant)
		})
	}
}
