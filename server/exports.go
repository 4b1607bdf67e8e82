package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"bbimport/model"
)

// exporter is the backend's export side; a backend without one answers
// every export call 501.
func (s *Server) exporter(w http.ResponseWriter) (model.Exporter, bool) {
	e, ok := s.imp.(model.Exporter)
	if !ok {
		writeError(w, http.StatusNotImplemented, "", "Export is not supported by this backend; run the export on the source Bitbucket.")
	}
	return e, ok
}

// exportRequest reads Bitbucket's export request body.
func exportRequest(w http.ResponseWriter, r *http.Request) (model.ExportRequest, bool) {
	var req model.ExportRequest
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "",
			fmt.Sprintf("Content type %q is not supported; send the body as application/json.", r.Header.Get("Content-Type")))
		return req, false
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("The request body is larger than %d bytes.", tooBig.Limit))
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "repositoriesRequest", `The request body is empty; send {"repositoriesRequest":{"includes":[{"projectKey":"PRJ","slug":"repo"}]}}.`)
		default:
			writeError(w, http.StatusBadRequest, "", fmt.Sprintf("The request body is not valid JSON: %v.", err))
		}
		return req, false
	}
	return req, true
}

// exportJob is an export job as Bitbucket answers it: the job fields only.
func exportJob(j model.Job) model.Job {
	j.Counts, j.Archive = nil, ""
	return j
}

func (s *Server) startExport(w http.ResponseWriter, r *http.Request) {
	e, ok := s.exporter(w)
	if !ok {
		return
	}
	req, ok := exportRequest(w, r)
	if !ok {
		return
	}
	if s.draining.Load() {
		writeError(w, http.StatusServiceUnavailable, "", "The server is shutting down and takes no new exports.")
		return
	}
	admin := s.initiator()
	job, err := e.StartExport(model.WithInitiator(r.Context(), admin), req)
	if err != nil {
		s.writeBackendError(w, r, err)
		return
	}
	if job.Initiator == nil {
		job.Initiator = &admin
	}
	s.log.Info("export started", slog.Int64("job", job.ID), slog.String("archive", job.Archive),
		slog.String("user", admin.Name), slog.String("remote", r.RemoteAddr))
	writeJSON(w, http.StatusOK, exportJob(job))
}

// scope is one item of Bitbucket's preview: a repository the export
// would write, named as its selectors name one.
type scope = model.RepositorySelector

// previewExport answers Bitbucket's preview, {"scopes":[…]}: every
// repository the request selects, forks of its hierarchies included.
func (s *Server) previewExport(w http.ResponseWriter, r *http.Request) {
	p, ok := s.preview(w, r)
	if !ok {
		return
	}
	scopes := []scope{}
	for _, pr := range p.Projects {
		for _, slug := range pr.Repositories {
			scopes = append(scopes, scope{ProjectKey: pr.Key, Slug: slug})
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Scopes []scope `json:"scopes"`
	}{scopes})
}

// previewCounts answers bbimport's own preview: counts, the estimated
// size and the free disk (model.ExportPreview).
func (s *Server) previewCounts(w http.ResponseWriter, r *http.Request) {
	if p, ok := s.preview(w, r); ok {
		p.Directory = ""
		writeJSON(w, http.StatusOK, p)
	}
}

func (s *Server) preview(w http.ResponseWriter, r *http.Request) (model.ExportPreview, bool) {
	e, ok := s.exporter(w)
	if !ok {
		return model.ExportPreview{}, false
	}
	req, ok := exportRequest(w, r)
	if !ok {
		return model.ExportPreview{}, false
	}
	p, err := e.PreviewExport(r.Context(), req)
	if err != nil {
		s.writeBackendError(w, r, err)
		return p, false
	}
	return p, true
}

// exportJobOf reads the path's job and answers 404 unless it is an export.
func (s *Server) exportJobOf(w http.ResponseWriter, r *http.Request) (model.Job, bool) {
	if _, ok := s.exporter(w); !ok {
		return model.Job{}, false
	}
	id, ok := jobID(w, r)
	if !ok {
		return model.Job{}, false
	}
	job, err := s.imp.Job(r.Context(), id)
	if err == nil && job.Type != model.JobTypeExport {
		err = fmt.Errorf("job %d is an import: %w", id, model.ErrJobNotFound)
	}
	if err != nil {
		s.writeBackendError(w, r, err)
		return job, false
	}
	return job, true
}

func (s *Server) exportStatus(w http.ResponseWriter, r *http.Request) {
	if job, ok := s.exportJobOf(w, r); ok {
		writeJSON(w, http.StatusOK, exportJob(job))
	}
}

func (s *Server) exportMessages(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.exportJobOf(w, r); ok {
		s.messages(w, r)
	}
}

// exportCancel stops an export at once; 409 once it has finished.
func (s *Server) exportCancel(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.exportJobOf(w, r); ok {
		s.cancel(w, r)
	}
}
