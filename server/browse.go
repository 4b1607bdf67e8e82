package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"bbimport/model"
	"bbimport/wire"
)

// The read API: what an admin checks after an import, and what Bitbucket
// client libraries call. The backend filters and pages; this layer reads
// the request and adds the links, which only it can build.

// Reader is what the server needs of the importer to answer the read API:
// model.Reader, which the REST client satisfies too.
type Reader = model.Reader

// baseURL is the server's base URL as the request reached it: scheme,
// Host header and any context path a proxy put before /rest/.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	contextPath, _, _ := strings.Cut(r.URL.Path, "/rest/")
	return scheme + "://" + r.Host + contextPath
}

func withProjectLinks(base string, p *model.RestProject) {
	p.Links = wire.ProjectLinks(base, p.Key)
}

func withRepositoryLinks(base string, r *model.RestRepository) {
	r.Links = wire.RepositoryLinks(base, r.Project.Key, r.Slug)
	withProjectLinks(base, &r.Project)
	if r.Origin != nil {
		withRepositoryLinks(base, r.Origin)
	}
}

func withPullRequestLinks(base string, pr *model.RestPullRequest) {
	for _, ref := range []*model.RestRef{&pr.FromRef, &pr.ToRef} {
		if ref.Repository != nil {
			repo := *ref.Repository // shared between refs and pull requests
			withRepositoryLinks(base, &repo)
			ref.Repository = &repo
		}
	}
	if pr.ToRef.Repository != nil {
		pr.Links = wire.PullRequestLinks(base, pr.ToRef.Repository.Project.Key, pr.ToRef.Repository.Slug, pr.ID)
	}
}

// writeLinkedPage sends a page after adding each value's links.
func writeLinkedPage[T any](w http.ResponseWriter, r *http.Request, p model.Page[T], link func(string, *T)) {
	base := baseURL(r)
	for i := range p.Values {
		link(base, &p.Values[i])
	}
	writePage(w, p)
}

// answerPage reads paging, fetches a page and sends it with links (link
// may be nil), or the error.
func answerPage[T any](s *Server, w http.ResponseWriter, r *http.Request, link func(string, *T),
	fetch func(ctx context.Context, start, limit int) (model.Page[T], error)) {
	start, limit, ok := paging(w, r.URL.Query())
	if !ok {
		return
	}
	page, err := fetch(r.Context(), start, limit)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	if link == nil {
		writePage(w, page)
		return
	}
	writeLinkedPage(w, r, page, link)
}

// answerOne fetches one entity and sends it with links, or the error.
func answerOne[T any](s *Server, w http.ResponseWriter, r *http.Request, link func(string, *T), v T, err error) {
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	if link != nil {
		link(baseURL(r), &v)
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) projects(w http.ResponseWriter, r *http.Request) {
	q := wire.ParseProjectQuery(r.URL.Query())
	answerPage(s, w, r, withProjectLinks, func(ctx context.Context, start, limit int) (model.Page[model.RestProject], error) {
		return s.imp.ListProjects(ctx, q, start, limit)
	})
}

func (s *Server) project(w http.ResponseWriter, r *http.Request) {
	p, err := s.imp.Project(r.Context(), r.PathValue(wire.WildProjectKey))
	answerOne(s, w, r, withProjectLinks, p, err)
}

func (s *Server) repositories(w http.ResponseWriter, r *http.Request) {
	q := model.RepositoryQuery{ProjectKey: r.PathValue(wire.WildProjectKey)}
	s.answerRepositories(w, r, q)
}

// allRepositories is GET /repos, every project's repositories.
func (s *Server) allRepositories(w http.ResponseWriter, r *http.Request) {
	s.answerRepositories(w, r, wire.ParseRepositoryQuery(r.URL.Query()))
}

// userRepositories is GET /users/{userSlug}/repos: the repositories of the
// user's personal project, ~SLUG. A user without one has none. A slug
// sent with its tilde (/users/~ada/repos, as a current Python client
// library sends it) names the same user.
func (s *Server) userRepositories(w http.ResponseWriter, r *http.Request) {
	key := "~" + strings.ToUpper(strings.TrimPrefix(r.PathValue(wire.WildUserSlug), "~"))
	_, err := s.imp.Project(r.Context(), key)
	switch {
	case errors.Is(err, model.ErrNotFound):
		if start, limit, ok := paging(w, r.URL.Query()); ok {
			writePage(w, model.Page[model.RestRepository]{Start: start, Limit: limit, IsLastPage: true})
		}
	case err != nil:
		s.writeBackendError(w, r, err)
	default:
		s.answerRepositories(w, r, model.RepositoryQuery{ProjectKey: key})
	}
}

func (s *Server) answerRepositories(w http.ResponseWriter, r *http.Request, q model.RepositoryQuery) {
	answerPage(s, w, r, withRepositoryLinks, func(ctx context.Context, start, limit int) (model.Page[model.RestRepository], error) {
		return s.imp.ListRepositories(ctx, q, start, limit)
	})
}

func (s *Server) repository(w http.ResponseWriter, r *http.Request) {
	repo, err := s.imp.Repository(r.Context(), r.PathValue(wire.WildProjectKey), r.PathValue(wire.WildSlug))
	answerOne(s, w, r, withRepositoryLinks, repo, err)
}

func (s *Server) pullRequests(w http.ResponseWriter, r *http.Request) {
	q, err := wire.ParsePullRequestQuery(r.URL.Query())
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	key, slug := r.PathValue(wire.WildProjectKey), r.PathValue(wire.WildSlug)
	answerPage(s, w, r, withPullRequestLinks, func(ctx context.Context, start, limit int) (model.Page[model.RestPullRequest], error) {
		return s.imp.ListPullRequests(ctx, key, slug, q, start, limit)
	})
}

// pullRequestID reads the pull request id of the path; a malformed one is
// answered 400.
func pullRequestID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	raw := r.PathValue(wire.WildPullID)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		writeBadRequest(w, &wire.FieldError{Field: wire.WildPullID, Message: fmt.Sprintf("pull request id %q is not a number", raw)})
		return 0, false
	}
	return id, true
}

