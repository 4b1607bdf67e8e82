package server

import (
	"errors"
	"net/http"

	"bbimport/model"
	"bbimport/wire"
)

// placements is bbimport's extension GET /rest/bbimport/1.0/imports/{jobId}/placements:
// where a job put the archive's repositories, paged as Bitbucket pages its
// lists. It is admin-only, as the migration API is.
func (s *Server) placements(w http.ResponseWriter, r *http.Request) {
	id, ok := jobID(w, r)
	if !ok {
		return
	}
	start, limit, ok := paging(w, r.URL.Query())
	if !ok {
		return
	}
	all, err := s.imp.Placements(r.Context(), id)
	switch {
	case errors.Is(err, model.ErrNotSupported):
		// A job whose placements were never recorded: the client reads
		// 501 as model.ErrNotSupported, as it reads a server without
		// the route.
		writeError(w, http.StatusNotImplemented, "", sentence(err))
	case err != nil:
		s.writeBackendError(w, r, err)
	default:
		writePage(w, wire.PageOf(all, start, limit))
	}
}

// archives is bbimport's extension GET /rest/bbimport/1.0/imports/archives:
// what each job recorded of the archive it read (size, SHA-256), newest
// first, paged. verify checks an archive against it, and the pre-flight
// finds an earlier import of the same archive with it.
func (s *Server) archives(w http.ResponseWriter, r *http.Request) {
	start, limit, ok := paging(w, r.URL.Query())
	if !ok {
		return
	}
	all, err := s.imp.ImportedArchives(r.Context())
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writePage(w, wire.PageOf(all, start, limit))
}
