package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"bbimport/model"
	"bbimport/wire"
)

func (s *Server) startImport(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "",
			fmt.Sprintf("Content type %q is not supported; send the body as application/json.", r.Header.Get("Content-Type")))
		return
	}
	var req wire.ImportRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("The request body is larger than %d bytes.", tooBig.Limit))
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "archivePath", `The request body is empty; send {"archivePath":"<archive>.tar"}.`)
		default:
			writeError(w, http.StatusBadRequest, "", fmt.Sprintf("The request body is not valid JSON: %v.", err))
		}
		return
	}
	if req.ArchivePath == nil || strings.TrimSpace(*req.ArchivePath) == "" {
		writeError(w, http.StatusBadRequest, "archivePath", "archivePath is required: the archive's path relative to the import directory.")
		return
	}
	if s.draining.Load() {
		writeError(w, http.StatusServiceUnavailable, "", "The server is shutting down and takes no new imports.")
		return
	}
	admin := s.initiator()
	job, err := s.imp.Start(model.WithInitiator(r.Context(), admin), *req.ArchivePath)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	if job.Initiator == nil {
		job.Initiator = &admin
	}
	s.log.Info("import started", slog.Int64("job", job.ID), slog.String("archive", *req.ArchivePath),
		slog.String("user", admin.Name), slog.String("remote", r.RemoteAddr))
	writeJSON(w, http.StatusOK, wire.BitbucketJob(job))
}

// jobID reads the path's job id; a malformed one is a job that does not exist.
func jobID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	raw := r.PathValue("jobId")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("No import job with id %q.", raw))
		return 0, false
	}
	return id, true
}

func (s *Server) job(w http.ResponseWriter, r *http.Request) {
	id, ok := jobID(w, r)
	if !ok {
		return
	}
	job, err := s.imp.Job(r.Context(), id)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.BitbucketJob(job))
}

// cancel takes any body and content type: the import guide's curl sends a
// JSON content type with no body at all.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	id, ok := jobID(w, r)
	if !ok {
		return
	}
	if err := s.imp.Cancel(r.Context(), id); err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	s.log.Info("import cancel requested", slog.Int64("job", id), slog.String("remote", r.RemoteAddr))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	id, ok := jobID(w, r)
	if !ok {
		return
	}
	mq, err := wire.ParseMessageQuery(r.URL.Query())
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	page, err := s.imp.Messages(r.Context(), id, mq)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writePage(w, page)
}

// paging reads start and limit as wire.ParsePaging does, answering a bad
// one with a 400 itself.
func paging(w http.ResponseWriter, q url.Values) (start, limit int, ok bool) {
	start, limit, err := wire.ParsePaging(q)
	if err != nil {
		writeBadRequest(w, err)
		return 0, 0, false
	}
	return start, limit, true
}

// writePage sends a page with its paging fields consistent whatever the
// backend filled in.
func writePage[T any](w http.ResponseWriter, p model.Page[T]) {
	writeJSON(w, http.StatusOK, wire.Complete(p))
}