func (s *Server) pullRequest(w http.ResponseWriter, r *http.Request) {
	id, ok := pullRequestID(w, r)
	if !ok {
		return
	}
	pr, err := s.imp.PullRequest(r.Context(), r.PathValue(wire.WildProjectKey), r.PathValue(wire.WildSlug), id)
	answerOne(s, w, r, withPullRequestLinks, pr, err)
}

func (s *Server) activities(w http.ResponseWriter, r *http.Request) {
	id, ok := pullRequestID(w, r)
	if !ok {
		return
	}
	key, slug := r.PathValue(wire.WildProjectKey), r.PathValue(wire.WildSlug)
	answerPage(s, w, r, nil, func(ctx context.Context, start, limit int) (model.Page[model.RestActivity], error) {
		return s.imp.Activities(ctx, key, slug, id, start, limit)
	})
}

func (s *Server) branches(w http.ResponseWriter, r *http.Request) {
	s.answerRefs(w, r, s.imp.Branches)
}

func (s *Server) tags(w http.ResponseWriter, r *http.Request) {
	s.answerRefs(w, r, s.imp.Tags)
}

func (s *Server) answerRefs(w http.ResponseWriter, r *http.Request,
	list func(ctx context.Context, projectKey, slug string, q model.RefQuery, start, limit int) (model.Page[model.RestBranchOrTag], error)) {
	q, err := wire.ParseRefQuery(r.URL.Query())
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	key, slug := r.PathValue(wire.WildProjectKey), r.PathValue(wire.WildSlug)
	answerPage(s, w, r, nil, func(ctx context.Context, start, limit int) (model.Page[model.RestBranchOrTag], error) {
		return list(ctx, key, slug, q, start, limit)
	})
}

func (s *Server) defaultBranch(w http.ResponseWriter, r *http.Request) {
	b, err := s.imp.DefaultBranch(r.Context(), r.PathValue(wire.WildProjectKey), r.PathValue(wire.WildSlug))
	answerOne[model.RestBranchOrTag](s, w, r, nil, b, err)
}

// deleteRepository is DELETE /projects/{projectKey}/repos/{repositorySlug}:
// Bitbucket answers 202 and deletes in the background; serve deletes
// before it answers, so that a client waiting for 404 sees it at once.
func (s *Server) deleteRepository(w http.ResponseWriter, r *http.Request) {
	if err := s.imp.DeleteRepository(r.Context(), r.PathValue(wire.WildProjectKey), r.PathValue(wire.WildSlug)); err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// deleteProject is DELETE /projects/{projectKey}: 204 for an empty
// project, 409 for one with repositories.
func (s *Server) deleteProject(w http.ResponseWriter, r *http.Request) {
	if err := s.imp.DeleteProject(r.Context(), r.PathValue(wire.WildProjectKey)); err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
