package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"bbimport/model"
	"bbimport/wire"
)

// The read-only calls that let an admin check what an import brought in.

func (s *Server) projects(w http.ResponseWriter, r *http.Request) {
	start, limit, ok := paging(w, r.URL.Query())
	if !ok {
		return
	}
	page, err := s.imp.Projects(r.Context(), start, limit)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writePage(w, page)
}

func (s *Server) project(w http.ResponseWriter, r *http.Request) {
	p, err := s.imp.Project(r.Context(), r.PathValue("projectKey"))
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) repositories(w http.ResponseWriter, r *http.Request) {
	start, limit, ok := paging(w, r.URL.Query())
	if !ok {
		return
	}
	page, err := s.imp.Repositories(r.Context(), r.PathValue("projectKey"), start, limit)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writePage(w, page)
}

func (s *Server) repository(w http.ResponseWriter, r *http.Request) {
	repo, err := s.imp.Repository(r.Context(), r.PathValue("projectKey"), r.PathValue("slug"))
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, repo)
}

// pullRequests honours Bitbucket's state filter (OPEN by default, or ALL,
// MERGED, DECLINED). The importer pages over all states, so a filtered page
// is cut from the filtered whole.
func (s *Server) pullRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, limit, ok := paging(w, q)
	if !ok {
		return
	}
	key, slug := r.PathValue("projectKey"), r.PathValue("slug")
	state := strings.ToUpper(q.Get("state"))
	switch state {
	case "":
		state = model.PROpen
	case "ALL", model.PROpen, model.PRMerged, model.PRDeclined:
	default:
		writeError(w, http.StatusBadRequest, "state", fmt.Sprintf("State %q is not one of ALL, OPEN, MERGED, DECLINED.", q.Get("state")))
		return
	}
	if state == "ALL" {
		page, err := s.imp.PullRequests(r.Context(), key, slug, start, limit)
		if err != nil {
			s.writeBackendError(w, r, err)
			return
		}
		writePage(w, page)
		return
	}
	matching, err := s.pullRequestsIn(r.Context(), key, slug, state)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writePage(w, wire.PageOf(matching, start, limit))
}

func (s *Server) pullRequestsIn(ctx context.Context, key, slug, state string) ([]model.RestPullRequest, error) {
	var matching []model.RestPullRequest
	_, err := wire.Each(ctx, 0, func(ctx context.Context, start int) (model.Page[model.RestPullRequest], error) {
		return s.imp.PullRequests(ctx, key, slug, start, wire.MaxLimit)
	}, func(pr model.RestPullRequest) error {
		if pr.State == state {
			matching = append(matching, pr)
		}
		return nil
	})
	return matching, err
}
