package server

import (
	"context"
	"net/http"

	"bbimport/model"
	"bbimport/wire"
)

// bbimport's own namespace: what Bitbucket's API has no place for. A
// script written against /rest/api works against Bitbucket unchanged;
// one that reads these calls knows it talks to bbimport.

// extJobs is GET /rest/bbimport/1.0/imports: every import job, newest
// first, paged as Bitbucket pages its lists, each with its counts and
// archive name. Bitbucket has no call that lists jobs.
func (s *Server) extJobs(w http.ResponseWriter, r *http.Request) {
	answerPage[model.Job](s, w, r, nil, func(ctx context.Context, start, limit int) (model.Page[model.Job], error) {
		jobs, err := s.imp.KnownJobs(ctx)
		if err != nil {
			return model.Page[model.Job]{}, err
		}
		return wire.PageOf(jobs, start, limit), nil
	})
}

// extJob is GET /rest/bbimport/1.0/imports/{jobId}: the job as
// /rest/api/1.0/migration/imports/{jobId} answers it, plus its counts and
// archive name.
func (s *Server) extJob(w http.ResponseWriter, r *http.Request) {
	id, ok := jobID(w, r)
	if !ok {
		return
	}
	job, err := s.imp.Job(r.Context(), id)
	answerOne[model.Job](s, w, r, nil, job, err)
}
