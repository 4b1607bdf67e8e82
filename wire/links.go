package wire

import (
	"net/url"
	"strconv"
	"strings"

	"bbimport/model"
)

// SSHPort is the port of Bitbucket's ssh clone URLs.
const SSHPort = "7999"

// The links of each entity, as Bitbucket builds them from its base URL
// (scheme, host and context path, without a trailing slash). Clients build
// follow-up URLs from links.self, so every project, repository and pull
// request carries them.

// ProjectLinks are a project's links: its web page.
func ProjectLinks(base, key string) *model.Links {
	return &model.Links{Self: []model.Link{{Href: base + "/projects/" + url.PathEscape(key)}}}
}

// RepositoryLinks are a repository's links: its browse page, and its http
// and ssh clone URLs (with the project key in lower case, as Bitbucket
// writes them).
func RepositoryLinks(base, key, slug string) *model.Links {
	repo := strings.ToLower(url.PathEscape(key)) + "/" + url.PathEscape(slug) + ".git"
	host := base
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return &model.Links{
		Self: []model.Link{{Href: base + "/projects/" + url.PathEscape(key) + "/repos/" + url.PathEscape(slug) + "/browse"}},
		Clone: []model.Link{
			{Href: base + "/scm/" + repo, Name: "http"},
			{Href: "ssh://git@" + host + ":" + SSHPort + "/" + repo, Name: "ssh"},
		},
	}
}

// PullRequestLinks are a pull request's links: its web page.
func PullRequestLinks(base, key, slug string, id int64) *model.Links {
	return &model.Links{Self: []model.Link{{Href: base + "/projects/" + url.PathEscape(key) + "/repos/" +
		url.PathEscape(slug) + "/pull-requests/" + strconv.FormatInt(id, 10)}}}
}
