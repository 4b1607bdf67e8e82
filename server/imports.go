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
)

// Paging as Bitbucket does it.
const (
	defaultLimit = 25
	maxLimit     = 1000
)

type importRequest struct {
	ArchivePath *string `json:"archivePath"`
}

func (s *Server) startImport(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "",
			fmt.Sprintf("Content type %q is not supported; send the body as application/json.", r.Header.Get("Content-Type")))
		return
	}
	var req importRequest
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
	writeJSON(w, http.StatusOK, job)
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
	writeJSON(w, http.StatusOK, job)
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
	q := r.URL.Query()
	start, limit, ok := paging(w, q)
	if !ok {
		return
	}
	mq := model.MessageQuery{Start: start, Limit: limit, Subject: q.Get("subject")}
	for _, raw := range q["severity"] {
		sev := model.Severity(strings.ToUpper(raw))
		switch sev {
		case model.SeverityInfo, model.SeverityWarn, model.SeverityError:
			mq.Severities = append(mq.Severities, sev)
		default:
			writeError(w, http.StatusBadRequest, "severity", fmt.Sprintf("Severity %q is not one of INFO, WARN, ERROR.", raw))
			return
		}
	}
	page, err := s.imp.Messages(r.Context(), id, mq)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	writePage(w, page)
}

// paging reads start and limit: limit defaults to 25 and is capped at 1000,
// as Bitbucket does; the page's own limit field tells the client which
// limit was used.
func paging(w http.ResponseWriter, q url.Values) (start, limit int, ok bool) {
	start, limit = 0, defaultLimit
	for _, p := range []struct {
		name string
		to   *int
	}{{"start", &start}, {"limit", &limit}} {
		raw := q.Get(p.name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			writeError(w, http.StatusBadRequest, p.name, fmt.Sprintf("%s must be a whole number, not %q.", p.name, raw))
			return 0, 0, false
		}
		*p.to = n
	}
	start = max(start, 0)
	if limit <= 0 {
		limit = defaultLimit
	}
	return start, min(limit, maxLimit), true
}

// writePage sends a page with its paging fields consistent whatever the
// backend filled in: nextPageStart present exactly when isLastPage is false.
func writePage[T any](w http.ResponseWriter, p model.Page[T]) {
	if p.Values == nil {
		p.Values = []T{}
	}
	p.Size = len(p.Values)
	if p.IsLastPage {
		p.NextPageStart = nil
	} else if p.NextPageStart == nil {
		next := p.Start + p.Size
		p.NextPageStart = &next
	}
	writeJSON(w, http.StatusOK, p)
}
