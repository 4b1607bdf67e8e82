package wire_test

import (
	"errors"
	"net/url"
	"reflect"
	"testing"

	"bbimport/model"
	"bbimport/wire"
)

func TestParsePullRequestQuery(t *testing.T) {
	for raw, want := range map[string]model.PullRequestQuery{
		"": {State: "OPEN", Direction: "INCOMING", Order: "NEWEST"},
		"state=all&at=main&direction=outgoing&order=oldest&filterText=Fix": {State: "ALL", At: "refs/heads/main",
			Direction: "OUTGOING", Order: "OLDEST", FilterText: "Fix"},
		"at=refs/tags/v1&username.2=bo&role.2=reviewer&username.10=cy&username.1=ada": {State: "OPEN", At: "refs/tags/v1",
			Direction: "INCOMING", Order: "NEWEST", Participants: []model.ParticipantFilter{
				{Username: "ada"}, {Role: "REVIEWER", Username: "bo"}, {Username: "cy"}}},
	} {
		q, _ := url.ParseQuery(raw)
		got, err := wire.ParsePullRequestQuery(q)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %+v, %v; want %+v", raw, got, err, want)
		}
	}
	for raw, field := range map[string]string{
		"state=SHUT": "state", "order=BIGGEST": "order", "direction=UP": "direction",
		"role.1=AUTHOR": "role.1", "role.x=AUTHOR&username.x=a": "role.x", "role.1=BOSS&username.1=a": "role.1",
	} {
		q, _ := url.ParseQuery(raw)
		_, err := wire.ParsePullRequestQuery(q)
		var fe *wire.FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%q: %v, want a FieldError on %s", raw, err, field)
		}
	}
}

func TestRepositoryLinks(t *testing.T) {
	got := wire.RepositoryLinks("https://git.example.com:8443/bitbucket", "~ADA", "my-repo")
	want := &model.Links{
		Self: []model.Link{{Href: "https://git.example.com:8443/bitbucket/projects/~ADA/repos/my-repo/browse"}},
		Clone: []model.Link{{Href: "https://git.example.com:8443/bitbucket/scm/~ada/my-repo.git", Name: "http"},
			{Href: "ssh://git@git.example.com:7999/~ada/my-repo.git", Name: "ssh"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("links %+v, want %+v", got, want)
	}
}
