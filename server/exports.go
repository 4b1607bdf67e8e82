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
	"bbimport/wire"
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
	if job, ok := s.start(w, r, false); ok {
		writeJSON(w, http.StatusOK, exportJob(job))
	}
}

// extStartExport is bbimport's own start of an export,
// POST /rest/bbimport/1.0/migration/exports[?force=true]: Bitbucket's
// request body, answered with bbimport's job (its archive named). force
// starts it even when the estimate exceeds the free disk, which
// Bitbucket's request has no field for.
func (s *Server) extStartExport(w http.ResponseWriter, r *http.Request) {
	force, err := wire.ParseForce(r.URL.Query())
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	if job, ok := s.start(w, r, force); ok {
		writeJSON(w, http.StatusOK, job)
	}
}

// start starts the export a request asks for and logs it; on a refusal it
// has answered.
func (s *Server) start(w http.ResponseWriter, r *http.Request, force bool) (model.Job, bool) {
	e, ok := s.exporter(w)
	if !ok {
		return model.Job{}, false
	}
	req, ok := exportRequest(w, r)
	if !ok {
		return model.Job{}, false
	}
	if s.draining.Load() {
		writeError(w, http.StatusServiceUnavailable, "", "The server is shutting down and takes no new exports.")
		return model.Job{}, false
	}
	req.Force = force
	admin := s.initiator()
	job, err := e.StartExport(model.WithInitiator(r.Context(), admin), req)
	var disk *model.NotEnoughDiskError
	switch {
	case errors.As(err, &disk):
		writeRuleError(w, err, notEnoughDisk(*disk))
		return model.Job{}, false
	case err != nil:
		s.writeBackendError(w, r, err)
		return model.Job{}, false
	}
	if job.Initiator == nil {
		job.Initiator = &admin
	}
	s.log.Info("export started", slog.Int64("job", job.ID), slog.String("archive", job.Archive), slog.Bool("force", force),
		slog.String("user", admin.Name), slog.String("remote", r.RemoteAddr))
	return job, true
}

// notEnoughDisk words the refusal of an export beyond the free disk for a
// REST caller: Bitbucket's request cannot force it, bbimport's own start
// can. The server's paths are its own business, as in the preview.
func notEnoughDisk(d model.NotEnoughDiskError) string {
	d.Directory = ""
	return sentence(errors.New(d.Shortfall() + "; free some space on the server, export less, or start it with POST " +
		wire.ExtensionPrefix + wire.PathExports + "?" + wire.ForceValues().Encode() + " and the same body"))
}

// previewExport answers Bitbucket's preview, {"scopes":[…]}: every
// repository the request selects, forks of its hierarchies included.
func (s *Server) previewExport(w http.ResponseWriter, r *http.Request) {
	if p, ok := s.preview(w, r); ok {
		writeJSON(w, http.StatusOK, wire.PreviewScopes(p))
	}
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
