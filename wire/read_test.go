package wire_test

import (
	"errors"
	"net/url"
	"reflect"
	"testing"

	"bbimport/model"
	"bbimport/wire"
)

// What a client sends is what the server reads back: every filter of every
// list survives the trip, and paging with it.
func TestQueryValuesRoundTrip(t *testing.T) {
	prs := []model.PullRequestQuery{
		{State: model.PROpen, Direction: model.DirectionIncoming, Order: model.OrderNewest},
		{State: model.PRStateAll, At: "refs/heads/main", Direction: model.DirectionOutgoing, Order: model.OrderOldest, FilterText: "a b&c",
			Participants: []model.ParticipantFilter{{Username: "ada"}, {Role: model.RoleReviewer, Username: "bo"}}},
	}
	for _, q := range prs {
		v := wire.PullRequestQueryValues(wire.PagingValues(3, 7), q)
		back, err := url.ParseQuery(v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		got, err := wire.ParsePullRequestQuery(back)
		start, limit, perr := wire.ParsePaging(back)
		if err != nil || perr != nil || !reflect.DeepEqual(got, q) || start != 3 || limit != 7 {
			t.Errorf("%+v sent as %s, read back as %+v at %d of %d (%v %v)", q, v.Encode(), got, start, limit, err, perr)
		}
	}
	for _, q := range []model.RefQuery{{OrderBy: model.OrderAlphabetical}, {FilterText: "rel/1", OrderBy: model.OrderModification}} {
		got, err := wire.ParseRefQuery(wire.RefQueryValues(url.Values{}, q))
		if err != nil || got != q {
			t.Errorf("%+v read back as %+v, %v", q, got, err)
		}
	}
	rq := model.RepositoryQuery{Name: "api", ProjectName: "Ember"}
	if got := wire.ParseRepositoryQuery(wire.RepositoryQueryValues(url.Values{}, rq)); got != rq {
		t.Errorf("%+v read back as %+v", rq, got)
	}
	pq := model.ProjectQuery{Name: "emb"}
	if got := wire.ParseProjectQuery(wire.ProjectQueryValues(url.Values{}, pq)); got != pq {
		t.Errorf("%+v read back as %+v", pq, got)
	}
	// Unset limit: the server's default applies.
	if v := wire.PagingValues(0, 0); v.Encode() != "start=0" {
		t.Errorf("paging without a limit: %s", v.Encode())
	}
}

// The read paths fill the patterns the server routes, escaping each value.
func TestReadPaths(t *testing.T) {
	for got, want := range map[string]string{
		wire.RepoPath("~ADA", "a b"):         "/projects/~ADA/repos/a%20b",
		wire.PullRequestPath("PRJ", "r", 12): "/projects/PRJ/repos/r/pull-requests/12",
		wire.ActivitiesPath("PRJ", "r", 12):  "/projects/PRJ/repos/r/pull-requests/12/activities",
		wire.DefaultBranchPath("PRJ", "r"):   "/projects/PRJ/repos/r/branches/default",
		wire.TagsPath("PRJ", "r"):            "/projects/PRJ/repos/r/tags",
		wire.ReposPath("PRJ"):                "/projects/PRJ/repos",
		wire.PlacementsPath(3):               "/imports/3/placements",
		wire.PullRequestsPath("PRJ", "r"):    "/projects/PRJ/repos/r/pull-requests",
		wire.BranchesPath("PRJ", "r.git"):    "/projects/PRJ/repos/r.git/branches",
	} {
		if got != want {
			t.Errorf("path %s, want %s", got, want)
		}
	}
	if got := wire.NotFoundOf(wire.ExceptionNoSuchRepository); !errors.Is(got, model.ErrNoSuchRepository) || errors.Is(got, model.ErrNoSuchProject) {
		t.Errorf("NoSuchRepositoryException: %v", got)
	}
	if got := wire.NotFoundOf("com.example.Other"); got != nil {
		t.Errorf("an unknown exceptionName: %v", got)
	}
}
